//! Playbooks as a small graph: people hear at once whatever the chain is
//! doing, a step waiting for people asks exactly those who can unblock it,
//! and a pause step chooses its path. The chain mines only when the test
//! says so: "before the pause is mined" is a state the test holds, not a race.

use std::{future::Future, time::Duration};

use firebreak_node::{DaemonEvent, WatchEvent};
use firebreak_primitives::{Actor, IncidentStatus, StepStatus};
use firebreak_store::{IncidentFilter, SafeSignature, SqliteStore};
use firebreak_test_utils::{LendingVault, Pauser, World, sink};

use crate::contain::{
    Running, alice_on_webhook, exploit, load, pause_block, second_vault, start, store, world,
};
use firebreak_store::prelude::*;

/// Recipients of the messages of kind `event` the sink has received.
fn delivered(hook: &sink::Sink, event: &str) -> Vec<String> {
    let mut out: Vec<String> = hook
        .seen()
        .iter()
        .map(sink::Seen::json)
        .filter(|m| m["event"] == event)
        .map(|m| m["recipient"].as_str().unwrap_or_default().to_owned())
        .collect();
    out.sort();
    out
}

/// Waits (up to 30 s) until `done` holds.
async fn until<F, Fut>(what: &str, mut done: F)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    for _ in 0..600 {
        if done().await {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("{what} did not happen within 30 s");
}

/// The status and detail of the first incident's step `step`.
async fn step(store: &SqliteStore, step: &str) -> (StepStatus, String) {
    let id = store.incidents(&IncidentFilter::default()).await.unwrap()[0].id;
    let s = store.steps(id).await.unwrap().into_iter().find(|s| s.step_id == step).unwrap();
    (s.status, s.detail.unwrap_or_default())
}

/// Mines `n` blocks one at a time and waits until the daemon has processed
/// the last (each processed block drives the incident).
async fn mine_and_process(w: &World, d: &mut Running, n: usize) {
    let mut last = 0;
    for _ in 0..n {
        last = w.mine().await.unwrap();
    }
    loop {
        let e = tokio::time::timeout(Duration::from_secs(30), d.events.recv()).await;
        let Ok(Some(e)) = e else { panic!("block {last} was never processed") };
        if let DaemonEvent::Watch { event: WatchEvent::Processed { number, .. } } = e
            && number >= last
        {
            return;
        }
    }
}

/// A plan around `w` whose playbook is `steps`, with alice paged on a
/// webhook to `hook` (and more members appended by the caller); the folder
/// holds the webhook's signing secret.
fn plan_with_steps(
    w: &World,
    via: &str,
    hot: &[&str],
    steps: &str,
    hook: &str,
) -> (tempfile::TempDir, String) {
    let mut text = w.plan_text(via, hot);
    let fixture = r#"steps = [{ kind = "pause", contracts = ["vault"] }]"#;
    assert!(text.contains(fixture), "the fixture plan changed");
    text = text.replace(fixture, &format!("steps = {steps}"));
    let (secrets, alice) = alice_on_webhook(hook);
    text.push_str(&alice);
    (secrets, text)
}

const PAUSE_THEN_PAGE: &str =
    r#"[{ kind = "pause", contracts = ["vault"] }, { kind = "page", targets = ["alice"] }]"#;

/// The docs' order (pause first, then page): the page is delivered while
/// the pause waits in the pool, before any block holds it. When steps ran
/// one after another, the page was queued only once the pause was mined,
/// so this test failed (nothing is mined until the page arrives).
#[tokio::test]
async fn anvil_the_page_goes_out_before_the_pause_is_mined() {
    let w = world(Pauser::Guardian).await;
    let hook = sink::start().await;
    let (_secrets, text) =
        plan_with_steps(&w, r#"[{ signer = "guardian" }]"#, &[], PAUSE_THEN_PAGE, &hook.url);
    let plan = load(&text);
    let (_dir, store) = store().await;
    let from = w.chain.block_number().await.unwrap() + 1;
    let d = start(plan, store.clone(), from);
    let n = exploit(&w).await;
    until("the pause reaching the pool", || async { w.pending().await.unwrap() > 0 }).await;
    until("the page", || async { delivered(&hook, "page") == ["@alice"] }).await;
    assert_eq!(w.chain.block_number().await.unwrap(), n, "nothing mined since the exploit");
    assert!(!w.paused().await.unwrap(), "the page came first");
    let (_, pause) = pause_block(&w, &store).await;
    assert_eq!(pause, n + 1);
    d.stop().await;
}

/// A pause through a Safe with no hot signer waits for two owners. The
/// on-call is paged and the two owners who must sign are asked, each with
/// the SafeTx hash, at once; while the step waits through sixty more
/// blocks (sixty rounds) the timeline does not grow; once they sign, the
/// pause lands. Before, nobody was asked, the page waited behind the pause,
/// and each round wrote two `step` entries (running ↔ awaiting approval).
#[tokio::test]
async fn anvil_a_pause_waiting_for_owners_asks_them_and_pages_the_oncall_at_once() {
    let w = world(Pauser::Safe).await;
    let hook = sink::start().await;
    let (_secrets, mut text) =
        plan_with_steps(&w, r#"[{ safe = "emergency" }]"#, &[], PAUSE_THEN_PAGE, &hook.url);
    for (handle, dev) in [("bob", 3), ("carol", 4)] {
        text.push_str(&format!(
            "[team.{handle}]\nname = \"{handle}\"\nroles = [\"signer\"]\ntimezone = \"UTC\"\ncontacts = {{ hook = \"@{handle}\" }}\nsafe_owner = \"{}\"\n",
            w.chain.dev_address(dev)
        ));
    }
    let plan = load(&text);
    let (_dir, store) = store().await;
    let from = w.chain.block_number().await.unwrap() + 1;
    let mut d = start(plan, store.clone(), from);
    let n = exploit(&w).await;

    // at once: the page, and the two owners asked with the hash
    until("the page and the two asks", || async {
        delivered(&hook, "page") == ["@alice"]
            && delivered(&hook, "approval_needed") == ["@bob", "@carol"]
    })
    .await;
    let id = store.incidents(&IncidentFilter::default()).await.unwrap()[0].id;
    let hash = store.actions(id).await.unwrap()[0].safe_tx_hash.unwrap();
    let ask = hook.seen().iter().map(sink::Seen::json).find(|m| m["event"] == "approval_needed");
    let ask = ask.unwrap()["text"].as_str().unwrap().to_owned();
    assert!(ask.contains(&hash.to_string()) && ask.contains("firebreak safe sign"), "{ask}");
    let (status, detail) = step(&store, "pause-1").await;
    assert_eq!(status, StepStatus::AwaitingApproval, "{detail}");
    assert_eq!(w.chain.block_number().await.unwrap(), n, "nothing mined: nobody signed");

    // waiting costs no timeline entries: once the three messages are
    // delivered, sixty rounds add nothing
    until("three deliveries on the timeline", || async {
        let t = store.timeline(id).await.unwrap();
        t.iter().filter(|e| e.kind() == "message_delivered").count() == 3
    })
    .await;
    let timeline = store.timeline(id).await.unwrap();
    let at = |kind: &str| {
        let e = timeline.iter().find(|e| e.kind() == kind).unwrap();
        e.at.parse::<jiff::Timestamp>().unwrap().as_millisecond()
    };
    // reported, not asserted (speed is measured by benchmarks)
    eprintln!(
        "opened → owners asked: {} ms; opened → on-call paged: {} ms",
        at("asked") - at("incident_opened"),
        at("paged") - at("incident_opened")
    );
    let before = timeline.len();
    mine_and_process(&w, &mut d, 60).await;
    let after = store.timeline(id).await.unwrap();
    assert_eq!(
        after.len(),
        before,
        "entries written while waiting: {:?}",
        after[before..].iter().map(|e| (e.kind(), &e.body)).collect::<Vec<_>>()
    );

    // the owners sign (as `firebreak safe sign` records it): the pause lands
    for (member, dev) in [("bob", 3), ("carol", 4)] {
        let key = firebreak_plan::anvil_dev_key(dev).unwrap();
        let sig = alloy::signers::SignerSync::sign_hash_sync(&key, &hash).unwrap();
        let s = SafeSignature {
            safe_tx_hash: hash,
            signer: key.address(),
            signature: sig.as_bytes().to_vec().into(),
            source: format!("member:{member}"),
        };
        store.add_signature(s, Some((id, Actor::Member(member.into())))).await.unwrap();
    }
    let (_, block) = pause_block(&w, &store).await;
    assert!(block > n + 60, "the pause is in block {block}");
    mine_and_process(&w, &mut d, 3).await;
    until("contained", || async {
        store.incident(id).await.unwrap().is_some_and(|i| i.status == IncidentStatus::Contained)
    })
    .await;
    d.stop().await;
}

/// One pause step with `via` a Safe pausing two contracts whose own first
/// path is the guardian: the guardian is never tried, and both contracts
/// are paused by one `execTransaction` through MultiSendCallOnly, mined in
/// the block after the exploit.
#[tokio::test]
async fn anvil_a_pause_step_through_a_safe_pauses_two_contracts_in_one_transaction() {
    let w = world(Pauser::Safe).await;
    let both = r#"[{ signer = "guardian" }, { safe = "emergency" }]"#;
    let (second, vault2) = second_vault(&w, both).await;
    let hook = sink::start().await;
    let steps =
        r#"[{ kind = "pause", contracts = ["vault", "vault2"], via = [{ safe = "emergency" }] }]"#;
    let (_secrets, mut text) = plan_with_steps(&w, both, &["owner-a", "owner-b"], steps, &hook.url);
    text.push_str(&vault2);
    let plan = load(&text);
    let (_dir, store) = store().await;
    let from = w.chain.block_number().await.unwrap() + 1;
    let d = start(plan, store.clone(), from);
    let n = exploit(&w).await;
    let (id, pause) = pause_block(&w, &store).await;
    d.stop().await;
    assert_eq!(pause, n + 1);
    let other = LendingVault::new(second.vault, w.chain.provider());
    assert!(other.paused().call().await.unwrap(), "the second vault is paused too");
    let actions = store.actions(id).await.unwrap();
    assert_eq!(actions.len(), 1, "one Safe transaction for both, no guardian: {actions:?}");
    assert!(actions[0].key.to_string().ends_with("/vault,vault2"), "{}", actions[0].key);
    assert_eq!(actions[0].to, w.safe);
    let tx = actions[0].safe_tx.as_ref().unwrap();
    assert_eq!(tx["operation"], "delegate_call");
    assert_eq!(
        tx["to"].as_str().unwrap().to_lowercase(),
        w.infra.multisend.to_string().to_lowercase()
    );
    let timeline = store.timeline(id).await.unwrap();
    assert!(!timeline.iter().any(|e| e.kind() == "simulation_reverted"), "the guardian was tried");
}

/// An alert-only monitor (no playbook; `notify` names its channels) fires
/// and tells its channel, and opens no incident: nothing is paused and the
/// store holds no incident.
#[tokio::test]
async fn anvil_an_alert_only_monitor_notifies_and_opens_no_incident() {
    let w = world(Pauser::Guardian).await;
    let hook = sink::start().await;
    let (_secrets, mut text) = plan_with_steps(
        &w,
        r#"[{ signer = "guardian" }]"#,
        &[],
        r#"[{ kind = "pause", contracts = ["vault"] }]"#,
        &hook.url,
    );
    let incident_monitor = "rule = 'event vault.PriceUpdated'\nplaybook = \"contain\"";
    assert!(text.contains(incident_monitor), "the fixture plan changed");
    text = text.replace(incident_monitor, "rule = 'event vault.PriceUpdated'\nnotify = [\"hook\"]");
    let plan = load(&text);
    assert_eq!(plan.monitors["price"].playbook, None);
    let (_dir, store) = store().await;
    let from = w.chain.block_number().await.unwrap() + 1;
    let mut d = start(plan, store.clone(), from);
    let n = exploit(&w).await;
    until("the alert on the channel", || async { delivered(&hook, "alert").len() == 1 }).await;
    let alert = hook.seen().iter().map(sink::Seen::json).find(|m| m["event"] == "alert").unwrap();
    assert_eq!(alert["incident"], serde_json::Value::Null);
    assert!(alert["title"].as_str().unwrap().contains("price"), "{alert}");
    // a few more blocks: still no incident, nothing paused, no second message
    mine_and_process(&w, &mut d, 3).await;
    assert!(store.incidents(&IncidentFilter::default()).await.unwrap().is_empty());
    assert!(!w.paused().await.unwrap());
    assert_eq!(delivered(&hook, "alert").len(), 1);
    assert!(w.chain.block_number().await.unwrap() > n);
    d.stop().await;
}
