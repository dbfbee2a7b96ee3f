//! The monitors teams ask for (docs/cookbook.md), each made to fire on
//! anvil by the action it exists for, and each kept quiet by the honest
//! traffic around it. One chain, one plan with every recipe; the chain is
//! replayed block by block through the detector and each recipe's alerts
//! are checked against the blocks of its own action.

use std::collections::BTreeMap;

use alloy::{
    network::TransactionBuilder,
    primitives::{Address, B256, Bytes, U256},
    providers::Provider,
    rpc::types::TransactionRequest,
    sol,
    sol_types::{SolCall, SolValue},
};
use firebreak_node::Detector;
use firebreak_test_utils::{
    Chain, ISafe, LendingVault, MockUSDC, deploy_safe, deploy_vault, exec_safe_tx, repo_root,
};

use crate::detect::{monitor, plan};

const USDC: u64 = 1_000_000; // 6 decimals

sol! {
    function upgradeAndCall(address proxy, address implementation, bytes data);
    function revokeRole(bytes32 role, address account);
}

/// Each recipe: (monitor id, severity, rule). The rules are the ones in
/// docs/cookbook.md.
fn recipes() -> Vec<(&'static str, &'static str, String)> {
    let admin_role = format!("0x{}", "00".repeat(32));
    vec![
        (
            "drain-in-one-block",
            "P1",
            "block where balance(usdc, vault) < 50% * prev(balance(usdc, vault))".into(),
        ),
        (
            "slow-drain",
            "P1",
            "event usdc.Transfer where from == vault && sum(value, from == vault, 10 blocks) > 3_500e6"
                .into(),
        ),
        (
            "oracle-deviation",
            "P1",
            "event vault.PriceUpdated where abs(pct_change(newPrice, call(reference.ethPrice()))) > 10%"
                .into(),
        ),
        (
            "supply-jump",
            "P2",
            "block where call(usdc.totalSupply()) > prev(call(usdc.totalSupply())) + 1_000_000e6"
                .into(),
        ),
        (
            "admin-grant-outside-plan",
            "P1",
            format!(
                "preset roles(vault) where event.name == \"RoleGranted\" && role == {admin_role} && !(account in plan.authorities)"
            ),
        ),
        ("proxy-upgrade", "P1", "preset upgrades(proxy)".into()),
        ("safe-changed", "P1", "preset safe_changes(emergency)".into()),
        (
            "guardian-lost-role",
            "P1",
            "preset roles(vault) where event.name == \"RoleRevoked\" && account == guardian".into(),
        ),
    ]
}

async fn mined(chain: &Chain, tx: TransactionRequest) -> u64 {
    let r = chain.provider().send_transaction(tx).await.unwrap().get_receipt().await.unwrap();
    assert!(r.status(), "transaction reverted");
    r.block_number.unwrap()
}

