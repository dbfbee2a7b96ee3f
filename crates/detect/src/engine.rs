//! The detection engine: compiled monitors in, blocks in, alerts out.
//!
//! Pure and synchronous. Monitors are indexed by (emitter, topic0) and by
//! (target, selector), so each log and call meets only the monitors that can
//! match it, and each log is decoded once per event signature.

use std::{
    collections::{BTreeMap, VecDeque},
    sync::Arc,
};

use rustc_hash::FxHashMap as HashMap;

use alloy_dyn_abi::{DynSolEvent, DynSolValue, JsonAbiExt, Specifier as _};
use alloy_json_abi::Event;
use alloy_primitives::{Address, B256, Bytes, U256};
use firebreak_primitives::Severity;
use firebreak_primitives::{Alert, BlockData, LogData, TxData};

use crate::{
    compile::{Agg, Builtin, CExpr, CompiledRule, Probe, Source, Value},
    num::Num,
    syntax::{BinOp, Window},
};

/// Probe values read at a block, supplied by the caller.
pub trait StateView {
    /// The value of `probe` at the block being processed, if it could be read.
    fn read(&self, probe: &Probe) -> Option<Value>;
}

impl StateView for BTreeMap<Probe, Value> {
    fn read(&self, probe: &Probe) -> Option<Value> {
        self.get(probe).cloned()
    }
}

/// No state at all (for rules without probes).
#[derive(Debug, Clone, Copy, Default)]
pub struct NoState;

impl StateView for NoState {
    fn read(&self, _: &Probe) -> Option<Value> {
        None
    }
}

/// A monitor ready to run.
#[derive(Debug, Clone)]
pub struct MonitorSpec {
    /// Monitor id.
    pub id: String,
    /// Severity.
    pub severity: Severity,
    /// Chain id it runs on.
    pub chain_id: u64,
    /// Compiled rule.
    pub rule: CompiledRule,
    /// Minimum block-time seconds between two alerts.
    pub cooldown_secs: u64,
    /// Playbook name; none for an alert-only monitor.
    pub playbook: Option<String>,
    /// Blocks on top of the alert's block before a live watcher reports it.
    pub confirmations: u64,
}

/// A problem while evaluating (never fatal): the match produced no alert.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EvalError {
    /// Monitor id.
    pub monitor: String,
    /// Block number.
    pub block_number: u64,
    /// What happened.
    pub message: String,
}

#[derive(Debug, Clone, Default)]
struct WindowBuf {
    entries: VecDeque<(u64, u64, Num)>,
}

/// A pre-resolved event decoder (ABI types parsed once, not per log).
#[derive(Debug, Clone)]
struct Decoder {
    selector: B256,
    /// Identity of the full signature (names and `indexed` flags included),
    /// so two monitors with the same ABI share one decoding of a log.
    key: u64,
    name: Arc<str>,
    /// Argument names, for evidence (`argN` when unnamed).
    names: Arc<[String]>,
    signature: String,
    event: DynSolEvent,
    /// For each input, in order: whether it is indexed.
    indexed: Vec<bool>,
    /// Word-by-word plan when every input has a static type (the common
    /// case): decoding is then a few slice reads, no allocation per value.
    fast: Option<Vec<(Slot, WordKind)>>,
}

#[derive(Debug, Clone, Copy)]
enum Slot {
    Topic(usize),
    Word(usize),
}

#[derive(Debug, Clone, Copy)]
enum WordKind {
    Uint,
    Int,
    Address,
    Bool,
    Fixed(usize),
}

fn fast_plan(event: &Event) -> Option<Vec<(Slot, WordKind)>> {
    let (mut topic, mut word) = (1, 0);
    event
        .inputs
        .iter()
        .map(|p| {
            let kind = match p.resolve().ok()? {
                alloy_dyn_abi::DynSolType::Uint(_) => WordKind::Uint,
                alloy_dyn_abi::DynSolType::Int(_) => WordKind::Int,
                alloy_dyn_abi::DynSolType::Address => WordKind::Address,
                alloy_dyn_abi::DynSolType::Bool => WordKind::Bool,
                alloy_dyn_abi::DynSolType::FixedBytes(n) => WordKind::Fixed(n),
                _ => return None,
            };
            let slot = if p.indexed {
                topic += 1;
                Slot::Topic(topic - 1)
            } else {
                word += 1;
                Slot::Word(word - 1)
            };
            Some((slot, kind))
        })
        .collect()
}

