//! End-to-end detection benchmarks on a loopback anvil (run, not tests):
//!
//!   cargo bench -p firebreak-node --bench e2e -- replay    # replay throughput
//!   cargo bench -p firebreak-node --bench e2e -- latency   # alert latency, 1 s blocks
//!   cargo bench -p firebreak-node --bench e2e -- catchup   # catch-up from a checkpoint
//!
//! replay:  3,000 blocks, each with 2 ERC-20 transfers and 1 ETH transfer,
//!          against 22 monitors (with and without balance probes); blocks per
//!          second, median of 3 runs. FIREBREAK_BENCH_CALLS=1 also measures
//!          the node's own rate for each kind of call.
//! catchup: a watcher restarted from its checkpoint (as `firebreak watch`
//!          leaves it) catching up over 10,000 empty blocks, then over 3,000
//!          blocks of 2 USDC + 1 ETH transfers, against 22 monitors (no
//!          probes), over HTTP and over WebSocket; blocks per second.
//! latency: 200 matching transactions with anvil mining every second; for each,
//!          the time from the block's head notification (an independent
//!          WebSocket subscriber) to the alert leaving the watcher; p50 / p99.
#![allow(missing_docs, clippy::unwrap_used, clippy::print_stdout, clippy::disallowed_methods)]

use std::time::{Duration, Instant};

use alloy::{
    network::TransactionBuilder,
    primitives::U256,
    providers::{Provider, ProviderBuilder},
    rpc::types::TransactionRequest,
};
use firebreak_node::{Detector, WatchEvent, WatchOptions, Watcher};
use firebreak_plan::{CheckOptions, Plan};
use firebreak_test_utils::{
    Chain, DeployedVault, IERC20, LendingVault, MockUSDC, deploy_vault, fixture_monitor,
    fixture_plan, monitors_22, repo_root,
};

const USDC: u64 = 1_000_000;

fn plan(chain: &Chain, v: &DeployedVault, monitors: &str) -> Plan {
    let text = fixture_plan(chain, v, chain.dev_address(9), monitors);
    let checked =
        firebreak_detect::check_source("bench.toml", &text, &repo_root(), &CheckOptions::default());
    assert_eq!(checked.report.errors(), 0, "{}", checked.report.render());
    checked.plan.unwrap()
}

/// Mines `n` blocks of 2 USDC transfers and 1 ETH transfer each (manual
/// mining from here on); returns the first block and when preparing began.
async fn busy_blocks(chain: &Chain, v: &DeployedVault, n: usize) -> (u64, Instant) {
    let usdc = MockUSDC::new(v.asset, chain.provider());
    usdc.mint(chain.dev_address(2), U256::from(1_000_000 * USDC))
        .send()
        .await
        .unwrap()
        .get_receipt()
        .await
        .unwrap();
    let _: serde_json::Value =
        chain.provider().raw_request("evm_setAutomine".into(), (false,)).await.unwrap();
    let start = chain.block_number().await.unwrap() + 1;
    let erc20 = IERC20::new(v.asset, chain.provider());
    let (a, b, c) = (chain.dev_address(2), chain.dev_address(3), chain.dev_address(4));
    let mut nonce_a = chain.provider().get_transaction_count(a).await.unwrap();
    let mut nonce_c = chain.provider().get_transaction_count(c).await.unwrap();
    let t0 = Instant::now();
    for _ in 0..n {
        for _ in 0..2 {
            let _pending = erc20
                .transfer(b, U256::from(USDC))
                .from(a)
                .nonce(nonce_a)
                .gas(60_000)
                .max_fee_per_gas(10_000_000_000)
                .max_priority_fee_per_gas(1)
                .send()
                .await
                .unwrap();
            nonce_a += 1;
        }
        let tx = TransactionRequest::default()
            .with_from(c)
            .with_to(b)
            .with_value(U256::from(1))
            .with_nonce(nonce_c)
            .with_gas_limit(21_000)
            .with_max_fee_per_gas(10_000_000_000)
            .with_max_priority_fee_per_gas(1);
        let _pending = chain.provider().send_transaction(tx).await.unwrap();
        nonce_c += 1;
        let _: serde_json::Value =
            chain.provider().raw_request("evm_mine".into(), ()).await.unwrap();
    }
    (start, t0)
}

