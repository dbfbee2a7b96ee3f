//! Key compromise on a real SafeL2 1.5.0 2-of-3 (owners dev 3, 4, 5): a
//! rejection that kills a queued malicious SafeTx, a signer rotation and a
//! role revocation found on chain, none of them signed by the compromised
//! account even when the daemon holds its key.

use std::{sync::Arc, time::Duration};

use alloy::{
    primitives::{Address, B256, Bytes, U256},
    providers::Provider as _,
    signers::SignerSync as _,
    sol_types::SolCall as _,
};
use firebreak_primitives::{Alert, IncidentId, StepStatus};
use firebreak_respond::{Executor, IncidentManager};
use firebreak_store::prelude::*;
use firebreak_store::{SqliteStore, verify_chain};
use firebreak_test_utils::{ISafe, LendingVault, Pauser, World, WorldExt as _, deploy_vault};

alloy::sol! {
    function addOwnerWithThreshold(address owner, uint256 _threshold) external;
}

/// The world's plan with the Safe's three owners as hot signers (the
/// compromised one included: it must never sign), `extra` appended, and a
/// P1 monitor on plan keys used outside firebreak running `compromise`.
fn plan_text(w: &World, steps: &str, extra: &str) -> String {
    let mut text = w.plan_text(r#"[{ signer = "guardian" }]"#, &["owner-a", "owner-b", "owner-c"]);
    text.push_str(&format!(
        r#"
[signers.owner-c]
anvil_account = 5
[monitors.key-used]
severity = "P1"
chain = "local"
rule = "tx from plan.signers where !tx.firebreak"
playbook = "compromise"
[playbooks.compromise]
steps = [{steps}]
{extra}
"#
    ));
    text
}

/// An alert of `key-used` with `compromised` as the transaction's sender.
fn alert(w: &World, compromised: Address) -> Alert {
    let mut a = w.alert("P1", "key-used-1");
    a.monitor = "key-used".into();
    a.playbook = Some("compromise".into());
    a.evidence.insert("tx.from".into(), compromised.to_string());
    a
}

async fn open(
    w: &World,
    text: &str,
    compromised: Address,
) -> (Arc<SqliteStore>, Executor, IncidentId, tempfile::TempDir) {
    let plan = Arc::new(w.load_plan(text).unwrap());
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(SqliteStore::open(&dir.path().join("t.db")).await.unwrap());
    let executor = crate::executor(w, &plan, &store).await;
    let id =
        IncidentManager::new(plan, store.clone()).on_alert(&alert(w, compromised)).await.unwrap();
    (store, executor, id.incident, dir)
}

/// Drives the incident until its playbook is over (the chain mines every second).
async fn finish(executor: &Executor, store: &SqliteStore, id: IncidentId) {
    let mut rounds = 0;
    while executor.drive(id).await.unwrap() {
        rounds += 1;
        assert!(
            rounds < 300,
            "the playbook did not finish: {:?}",
            store.steps(id).await.unwrap().into_iter().map(|s| s.detail).collect::<Vec<_>>()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// The Safe's hash of a plain CALL SafeTx at `nonce`.
async fn safe_tx_hash(w: &World, to: Address, data: &Bytes, nonce: U256) -> B256 {
    ISafe::new(w.safe, w.chain.provider())
        .getTransactionHash(
            to,
            U256::ZERO,
            data.clone(),
            0,
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
async fn anvil_safe_reject_cancels_a_queued_malicious_safetx_with_two_other_owners() {
    let w = World::new(Pauser::Guardian).await.unwrap();
    let safe = ISafe::new(w.safe, w.chain.provider());
    let nonce = safe.nonce().call().await.unwrap();
    let (o3, o4, o5) = (w.chain.dev_address(3), w.chain.dev_address(4), w.chain.dev_address(5));

    // queued: the stolen owner 3 signs "make me sole owner" at the current
    // nonce; a second owner is tricked into signing it too, later
    let attacker = Address::repeat_byte(0xa7);
    let evil: Bytes = addOwnerWithThresholdCall { owner: attacker, _threshold: U256::from(1) }
        .abi_encode()
        .into();
    let evil_hash = safe_tx_hash(&w, w.safe, &evil, nonce).await;
    let mut evil_sigs: Vec<(Address, Vec<u8>)> = [3, 4]
        .iter()
        .map(|&i| {
            let s = w.chain.dev_signer(i);
            (s.address(), s.sign_hash_sync(&evil_hash).unwrap().as_bytes().to_vec())
        })
        .collect();
    evil_sigs.sort_by_key(|(a, _)| *a);
    let packed: Bytes = evil_sigs.into_iter().flat_map(|(_, s)| s).collect::<Vec<u8>>().into();

    let text = plan_text(&w, r#"{ id = "reject", kind = "safe_reject", safe = "emergency" }"#, "");
    let (store, executor, id, _dir) = open(&w, &text, o3).await;
    finish(&executor, &store, id).await;

    let steps = store.steps(id).await.unwrap();
    assert_eq!(steps[0].status, StepStatus::Succeeded, "{:?}", steps[0].detail);
    assert_eq!(safe.nonce().call().await.unwrap(), nonce + U256::from(1), "the nonce is spent");
    // the rejection is an empty call to the Safe itself at that nonce,
    // signed by owners 4 and 5 only, though the daemon holds owner 3's key
    let actions = store.actions(id).await.unwrap();
    assert_eq!(actions.len(), 1);
    let rejection = actions[0].safe_tx_hash.unwrap();
    assert_eq!(rejection, safe_tx_hash(&w, w.safe, &Bytes::new(), nonce).await);
    let mut signers: Vec<Address> =
        store.signatures(rejection).await.unwrap().into_iter().map(|s| s.signer).collect();
    signers.sort();
    let mut expected = vec![o4, o5];
    expected.sort();
    assert_eq!(signers, expected, "owner 3 is compromised and never signs");

    // the malicious SafeTx, now with two owner signatures, can never execute
    let err = safe
        .execTransaction(
            w.safe,
            U256::ZERO,
            evil,
            0,
            U256::ZERO,
            U256::ZERO,
            U256::ZERO,
            Address::ZERO,
            Address::ZERO,
            packed,
        )
        .from(w.chain.dev_address(6))
        .call()
        .await
        .unwrap_err();
    assert!(err.to_string().contains("GS026"), "{err}");
    assert_eq!(safe.getOwners().call().await.unwrap(), [o3, o4, o5]);
    verify_chain(&store.timeline(id).await.unwrap()).unwrap();
}

#[tokio::test]
async fn anvil_rotate_signer_swaps_owner_3_for_a_standby_owner_in_one_transaction() {
    let w = World::new(Pauser::Guardian).await.unwrap();
    let safe = ISafe::new(w.safe, w.chain.provider());
    let (o3, o4, o5, standby) = (
        w.chain.dev_address(3),
        w.chain.dev_address(4),
        w.chain.dev_address(5),
        w.chain.dev_address(8),
    );
    let mut text =
        plan_text(&w, r#"{ id = "rotate", kind = "rotate_signer", safe = "emergency" }"#, "");
    text = text
        .replace("threshold = 2\n", &format!("threshold = 2\nstandby_owners = [\"{standby}\"]\n"));
    let (store, executor, id, _dir) = open(&w, &text, o3).await;
    let before = w.chain.block_number().await.unwrap();
    finish(&executor, &store, id).await;

    let steps = store.steps(id).await.unwrap();
    assert_eq!(steps[0].status, StepStatus::Succeeded, "{:?}", steps[0].detail);
    // the standby owner takes owner 3's place; the threshold stays 2
    assert_eq!(safe.getOwners().call().await.unwrap(), [standby, o4, o5]);
    assert_eq!(safe.getThreshold().call().await.unwrap(), U256::from(2));
    // one transaction: one action, one execTransaction mined
    let actions = store.actions(id).await.unwrap();
    assert_eq!(actions.len(), 1);
    assert_eq!(actions[0].attempts.len(), 1);
    let mut execs = 0;
    for n in before..=w.chain.block_number().await.unwrap() {
        let block = w.chain.provider().get_block_by_number(n.into()).full().await.unwrap().unwrap();
        execs += block
            .transactions
            .into_transactions()
            .filter(|t| {
                use alloy::consensus::Transaction as _;
                t.to() == Some(w.safe)
            })
            .count();
    }
    assert_eq!(execs, 1, "the swap is one transaction");
    let signers: Vec<Address> = store
        .signatures(actions[0].safe_tx_hash.unwrap())
        .await
        .unwrap()
        .into_iter()
        .map(|s| s.signer)
        .collect();
    assert!(!signers.contains(&o3), "the compromised owner signed its own removal: {signers:?}");
}

#[tokio::test]
async fn anvil_revoke_roles_removes_every_role_of_an_account_on_two_contracts_found_on_chain() {
    let w = World::new(Pauser::Guardian).await.unwrap();
    let (admin, ops) = (w.chain.dev_address(0), w.chain.dev_address(7));
    // a second AccessControl contract, where `ops` is the pauser
    let pool = deploy_vault(&w.chain, admin, ops).await.unwrap();
    let vault = LendingVault::new(w.vault.vault, w.chain.provider());
    let pool_c = LendingVault::new(pool.vault, w.chain.provider());
    let pauser = vault.PAUSER_ROLE().call().await.unwrap();
    let minter = alloy::primitives::keccak256("MINTER_ROLE"); // a role with no function behind it
    let grants = [
        (&vault, pauser, ops),
        (&vault, minter, ops),
        (&pool_c, B256::ZERO, ops),
        (&vault, B256::ZERO, w.safe),
        (&pool_c, B256::ZERO, w.safe),
    ];
    for (c, role, who) in grants {
        let r =
            c.grantRole(role, who).from(admin).send().await.unwrap().get_receipt().await.unwrap();
        assert!(r.status());
    }
    let fixtures = firebreak_test_utils::repo_root().join("crates/devnet/fixtures");
    let extra = format!(
        r#"
[contracts.pool]
chain = "local"
address = "{}"
abi = {{ artifact = "{}/LendingVault.json" }}
pausable = false
"#,
        pool.vault,
        fixtures.display()
    );
    let text = plan_text(
        &w,
        r#"{ id = "revoke", kind = "revoke_roles", contracts = ["vault", "pool"], via = [{ safe = "emergency" }] }"#,
        &extra,
    );
    let (store, executor, id, _dir) = open(&w, &text, ops).await;
    finish(&executor, &store, id).await;

    let steps = store.steps(id).await.unwrap();
    assert_eq!(steps[0].status, StepStatus::Succeeded, "{:?}", steps[0].detail);
    let held = [(&vault, pauser), (&vault, minter), (&pool_c, pauser), (&pool_c, B256::ZERO)];
    for (c, role) in held {
        assert!(
            !c.hasRole(role, ops).call().await.unwrap(),
            "{role} still held on {}: {:?} {:?}",
            c.address(),
            steps[0].detail,
            store.actions(id).await.unwrap()
        );
    }
    // the others keep theirs
    assert!(vault.hasRole(B256::ZERO, admin).call().await.unwrap());
    assert!(vault.hasRole(pauser, w.chain.dev_address(1)).call().await.unwrap());
    assert!(pool_c.hasRole(B256::ZERO, w.safe).call().await.unwrap());
    // all four revocations in one SafeTx (a MultiSend batch)
    let actions = store.actions(id).await.unwrap();
    assert_eq!(actions.len(), 1, "{actions:?}");
    assert_eq!(actions[0].key.contracts.len(), 4, "{}", actions[0].key);
    verify_chain(&store.timeline(id).await.unwrap()).unwrap();
}

#[tokio::test]
async fn anvil_sweep_moves_a_hot_wallets_tokens_then_its_eth_but_never_with_a_stolen_key() {
    use firebreak_test_utils::{IERC20, MockUSDC};
    let w = World::new(Pauser::Guardian).await.unwrap();
    let (hot, cold) = (w.chain.dev_address(9), Address::repeat_byte(0xc0));
    let usdc = IERC20::new(w.vault.asset, w.chain.provider());
    let minted = U256::from(5_000_000_000u64);
    MockUSDC::new(w.vault.asset, w.chain.provider())
        .mint(hot, minted)
        .send()
        .await
        .unwrap()
        .get_receipt()
        .await
        .unwrap();
    let eth_before = w.chain.provider().get_balance(hot).await.unwrap();
    let sweep = format!(
        r#"{{ id = "sweep", kind = "sweep", from = "hot-wallet", to = "{cold}", tokens = ["usdc"] }}"#
    );
    let extra = format!(
        r#"
[signers.hot-wallet]
anvil_account = 9
[monitors.hot-wallet-used]
severity = "P1"
chain = "local"
rule = "tx from hot-wallet where !tx.firebreak"
playbook = "sweep-self"
[playbooks.sweep-self]
steps = [{{ id = "sweep", kind = "sweep", from = "hot-wallet", to = "{cold}", tokens = ["usdc"] }}]
"#
    );
    let text = plan_text(&w, &sweep, &extra);

    // the wallet's own key is the stolen one: the sweep refuses to sign with it
    let plan = Arc::new(w.load_plan(&text).unwrap());
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(SqliteStore::open(&dir.path().join("t.db")).await.unwrap());
    let executor = crate::executor(&w, &plan, &store).await;
    let mut own = w.alert("P1", "hot-1");
    own.monitor = "hot-wallet-used".into();
    own.playbook = Some("sweep-self".into());
    own.evidence.insert("tx.from".into(), hot.to_string());
    let id = IncidentManager::new(plan.clone(), store.clone()).on_alert(&own).await.unwrap();
    finish(&executor, &store, id.incident).await;
    let steps = store.steps(id.incident).await.unwrap();
    assert_eq!(steps[0].status, StepStatus::Failed);
    assert!(
        steps[0].detail.as_deref().unwrap().contains("is the compromised account"),
        "{steps:?}"
    );
    assert!(store.actions(id.incident).await.unwrap().is_empty(), "nothing signed");
    assert_eq!(usdc.balanceOf(hot).call().await.unwrap(), minted);

    // another key is stolen: the hot wallet is emptied to the cold address
    let (store, executor, id, _dir2) = open(&w, &text, w.chain.dev_address(7)).await;
    finish(&executor, &store, id).await;
    let steps = store.steps(id).await.unwrap();
    assert_eq!(steps[0].status, StepStatus::Succeeded, "{:?}", steps[0].detail);
    assert_eq!(usdc.balanceOf(hot).call().await.unwrap(), U256::ZERO);
    assert_eq!(usdc.balanceOf(cold).call().await.unwrap(), minted);
    let eth_cold = w.chain.provider().get_balance(cold).await.unwrap();
    let eth_left = w.chain.provider().get_balance(hot).await.unwrap();
    assert!(eth_cold > eth_before * U256::from(99) / U256::from(100), "{eth_cold} of {eth_before}");
    assert!(eth_left < U256::from(10u64).pow(U256::from(16)), "{eth_left} left behind");
    let actions = store.actions(id).await.unwrap();
    let labels: Vec<&str> = actions.iter().map(|a| a.key.contracts[0].as_str()).collect();
    assert_eq!(labels, ["sweep-usdc", "sweep-ETH"], "tokens first, then the ETH");
    assert!(actions.iter().all(|a| a.from == hot));
}

#[tokio::test]
async fn anvil_a_rejection_short_of_signatures_names_the_uncompromised_owners_who_can_sign() {
    let w = World::new(Pauser::Guardian).await.unwrap();
    let (o3, o5) = (w.chain.dev_address(3), w.chain.dev_address(5));
    // the daemon holds owners 3 and 4; 3 is stolen, so 4 alone is short of 2
    let mut text =
        plan_text(&w, r#"{ id = "reject", kind = "safe_reject", safe = "emergency" }"#, "");
    text = text.replace(
        r#"hot_signers = ["owner-a", "owner-b", "owner-c"]"#,
        r#"hot_signers = ["owner-a", "owner-b"]"#,
    );
    let (store, executor, id, _dir) = open(&w, &text, o3).await;
    let mut detail = String::new();
    for _ in 0..50 {
        executor.drive(id).await.unwrap();
        detail = store.steps(id).await.unwrap()[0].detail.clone().unwrap_or_default();
        if detail.contains("signatures for SafeTx") {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(detail.contains("has 1 of 2 signatures"), "{detail}");
    assert!(
        detail.contains(&format!(
            "uncompromised owners who have not signed: {o5}; never {o3}, the compromised account"
        )),
        "{detail}"
    );
    // owner 5 signs in the war room; the rejection then lands
    let action = store.actions(id).await.unwrap().remove(0);
    let link = w.link().await.unwrap();
    let five = w.chain.dev_signer(5);
    firebreak_respond::submit_signature(
        &*store,
        &link,
        &action,
        &five,
        firebreak_primitives::Actor::Member("carol".into()),
    )
    .await
    .unwrap();
    finish(&executor, &store, id).await;
    assert_eq!(store.steps(id).await.unwrap()[0].status, StepStatus::Succeeded);
}

#[tokio::test]
async fn anvil_transfer_ownership_hands_an_ownable_contract_to_the_recovery_safe() {
    let w = World::new(Pauser::Guardian).await.unwrap();
    let owner = || async {
        let req = alloy::rpc::types::TransactionRequest::default()
            .to(w.vault.asset)
            .input(Bytes::from(vec![0x8d, 0xa5, 0xcb, 0x5b]).into()); // owner()
        let out = w.chain.provider().call(req).await.unwrap();
        Address::from_slice(&out[12..32])
    };
    assert_eq!(owner().await, w.chain.dev_address(0), "the deployer owns the USDC fixture");
    let text = plan_text(
        &w,
        r#"{ id = "hand-over", kind = "transfer_ownership", contract = "usdc", to = "emergency", via = [{ signer = "deployer" }] }"#,
        "[signers.deployer]\nanvil_account = 0\n",
    );
    let (store, executor, id, _dir) = open(&w, &text, w.chain.dev_address(7)).await;
    finish(&executor, &store, id).await;
    let steps = store.steps(id).await.unwrap();
    assert_eq!(steps[0].status, StepStatus::Succeeded, "{:?}", steps[0].detail);
    assert_eq!(owner().await, w.safe, "the Safe owns it now");
}
