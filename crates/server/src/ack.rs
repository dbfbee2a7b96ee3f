//! The daemon's acknowledgement endpoints: `/ack/{token}` (a signed,
//! expiring link sent with every page: `GET` and `HEAD` show a confirmation
//! page and change nothing, since mail scanners and chat link previews fetch
//! links on their own; the page's button `POST`s and acknowledges),
//! `POST /hooks/pagerduty` (PagerDuty V3
//! webhooks: an `incident.acknowledged` of a firebreak incident acknowledges
//! it here too). Served beside the war room's routes. Loopback by default;
//! put it behind the team's reverse proxy to reach phones and PagerDuty.

use std::sync::Arc;

use axum::{
    Router,
    extract::{Path, State},
    http::StatusCode,
    response::{Html, IntoResponse},
    routing::get,
};
use firebreak_plan::Plan;
use firebreak_primitives::{Actor, IncidentId};
use firebreak_store::IncidentStore;
use maud::{DOCTYPE, Markup, html};
use secrecy::SecretString;

#[derive(Clone)]
struct Ack {
    plan: Arc<Plan>,
    store: Arc<dyn IncidentStore>,
    key: Arc<SecretString>,
    pagerduty: Option<Arc<SecretString>>,
}

/// The router; `pagerduty` is the V3 webhook subscription's signing secret.
pub fn ack_router(
    plan: Arc<Plan>,
    store: Arc<dyn IncidentStore>,
    key: SecretString,
    pagerduty: Option<SecretString>,
) -> Router {
    Router::new()
        .route("/ack/{token}", get(confirm).post(ack))
        .route("/hooks/pagerduty", axum::routing::post(pagerduty_hook))
        .with_state(Ack { plan, store, key: Arc::new(key), pagerduty: pagerduty.map(Arc::new) })
}

/// Records an acknowledgement unless there is one; the text to show.
async fn record_ack(
    store: &dyn IncidentStore,
    id: IncidentId,
    actor: Actor,
    member: &str,
    how: &str,
) -> Result<String, firebreak_store::Error> {
    crate::api::acknowledge_incident(store, id, actor, member, how).await.map(|(_, text)| text)
}

/// PagerDuty V3: `X-PagerDuty-Signature: v1=HEX[,v1=HEX…]`, HMAC-SHA256 of the
/// raw body with the subscription's secret.
async fn pagerduty_hook(
    State(s): State<Ack>,
    headers: axum::http::HeaderMap,
    body: axum::body::Bytes,
) -> axum::response::Response {
    use hmac::Mac as _;
    let Some(secret) = &s.pagerduty else {
        return (StatusCode::NOT_FOUND, "PagerDuty webhooks are not configured").into_response();
    };
    let header = headers.get("x-pagerduty-signature").and_then(|v| v.to_str().ok()).unwrap_or("");
    let signed = header.split(',').filter_map(|p| p.trim().strip_prefix("v1=")).any(|hex| {
        let Ok(tag) = alloy_primitives::hex::decode(hex) else { return false };
        let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(
            secrecy::ExposeSecret::expose_secret(&**secret).as_bytes(),
        )
        .expect("HMAC takes keys of any length");
        mac.update(&body);
        mac.verify_slice(&tag).is_ok()
    });
    if !signed {
        return (StatusCode::UNAUTHORIZED, "bad or missing X-PagerDuty-Signature").into_response();
    }
    let Ok(doc) = serde_json::from_slice::<serde_json::Value>(&body) else {
        return (StatusCode::BAD_REQUEST, "the body is not JSON").into_response();
    };
    let event = &doc["event"];
    if event["event_type"] != "incident.acknowledged" {
        return (StatusCode::OK, "ignored").into_response();
    }
    let key = event["data"]["incident_key"].as_str().unwrap_or_default();
    let Some(incident) =
        key.strip_prefix("firebreak-incident-").and_then(|n| n.parse::<u64>().ok())
    else {
        return (StatusCode::OK, "not a firebreak incident").into_response();
    };
    let who = event["agent"]["summary"].as_str().unwrap_or("PagerDuty user").to_owned();
    let actor = Actor::External(format!("pagerduty:{who}"));
    match record_ack(&*s.store, IncidentId(incident), actor, &who, "PagerDuty acknowledge").await {
        Ok(text) => (StatusCode::OK, text).into_response(),
        Err(e) => {
            tracing::error!(error = %e, "acknowledgement not recorded");
            (StatusCode::SERVICE_UNAVAILABLE, "store unavailable; PagerDuty will retry")
                .into_response()
        }
    }
}