fn word_value(w: &[u8; 32], kind: WordKind) -> Option<Value> {
    Some(match kind {
        WordKind::Uint => Value::Num(Num::from_u256(U256::from_be_bytes(*w))),
        WordKind::Int => Value::Num(Num::from_i256(alloy_primitives::I256::from_be_bytes(*w))),
        WordKind::Address => {
            if w[..12].iter().any(|b| *b != 0) {
                return None;
            }
            Value::Address(Address::from_slice(&w[12..]))
        }
        WordKind::Bool => match w[31] {
            0 | 1 if w[..31].iter().all(|b| *b == 0) => Value::Bool(w[31] == 1),
            _ => return None,
        },
        WordKind::Fixed(n) => Value::Bytes(Bytes::copy_from_slice(&w[..n])),
    })
}

impl Decoder {
    fn new(event: &Event) -> Option<Self> {
        use std::hash::{Hash as _, Hasher as _};
        let mut h = std::collections::hash_map::DefaultHasher::new();
        event.full_signature().hash(&mut h);
        Some(Self {
            selector: event.selector(),
            key: h.finish(),
            name: Arc::from(event.name.as_str()),
            names: event
                .inputs
                .iter()
                .enumerate()
                .map(|(i, p)| if p.name.is_empty() { format!("arg{i}") } else { p.name.clone() })
                .collect(),
            signature: event.signature(),
            event: event.resolve().ok()?,
            indexed: event.inputs.iter().map(|p| p.indexed).collect(),
            fast: fast_plan(event),
        })
    }

    fn decode(&self, log: &LogData) -> Option<Vec<Value>> {
        if let Some(plan) = &self.fast {
            let topics = 1 + plan.iter().filter(|(s, _)| matches!(s, Slot::Topic(_))).count();
            let words = plan.iter().filter(|(s, _)| matches!(s, Slot::Word(_))).count();
            if log.topics.len() != topics || log.data.len() != words * 32 {
                return None;
            }
            return plan
                .iter()
                .map(|(slot, kind)| {
                    let word: &[u8; 32] = match slot {
                        Slot::Topic(t) => &log.topics[*t].0,
                        Slot::Word(i) => log.data[i * 32..i * 32 + 32].try_into().ok()?,
                    };
                    word_value(word, *kind)
                })
                .collect();
        }
        let decoded = self.event.decode_log_parts(log.topics.iter().copied(), &log.data).ok()?;
        let mut indexed = decoded.indexed.into_iter();
        let mut body = decoded.body.into_iter();
        self.indexed
            .iter()
            .map(|is| if *is { indexed.next() } else { body.next() }.map(|v| to_value(&v)))
            .collect()
    }
}

/// What a monitor is, compiled once and shared by every snapshot.
#[derive(Debug)]
struct MonitorRules {
    spec: MonitorSpec,
    decoders: Vec<Decoder>,
    window_specs: Vec<(Agg, Option<CExpr>, Option<CExpr>, usize)>,
    /// Each window's slot and length, for pruning.
    prune: Vec<(usize, Window)>,
}

/// What a monitor has seen: the only part a snapshot copies.
#[derive(Debug, Clone)]
struct MonitorState {
    windows: Vec<WindowBuf>,
    prev: Vec<Option<Value>>,
    cur: Vec<Option<Value>>,
    last_alert: Option<u64>,
}

#[derive(Debug, Clone)]
struct Runtime {
    r: Arc<MonitorRules>,
    s: MonitorState,
}

/// Which monitors a log, a call, a transaction or a block can match.
#[derive(Debug, Default)]
struct Indexes {
    by_log: HashMap<(Address, B256), Vec<usize>>,
    by_call: HashMap<(Address, [u8; 4]), Vec<usize>>,
    tx_monitors: Vec<usize>,
    block_monitors: Vec<usize>,
}

/// Every monitor's state (windows, previous probe values, cooldowns) at one
/// block, without the compiled rules: what the watcher keeps per recent
/// block to rewind on a reorg.
#[derive(Debug, Clone)]
pub struct EngineState(Vec<MonitorState>);

/// What a single match provides to expressions.
struct Ctx<'m> {
    args: &'m [Value],
    /// Names of `args` when they differ from the rule's (preset events).
    names: Option<&'m [String]>,
    tx: Option<&'m TxData>,
    log_address: Option<Address>,
    event_name: Option<&'m str>,
    block: &'m BlockData,
}

