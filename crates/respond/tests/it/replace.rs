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
use firebreak_store::{ActionStatus, IncidentStore, SqliteStore, verify_chain};
use firebreak_test_utils::{Chain, Pauser, World};

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
    assert!(timeline.iter().any(|e| e.kind == "tx_replaced"));
    verify_chain(&timeline).unwrap();
}
