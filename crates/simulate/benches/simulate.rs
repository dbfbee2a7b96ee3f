//! Simulation throughput (run, not a test):
//!
//!   cargo bench -p firebreak-simulate --bench simulate
//!
//! A loopback anvil with the vault fixture, mining only on demand, holds
//! 1,000 pending transactions of ordinary traffic (deposits, withdrawals,
//! transfers, oracle updates, borrows) from three users. Each is simulated
//! on the latest block as pre-emption does it (revm in-process, the vault's
//! and the stablecoin's accounts warmed, two probes read on the state it
//! leaves). Prints transactions per second for the first pass (fetching
//! what the cache lacks from the node) and for a second pass over the same
//! block (the cache warm: execution alone), and the state entries fetched.
//! A third pass runs each transaction after the 16 (`MAX_BEFORE`) of its
//! sender's that precede it in the pool, as pre-emption does for a sender
//! with that many pending: the worst case, 17 executions per transaction.
#![allow(missing_docs, clippy::unwrap_used, clippy::print_stdout)]

use std::time::Instant;

use alloy::{providers::Provider as _, sol_types::SolCall as _};
use firebreak_primitives::StateRead;
use firebreak_simulate::{MAX_BEFORE, Simulator};
use firebreak_test_utils::{LendingVault, Pauser, World, ordinary_traffic, traffic_users};

const TXS: u64 = 1_000;

async fn bench() {
    let w = World::manual(Pauser::Guardian).await.unwrap();
    let p = w.chain.provider();
    let users = traffic_users(&w).await.unwrap();
    let hashes = ordinary_traffic(&w, &users, 0..TXS).await.unwrap();
    let mut txs = Vec::new();
    for h in hashes {
        txs.push(p.get_transaction_by_hash(h).await.unwrap().unwrap());
    }
    let reads = [
        StateRead::Call {
            to: w.vault.vault,
            data: LendingVault::totalAssetsCall {}.abi_encode().into(),
        },
        StateRead::EthBalance(w.vault.vault),
    ];
    let mut sim =
        Simulator::new(p.clone(), w.chain.chain_id()).warming([w.vault.vault, w.vault.asset]);
    sim.at_head().await.unwrap();
    for pass in ["first pass (fetching from the node)", "second pass (cache warm)"] {
        let (mut ok, mut fetched) = (0, 0);
        let t0 = Instant::now();
        for tx in &txs {
            let s = sim.simulate(tx, &reads).await.unwrap();
            ok += usize::from(s.tx.success);
            fetched += s.fetched;
        }
        let secs = t0.elapsed().as_secs_f64();
        println!(
            "{pass}: {TXS} pending transactions in {:.0} ms: {:.0} tx/s ({ok} succeed, {fetched} state entries fetched)",
            secs * 1000.0,
            TXS as f64 / secs
        );
    }
    let (mut ok, mut ahead) = (0, 0);
    let t0 = Instant::now();
    for (i, tx) in txs.iter().enumerate() {
        let from = tx.inner.signer();
        let mut before: Vec<_> = txs[..i]
            .iter()
            .rev()
            .filter(|t| t.inner.signer() == from)
            .take(MAX_BEFORE)
            .cloned()
            .collect();
        before.reverse();
        let s = sim.simulate_after(&before, tx, &reads).await.unwrap();
        ok += usize::from(s.tx.success);
        ahead += s.before.len();
    }
    let secs = t0.elapsed().as_secs_f64();
    println!(
        "third pass (each after up to {MAX_BEFORE} of its sender's pending ones): {TXS} pending transactions in {:.0} ms: {:.0} tx/s ({ok} succeed, {ahead} run ahead)",
        secs * 1000.0,
        TXS as f64 / secs
    );
}

fn main() {
    tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(bench());
}