impl<'m> Ctx<'m> {
    /// A match without logs: a call, a transaction or a block.
    fn plain(args: &'m [Value], tx: Option<&'m TxData>, block: &'m BlockData) -> Self {
        Self { args, names: None, tx, log_address: None, event_name: None, block }
    }
}

/// The engine: compiled rules, shared (cloning the engine does not copy
/// them), and each monitor's state, which [`Engine::state`] and
/// [`Engine::restore`] take and put back.
#[derive(Debug, Clone, Default)]
pub struct Engine {
    monitors: Vec<Runtime>,
    idx: Arc<Indexes>,
    errors: Vec<EvalError>,
}

impl Engine {
    /// Builds the engine and its indexes.
    pub fn new(monitors: Vec<MonitorSpec>) -> Self {
        let mut engine = Self::default();
        let mut idx = Indexes::default();
        for (i, spec) in monitors.into_iter().enumerate() {
            match &spec.rule.source {
                Source::Event { address, event } => {
                    idx.by_log.entry((*address, event.selector())).or_default().push(i);
                }
                Source::Events { events } => {
                    for (a, ev) in events {
                        let list = idx.by_log.entry((*a, ev.selector())).or_default();
                        if !list.contains(&i) {
                            list.push(i);
                        }
                    }
                }
                Source::Preset { preset, addresses, .. } => {
                    for a in addresses {
                        for ev in &preset.events {
                            let list = idx.by_log.entry((*a, ev.selector())).or_default();
                            if !list.contains(&i) {
                                list.push(i);
                            }
                        }
                    }
                }
                Source::Call { address, function } => {
                    idx.by_call.entry((*address, function.selector().0)).or_default().push(i);
                }
                Source::Tx { .. } => idx.tx_monitors.push(i),
                Source::Block => idx.block_monitors.push(i),
            }
            let probes = spec.rule.probes.len();
            let decoders = match &spec.rule.source {
                Source::Event { event, .. } => Decoder::new(event).into_iter().collect(),
                Source::Preset { preset, .. } => {
                    preset.events.iter().filter_map(Decoder::new).collect()
                }
                Source::Events { events } => {
                    let mut out: Vec<Decoder> = Vec::new();
                    for (_, ev) in events {
                        if let Some(d) = Decoder::new(ev)
                            && !out.iter().any(|o| o.selector == d.selector)
                        {
                            out.push(d);
                        }
                    }
                    out
                }
                _ => Vec::new(),
            };
            let mut window_specs = Vec::new();
            if let Some(cond) = &spec.rule.condition {
                collect_windows(cond, &mut window_specs);
            }
            let window_specs = window_specs
                .into_iter()
                .map(|(a, v, f, s)| (a, v.cloned(), f.cloned(), s))
                .collect();
            let mut prune = Vec::new();
            if let Some(c) = &spec.rule.condition {
                collect_window_specs(c, &mut prune);
            }
            let s = MonitorState {
                windows: (0..spec.rule.windows).map(|_| WindowBuf::default()).collect(),
                prev: vec![None; probes],
                cur: vec![None; probes],
                last_alert: None,
            };
            let r = Arc::new(MonitorRules { decoders, window_specs, prune, spec });
            engine.monitors.push(Runtime { r, s });
        }
        engine.idx = Arc::new(idx);
        engine
    }

    /// Every probe the monitors of `chain_id` need read at each block.
    pub fn probes(&self, chain_id: u64) -> Vec<Probe> {
        let mut out: Vec<Probe> = self
            .monitors
            .iter()
            .filter(|m| m.r.spec.chain_id == chain_id)
            .flat_map(|m| m.r.spec.rule.probes.iter().cloned())
            .collect();
        out.sort();
        out.dedup();
        out
    }

    /// When every monitor of `chain_id` is fed by logs only (event and
    /// preset monitors without probes), the emitters and event topics that
    /// can match: a block without such a log changes nothing, so a replay
    /// may fetch logs by block range and evaluate only the blocks that have
    /// some. `None` when any monitor needs every block (calls, transactions,
    /// blocks, probes) or there is no monitor.
    pub fn log_filter(&self, chain_id: u64) -> Option<(Vec<Address>, Vec<B256>)> {
        let mut addresses = Vec::new();
        let mut topics = Vec::new();
        for m in self.monitors.iter().filter(|m| m.r.spec.chain_id == chain_id) {
            if !m.r.spec.rule.probes.is_empty() {
                return None;
            }
            match &m.r.spec.rule.source {
                Source::Event { address, event } => {
                    addresses.push(*address);
                    topics.push(event.selector());
                }
                Source::Preset { preset, addresses: emitters, .. } => {
                    addresses.extend(emitters);
                    topics.extend(preset.events.iter().map(Event::selector));
                }
                Source::Events { events } => {
                    for (a, ev) in events {
                        addresses.push(*a);
                        topics.push(ev.selector());
                    }
                }
                Source::Call { .. } | Source::Tx { .. } | Source::Block => return None,
            }
        }
        addresses.sort_unstable();
        addresses.dedup();
        topics.sort_unstable();
        topics.dedup();
        (!addresses.is_empty()).then_some((addresses, topics))
    }

