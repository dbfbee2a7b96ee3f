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
#![allow(missing_docs, clippy::unwrap_used, clippy::print_stdout)]

use std::time::Instant;

use alloy::{primitives::U256, providers::Provider as _, sol_types::SolCall as _};
use firebreak_primitives::StateRead;
use firebreak_simulate::Simulator;
use firebreak_test_utils::{LendingVault, Pauser, World};

const TXS: u64 = 1_000;

alloy::sol! {
    #[sol(rpc)]
    contract Usdc {
        function mint(address to, uint256 amount) external;
        function approve(address spender, uint256 amount) external returns (bool);
        function transfer(address to, uint256 amount) external returns (bool);
    }
}

async fn bench() {
    let w = World::manual(Pauser::Guardian).await.unwrap();
    let p = w.chain.provider();
    let users = [w.chain.dev_address(2), w.chain.dev_address(5), w.chain.dev_address(6)];
    let usdc = Usdc::new(w.vault.asset, p);
    let vault = LendingVault::new(w.vault.vault, p);
    let e6 = |n: u64| U256::from(n * 1_000_000);
    for u in users {
        let _ = usdc
            .mint(u, e6(1_000_000))
            .from(w.chain.dev_address(0))
            .gas(100_000)
            .send()
            .await
            .unwrap();
        let _ = usdc.approve(w.vault.vault, U256::MAX).from(u).gas(100_000).send().await.unwrap();
        w.mine().await.unwrap();
        let _ = vault.deposit(e6(100_000)).from(u).gas(200_000).send().await.unwrap();
        w.mine().await.unwrap();
    }
    let mut hashes = Vec::new();
    for n in 0..TXS {
        let u = users[usize::try_from(n % 3).unwrap()];
        let amount = e6(100 + (n * 37) % 5_000);
        let sent = match n % 5 {
            0 => vault.deposit(amount).from(u).gas(200_000).send().await,
            1 => vault.withdraw(amount).from(u).gas(200_000).send().await,
            2 => {
                usdc.transfer(users[usize::try_from((n + 1) % 3).unwrap()], amount)
                    .from(u)
                    .gas(100_000)
                    .send()
                    .await
            }
            3 => {
                vault
                    .setPrice(U256::from(2_000_000_000u64 + n))
                    .from(w.chain.dev_address(0))
                    .gas(100_000)
                    .send()
                    .await
            }
            _ => {
                vault
                    .borrow(e6(1_000))
                    .from(u)
                    .value(U256::from(10u64).pow(U256::from(18u64)))
                    .gas(200_000)
                    .send()
                    .await
            }
        };
        hashes.push(*sent.unwrap().tx_hash());
    }
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
}

fn main() {
    tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(bench());
}
