//! A read-only dashboard for the demo and drills on a loopback port: the
//! incident list and, per incident, its live record (steps, actions,
//! timeline with the SVG chart), refreshed every two seconds. The war room's
//! authenticated dashboard replaces it for production use.

use std::{fmt::Write as _, sync::Arc};

use axum::{
    Router,
    extract::{Path, State},
    http::StatusCode,
    response::{Html, IntoResponse, Response},
    routing::get,
};
use firebreak_primitives::IncidentId;
use firebreak_store::{IncidentFilter, IncidentStore};

use crate::postmortem::{PostMortem, escape};

/// Serves the dashboard on `listener` until `shutdown` completes.
pub async fn serve(
    listener: tokio::net::TcpListener,
    store: Arc<dyn IncidentStore>,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let app = Router::new()
        .route("/", get(list))
        .route("/incidents/{id}", get(incident))
        .route("/healthz", get(|| async { "ok" }))
        .with_state(store);
    axum::serve(listener, app).with_graceful_shutdown(shutdown).await
}

const REFRESH: &str = "<meta http-equiv=\"refresh\" content=\"2\">";

async fn list(State(store): State<Arc<dyn IncidentStore>>) -> Response {
    let Ok(incidents) = store.incidents(&IncidentFilter::default()).await else {
        return (StatusCode::SERVICE_UNAVAILABLE, "the store is unavailable").into_response();
    };
    let mut rows = String::new();
    for i in &incidents {
        let _ = write!(
            rows,
            "<tr><td><a href=\"/incidents/{id}\">{id}</a></td><td>{}</td><td>{}</td><td>{}</td><td>{}{}</td></tr>",
            i.severity,
            i.status,
            i.alert_count,
            escape(&i.title),
            if i.drill { " <b>[DRILL]</b>" } else { "" },
            id = i.id
        );
    }
    if incidents.is_empty() {
        rows.push_str("<tr><td colspan=\"5\">no incident yet</td></tr>");
    }
    Html(format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">{REFRESH}<title>firebreak</title><style>body{{font-family:system-ui,sans-serif;max-width:960px;margin:2em auto}}td,th{{border-bottom:1px solid #dee2e6;padding:4px 10px;text-align:left}}</style></head><body><h1>firebreak — incidents</h1><table><tr><th>id</th><th>severity</th><th>status</th><th>alerts</th><th>title</th></tr>{rows}</table></body></html>"
    ))
    .into_response()
}

async fn incident(State(store): State<Arc<dyn IncidentStore>>, Path(id): Path<u64>) -> Response {
    match PostMortem::load(&*store, IncidentId(id), None).await {
        Ok(pm) => {
            let page = pm.html().replacen("<head>", &format!("<head>{REFRESH}"), 1).replacen(
                "<body>\n",
                "<body>\n<p><a href=\"/\">← incidents</a></p>\n",
                1,
            );
            Html(page).into_response()
        }
        Err(e) => (StatusCode::NOT_FOUND, e.to_string()).into_response(),
    }
}