    /// Whether a monitor of `chain_id` reads Safe transactions (preset
    /// `safe_transactions`): the caller then fills
    /// [`BlockData::approved_safe_txs`] before processing a block.
    pub fn reads_safe_transactions(&self, chain_id: u64) -> bool {
        self.monitors.iter().any(|m| {
            m.r.spec.chain_id == chain_id
                && matches!(&m.r.spec.rule.source, Source::Preset { preset, .. } if preset.name == "safe_transactions")
        })
    }

    /// The senders watched by `tx from …` monitors of `chain_id`: the
    /// caller marks each of their transactions that firebreak itself sent
    /// ([`TxData::by_firebreak`]) before processing a block.
    pub fn watched_senders(&self, chain_id: u64) -> Vec<Address> {
        let mut out: Vec<Address> = self
            .monitors
            .iter()
            .filter(|m| m.r.spec.chain_id == chain_id)
            .filter_map(|m| match &m.r.spec.rule.source {
                Source::Tx { addresses, from_only: true } => Some(addresses.iter().copied()),
                _ => None,
            })
            .flatten()
            .collect();
        out.sort_unstable();
        out.dedup();
        out
    }

    /// Every monitor's state now (windows, previous probe values,
    /// cooldowns), without the compiled rules.
    pub fn state(&self) -> EngineState {
        EngineState(self.monitors.iter().map(|m| m.s.clone()).collect())
    }

    /// Puts back a state taken from this engine with [`Engine::state`].
    pub fn restore(&mut self, state: &EngineState) {
        for (m, s) in self.monitors.iter_mut().zip(&state.0) {
            m.s.clone_from(s);
        }
    }

    /// Evaluation problems so far (drained).
    pub fn take_errors(&mut self) -> Vec<EvalError> {
        std::mem::take(&mut self.errors)
    }

