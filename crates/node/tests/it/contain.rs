//! Containment end to end on a real anvil mining every second: the daemon
//! (watchers, incidents, executor) runs in-process against the vault fixture
//! and a real SafeL2 2-of-3, with a SQLite store in a temp dir.

use std::{sync::Arc, time::Duration};

use alloy::providers::Provider as _;

use firebreak_node::{DaemonEvent, DaemonOptions, WatchOptions, run_daemon};
use firebreak_primitives::{IncidentId, IncidentStatus, StepStatus};
use firebreak_store::prelude::*;
use firebreak_store::{ActionStatus, IncidentFilter, SqliteStore, verify_chain};
use firebreak_test_utils::{Pauser, World, repo_root};
use tokio::sync::{mpsc, oneshot};

pub(crate) fn load(text: &str) -> Arc<firebreak_plan::Plan> {
    let checked = firebreak_detect::check_source(
        "drill.toml",
        text,
        &repo_root(),
        &firebreak_plan::CheckOptions::default(),
    );
    assert_eq!(checked.report.errors(), 0, "{}", checked.report.render());
    Arc::new(checked.plan.unwrap())
}

/// A daemon running in the background of the test's own future.
pub(crate) struct Running {
    pub events: mpsc::UnboundedReceiver<DaemonEvent>,
    stop: Option<oneshot::Sender<()>>,
    task: tokio::task::JoinHandle<()>,
}

impl Running {
    pub(crate) async fn stop(mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
        tokio::time::timeout(Duration::from_secs(10), self.task).await.unwrap().unwrap();
    }
}

pub(crate) fn start(
    plan: Arc<firebreak_plan::Plan>,
    store: Arc<SqliteStore>,
    from: u64,
) -> Running {
    start_with(plan, store, from, |o| o)
}

#[allow(clippy::disallowed_methods, clippy::print_stderr)] // the test owns this task and joins it in `stop`
pub(crate) fn start_with<S: firebreak_node::DaemonStore>(
    plan: Arc<firebreak_plan::Plan>,
    store: Arc<S>,
    from: u64,
    configure: impl FnOnce(DaemonOptions) -> DaemonOptions,
) -> Running {
    let (tx, mut events) = mpsc::unbounded_channel::<DaemonEvent>();
    let (forward, forwarded) = mpsc::unbounded_channel::<DaemonEvent>();
    let (stop, stopped) = oneshot::channel::<()>();
    let opts = DaemonOptions {
        watch: WatchOptions {
            start: Some(from),
            poll_interval: Duration::from_millis(100),
            ..WatchOptions::default()
        },
        tick: Duration::from_millis(100),
        ..DaemonOptions::default()
    };
    let opts = configure(opts);
    let task = tokio::spawn(async move {
        let mut emit = move |e: DaemonEvent| {
            let _ = tx.send(e);
        };
        let daemon = run_daemon(plan, store, opts, &mut emit, async move {
            let _ = stopped.await;
        });
        // failed rounds are printed so that a failing test shows why
        let log = async {
            while let Some(e) = events.recv().await {
                if let DaemonEvent::Error { error } = &e {
                    eprintln!("daemon: {error}");
                }
                let _ = forward.send(e);
            }
        };
        tokio::select! {
            r = daemon => r.unwrap(),
            () = log => {}
        }
    });
    Running { events: forwarded, stop: Some(stop), task }
}

/// The protocol on an anvil that mines only when the test says so.
pub(crate) async fn world(pauser: Pauser) -> World {
    World::manual(pauser).await.unwrap()
}

pub(crate) async fn exploit(w: &World) -> u64 {
    w.exploit().await.unwrap()
}

pub(crate) async fn paused(w: &World) -> bool {
    w.paused().await.unwrap()
}

/// Waits until the vault is paused (on a manual chain: until a transaction
/// is in the pool, then mines the block after the head); returns the block
/// of the pause.
pub(crate) async fn pause_block(w: &World, store: &SqliteStore) -> (IncidentId, u64) {
    pause_block_in(w, store).await
}

