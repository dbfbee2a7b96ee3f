//! Delivery guarantees: retries that honour 429 + Retry-After, a sink that is
//! down for a while then back, a restart in the middle: every message arrives
//! once per idempotency key, in order per incident.

use std::{collections::BTreeMap, sync::Arc, time::Duration};

use firebreak_notify::{Channel, Courier, CourierOptions, EventKind, Message};
use firebreak_primitives::Alert;
use firebreak_primitives::now_ms;
use firebreak_store::{Grouping, OutboxMessage, SqliteStore};

use crate::sink::{self, Answer};
use firebreak_store::prelude::*;

async fn incident(store: &SqliteStore, n: u64) -> firebreak_primitives::IncidentId {
    let alert = Alert {
        monitor: format!("m{n}"),
        severity: firebreak_primitives::Severity::P1,
        playbook: Some(format!("p{n}")),
        chain_id: 1,
        block_number: n,
        block_hash: Default::default(),
        tx_hash: None,
        log_index: None,
        evidence: Default::default(),
        probes: Default::default(),
        dedup_key: format!("alert-{n}"),
        confirmations: 0,
    };
    let g = Grouping {
        protocol: "Acme".into(),
        plan_hash: Default::default(),
        window_ms: 1,
        title: "t".into(),
        drill: false,
        now_ms: now_ms(),
        on_open: Vec::new(),
    };
    store.record_alert(&alert, &g).await.unwrap().incident
}

fn queued(incident: firebreak_primitives::IncidentId, n: u32) -> OutboxMessage {
    let key = format!("{incident}/msg/{n}");
    let m = Message {
        event: EventKind::StepResult,
        incident: Some(incident.0),
        severity: "P1".into(),
        chain_id: Some(1),
        protocol: "Acme".into(),
        title: format!("message {n}"),
        text: String::new(),
        links: vec![],
        drill: false,
        key: key.clone(),
        at: String::new(),
        recipient: None,
    };
    OutboxMessage {
        id: 0,
        key,
        incident: Some(incident),
        channel: "siem".into(),
        body: serde_json::to_value(m).unwrap(),
        status: "pending".into(),
        attempts: 0,
        next_at_ms: 0,
        last_error: None,
        created_ms: now_ms(),
    }
}

fn courier(store: Arc<SqliteStore>, url: &str) -> Courier {
    let secrets = tempfile::tempdir().unwrap();
    std::fs::write(secrets.path().join("hmac"), "s3cret").unwrap();
    let raw: firebreak_plan::RawChannel = toml::from_str(&format!(
        "kind = \"webhook\"\nurl = \"{url}/in\"\ntimeout = \"2s\"\nsigning_secret = {{ file = \"hmac\" }}"
    ))
    .unwrap();
    let raw = firebreak_plan::Channel::from_raw(&raw).unwrap();
    let channel = Channel::from_plan("siem", &raw, secrets.path()).unwrap();
    let opts = CourierOptions {
        first_retry: Duration::from_millis(50),
        max_retry: Duration::from_millis(400),
        poll: Duration::from_millis(20),
        ..CourierOptions::default()
    };
    Courier::new(store, BTreeMap::from([("siem".to_owned(), channel)]), opts)
}

#[tokio::test]
async fn retry_after_is_honoured() {
    let s = sink::start().await;
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(SqliteStore::open(&dir.path().join("t.db")).await.unwrap());
    let id = incident(&store, 1).await;
    store.enqueue(queued(id, 1)).await.unwrap();
    s.script([Answer::RetryAfter(1)]);
    let c = courier(store.clone(), &s.url);
    let t = std::time::Instant::now();
    while store.outbox(Some(id)).await.unwrap()[0].status != "delivered" {
        c.round().await.unwrap();
        tokio::time::sleep(Duration::from_millis(20)).await;
        assert!(t.elapsed() < Duration::from_secs(10));
    }
    let seen = s.seen();
    assert_eq!(seen.iter().map(|r| r.status).collect::<Vec<_>>(), [429, 200]);
    assert!(t.elapsed() >= Duration::from_secs(1), "waited as the service asked");
    assert_eq!(store.outbox(Some(id)).await.unwrap()[0].attempts, 2);
}

