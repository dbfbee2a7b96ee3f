use alloy::{
    network::TransactionBuilder,
    primitives::{Address, U256},
    providers::Provider,
    rpc::types::TransactionRequest,
    sol_types::SolCall,
};
use firebreak_detect::Alert;
use firebreak_node::Detector;
use firebreak_plan::{CheckOptions, Plan};
use firebreak_test_utils::{
    Chain, DeployedVault, IERC20, ISafe, LendingVault, MockUSDC, deploy_safe, deploy_vault,
    exec_safe_tx, fixture_plan, repo_root,
};

const USDC: u64 = 1_000_000; // 6 decimals

/// The fixture plan, checked.
pub(crate) fn plan(chain: &Chain, v: &DeployedVault, safe: Address, monitors: &str) -> Plan {
    let text = fixture_plan(chain, v, safe, monitors);
    let checked =
        firebreak_detect::check_source("drill.toml", &text, &repo_root(), &CheckOptions::default());
    assert_eq!(checked.report.errors(), 0, "{}", checked.report.render());
    checked.plan.unwrap()
}

pub(crate) use firebreak_test_utils::fixture_monitor as monitor;

async fn run(detector: &mut Detector, chain: &Chain, from: u64) -> Vec<Alert> {
    let to = chain.block_number().await.unwrap();
    let mut alerts = Vec::new();
    for n in from..=to {
        alerts.extend(detector.process(chain.provider(), n).await.unwrap());
    }
    assert!(detector.take_errors().is_empty());
    alerts
}

async fn send(chain: &Chain, tx: TransactionRequest) -> u64 {
    let r = chain.provider().send_transaction(tx).await.unwrap().get_receipt().await.unwrap();
    assert!(r.status(), "transaction reverted");
    r.block_number.unwrap()
}

#[tokio::test]
async fn anvil_events_calls_and_probes_fire_the_matching_monitors() {
    let chain = Chain::spawn().unwrap();
    let (_, safe) =
        deploy_safe(&chain, &[chain.dev_address(7), chain.dev_address(8)], 1).await.unwrap();
    let v = deploy_vault(&chain, chain.dev_address(0), chain.dev_address(1)).await.unwrap();
    let monitors = [
        monitor("any-deposit", "P5", "event vault.Deposit", ""),
        monitor("big-borrow", "P2", "event vault.Borrow where amount > 100_000e6", ""),
        monitor("price-set", "P3", "call vault.setPrice where price > 10_000e6", ""),
        monitor(
            "balance-drop",
            "P1",
            "block where balance(usdc, vault) < 80% * prev(balance(usdc, vault))",
            "",
        ),
    ]
    .concat();
    let plan = plan(&chain, &v, safe, &monitors);
    let mut detector = Detector::new(&plan, "local").unwrap();
    assert_eq!(detector.monitors(), 4);
    let start = chain.block_number().await.unwrap() + 1;

    let (vault, usdc) =
        (LendingVault::new(v.vault, chain.provider()), MockUSDC::new(v.asset, chain.provider()));
    let erc20 = IERC20::new(v.asset, chain.provider());
    let (d2, d3, d4) = (chain.dev_address(2), chain.dev_address(3), chain.dev_address(4));
    // a lender deposits 5,000 USDC
    usdc.mint(d2, U256::from(6_000 * USDC)).send().await.unwrap().get_receipt().await.unwrap();
    erc20.approve(v.vault, U256::MAX).from(d2).send().await.unwrap().get_receipt().await.unwrap();
    let deposit_block = vault
        .deposit(U256::from(5_000 * USDC))
        .from(d2)
        .send()
        .await
        .unwrap()
        .get_receipt()
        .await
        .unwrap()
        .block_number
        .unwrap();
    // an honest small borrow: 1 ETH collateral, 1,000 USDC
    vault
        .borrow(U256::from(1_000 * USDC))
        .from(d3)
        .value(U256::from(10u128.pow(18)))
        .send()
        .await
        .unwrap()
        .get_receipt()
        .await
        .unwrap();
    // unrelated traffic: ETH and token transfers that touch no watched rule
    send(
        &chain,
        TransactionRequest::default()
            .with_from(chain.dev_address(5))
            .with_to(chain.dev_address(6))
            .with_value(U256::from(1)),
    )
    .await;
    erc20
        .transfer(d3, U256::from(USDC))
        .from(d2)
        .send()
        .await
        .unwrap()
        .get_receipt()
        .await
        .unwrap();
    // the exploit: inflate the price, then borrow half the vault with 1 ETH
    let price_block = vault
        .setPrice(U256::from(1_000_000 * USDC))
        .from(d4)
        .send()
        .await
        .unwrap()
        .get_receipt()
        .await
        .unwrap()
        .block_number
        .unwrap();
    let drain_block = vault
        .borrow(U256::from(500_000 * USDC))
        .from(d4)
        .value(U256::from(10u128.pow(18)))
        .send()
        .await
        .unwrap()
        .get_receipt()
        .await
        .unwrap()
        .block_number
        .unwrap();

    let alerts = run(&mut detector, &chain, start).await;
    let got: Vec<(&str, u64)> =
        alerts.iter().map(|a| (a.monitor.as_str(), a.block_number)).collect();
    assert_eq!(
        got,
        vec![
            ("any-deposit", deposit_block),
            ("price-set", price_block),
            ("big-borrow", drain_block),
            ("balance-drop", drain_block)
        ],
        "{alerts:#?}"
    );
    let deposit = &alerts[0];
    assert_eq!(deposit.evidence["account"], d2.to_string());
    assert_eq!(deposit.evidence["amount"], (5_000 * USDC).to_string());
    assert_eq!(deposit.evidence["event"], "Deposit");
    assert!(deposit.tx_hash.is_some() && deposit.log_index.is_some());
    let price = &alerts[1];
    assert_eq!(price.evidence["price"], (1_000_000 * USDC).to_string());
    assert_eq!(price.evidence["tx.from"], d4.to_string());
    assert_eq!(price.log_index, None);
    let borrow = &alerts[2];
    assert_eq!(borrow.severity, firebreak_primitives::Severity::P2);
    assert_eq!(borrow.evidence["amount"], (500_000 * USDC).to_string());
    let drop = &alerts[3];
    assert_eq!(drop.tx_hash, None, "a block probe is not tied to a transaction");
    // seeded 1,000,000 + 5,000 deposited - 1,000 borrowed, then 500,000 drained
    assert_eq!(drop.probes["balance(usdc, vault)"], (504_000 * USDC).to_string());
    assert_eq!(drop.probes["prev(balance(usdc, vault))"], (1_004_000 * USDC).to_string());
    // dedup keys are unique
    let mut keys: Vec<_> = alerts.iter().map(|a| a.dedup_key.clone()).collect();
    keys.dedup();
    assert_eq!(keys.len(), alerts.len());
}

