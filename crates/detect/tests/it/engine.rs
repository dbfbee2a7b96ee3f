//! The pure engine on synthetic blocks: faults that a real chain rarely
//! produces (garbage logs, overflow, division by zero) and state handling.

use std::collections::BTreeMap;

use alloy_json_abi::JsonAbi;
use alloy_primitives::{Address, B256, Bytes, U256, address};
use firebreak_detect::{
    BlockData, ContractRef, Engine, LogData, MonitorSpec, NoState, RuleContext, TxData, compile,
};
use firebreak_primitives::Severity;

const POOL: Address = address!("0x00000000000000000000000000000000000000aa");

fn abi() -> JsonAbi {
    JsonAbi::parse(["event Borrow(address indexed account, uint256 amount, uint256 collateral)"])
        .unwrap()
}

fn spec(id: &str, rule: &str, cooldown_secs: u64, abi: &JsonAbi) -> MonitorSpec {
    let mut ctx = RuleContext { chain: "c".into(), ..Default::default() };
    ctx.contracts.insert("pool".into(), ContractRef { chain: "c", address: POOL, abi });
    MonitorSpec {
        id: id.into(),
        severity: Severity::P1,
        chain_id: 1,
        rule: compile(rule, &ctx).unwrap(),
        cooldown_secs,
        playbook: Some("p".into()),
        confirmations: 0,
    }
}

/// A P1 monitor `id` of `rule` (no cooldown).
fn monitor_of(id: &str, rule: firebreak_detect::CompiledRule) -> MonitorSpec {
    MonitorSpec {
        id: id.into(),
        severity: Severity::P1,
        chain_id: 1,
        rule,
        cooldown_secs: 0,
        playbook: Some("p".into()),
        confirmations: 0,
    }
}

fn borrow_log(amount: U256, index: u64) -> LogData {
    let ev = &abi().events["Borrow"][0];
    let mut data = amount.to_be_bytes::<32>().to_vec();
    data.extend(U256::from(1).to_be_bytes::<32>());
    LogData {
        address: POOL,
        topics: vec![ev.selector(), B256::left_padding_from(&[7])],
        data: data.into(),
        index,
    }
}

fn block(number: u64, timestamp: u64, logs: Vec<LogData>) -> BlockData {
    BlockData {
        approved_safe_txs: None,
        chain_id: 1,
        number,
        hash: B256::with_last_byte(number as u8),
        parent_hash: B256::with_last_byte(number as u8 - 1),
        timestamp,
        txs: vec![TxData {
            hash: B256::with_last_byte(100 + number as u8),
            from: Address::with_last_byte(1),
            nonce: 0,
            by_firebreak: None,
            to: Some(POOL),
            value: U256::ZERO,
            input: Bytes::new(),
            success: true,
            gas_used: 21_000,
            logs,
        }],
    }
}

#[test]
fn cooldown_suppresses_repeats_in_block_time() {
    let abi = abi();
    let mut engine = Engine::new(vec![spec("m", "event pool.Borrow where amount > 10", 60, &abi)]);
    let fired = |e: &mut Engine, n, ts| {
        e.process_block(&block(n, ts, vec![borrow_log(U256::from(11), 0)]), &NoState).len()
    };
    assert_eq!(fired(&mut engine, 1, 1000), 1);
    assert_eq!(fired(&mut engine, 2, 1030), 0, "inside the cooldown");
    assert_eq!(fired(&mut engine, 3, 1060), 1, "cooldown over");
}

#[test]
fn garbage_logs_are_errors_not_panics() {
    let abi = abi();
    let mut engine = Engine::new(vec![spec("m", "event pool.Borrow", 0, &abi)]);
    let mut bad = borrow_log(U256::from(1), 0);
    bad.data = Bytes::from(vec![1, 2, 3]); // too short for two words
    let alerts = engine.process_block(&block(1, 1, vec![bad]), &NoState);
    assert!(alerts.is_empty());
    let errors = engine.take_errors();
    assert_eq!(errors.len(), 1);
    assert!(errors[0].message.contains("does not decode"), "{errors:?}");
}

