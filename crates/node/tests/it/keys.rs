//! A plan key used outside firebreak: the daemon's own pause from the
//! guardian key raises nothing; a transaction from the same key that
//! firebreak did not send raises a P1 in its own block.

use std::time::Duration;

use alloy::{
    network::TransactionBuilder as _, primitives::U256, providers::Provider as _,
    rpc::types::TransactionRequest,
};
use firebreak_store::AlertStore as _;
use firebreak_test_utils::Pauser;

use crate::contain::{exploit, load, pause_block, start, store, world};

#[tokio::test]
async fn anvil_a_guardian_transaction_firebreak_did_not_send_raises_a_p1_in_its_block() {
    let w = world(Pauser::Guardian).await;
    let mut text = w.plan_text(r#"[{ signer = "guardian" }]"#, &[]);
    text.push_str(
        r#"
[monitors.key-used]
severity = "P1"
chain = "local"
rule = "tx from guardian where !tx.firebreak"
playbook = "contain"
"#,
    );
    let plan = load(&text);
    let (_dir, store) = store().await;
    let from = w.chain.block_number().await.unwrap() + 1;
    let d = start(plan, store.clone(), from);

    // firebreak pauses with the guardian key: its own transaction
    let n = exploit(&w).await;
    let (_, pause) = pause_block(&w, &store).await;
    assert_eq!(pause, n + 1);

    // the guardian key, used by someone else
    let guardian = w.chain.dev_address(1);
    let tx = TransactionRequest::default()
        .with_from(guardian)
        .with_to(w.chain.dev_address(9))
        .with_value(U256::from(1));
    let pending = w.chain.provider().send_transaction(tx).await.unwrap();
    let stolen = w.mine().await.unwrap();
    let receipt = pending.get_receipt().await.unwrap();
    assert_eq!(receipt.block_number, Some(stolen));

    let chain_id = w.chain.chain_id();
    let mut alerts = Vec::new();
    for _ in 0..300 {
        alerts = store.alerts(chain_id, from).await.unwrap();
        if alerts.iter().any(|a| a.alert.monitor == "key-used") {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    d.stop().await;
    let used: Vec<_> = alerts.iter().filter(|a| a.alert.monitor == "key-used").collect();
    assert_eq!(used.len(), 1, "one foreign use, one alert (the pause is firebreak's): {used:?}");
    let a = &used[0].alert;
    assert_eq!(a.severity.to_string(), "P1");
    assert_eq!(a.block_number, stolen, "raised in the block of the foreign transaction");
    assert_eq!(a.tx_hash, Some(receipt.transaction_hash));
    assert_eq!(a.evidence.get("tx.from"), Some(&guardian.to_string()));
}