#[tokio::test]
async fn anvil_every_cookbook_recipe_fires_on_its_action_and_not_on_honest_traffic() {
    let chain = Chain::spawn().unwrap();
    let owners = [chain.dev_address(2), chain.dev_address(3), chain.dev_address(4)];
    let (_, safe) = deploy_safe(&chain, &owners, 2).await.unwrap();
    let (admin, guardian) = (chain.dev_address(0), chain.dev_address(1));
    let v = deploy_vault(&chain, admin, guardian).await.unwrap();
    // the reference price feed: a second vault's price (2,000 USDC per ETH)
    let reference = deploy_vault(&chain, admin, guardian).await.unwrap();
    // an upgradeable proxy (OpenZeppelin's TransparentUpgradeableProxy, its
    // ProxyAdmin owned by the admin), in front of the vault's code
    let oz = repo_root().join("tools/node_modules/@openzeppelin/contracts/build/contracts");
    let artifact: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(oz.join("TransparentUpgradeableProxy.json")).unwrap(),
    )
    .unwrap();
    let mut code: Vec<u8> = artifact["bytecode"].as_str().unwrap().parse::<Bytes>().unwrap().into();
    // it refuses to be deployed without a first call: a harmless `paused()`
    let first_call = Bytes::from(vec![0x5c, 0x97, 0x5a, 0xbb]);
    code.extend((v.vault, admin, first_call).abi_encode_params());
    let deployed = chain
        .provider()
        .send_transaction(TransactionRequest::default().with_from(admin).with_deploy_code(code))
        .await
        .unwrap()
        .get_receipt()
        .await
        .unwrap();
    let proxy = deployed.contract_address.unwrap();
    // ERC-1967 admin slot: the ProxyAdmin the proxy created
    let slot: U256 =
        "0xb53127684a568b3173ae13b9f8a6016e243e63b6e8ee1178d6a717850b5d6103".parse().unwrap();
    let word = chain.provider().get_storage_at(proxy, slot).await.unwrap();
    let proxy_admin = Address::from_word(B256::from(word));

    let mut monitors = String::new();
    for (id, severity, rule) in recipes() {
        monitors.push_str(&monitor(id, severity, &rule, ""));
    }
    monitors.push_str(&format!(
        "[contracts.reference]\nchain = \"local\"\naddress = \"{}\"\nabi = {{ artifact = \"{}/crates/devnet/fixtures/LendingVault.json\" }}\npausable = false\n[contracts.proxy]\nchain = \"local\"\naddress = \"{proxy}\"\nabi = {{ artifact = \"{}\" }}\npausable = false\n[safes.emergency]\nchain = \"local\"\naddress = \"{safe}\"\nowners = [\"{}\", \"{}\", \"{}\"]\nthreshold = 2\n",
        reference.vault,
        repo_root().display(),
        oz.join("TransparentUpgradeableProxy.json").display(),
        owners[0],
        owners[1],
        owners[2],
    ));
    let plan = plan(&chain, &v, safe, &monitors);
    let mut detector = Detector::new(&plan, "local").unwrap();
    assert_eq!(detector.monitors(), recipes().len());
    let start = chain.block_number().await.unwrap() + 1;

    let vault = LendingVault::new(v.vault, chain.provider());
    let usdc = MockUSDC::new(v.asset, chain.provider());
    let eth = U256::from(10u128.pow(18));
    // (recipe, blocks where its action happened) and the honest blocks
    let mut expected: BTreeMap<&str, Vec<u64>> = BTreeMap::new();
    let mut honest = Vec::new();
    let borrow = |from: Address, usdc: u64, collateral: U256| {
        vault.borrow(U256::from(usdc * USDC)).from(from).value(collateral)
    };

    // honest traffic: a small borrow, a +2 % price update, a small mint
    let b = borrow(chain.dev_address(5), 1_000, eth).send().await.unwrap();
    honest.push(b.get_receipt().await.unwrap().block_number.unwrap());
    let b = vault.setPrice(U256::from(2_040 * USDC)).from(admin).send().await.unwrap();
    honest.push(b.get_receipt().await.unwrap().block_number.unwrap());
    let b = usdc.mint(chain.dev_address(6), U256::from(10_000 * USDC)).send().await.unwrap();
    honest.push(b.get_receipt().await.unwrap().block_number.unwrap());
    // honest transfers of the same token by others do not feed the vault's outflow
    let erc20 = firebreak_test_utils::IERC20::new(v.asset, chain.provider());
    for _ in 0..3 {
        let t = erc20.transfer(chain.dev_address(7), U256::from(2_000 * USDC));
        let r = t.from(chain.dev_address(6)).send().await.unwrap().get_receipt().await.unwrap();
        honest.push(r.block_number.unwrap());
    }

    // slow drain: 1,000 USDC borrowed in each of three blocks; with the
    // honest 1,000 above, the third crosses 3,500 within ten blocks
    let mut slow = 0;
    for who in [8, 9, 5] {
        let r = borrow(chain.dev_address(who), 1_000, eth).send().await.unwrap();
        slow = r.get_receipt().await.unwrap().block_number.unwrap();
    }
    expected.insert("slow-drain", vec![slow]);

    // the oracle moved 25 % away from the reference feed
    let r = vault.setPrice(U256::from(2_500 * USDC)).from(admin).send().await.unwrap();
    expected.insert("oracle-deviation", vec![r.get_receipt().await.unwrap().block_number.unwrap()]);

    // 5,000,000 USDC minted in one block
    let r = usdc.mint(chain.dev_address(6), U256::from(5_000_000 * USDC)).send().await.unwrap();
    expected.insert("supply-jump", vec![r.get_receipt().await.unwrap().block_number.unwrap()]);

    // the admin role granted to an account outside the plan (and to the
    // plan's own guardian, which is not reported)
    let admin_role = B256::ZERO;
    let r = vault.grantRole(admin_role, guardian).send().await.unwrap();
    honest.push(r.get_receipt().await.unwrap().block_number.unwrap());
    let r = vault.grantRole(admin_role, chain.dev_address(7)).send().await.unwrap();
    expected.insert(
        "admin-grant-outside-plan",
        vec![r.get_receipt().await.unwrap().block_number.unwrap()],
    );

    // the proxy upgraded to new code
    let call = upgradeAndCallCall {
        proxy,
        implementation: reference.vault,
        data: Bytes::from(vec![0x5c, 0x97, 0x5a, 0xbb]),
    };
    let upgrade = mined(
        &chain,
        TransactionRequest::default()
            .with_from(admin)
            .with_to(proxy_admin)
            .with_input(call.abi_encode()),
    )
    .await;
    expected.insert("proxy-upgrade", vec![upgrade]);

    // the Safe's threshold changed
    let call = ISafe::changeThresholdCall { _threshold: U256::from(3) }.abi_encode();
    exec_safe_tx(&chain, safe, safe, call.into(), &[2, 3], 0).await.unwrap();
    let changed = chain.block_number().await.unwrap();
    expected.insert("safe-changed", vec![changed]);

    // the guardian lost its pauser role
    let role = vault.PAUSER_ROLE().call().await.unwrap();
    let revoke = revokeRoleCall { role, account: guardian }.abi_encode();
    let lost = mined(
        &chain,
        TransactionRequest::default().with_from(admin).with_to(v.vault).with_input(revoke),
    )
    .await;
    expected.insert("guardian-lost-role", vec![lost]);

    // drained in one block: the price inflated, then more than half the vault borrowed
    let r = vault.setPrice(U256::from(10_000_000 * USDC)).from(admin).send().await.unwrap();
    let inflate = r.get_receipt().await.unwrap().block_number.unwrap();
    expected.get_mut("oracle-deviation").unwrap().push(inflate);
    let r = borrow(chain.dev_address(4), 600_000, eth).send().await.unwrap();
    let drain = r.get_receipt().await.unwrap().block_number.unwrap();
    expected.insert("drain-in-one-block", vec![drain]);
    // the drain's transfer is outflow too: the slow-drain window fires with it
    expected.get_mut("slow-drain").unwrap().push(drain);

    let end = chain.block_number().await.unwrap();
    let mut fired: BTreeMap<String, Vec<u64>> = BTreeMap::new();
    for n in start..=end {
        for a in detector.process(chain.provider(), n).await.unwrap() {
            let blocks = fired.entry(a.monitor.clone()).or_default();
            if !blocks.contains(&a.block_number) {
                blocks.push(a.block_number);
            }
        }
    }
    assert!(detector.take_errors().is_empty());
    for (id, _, _) in recipes() {
        let got = fired.get(id).cloned().unwrap_or_default();
        assert_eq!(
            &got, &expected[id],
            "recipe `{id}`: fired at {got:?} (honest blocks {honest:?})"
        );
    }
}
