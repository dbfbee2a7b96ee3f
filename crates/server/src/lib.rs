//! firebreak's war room: the REST API under `/api/v1` (with its OpenAPI
//! document), the team's dashboard, and the public status page.
//!
//! It owns authentication (per-member API tokens, dashboard sessions with
//! CSRF protection, rate-limited login) and authority: every action is gated
//! by the roles and quorums of the plan, and lands on the incident's timeline
//! with the member's name. It never touches the chain: decisions go to the
//! store and a [`ControlMsg`] wakes the daemon, which acts on them.
//!
//! # Feature flags
//! None.
//!
//! # Example
//! ```no_run
//! # async fn demo(plan: std::sync::Arc<firebreak_plan::Plan>) -> Result<(), Box<dyn std::error::Error>> {
//! use std::sync::Arc;
//! let store = Arc::new(firebreak_store::SqliteStore::open("firebreak.db".as_ref()).await?);
//! let (tx, _rx) = tokio::sync::mpsc::channel(64);
//! let app = firebreak_server::router(firebreak_server::WarRoom::new(plan, store, tx));
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:8787").await?;
//! axum::serve(listener, app).await?;
//! # Ok(()) }
//! ```
#![cfg_attr(not(test), warn(unused_crate_dependencies))]

mod ack;
mod api;
mod auth;
mod error;
mod html;
mod listen;
mod openapi;
mod pages;
mod recovery;
mod safes;
mod state;
mod status;

pub use ack::ack_router;
pub use api::{acknowledge_incident, gate_of, is_manual};
pub use auth::{hash_token, new_token};
pub use error::{ApiError, ApiResult};
pub use firebreak_primitives::ControlMsg;
pub use listen::{ServeLimits, ServeStats, serve};
pub use openapi::{document as openapi_document, operations as openapi_operations};
pub use state::{Backend, MetricsRender, Readiness, WarRoom};
pub use status::metrics_router;

/// Every route of the war room: API, dashboard, status page, probes. Every
/// response carries headers that keep the pages out of frames (approve
/// buttons must not be clickjacked), allow only the war room's own script,
/// and send no referrer.
pub fn router(state: WarRoom) -> axum::Router {
    axum::Router::new()
        .nest("/api/v1", api::routes().merge(recovery::api_routes()).merge(safes::api_routes()))
        .merge(pages::routes())
        .merge(recovery::page_routes())
        .merge(status::routes())
        .with_state(state)
        .layer(axum::middleware::map_response(security_headers))
}

/// Adds the war room's security headers to every response of `router`
/// (for routes composed next to the war room, such as acknowledgement links).
pub fn with_security_headers(router: axum::Router) -> axum::Router {
    router.layer(axum::middleware::map_response(security_headers))
}

/// The Content-Security-Policy of every response.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

async fn security_headers(mut response: axum::response::Response) -> axum::response::Response {
    use axum::http::{HeaderValue, header};
    let h = response.headers_mut();
    h.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(CONTENT_SECURITY_POLICY));
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    h.insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    h.entry(header::CACHE_CONTROL).or_insert(HeaderValue::from_static("no-store"));
    response
}