/// [`pause_block`] on any store.
pub(crate) async fn pause_block_in(
    w: &World,
    store: &dyn firebreak_store::IncidentStore,
) -> (IncidentId, u64) {
    if w.manual {
        w.mine_when_pending(Duration::from_secs(30)).await.unwrap();
    }
    for _ in 0..200 {
        if paused(w).await {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(paused(w).await, "the vault was not paused within 20 s");
    // the receipt lands in the store on the next round
    for _ in 0..100 {
        // the incident whose pause was mined (a readiness incident may open
        // beside it: a spent pre-signature, for one)
        let list = store.incidents(&IncidentFilter::default()).await.unwrap();
        for i in &list {
            let mined = store
                .actions(i.id)
                .await
                .unwrap()
                .into_iter()
                .find(|a| a.status == ActionStatus::Mined);
            if let Some(a) = mined {
                return (i.id, a.receipt.unwrap()["block_number"].as_u64().unwrap());
            }
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the vault is paused but no mined action was recorded");
}

/// Waits (up to 15 s) until `n` incidents are contained.
pub(crate) async fn wait_contained(store: &SqliteStore, n: usize) {
    wait_contained_in(store, n).await;
}

/// [`wait_contained`] on any store.
pub(crate) async fn wait_contained_in(store: &dyn firebreak_store::IncidentStore, n: usize) {
    for _ in 0..300 {
        let list = store.incidents(&IncidentFilter::default()).await.unwrap();
        if list.iter().filter(|i| i.status == IncidentStatus::Contained).count() == n {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let list = store.incidents(&IncidentFilter::default()).await.unwrap();
    panic!("not {n} contained incidents: {list:?}");
}

/// A second vault paused by the world's Safe (deployed with automine on,
/// then back to mining on demand), and its `[contracts.vault2]` table with
/// `via` (a TOML array of authorities) as its pause path.
pub(crate) async fn second_vault(
    w: &World,
    via: &str,
) -> (firebreak_test_utils::DeployedVault, String) {
    let p = w.chain.provider();
    let _: serde_json::Value = p.raw_request("evm_setAutomine".into(), (true,)).await.unwrap();
    let second =
        firebreak_test_utils::deploy_vault(&w.chain, w.chain.dev_address(0), w.safe).await.unwrap();
    let _: serde_json::Value = p.raw_request("evm_setAutomine".into(), (false,)).await.unwrap();
    let table = format!(
        "[contracts.vault2]\nchain = \"local\"\naddress = \"{}\"\nabi = {{ artifact = \"{}/crates/devnet/fixtures/LendingVault.json\" }}\npause = {{ method = \"pause\", via = {via} }}\n",
        second.vault,
        repo_root().display()
    );
    (second, table)
}

pub(crate) async fn store() -> (tempfile::TempDir, Arc<SqliteStore>) {
    let dir = tempfile::tempdir().unwrap();
    let s = SqliteStore::open(&dir.path().join("firebreak.db")).await.unwrap();
    (dir, Arc::new(s))
}

async fn kinds(store: &SqliteStore, id: IncidentId) -> Vec<String> {
    store.timeline(id).await.unwrap().into_iter().map(|e| e.kind().to_owned()).collect()
}

#[tokio::test]
async fn anvil_guardian_pause_is_mined_in_the_block_after_the_exploit() {
    let w = world(Pauser::Guardian).await;
    let plan = load(&w.plan_text(r#"[{ signer = "guardian" }]"#, &[]));
    let (_dir, store) = store().await;
    let from = w.chain.block_number().await.unwrap() + 1;
    let d = start(plan, store.clone(), from);
    tokio::time::sleep(Duration::from_millis(500)).await;
    let n = exploit(&w).await;
    let (id, pause) = pause_block(&w, &store).await;
    assert_eq!(pause, n + 1, "exploit in block {n}, pause in block {pause}");
    // the receipt and the contained status are written one after the other
    wait_contained(&store, 1).await;
    d.stop().await;

    let incident = store.incident(id).await.unwrap().unwrap();
    assert_eq!(incident.status, IncidentStatus::Contained);
    assert_eq!(incident.severity.to_string(), "P1");
    let alerts = store.incident_alerts(id).await.unwrap();
    assert_eq!(alerts[0].block_number, n);
    let steps = store.steps(id).await.unwrap();
    assert_eq!(steps[0].status, StepStatus::Succeeded, "{steps:?}");
    let actions = store.actions(id).await.unwrap();
    assert_eq!(actions.len(), 1);
    assert_eq!(actions[0].from, w.chain.dev_address(1));
    assert_eq!(actions[0].attempts.len(), 1);
    let k = kinds(&store, id).await;
    for kind in [
        "incident_opened",
        "step",
        "action_planned",
        "tx_signed",
        "tx_broadcast",
        "tx_mined",
        "status",
    ] {
        assert!(k.iter().any(|x| x == kind), "no `{kind}` in {k:?}");
    }
    verify_chain(&store.timeline(id).await.unwrap()).unwrap();
}

#[tokio::test]
async fn anvil_safe_pause_with_two_hot_signers_is_mined_in_the_next_block() {
    let w = world(Pauser::Safe).await;
    let plan = load(&w.plan_text(r#"[{ safe = "emergency" }]"#, &["owner-a", "owner-b"]));
    let (_dir, store) = store().await;
    let from = w.chain.block_number().await.unwrap() + 1;
    let d = start(plan, store.clone(), from);
    tokio::time::sleep(Duration::from_millis(500)).await;
    let n = exploit(&w).await;
    let (id, pause) = pause_block(&w, &store).await;
    assert_eq!(pause, n + 1, "exploit in block {n}, Safe pause in block {pause}");
    d.stop().await;
    let actions = store.actions(id).await.unwrap();
    assert_eq!(actions.len(), 1);
    let a = &actions[0];
    assert_eq!((a.to, a.from), (w.safe, w.chain.dev_address(6)));
    let sigs = store.signatures(a.safe_tx_hash.unwrap()).await.unwrap();
    assert_eq!(sigs.len(), 2);
    let k = kinds(&store, id).await;
    for kind in ["safe_tx_built", "safe_signature", "safe_threshold_met", "tx_mined"] {
        assert!(k.iter().any(|x| x == kind), "no `{kind}` in {k:?}");
    }
    verify_chain(&store.timeline(id).await.unwrap()).unwrap();
}

#[tokio::test]
async fn anvil_one_hot_signer_waits_until_a_second_owner_signs() {
    let w = world(Pauser::Safe).await;
    let plan = load(&w.plan_text(r#"[{ safe = "emergency" }]"#, &["owner-a"]));
    let (_dir, store) = store().await;
    let from = w.chain.block_number().await.unwrap() + 1;
    let d = start(plan.clone(), store.clone(), from);
    tokio::time::sleep(Duration::from_millis(500)).await;
    exploit(&w).await;
    // the step waits for a second signature
    let mut waiting = None;
    for _ in 0..100 {
        if let Some(i) = store.incidents(&IncidentFilter::default()).await.unwrap().first() {
            let steps = store.steps(i.id).await.unwrap();
            if steps.first().is_some_and(|s| s.status == StepStatus::AwaitingApproval) {
                waiting = Some((i.id, steps[0].detail.clone().unwrap()));
                break;
            }
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let (id, detail) = waiting.expect("the step never waited for signatures");
    assert!(
        detail.contains("1 of 2 signatures") && detail.contains("firebreak safe sign"),
        "{detail}"
    );
    w.mine().await.unwrap();
    assert!(!paused(&w).await, "one signature must not pause a 2-of-3 Safe");

    // a second owner (dev account 5, not held by the daemon) signs
    let action = store.actions(id).await.unwrap().remove(0);
    let link = firebreak_respond::ChainLink::from_urls(
        "local",
        w.chain.chain_id(),
        vec![("anvil".into(), w.chain.http_url())],
    )
    .await
    .unwrap();
    // a stranger is refused
    let stranger = firebreak_plan::anvil_dev_key(8).unwrap();
    let refused = firebreak_respond::submit_signature(
        &*store,
        &link,
        &action,
        &stranger,
        firebreak_primitives::Actor::Member("eve".into()),
    )
    .await
    .unwrap_err();
    assert!(refused.to_string().contains("is not an owner"), "{refused}");
    let owner = firebreak_plan::anvil_dev_key(5).unwrap();
    let s = firebreak_respond::submit_signature(
        &*store,
        &link,
        &action,
        &owner,
        firebreak_primitives::Actor::Member("carol".into()),
    )
    .await
    .unwrap();
    assert_eq!((s.have, s.threshold, s.new), (2, 2, true));
    let (id2, _) = pause_block(&w, &store).await;
    assert_eq!(id, id2);
    d.stop().await;
    verify_chain(&store.timeline(id).await.unwrap()).unwrap();
}

#[tokio::test]
async fn anvil_guardian_without_the_role_falls_back_to_the_safe() {
    let w = world(Pauser::Safe).await;
    let via = r#"[{ signer = "guardian" }, { safe = "emergency" }]"#;
    let plan = load(&w.plan_text(via, &["owner-a", "owner-b"]));
    let (_dir, store) = store().await;
    let from = w.chain.block_number().await.unwrap() + 1;
    let d = start(plan, store.clone(), from);
    tokio::time::sleep(Duration::from_millis(500)).await;
    let n = exploit(&w).await;
    let (id, pause) = pause_block(&w, &store).await;
    d.stop().await;
    assert_eq!(pause, n + 1, "exploit {n}, pause {pause}");
    let timeline = store.timeline(id).await.unwrap();
    let revert = timeline.iter().find(|e| e.kind() == "simulation_reverted").expect("no revert");
    let reason = revert.body["reason"].as_str().unwrap();
    assert!(
        reason.starts_with("AccessControlUnauthorizedAccount(")
            && reason.contains(&w.chain.dev_address(1).to_string()),
        "{reason}"
    );
    let actions = store.actions(id).await.unwrap();
    assert_eq!(actions.len(), 2);
    assert_eq!(actions[0].status, ActionStatus::Failed);
    assert_eq!(actions[1].status, ActionStatus::Mined);
    assert_eq!(actions[1].to, w.safe);
    verify_chain(&timeline).unwrap();
}

#[tokio::test]
async fn anvil_two_contracts_pause_in_one_safe_transaction_through_multisend() {
    let w = world(Pauser::Safe).await;
    let via = r#"[{ safe = "emergency" }]"#;
    let (second, vault2) = second_vault(&w, via).await;
    let mut text = w.plan_text(via, &["owner-a", "owner-b"]);
    let steps = r#"steps = [{ kind = "pause", contracts = ["vault"] }]"#;
    assert!(text.contains(steps));
    text = text.replace(steps, r#"steps = [{ kind = "pause", contracts = ["vault2", "vault"] }]"#);
    text.push_str(&vault2);
    let plan = load(&text);
    let (_dir, store) = store().await;
    let from = w.chain.block_number().await.unwrap() + 1;
    let d = start(plan, store.clone(), from);
    tokio::time::sleep(Duration::from_millis(500)).await;
    let n = exploit(&w).await;
    let (id, pause) = pause_block(&w, &store).await;
    d.stop().await;
    assert_eq!(pause, n + 1);
    let other = firebreak_test_utils::LendingVault::new(second.vault, w.chain.provider());
    assert!(other.paused().call().await.unwrap(), "the second vault is paused too");
    let actions = store.actions(id).await.unwrap();
    assert_eq!(actions.len(), 1, "one Safe transaction for both");
    assert!(actions[0].key.to_string().ends_with("/vault,vault2"), "{}", actions[0].key);
    let tx = actions[0].safe_tx.as_ref().unwrap();
    assert_eq!(tx["operation"], "delegate_call");
    assert_eq!(
        tx["to"].as_str().unwrap().to_lowercase(),
        w.infra.multisend.to_string().to_lowercase()
    );
}

#[tokio::test]
async fn anvil_presigned_pause_needs_no_one_awake_and_a_moved_nonce_raises_readiness() {
    let w = world(Pauser::Safe).await;
    let text = w.plan_text(r#"[{ safe = "emergency" }]"#, &[]);
    let plan = load(&text);
    let (_dir, store) = store().await;
    let link = firebreak_respond::ChainLink::from_urls(
        "local",
        w.chain.chain_id(),
        vec![("anvil".into(), w.chain.http_url())],
    )
    .await
    .unwrap();
    let (a, b) =
        (firebreak_plan::anvil_dev_key(3).unwrap(), firebreak_plan::anvil_dev_key(4).unwrap());
    let keys = [("a".to_owned(), &a), ("b".to_owned(), &b)];
    let out = firebreak_respond::presign(&plan, &link, &*store, "emergency", &keys).await.unwrap();
    assert_eq!((out.nonce, out.have, out.threshold), (0, 2, 2));
    assert_eq!(out.contracts, ["vault"]);

    let from = w.chain.block_number().await.unwrap() + 1;
    let mut d = start(plan, store.clone(), from);
    tokio::time::sleep(Duration::from_millis(500)).await;
    let mut readiness_before_exploit = None;
    while let Ok(e) = d.events.try_recv() {
        if let DaemonEvent::Readiness { message } = e {
            readiness_before_exploit = Some(message);
        }
    }
    let n = exploit(&w).await;
    let (id, pause) = pause_block(&w, &store).await;
    assert_eq!(pause, n + 1, "the pre-signed pause lands in the next block");
    let sigs = store.signatures(store.actions(id).await.unwrap()[0].safe_tx_hash.unwrap()).await;
    assert!(sigs.unwrap().iter().all(|s| s.source.starts_with("presigned:")));
    d.stop().await;
    assert!(
        readiness_before_exploit.is_none(),
        "no readiness warning while the pre-signature was valid: {readiness_before_exploit:?}"
    );
    // the Safe's nonce is now 1: the pre-signed batch at 0 is spent
    let d = start(load(&text), store.clone(), w.chain.block_number().await.unwrap() + 1);
    let mut d = d;
    let message = tokio::time::timeout(Duration::from_secs(10), async {
        loop {
            if let Some(DaemonEvent::Readiness { message }) = d.events.recv().await {
                return message;
            }
        }
    })
    .await
    .expect("no readiness alert");
    assert!(message.contains("pre-signed pause invalidated — re-sign"), "{message}");
    assert!(message.contains("nonce 1") && message.contains("nonce 0"), "{message}");
    // with no hot signer the spent pre-signature was the path: not ready,
    // and the P1 readiness incident says so (and pages)
    assert!(message.contains("NOT READY") && message.contains("cannot land"), "{message}");
    let mut raised = false;
    for _ in 0..300 {
        let list = store.incidents(&IncidentFilter::default()).await.unwrap();
        if list.iter().any(|i| i.playbook == firebreak_respond::READINESS_MONITOR) {
            raised = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(raised, "no readiness incident");
    d.stop().await;
}

#[tokio::test]
async fn anvil_a_hanging_chat_service_does_not_delay_the_pause() {
    use firebreak_test_utils::sink::{self, Answer};
    let w = world(Pauser::Guardian).await;
    let slow = sink::start().await;
    slow.otherwise(Some(Answer::Hang(Duration::from_secs(30))));
    let fast = sink::start().await;
    let mut text = w.plan_text(r#"[{ signer = "guardian" }]"#, &[]);
    let steps = r#"steps = [{ kind = "pause", contracts = ["vault"] }]"#;
    assert!(text.contains(steps));
    // the messages go out before the pause, to a service that hangs for 30 s
    text = text.replace(
        steps,
        r#"steps = [{ kind = "notify", channels = ["slow", "siem"], message = "{{ protocol }}: {{ monitor }} at block {{ block }}" }, { kind = "pause", contracts = ["vault"] }]"#,
    );
    let secrets = tempfile::tempdir().unwrap();
    let secret = secrets.path().join("whsec");
    std::fs::write(&secret, "whsec").unwrap();
    text.push_str(&format!(
        "[channels.slow]\nkind = \"webhook\"\nurl = \"{}/hook\"\ntimeout = \"40s\"\nsigning_secret = {{ file = \"{s}\" }}\n[channels.siem]\nkind = \"webhook\"\nurl = \"{}/hook\"\nsigning_secret = {{ file = \"{s}\" }}\n",
        slow.url,
        fast.url,
        s = secret.display()
    ));
    let plan = load(&text);
    let (_dir, store) = store().await;
    let from = w.chain.block_number().await.unwrap() + 1;
    let d = start(plan, store.clone(), from);
    tokio::time::sleep(Duration::from_millis(500)).await;
    let n = exploit(&w).await;
    let (id, pause) = pause_block(&w, &store).await;
    assert_eq!(pause, n + 1, "the hanging service did not delay the pause");
    // the healthy service got its message meanwhile
    for _ in 0..50 {
        if !fast.seen().is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let got = fast.seen();
    assert_eq!(got.len(), 1);
    let body = got[0].json();
    assert_eq!(body["text"], format!("Fixture: price at block {n}"));
    assert_eq!((body["incident"].as_u64(), body["drill"].as_bool()), (Some(id.0), Some(true)));
    assert_eq!(got[0].header("idempotency-key"), format!("{id}/notify-1/siem"));
    tokio::time::sleep(Duration::from_millis(300)).await;
    let kinds: Vec<String> =
        store.timeline(id).await.unwrap().into_iter().map(|e| e.kind().to_owned()).collect();
    assert!(kinds.iter().any(|k| k == "message_delivered"), "{kinds:?}");
    d.stop().await;
}

#[tokio::test]
async fn anvil_a_page_carries_a_signed_link_that_acknowledges_the_incident() {
    use firebreak_test_utils::sink;
    let w = world(Pauser::Guardian).await;
    let hook = sink::start().await;
    let mut text = w.plan_text(r#"[{ signer = "guardian" }]"#, &[]);
    let steps = r#"steps = [{ kind = "pause", contracts = ["vault"] }]"#;
    text = text.replace(steps, r#"steps = [{ id = "page", kind = "page", targets = ["alice"] }, { kind = "pause", contracts = ["vault"] }]"#);
    let (_secrets, alice) = alice_on_webhook(&hook.url);
    text.push_str(&alice);
    let plan = load(&text);
    let (_dir, store) = store().await;
    let from = w.chain.block_number().await.unwrap() + 1;
    let d = start_with(plan, store.clone(), from, |o| DaemonOptions {
        listen: Some("127.0.0.1:0".parse().unwrap()),
        ..o
    });
    tokio::time::sleep(Duration::from_millis(500)).await;
    exploit(&w).await;
    let (id, _) = pause_block(&w, &store).await;
    let mut link = None;
    for _ in 0..50 {
        if let Some(r) = hook.seen().first() {
            let text = r.json()["text"].as_str().unwrap().to_owned();
            link = text
                .split_whitespace()
                .find(|t| t.starts_with("http://127.0.0.1:"))
                .map(str::to_owned);
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let link = link.expect("the page carries a link");
    assert!(link.contains(&format!("/ack/{id}.alice.")), "{link}");
    let http = reqwest::Client::new();
    let forged = link.replace(".alice.", ".mallory.");
    let refused = http.get(&forged).send().await.unwrap();
    assert_eq!(refused.status().as_u16(), 403);
    // a mail scanner or a chat preview fetching the link changes nothing
    let head = http.head(&link).send().await.unwrap();
    assert_eq!(head.status().as_u16(), 200);
    let shown = http.get(&link).send().await.unwrap();
    assert_eq!(shown.status().as_u16(), 200);
    let form = shown.text().await.unwrap();
    assert!(
        form.contains("<form method=\"post\"") && form.contains("Acknowledge as alice"),
        "{form}"
    );
    let step = store.steps(id).await.unwrap().remove(0);
    assert_ne!(step.status, StepStatus::Succeeded, "a GET or HEAD acknowledged: {step:?}");
    let timeline = store.timeline(id).await.unwrap();
    assert!(
        !timeline.iter().any(|e| e.kind() == "acknowledged"),
        "{:?}",
        timeline.iter().map(|e| e.kind()).collect::<Vec<_>>()
    );
    // the person presses the button
    let ok = http.post(&link).send().await.unwrap();
    assert_eq!(ok.status().as_u16(), 200);
    assert!(ok.text().await.unwrap().contains("acknowledged by alice"));
    for _ in 0..50 {
        let step = store.steps(id).await.unwrap().remove(0);
        if step.status == StepStatus::Succeeded {
            assert!(step.detail.unwrap().starts_with("acknowledged by alice"));
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(store.steps(id).await.unwrap()[0].status, StepStatus::Succeeded);
    let again = http.post(&link).send().await.unwrap().text().await.unwrap();
    assert!(again.contains("already acknowledged by alice"), "{again}");
    d.stop().await;
}

#[tokio::test]
async fn anvil_acknowledging_in_pagerduty_acknowledges_here() {
    use hmac::Mac as _;
    let w = world(Pauser::Guardian).await;
    let mut text = w.plan_text(r#"[{ signer = "guardian" }]"#, &[]);
    let steps = r#"steps = [{ kind = "pause", contracts = ["vault"] }]"#;
    text = text.replace(steps, r#"steps = [{ id = "page", kind = "page", targets = ["alice"] }, { kind = "pause", contracts = ["vault"] }]"#);
    text.push_str("[team.alice]\nname = \"Alice\"\nroles = [\"commander\"]\ntimezone = \"UTC\"\n");
    let plan = load(&text);
    let (_dir, store) = store().await;
    // a free loopback port for the daemon's listener
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let from = w.chain.block_number().await.unwrap() + 1;
    let d = start_with(plan, store.clone(), from, |o| DaemonOptions {
        listen: Some(format!("127.0.0.1:{port}").parse().unwrap()),
        pagerduty_webhook_secret: Some("pd-secret".to_owned().into()),
        ..o
    });
    tokio::time::sleep(Duration::from_millis(500)).await;
    exploit(&w).await;
    let (id, _) = pause_block(&w, &store).await;
    let payload = serde_json::json!({"event": {
        "id": "01ABC", "event_type": "incident.acknowledged", "resource_type": "incident",
        "agent": {"summary": "Alice Okafor", "type": "user_reference"},
        "data": {"id": "Q1", "type": "incident", "status": "acknowledged", "incident_key": format!("firebreak-incident-{id}")},
    }})
    .to_string();
    let sign = |secret: &[u8]| {
        let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(secret).unwrap();
        mac.update(payload.as_bytes());
        format!("v1={}", alloy::primitives::hex::encode(mac.finalize().into_bytes()))
    };
    let url = format!("http://127.0.0.1:{port}/hooks/pagerduty");
    let http = reqwest::Client::new();
    let forged = http
        .post(&url)
        .header("x-pagerduty-signature", sign(b"wrong"))
        .body(payload.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status().as_u16(), 401);
    let ok = http
        .post(&url)
        .header("x-pagerduty-signature", format!("v1=00, {}", sign(b"pd-secret")))
        .body(payload.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(ok.status().as_u16(), 200);
    assert!(ok.text().await.unwrap().contains("acknowledged by Alice Okafor"));
    for _ in 0..50 {
        if store.steps(id).await.unwrap()[0].status == StepStatus::Succeeded {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(store.steps(id).await.unwrap()[0].status, StepStatus::Succeeded);
    let ack =
        store.timeline(id).await.unwrap().into_iter().find(|e| e.kind() == "acknowledged").unwrap();
    assert_eq!(ack.actor, firebreak_primitives::Actor::External("pagerduty:Alice Okafor".into()));
    assert_eq!(
        store.incident(id).await.unwrap().unwrap().status,
        IncidentStatus::Contained,
        "already past acknowledged"
    );
    d.stop().await;
}

/// `[team.alice]`, reached on `[channels.hook]`: a signed webhook to
/// `URL/page` (the secret in a temp dir, kept alive by the caller).
pub(crate) fn alice_on_webhook(url: &str) -> (tempfile::TempDir, String) {
    let secrets = tempfile::tempdir().unwrap();
    let secret = secrets.path().join("whsec");
    std::fs::write(&secret, "whsec").unwrap();
    let text = format!(
        "[team.alice]\nname = \"Alice\"\nroles = [\"commander\"]\ntimezone = \"UTC\"\ncontacts = {{ hook = \"@alice\" }}\n[channels.hook]\nkind = \"webhook\"\nurl = \"{url}/page\"\nsigning_secret = {{ file = \"{}\" }}\n",
        secret.display()
    );
    (secrets, text)
}