    /// Evaluates every monitor of the block's chain over the block.
    pub fn process_block(&mut self, block: &BlockData, state: &dyn StateView) -> Vec<Alert> {
        let mut alerts = Vec::new();
        for m in &mut self.monitors {
            if m.r.spec.chain_id == block.chain_id {
                for (slot, p) in m.s.cur.iter_mut().zip(&m.r.spec.rule.probes) {
                    *slot = state.read(p);
                }
            }
        }
        let Self { monitors, idx, errors } = self;
        let Indexes { by_log, by_call, tx_monitors, block_monitors } = &**idx;
        let mut decoded: HashMap<(u64, u64), Option<Vec<Value>>> = HashMap::default();
        for tx in &block.txs {
            for log in &tx.logs {
                let Some(topic0) = log.topics.first() else { continue };
                let Some(ids) = by_log.get(&(log.address, *topic0)) else { continue };
                for &i in ids {
                    let m = &mut monitors[i];
                    if m.r.spec.chain_id != block.chain_id {
                        continue;
                    }
                    let Some(d) = m.r.decoders.iter().position(|d| d.selector == *topic0) else {
                        continue;
                    };
                    let dec = &m.r.decoders[d];
                    // one monitor on this (emitter, event): no need to share the decoding
                    let single;
                    let args = if ids.len() == 1 {
                        single = dec.decode(log);
                        &single
                    } else {
                        &*decoded.entry((log.index, dec.key)).or_insert_with(|| dec.decode(log))
                    };
                    let Some(args) = args.as_deref() else {
                        errors.push(EvalError {
                            monitor: m.r.spec.id.clone(),
                            block_number: block.number,
                            message: format!(
                                "log {} does not decode as {}",
                                log.index, dec.signature
                            ),
                        });
                        continue;
                    };
                    let name = dec.name.clone();
                    let names = dec.names.clone();
                    // arguments by name: presets and several events as one source
                    let preset = matches!(
                        m.r.spec.rule.source,
                        Source::Preset { .. } | Source::Events { .. }
                    );
                    // a pause by one of the plan's own guardians or Safes is expected
                    if let Source::Preset { expected_pausers, .. } = &m.r.spec.rule.source
                        && matches!(&*name, "Paused" | "Unpaused")
                        && matches!(args.first(), Some(Value::Address(a)) if expected_pausers.contains(a))
                    {
                        continue;
                    }
                    let ctx = Ctx {
                        args,
                        names: preset.then_some(&*names),
                        tx: Some(tx),
                        log_address: Some(log.address),
                        event_name: preset.then_some(&*name),
                        block,
                    };
                    if let Some(a) = eval_match(m, errors, &ctx, Some(log.index), Some(&name)) {
                        alerts.push(a);
                    }
                }
            }
            if let Some(to) = tx.to
                && tx.input.len() >= 4
            {
                let sel: [u8; 4] = [tx.input[0], tx.input[1], tx.input[2], tx.input[3]];
                if let Some(ids) = by_call.get(&(to, sel)) {
                    for &i in ids {
                        let m = &mut monitors[i];
                        let Source::Call { function, .. } = &m.r.spec.rule.source else {
                            continue;
                        };
                        if m.r.spec.chain_id != block.chain_id {
                            continue;
                        }
                        let Some(args) = function
                            .abi_decode_input(&tx.input[4..])
                            .ok()
                            .map(|vs| vs.iter().map(to_value).collect::<Vec<_>>())
                        else {
                            continue;
                        };
                        let ctx = Ctx::plain(&args, Some(tx), block);
                        if let Some(a) = eval_match(m, errors, &ctx, None, None) {
                            alerts.push(a);
                        }
                    }
                }
            }
            for &i in tx_monitors.iter() {
                let m = &mut monitors[i];
                let Source::Tx { addresses, from_only } = &m.r.spec.rule.source else { continue };
                if m.r.spec.chain_id != block.chain_id {
                    continue;
                }
                let touches = addresses.binary_search(&tx.from).is_ok()
                    || (!from_only && tx.to.is_some_and(|t| addresses.contains(&t)));
                if touches {
                    let ctx = Ctx::plain(&[], Some(tx), block);
                    if let Some(a) = eval_match(m, errors, &ctx, None, None) {
                        alerts.push(a);
                    }
                }
            }
        }
        for &i in block_monitors.iter() {
            let m = &mut monitors[i];
            if m.r.spec.chain_id != block.chain_id {
                continue;
            }
            let ctx = Ctx::plain(&[], None, block);
            if let Some(a) = eval_match(m, errors, &ctx, None, None) {
                alerts.push(a);
            }
        }
        for m in monitors.iter_mut() {
            if m.r.spec.chain_id == block.chain_id {
                m.s.prev.clone_from(&m.s.cur);
            }
        }
        alerts
    }
}

