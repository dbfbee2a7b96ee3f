//! What the war room asks of the executor: a playbook started by hand runs
//! only after the plan's pause quorum, an unpause only after its higher
//! quorum, and `announce` steps draft announcements for review.

use std::{sync::Arc, time::Duration};

use firebreak_primitives::{Actor, IncidentStatus, StepStatus};
use firebreak_respond::Executor;
use firebreak_store::prelude::*;
use firebreak_store::{ManualIncident, SqliteStore, WarRoomStore};
use firebreak_test_utils::{Pauser, World, WorldExt as _};

fn team() -> String {
    let members = firebreak_test_utils::fixture_team(&[
        ("alice", &["commander"]),
        ("bob", &["operator"]),
        ("carol", &["operator"]),
        ("dan", &["comms"]),
    ]);
    members
        + r#"
[war_room]
pause = { quorum = 2, roles = ["commander", "operator"] }
unpause = { quorum = 3, roles = ["commander", "operator"] }
[status_page]
title = "Fixture status"
[[status_page.components]]
id = "vault"
name = "Lending vault"
"#
}

async fn setup(
    w: &World,
    steps: &str,
) -> (Arc<SqliteStore>, Executor, firebreak_plan::Plan, tempfile::TempDir) {
    let mut text = w.plan_text(r#"[{ signer = "guardian" }]"#, &[]);
    let pause = r#"pause = { method = "pause", via = [{ signer = "guardian" }] }"#;
    assert!(text.contains(pause));
    text = text.replace(
        pause,
        &format!("{pause}\nunpause = {{ method = \"unpause\", via = [{{ signer = \"admin\" }}] }}"),
    );
    // unpausing takes the vault's admin (the deployer), not the guardian
    text.push_str("\n[signers.admin]\nanvil_account = 0\n");
    let auto = r#"steps = [{ kind = "pause", contracts = ["vault"] }]"#;
    assert!(text.contains(auto));
    text = text.replace(auto, steps);
    text.push_str(&team());
    let plan = w.load_plan(&text).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(SqliteStore::open(&dir.path().join("t.db")).await.unwrap());
    let executor = crate::executor(w, &Arc::new(plan.clone()), &store)
        .await
        .with_announcements(store.clone() as Arc<dyn WarRoomStore>);
    (store, executor, plan, dir)
}

async fn settle(executor: &Executor, id: firebreak_primitives::IncidentId) {
    let mut rounds = 0;
    while executor.drive(id).await.unwrap() {
        rounds += 1;
        assert!(rounds < 100, "still working after 100 rounds");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

async fn step(
    store: &SqliteStore,
    id: firebreak_primitives::IncidentId,
    name: &str,
) -> firebreak_store::StepState {
    store
        .steps(id)
        .await
        .unwrap()
        .into_iter()
        .find(|s| s.step_id == name)
        .unwrap_or_else(|| panic!("no step {name}"))
}

#[tokio::test]
async fn anvil_pause_now_waits_for_the_pause_quorum_then_unpause_for_the_higher_one() {
    let w = World::new(Pauser::Guardian).await.unwrap();
    let (store, executor, plan, _dir) =
        setup(&w, r#"steps = [{ id = "pause-1", kind = "pause", contracts = ["vault"] }]"#).await;
    let id = store
        .open_manual(ManualIncident {
            protocol: "Fixture".into(),
            playbook: "contain".into(),
            chain_id: w.chain.chain_id(),
            severity: firebreak_primitives::Severity::P1,
            title: "contain started by hand: oracle looks wrong".into(),
            plan_hash: plan.hash,
            drill: true,
            by: Actor::Member("bob".into()),
            reason: "oracle looks wrong".into(),
            now_ms: firebreak_primitives::now_ms(),
        })
        .await
        .unwrap();
    store.decide(id, "trigger", "bob", true).await.unwrap();
    assert!(executor.drive(id).await.unwrap());
    let gate = step(&store, id, "trigger").await;
    assert_eq!(gate.status, StepStatus::AwaitingApproval);
    assert!(gate.detail.unwrap().contains("has 1 (bob)"));
    assert!(store.actions(id).await.unwrap().is_empty(), "nothing runs before the quorum");
    assert!(!w.paused().await.unwrap());

    store.decide(id, "trigger", "dan", true).await.unwrap(); // comms: does not count
    assert!(executor.drive(id).await.unwrap());
    assert_eq!(step(&store, id, "trigger").await.status, StepStatus::AwaitingApproval);

    store.decide(id, "trigger", "alice", true).await.unwrap();
    settle(&executor, id).await;
    assert_eq!(step(&store, id, "trigger").await.status, StepStatus::Succeeded);
    assert_eq!(step(&store, id, "pause-1").await.status, StepStatus::Succeeded);
    assert!(w.paused().await.unwrap(), "paused once the quorum approved");

    // unpause: two approvals (enough to pause) are not enough
    store
        .append(
            id,
            Actor::Member("bob".into()),
            firebreak_primitives::Event::UnpauseRequested(
                firebreak_primitives::event::UnpauseRequested {
                    contracts: vec!["vault".into()],
                    reason: "fixed".into(),
                    quorum: 3,
                    roles: vec![],
                },
            ),
        )
        .await
        .unwrap();
    store.decide(id, "unpause", "bob", true).await.unwrap();
    store.decide(id, "unpause", "alice", true).await.unwrap();
    assert!(executor.drive(id).await.unwrap());
    assert_eq!(step(&store, id, "unpause").await.status, StepStatus::AwaitingApproval);
    assert!(w.paused().await.unwrap());
    store.decide(id, "unpause", "carol", true).await.unwrap();
    settle(&executor, id).await;
    let s = step(&store, id, "unpause").await;
    assert_eq!(s.status, StepStatus::Succeeded, "{:?}", s.detail);
    assert!(!w.paused().await.unwrap(), "unpaused after three approvals");
    let incident = store.incident(id).await.unwrap().unwrap();
    assert_eq!(incident.status, IncidentStatus::Recovering);
    firebreak_store::verify_chain(&store.timeline(id).await.unwrap()).unwrap();
}

#[tokio::test]
async fn anvil_a_rejected_trigger_runs_nothing_and_announce_steps_draft_once() {
    let w = World::new(Pauser::Guardian).await.unwrap();
    let steps = r#"steps = [
  { id = "pause-1", kind = "pause", contracts = ["vault"] },
  { id = "tell", kind = "announce", status = "investigating", message = "We paused the vault.", components = ["vault"] },
]"#;
    let (store, executor, plan, _dir) = setup(&w, steps).await;
    let manual = |reason: &str| ManualIncident {
        protocol: "Fixture".into(),
        playbook: "contain".into(),
        chain_id: w.chain.chain_id(),
        severity: firebreak_primitives::Severity::P2,
        title: format!("contain started by hand: {reason}"),
        plan_hash: plan.hash,
        drill: true,
        by: Actor::Member("bob".into()),
        reason: reason.into(),
        now_ms: firebreak_primitives::now_ms(),
    };
    // rejected by enough members that 2 of 3 can no longer approve
    let rejected = store.open_manual(manual("false alarm")).await.unwrap();
    store.decide(rejected, "trigger", "alice", false).await.unwrap();
    store.decide(rejected, "trigger", "bob", false).await.unwrap();
    assert!(!executor.drive(rejected).await.unwrap());
    assert_eq!(step(&store, rejected, "trigger").await.status, StepStatus::Failed);
    assert!(store.steps(rejected).await.unwrap().iter().all(|s| s.step_id == "trigger"));
    assert!(!w.paused().await.unwrap());

    let id = store.open_manual(manual("real")).await.unwrap();
    store.decide(id, "trigger", "alice", true).await.unwrap();
    store.decide(id, "trigger", "carol", true).await.unwrap();
    settle(&executor, id).await;
    settle(&executor, id).await;
    let tell = step(&store, id, "tell").await;
    assert_eq!(tell.status, StepStatus::Succeeded);
    assert!(tell.detail.unwrap().contains("approve and publish it in the war room"));
    let drafts = store.announcements(Some(id), false).await.unwrap();
    assert_eq!(drafts.len(), 1, "drafted once: {drafts:?}");
    assert_eq!(drafts[0].state, firebreak_store::AnnouncementState::Draft);
    assert_eq!(drafts[0].author, "system");
    assert_eq!(drafts[0].components, ["vault"]);
    assert!(
        store.announcements(None, true).await.unwrap().is_empty(),
        "nothing public before review"
    );
}
