//! `firebreak watch` live and `firebreak replay` afterwards see the same alerts
//! over 1,000 anvil blocks.

use std::process::{Command, Stdio};

use alloy::{primitives::U256, providers::Provider};
use firebreak_test_utils::{
    Chain, IERC20, LendingVault, MockUSDC, deploy_vault, fixture_monitor, fixture_plan,
};

const USDC: u64 = 1_000_000;

fn alerts_of_watch(stdout: &str) -> Vec<serde_json::Value> {
    stdout
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .filter(|v| v["type"] == "alert")
        .map(|v| v["alert"].clone())
        .collect()
}

#[tokio::test]
async fn anvil_replay_prints_the_alerts_watch_printed_live() {
    let chain = Chain::spawn().unwrap();
    let v = deploy_vault(&chain, chain.dev_address(0), chain.dev_address(1)).await.unwrap();
    let monitors = [
        fixture_monitor("deposit", "P5", "event vault.Deposit", ""),
        fixture_monitor("price", "P1", "event vault.PriceUpdated where newPrice > 10_000e6", ""),
        fixture_monitor(
            "drain",
            "P1",
            "block where balance(usdc, vault) < 80% * prev(balance(usdc, vault))",
            "",
        ),
        fixture_monitor(
            "withdrawals",
            "P2",
            "event vault.Withdraw where sum(amount, 500 blocks) > 150_000e6",
            "cooldown = \"1h\"",
        ),
    ]
    .concat();
    let dir = tempfile::tempdir().unwrap();
    let plan = dir.path().join("drill.toml");
    std::fs::write(&plan, fixture_plan(&chain, &v, chain.dev_address(9), &monitors)).unwrap();

    let start = chain.block_number().await.unwrap() + 1;
    let end = start + 999;
    let watch = Command::new(env!("CARGO_BIN_EXE_firebreak"))
        .args(["watch", plan.to_str().unwrap(), "--chain", "local", "--json", "--poll", "20ms"])
        .args(["--from", &start.to_string(), "--until", &end.to_string()])
        .args(["--db", dir.path().join("firebreak.db").to_str().unwrap()])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();

    // traffic while the watcher runs: 12 transactions and empty blocks up to 1,000 blocks
    let vault = LendingVault::new(v.vault, chain.provider());
    let usdc = MockUSDC::new(v.asset, chain.provider());
    let lender = chain.dev_address(2);
    let mut sent = 0u64;
    usdc.mint(lender, U256::from(50_000 * USDC)).send().await.unwrap().get_receipt().await.unwrap();
    IERC20::new(v.asset, chain.provider())
        .approve(v.vault, U256::MAX)
        .from(lender)
        .send()
        .await
        .unwrap()
        .get_receipt()
        .await
        .unwrap();
    sent += 2;
    for round in 0..4u64 {
        vault
            .deposit(U256::from((round + 1) * 1_000 * USDC))
            .from(lender)
            .send()
            .await
            .unwrap()
            .get_receipt()
            .await
            .unwrap();
        vault
            .withdraw(U256::from(60_000 * USDC))
            .send()
            .await
            .unwrap()
            .get_receipt()
            .await
            .unwrap();
        sent += 2;
        let _: serde_json::Value =
            chain.provider().raw_request("anvil_mine".into(), (U256::from(100),)).await.unwrap();
        sent += 100;
    }
    vault
        .setPrice(U256::from(1_000_000 * USDC))
        .from(chain.dev_address(4))
        .send()
        .await
        .unwrap()
        .get_receipt()
        .await
        .unwrap();
    vault
        .borrow(U256::from(600_000 * USDC))
        .from(chain.dev_address(4))
        .value(U256::from(10u128.pow(18)))
        .send()
        .await
        .unwrap()
        .get_receipt()
        .await
        .unwrap();
    sent += 2;
    let rest = 1000 - sent;
    let _: serde_json::Value =
        chain.provider().raw_request("anvil_mine".into(), (U256::from(rest),)).await.unwrap();
    assert_eq!(chain.block_number().await.unwrap(), end);

    let out = watch.wait_with_output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let live = alerts_of_watch(&String::from_utf8_lossy(&out.stdout));

    let replay = Command::new(env!("CARGO_BIN_EXE_firebreak"))
        .args(["replay", plan.to_str().unwrap(), "--chain", "local", "--json"])
        .args(["--from", &start.to_string(), "--to", &end.to_string()])
        .output()
        .unwrap();
    assert!(replay.status.success(), "{}", String::from_utf8_lossy(&replay.stderr));
    let replayed: Vec<serde_json::Value> = String::from_utf8_lossy(&replay.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let stderr = String::from_utf8_lossy(&replay.stderr);
    assert!(stderr.contains("(1000 blocks, 4 monitors)"), "{stderr}");

    // live, an alert waits for its monitor's confirmations (1 by default below
    // P2), so the order across monitors can differ: compare in chain order
    let key = |a: &serde_json::Value| {
        (
            a["block_number"].as_u64(),
            a["log_index"].as_u64().map_or(-1, |i| i as i64),
            a["monitor"].to_string(),
        )
    };
    let (mut live, mut replayed) = (live, replayed);
    live.sort_by_key(key);
    replayed.sort_by_key(key);
    let brief: Vec<(u64, &str)> = live
        .iter()
        .map(|a| (a["block_number"].as_u64().unwrap(), a["monitor"].as_str().unwrap()))
        .collect();
    let monitors: Vec<&str> = brief.iter().map(|(_, m)| *m).collect();
    assert_eq!(
        monitors,
        vec!["deposit", "deposit", "deposit", "withdrawals", "deposit", "price", "drain"],
        "{brief:?}"
    );
    assert_eq!(live, replayed);
}

#[tokio::test]
async fn anvil_watch_warns_about_an_endpoint_whose_secret_is_unset() {
    let chain = Chain::spawn().unwrap();
    let v = deploy_vault(&chain, chain.dev_address(0), chain.dev_address(1)).await.unwrap();
    let text = fixture_plan(
        &chain,
        &v,
        chain.dev_address(9),
        &fixture_monitor("deposit", "P5", "event vault.Deposit", ""),
    )
    .replace("rpc = [", "rpc = [{ env = \"FB_TEST_UNSET_RPC_URL\" }, ");
    let dir = tempfile::tempdir().unwrap();
    let plan = dir.path().join("drill.toml");
    std::fs::write(&plan, text).unwrap();
    let head = chain.block_number().await.unwrap().to_string();
    let out = Command::new(env!("CARGO_BIN_EXE_firebreak"))
        .args(["watch", plan.to_str().unwrap(), "--from", &head, "--until", &head, "--no-db"])
        .env_remove("FB_TEST_UNSET_RPC_URL")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(
        stderr.contains("warning: chain `local`: endpoint <env FB_TEST_UNSET_RPC_URL>: environment variable `FB_TEST_UNSET_RPC_URL` is not set"),
        "{stderr}"
    );
}
