//! Public, unauthenticated: the status page (`/status`, `/status.json`,
//! `/status.atom`) with published announcements only, and the probes
//! `/healthz` and `/readyz`. `/metrics` needs a token (see [`metrics_router`]
//! for a listener of its own).

use axum::{
    Json, Router,
    extract::State,
    http::{StatusCode, header},
    response::{Html, IntoResponse, Response},
    routing::get,
};
use firebreak_store::{Announcement, IncidentFilter, IncidentStore, WarRoomStore};
use maud::{DOCTYPE, PreEscaped, html};
use serde_json::{Value, json};

use crate::{error::ApiResult, html::time, state::WarRoom};

pub(crate) fn routes() -> Router<WarRoom> {
    Router::new()
        .route("/status", get(status_html))
        .route("/status.json", get(status_json))
        .route("/status.atom", get(status_atom))
        .route("/healthz", get(|| async { "ok" }))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics))
}

struct Board {
    title: String,
    overall: &'static str,
    components: Vec<(String, String, String)>,
    published: Vec<Announcement>,
}

fn rfc3339(ms: u64) -> String {
    jiff::Timestamp::from_millisecond(i64::try_from(ms).unwrap_or(0))
        .map(|t| t.strftime("%Y-%m-%dT%H:%M:%SZ").to_string())
        .unwrap_or_default()
}

async fn board(s: &WarRoom) -> ApiResult<Board> {
    let store: &dyn WarRoomStore = &*s.store;
    let published = store.announcements(None, true).await?;
    let title = s
        .plan
        .status_page
        .as_ref()
        .map_or_else(|| format!("{} status", s.plan.protocol.name), |p| p.title.clone());
    // a component's state: the newest published announcement naming it
    let components = s
        .plan
        .status_page
        .iter()
        .flat_map(|p| p.components.iter())
        .map(|c| {
            let state = published.iter().find(|a| a.components.contains(&c.id)).map_or(
                "operational",
                |a| {
                    if a.status == "resolved" { "operational" } else { a.status.as_str() }
                },
            );
            (c.id.clone(), c.name.clone(), state.to_owned())
        })
        .collect::<Vec<_>>();
    // an incident is over when its newest published update says so; the
    // page is calm only when every incident is
    let mut newest: std::collections::BTreeMap<Option<u64>, &str> = Default::default();
    for a in &published {
        newest.entry(a.incident.map(|i| i.0)).or_insert(a.status.as_str());
    }
    let overall =
        if newest.values().any(|s| *s != "resolved") { "incident" } else { "operational" };
    Ok(Board { title, overall, components, published })
}

const STATUS_STYLE: &str = "body{font-family:system-ui,sans-serif;max-width:760px;margin:2em auto;padding:0 1em}td{padding:4px 10px;border-bottom:1px solid #dee2e6}.st-operational{color:#2b8a3e}.st-investigating,.st-identified{color:#c92a2a}.st-monitoring{color:#e67700}.st-resolved{color:#2b8a3e}.muted{color:#868e96}#overall{padding:12px;border-radius:6px;color:#fff}";

async fn status_html(State(s): State<WarRoom>) -> ApiResult<Html<String>> {
    let b = board(&s).await?;
    let calm = b.overall == "operational";
    let page = html! {
        (DOCTYPE)
        html lang="en" {
            head {
                (crate::html::head_start(&b.title))
                link rel="alternate" type="application/atom+xml" href="/status.atom";
                style { (PreEscaped(STATUS_STYLE)) }
            }
            body {
                h1 { (b.title) }
                p #overall style={ "background:" (if calm { "#2b8a3e" } else { "#c92a2a" }) } {
                    (if calm { "All systems operational" } else { "We are responding to an incident" })
                }
                table #components {
                    @for (id, name, state) in &b.components {
                        tr id={ "component-" (id) } { td { (name) } td class={ "st-" (state) } { (state) } }
                    }
                }
                h2 { "Updates" }
                div #updates {
                    @for a in &b.published {
                        article.announcement {
                            h3 { span class={ "st-" (a.status) } { (a.status) } " · " (time(a.published_ms.unwrap_or(a.created_ms))) }
                            p { (a.message) }
                            p.muted { @if !a.components.is_empty() { "affects: " (a.components.join(", ")) } }
                        }
                    }
                    @if b.published.is_empty() { p { "No incidents reported." } }
                }
                p.muted { a href="/status.json" { "JSON" } " · " a href="/status.atom" { "Atom feed" } }
            }
        }
    };
    Ok(Html(page.into_string()))
}

fn announcement_json(a: &Announcement) -> Value {
    json!({
        "id": a.id,
        "status": a.status,
        "message": a.message,
        "components": a.components,
        "published_at": rfc3339(a.published_ms.unwrap_or(a.created_ms)),
    })
}