/// A small page; the template escapes the text, which can carry names from
/// outside (a PagerDuty user's name).
fn small_page(title: &str, robots: bool, content: &Markup) -> String {
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                (crate::html::head_start(title))
                @if robots { meta name="robots" content="noindex"; }
            }
            body style="font-family:system-ui,sans-serif;max-width:32em;margin:3em auto" {
                h1 { (title) }
                (content)
            }
        }
    }
    .into_string()
}

fn page(status: StatusCode, title: &str, text: &str) -> axum::response::Response {
    (status, Html(small_page(title, false, &html! { p { (text) } }))).into_response()
}

/// The link's incident and member, or the page that says why not.
fn verified(s: &Ack, token: &str) -> Result<(u64, String), axum::response::Response> {
    let now = firebreak_primitives::now_ms() / 1000;
    let (incident, member) = firebreak_notify::verify_ack_token(&s.key, token, now)
        .map_err(|e| page(StatusCode::FORBIDDEN, "Not acknowledged", &e.to_string()))?;
    if !s.plan.team.contains_key(&member) {
        return Err(page(
            StatusCode::FORBIDDEN,
            "Not acknowledged",
            "this member is no longer in the plan",
        ));
    }
    Ok((incident, member))
}

/// `GET` (and `HEAD`): a page with one button; nothing is recorded.
async fn confirm(State(s): State<Ack>, Path(token): Path<String>) -> axum::response::Response {
    let (incident, member) = match verified(&s, &token) {
        Ok(v) => v,
        Err(page) => return page,
    };
    let title = format!("Acknowledge incident {incident}?");
    let content = html! {
        p {
            (s.plan.protocol.name) ": incident " (incident) ", paged to " b { (member) }
            ". Acknowledging stops the escalation to the next level."
        }
        form method="post" action={ "/ack/" (token) } {
            button type="submit" style="font-size:1.2em;padding:.5em 1.5em" { "Acknowledge as " (member) }
        }
    };
    let body = small_page(&title, true, &content);
    (StatusCode::OK, [(axum::http::header::CACHE_CONTROL, "no-store")], Html(body)).into_response()
}

/// `POST`: the person pressed the button.
async fn ack(State(s): State<Ack>, Path(token): Path<String>) -> axum::response::Response {
    let (incident, member) = match verified(&s, &token) {
        Ok(v) => v,
        Err(page) => return page,
    };
    let id = IncidentId(incident);
    let actor = Actor::Member(member.clone());
    let result = record_ack(&*s.store, id, actor, &member, "acknowledgement link").await;
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

#[cfg(test)]
mod tests {
    #[tokio::test]
    async fn the_page_escapes_names_from_outside() {
        let r = super::page(
            axum::http::StatusCode::OK,
            "Acknowledged",
            "Incident 1 is acknowledged by <script>alert(1)</script>.",
        );
        let body = axum::body::to_bytes(r.into_body(), 1 << 16).await.unwrap();
        let text = String::from_utf8(body.to_vec()).unwrap();
        assert!(text.contains("&lt;script&gt;alert(1)&lt;/script&gt;"), "{text}");
        assert!(!text.contains("<script>"), "{text}");
    }
}
