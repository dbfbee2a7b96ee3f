//! Approval gates: a pause that needs two members with the right roles.

use std::{sync::Arc, time::Duration};

use firebreak_primitives::{Actor, StepStatus};
use firebreak_respond::IncidentManager;
use firebreak_store::prelude::*;
use firebreak_store::{ActionStatus, SqliteStore, verify_chain};
use firebreak_test_utils::{Pauser, World, WorldExt as _};

fn team() -> String {
    firebreak_test_utils::fixture_team(&[
        ("alice", &["commander"]),
        ("bob", &["operator"]),
        ("dan", &["scribe"]),
    ])
}

#[tokio::test]
async fn anvil_gated_pause_waits_for_a_quorum_of_distinct_members_with_the_role() {
    let w = World::new(Pauser::Guardian).await.unwrap();
    let mut text = w.plan_text(r#"[{ signer = "guardian" }]"#, &[]);
    let auto = r#"steps = [{ kind = "pause", contracts = ["vault"] }]"#;
    assert!(text.contains(auto));
    text = text.replace(
        auto,
        r#"steps = [{ id = "pause", kind = "pause", contracts = ["vault"], approval = { quorum = 2, roles = ["commander", "operator"] } }]"#,
    );
    text = text.replace(r#"severity = "P1""#, r#"severity = "P2""#);
    text.push_str(&team());
    let plan = Arc::new(w.load_plan(&text).unwrap());
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(SqliteStore::open(&dir.path().join("t.db")).await.unwrap());
    let executor = crate::executor(&w, &plan, &store).await;
    let id = IncidentManager::new(plan, store.clone())
        .on_alert(&w.alert("P2", "a"))
        .await
        .unwrap()
        .incident;

    let step = |store: Arc<SqliteStore>| async move { store.steps(id).await.unwrap().remove(0) };
    assert!(executor.drive(id).await.unwrap());
    let s = step(store.clone()).await;
    assert_eq!(s.status, StepStatus::AwaitingApproval);
    assert!(s.detail.unwrap().starts_with("needs 2 approval(s) from commander or operator; has 0"));

    // one member approving twice is one approval; a member without the role does not count
    assert!(store.decide(id, "pause", "alice", true).await.unwrap());
    assert!(!store.decide(id, "pause", "alice", true).await.unwrap());
    assert!(store.decide(id, "pause", "dan", true).await.unwrap());
    assert!(executor.drive(id).await.unwrap());
    let s = step(store.clone()).await;
    assert_eq!(s.status, StepStatus::AwaitingApproval);
    assert!(s.detail.unwrap().contains("has 1 (alice)"));
    assert!(store.actions(id).await.unwrap().is_empty(), "nothing sent before the quorum");

    assert!(store.decide(id, "pause", "bob", true).await.unwrap());
    let mut rounds = 0;
    while executor.drive(id).await.unwrap() {
        rounds += 1;
        assert!(rounds < 100, "not mined");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert!(w.paused().await.unwrap());
    assert_eq!(store.actions(id).await.unwrap()[0].status, ActionStatus::Mined);
    let timeline = store.timeline(id).await.unwrap();
    let approvers: Vec<Actor> =
        timeline.iter().filter(|e| e.kind() == "approved").map(|e| e.actor.clone()).collect();
    assert_eq!(
        approvers,
        [Actor::Member("alice".into()), Actor::Member("dan".into()), Actor::Member("bob".into())]
    );
    verify_chain(&timeline).unwrap();
}

#[tokio::test]
async fn anvil_rejections_that_make_the_quorum_unreachable_fail_the_step() {
    let w = World::new(Pauser::Guardian).await.unwrap();
    let mut text = w.plan_text(r#"[{ signer = "guardian" }]"#, &[]);
    let auto = r#"steps = [{ kind = "pause", contracts = ["vault"] }]"#;
    text = text.replace(
        auto,
        r#"steps = [{ id = "ok", kind = "wait_approval", quorum = 2, roles = ["commander", "operator"] }, { kind = "pause", contracts = ["vault"] }]"#,
    );
    text.push_str(&team());
    let plan = Arc::new(w.load_plan(&text).unwrap());
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(SqliteStore::open(&dir.path().join("t.db")).await.unwrap());
    let executor = crate::executor(&w, &plan, &store).await;
    let id = IncidentManager::new(plan, store.clone())
        .on_alert(&w.alert("P2", "b"))
        .await
        .unwrap()
        .incident;
    assert!(executor.drive(id).await.unwrap());
    store.decide(id, "ok", "bob", false).await.unwrap();
    // the wait step fails; the playbook goes on (the pause is automatic)
    while executor.drive(id).await.unwrap() {
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let steps = store.steps(id).await.unwrap();
    assert_eq!(steps[0].status, StepStatus::Failed);
    assert!(steps[0].detail.as_deref().unwrap().contains("rejected by bob"), "{steps:?}");
    assert_eq!(steps[1].status, StepStatus::Succeeded);

    // a wait with a time limit fails when the limit passes without a quorum
    let timed = text.replace(
        r#"quorum = 2, roles = ["commander", "operator"] }"#,
        r#"quorum = 2, roles = ["commander", "operator"], timeout = "1s" }"#,
    );
    assert_ne!(timed, text);
    let plan = Arc::new(w.load_plan(&timed).unwrap());
    let executor = crate::executor(&w, &plan, &store).await;
    store
        .transition(id, firebreak_primitives::IncidentStatus::Resolved, Actor::System, None)
        .await
        .unwrap();
    let id = IncidentManager::new(plan, store.clone())
        .on_alert(&w.alert("P2", "c"))
        .await
        .unwrap()
        .incident;
    assert!(executor.drive(id).await.unwrap());
    store.decide(id, "ok", "alice", true).await.unwrap();
    tokio::time::sleep(Duration::from_millis(1_300)).await;
    while executor.drive(id).await.unwrap() {
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let steps = store.steps(id).await.unwrap();
    assert_eq!(steps[0].status, StepStatus::Failed);
    assert!(steps[0].detail.as_deref().unwrap().starts_with("no quorum within 1s"), "{steps:?}");
    assert_eq!(steps[1].detail.as_deref(), Some("vault: already paused"));
}