#[test]
fn overflow_and_division_by_zero_never_fire_or_panic() {
    let abi = abi();
    let mut engine = Engine::new(vec![
        spec("overflow", "event pool.Borrow where amount * amount * amount > 1", 0, &abi),
        spec("div0", "event pool.Borrow where 1 / (amount - amount) > 0", 0, &abi),
        spec("pct0", "event pool.Borrow where pct_change(amount, 0) > 1%", 0, &abi),
    ]);
    let alerts = engine.process_block(&block(1, 1, vec![borrow_log(U256::MAX, 0)]), &NoState);
    assert!(alerts.is_empty(), "{alerts:?}");
    let errors = engine.take_errors();
    assert_eq!(errors.len(), 1, "only the overflow is an error: {errors:?}");
    assert_eq!(errors[0].monitor, "overflow");
}

#[test]
fn each_log_matches_its_own_monitors_only() {
    let abi = abi();
    let mut engine = Engine::new(vec![
        spec("small", "event pool.Borrow where amount < 100", 0, &abi),
        spec("large", "event pool.Borrow where amount >= 100", 0, &abi),
    ]);
    let alerts = engine.process_block(
        &block(
            1,
            1,
            vec![
                borrow_log(U256::from(5), 0),
                borrow_log(U256::from(500), 1),
                borrow_log(U256::from(7), 2),
            ],
        ),
        &NoState,
    );
    let got: Vec<(&str, Option<u64>)> =
        alerts.iter().map(|a| (a.monitor.as_str(), a.log_index)).collect();
    assert_eq!(got, vec![("small", Some(0)), ("large", Some(1)), ("small", Some(2))]);
    assert_eq!(alerts[1].evidence["account"], Address::with_last_byte(7).to_string());
}

#[test]
fn prev_is_unknown_at_the_first_block() {
    let abi = abi();
    let mut engine = Engine::new(vec![spec(
        "drop",
        "block where balance(ETH, pool) < prev(balance(ETH, pool))",
        0,
        &abi,
    )]);
    let probe = engine.probes(1).pop().unwrap();
    let state = |v: u64| {
        BTreeMap::from([(
            probe.clone(),
            firebreak_detect::Value::Num(firebreak_detect::Num::from_u64(v)),
        )])
    };
    assert!(
        engine.process_block(&block(1, 1, vec![]), &state(100)).is_empty(),
        "no previous value yet"
    );
    assert!(engine.process_block(&block(2, 2, vec![]), &state(100)).is_empty());
    assert_eq!(engine.process_block(&block(3, 3, vec![]), &state(40)).len(), 1);
}

