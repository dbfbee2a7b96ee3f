//! The public status page and the probes.

use std::sync::{Arc, atomic::AtomicBool};

use axum::http::StatusCode;
use firebreak_store::WarRoomStore as _;
use serde_json::json;

use crate::harness::{room, room_with};

#[tokio::test]
async fn the_status_page_shows_only_published_announcements() {
    let r = room().await;
    let before = r.call("GET", "/status.json", None, None).await.json();
    assert_eq!(before["title"], "Fixture status");
    assert_eq!(before["status"], "operational");
    assert_eq!(
        before["components"][0],
        json!({"id": "vault", "name": "Lending vault", "status": "operational"})
    );

    let draft =
        |msg: &str| json!({"status": "identified", "message": msg, "components": ["vault"]});
    let hidden = r
        .call("POST", "/api/v1/incidents/1/announcements", Some("dan"), Some(draft("DRAFT ONLY")))
        .await
        .json();
    let shown = r
        .call(
            "POST",
            "/api/v1/incidents/1/announcements",
            Some("dan"),
            Some(draft("Vault paused; funds are safe.")),
        )
        .await
        .json();
    r.call("POST", &format!("/api/v1/announcements/{}/approve", hidden["id"]), Some("dan"), None)
        .await;
    r.call("POST", &format!("/api/v1/announcements/{}/approve", shown["id"]), Some("alice"), None)
        .await;
    let p = r
        .call("POST", &format!("/api/v1/announcements/{}/publish", shown["id"]), Some("dan"), None)
        .await;
    assert_eq!(p.status, StatusCode::OK);

    let doc = r.call("GET", "/status.json", None, None).await.json();
    assert_eq!(doc["status"], "incident");
    assert_eq!(doc["components"][0]["status"], "identified");
    assert_eq!(doc["components"][1]["status"], "operational");
    assert_eq!(doc["announcements"].as_array().unwrap().len(), 1);
    assert_eq!(doc["announcements"][0]["message"], "Vault paused; funds are safe.");

    let html = r.call("GET", "/status", None, None).await;
    assert_eq!(html.status, StatusCode::OK);
    assert!(html.text.contains("Vault paused; funds are safe."));
    assert!(html.text.contains("We are responding to an incident"));
    assert!(!html.text.contains("DRAFT ONLY"));

    // an update about something else saying `resolved` does not end this incident
    let other = r
        .store
        .draft_announcement(firebreak_store::NewAnnouncement {
            incident: None,
            status: "resolved".into(),
            message: "The web app's slowness is fixed.".into(),
            components: vec!["ui".into()],
            author: firebreak_primitives::Actor::Member("dan".into()),
        })
        .await
        .unwrap();
    r.call("POST", &format!("/api/v1/announcements/{}/approve", other.id), Some("alice"), None)
        .await;
    r.call("POST", &format!("/api/v1/announcements/{}/publish", other.id), Some("dan"), None).await;
    let doc = r.call("GET", "/status.json", None, None).await.json();
    assert_eq!(doc["status"], "incident", "{doc}");
    assert_eq!(doc["announcements"][0]["status"], "resolved");

    let atom = r.call("GET", "/status.atom", None, None).await;
    assert_eq!(atom.headers["content-type"], "application/atom+xml; charset=utf-8");
    assert!(atom.text.starts_with("<?xml"));
    assert!(
        atom.text.contains("<title>identified: Vault paused; funds are safe.</title>"),
        "{}",
        atom.text
    );
    assert!(!atom.text.contains("DRAFT ONLY"));
}

#[tokio::test]
async fn probes_and_metrics() {
    let r = room().await;
    assert_eq!(r.call("GET", "/healthz", None, None).await.text, "ok");
    assert_eq!(r.call("GET", "/readyz", None, None).await.status, StatusCode::OK);
    assert_eq!(r.call("GET", "/metrics", None, None).await.status, StatusCode::NOT_FOUND);

    let flag = Arc::new(AtomicBool::new(false));
    let r = room_with(|s| {
        s.with_ready_flag(flag.clone())
            .with_metrics(Arc::new(|| "firebreak_alerts_total 3\n".into()))
    })
    .await;
    let starting = r.call("GET", "/readyz", None, None).await;
    assert_eq!(starting.status, StatusCode::SERVICE_UNAVAILABLE);
    assert!(starting.text.contains("not watching yet"));
    flag.store(true, std::sync::atomic::Ordering::Relaxed);
    assert_eq!(r.call("GET", "/readyz", None, None).await.status, StatusCode::OK);
    // the war room's /metrics is not public: it tells that an incident
    // opened before anything is published
    let m = r.call("GET", "/metrics", None, None).await;
    assert_eq!(m.status, StatusCode::UNAUTHORIZED);
    assert!(m.text.contains("--metrics-listen"), "{}", m.text);
    assert!(!m.text.contains("firebreak_alerts_total"));
    let m = r.call("GET", "/metrics", Some("erin"), None).await;
    assert_eq!(m.status, StatusCode::OK);
    assert!(
        m.headers["content-type"]
            .to_str()
            .unwrap()
            .starts_with("application/openmetrics-text; version=1.0.0"),
        "{:?}",
        m.headers["content-type"]
    );
    assert_eq!(m.text, "firebreak_alerts_total 3\n");
}

#[tokio::test]
async fn metrics_take_their_own_token_or_a_listener_of_their_own() {
    let r = room_with(|s| {
        s.with_metrics(Arc::new(|| "firebreak_ready 1\n".into()))
            .with_metrics_token(Some("scrape-token-123".to_owned().into()))
    })
    .await;
    let get = |auth: &str| {
        axum::http::Request::get("/metrics")
            .header(axum::http::header::AUTHORIZATION, auth)
            .body(axum::body::Body::empty())
            .unwrap()
    };
    let ok = crate::harness::send(&r.app, get("Bearer scrape-token-123")).await;
    assert_eq!((ok.status, ok.text.as_str()), (StatusCode::OK, "firebreak_ready 1\n"));
    let wrong = crate::harness::send(&r.app, get("Bearer scrape-token-124")).await;
    assert_eq!(wrong.status, StatusCode::UNAUTHORIZED);
    // apart, on an address only the monitoring system reaches: no token
    let apart = firebreak_server::metrics_router(Arc::new(|| "firebreak_ready 1\n".into()));
    let req = axum::http::Request::get("/metrics").body(axum::body::Body::empty()).unwrap();
    let m = crate::harness::send(&apart, req).await;
    assert_eq!((m.status, m.text.as_str()), (StatusCode::OK, "firebreak_ready 1\n"));
}