fn eval_match(
    m: &mut Runtime,
    errors: &mut Vec<EvalError>,
    ctx: &Ctx<'_>,
    log_index: Option<u64>,
    what: Option<&str>,
) -> Option<Alert> {
    {
        // every match feeds the monitor's windows, whatever the condition
        // says, unless the window has a filter of its own
        for k in 0..m.r.window_specs.len() {
            let (agg, value, slot) =
                (m.r.window_specs[k].0, m.r.window_specs[k].1.as_ref(), m.r.window_specs[k].3);
            if let Some(f) = m.r.window_specs[k].2.as_ref() {
                match eval(f, ctx, m) {
                    Ok(Some(Value::Bool(true))) => {}
                    Ok(_) => continue,
                    Err(msg) => {
                        errors.push(EvalError {
                            monitor: m.r.spec.id.clone(),
                            block_number: ctx.block.number,
                            message: msg,
                        });
                        continue;
                    }
                }
            }
            let v = match (agg, value) {
                (Agg::Count, None) => Ok(Some(Value::Num(Num::from_u64(1)))),
                (Agg::Count, Some(v)) => eval(v, ctx, m).map(|b| match b {
                    Some(Value::Bool(true)) => Some(Value::Num(Num::from_u64(1))),
                    Some(_) => Some(Value::Num(Num::ZERO)),
                    None => None,
                }),
                (_, Some(v)) => eval(v, ctx, m),
                (_, None) => Ok(None),
            };
            match v {
                Ok(Some(Value::Num(n))) => {
                    m.s.windows[slot].entries.push_back((ctx.block.number, ctx.block.timestamp, n))
                }
                Ok(_) => {}
                Err(msg) => errors.push(EvalError {
                    monitor: m.r.spec.id.clone(),
                    block_number: ctx.block.number,
                    message: msg,
                }),
            }
        }
        let fired = match &m.r.spec.rule.condition {
            None => true,
            Some(c) => match eval(c, ctx, m) {
                Ok(Some(Value::Bool(b))) => b,
                Ok(_) => false,
                Err(msg) => {
                    errors.push(EvalError {
                        monitor: m.r.spec.id.clone(),
                        block_number: ctx.block.number,
                        message: msg,
                    });
                    false
                }
            },
        };
        if !fired {
            return None;
        }
        if let Some(last) = m.s.last_alert
            && ctx.block.timestamp < last.saturating_add(m.r.spec.cooldown_secs)
            && m.r.spec.cooldown_secs > 0
        {
            return None;
        }
        m.s.last_alert = Some(ctx.block.timestamp);
        let mut evidence = BTreeMap::new();
        let names = ctx.names.unwrap_or(&m.r.spec.rule.arg_names);
        for (name, v) in names.iter().zip(ctx.args) {
            evidence.insert(name.clone(), v.to_string());
        }
        if let Some(what) = what {
            evidence.insert("event".to_owned(), what.to_owned());
        }
        if let Some(tx) = ctx.tx {
            evidence.insert("tx.from".to_owned(), tx.from.to_string());
            if let Some(to) = tx.to {
                evidence.insert("tx.to".to_owned(), to.to_string());
            }
        }
        if let Some(a) = ctx.log_address {
            evidence.insert("log.address".to_owned(), a.to_string());
        }
        let mut probes = BTreeMap::new();
        for (j, name) in m.r.spec.rule.probe_names.iter().enumerate() {
            if let Some(v) = &m.s.cur[j] {
                probes.insert(name.clone(), v.to_string());
            }
            if let Some(v) = &m.s.prev[j] {
                probes.insert(format!("prev({name})"), v.to_string());
            }
        }
        let tx_hash = ctx.tx.map(|t| t.hash);
        let dedup_key = format!(
            "{}:{}:{}:{}",
            m.r.spec.id,
            ctx.block.hash,
            tx_hash.map_or_else(|| "-".to_owned(), |h| h.to_string()),
            log_index.map_or_else(|| "-".to_owned(), |i| i.to_string())
        );
        Some(Alert {
            monitor: m.r.spec.id.clone(),
            severity: m.r.spec.severity,
            playbook: m.r.spec.playbook.clone(),
            chain_id: ctx.block.chain_id,
            block_number: ctx.block.number,
            block_hash: ctx.block.hash,
            tx_hash,
            log_index,
            evidence,
            probes,
            dedup_key,
            confirmations: m.r.spec.confirmations,
        })
    }
}

type WindowSpec<'e> = (Agg, Option<&'e CExpr>, Option<&'e CExpr>, usize);

fn collect_windows<'e>(e: &'e CExpr, out: &mut Vec<WindowSpec<'e>>) {
    match e {
        CExpr::Window { agg, value, filter, slot, .. } => {
            out.push((*agg, value.as_deref(), filter.as_deref(), *slot));
        }
        CExpr::Not(x) | CExpr::Neg(x) | CExpr::Abs(x) | CExpr::In(x, _) => collect_windows(x, out),
        CExpr::Binary(_, a, b) | CExpr::PctChange(a, b) => {
            collect_windows(a, out);
            collect_windows(b, out);
        }
        CExpr::Min(xs) | CExpr::Max(xs) => xs.iter().for_each(|x| collect_windows(x, out)),
        CExpr::Const(_)
        | CExpr::Arg(..)
        | CExpr::NamedArg(..)
        | CExpr::Builtin(_)
        | CExpr::Probe(_)
        | CExpr::Prev(_) => {}
    }
}

pub(crate) fn to_value(v: &DynSolValue) -> Value {
    match v {
        DynSolValue::Uint(u, _) => Value::Num(Num::from_u256(*u)),
        DynSolValue::Int(i, _) => Value::Num(Num::from_i256(*i)),
        DynSolValue::Bool(b) => Value::Bool(*b),
        DynSolValue::Address(a) => Value::Address(*a),
        DynSolValue::FixedBytes(w, n) => Value::Bytes(Bytes::copy_from_slice(&w[..*n])),
        DynSolValue::Bytes(b) => Value::Bytes(Bytes::copy_from_slice(b)),
        DynSolValue::String(s) => Value::Str(s.clone()),
        other => Value::Bytes(Bytes::from(other.abi_encode())),
    }
}

