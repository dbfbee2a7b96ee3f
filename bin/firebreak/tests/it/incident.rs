//! `firebreak incident …` against a store.

use crate::{firebreak, stderr, stdout};
use firebreak_store::prelude::*;

/// A store at `db` holding one incident (id 1) of playbook `contain`.
async fn store_with_an_incident(db: &std::path::Path) -> firebreak_store::SqliteStore {
    let store = firebreak_store::SqliteStore::open(db).await.unwrap();
    let alert = firebreak_test_utils::alert(1, "P1", "k");
    let grouping = firebreak_store::Grouping {
        protocol: "Acme".into(),
        plan_hash: Default::default(),
        window_ms: 60_000,
        title: "t".into(),
        drill: false,
        now_ms: 1,
        on_open: Vec::new(),
    };
    let id = store.record_alert(&alert, &grouping).await.unwrap().incident;
    assert_eq!(id, firebreak_primitives::IncidentId(1));
    store
}

/// The war room's own gates are approved with the CLI too, as the daemon's
/// messages say (`firebreak incident approve ID unpause --as MEMBER`).
#[tokio::test]
async fn the_cli_approves_the_war_rooms_unpause_gate() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("firebreak.db");
    drop(store_with_an_incident(&db).await);
    let id = firebreak_primitives::IncidentId(1);
    let approve = |step: &str| {
        firebreak(&[
            "incident",
            "approve",
            &id.to_string(),
            step,
            "--as",
            "alice",
            "--plan",
            "examples/plans/acme-lending.toml",
            "--db",
            db.to_str().unwrap(),
        ])
    };
    let out = approve("unpause");
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(stdout(&out).contains(&format!("approved step `unpause` of incident {id} as alice")));
    // `trigger` is a gate of hand-opened incidents only: this one is not
    let out = approve("trigger");
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("`trigger` gates incidents opened by hand"), "{}", stderr(&out));
}

/// Only members of the plan's team acknowledge: `--as ANYONE` used to be
/// accepted and stopped the escalation.
#[tokio::test]
async fn only_plan_members_acknowledge_with_the_cli() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("firebreak.db");
    let store = store_with_an_incident(&db).await;
    let id = "1".to_owned();
    let ack = |member: &str| {
        std::process::Command::new(env!("CARGO_BIN_EXE_firebreak"))
            .args(["incident", "ack", &id, "--as", member, "--db", db.to_str().unwrap()])
            .env("FIREBREAK_PLAN", crate::repo_root().join("examples/plans/acme-lending.toml"))
            .output()
            .unwrap()
    };
    let out = ack("mallory");
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("`mallory` is not in the plan's [team]"), "{}", stderr(&out));
    let timeline = store.timeline(firebreak_primitives::IncidentId(1)).await.unwrap();
    assert!(!timeline.iter().any(|e| e.kind() == "acknowledged"), "nothing recorded");
    let out = ack("alice");
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(
        stdout(&out).contains(&format!("incident {id} acknowledged by alice")),
        "{}",
        stdout(&out)
    );
    // without a plan it says how to give one
    let out = firebreak(&["incident", "ack", &id, "--as", "alice", "--db", db.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("--plan <PLAN>"), "{}", stderr(&out));
}

/// Deleting the last entries of a timeline used to verify as intact (the
/// hash chain protects only what lies before its last entry). The incident
/// row keeps the head, written with each entry: a cut tail is reported.
#[tokio::test]
async fn a_timeline_cut_short_is_reported_by_verify() {
    use sqlx::ConnectOptions as _;
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("firebreak.db");
    let store = store_with_an_incident(&db).await;
    let id = firebreak_primitives::IncidentId(1);
    for n in 0..3 {
        let note = firebreak_primitives::event::Note { text: format!("note {n}") };
        let note = firebreak_primitives::Event::Note(note);
        store.append(id, firebreak_primitives::Actor::System, note).await.unwrap();
    }
    drop(store);
    let verify =
        || firebreak(&["incident", "verify", &id.to_string(), "--db", db.to_str().unwrap()]);
    let out = verify();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    // the last two entries removed outside firebreak
    let mut conn = sqlx::sqlite::SqliteConnectOptions::new().filename(&db).connect().await.unwrap();
    let max: i64 =
        sqlx::query_scalar("SELECT MAX(seq) FROM timeline").fetch_one(&mut conn).await.unwrap();
    sqlx::query("DELETE FROM timeline WHERE seq >= ?")
        .bind(max - 1)
        .execute(&mut conn)
        .await
        .unwrap();
    drop(conn);
    let out = verify();
    assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));
    assert!(stdout(&out).contains("TIMELINE BROKEN"), "{}", stdout(&out));
    assert!(stdout(&out).contains("its last entries were removed"), "{}", stdout(&out));
}

/// `incident verify` passes on a store written by the previous release
/// (schema version 4), which it migrates on opening.
#[test]
fn verify_passes_on_a_store_of_the_previous_release() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("old.db");
    std::fs::copy(crate::repo_root().join("crates/store/tests/fixtures/schema-4-demo.db"), &db)
        .unwrap();
    let out = firebreak(&["incident", "verify", "1", "--db", db.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{}{}", stdout(&out), stderr(&out));
    assert!(stdout(&out).contains("incident 1: timeline intact — 14 entries"), "{}", stdout(&out));
}