/// Every comparison kind against each ABI type: a rule compiles only when
/// its two sides can be equal, and a rule that compiles matches exactly
/// when the values are equal (or ordered). Before, `h == 0x00` against a
/// `bytes32` compiled and silently never matched.
#[test]
fn every_comparison_against_each_abi_type_matches_or_is_refused() {
    use alloy_dyn_abi::DynSolValue;
    use alloy_primitives::I256;
    let abi = JsonAbi::parse([
        "event Ev(uint256 u, int256 i, bool b, address a, bytes32 h, bytes4 s, bytes d, string t, bytes32 indexed k)",
    ])
    .unwrap();
    let event = &abi.events["Ev"][0];
    let addr = Address::with_last_byte(0xaa);
    let mut s4 = [0u8; 32];
    s4[..4].copy_from_slice(&[0x12, 0x34, 0x56, 0x78]);
    let data = DynSolValue::Tuple(vec![
        DynSolValue::Uint(U256::from(5), 256),
        DynSolValue::Int(I256::try_from(-5).unwrap(), 256),
        DynSolValue::Bool(true),
        DynSolValue::Address(addr),
        DynSolValue::FixedBytes(B256::ZERO, 32),
        DynSolValue::FixedBytes(B256::from(s4), 4),
        DynSolValue::Bytes(vec![0xde, 0xad]),
        DynSolValue::String("hi".into()),
    ])
    .abi_encode_params();
    let log = LogData {
        address: POOL,
        topics: vec![event.selector(), B256::ZERO],
        data: data.into(),
        index: 0,
    };
    let zero32 = format!("0x{}", "00".repeat(32));
    let addr_lit = addr.to_string();
    // (argument, its type, the literal that writes its value)
    let args: [(&str, &str, String); 9] = [
        ("u", "num", "5".into()),
        ("i", "num", "-5".into()),
        ("b", "bool", "true".into()),
        ("a", "address", addr_lit.clone()),
        ("h", "bytes32", zero32.clone()),
        ("s", "bytes4", "0x12345678".into()),
        ("d", "bytes", "0xdead".into()),
        ("t", "string", "\"hi\"".into()),
        ("k", "bytes32", zero32.clone()),
    ];
    // (literal, its type)
    let literals: Vec<(String, &str)> = vec![
        ("5".into(), "num"),
        ("-5".into(), "num"),
        ("true".into(), "bool"),
        ("\"hi\"".into(), "string"),
        (addr_lit, "address"),
        ("0x00".into(), "hex1"),
        ("0xdead".into(), "hex2"),
        ("0x12345678".into(), "hex4"),
        (zero32, "hex32"),
    ];
    let comparable = |arg: &str, lit: &str, ordered: bool| match (arg, lit) {
        ("num", "num") => true,
        _ if ordered => false,
        ("bool", "bool") | ("string", "string") | ("address", "address") => true,
        ("bytes32", "hex32") | ("bytes4", "hex4") => true,
        ("bytes", l) => l.starts_with("hex"),
        _ => false,
    };
    let num = |s: &str| s.parse::<i64>().unwrap();
    let mut checked = 0;
    for (arg, ty, value) in &args {
        for (lit, lit_ty) in &literals {
            for op in ["==", "!=", "<", ">="] {
                let ordered = op == "<" || op == ">=";
                let rule = format!("event pool.Ev where {arg} {op} {lit}");
                let mut ctx = RuleContext { chain: "c".into(), ..Default::default() };
                ctx.contracts
                    .insert("pool".into(), ContractRef { chain: "c", address: POOL, abi: &abi });
                let compiled = compile(&rule, &ctx);
                assert_eq!(
                    compiled.is_ok(),
                    comparable(ty, lit_ty, ordered),
                    "{rule}: {:?}",
                    compiled.as_ref().err()
                );
                let Ok(rule_c) = compiled else { continue };
                let expected = match op {
                    "==" => lit == value,
                    "!=" => lit != value,
                    "<" => num(value) < num(lit),
                    _ => num(value) >= num(lit),
                };
                let mut engine = Engine::new(vec![monitor_of("m", rule_c)]);
                let fired =
                    !engine.process_block(&block(1, 1, vec![log.clone()]), &NoState).is_empty();
                assert!(engine.take_errors().is_empty(), "{rule}");
                assert_eq!(fired, expected, "{rule}");
                checked += 1;
            }
        }
    }
    assert_eq!(checked, 36, "rules compiled and ran");
}

/// A plan's account ids are address values in rules: `account == guardian`
/// matches the guardian's address and nothing else, and `plan.*` lists
/// hold the plan's accounts.
#[test]
fn plan_accounts_are_values_and_lists_in_rules() {
    let abi = abi();
    let guardian = Address::with_last_byte(7);
    let mut ctx = RuleContext { chain: "c".into(), ..Default::default() };
    ctx.contracts.insert("pool".into(), ContractRef { chain: "c", address: POOL, abi: &abi });
    ctx.accounts.insert("guardian".into(), guardian);
    ctx.lists.insert("plan.signers".into(), vec![guardian]);
    let monitor = |id: &str, rule: &str| monitor_of(id, compile(rule, &ctx).unwrap());
    let mut engine = Engine::new(vec![
        monitor("is", "event pool.Borrow where account == guardian"),
        monitor("in", "event pool.Borrow where account in plan.signers"),
    ]);
    // borrow_log's account topic is 0x…07: the guardian
    let fired = engine.process_block(&block(1, 1, vec![borrow_log(U256::from(1), 0)]), &NoState);
    let mut ids: Vec<&str> = fired.iter().map(|a| a.monitor.as_str()).collect();
    ids.sort_unstable();
    assert_eq!(ids, ["in", "is"]);
    let mut other = borrow_log(U256::from(1), 0);
    other.topics[1] = B256::left_padding_from(&[8]);
    assert!(engine.process_block(&block(2, 2, vec![other]), &NoState).is_empty());
    let err = compile("event pool.Borrow where account == guardain", &ctx).unwrap_err();
    assert!(format!("{err:?}").contains("guardian"), "suggests the id: {err:?}");
}