async fn replay() {
    let chain = Chain::spawn().unwrap();
    let v = deploy_vault(&chain, chain.dev_address(0), chain.dev_address(1)).await.unwrap();
    let with_probes = plan(&chain, &v, &monitors_22(true));
    let without_probes = plan(&chain, &v, &monitors_22(false));
    let (start, t0) = busy_blocks(&chain, &v, 3_000).await;
    let end = chain.block_number().await.unwrap();
    println!("prepared blocks {start}..={end} in {:.1}s", t0.elapsed().as_secs_f64());
    let provider = ProviderBuilder::new().connect_http(chain.http_url().parse().unwrap());
    if std::env::var_os("FIREBREAK_BENCH_CALLS").is_some() {
        use futures::StreamExt as _;
        let t = Instant::now();
        futures::stream::iter(start..=end)
            .map(|n| {
                let p = provider.clone();
                async move { p.get_block_by_number(n.into()).full().await.unwrap() }
            })
            .buffered(64)
            .for_each(|_| async {})
            .await;
        println!("blocks (full): {:.0}/s", 3000.0 / t.elapsed().as_secs_f64());
        let t = Instant::now();
        futures::stream::iter(start..=end)
            .map(|n| {
                let p = provider.clone();
                async move { p.get_block_receipts(n.into()).await.unwrap() }
            })
            .buffered(64)
            .for_each(|_| async {})
            .await;
        println!("receipts: {:.0}/s", 3000.0 / t.elapsed().as_secs_f64());
        let t = Instant::now();
        futures::stream::iter(start..=end)
            .map(|n| {
                let p = provider.clone();
                let a = chain.dev_address(2);
                async move { p.get_balance(a).block_id(n.into()).await.unwrap() }
            })
            .buffered(64)
            .for_each(|_| async {})
            .await;
        println!("balance: {:.0}/s", 3000.0 / t.elapsed().as_secs_f64());
        let t = Instant::now();
        futures::stream::iter(start..=end)
            .map(|n| {
                let p = provider.clone();
                async move { firebreak_chain::fetch_block(&p, 31337, n).await.unwrap() }
            })
            .buffered(64)
            .for_each(|_| async {})
            .await;
        println!("fetch_block (block + receipts): {:.0}/s", 3000.0 / t.elapsed().as_secs_f64());
        let blocks: Vec<_> = futures::stream::iter(start..=end)
            .map(|n| {
                let p = provider.clone();
                async move { firebreak_chain::fetch_block(&p, 31337, n).await.unwrap() }
            })
            .buffered(64)
            .collect()
            .await;
        let mut engine = firebreak_detect::Engine::new(
            firebreak_detect::monitor_specs(&without_probes).unwrap(),
        );
        let t = Instant::now();
        for b in &blocks {
            engine.process_block(b, &firebreak_detect::NoState);
        }
        println!(
            "engine alone over the same blocks: {:.0} blocks/s",
            3000.0 / t.elapsed().as_secs_f64()
        );
        let mut d = Detector::new(&without_probes, "local").unwrap();
        let t = Instant::now();
        d.replay(&provider, start, end, 64, |_, _, _| {}).await.unwrap();
        println!(
            "Detector::replay without probes: {:.0} blocks/s",
            3000.0 / t.elapsed().as_secs_f64()
        );
        let t = Instant::now();
        let filter = alloy::rpc::types::Filter::new()
            .from_block(start)
            .to_block(end)
            .address(vec![v.asset, v.vault]);
        let logs = provider.get_logs(&filter).await.unwrap();
        println!(
            "getLogs over 3000 blocks: {} logs in {:.3}s",
            logs.len(),
            t.elapsed().as_secs_f64()
        );
    }
    for (label, p) in
        [("with 3 balance-probe monitors", &with_probes), ("without probes", &without_probes)]
    {
        let mut rates = Vec::new();
        for run in 1..=3 {
            let mut d = Detector::new(p, "local").unwrap();
            let t = Instant::now();
            let mut alerts = 0;
            d.replay(&provider, start, end, 64, |_, a, _| alerts += a.len()).await.unwrap();
            let secs = t.elapsed().as_secs_f64();
            let rate = (end - start + 1) as f64 / secs;
            println!(
                "replay run {run}: {} blocks x {} monitors in {secs:.2}s = {rate:.0} blocks/s ({alerts} alerts)",
                end - start + 1,
                d.monitors()
            );
            rates.push(rate);
        }
        rates.sort_by(f64::total_cmp);
        println!("replay throughput {label} (median of 3): {:.0} blocks/s", rates[1]);
    }
    // monitors fed by logs only: a replay by log ranges against one block by block
    let events_only = plan(&chain, &v, &events_only_monitors());
    let busy = (start, end);
    let _: serde_json::Value =
        chain.provider().raw_request("anvil_mine".into(), (U256::from(10_000),)).await.unwrap();
    let quiet = (end + 1, chain.block_number().await.unwrap());
    for (label, (from, to)) in
        [("the busy blocks", busy), ("10,000 blocks without a matching log", quiet)]
    {
        let mut line = Vec::new();
        for by_logs in [true, false] {
            let mut d = Detector::new(&events_only, "local").unwrap();
            let t = Instant::now();
            let mut alerts = 0;
            let count = |_, a: Vec<_>, _| alerts += a.len();
            if by_logs {
                let filter = d.log_filter().unwrap();
                d.replay_logs(&provider, from, to, filter, 64, count).await.unwrap();
            } else {
                d.replay_blocks(&provider, from, to, 64, count).await.unwrap();
            }
            let rate = (to - from + 1) as f64 / t.elapsed().as_secs_f64();
            line.push(format!(
                "{} {rate:.0} blocks/s ({alerts} alerts)",
                if by_logs { "by log range" } else { "block by block" }
            ));
        }
        println!(
            "replay, {} event monitors, {label}: {}",
            events_only.monitors.len(),
            line.join(", ")
        );
    }
}

