//! "Contained" stays true or firebreak says so and acts: a pause counts only
//! once it is deep enough, a reorg that drops it sends it again, a contract
//! unpaused outside the plan raises a P1 alert and is paused again, and a
//! permanent error fails its step once and pages. The chain mines only when
//! the test says so, so nothing here depends on the machine's speed.

use std::time::Duration;

use alloy::providers::Provider as _;

use firebreak_primitives::{IncidentId, IncidentStatus, StepStatus};
use firebreak_store::{ActionStatus, IncidentFilter, SqliteStore, verify_chain};
use firebreak_test_utils::{LendingVault, Pauser, World};

use crate::contain::{alice_on_webhook, exploit, load, paused, start, store, world};
use firebreak_store::prelude::*;

/// Polls the store (up to 30 s) until `check` holds for the first incident.
async fn until<F>(store: &SqliteStore, what: &str, check: F) -> IncidentId
where
    F: Fn(&firebreak_store::Incident, &[firebreak_store::TimelineEntry]) -> bool,
{
    for _ in 0..600 {
        if let Some(i) = store.incidents(&IncidentFilter::default()).await.unwrap().first() {
            let timeline = store.timeline(i.id).await.unwrap();
            if check(i, &timeline) {
                return i.id;
            }
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let list = store.incidents(&IncidentFilter::default()).await.unwrap();
    let timeline = match list.first() {
        Some(i) => {
            store.timeline(i.id).await.unwrap().into_iter().map(|e| e.kind().to_owned()).collect()
        }
        None => Vec::new(),
    };
    panic!("never {what}: {list:?}\n{timeline:?}");
}

/// The incident's status changes, in order, from its timeline.
async fn statuses(store: &SqliteStore, id: IncidentId) -> Vec<String> {
    store
        .timeline(id)
        .await
        .unwrap()
        .into_iter()
        .filter(|e| e.kind() == "status")
        .map(|e| e.body["to"].as_str().unwrap().to_owned())
        .collect()
}

fn contained(i: &firebreak_store::Incident) -> bool {
    i.status == IncidentStatus::Contained
}

fn guardian_plan(w: &World, confirmations: u64) -> std::sync::Arc<firebreak_plan::Plan> {
    let text = w.plan_text(r#"[{ signer = "guardian" }]"#, &[]);
    let text = text.replace("confirmations = 1", &format!("confirmations = {confirmations}"));
    load(&text)
}

#[tokio::test]
async fn anvil_a_pause_counts_as_contained_only_at_the_chains_confirmation_depth() {
    let w = world(Pauser::Guardian).await;
    let (_dir, store) = store().await;
    let from = w.chain.block_number().await.unwrap() + 1;
    let d = start(guardian_plan(&w, 3), store.clone(), from);
    let n = exploit(&w).await;
    let pause = w.mine_when_pending(Duration::from_secs(30)).await.unwrap();
    assert_eq!(pause, n + 1);
    let id = until(&store, "waited for confirmations", |_, t| {
        t.iter().any(|e| {
            e.kind() == "step" && e.body["detail"].as_str().is_some_and(|d| d.contains("1 of 3"))
        })
    })
    .await;
    assert_eq!(store.incident(id).await.unwrap().unwrap().status, IncidentStatus::Containing);
    w.mine().await.unwrap();
    until(&store, "counted the second confirmation", |_, t| {
        t.iter().any(|e| e.body["detail"].as_str().is_some_and(|d| d.contains("2 of 3")))
    })
    .await;
    assert_eq!(store.incident(id).await.unwrap().unwrap().status, IncidentStatus::Containing);
    w.mine().await.unwrap();
    until(&store, "contained at depth 3", |i, _| contained(i)).await;
    d.stop().await;
    assert_eq!(statuses(&store, id).await, ["containing", "contained"]);
    verify_chain(&store.timeline(id).await.unwrap()).unwrap();
}

#[tokio::test]
async fn anvil_a_reorg_that_drops_the_pause_reopens_containment_and_sends_it_again() {
    let w = world(Pauser::Guardian).await;
    let (_dir, store) = store().await;
    let from = w.chain.block_number().await.unwrap() + 1;
    let d = start(guardian_plan(&w, 1), store.clone(), from);
    let n = exploit(&w).await;
    let first = w.mine_when_pending(Duration::from_secs(30)).await.unwrap();
    assert_eq!(first, n + 1);
    let id = until(&store, "contained", |i, _| contained(i)).await;
    let before = store.actions(id).await.unwrap().remove(0);
    let hash = before.attempts[0].hash;

    // the block holding the pause is replaced by an empty one
    let _: serde_json::Value = w
        .chain
        .provider()
        .raw_request("anvil_reorg".into(), (1u64, Vec::<serde_json::Value>::new()))
        .await
        .unwrap();
    assert!(!paused(&w).await, "the reorg undid the pause");
    until(&store, "noticed the reorg", |i, t| {
        i.status == IncidentStatus::Containing && t.iter().any(|e| e.kind() == "tx_reorged")
    })
    .await;
    // the same signed pause goes back to the node and is mined again
    w.mine_when_pending(Duration::from_secs(30)).await.unwrap();
    until(&store, "contained again", |i, _| contained(i)).await;
    d.stop().await;

    assert!(paused(&w).await);
    let pauses = w.pause_transactions(n).await.unwrap();
    assert_eq!(pauses.len(), 1, "exactly one pause on the canonical chain: {pauses:?}");
    let after = store.actions(id).await.unwrap().remove(0);
    assert_eq!(after.status, ActionStatus::Mined);
    assert_eq!(after.attempts.len(), 1, "the recorded bytes were sent again, not re-signed");
    assert_eq!(after.attempts[0].hash, hash);
    assert_eq!(statuses(&store, id).await, ["containing", "contained", "containing", "contained"]);
    verify_chain(&store.timeline(id).await.unwrap()).unwrap();
}

/// A reorg that lands in the middle of one containment check (after the
/// pause's receipt was read, before `paused()` was) is a reorg, not an
/// unpause outside the plan: the reads of one decision are of one block,
/// and a decision whose block left the chain meanwhile waits for the next.
#[tokio::test]
async fn anvil_a_reorg_in_the_middle_of_a_containment_check_is_not_taken_for_an_unpause() {
    let w = world(Pauser::Guardian).await;
    let proxy = firebreak_test_utils::rpc_proxy::RpcProxy::start(&w.chain.http_url()).await;
    let text = w.plan_text(r#"[{ signer = "guardian" }]"#, &[]);
    let rpc = text.lines().find(|l| l.starts_with("rpc = [")).unwrap().to_owned();
    let plan = load(&text.replace(&rpc, &format!("rpc = [\"{}\"]", proxy.url())));
    let (_dir, store) = store().await;
    let from = w.chain.block_number().await.unwrap() + 1;
    let d = start(plan, store.clone(), from);
    let n = exploit(&w).await;
    w.mine_when_pending(Duration::from_secs(30)).await.unwrap();
    let id = until(&store, "contained", |i, _| contained(i)).await;
    let hash = store.actions(id).await.unwrap().remove(0).attempts[0].hash;

    // the next check of containment reads the pause's receipt, then the
    // pause's block and the one after it are replaced by empty ones
    proxy.reorg_after_receipt(hash, 2);
    w.mine().await.unwrap();
    until(&store, "noticed the reorg", |i, t| {
        i.status == IncidentStatus::Containing && t.iter().any(|e| e.kind() == "tx_reorged")
    })
    .await;
    assert!(!proxy.reorg_pending(), "the reorg came in the middle of a check");
    w.mine_when_pending(Duration::from_secs(30)).await.unwrap();
    until(&store, "contained again", |i, _| contained(i)).await;
    d.stop().await;
    let kinds: Vec<String> =
        store.timeline(id).await.unwrap().iter().map(|e| e.kind().to_owned()).collect();
    assert!(
        !kinds.iter().any(|k| k == "unpaused_outside_plan"),
        "a reorg was taken for an unpause outside the plan: {kinds:?}"
    );
    assert!(paused(&w).await);
    assert_eq!(w.pause_transactions(n).await.unwrap().len(), 1);
    assert_eq!(statuses(&store, id).await, ["containing", "contained", "containing", "contained"]);
}

#[tokio::test]
async fn anvil_an_unpause_outside_the_plan_raises_a_p1_alert_and_is_paused_again() {
    let w = world(Pauser::Guardian).await;
    let (_dir, store) = store().await;
    let from = w.chain.block_number().await.unwrap() + 1;
    let d = start(guardian_plan(&w, 1), store.clone(), from);
    exploit(&w).await;
    w.mine_when_pending(Duration::from_secs(30)).await.unwrap();
    let id = until(&store, "contained", |i, _| contained(i)).await;

    // the vault's admin (dev account 0, not a plan signer) unpauses it
    let vault = LendingVault::new(w.vault.vault, w.chain.provider());
    let pending = vault.unpause().from(w.chain.dev_address(0)).send().await.unwrap();
    let unpaused_at = w.mine().await.unwrap();
    assert!(pending.get_receipt().await.unwrap().status());
    assert!(!paused(&w).await);

    // within one block: no further block is mined until the alert is there
    until(&store, "raised the unpause alert", |i, t| {
        i.status == IncidentStatus::Containing
            && t.iter().any(|e| e.kind() == "unpaused_outside_plan")
    })
    .await;
    assert_eq!(w.chain.block_number().await.unwrap(), unpaused_at);
    let alerts = store.incident_alerts(id).await.unwrap();
    let alert = alerts.iter().find(|a| a.monitor == firebreak_respond::UNPAUSED_MONITOR).unwrap();
    assert_eq!((alert.severity.as_str(), alert.block_number), ("P1", unpaused_at));
    assert_eq!(alert.evidence["contract"], "vault");

    // and it is paused again, in the next block
    let again = w.mine_when_pending(Duration::from_secs(30)).await.unwrap();
    assert_eq!(again, unpaused_at + 1);
    until(&store, "contained again", |i, _| contained(i)).await;
    d.stop().await;
    assert!(paused(&w).await);
    let actions = store.actions(id).await.unwrap();
    assert_eq!(actions.len(), 2, "a second pause for the second round");
    assert!(actions.iter().any(|a| a.step_id == "pause-1#2" && a.status == ActionStatus::Mined));
    assert_eq!(statuses(&store, id).await, ["containing", "contained", "containing", "contained"]);
    verify_chain(&store.timeline(id).await.unwrap()).unwrap();
}

#[tokio::test]
async fn anvil_a_permanent_error_fails_the_step_once_and_pages() {
    use firebreak_test_utils::sink;
    let w = world(Pauser::Guardian).await;
    let hook = sink::start().await;
    let mut text = w.plan_text(r#"[{ signer = "guardian" }]"#, &[]);
    // a second pausable contract whose address holds no code
    let steps = r#"steps = [{ kind = "pause", contracts = ["vault"] }]"#;
    assert!(text.contains(steps));
    text = text.replace(
        steps,
        r#"steps = [{ kind = "pause", contracts = ["ghost"] }, { kind = "pause", contracts = ["vault"] }]"#,
    );
    text.push_str(&format!(
        "[contracts.ghost]\nchain = \"local\"\naddress = \"0x00000000000000000000000000000000000000aa\"\nabi = {{ artifact = \"{}/crates/devnet/fixtures/LendingVault.json\" }}\npause = {{ method = \"pause\", via = [{{ signer = \"guardian\" }}] }}\n",
        firebreak_test_utils::repo_root().display()
    ));
    let (_secrets, alice) = alice_on_webhook(&hook.url);
    text.push_str(&alice);
    let (_dir, store) = store().await;
    let from = w.chain.block_number().await.unwrap() + 1;
    let d = start(load(&text), store.clone(), from);
    exploit(&w).await;
    // the next step still pauses the vault
    w.mine_when_pending(Duration::from_secs(30)).await.unwrap();
    let id = until(&store, "failed the ghost step", |_, t| {
        t.iter().any(|e| e.kind() == "action_failed")
    })
    .await;
    for _ in 0..200 {
        if !hook.seen().is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // a few more rounds: the failure is not retried
    w.mine().await.unwrap();
    w.mine().await.unwrap();
    tokio::time::sleep(Duration::from_millis(500)).await;
    d.stop().await;
    let steps = store.steps(id).await.unwrap();
    assert_eq!(steps[0].status, StepStatus::Failed, "{steps:?}");
    let detail = steps[0].detail.clone().unwrap();
    assert!(
        detail
            .to_lowercase()
            .contains("no contract code at 0x00000000000000000000000000000000000000aa"),
        "{detail}"
    );
    assert_eq!(steps[1].status, StepStatus::Succeeded, "{steps:?}");
    let timeline = store.timeline(id).await.unwrap();
    let failures = timeline.iter().filter(|e| e.kind() == "action_failed").count();
    assert_eq!(failures, 1, "failed once, not retried");
    let page = hook.seen();
    assert!(!page.is_empty(), "the on-call was paged");
    let body = page[0].json();
    assert!(body["text"].as_str().unwrap().contains("step `pause-1` failed"), "{body}");
    verify_chain(&timeline).unwrap();
}
