//! A plan key used outside firebreak: the daemon's own pause from the
//! guardian key raises nothing; a transaction from the same key that
//! firebreak did not send raises a P1 in its own block.

use std::time::Duration;

use alloy::{
    network::TransactionBuilder as _,
    primitives::{Address, B256, Bytes, U256},
    providers::Provider as _,
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

alloy::sol! {
    function approveHash(bytes32 hashToApprove) external;
    function decimals() external view returns (uint8);
}

/// The Safe's hash of a SafeTx at its current nonce.
async fn hash_now(w: &firebreak_test_utils::World, to: Address, data: &Bytes, op: u8) -> B256 {
    let s = firebreak_test_utils::ISafe::new(w.safe, w.chain.provider());
    let nonce = s.nonce().call().await.unwrap();
    s.getTransactionHash(
        to,
        U256::ZERO,
        data.clone(),
        op,
        U256::ZERO,
        U256::ZERO,
        U256::ZERO,
        Address::ZERO,
        Address::ZERO,
        nonce,
    )
    .call()
    .await
    .unwrap()
}

#[tokio::test]
async fn anvil_safe_hashes_the_team_did_not_approve_and_foreign_delegatecalls_raise_p1s() {
    use alloy::sol_types::SolCall as _;
    use firebreak_test_utils::{World, exec_safe_tx_op};
    let w = World::new(Pauser::Guardian).await.unwrap();
    let mut text = w.plan_text(r#"[{ signer = "guardian" }]"#, &[]);
    text.push_str(
        r#"
[monitors.safe-tx-unapproved]
severity = "P1"
chain = "local"
rule = 'preset safe_transactions(emergency) where event.name != "SafeMultiSigTransaction" && !safe_tx.approved'
playbook = "contain"
[monitors.safe-delegatecall]
severity = "P1"
chain = "local"
rule = 'preset safe_transactions(emergency) where event.name == "SafeMultiSigTransaction" && operation == 1 && !(to in plan.delegatecall_allow)'
playbook = "contain"
"#,
    );
    let plan = load(&text);
    let (_dir, store) = store().await;
    let from = w.chain.block_number().await.unwrap() + 1;
    let d = start(plan, store.clone(), from);
    let chain_id = w.chain.chain_id();

    // a routine transaction the team approved: executed, nothing fires
    let routine = Bytes::new();
    let allowed = hash_now(&w, w.safe, &routine, 0).await;
    store
        .allow_safe_tx(firebreak_store::AllowedSafeTx {
            chain_id,
            safe: w.safe,
            safe_tx_hash: allowed,
            member: "alice".into(),
            reason: "routine".into(),
            at_ms: 0,
        })
        .await
        .unwrap();
    let r = exec_safe_tx_op(&w.chain, w.safe, (w.safe, routine, 0), &[3, 4], 6).await.unwrap();
    let routine_block = r.block_number.unwrap();

    // a stolen owner key approves its own SafeTx on chain
    let evil = hash_now(&w, w.vault.vault, &Bytes::from(vec![0x84, 0x56, 0xcb, 0x59]), 0).await;
    let call: Bytes = approveHashCall { hashToApprove: evil }.abi_encode().into();
    let tx = TransactionRequest::default()
        .with_from(w.chain.dev_address(3))
        .with_to(w.safe)
        .with_input(call);
    let r = w.chain.provider().send_transaction(tx).await.unwrap().get_receipt().await.unwrap();
    assert!(r.status());
    let approve_block = r.block_number.unwrap();

    // a Bybit-shaped execution: a DELEGATECALL to a contract outside the allow-list
    let foreign = w.vault.asset;
    let data: Bytes = decimalsCall {}.abi_encode().into();
    let bybit = hash_now(&w, foreign, &data, 1).await;
    let r = exec_safe_tx_op(&w.chain, w.safe, (foreign, data, 1), &[3, 4], 6).await.unwrap();
    let bybit_block = r.block_number.unwrap();

    let wanted =
        |alerts: &[firebreak_store::StoredAlert], m: &str| -> Vec<firebreak_primitives::Alert> {
            alerts.iter().filter(|a| a.alert.monitor == m).map(|a| a.alert.clone()).collect()
        };
    let mut alerts = Vec::new();
    for _ in 0..300 {
        alerts = store.alerts(chain_id, from).await.unwrap();
        if wanted(&alerts, "safe-delegatecall").len() == 1
            && wanted(&alerts, "safe-tx-unapproved").len() >= 2
        {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    d.stop().await;
    let unapproved = wanted(&alerts, "safe-tx-unapproved");
    let seen: Vec<(u64, Option<&String>)> = unapproved
        .iter()
        .map(|a| (a.block_number, a.evidence.get("approvedHash").or(a.evidence.get("txHash"))))
        .collect();
    let (evil_text, bybit_text) = (evil.to_string(), bybit.to_string());
    assert_eq!(
        seen,
        [(approve_block, Some(&evil_text)), (bybit_block, Some(&bybit_text))],
        "the owner's approval and the unapproved execution, not the allowed one (block {routine_block})"
    );
    let dc = wanted(&alerts, "safe-delegatecall");
    assert_eq!(dc.len(), 1, "{dc:?}");
    assert_eq!(dc[0].block_number, bybit_block);
    assert_eq!(dc[0].evidence.get("to"), Some(&foreign.to_string()));
}
