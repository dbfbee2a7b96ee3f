//! Reaction latency (run, not a test):
//!
//!   cargo bench -p firebreak-node --bench reaction
//!
//! 200 drills on a loopback anvil with the vault fixture and a guardian. Each
//! drill mines an exploit in block N (manual mining), then times the whole
//! response path from the moment block N is known (the head notification)
//! to the pause transaction accepted by the node: fetch block N and its
//! receipts, run the monitors, record the alert and open the incident
//! (SQLite, fsync on), run the playbook step (`eth_call` simulation, gas
//! estimate, nonce, fees, signing, the write-ahead record) and broadcast.
//! Between drills the chain is reverted to a snapshot. Prints p50 / p90 /
//! p99 / max.
#![allow(missing_docs, clippy::unwrap_used, clippy::print_stdout)]

use std::{collections::HashMap, sync::Arc, time::Instant};

use alloy::{primitives::U256, providers::Provider};
use firebreak_node::Detector;
use firebreak_primitives::{Actor, IncidentStatus};
use firebreak_respond::{Executor, IncidentManager};
use firebreak_store::SqliteStore;
use firebreak_store::prelude::*;
use firebreak_test_utils::{LendingVault, Pauser, World, WorldExt as _};

const DRILLS: usize = 200;

async fn rpc(w: &World, method: &'static str, params: serde_json::Value) -> serde_json::Value {
    w.chain.provider().raw_request(method.into(), params).await.unwrap()
}

async fn reaction() {
    let w = World::new(Pauser::Guardian).await.unwrap();
    rpc(&w, "evm_setIntervalMining", serde_json::json!([0])).await;
    rpc(&w, "evm_setAutomine", serde_json::json!([false])).await;
    let text = w.plan_text(r#"[{ signer = "guardian" }]"#, &[]);
    let plan = Arc::new(w.load_plan(&text).unwrap());
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(SqliteStore::open(&dir.path().join("bench.db")).await.unwrap());
    let link = w.link().await.unwrap();
    let executor = Executor::with_links(
        plan.clone(),
        store.clone(),
        HashMap::from([("local".to_owned(), link)]),
    );
    let manager = IncidentManager::new(plan.clone(), store.clone());
    let mut detector = Detector::new(&plan, "local").unwrap();
    let provider = alloy::providers::ProviderBuilder::new()
        .connect_http(w.chain.http_url().parse().unwrap())
        .erased();
    let vault = LendingVault::new(w.vault.vault, w.chain.provider());
    let mut samples = Vec::with_capacity(DRILLS);
    for i in 0..DRILLS {
        let snapshot = rpc(&w, "evm_snapshot", serde_json::json!([])).await;
        // a different price each drill, so each block (and alert) is new
        // an explicit nonce: the provider's nonce cache does not know about reverts
        let nonce = provider.get_transaction_count(w.chain.dev_address(0)).pending().await.unwrap();
        let _pending = vault.setPrice(U256::from(1_000 + i)).nonce(nonce).send().await.unwrap();
        rpc(&w, "evm_mine", serde_json::json!([])).await;
        let n = provider.get_block_number().await.unwrap();
        let t0 = Instant::now();
        let alerts = detector.process(&provider, n).await.unwrap();
        assert_eq!(alerts.len(), 1, "drill {i}: the monitor did not fire");
        let incident = manager.on_alert(&alerts[0]).await.unwrap().incident;
        let more = executor.drive(incident).await.unwrap();
        let elapsed = t0.elapsed();
        assert!(more, "the pause is in flight");
        let actions = store.actions(incident).await.unwrap();
        assert_eq!(actions[0].attempts.len(), 1, "drill {i}: one pause sent");
        samples.push(elapsed);
        store.transition(incident, IncidentStatus::Resolved, Actor::System, None).await.unwrap();
        rpc(&w, "evm_mine", serde_json::json!([])).await;
        rpc(&w, "evm_revert", serde_json::json!([snapshot])).await;
    }
    samples.sort();
    let pct = |p: f64| samples[((samples.len() as f64 - 1.0) * p).round() as usize];
    println!(
        "reaction (block known -> pause accepted by the node), {DRILLS} drills: p50 {:.1} ms, p90 {:.1} ms, p99 {:.1} ms, max {:.1} ms",
        pct(0.5).as_secs_f64() * 1e3,
        pct(0.9).as_secs_f64() * 1e3,
        pct(0.99).as_secs_f64() * 1e3,
        samples.last().unwrap().as_secs_f64() * 1e3,
    );
}

fn main() {
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    runtime.block_on(reaction());
}
