//! Pre-emption against a real anvil whose blocks the test mines: the
//! attacker's one-transaction drain waits in the pool, the daemon simulates
//! it, and its pause, outbidding the drain, is mined ahead of it in the same
//! block; the drain reverts and the vault keeps its funds.

use std::time::Duration;

use alloy::{
    primitives::{Address, U256},
    providers::Provider as _,
};
use firebreak_node::{DaemonEvent, WatchEvent};
use firebreak_store::prelude::*;
use firebreak_test_utils::{Drainer, IERC20, Pauser, World, deploy_drainer};

use crate::contain::{load, start, store, world};

/// The fixture plan with a public mempool and a pre-emptive price monitor.
pub(crate) fn pre_empt_plan(w: &World) -> String {
    let text = w.plan_text(r#"[{ signer = "guardian" }]"#, &[]);
    let text = text.replacen("confirmations = 1\n", "confirmations = 1\nmempool = \"public\"\n", 1);
    let every = "rule = 'event vault.PriceUpdated'";
    assert!(text.contains(every), "the fixture plan changed");
    text.replace(
        every,
        "rule = 'event vault.PriceUpdated where abs(pct_change(newPrice, oldPrice)) > 20%'\npre_empt = true",
    )
}

/// `text` (a pre-emption plan) with `builders = [entry]` on its chain.
fn with_builders(text: &str, entry: &str) -> String {
    let public = "mempool = \"public\"\n";
    assert!(text.contains(public), "not a pre-emption plan");
    text.replacen(public, &format!("{public}builders = [{entry}]\n"), 1)
}

/// The attacker (dev 7) deploys its contract, mined on demand.
pub(crate) async fn drainer(w: &World) -> Address {
    let (drainer, mined) = tokio::join!(
        deploy_drainer(&w.chain, w.chain.dev_address(7)),
        w.mine_when_pending(Duration::from_secs(10))
    );
    mined.unwrap();
    drainer.unwrap()
}

/// Waits until the daemon has processed a block and reads the pool.
async fn running(d: &mut crate::contain::Running) {
    let (mut block, mut intake) = (false, false);
    while !(block && intake) {
        match d.events.recv().await.unwrap() {
            DaemonEvent::Watch { event: WatchEvent::Processed { .. } } => block = true,
            DaemonEvent::Watch { event: WatchEvent::PendingIntake { .. } } => intake = true,
            _ => {}
        }
    }
}

/// Waits (polling) until the pool holds `n` transactions.
async fn pool_holds(w: &World, n: u64) {
    for _ in 0..300 {
        if w.pending().await.unwrap() >= n {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let content: serde_json::Value =
        w.chain.provider().raw_request("txpool_content".into(), ()).await.unwrap();
    panic!("the pool never held {n} transactions: {content:#}");
}

#[tokio::test]
async fn anvil_a_pending_drain_is_pre_empted_by_a_pause_mined_ahead_of_it_in_the_same_block() {
    let w = world(Pauser::Guardian).await;
    let text = pre_empt_plan(&w);
    let _ = pre_empted(&w, &text, "price").await;
}

#[tokio::test]
async fn anvil_over_http_the_nodes_pending_filter_is_polled_and_the_drain_pre_empted() {
    let w = world(Pauser::Guardian).await;
    let text = pre_empt_plan(&w);
    let rpc = text.lines().find(|l| l.starts_with("rpc = [")).unwrap().to_owned();
    let text = text.replace(&rpc, &format!("rpc = [\"{}\"]", w.chain.http_url()));
    let _ = pre_empted(&w, &text, "price").await;
}

#[tokio::test]
async fn anvil_a_probe_read_on_the_state_a_pending_drain_leaves_pre_empts_it() {
    let w = world(Pauser::Guardian).await;
    // the price monitor fires on inclusion only; the vault's balance, read
    // on the simulated state, is what pre-empts
    let mut text = pre_empt_plan(&w).replace("pre_empt = true", "pre_empt = false");
    text.push_str(&firebreak_test_utils::fixture_monitor(
        "vault-drained",
        "P1",
        "block where balance(usdc, vault) < 70% * prev(balance(usdc, vault))",
        "pre_empt = true",
    ));
    let _ = pre_empted(&w, &text, "vault-drained").await;
}

#[tokio::test]
async fn anvil_a_pre_emptive_pause_also_goes_to_a_builder_as_a_bundle_ahead_of_the_attack() {
    let w = world(Pauser::Guardian).await;
    let builder = firebreak_test_utils::builder::start().await;
    let text = with_builders(&pre_empt_plan(&w), &format!("\"{}\"", builder.url));
    let (drain, block) = pre_empted(&w, &text, "price").await;
    assert!(builder.refused().is_empty(), "{:?}", builder.refused());
    let bundles = builder.accepted();
    assert!(!bundles.is_empty(), "the builder got the bundle");
    let b = &bundles[0];
    assert_eq!(b.txs.len(), 2, "[pause, attack]");
    assert_eq!(b.senders[0], w.chain.dev_address(1), "the pause, from the guardian, first");
    assert_eq!(*b.txs[1].tx_hash(), drain, "then the attack");
    assert_eq!(b.senders[1], w.chain.dev_address(7));
    assert_eq!(b.reverting, vec![drain], "the attack may revert");
    assert_eq!(b.block, block, "for the block the attack was headed for");
}

/// Where the attacker's contract is when the drain is sent.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Contract {
    /// Deployed and mined before.
    Mined,
    /// Its deployment waits in the pool, ahead of the drain (same sender,
    /// the nonce before).
    Pending,
    /// As `Pending`, but the drain is sent first (with the next nonce but
    /// one) and the deployment after it.
    PendingSentLater,
}

/// What [`pre_empted_with`] saw.
struct PreEmpted {
    drain: alloy::primitives::B256,
    /// The contract's deployment, when it was pending too.
    deploy: Option<alloy::primitives::B256>,
    block: u64,
    /// The incident's record.
    store: std::sync::Arc<firebreak_store::SqliteStore>,
    incident: firebreak_primitives::IncidentId,
    _dir: tempfile::TempDir,
}

async fn pre_empted(w: &World, text: &str, monitor: &str) -> (alloy::primitives::B256, u64) {
    let p = pre_empted_with(w, text, monitor, Contract::Mined).await;
    (p.drain, p.block)
}

/// The attacker's drain, sent with a generous fee, is mined behind the
/// daemon's pause in the same block, pre-empted by `monitor`.
async fn pre_empted_with(w: &World, text: &str, monitor: &str, contract: Contract) -> PreEmpted {
    let attacker = w.chain.dev_address(7);
    let deployed = match contract {
        Contract::Mined => Some(drainer(w).await),
        Contract::Pending | Contract::PendingSentLater => None,
    };
    let plan = load(text);
    let (dir, store) = store().await;
    let from = w.chain.block_number().await.unwrap() + 1;
    let mut d = start(plan, store.clone(), from);
    // the watcher has taken the head and the pool is being read
    w.mine().await.unwrap();
    running(&mut d).await;
    let usdc = IERC20::new(w.vault.asset, w.chain.provider());
    let before = usdc.balanceOf(w.vault.vault).call().await.unwrap();
    let next = w.chain.provider().get_transaction_count(attacker).pending().await.unwrap();
    let (deploy, drainer, drain_nonce) = match (deployed, contract) {
        (Some(d), _) => (None, d, next),
        (None, Contract::PendingSentLater) => (None, attacker.create(next), next + 1),
        (None, _) => {
            let (hash, d) = firebreak_test_utils::send_drainer_deployment(&w.chain, attacker, None)
                .await
                .unwrap();
            (Some(hash), d, next + 1)
        }
    };

    // a generous fee (5 gwei tip, 10 gwei cap): above what a P1 pause
    // offers by itself (3 × the node's 1 gwei suggestion), so only an
    // outbidding pause is mined first
    let pending = Drainer::new(drainer, w.chain.provider())
        .drain(w.vault.vault)
        .from(attacker)
        .value(U256::from(1_000_000_000_000_000u64))
        .gas(500_000)
        .max_fee_per_gas(10_000_000_000)
        .max_priority_fee_per_gas(5_000_000_000)
        .nonce(drain_nonce)
        .send()
        .await
        .unwrap();
    let drain_hash = *pending.tx_hash();
    let deploy = match contract {
        Contract::PendingSentLater => {
            let (hash, at) =
                firebreak_test_utils::send_drainer_deployment(&w.chain, attacker, Some(next))
                    .await
                    .unwrap();
            assert_eq!(at, drainer);
            Some(hash)
        }
        _ => deploy,
    };
    // the drain (after its contract's deployment), then the pause beside it
    // in the pool: nothing is mined yet
    pool_holds(w, 2 + u64::from(deploy.is_some())).await;
    let block = w.mine().await.unwrap();

    let drain = w.chain.provider().get_transaction_receipt(drain_hash).await.unwrap().unwrap();
    assert_eq!(drain.block_number, Some(block));
    assert!(!drain.status(), "the drain reverts: the vault is paused");
    let after = usdc.balanceOf(w.vault.vault).call().await.unwrap();
    assert_eq!(after, before, "nothing left the vault");
    assert!(w.paused().await.unwrap());

    // the pause is the block's transaction ahead of the drain
    let b = w.chain.provider().get_block_by_number(block.into()).await.unwrap().unwrap();
    let hashes: Vec<_> = b.transactions.hashes().collect();
    let drain_index = hashes.iter().position(|h| *h == drain_hash).unwrap();
    let mut incident = None;
    for _ in 0..100 {
        if let Some(i) = store.incidents(&Default::default()).await.unwrap().into_iter().next() {
            incident = Some(i);
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let incident = incident.expect("an incident was opened");
    let actions = store.actions(incident.id).await.unwrap();
    let pause = actions.iter().find_map(|a| a.attempts.last()).expect("a pause was signed");
    let pause_index =
        hashes.iter().position(|h| *h == pause.hash).expect("the pause is in the block");
    assert!(pause_index < drain_index, "pause {pause_index}, drain {drain_index}");
    assert!(pause.priority_fee > 10_000_000_000, "outbids the drain's tip: {}", pause.priority_fee);
    assert!(pause.max_fee > 20_000_000_000, "outbids the drain's fee cap: {}", pause.max_fee);

    // the alert is the pending one, with the simulated evidence
    let alerts = store.incident_alerts(incident.id).await.unwrap();
    let a = alerts.iter().find(|a| a.evidence.contains_key("pending")).expect("a pending alert");
    assert_eq!(a.monitor, monitor);
    assert_eq!(a.tx_hash, Some(drain_hash));
    assert_eq!(a.evidence.get("pending.simulated").map(String::as_str), Some("succeeded"));
    assert_eq!(a.block_number, block, "raised for the block the drain was headed for");
    assert_eq!(
        a.evidence.get("pending.before").cloned(),
        deploy.map(|h| h.to_string()),
        "simulated after the pending deployment, when there was one"
    );
    if let Some(deploy) = deploy {
        let r = w.chain.provider().get_transaction_receipt(deploy).await.unwrap().unwrap();
        assert_eq!(r.block_number, Some(block), "the contract was deployed in the same block");
        assert_eq!(r.contract_address, Some(drainer));
    }
    // once the block is settled, the timeline says the drain was pre-empted
    let outcome = outcome(w, &store, incident.id).await;
    assert_eq!(outcome.outcome, "pre_empted", "{outcome:?}");
    assert_eq!(outcome.tx_hash, drain_hash.to_string());
    assert_eq!(outcome.block, Some(block));
    d.stop().await;
    PreEmpted { drain: drain_hash, deploy, block, store, incident: incident.id, _dir: dir }
}

#[tokio::test]
async fn anvil_a_builder_whose_url_is_a_secret_gets_the_bundle_and_the_record_shows_its_label() {
    let w = world(Pauser::Guardian).await;
    let builder = firebreak_test_utils::builder::start().await;
    let secrets = tempfile::tempdir().unwrap();
    let file = secrets.path().join("builder-url");
    std::fs::write(&file, format!("{}/?key=s3cr3t-builder-key", builder.url)).unwrap();
    let text = with_builders(&pre_empt_plan(&w), &format!("{{ file = \"{}\" }}", file.display()));
    let p = pre_empted_with(&w, &text, "price", Contract::Mined).await;
    assert!(builder.refused().is_empty(), "{:?}", builder.refused());
    assert_eq!(builder.accepted().first().map(|b| b.txs.len()), Some(2), "[pause, attack]");
    // the broadcast's record names the builder by where its URL comes from
    let timeline = p.store.timeline(p.incident).await.unwrap();
    let answers: Vec<_> = timeline
        .iter()
        .filter_map(|e| match &e.event {
            firebreak_primitives::Event::TxBroadcast(b) => Some(b.endpoints.clone()),
            _ => None,
        })
        .flatten()
        .filter(|a| a.endpoint.starts_with("builder "))
        .collect();
    assert!(!answers.is_empty(), "the builder's answer is recorded");
    for a in &answers {
        assert!(a.accepted, "{a:?}");
        assert_eq!(a.endpoint, format!("builder <file {}>", file.display()));
    }
    let record = serde_json::to_string(&timeline).unwrap();
    assert!(!record.contains("s3cr3t-builder-key"), "the secret URL is not on the timeline");
}

/// anvil holds the drain back (its nonce leaves a gap) and announces it
/// once the deployment fills the gap; a node that announces it at once has
/// it judged again when the deployment arrives (`Pool::after`, unit-tested).
#[tokio::test]
async fn anvil_a_drain_sent_before_the_deployment_of_its_contract_is_pre_empted_all_the_same() {
    let w = world(Pauser::Guardian).await;
    let p = pre_empted_with(&w, &pre_empt_plan(&w), "price", Contract::PendingSentLater).await;
    assert!(p.deploy.is_some());
}

#[tokio::test]
async fn anvil_a_drain_through_a_contract_whose_deployment_is_still_pending_is_pre_empted_too() {
    let w = world(Pauser::Guardian).await;
    let builder = firebreak_test_utils::builder::start().await;
    let text = with_builders(&pre_empt_plan(&w), &format!("\"{}\"", builder.url));
    // alone, the drain calls an address with no code yet and looks harmless;
    // run after the deployment ahead of it in the pool, it empties the vault
    let p = pre_empted_with(&w, &text, "price", Contract::Pending).await;
    let deploy = p.deploy.unwrap();
    assert!(builder.refused().is_empty(), "{:?}", builder.refused());
    let bundles = builder.accepted();
    let b = bundles.first().expect("the builder got the bundle");
    let hashes: Vec<_> = b.txs.iter().map(|t| *t.tx_hash()).collect();
    assert_eq!(hashes.len(), 3, "[pause, deployment, drain]");
    assert_eq!(b.senders[0], w.chain.dev_address(1), "the pause, from the guardian, first");
    assert_eq!(hashes[1..], [deploy, p.drain], "then the attacker's two, in nonce order");
    assert_eq!(b.reverting, vec![deploy, p.drain], "the attacker's may revert");
    assert_eq!(b.block, p.block);
}

/// A chain with the attacker's contract, a running daemon of the
/// pre-emption plan, and the attacker's next nonce.
struct Armed {
    w: World,
    drainer: Address,
    _dir: tempfile::TempDir,
    store: std::sync::Arc<firebreak_store::SqliteStore>,
    d: crate::contain::Running,
    attacker: Address,
    nonce: u64,
}

async fn armed() -> Armed {
    let w = world(Pauser::Guardian).await;
    let drainer = drainer(&w).await;
    let plan = load(&pre_empt_plan(&w));
    let (_dir, store) = store().await;
    let from = w.chain.block_number().await.unwrap() + 1;
    let mut d = start(plan, store.clone(), from);
    w.mine().await.unwrap();
    running(&mut d).await;
    let attacker = w.chain.dev_address(7);
    let nonce = w.chain.provider().get_transaction_count(attacker).await.unwrap();
    Armed { w, drainer, _dir, store, d, attacker, nonce }
}

/// Mines blocks until the incident's timeline records a pre-emption outcome.
async fn outcome(
    w: &World,
    store: &firebreak_store::SqliteStore,
    id: firebreak_primitives::IncidentId,
) -> firebreak_primitives::event::PreEmption {
    for _ in 0..40 {
        w.mine().await.unwrap();
        for _ in 0..10 {
            let found = store.timeline(id).await.unwrap().into_iter().find_map(|e| match e.event {
                firebreak_primitives::Event::PreEmption(p) => Some(p),
                _ => None,
            });
            if let Some(p) = found {
                return p;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
    panic!("no pre-emption outcome was recorded");
}

#[tokio::test]
async fn anvil_a_pre_emptive_pause_for_a_transaction_that_never_lands_is_recorded_as_unnecessary() {
    use alloy::{network::TransactionBuilder as _, rpc::types::TransactionRequest};
    let Armed { w, drainer, _dir, store, d, attacker, nonce } = armed().await;
    let pending = Drainer::new(drainer, w.chain.provider())
        .drain(w.vault.vault)
        .from(attacker)
        .value(U256::from(1_000_000_000_000_000u64))
        .gas(500_000)
        .nonce(nonce)
        .max_fee_per_gas(2_000_000_000)
        .max_priority_fee_per_gas(1_000_000_000)
        .send()
        .await
        .unwrap();
    let drain_hash = *pending.tx_hash();
    pool_holds(&w, 2).await;
    // the attacker thinks better of it: the same nonce, spent on nothing
    let cancel = TransactionRequest::default()
        .with_from(attacker)
        .with_to(attacker)
        .with_nonce(nonce)
        .with_gas_limit(21_000)
        .with_max_fee_per_gas(8_000_000_000)
        .with_max_priority_fee_per_gas(4_000_000_000);
    let _ = w.chain.provider().send_transaction(cancel).await.unwrap();
    w.mine().await.unwrap();
    assert!(w.chain.provider().get_transaction_receipt(drain_hash).await.unwrap().is_none());
    let id = store.incidents(&Default::default()).await.unwrap()[0].id;
    let outcome = outcome(&w, &store, id).await;
    assert_eq!(outcome.outcome, "unnecessary", "{outcome:?}");
    assert_eq!(outcome.tx_hash, drain_hash.to_string());
    assert!(outcome.detail.contains("never landed"), "{}", outcome.detail);
    d.stop().await;
}

/// Monitors a team would ship, all pre-emptive: a price jump, a whale
/// borrow, and the vault's USDC falling by 30 % in a block.
fn benign_plan(w: &World) -> String {
    let mut text = pre_empt_plan(w);
    text.push_str(&firebreak_test_utils::fixture_monitor(
        "big-borrow",
        "P1",
        "event vault.Borrow where amount > 100_000e6",
        "pre_empt = true",
    ));
    text.push_str(&firebreak_test_utils::fixture_monitor(
        "vault-drained",
        "P1",
        "block where balance(usdc, vault) < 70% * prev(balance(usdc, vault))",
        "pre_empt = true",
    ));
    text
}

#[tokio::test]
async fn anvil_a_thousand_benign_pending_transactions_cause_no_pre_emptive_pause() {
    let w = world(Pauser::Guardian).await;
    let users = firebreak_test_utils::traffic_users(&w).await.unwrap();
    let plan = load(&benign_plan(&w));
    let (_dir, store) = store().await;
    let from = w.chain.block_number().await.unwrap() + 1;
    let mut d = start(plan, store.clone(), from);
    w.mine().await.unwrap();
    running(&mut d).await;
    let (mut simulated, mut succeeded, mut watched, mut alerts) = (0, 0, 0, 0);
    for batch in 0..10u64 {
        firebreak_test_utils::ordinary_traffic(&w, &users, batch * 100..(batch + 1) * 100)
            .await
            .unwrap();
        // every pending transaction simulated and judged before the block
        let mut judged = 0;
        while judged < 100 {
            match d.events.recv().await.unwrap() {
                DaemonEvent::Watch {
                    event: WatchEvent::Simulated { succeeded: ok, watched: w, alerts: a, .. },
                } => {
                    judged += 1;
                    succeeded += usize::from(ok);
                    watched += usize::from(w);
                    alerts += a;
                }
                DaemonEvent::Watch { event: WatchEvent::Alert { alert } } => {
                    panic!("a benign transaction raised {alert:?}")
                }
                DaemonEvent::Watch {
                    event: WatchEvent::EndpointFailed { endpoint, error, .. },
                } => {
                    panic!("{endpoint}: {error}")
                }
                _ => {}
            }
        }
        simulated += judged;
        w.mine().await.unwrap();
    }
    assert_eq!(simulated, 1000);
    assert_eq!(alerts, 0, "no pre-emptive alert");
    assert!(succeeded >= 900, "the traffic is real activity: {succeeded} of 1000 succeed");
    assert!(watched >= 900, "and it touches the watched contracts: {watched}");
    assert!(
        store.incidents(&Default::default()).await.unwrap().is_empty(),
        "no incident, no pause"
    );
    assert!(!w.paused().await.unwrap());
    d.stop().await;
}

#[tokio::test]
async fn anvil_an_attacker_raising_its_fee_is_outbid_again_before_the_block() {
    let Armed { w, drainer, _dir, store, d, attacker, nonce } = armed().await;
    let contract = Drainer::new(drainer, w.chain.provider());
    let drain = |fee: u128, tip: u128| {
        contract
            .drain(w.vault.vault)
            .from(attacker)
            .value(U256::from(1_000_000_000_000_000u64))
            .gas(500_000)
            .nonce(nonce)
            .max_fee_per_gas(fee)
            .max_priority_fee_per_gas(tip)
    };
    let _ = drain(2_000_000_000, 1_000_000_000).send().await.unwrap();
    pool_holds(&w, 2).await;
    let id = store.incidents(&Default::default()).await.unwrap()[0].id;
    // the attacker sees the pause and bids 25× more for the same drain
    let raised = drain(50_000_000_000, 25_000_000_000).send().await.unwrap();
    let raised_hash = *raised.tx_hash();
    let mut replaced = false;
    for _ in 0..200 {
        let timeline = store.timeline(id).await.unwrap();
        if timeline.iter().any(|e| matches!(e.event, firebreak_primitives::Event::TxReplaced(_))) {
            replaced = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(replaced, "the pause was signed again with higher fees");
    let block = w.mine().await.unwrap();
    let r = w.chain.provider().get_transaction_receipt(raised_hash).await.unwrap().unwrap();
    assert_eq!(r.block_number, Some(block));
    assert!(!r.status(), "the raised drain reverts behind the re-priced pause");
    let actions = store.actions(id).await.unwrap();
    let last = actions[0].attempts.last().unwrap();
    assert!(
        last.priority_fee > 50_000_000_000,
        "outbids 25 gwei twice over: {}",
        last.priority_fee
    );
    let b = w.chain.provider().get_block_by_number(block.into()).await.unwrap().unwrap();
    let hashes: Vec<_> = b.transactions.hashes().collect();
    let pause_index = hashes.iter().position(|h| actions[0].attempts.iter().any(|a| a.hash == *h));
    let drain_index = hashes.iter().position(|h| *h == raised_hash);
    assert!(pause_index < drain_index, "{pause_index:?} {drain_index:?}");
    d.stop().await;
}

#[tokio::test]
async fn anvil_a_pre_emptive_pause_for_a_transaction_that_lands_harmless_is_recorded_as_unnecessary()
 {
    use firebreak_test_utils::LendingVault;
    let Armed { w, _dir, store, d, .. } = armed().await;
    let vault = LendingVault::new(w.vault.vault, w.chain.provider());
    // a jump of 25 %: on the latest state it trips the pre-emptive monitor
    let jump = vault
        .setPrice(U256::from(2_500_000_000u64))
        .from(w.chain.dev_address(2))
        .gas(100_000)
        .max_fee_per_gas(2_000_000_000)
        .max_priority_fee_per_gas(1_000_000_000)
        .send()
        .await
        .unwrap();
    let jump_hash = *jump.tx_hash();
    pool_holds(&w, 2).await;
    // an oracle update to +20 % (not above the bound) outbids both and lands
    // first: the jump then moves the price by 4 % only, and raises nothing
    let _ = vault
        .setPrice(U256::from(2_400_000_000u64))
        .from(w.chain.dev_address(0))
        .gas(100_000)
        .max_fee_per_gas(400_000_000_000)
        .max_priority_fee_per_gas(200_000_000_000)
        .send()
        .await
        .unwrap();
    pool_holds(&w, 3).await;
    let block = w.mine().await.unwrap();
    let r = w.chain.provider().get_transaction_receipt(jump_hash).await.unwrap().unwrap();
    assert_eq!(r.block_number, Some(block));
    assert!(r.status(), "the jump succeeded (setPrice is not pausable)");
    let id = store.incidents(&Default::default()).await.unwrap()[0].id;
    let outcome = outcome(&w, &store, id).await;
    assert_eq!(outcome.outcome, "unnecessary", "{outcome:?}");
    assert_eq!(outcome.tx_hash, jump_hash.to_string());
    assert_eq!(outcome.block, Some(block));
    assert!(outcome.detail.contains("raised no alert on inclusion"), "{}", outcome.detail);
    d.stop().await;
}