async fn status_json(State(s): State<WarRoom>) -> ApiResult<Json<Value>> {
    let b = board(&s).await?;
    Ok(Json(json!({
        "title": b.title,
        "status": b.overall,
        "components": b.components.iter().map(|(id, name, state)| json!({"id": id, "name": name, "status": state})).collect::<Vec<_>>(),
        "announcements": b.published.iter().map(announcement_json).collect::<Vec<_>>(),
    })))
}

async fn status_atom(State(s): State<WarRoom>) -> ApiResult<Response> {
    let b = board(&s).await?;
    let updated = b
        .published
        .first()
        .map_or_else(|| rfc3339(0), |a| rfc3339(a.published_ms.unwrap_or(a.created_ms)));
    // Atom is XML: the same template escapes every value
    let feed = html! {
        (PreEscaped("<?xml version=\"1.0\" encoding=\"utf-8\"?>"))
        feed xmlns="http://www.w3.org/2005/Atom" {
            id { "urn:firebreak:status:" (s.plan.protocol.name.replace(' ', "-").to_lowercase()) }
            title { (b.title) }
            updated { (updated) }
            link rel="alternate" href="/status" {}
            author { name { (s.plan.protocol.name) } }
            @for a in &b.published {
                entry {
                    id { "urn:firebreak:announcement:" (a.id) }
                    title { (a.status) ": " (a.message.lines().next().unwrap_or("")) }
                    updated { (rfc3339(a.published_ms.unwrap_or(a.created_ms))) }
                    content type="text" { (a.message) }
                }
            }
        }
    };
    let xml = feed.into_string();
    Ok(([(header::CONTENT_TYPE, "application/atom+xml; charset=utf-8")], xml).into_response())
}

async fn readyz(State(s): State<WarRoom>) -> Response {
    let store: &dyn IncidentStore = &*s.store;
    let filter = IncidentFilter { statuses: Vec::new(), limit: 1 };
    match store.incidents(&filter).await {
        Ok(_) if s.is_ready() && s.readiness.is_clear() => {
            (StatusCode::OK, "ready").into_response()
        }
        Ok(_) if s.is_ready() => (
            StatusCode::SERVICE_UNAVAILABLE,
            format!("not ready:\n{}\n", s.readiness.blocking().join("\n")),
        )
            .into_response(),
        Ok(_) => (StatusCode::SERVICE_UNAVAILABLE, "starting: the daemon is not watching yet")
            .into_response(),
        Err(e) => {
            tracing::error!(error = %e, "readiness probe: store unavailable");
            (StatusCode::SERVICE_UNAVAILABLE, "the store is unavailable").into_response()
        }
    }
}

/// `/metrics` on the war room's listener tells whether an incident opened
/// and a step failed before anything is published: it needs
/// `Authorization: Bearer` with the metrics token or a member's API token.
/// A separate listener (`--metrics-listen`) serves it without one.
async fn metrics(State(s): State<WarRoom>, req: axum::extract::Request) -> Response {
    let Some(render) = &s.metrics else {
        return (StatusCode::NOT_FOUND, "metrics are not enabled in this process").into_response();
    };
    let (parts, _) = req.into_parts();
    let bearer = parts
        .headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim);
    let by_metrics_token = match (&s.metrics_token, bearer) {
        (Some(token), Some(sent)) => {
            crate::auth::constant_eq(sent, secrecy::ExposeSecret::expose_secret(token))
        }
        _ => false,
    };
    let allowed = by_metrics_token
        || matches!(crate::auth::identify(&s, &parts).await, Ok(Some(c)) if s.plan.team.contains_key(&c.member));
    if !allowed {
        return (
            StatusCode::UNAUTHORIZED,
            [(header::WWW_AUTHENTICATE, "Bearer")],
            "/metrics needs `Authorization: Bearer <token>`: the metrics token (FIREBREAK_METRICS_TOKEN) or a member's API token; or serve it on a listener of its own with --metrics-listen\n",
        )
            .into_response();
    }
    render_metrics(render)
}

/// `/metrics` speaks OpenMetrics 1.0 (the daemon's registry is
/// `prometheus-client`'s).
const METRICS_CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

fn render_metrics(render: &crate::MetricsRender) -> Response {
    ([(header::CONTENT_TYPE, METRICS_CONTENT_TYPE)], render()).into_response()
}

/// `/metrics` alone, without authentication: for a listener of its own on an
/// address only the monitoring system reaches (`--metrics-listen`).
pub fn metrics_router(render: crate::MetricsRender) -> Router {
    Router::new().route("/metrics", get(move || async move { render_metrics(&render) }))
}
