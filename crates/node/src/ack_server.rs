//! The daemon's acknowledgement endpoint: `GET /ack/{token}` (a signed,
//! expiring link sent with every page) and `GET /healthz`. Loopback by
//! default; put it behind the team's reverse proxy to reach phones.

use std::sync::Arc;

use axum::{
    Router,
    extract::{Path, State},
    http::StatusCode,
    response::{Html, IntoResponse},
    routing::get,
};
use firebreak_plan::Plan;
use firebreak_primitives::{Actor, IncidentId, IncidentStatus};
use firebreak_store::IncidentStore;
use secrecy::SecretString;

#[derive(Clone)]
struct Ack {
    plan: Arc<Plan>,
    store: Arc<dyn IncidentStore>,
    key: Arc<SecretString>,
}

/// The router.
pub(crate) fn router(plan: Arc<Plan>, store: Arc<dyn IncidentStore>, key: SecretString) -> Router {
    Router::new()
        .route("/ack/{token}", get(ack))
        .route("/healthz", get(|| async { "ok" }))
        .with_state(Ack { plan, store, key: Arc::new(key) })
}

fn page(status: StatusCode, title: &str, text: &str) -> axum::response::Response {
    let body = format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width\"><title>{title}</title></head><body style=\"font-family:system-ui,sans-serif;max-width:32em;margin:3em auto\"><h1>{title}</h1><p>{text}</p></body></html>"
    );
    (status, Html(body)).into_response()
}

async fn ack(State(s): State<Ack>, Path(token): Path<String>) -> axum::response::Response {
    let now = firebreak_store::now_ms() / 1000;
    let (incident, member) = match firebreak_notify::verify_ack_token(&s.key, &token, now) {
        Ok(v) => v,
        Err(e) => return page(StatusCode::FORBIDDEN, "Not acknowledged", &e.to_string()),
    };
    if !s.plan.team.contains_key(&member) {
        return page(
            StatusCode::FORBIDDEN,
            "Not acknowledged",
            "this member is no longer in the plan",
        );
    }
    let id = IncidentId(incident);
    let result = async {
        let timeline = s.store.timeline(id).await?;
        if let Some(first) = timeline.iter().find(|e| e.kind == "acknowledged") {
            let who = first.body["member"].as_str().unwrap_or("someone").to_owned();
            return Ok::<_, firebreak_store::Error>(format!(
                "Incident {incident} was already acknowledged by {who}."
            ));
        }
        if timeline.is_empty() {
            return Ok(format!("There is no incident {incident}."));
        }
        let actor = Actor::Member(member.clone());
        let body = serde_json::json!({"member": member, "how": "acknowledgement link"});
        s.store.append(id, actor.clone(), "acknowledged", body).await?;
        s.store.transition(id, IncidentStatus::Acknowledged, actor, None).await?;
        Ok(format!("Incident {incident} is acknowledged by {member}. Paging stops."))
    }
    .await;
    match result {
        Ok(text) => page(StatusCode::OK, "Acknowledged", &text),
        Err(e) => {
            tracing::error!(error = %e, "acknowledgement not recorded");
            page(
                StatusCode::SERVICE_UNAVAILABLE,
                "Not acknowledged",
                "the store is unavailable; try again or use `firebreak incident ack`",
            )
        }
    }
}