type EvalResult = Result<Option<Value>, String>;

fn num(v: Option<Value>) -> Option<Num> {
    match v {
        Some(Value::Num(n)) => Some(n),
        _ => None,
    }
}

fn eval(e: &CExpr, ctx: &Ctx<'_>, m: &Runtime) -> EvalResult {
    let ovf = |x: crate::num::Overflow| x.to_string();
    Ok(match e {
        CExpr::Const(v) => Some(v.clone()),
        CExpr::Arg(i, _) => ctx.args.get(*i).cloned(),
        CExpr::NamedArg(name, _) => ctx
            .names
            .and_then(|names| names.iter().position(|n| n == name))
            .and_then(|i| ctx.args.get(i).cloned()),
        CExpr::Builtin(b) => builtin(*b, ctx),
        CExpr::Probe(i) => m.s.cur.get(*i).cloned().flatten(),
        CExpr::Prev(i) => m.s.prev.get(*i).cloned().flatten(),
        CExpr::Window { agg, window, slot, .. } => {
            let buf = &m.s.windows[*slot];
            let in_window = |&&(n, ts, _): &&(u64, u64, Num)| match window {
                Window::Blocks(k) => n + k > ctx.block.number,
                Window::Seconds(s) => ts + s > ctx.block.timestamp,
            };
            let vals: Vec<Num> = buf.entries.iter().filter(in_window).map(|(_, _, v)| *v).collect();
            let r = match agg {
                Agg::Sum | Agg::Count => {
                    vals.iter().try_fold(Num::ZERO, |acc, v| acc.checked_add(*v)).map_err(ovf)?
                }
                Agg::Min => match vals.iter().min() {
                    Some(v) => *v,
                    None => return Ok(None),
                },
                Agg::Max => match vals.iter().max() {
                    Some(v) => *v,
                    None => return Ok(None),
                },
                Agg::Avg => {
                    if vals.is_empty() {
                        return Ok(None);
                    }
                    let s = vals
                        .iter()
                        .try_fold(Num::ZERO, |acc, v| acc.checked_add(*v))
                        .map_err(ovf)?;
                    match s.checked_div(Num::from_u64(vals.len() as u64)).map_err(ovf)? {
                        Some(v) => v,
                        None => return Ok(None),
                    }
                }
            };
            Some(Value::Num(r))
        }
        CExpr::Not(x) => match eval(x, ctx, m)? {
            Some(Value::Bool(b)) => Some(Value::Bool(!b)),
            _ => None,
        },
        CExpr::Neg(x) => num(eval(x, ctx, m)?).map(|n| Value::Num(n.negated())),
        CExpr::Abs(x) => num(eval(x, ctx, m)?).map(|n| Value::Num(n.abs())),
        CExpr::In(x, list) => match eval(x, ctx, m)? {
            Some(Value::Address(a)) => Some(Value::Bool(m.r.spec.rule.lists[*list].contains(&a))),
            _ => None,
        },
        CExpr::Min(xs) | CExpr::Max(xs) => {
            let mut best: Option<Num> = None;
            for x in xs {
                let Some(n) = num(eval(x, ctx, m)?) else { return Ok(None) };
                best = Some(match best {
                    None => n,
                    Some(b) if matches!(e, CExpr::Min(_)) => b.min(n),
                    Some(b) => b.max(n),
                });
            }
            best.map(Value::Num)
        }
        CExpr::PctChange(a, b) => {
            let (Some(new), Some(old)) = (num(eval(a, ctx, m)?), num(eval(b, ctx, m)?)) else {
                return Ok(None);
            };
            let diff = new.checked_sub(old).map_err(ovf)?;
            diff.checked_div(old.abs()).map_err(ovf)?.map(Value::Num)
        }
        CExpr::Binary(op, a, b) => {
            // short-circuit boolean operators
            if matches!(op, BinOp::And | BinOp::Or) {
                let l = eval(a, ctx, m)?;
                return Ok(match (op, l) {
                    (BinOp::And, Some(Value::Bool(false))) => Some(Value::Bool(false)),
                    (BinOp::Or, Some(Value::Bool(true))) => Some(Value::Bool(true)),
                    (_, Some(Value::Bool(_))) => match eval(b, ctx, m)? {
                        Some(Value::Bool(r)) => Some(Value::Bool(r)),
                        _ => None,
                    },
                    _ => None,
                });
            }
            let (Some(l), Some(r)) = (eval(a, ctx, m)?, eval(b, ctx, m)?) else { return Ok(None) };
            binary(*op, l, r)?
        }
    })
}

