//! Engine speed on synthetic blocks (no I/O):
//! (a) one block of 5,000 logs against 1,000 monitors;
//! (b) log evaluations per second (each log decoded and its condition evaluated).
#![allow(missing_docs, clippy::unwrap_used)]

use alloy_json_abi::JsonAbi;
use alloy_primitives::{Address, B256, Bytes, U256};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use firebreak_detect::{
    BlockData, ContractRef, Engine, LogData, MonitorSpec, NoState, RuleContext, TxData, compile,
};
use firebreak_primitives::Severity;

const CONTRACTS: usize = 100;
const EVENTS: usize = 10;

fn abi() -> JsonAbi {
    let sigs: Vec<String> = (0..EVENTS)
        .map(|k| format!("event Ev{k}(address indexed account, uint256 amount, uint256 other)"))
        .collect();
    JsonAbi::parse(sigs.iter().map(String::as_str)).unwrap()
}

fn address(i: usize) -> Address {
    Address::with_last_byte(i as u8).into_array().map(|b| b ^ 0x5a).into()
}

fn engine(abi: &JsonAbi, monitors: usize) -> Engine {
    let mut ctx = RuleContext { chain: "c".into(), ..Default::default() };
    for i in 0..CONTRACTS {
        ctx.contracts.insert(format!("c{i}"), ContractRef { chain: "c", address: address(i), abi });
    }
    let specs = (0..monitors)
        .map(|m| {
            let (c, e) = (m % CONTRACTS, (m / CONTRACTS) % EVENTS);
            let rule = format!("event c{c}.Ev{e} where amount > 1_000_000e6 && other * 2 < amount");
            MonitorSpec {
                id: format!("m{m}"),
                severity: Severity::P2,
                chain_id: 1,
                rule: compile(&rule, &ctx).unwrap(),
                cooldown_secs: 0,
                playbook: Some("p".into()),
                confirmations: 0,
            }
        })
        .collect();
    Engine::new(specs)
}

fn block(abi: &JsonAbi, logs: usize) -> BlockData {
    let events: Vec<_> = (0..EVENTS).map(|k| abi.events[&format!("Ev{k}")][0].selector()).collect();
    let mut txs = Vec::new();
    for t in 0..logs / 10 {
        let logs = (0..10)
            .map(|j| {
                let n = t * 10 + j;
                let mut data = U256::from(n as u64 * 1_000).to_be_bytes::<32>().to_vec();
                data.extend(U256::from(7u64).to_be_bytes::<32>());
                LogData {
                    address: address(n % CONTRACTS),
                    topics: vec![events[(n / CONTRACTS) % EVENTS], B256::with_last_byte(1)],
                    data: data.into(),
                    index: n as u64,
                }
            })
            .collect();
        txs.push(TxData {
            hash: B256::with_last_byte(t as u8),
            from: Address::with_last_byte(1),
            nonce: 0,
            by_firebreak: None,
            to: Some(address(t % CONTRACTS)),
            value: U256::ZERO,
            input: Bytes::new(),
            success: true,
            gas_used: 100_000,
            logs,
        });
    }
    BlockData {
        approved_safe_txs: None,
        chain_id: 1,
        number: 1,
        hash: B256::ZERO,
        parent_hash: B256::ZERO,
        timestamp: 1,
        txs,
    }
}

fn bench(c: &mut Criterion) {
    let abi = abi();
    let blk = block(&abi, 5_000);
    let mut g = c.benchmark_group("engine");
    g.throughput(Throughput::Elements(5_000));
    let mut e = engine(&abi, 1_000);
    g.bench_function("block of 5,000 logs x 1,000 monitors", |b| {
        b.iter(|| e.process_block(&blk, &NoState));
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
