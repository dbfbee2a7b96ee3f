//! Signing you can trust: the hashes firebreak shows before a signature are
//! the Safe's own, calls are decoded from the plan's ABIs, and a
//! Bybit-shaped SafeTx (a DELEGATECALL to an unknown contract) is named as
//! outside the plan's allow-list.

use alloy::primitives::{Address, Bytes, U256};
use firebreak_safe::{Operation, SafeTx, delegatecalls_outside, multisend_calldata, review};
use firebreak_test_utils::{ISafe, Pauser, World, WorldExt as _};

#[tokio::test]
async fn anvil_the_shown_hashes_are_the_safes_own_and_a_foreign_delegatecall_is_refused() {
    let w = World::new(Pauser::Safe).await.unwrap();
    let plan = w.load_plan(&w.plan_text(r#"[{ safe = "emergency" }]"#, &[])).unwrap();
    let safe_cfg = &plan.safes["emergency"];
    let chain_id = w.chain.chain_id();
    let onchain = ISafe::new(w.safe, w.chain.provider());
    let nonce = onchain.nonce().call().await.unwrap();
    let decode = |to: Address, data: &[u8]| plan.describe_call(chain_id, to, data);

    // Bybit-shaped: a DELEGATECALL to a contract the plan does not allow
    let evil = Address::repeat_byte(0xee);
    let mut bybit = SafeTx::call(evil, Bytes::from(vec![0xa9, 0x05, 0x9c, 0xbb]), nonce);
    bybit.operation = Operation::DelegateCall;
    let r = review(&bybit, chain_id, w.safe, &decode);
    let theirs = onchain
        .getTransactionHash(
            evil,
            U256::ZERO,
            bybit.data.clone(),
            1,
            U256::ZERO,
            U256::ZERO,
            U256::ZERO,
            Address::ZERO,
            Address::ZERO,
            nonce,
        )
        .call()
        .await
        .unwrap();
    assert_eq!(r.safe_tx_hash, theirs, "the SafeTx hash is the Safe's getTransactionHash");
    assert_eq!(
        r.domain_hash,
        onchain.domainSeparator().call().await.unwrap(),
        "the domain hash is the Safe's domainSeparator"
    );
    assert_eq!(delegatecalls_outside(&r, &safe_cfg.delegatecall_targets()), [evil]);
    assert!(r.lines(false).iter().any(|l| l == &format!("operation     DELEGATECALL {evil}")));

    // the pause batch: a DELEGATECALL to the plan's MultiSendCallOnly, decoded call by call
    let pause =
        alloy_sol_types::SolCall::abi_encode(&firebreak_test_utils::LendingVault::pauseCall {});
    let mut batch = SafeTx::call(
        safe_cfg.multisend,
        multisend_calldata(&[(w.vault.vault, pause.into())]),
        nonce,
    );
    batch.operation = Operation::DelegateCall;
    let r = review(&batch, chain_id, w.safe, &decode);
    assert!(delegatecalls_outside(&r, &safe_cfg.delegatecall_targets()).is_empty());
    assert_eq!(r.calls.len(), 1);
    assert_eq!(r.calls[0].decoded.as_deref(), Some("vault.pause()"));
    let text = r.lines(false).join("\n");
    assert!(
        text.contains(&format!("call 1/1      CALL {} value 0: vault.pause()", w.vault.vault)),
        "{text}"
    );
}