/// The 22 monitors' event monitors only (transfers, borrows, windows).
fn events_only_monitors() -> String {
    monitors_22(false)
        .split("[monitors.")
        .filter(|m| m.contains("rule = 'event") || m.contains("rule = \"event"))
        .map(|m| format!("[monitors.{m}"))
        .collect()
}

async fn latency() {
    let chain = Chain::spawn_with(|a| a.block_time(1)).unwrap();
    let v = deploy_vault(&chain, chain.dev_address(0), chain.dev_address(1)).await.unwrap();
    let p = plan(
        &chain,
        &v,
        &fixture_monitor("price", "P1", "call vault.setPrice where price > 10_000e6", ""),
    );
    let mut watcher = Watcher::new(
        &p,
        "local",
        WatchOptions { poll_interval: Duration::from_millis(250), ..WatchOptions::default() },
    )
    .unwrap()
    .with_endpoints(vec![chain.ws_url()]);
    // an independent subscriber timestamps each head as the node announces it
    let heads_provider = ProviderBuilder::new().connect(&chain.ws_url()).await.unwrap();
    let mut heads = heads_provider.subscribe_blocks().await.unwrap();
    let (head_tx, mut head_rx) = tokio::sync::mpsc::unbounded_channel();
    tokio::spawn(async move {
        while let Ok(h) = heads.recv().await {
            let _ = head_tx.send((h.number, Instant::now()));
        }
    });
    let (alert_tx, mut alert_rx) = tokio::sync::mpsc::unbounded_channel();
    // the watcher runs in this task, concurrently with the driver below
    let watch_fut = async move {
        let mut emit = |e: WatchEvent| {
            if let WatchEvent::Alert { alert } = e {
                let _ = alert_tx.send((alert.block_number, Instant::now()));
            }
        };
        watcher.run(&mut emit, std::future::pending()).await;
    };
    let vault = LendingVault::new(v.vault, chain.provider());
    let attacker = chain.dev_address(4);
    let samples: u64 =
        std::env::var("FIREBREAK_LATENCY_SAMPLES").ok().and_then(|v| v.parse().ok()).unwrap_or(200);
    let driver = async {
        let mut head_times = std::collections::HashMap::new();
        let mut latencies = Vec::new();
        for i in 0..samples {
            // one matching transaction per block
            let _pending =
                vault.setPrice(U256::from(20_000 * USDC + i)).from(attacker).send().await.unwrap();
            let (block, alerted) = alert_rx.recv().await.unwrap();
            if i == 0 {
                println!("first alert in block {block}");
            }
            while let Ok((n, t)) = head_rx.try_recv() {
                head_times.insert(n, t);
            }
            while !head_times.contains_key(&block) {
                let (n, t) = head_rx.recv().await.unwrap();
                head_times.insert(n, t);
            }
            let announced = head_times[&block];
            latencies.push(alerted.saturating_duration_since(announced));
        }
        latencies
    };
    let mut latencies = tokio::select! {
        () = watch_fut => unreachable!("the watcher runs until dropped"),
        l = driver => l,
    };
    latencies.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    println!(
        "alert latency over {samples} txs (1 s blocks, ws): p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms",
        ms(latencies[samples as usize / 2]),
        ms(latencies[samples as usize * 99 / 100]),
        ms(*latencies.last().unwrap())
    );
}

