use alloy::{
    primitives::{Address, U256},
    providers::Provider as _,
    sol_types::{SolCall as _, SolError as _, SolEvent as _},
};
use firebreak_primitives::StateRead;
use firebreak_simulate::Simulator;
use firebreak_test_utils::{
    Drainer, IERC20, LendingVault, Pauser, World, deploy_drainer, send_drainer_deployment,
};

fn total_assets(vault: Address) -> StateRead {
    StateRead::Call { to: vault, data: LendingVault::totalAssetsCall {}.abi_encode().into() }
}

/// The attacker deploys its contract (mined on demand).
async fn drainer(w: &World) -> Address {
    let (drainer, mined) = tokio::join!(
        deploy_drainer(&w.chain, w.chain.dev_address(7)),
        w.mine_when_pending(std::time::Duration::from_secs(10))
    );
    mined.unwrap();
    drainer.unwrap()
}

/// Sends the attacker's one-transaction drain to the pool (not mined).
async fn pending_drain(w: &World, drainer: Address) -> alloy::rpc::types::Transaction {
    let p = w.chain.provider();
    let pending = Drainer::new(drainer, p)
        .drain(w.vault.vault)
        .from(w.chain.dev_address(7))
        .value(U256::from(1_000_000_000_000_000u64))
        .gas(500_000)
        .send()
        .await
        .unwrap();
    let hash = *pending.tx_hash();
    p.get_transaction_by_hash(hash).await.unwrap().unwrap()
}

#[tokio::test]
async fn anvil_a_pending_one_transaction_drain_is_seen_emptying_the_vault_before_it_is_mined() {
    let w = World::manual(Pauser::Guardian).await.unwrap();
    let drainer = drainer(&w).await;
    let before = IERC20::new(w.vault.asset, w.chain.provider())
        .balanceOf(w.vault.vault)
        .call()
        .await
        .unwrap();
    assert!(before > U256::ZERO);
    let tx = pending_drain(&w, drainer).await;
    let mut sim = Simulator::new(w.chain.provider().clone(), w.chain.chain_id())
        .warming([w.vault.vault, w.vault.asset]);
    let head = sim.at_head().await.unwrap();
    assert_eq!(head, w.chain.block_number().await.unwrap(), "simulates on the latest block");
    let s = sim.simulate(&tx, &[total_assets(w.vault.vault)]).await.unwrap();
    assert!(s.tx.success, "the drain succeeds on the latest state: {:?}", s.revert);
    assert_eq!(s.tx.to, Some(drainer));
    // the vault is reached through the attacker's contract, found by simulation
    assert!(s.touched.contains(&w.vault.vault));
    let vault_logs: Vec<_> = s.tx.logs.iter().filter(|l| l.address == w.vault.vault).collect();
    assert_eq!(vault_logs.len(), 2, "PriceUpdated and Borrow: {:?}", s.tx.logs);
    assert_eq!(vault_logs[0].topics[0], LendingVault::PriceUpdated::SIGNATURE_HASH);
    // the probe, read on the state the drain leaves: nothing left
    let left = U256::from_be_slice(s.reads[0].as_ref().unwrap());
    assert_eq!(left, U256::ZERO);
    // nothing happened on chain
    assert_eq!(w.pending().await.unwrap(), 1);
    let still = IERC20::new(w.vault.asset, w.chain.provider())
        .balanceOf(w.vault.vault)
        .call()
        .await
        .unwrap();
    assert_eq!(still, before);
}

#[tokio::test]
async fn anvil_the_same_drain_after_the_pause_is_simulated_as_a_revert_on_the_new_head() {
    let w = World::manual(Pauser::Guardian).await.unwrap();
    let drainer = drainer(&w).await;
    let mut sim =
        Simulator::new(w.chain.provider().clone(), w.chain.chain_id()).warming([w.vault.vault]);
    sim.at_head().await.unwrap();
    // the guardian pauses; the cache of the old head must not answer for the new one
    let _ = LendingVault::new(w.vault.vault, w.chain.provider())
        .pause()
        .from(w.chain.dev_address(1))
        .send()
        .await
        .unwrap();
    w.mine().await.unwrap();
    assert!(LendingVault::new(w.vault.vault, w.chain.provider()).paused().call().await.unwrap());
    let tx = pending_drain(&w, drainer).await;
    let first = sim.simulate(&tx, &[]).await.unwrap();
    assert!(first.tx.success, "on the old head the vault was open");
    sim.at_head().await.unwrap();
    let s = sim.simulate(&tx, &[total_assets(w.vault.vault)]).await.unwrap();
    assert!(!s.tx.success, "paused: the drain reverts");
    assert!(s.tx.logs.is_empty());
    let selector = LendingVault::EnforcedPause::SELECTOR;
    assert_eq!(&s.revert.unwrap()[..4], selector.as_slice(), "EnforcedPause()");
    assert!(U256::from_be_slice(s.reads[0].as_ref().unwrap()) > U256::ZERO);
}