/// A window with a filter is fed only by the matches that satisfy it: the
/// vault's outflow is summed over ten blocks, other transfers of the same
/// token are not (before, every match fed the window and they counted too).
#[test]
fn a_filtered_window_sums_only_its_matches() {
    let abi =
        JsonAbi::parse(["event Transfer(address indexed from, address indexed to, uint256 value)"])
            .unwrap();
    let vault = Address::with_last_byte(0xee);
    let mut ctx = RuleContext { chain: "c".into(), ..Default::default() };
    ctx.contracts.insert("usdc".into(), ContractRef { chain: "c", address: POOL, abi: &abi });
    ctx.contracts.insert("vault".into(), ContractRef { chain: "c", address: vault, abi: &abi });
    let spec = |id: &str, rule: &str| monitor_of(id, compile(rule, &ctx).unwrap());
    let mut engine = Engine::new(vec![
        spec("filtered", "event usdc.Transfer where sum(value, from == vault, 10 blocks) > 100"),
        spec("unfiltered", "event usdc.Transfer where sum(value, 10 blocks) > 100"),
    ]);
    let ev = &abi.events["Transfer"][0];
    let transfer = |from: Address, value: u64, index: u64| LogData {
        address: POOL,
        topics: vec![ev.selector(), from.into_word(), Address::with_last_byte(1).into_word()],
        data: U256::from(value).to_be_bytes::<32>().to_vec().into(),
        index,
    };
    let other = Address::with_last_byte(0x33);
    let fired = |e: &mut Engine, n: u64, logs| {
        let mut ids: Vec<String> =
            e.process_block(&block(n, n, logs), &NoState).into_iter().map(|a| a.monitor).collect();
        ids.sort();
        ids
    };
    // unrelated transfers of the same token: 90 + 90 moves the unfiltered sum only
    assert_eq!(fired(&mut engine, 1, vec![transfer(other, 90, 0)]), Vec::<String>::new());
    assert_eq!(fired(&mut engine, 2, vec![transfer(other, 90, 0)]), ["unfiltered"]);
    // the vault's own outflow: 60, then 60 more crosses 100 within the window
    assert!(!fired(&mut engine, 3, vec![transfer(vault, 60, 0)]).contains(&"filtered".into()));
    assert!(fired(&mut engine, 4, vec![transfer(vault, 60, 0)]).contains(&"filtered".into()));
    // outside ten blocks the vault's outflow has left the window
    assert!(!fired(&mut engine, 20, vec![transfer(vault, 60, 0)]).contains(&"filtered".into()));
    assert!(engine.take_errors().is_empty());
}

