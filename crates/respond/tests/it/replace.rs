//! A pause stuck under-priced: anvil orders its pool by fee and a flood of
//! better-paying transfers fills every block, so the first pause cannot get
//! in; the executor replaces it with a higher fee each block until it is
//! mined. Exactly one pause lands.

use std::{sync::Arc, time::Duration};

use alloy::{
    network::TransactionBuilder as _, primitives::U256, providers::Provider as _,
    rpc::types::TransactionRequest,
};
use firebreak_respond::{FeePolicy, IncidentManager};
use firebreak_store::prelude::*;
use firebreak_store::{ActionStatus, SqliteStore, verify_chain};
use firebreak_test_utils::{Chain, Pauser, World, WorldExt as _};

const GWEI: u128 = 1_000_000_000;

#[tokio::test]
async fn anvil_underpriced_pause_is_replaced_with_a_higher_fee_until_mined() {
    let chain = Chain::spawn_with(|a| a.args(["--order", "fees"])).unwrap();
    let w = World::with_chain(chain, Pauser::Guardian).await.unwrap();
    let text = w.plan_text(r#"[{ signer = "guardian" }]"#, &[]);
    let plan = Arc::new(w.load_plan(&text).unwrap());

    // four 21,000-gas transfers fill a 100,000-gas block; the pause (~60,000
    // gas limit) does not fit beside them
    let p = w.chain.provider();
    let _: serde_json::Value =
        p.raw_request("evm_setBlockGasLimit".into(), (U256::from(100_000u64),)).await.unwrap();
    let mut flood = 0;
    for account in [0usize, 2, 3, 4, 5, 7, 8, 9] {
        let from = w.chain.dev_address(account);
        let nonce = p.get_transaction_count(from).pending().await.unwrap();
        for i in 0..8u64 {
            let tx = TransactionRequest::default()
                .with_from(from)
                .with_to(w.chain.dev_address(6))
                .with_value(U256::from(1u64))
                .with_nonce(nonce + i)
                .with_gas_limit(21_000)
                .with_max_priority_fee_per_gas(40 * GWEI)
                .with_max_fee_per_gas(1_000 * GWEI)
                .with_chain_id(w.chain.chain_id());
            let _pending = p.send_transaction(tx).await.unwrap();
            flood += 1;
        }
    }
    assert_eq!(flood, 64);

    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(SqliteStore::open(&dir.path().join("t.db")).await.unwrap());
    // a modest first offer (1 gwei tip) that doubles each block
    let policy = FeePolicy {
        tip_multiplier_pct: 100,
        min_tip: GWEI,
        bump_pct: 100,
        base_fee_multiplier: 2,
        max_fee_cap: None,
        outbid: None,
    };
    let executor = crate::executor(&w, &plan, &store).await.with_fee_policy(policy);
    let manager = IncidentManager::new(plan, store.clone());
    let start = w.chain.block_number().await.unwrap();
    let alert = w.alert("P1", "built-in-test");
    let id = manager.on_alert(&alert).await.unwrap().incident;
    let mut rounds = 0;
    while executor.drive(id).await.unwrap() {
        rounds += 1;
        assert!(rounds < 300, "not mined after 60 s");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let actions = store.actions(id).await.unwrap();
    assert_eq!(actions.len(), 1);
    let a = &actions[0];
    assert_eq!(a.status, ActionStatus::Mined);
    assert!(a.attempts.len() >= 2, "the first offer should have been stuck: {:?}", a.attempts);
    for pair in a.attempts.windows(2) {
        assert_eq!(pair[0].nonce, pair[1].nonce, "replacements reuse the nonce");
        assert!(pair[1].priority_fee * 1000 >= pair[0].priority_fee * 1125);
        assert!(pair[1].max_fee * 1000 >= pair[0].max_fee * 1125);
    }
    let mined_attempt = a.receipt.as_ref().unwrap()["attempt"].as_u64().unwrap();
    assert_eq!(mined_attempt as usize, a.attempts.len(), "the last replacement is the one mined");
    assert!(w.paused().await.unwrap());
    let pauses = w.pause_transactions(start).await.unwrap();
    assert_eq!(pauses.len(), 1, "exactly one pause: {pauses:?}");
    let timeline = store.timeline(id).await.unwrap();
    assert!(timeline.iter().any(|e| e.kind() == "tx_replaced"));
    verify_chain(&timeline).unwrap();
}

/// Drills send as impersonated accounts: the node signs, so a replacement
/// goes out through `eth_sendTransaction` rather than a broadcast of signed
/// bytes. When the node refuses a replacement (here: a better-paying
/// transaction already holds the nonce in its pool; in a drill on a busy
/// machine: the first offer was mined between the read and the replacement,
/// "nonce too low"), the action stays in flight and is followed on, as a
/// refused broadcast of signed bytes is; it does not fail the pause.
#[tokio::test]
async fn anvil_a_replacement_refused_by_the_node_does_not_fail_an_impersonated_pause() {
    let chain = Chain::spawn_with(|a| a.arg("--auto-impersonate")).unwrap();
    let w = World::manual_on(chain, Pauser::Guardian).await.unwrap();
    let guardian = w.chain.dev_address(1);
    let text = w.plan_text(r#"[{ signer = "guardian" }]"#, &[]).replace(
        "[signers.guardian]\nanvil_account = 1",
        &format!(
            "[signers.guardian]\nenv = \"FIREBREAK_TEST_KEY_NOBODY_SETS\"\naddress = \"{guardian}\""
        ),
    );
    assert!(text.contains("FIREBREAK_TEST_KEY_NOBODY_SETS"), "the fixture plan changed");
    let plan = Arc::new(w.load_plan(&text).unwrap());
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(SqliteStore::open(&dir.path().join("t.db")).await.unwrap());
    let executor = crate::executor(&w, &plan, &store).await.impersonating();
    let manager = IncidentManager::new(plan, store.clone());
    let id = manager.on_alert(&w.alert("P1", "built-in-test")).await.unwrap().incident;

    // round 1: the pause goes to the node's pool
    assert!(executor.drive(id).await.unwrap());
    assert_eq!(w.pending().await.unwrap(), 1);
    let first = store.actions(id).await.unwrap().remove(0);
    assert_eq!(first.status, ActionStatus::Sent);
    let nonce = first.nonce.unwrap();

    // a block the pause cannot enter (it needs more gas than the block has)
    let p = w.chain.provider();
    let gas_limit = |g: u64| async move {
        let _: serde_json::Value =
            p.raw_request("evm_setBlockGasLimit".into(), (U256::from(g),)).await.unwrap();
    };
    gas_limit(30_000).await;
    w.mine().await.unwrap();
    assert!(!w.paused().await.unwrap(), "the pause should not be mined");
    assert_eq!(w.pending().await.unwrap(), 1, "the pause should still wait in the pool");
    // a better-paying transaction of the same account takes its place
    let other = TransactionRequest::default()
        .with_from(guardian)
        .with_to(guardian)
        .with_value(U256::ZERO)
        .with_nonce(nonce)
        .with_gas_limit(21_000)
        .with_max_priority_fee_per_gas(500_000 * GWEI)
        .with_max_fee_per_gas(1_000_000 * GWEI)
        .with_chain_id(w.chain.chain_id());
    let _pending = p.send_transaction(other).await.unwrap();

    // round 2: a block passed, so the executor offers more; the node refuses
    assert!(executor.drive(id).await.unwrap());
    let a = store.actions(id).await.unwrap().remove(0);
    assert_eq!(
        a.status,
        ActionStatus::Sent,
        "a refused replacement failed the pause: {:?}",
        a.error
    );
    let refused = store
        .timeline(id)
        .await
        .unwrap()
        .into_iter()
        .filter(|e| e.kind() == "tx_broadcast" && e.body["accepted_by"] == 0)
        .count();
    assert_eq!(refused, 1, "the refusal is on the timeline");
    gas_limit(30_000_000).await;

    // the other transaction is mined; the pause takes the next nonce and lands
    let mut rounds = 0;
    while executor.drive(id).await.unwrap() {
        rounds += 1;
        assert!(rounds < 50, "not paused after 50 rounds");
        if w.pending().await.unwrap() > 0 {
            w.mine().await.unwrap();
        }
    }
    assert!(w.paused().await.unwrap());
    let a = store.actions(id).await.unwrap().remove(0);
    assert_eq!(a.status, ActionStatus::Mined);
    assert_eq!(a.nonce, Some(nonce + 1));
    verify_chain(&store.timeline(id).await.unwrap()).unwrap();
}

/// A node whose head runs ahead of its receipts: the block holding the
/// pause is the head, but the pause's receipt is not there yet, while the
/// sender's nonce at that block already counts it. The pause is ours and
/// mined; it must not be taken for a nonce stolen by another transaction
/// (which signed again, found the vault paused and reported "already
/// paused" with the pause never recorded as mined: a drill then failed).
/// The lag is made by a proxy: anvil shows it only by chance, under load.
#[tokio::test]
async fn anvil_a_receipt_behind_the_head_is_not_a_taken_nonce() {
    let w = World::manual_on(Chain::spawn().unwrap(), Pauser::Guardian).await.unwrap();
    let proxy = firebreak_test_utils::rpc_proxy::RpcProxy::start(&w.chain.http_url()).await;
    let plan = Arc::new(w.load_plan(&w.plan_text(r#"[{ signer = "guardian" }]"#, &[])).unwrap());
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(SqliteStore::open(&dir.path().join("t.db")).await.unwrap());
    let link = firebreak_respond::ChainLink::from_urls(
        "local",
        w.chain.chain_id(),
        vec![(proxy.url().to_owned(), proxy.url().to_owned())],
    )
    .await
    .unwrap();
    let executor = firebreak_respond::Executor::with_links(
        plan.clone(),
        store.clone(),
        std::collections::HashMap::from([("local".to_owned(), link)]),
    );
    let manager = IncidentManager::new(plan, store.clone());
    let id = manager.on_alert(&w.alert("P1", "built-in-test")).await.unwrap().incident;
    assert!(executor.drive(id).await.unwrap());
    let block = w.mine().await.unwrap();
    assert!(w.paused().await.unwrap());
    proxy.hide_receipts(1);
    let mut rounds = 0;
    while executor.drive(id).await.unwrap() {
        rounds += 1;
        assert!(rounds < 20, "not done after 20 rounds");
        if w.pending().await.unwrap() > 0 {
            w.mine().await.unwrap();
        }
    }
    assert_eq!(proxy.receipts_still_hidden(), 0, "the lagging answer was given");
    let a = store.actions(id).await.unwrap().remove(0);
    assert_eq!(a.status, ActionStatus::Mined, "{:?}", a.error);
    assert_eq!(a.receipt.as_ref().unwrap()["block_number"], block);
    let timeline = store.timeline(id).await.unwrap();
    assert!(!timeline.iter().any(|e| e.kind() == "nonce_taken"), "{timeline:#?}");
    assert_eq!(w.pause_transactions(block).await.unwrap().len(), 1);
}
