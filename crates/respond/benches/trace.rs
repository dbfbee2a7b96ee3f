//! Fund-tracing benchmark on a loopback anvil (run, not a test):
//!
//!   cargo bench -p firebreak-respond --bench trace
//!
//! 10,000 blocks after an exploit: every tenth block carries unrelated
//! traffic (2 USDC transfers and 1 ETH transfer), and the attacker's funds
//! go three hops through a split into a labelled bridge. One scan of the
//! 10,000 blocks (blocks with their receipts fetched over HTTP, transfers
//! followed, found transfers recorded on the timeline and told to the
//! channel); blocks per second, median of 3 runs, each on a new store.
#![allow(missing_docs, clippy::unwrap_used, clippy::print_stdout, clippy::disallowed_methods)]

use std::{collections::BTreeMap, sync::Arc, time::Instant};

use alloy::{
    network::TransactionBuilder as _,
    primitives::{Address, Bytes, U256},
    providers::Provider as _,
    rpc::types::TransactionRequest,
};
use alloy_sol_types::SolCall as _;
use firebreak_respond::{IncidentManager, Recovery};
use firebreak_store::SqliteStore;
use firebreak_test_utils::{
    LendingVault, MockUSDC, Pauser, World, WorldExt as _, fixture_safe_harbor, fixture_team,
};

const BLOCKS: u64 = 10_000;
const BRIDGE: &str = "0xB0B0000000000000000000000000000000000B0B";

alloy_sol_types::sol! {
    function transfer(address to, uint256 amount) external returns (bool);
}

async fn send(w: &World, from: usize, to: Address, data: Vec<u8>, value: U256) {
    let tx = TransactionRequest::default()
        .from(w.chain.dev_address(from))
        .to(to)
        .with_input(Bytes::from(data))
        .value(value);
    // mined by the caller
    let _pending = w.chain.provider().send_transaction(tx).await.unwrap();
}

fn usdc(to: Address, whole: u64) -> Vec<u8> {
    transferCall { to, amount: U256::from(whole) * U256::from(1_000_000u64) }.abi_encode()
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let w = World::manual(Pauser::Guardian).await.unwrap();
    let mut text = w.plan_text(r#"[{ signer = "guardian" }]"#, &[]);
    text.push_str(&fixture_team(&[("alice", &["liaison", "commander"])]));
    let recovery = format!(
        "prices = {{ usdc = 1, eth = 2000 }}\nlabels = [{{ address = \"{BRIDGE}\", label = \"Portal bridge\", kind = \"bridge\" }}]"
    );
    text.push_str(&fixture_safe_harbor("retainable = false", Some(&recovery)));
    let plan = Arc::new(w.load_plan(&text).unwrap());
    let v = LendingVault::new(w.vault.vault, w.chain.provider());
    let token = w.vault.asset;
    let p = w.chain.provider();

    // the exploit: price pushed up, the vault's USDC borrowed by dev 7
    let t0 = Instant::now();
    send(
        &w,
        7,
        w.vault.vault,
        v.setPrice(U256::from(10u64).pow(U256::from(30u64))).calldata().to_vec(),
        U256::ZERO,
    )
    .await;
    w.mine().await.unwrap();
    let borrow = v.borrow(U256::from(1_000_000_000_000u64)).calldata().to_vec();
    let tx = TransactionRequest::default()
        .from(w.chain.dev_address(7))
        .to(w.vault.vault)
        .with_input(Bytes::from(borrow))
        .value(U256::from(10u64).pow(U256::from(18u64)));
    let hash = *p.send_transaction(tx).await.unwrap().tx_hash();
    let exploit_block = w.mine().await.unwrap();
    // unrelated traffic: dev 2 holds USDC of its own
    let m = MockUSDC::new(token, p);
    send(
        &w,
        0,
        token,
        m.mint(w.chain.dev_address(2), U256::from(10_000_000_000_000u64)).calldata().to_vec(),
        U256::ZERO,
    )
    .await;
    w.mine().await.unwrap();
    let (x, y) = (w.chain.dev_address(8), w.chain.dev_address(9));
    let hops: BTreeMap<u64, Vec<(usize, Address, u64)>> = BTreeMap::from([
        (2_500, vec![(7, x, 1_000_000)]),
        (5_000, vec![(8, y, 600_000), (8, BRIDGE.parse().unwrap(), 400_000)]),
        (7_500, vec![(9, "0xC01D000000000000000000000000000000000C01".parse().unwrap(), 600_000)]),
    ]);
    // the blocks after the exploit
    let first = exploit_block + 1;
    let mut at = w.chain.block_number().await.unwrap() + 1;
    let last = first + BLOCKS - 1;
    while at <= last {
        let i = at - first;
        if let Some(list) = hops.get(&i) {
            for (from, to, whole) in list {
                send(&w, *from, token, usdc(*to, *whole), U256::ZERO).await;
            }
        }
        if i % 10 == 0 {
            send(&w, 2, token, usdc(w.chain.dev_address(3), 1), U256::ZERO).await;
            send(&w, 2, token, usdc(w.chain.dev_address(4), 1), U256::ZERO).await;
            send(&w, 3, w.chain.dev_address(5), Vec::new(), U256::from(1_000_000_000u64)).await;
            w.mine().await.unwrap();
            at += 1;
        } else {
            // empty blocks up to the next busy one
            let next = (at..=last)
                .find(|b| (b - first) % 10 == 0 || hops.contains_key(&(b - first)))
                .unwrap_or(last + 1);
            if hops.contains_key(&(next - first)) && next == at {
                w.mine().await.unwrap();
                at += 1;
                continue;
            }
            let n = next - at;
            let _: serde_json::Value =
                p.raw_request("anvil_mine".into(), (U256::from(n),)).await.unwrap();
            at = next;
        }
    }
    println!(
        "prepared {BLOCKS} blocks (1 in 10 busy, 3 hops) in {:.1} s",
        t0.elapsed().as_secs_f64()
    );

    let mut rates = Vec::new();
    for run in 0..3 {
        let dir = tempfile::tempdir().unwrap();
        let store = Arc::new(SqliteStore::open(&dir.path().join("b.db")).await.unwrap());
        let manager = IncidentManager::new(plan.clone(), store.clone());
        let mut alert = w.alert("P1", &format!("bench-{run}"));
        alert.tx_hash = Some(hash);
        alert.block_number = exploit_block;
        let id = manager.on_alert(&alert).await.unwrap().incident;
        let links = BTreeMap::from([("local".to_owned(), w.link().await.unwrap())]);
        let r = Recovery::new(plan.clone(), store.clone(), links);
        r.propose(id).await.unwrap();
        r.decide(id, w.chain.dev_address(7), "alice", true, None).await.unwrap();
        let started = Instant::now();
        let s = r.scan(id, "local", first, last).await.unwrap();
        let secs = started.elapsed().as_secs_f64();
        assert_eq!((s.moved, s.exits), (4, 1), "{s:?}");
        println!(
            "run {run}: {} blocks in {secs:.2} s = {:.0} blocks/s ({} traced, {} into the bridge)",
            s.blocks,
            s.blocks as f64 / secs,
            s.moved,
            s.exits
        );
        rates.push(s.blocks as f64 / secs);
    }
    rates.sort_by(f64::total_cmp);
    println!("trace, 3 hops over {BLOCKS} blocks: median {:.0} blocks/s", rates[1]);
}