#[tokio::test]
async fn anvil_a_drain_through_a_contract_still_pending_deployment_is_seen_with_it_run_ahead() {
    let w = World::manual(Pauser::Guardian).await.unwrap();
    let attacker = w.chain.dev_address(7);
    let p = w.chain.provider();
    // all three wait in the pool: an approval that logs (nonce n), the
    // deployment (n + 1), then the drain through the contract it will
    // create (n + 2)
    // explicit nonces: the provider's nonce cache would not know the
    // deployment's
    let n0 = p.get_transaction_count(attacker).pending().await.unwrap();
    let approve = IERC20::new(w.vault.asset, p)
        .approve(w.vault.vault, U256::from(1u64))
        .from(attacker)
        .nonce(n0)
        .gas(100_000)
        .send()
        .await
        .unwrap();
    let approve = p.get_transaction_by_hash(*approve.tx_hash()).await.unwrap().unwrap();
    let (deploy_hash, drainer) = send_drainer_deployment(&w.chain, attacker, None).await.unwrap();
    let drain = pending_drain(&w, drainer).await;
    let deploy = p.get_transaction_by_hash(deploy_hash).await.unwrap().unwrap();
    assert_eq!(w.pending().await.unwrap(), 3);
    let mut sim = Simulator::new(p.clone(), w.chain.chain_id()).warming([w.vault.vault]);
    sim.at_head().await.unwrap();
    let n = sim.nonce(attacker).await.unwrap();
    assert_eq!(n, alloy::consensus::Transaction::nonce(&*approve.inner));
    let reads = [total_assets(w.vault.vault)];
    // alone, the drain calls an address with no code yet: nothing happens
    let alone = sim.simulate(&drain, &reads).await.unwrap();
    assert!(alone.tx.logs.is_empty());
    assert!(!alone.touched.contains(&w.vault.vault));
    assert!(U256::from_be_slice(alone.reads[0].as_ref().unwrap()) > U256::ZERO);
    // with the approval and the deployment run ahead of it, the vault is emptied
    let s = sim.simulate_after(&[approve, deploy], &drain, &reads).await.unwrap();
    assert_eq!(s.before.len(), 2);
    assert_eq!(s.before[1].hash, deploy_hash);
    assert!(s.before.iter().all(|t| t.success), "the approval and the deployment succeed");
    assert_eq!(s.before[0].logs.len(), 1, "Approval");
    assert!(s.tx.success, "{:?}", s.revert);
    assert!(s.touched.contains(&w.vault.vault));
    assert_eq!(U256::from_be_slice(s.reads[0].as_ref().unwrap()), U256::ZERO);
    let vault_logs: Vec<_> = s.tx.logs.iter().filter(|l| l.address == w.vault.vault).collect();
    assert_eq!(vault_logs[0].topics[0], LendingVault::PriceUpdated::SIGNATURE_HASH);
    // log indices run across the block: the drain's start after the approval's
    assert_eq!(s.before[0].logs[0].index, 0);
    assert_eq!(s.tx.logs[0].index, 1);
    // the simulation wrote nothing to the cache: the drain alone is unchanged
    let again = sim.simulate(&drain, &reads).await.unwrap();
    assert!(again.tx.logs.is_empty());
    // more than MAX_BEFORE ahead: refused, not silently cut
    let many = vec![drain.clone(); firebreak_simulate::MAX_BEFORE + 1];
    let e = sim.simulate_after(&many, &drain, &reads).await.unwrap_err();
    assert!(!e.is_retryable());
    assert!(e.to_string().contains("at most 16 are run"), "{e}");
}