/// A preset's where-clause reads the matched event's arguments by name: an
/// admin role granted to an account outside the plan fires; the same grant
/// to one of the plan's authorities, another role, or an event without an
/// `account` (RoleAdminChanged) does not.
#[test]
fn a_preset_filters_on_its_events_arguments() {
    let abi = abi();
    let guardian = Address::with_last_byte(7);
    let mut ctx = RuleContext { chain: "c".into(), ..Default::default() };
    ctx.contracts.insert("pool".into(), ContractRef { chain: "c", address: POOL, abi: &abi });
    ctx.lists.insert("plan.authorities".into(), vec![guardian]);
    let admin = format!("0x{}", "00".repeat(32));
    let rule =
        format!("preset roles(pool) where role == {admin} && !(account in plan.authorities)");
    let mut engine = Engine::new(vec![monitor_of("admin-grant", compile(&rule, &ctx).unwrap())]);
    let roles = JsonAbi::parse([
        "event RoleGranted(bytes32 indexed role, address indexed account, address indexed sender)",
        "event RoleAdminChanged(bytes32 indexed role, bytes32 indexed previousAdminRole, bytes32 indexed newAdminRole)",
    ])
    .unwrap();
    let log = |event: &str, topics: [B256; 3]| LogData {
        address: POOL,
        topics: [vec![roles.events[event][0].selector()], topics.to_vec()].concat(),
        data: Bytes::new(),
        index: 0,
    };
    let outsider = Address::with_last_byte(0x66).into_word();
    let one = B256::with_last_byte(1);
    let fired = |e: &mut Engine, n: u64, l: LogData| {
        !e.process_block(&block(n, n, vec![l]), &NoState).is_empty()
    };
    assert!(fired(&mut engine, 1, log("RoleGranted", [B256::ZERO, outsider, outsider])));
    assert!(!fired(
        &mut engine,
        2,
        log("RoleGranted", [B256::ZERO, guardian.into_word(), outsider])
    ));
    assert!(!fired(&mut engine, 3, log("RoleGranted", [one, outsider, outsider])));
    assert!(!fired(&mut engine, 4, log("RoleAdminChanged", [B256::ZERO, one, one])));
    assert!(engine.take_errors().is_empty());
    // the same short literal mistake is caught for presets too
    let short = compile("preset roles(pool) where role == 0x00", &ctx).unwrap_err();
    assert!(format!("{short:?}").contains("bytes32"), "{short:?}");
}

/// Several events as one source: a vault's outflow summed across withdraw,
/// emergency-withdraw and borrow fires when the combined sum crosses, though
/// no single kind crosses on its own; arguments are read by name in
/// whichever event matched.
#[test]
fn several_events_sum_into_one_outflow() {
    let abi = JsonAbi::parse([
        "event Withdraw(address indexed account, uint256 amount)",
        "event EmergencyWithdraw(address indexed account, uint256 amount)",
        "event Borrow(address indexed account, uint256 amount, uint256 collateral)",
        "event Deposit(address indexed account, uint256 amount)",
    ])
    .unwrap();
    let mut ctx = RuleContext { chain: "c".into(), ..Default::default() };
    ctx.contracts.insert("vault".into(), ContractRef { chain: "c", address: POOL, abi: &abi });
    let rule = "event vault.Withdraw, vault.EmergencyWithdraw, vault.Borrow where sum(amount, 10 blocks) > 100";
    let mut engine = Engine::new(vec![monitor_of("outflow", compile(rule, &ctx).unwrap())]);
    let log = |event: &str, amount: u64, index: u64| {
        let mut data = U256::from(amount).to_be_bytes::<32>().to_vec();
        if event == "Borrow" {
            data.extend(U256::from(1).to_be_bytes::<32>());
        }
        LogData {
            address: POOL,
            topics: vec![abi.events[event][0].selector(), B256::with_last_byte(9)],
            data: data.into(),
            index,
        }
    };
    let fired = |e: &mut Engine, n: u64, logs: Vec<LogData>| {
        !e.process_block(&block(n, n, logs), &NoState).is_empty()
    };
    // a deposit is not outflow: it feeds nothing
    assert!(!fired(&mut engine, 1, vec![log("Deposit", 500, 0)]));
    assert!(!fired(&mut engine, 2, vec![log("Withdraw", 40, 0)]));
    assert!(!fired(&mut engine, 3, vec![log("EmergencyWithdraw", 40, 0)]));
    // 40 + 40 + 40 > 100: the borrow crosses the combined sum
    assert!(fired(&mut engine, 4, vec![log("Borrow", 40, 0)]));
    assert!(engine.take_errors().is_empty());
    // the source is written as a list; a missing event is a positioned error
    let bad = compile("event vault.Withdraw, vault.Withdrew where amount > 1", &ctx).unwrap_err();
    assert!(format!("{bad:?}").contains("Withdrew"), "{bad:?}");
}