#[tokio::test]
async fn a_sink_down_then_back_gets_every_message_once_in_order_across_a_restart() {
    let s = sink::start().await;
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(SqliteStore::open(&dir.path().join("t.db")).await.unwrap());
    let (a, b) = (incident(&store, 1).await, incident(&store, 2).await);
    for n in 0..5 {
        store.enqueue(queued(a, n)).await.unwrap();
        store.enqueue(queued(b, n)).await.unwrap();
    }
    // the same message enqueued twice (a replay) is stored once
    assert!(!store.enqueue(queued(a, 0)).await.unwrap());
    s.otherwise(Some(Answer::Status(503)));
    let first = courier(store.clone(), &s.url);
    for _ in 0..10 {
        first.round().await.unwrap();
        tokio::time::sleep(Duration::from_millis(60)).await;
    }
    assert!(s.seen().iter().all(|r| r.status == 503), "all refused while down");
    drop(first); // the daemon stops …
    s.otherwise(None);
    let second = courier(store.clone(), &s.url); // … and a new one starts
    let t = std::time::Instant::now();
    while store.outbox(None).await.unwrap().iter().any(|m| m.status != "delivered") {
        second.round().await.unwrap();
        tokio::time::sleep(Duration::from_millis(20)).await;
        assert!(t.elapsed() < Duration::from_secs(20), "not all delivered");
    }
    let accepted: Vec<String> =
        s.seen().iter().filter(|r| r.status == 200).map(|r| r.header("idempotency-key")).collect();
    assert_eq!(accepted.len(), 10, "each message accepted exactly once: {accepted:?}");
    for incident in [a, b] {
        let order: Vec<&String> =
            accepted.iter().filter(|k| k.starts_with(&format!("{incident}/"))).collect();
        let want: Vec<String> = (0..5).map(|n| format!("{incident}/msg/{n}")).collect();
        assert_eq!(order, want.iter().collect::<Vec<_>>(), "order kept for incident {incident}");
    }
    let delivered =
        store.timeline(a).await.unwrap().iter().filter(|e| e.kind() == "message_delivered").count();
    assert_eq!(delivered, 5, "deliveries are on the incident's timeline");
}

#[tokio::test]
async fn a_permanent_error_gives_up_with_the_reason_on_the_timeline() {
    let s = sink::start().await;
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(SqliteStore::open(&dir.path().join("t.db")).await.unwrap());
    let id = incident(&store, 1).await;
    store.enqueue(queued(id, 1)).await.unwrap();
    s.script([Answer::Status(400)]);
    courier(store.clone(), &s.url).round().await.unwrap();
    let m = store.outbox(Some(id)).await.unwrap().remove(0);
    assert_eq!((m.status.as_str(), m.attempts), ("failed", 1));
    let failed = store
        .timeline(id)
        .await
        .unwrap()
        .into_iter()
        .find(|e| e.kind() == "message_failed")
        .unwrap();
    assert!(failed.body["error"].as_str().unwrap().starts_with("HTTP 400"));
}

#[tokio::test]
async fn resolving_an_incident_notifies_every_channel_that_carried_it() {
    let s = sink::start().await;
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(SqliteStore::open(&dir.path().join("t.db")).await.unwrap());
    let id = incident(&store, 1).await;
    store.enqueue(queued(id, 1)).await.unwrap();
    let c = courier(store.clone(), &s.url);
    c.round().await.unwrap();
    let incident = store.incident(id).await.unwrap().unwrap();
    assert_eq!(
        firebreak_notify::notify_resolved(&*store, &incident, Some("funds back")).await.unwrap(),
        1
    );
    assert_eq!(
        firebreak_notify::notify_resolved(&*store, &incident, None).await.unwrap(),
        0,
        "once"
    );
    c.round().await.unwrap();
    let last = s.seen().last().unwrap().json();
    assert_eq!(last["event"], "resolved");
    assert_eq!(last["text"], format!("Incident {id} is resolved. funds back"));
}