fn binary(op: BinOp, l: Value, r: Value) -> EvalResult {
    let ovf = |x: crate::num::Overflow| x.to_string();
    Ok(match (op, l, r) {
        (BinOp::Eq, l, r) => Some(Value::Bool(l == r)),
        (BinOp::Ne, l, r) => Some(Value::Bool(l != r)),
        (op, Value::Num(a), Value::Num(b)) => match op {
            BinOp::Lt => Some(Value::Bool(a < b)),
            BinOp::Le => Some(Value::Bool(a <= b)),
            BinOp::Gt => Some(Value::Bool(a > b)),
            BinOp::Ge => Some(Value::Bool(a >= b)),
            BinOp::Add => Some(Value::Num(a.checked_add(b).map_err(ovf)?)),
            BinOp::Sub => Some(Value::Num(a.checked_sub(b).map_err(ovf)?)),
            BinOp::Mul => Some(Value::Num(a.checked_mul(b).map_err(ovf)?)),
            BinOp::Div => a.checked_div(b).map_err(ovf)?.map(Value::Num),
            BinOp::Rem => a.checked_rem(b).map(Value::Num),
            _ => None,
        },
        _ => None,
    })
}

fn builtin(b: Builtin, ctx: &Ctx<'_>) -> Option<Value> {
    let tx = ctx.tx;
    Some(match b {
        Builtin::TxFrom => Value::Address(tx?.from),
        Builtin::TxTo => Value::Address(tx?.to.unwrap_or(Address::ZERO)),
        Builtin::TxValue => Value::Num(Num::from_u256(tx?.value)),
        Builtin::TxSuccess => Value::Bool(tx?.success),
        Builtin::TxGasUsed => Value::Num(Num::from_u64(tx?.gas_used)),
        Builtin::TxNonce => Value::Num(Num::from_u64(tx?.nonce)),
        Builtin::TxFirebreak => Value::Bool(tx?.by_firebreak?),
        Builtin::SafeTxApproved => {
            let hash = ["approvedHash", "txHash"].iter().find_map(|n| {
                let i = ctx.names?.iter().position(|x| x == n)?;
                match ctx.args.get(i)? {
                    Value::Bytes(b) if b.len() == 32 => Some(B256::from_slice(b)),
                    _ => None,
                }
            })?;
            Value::Bool(ctx.block.approved_safe_txs.as_ref()?.contains(&hash))
        }
        Builtin::BlockNumber => Value::Num(Num::from_u64(ctx.block.number)),
        Builtin::BlockTimestamp => Value::Num(Num::from_u64(ctx.block.timestamp)),
        Builtin::LogAddress => Value::Address(ctx.log_address?),
        Builtin::EventName => Value::Str(ctx.event_name?.to_owned()),
    })
}

/// Prunes window entries that can no longer be in any window; call after each block.
impl Engine {
    /// Drops window entries older than every window needs (bounded memory).
    pub fn prune(&mut self, chain_id: u64, number: u64, timestamp: u64) {
        for m in &mut self.monitors {
            if m.r.spec.chain_id != chain_id {
                continue;
            }
            for &(slot, w) in &m.r.prune {
                let buf = &mut m.s.windows[slot].entries;
                while let Some(&(n, ts, _)) = buf.front() {
                    let keep = match w {
                        Window::Blocks(k) => n + k > number,
                        Window::Seconds(s) => ts + s > timestamp,
                    };
                    if keep {
                        break;
                    }
                    buf.pop_front();
                }
            }
        }
    }
}

fn collect_window_specs(e: &CExpr, out: &mut Vec<(usize, Window)>) {
    match e {
        CExpr::Window { window, slot, .. } => out.push((*slot, *window)),
        CExpr::Not(x) | CExpr::Neg(x) | CExpr::Abs(x) | CExpr::In(x, _) => {
            collect_window_specs(x, out)
        }
        CExpr::Binary(_, a, b) | CExpr::PctChange(a, b) => {
            collect_window_specs(a, out);
            collect_window_specs(b, out);
        }
        CExpr::Min(xs) | CExpr::Max(xs) => xs.iter().for_each(|x| collect_window_specs(x, out)),
        CExpr::Const(_)
        | CExpr::Arg(..)
        | CExpr::NamedArg(..)
        | CExpr::Builtin(_)
        | CExpr::Probe(_)
        | CExpr::Prev(_) => {}
    }
}