/// A watcher with a store that has just checkpointed the head, as
/// `firebreak watch` leaves it.
async fn checkpointed(
    p: &Plan,
    endpoint: &str,
    store: &std::sync::Arc<firebreak_store::SqliteStore>,
) -> Watcher {
    let mut w = Watcher::new(p, "local", WatchOptions::default())
        .unwrap()
        .with_endpoints(vec![endpoint.to_owned()])
        .with_store(store.clone() as std::sync::Arc<dyn firebreak_store::AlertStore>);
    w.step(&mut |_| {}).await;
    w
}

/// Times a restarted watcher catching up from its checkpoint to block `to`
/// (`blocks` blocks).
async fn catch_up(
    name: &str,
    p: &Plan,
    endpoint: &str,
    store: &std::sync::Arc<firebreak_store::SqliteStore>,
    (to, blocks): (u64, u64),
) {
    let mut w = Watcher::new(p, "local", WatchOptions::default())
        .unwrap()
        .with_endpoints(vec![endpoint.to_owned()])
        .with_store(store.clone() as std::sync::Arc<dyn firebreak_store::AlertStore>);
    let t = Instant::now();
    // by log range, blocks without a matching log are not processed one by
    // one: progress is the next block to process
    while w.next_block().is_none_or(|n| n <= to) {
        w.step(&mut |e| {
            if let WatchEvent::EndpointFailed { error, .. } = e {
                println!("  endpoint failed: {error}");
            }
        })
        .await;
    }
    let secs = t.elapsed().as_secs_f64();
    println!("{name}: {blocks} blocks in {secs:.2}s = {:.0} blocks/s", blocks as f64 / secs);
}

async fn catchup() {
    let only_busy = std::env::var_os("FIREBREAK_BENCH_BUSY_ONLY").is_some();
    for busy in [false, true] {
        if only_busy && !busy {
            continue;
        }
        for ws in [false, true] {
            // a chain each: preparing busy blocks leaves automine off
            let chain = Chain::spawn().unwrap();
            let v = deploy_vault(&chain, chain.dev_address(0), chain.dev_address(1)).await.unwrap();
            let p = plan(&chain, &v, &monitors_22(false));
            let endpoint = if ws { chain.ws_url() } else { chain.http_url() };
            let dir = tempfile::tempdir().unwrap();
            let store = std::sync::Arc::new(
                firebreak_store::SqliteStore::open(&dir.path().join("watch.db")).await.unwrap(),
            );
            let _ = checkpointed(&p, &endpoint, &store).await;
            // monitors fed by logs only catch up by log range
            let events = plan(&chain, &v, &events_only_monitors());
            let events_dir = tempfile::tempdir().unwrap();
            let events_store = std::sync::Arc::new(
                firebreak_store::SqliteStore::open(&events_dir.path().join("watch.db"))
                    .await
                    .unwrap(),
            );
            let _ = checkpointed(&events, &endpoint, &events_store).await;
            let kind = if endpoint.starts_with("ws") { "WebSocket" } else { "HTTP" };
            let (what, blocks) = if busy {
                let (start, _) = busy_blocks(&chain, &v, 3_000).await;
                let end = chain.block_number().await.unwrap();
                ("3 transfers a block", (end, end - start + 1))
            } else {
                let _: serde_json::Value =
                    chain.provider().raw_request("anvil_mine".into(), (10_000u64,)).await.unwrap();
                ("empty blocks", (chain.block_number().await.unwrap(), 10_000))
            };
            let name = format!("catch-up over {kind}, 22 monitors, {what}");
            catch_up(&name, &p, &endpoint, &store, blocks).await;
            let name = format!(
                "catch-up over {kind}, {} event monitors (by log range), {what}",
                events.monitors.len()
            );
            catch_up(&name, &events, &endpoint, &events_store, blocks).await;
        }
    }
}

fn main() {
    let which: Vec<String> = std::env::args().skip(1).filter(|a| !a.starts_with("--")).collect();
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let all = which.is_empty();
    if all || which.iter().any(|w| w == "replay") {
        runtime.block_on(replay());
    }
    if all || which.iter().any(|w| w == "latency") {
        runtime.block_on(latency());
    }
    if all || which.iter().any(|w| w == "catchup") {
        runtime.block_on(catchup());
    }
}