#[tokio::test]
async fn anvil_windowed_drain_fires_when_the_sum_crosses() {
    let chain = Chain::spawn().unwrap();
    let v = deploy_vault(&chain, chain.dev_address(0), chain.dev_address(1)).await.unwrap();
    let monitors = monitor(
        "slow-drain",
        "P1",
        "event vault.Withdraw where sum(amount, 5 blocks) > 300_000e6",
        "cooldown = \"1h\"",
    );
    let plan = plan(&chain, &v, chain.dev_address(9), &monitors);
    let mut detector = Detector::new(&plan, "local").unwrap();
    let start = chain.block_number().await.unwrap() + 1;
    let vault = LendingVault::new(v.vault, chain.provider());
    let mut blocks = Vec::new();
    for _ in 0..5 {
        let r = vault
            .withdraw(U256::from(100_000 * USDC))
            .send()
            .await
            .unwrap()
            .get_receipt()
            .await
            .unwrap();
        blocks.push(r.block_number.unwrap());
    }
    let alerts = run(&mut detector, &chain, start).await;
    // 100k, 200k, 300k do not cross; 400k in the 4th block does; the 5th is inside the cooldown
    assert_eq!(alerts.len(), 1, "{alerts:#?}");
    assert_eq!(alerts[0].block_number, blocks[3]);
    assert_eq!(alerts[0].evidence["amount"], (100_000 * USDC).to_string());
}

#[tokio::test]
async fn anvil_admin_presets_fire_on_roles_ownership_unexpected_pauses_and_safe_threshold() {
    let chain = Chain::spawn().unwrap();
    let owners = [chain.dev_address(1), chain.dev_address(2), chain.dev_address(3)];
    let (_, safe) = deploy_safe(&chain, &owners, 2).await.unwrap();
    let v = deploy_vault(&chain, chain.dev_address(0), chain.dev_address(1)).await.unwrap();
    let monitors = "[monitors.admin]\nseverity = \"P3\"\nchain = \"local\"\nrule = \"preset admin_changes(vault, usdc, safe)\"\nplaybook = \"contain\"\n";
    let plan = plan(&chain, &v, safe, monitors);
    let mut detector = Detector::new(&plan, "local").unwrap();
    let start = chain.block_number().await.unwrap() + 1;

    let vault = LendingVault::new(v.vault, chain.provider());
    let role = vault.PAUSER_ROLE().call().await.unwrap();
    vault.grantRole(role, chain.dev_address(6)).send().await.unwrap().get_receipt().await.unwrap();
    // the plan's guardian (dev 1) pausing is expected: not reported
    vault.pause().from(chain.dev_address(1)).send().await.unwrap().get_receipt().await.unwrap();
    // the admin unpausing and the newly granted account pausing are not in the plan
    vault.unpause().from(chain.dev_address(0)).send().await.unwrap().get_receipt().await.unwrap();
    vault.pause().from(chain.dev_address(6)).send().await.unwrap().get_receipt().await.unwrap();
    MockUSDC::new(v.asset, chain.provider())
        .transferOwnership(chain.dev_address(6))
        .send()
        .await
        .unwrap()
        .get_receipt()
        .await
        .unwrap();
    let call = ISafe::changeThresholdCall { _threshold: U256::from(3) }.abi_encode();
    exec_safe_tx(&chain, safe, safe, call.into(), &[1, 2], 0).await.unwrap();
    assert_eq!(
        ISafe::new(safe, chain.provider()).getThreshold().call().await.unwrap(),
        U256::from(3)
    );

    let alerts = run(&mut detector, &chain, start).await;
    let events: Vec<&str> = alerts.iter().map(|a| a.evidence["event"].as_str()).collect();
    assert_eq!(
        events,
        vec!["RoleGranted", "Unpaused", "Paused", "OwnershipTransferred", "ChangedThreshold"],
        "{alerts:#?}"
    );
    assert_eq!(alerts[0].evidence["log.address"], v.vault.to_string());
    assert_eq!(alerts[1].evidence["account"], chain.dev_address(0).to_string());
    assert_eq!(alerts[2].evidence["account"], chain.dev_address(6).to_string());
    assert_eq!(alerts[4].evidence["log.address"], safe.to_string());
}

/// Replays `from..=to` both ways; returns (alerts by logs, alerts block by block).
async fn replay_both(plan: &Plan, chain: &Chain, from: u64, to: u64) -> (Vec<Alert>, Vec<Alert>) {
    let mut by_logs = Detector::new(plan, "local").unwrap();
    let filter = by_logs.log_filter().expect("event monitors only: a log-range replay");
    let (mut a, mut b, mut seen) = (Vec::new(), Vec::new(), Vec::new());
    by_logs
        .replay_logs(chain.provider(), from, to, filter, 8, |n, found, _| {
            seen.push(n);
            a.extend(found);
        })
        .await
        .unwrap();
    // only blocks with a matching log (and the range's end) were evaluated
    assert!(seen.len() < usize::try_from(to - from + 1).unwrap(), "{seen:?}");
    assert_eq!(seen.last(), Some(&to));
    let mut every = Detector::new(plan, "local").unwrap();
    every
        .replay_blocks(chain.provider(), from, to, 8, |_, found, _| b.extend(found))
        .await
        .unwrap();
    (a, b)
}

#[tokio::test]
async fn anvil_a_replay_by_log_ranges_reports_what_a_block_by_block_replay_does() {
    let chain = Chain::spawn().unwrap();
    let v = deploy_vault(&chain, chain.dev_address(0), chain.dev_address(1)).await.unwrap();
    let monitors = [
        monitor("drain", "P1", "event vault.Withdraw where sum(amount, 10 blocks) > 300_000e6", ""),
        monitor("admin", "P3", "preset admin_changes(vault)", ""),
    ]
    .concat();
    let plan = plan(&chain, &v, chain.dev_address(9), &monitors);
    let start = chain.block_number().await.unwrap() + 1;
    let vault = LendingVault::new(v.vault, chain.provider());
    let withdraw = || async {
        let r = vault.withdraw(U256::from(200_000 * USDC)).send().await.unwrap();
        r.get_receipt().await.unwrap().block_number.unwrap()
    };
    // 200k, then 12 empty blocks: the first withdrawal leaves the 10-block
    // window, so the second (200k) does not cross 300k; a third two blocks
    // later (400k in the window) does
    withdraw().await;
    chain.mine(12).await.unwrap();
    withdraw().await;
    chain.mine(2).await.unwrap();
    let crossing = withdraw().await;
    let role = vault.PAUSER_ROLE().call().await.unwrap();
    vault.grantRole(role, chain.dev_address(6)).send().await.unwrap().get_receipt().await.unwrap();
    chain.mine(30).await.unwrap();
    let to = chain.block_number().await.unwrap();

    let (by_logs, block_by_block) = replay_both(&plan, &chain, start, to).await;
    let key = |alerts: &[Alert]| -> Vec<(String, u64)> {
        alerts.iter().map(|a| (a.monitor.clone(), a.block_number)).collect()
    };
    assert_eq!(key(&by_logs), key(&block_by_block));
    let drains: Vec<u64> =
        by_logs.iter().filter(|a| a.monitor == "drain").map(|a| a.block_number).collect();
    assert_eq!(drains, [crossing], "{by_logs:#?}");
    assert!(by_logs.iter().any(|a| a.monitor == "admin"), "{by_logs:#?}");
}
