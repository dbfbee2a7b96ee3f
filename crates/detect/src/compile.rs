//! Type checking of a parsed rule against the plan: contracts, ABIs, lists.

use std::collections::BTreeMap;

use alloy_dyn_abi::{DynSolType, Specifier};
use alloy_json_abi::{Event, EventParam, Function, JsonAbi, Param};
use alloy_primitives::{Address, Bytes};

use crate::{
    num::Num,
    preset::{Preset, preset},
    syntax::{BinOp, Expr, ExprKind, RuleAst, SourceAst, Span, SyntaxError, Window, parse},
};

/// A rule that does not fit the plan (or does not parse).
pub type RuleError = SyntaxError;

/// Value types of the rule language.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ty {
    /// Exact number (all integer widths, percentages, ratios).
    Num,
    /// Boolean.
    Bool,
    /// 20-byte address.
    Address,
    /// Byte string of any length (`bytes`, hex literals other than addresses).
    Bytes,
    /// Byte string of a fixed length (`bytesN`, N = 1..=32).
    Fixed(u8),
    /// Text.
    Str,
}

impl Ty {
    fn name(self) -> String {
        match self {
            Self::Num => "number".into(),
            Self::Bool => "boolean".into(),
            Self::Address => "address".into(),
            Self::Bytes => "bytes".into(),
            Self::Fixed(n) => format!("bytes{n}"),
            Self::Str => "string".into(),
        }
    }

    fn of_sol(ty: &DynSolType) -> Option<Self> {
        Some(match ty {
            DynSolType::Uint(_) | DynSolType::Int(_) => Self::Num,
            DynSolType::Bool => Self::Bool,
            DynSolType::Address => Self::Address,
            DynSolType::Bytes => Self::Bytes,
            DynSolType::FixedBytes(n) => Self::Fixed(u8::try_from(*n).ok()?),
            DynSolType::String => Self::Str,
            _ => return None,
        })
    }
}

/// A runtime value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value {
    /// Number.
    Num(Num),
    /// Boolean.
    Bool(bool),
    /// Address.
    Address(Address),
    /// Bytes.
    Bytes(Bytes),
    /// Text.
    Str(String),
}

impl std::fmt::Display for Value {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Num(n) => write!(f, "{n}"),
            Self::Bool(b) => write!(f, "{b}"),
            Self::Address(a) => write!(f, "{a}"),
            Self::Bytes(b) => write!(f, "{b}"),
            Self::Str(s) => write!(f, "{s}"),
        }
    }
}

/// A contract as the rule compiler sees it.
#[derive(Debug, Clone, Copy)]
pub struct ContractRef<'a> {
    /// Chain key.
    pub chain: &'a str,
    /// Address.
    pub address: Address,
    /// ABI.
    pub abi: &'a JsonAbi,
}

/// What a rule may name.
#[derive(Debug, Clone, Default)]
pub struct RuleContext<'a> {
    /// Contracts by id.
    pub contracts: BTreeMap<String, ContractRef<'a>>,
    /// Address lists by name (the plan's `[lists]`, and `plan.signers`,
    /// `plan.safes`, `plan.authorities`, `plan.team`).
    pub lists: BTreeMap<String, Vec<Address>>,
    /// The plan's named accounts by id (signers, Safes, members holding a
    /// Safe owner key), usable as address values.
    pub accounts: BTreeMap<String, Address>,
    /// The plan's Safes by id: (chain, address), which presets may watch.
    pub safes: BTreeMap<String, (String, Address)>,
    /// Chain of the monitor.
    pub chain: String,
    /// Contracts the monitor lists (presets without arguments apply to these).
    pub monitor_contracts: Vec<String>,
    /// Accounts the plan allows to pause or unpause (its guardians and Safes):
    /// presets report `Paused`/`Unpaused` only when someone else did it.
    pub expected_pausers: Vec<Address>,
}

/// Values known about the current match, by builtin name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Builtin {
    /// `tx.from`
    TxFrom,
    /// `tx.to` (zero address for contract creation)
    TxTo,
    /// `tx.value`
    TxValue,
    /// `tx.success`
    TxSuccess,
    /// `tx.gas_used`
    TxGasUsed,
    /// `tx.nonce`
    TxNonce,
    /// `tx.firebreak`: firebreak itself signed and sent it (`tx from` only)
    TxFirebreak,
    /// `safe_tx.approved`: the SafeTx hash of a `safe_transactions` event is
    /// one the team approved (allow-list) or firebreak's own
    SafeTxApproved,
    /// `block.number`
    BlockNumber,
    /// `block.timestamp`
    BlockTimestamp,
    /// `log.address`
    LogAddress,
    /// `event.name` (presets)
    EventName,
}

const BUILTINS: &[(&str, Builtin, Ty)] = &[
    ("tx.from", Builtin::TxFrom, Ty::Address),
    ("tx.to", Builtin::TxTo, Ty::Address),
    ("tx.value", Builtin::TxValue, Ty::Num),
    ("tx.success", Builtin::TxSuccess, Ty::Bool),
    ("tx.gas_used", Builtin::TxGasUsed, Ty::Num),
    ("tx.nonce", Builtin::TxNonce, Ty::Num),
    ("tx.firebreak", Builtin::TxFirebreak, Ty::Bool),
    ("safe_tx.approved", Builtin::SafeTxApproved, Ty::Bool),
    ("block.number", Builtin::BlockNumber, Ty::Num),
    ("block.timestamp", Builtin::BlockTimestamp, Ty::Num),
    ("log.address", Builtin::LogAddress, Ty::Address),
    ("event.name", Builtin::EventName, Ty::Str),
];

/// A state read evaluated once per block.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Probe {
    /// ERC-20 balance (`token = Some`) or ETH balance.
    Balance {
        /// Token contract, `None` for ETH.
        token: Option<Address>,
        /// Holder.
        holder: Address,
    },
    /// A view call returning one value.
    Call {
        /// Target.
        to: Address,
        /// Calldata.
        data: Bytes,
        /// Output type, e.g. `int256`.
        output: String,
    },
}

impl Probe {
    /// The state read that yields this probe's value.
    pub fn read(&self) -> firebreak_primitives::StateRead {
        match self {
            Self::Balance { token: None, holder } => {
                firebreak_primitives::StateRead::EthBalance(*holder)
            }
            Self::Balance { token: Some(token), holder } => {
                // balanceOf(address)
                let mut data = vec![0x70, 0xa0, 0x82, 0x31];
                data.extend_from_slice(&[0u8; 12]);
                data.extend_from_slice(holder.as_slice());
                firebreak_primitives::StateRead::Call { to: *token, data: data.into() }
            }
            Self::Call { to, data, .. } => {
                firebreak_primitives::StateRead::Call { to: *to, data: data.clone() }
            }
        }
    }

    /// Decodes the raw result of [`Probe::read`]; `None` when it does not
    /// decode as the expected type (a reverted or non-conforming call).
    pub fn decode(&self, ret: &[u8]) -> Option<Value> {
        let ty = match self {
            Self::Balance { .. } => DynSolType::Uint(256),
            Self::Call { output, .. } => DynSolType::parse(output).ok()?,
        };
        let v = ty.abi_decode(ret).ok()?;
        Some(crate::engine::to_value(&v))
    }
}

/// Windowed aggregates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Agg {
    /// Sum of the values.
    Sum,
    /// Number of matches (with a condition: of matches where it holds).
    Count,
    /// Smallest value.
    Min,
    /// Largest value.
    Max,
    /// Mean (exact).
    Avg,
}

/// A typed expression.
#[derive(Debug, Clone, PartialEq)]
pub enum CExpr {
    /// A constant.
    Const(Value),
    /// Decoded argument `i` of the matched event or call.
    Arg(usize, Ty),
    /// The argument of this name of the matched preset event (unknown when
    /// the event has none).
    NamedArg(String, Ty),
    /// A builtin.
    Builtin(Builtin),
    /// Probe value at the current block.
    Probe(usize),
    /// Probe value at the previous block.
    Prev(usize),
    /// Windowed aggregate over the source's matches; `slot` indexes the monitor's windows.
    Window {
        /// Aggregate.
        agg: Agg,
        /// Value per match (for `count` with a condition: the condition).
        value: Option<Box<Self>>,
        /// Only matches where this holds feed the window
        /// (`sum(amount, from == vault, 10 blocks)`).
        filter: Option<Box<Self>>,
        /// Window.
        window: Window,
        /// Window slot.
        slot: usize,
    },
    /// `!x`
    Not(Box<Self>),
    /// `-x`
    Neg(Box<Self>),
    /// `a op b`
    Binary(BinOp, Box<Self>, Box<Self>),
    /// `x in list`
    In(Box<Self>, usize),
    /// `abs(x)`
    Abs(Box<Self>),
    /// `min(a, b, …)`
    Min(Vec<Self>),
    /// `max(a, b, …)`
    Max(Vec<Self>),
    /// `pct_change(new, old)` = (new − old) / old
    PctChange(Box<Self>, Box<Self>),
}

/// What a compiled rule matches.
#[derive(Debug, Clone, PartialEq)]
pub enum Source {
    /// Logs of `event` emitted by `address`.
    Event {
        /// Emitter.
        address: Address,
        /// The event ABI (decoding).
        event: Event,
    },
    /// Logs of any of several events, each by its emitter; the rule reads
    /// their arguments by name.
    Events {
        /// (emitter, event ABI).
        events: Vec<(Address, Event)>,
    },
    /// Top-level calls of `function` on `address`.
    Call {
        /// Target.
        address: Address,
        /// The function ABI (decoding).
        function: Function,
    },
    /// Any transaction from or to one of these addresses (`from_only`:
    /// sent by one of them).
    Tx {
        /// Watched addresses.
        addresses: Vec<Address>,
        /// `tx from …`: only what these addresses send counts.
        from_only: bool,
    },
    /// Every block.
    Block,
    /// A preset: any of its events emitted by one of the addresses.
    Preset {
        /// The preset.
        preset: Preset,
        /// Emitters.
        addresses: Vec<Address>,
        /// `Paused`/`Unpaused` by these accounts is expected and not reported.
        expected_pausers: Vec<Address>,
    },
}

/// A compiled, type-checked rule.
#[derive(Debug, Clone, PartialEq)]
pub struct CompiledRule {
    /// What it matches.
    pub source: Source,
    /// Boolean condition (`None` = every match).
    pub condition: Option<CExpr>,
    /// Names of the decoded arguments, for evidence.
    pub arg_names: Vec<String>,
    /// State reads the rule needs each block.
    pub probes: Vec<Probe>,
    /// Human names of the probes (for evidence), same order.
    pub probe_names: Vec<String>,
    /// Address lists used by `in`.
    pub lists: Vec<Vec<Address>>,
    /// Number of window slots.
    pub windows: usize,
}

fn e(message: impl Into<String>, span: Span, hint: impl Into<String>) -> RuleError {
    RuleError { message: message.into(), span, hint: hint.into() }
}

fn suggest<'c>(word: &str, candidates: impl Iterator<Item = &'c str> + Clone) -> String {
    let best = candidates
        .clone()
        .map(|c| (strsim::damerau_levenshtein(word, c), c))
        .filter(|(d, c)| *d <= 2.max(c.len() / 3))
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c);
    let all: Vec<&str> = candidates.collect();
    match best {
        Some(b) => format!("did you mean `{b}`?"),
        None if all.is_empty() => "none are defined".to_owned(),
        None => format!(
            "one of {}",
            all.iter().map(|c| format!("`{c}`")).collect::<Vec<_>>().join(", ")
        ),
    }
}

struct Compiler<'c, 'a> {
    ctx: &'c RuleContext<'a>,
    args: Vec<(String, Ty)>,
    source_kind: &'static str,
    /// The source is the `safe_transactions` preset (`safe_tx.approved`).
    safe_txs: bool,
    probes: Vec<Probe>,
    probe_names: Vec<String>,
    lists: Vec<(String, Vec<Address>)>,
    windows: usize,
    in_window: bool,
    text: &'c str,
    /// A preset's arguments by name (each with one type across the preset's
    /// events that have it), looked up in the matched event at run time.
    preset_args: Vec<(String, Ty)>,
}

/// Parses and type-checks `text` for a monitor.
///
/// # Errors
/// The first problem, positioned in `text`.
pub fn compile(text: &str, ctx: &RuleContext<'_>) -> Result<CompiledRule, RuleError> {
    let ast = parse(text)?;
    compile_ast(&ast, text, ctx)
}

/// Type-checks a parsed rule (see [`compile`]).
///
/// # Errors
/// The first problem, positioned in `text`.
pub fn compile_ast(
    ast: &RuleAst,
    text: &str,
    ctx: &RuleContext<'_>,
) -> Result<CompiledRule, RuleError> {
    let mut c = Compiler {
        ctx,
        args: Vec::new(),
        source_kind: "",
        safe_txs: false,
        probes: Vec::new(),
        probe_names: Vec::new(),
        lists: Vec::new(),
        windows: 0,
        in_window: false,
        preset_args: Vec::new(),
        text,
    };
    let source = c.source(&ast.source)?;
    let condition = match &ast.condition {
        None => None,
        Some(expr) => {
            let (ce, ty) = c.expr(expr)?;
            if ty != Ty::Bool {
                return Err(e(
                    format!("the condition is a {}, not a boolean", ty.name()),
                    expr.span.clone(),
                    "compare it: e.g. `amount > 100_000e6`",
                ));
            }
            Some(ce)
        }
    };
    Ok(CompiledRule {
        source,
        condition,
        arg_names: c.args.iter().map(|(n, _)| n.clone()).collect(),
        probes: c.probes,
        probe_names: c.probe_names,
        lists: c.lists.into_iter().map(|(_, l)| l).collect(),
        windows: c.windows,
    })
}

fn param_ty(p: &Param) -> Option<Ty> {
    p.resolve().ok().as_ref().and_then(Ty::of_sol)
}

/// Names and types of decoded arguments: unnamed ones are `argN`; types rules
/// cannot compare (arrays, tuples) are kept as raw bytes.
fn arg_list<'p>(params: impl Iterator<Item = (&'p str, Option<Ty>)>) -> Vec<(String, Ty)> {
    params
        .enumerate()
        .map(|(i, (name, ty))| {
            let name = if name.is_empty() { format!("arg{i}") } else { name.to_owned() };
            (name, ty.unwrap_or(Ty::Bytes))
        })
        .collect()
}

fn event_param_ty(p: &EventParam) -> Option<Ty> {
    p.resolve().ok().as_ref().and_then(Ty::of_sol)
}

impl<'a> Compiler<'_, 'a> {
    fn contract(&self, name: &str, span: &Span) -> Result<ContractRef<'a>, RuleError> {
        let Some(c) = self.ctx.contracts.get(name) else {
            return Err(e(
                format!("no contract `{name}` in the plan"),
                span.clone(),
                suggest(name, self.ctx.contracts.keys().map(String::as_str)),
            ));
        };
        if c.chain != self.ctx.chain {
            return Err(e(
                format!(
                    "contract `{name}` is on chain `{}`, not the monitor's chain `{}`",
                    c.chain, self.ctx.chain
                ),
                span.clone(),
                "watch a contract of the monitor's chain",
            ));
        }
        Ok(*c)
    }

    fn source(&mut self, src: &SourceAst) -> Result<Source, RuleError> {
        match src {
            SourceAst::Event { contract, event, more } => {
                let (address, ev) = self.event(contract, event)?;
                if more.is_empty() {
                    self.source_kind = "event";
                    self.args =
                        arg_list(ev.inputs.iter().map(|p| (p.name.as_str(), event_param_ty(p))));
                    return Ok(Source::Event { address, event: ev });
                }
                // several events as one source: arguments by name, as for presets
                let mut events = vec![(address, ev)];
                for (contract, event) in more {
                    let found = self.event(contract, event)?;
                    if !events.contains(&found) {
                        events.push(found);
                    }
                }
                self.source_kind = "events";
                self.named_args(events.iter().map(|(_, ev)| ev));
                Ok(Source::Events { events })
            }
            SourceAst::Call { contract, function } => {
                let c = self.contract(&contract.0, &contract.1)?;
                let Some(fs) = c.abi.function(&function.0).filter(|v| !v.is_empty()) else {
                    return Err(e(
                        format!(
                            "contract `{}` has no function `{}` in its ABI",
                            contract.0, function.0
                        ),
                        function.1.clone(),
                        suggest(&function.0, c.abi.functions.keys().map(String::as_str)),
                    ));
                };
                if fs.len() > 1 {
                    return Err(e(
                        format!("function `{}` is overloaded in the ABI", function.0),
                        function.1.clone(),
                        "rules cannot choose between overloads yet; keep one in the ABI",
                    ));
                }
                let f = fs[0].clone();
                self.source_kind = "call";
                self.args = arg_list(f.inputs.iter().map(|p| (p.name.as_str(), param_ty(p))));
                Ok(Source::Call { address: c.address, function: f })
            }
            SourceAst::Tx { from } if !from.is_empty() => {
                self.source_kind = "tx from";
                let mut addresses = Vec::new();
                for (name, span) in from {
                    if let Some(list) = self.ctx.lists.get(name) {
                        addresses.extend(list.iter().copied());
                    } else if let Some(a) = self.ctx.accounts.get(name) {
                        addresses.push(*a);
                    } else if let Some(c) = self.ctx.contracts.get(name) {
                        addresses.push(c.address);
                    } else {
                        let known = self
                            .ctx
                            .lists
                            .keys()
                            .chain(self.ctx.accounts.keys())
                            .map(String::as_str);
                        return Err(e(
                            format!("no account or address list `{name}` in the plan"),
                            span.clone(),
                            suggest(name, known),
                        ));
                    }
                }
                addresses.sort_unstable();
                addresses.dedup();
                if addresses.is_empty() {
                    return Err(e(
                        "these names hold no address: the rule could never fire",
                        from[0].1.start..from[from.len() - 1].1.end,
                        "give the signers an `address` (or list addresses under [lists])",
                    ));
                }
                Ok(Source::Tx { addresses, from_only: true })
            }
            SourceAst::Tx { .. } => {
                self.source_kind = "tx";
                let mut addresses: Vec<Address> = self
                    .ctx
                    .monitor_contracts
                    .iter()
                    .filter_map(|n| self.ctx.contracts.get(n).map(|c| c.address))
                    .collect();
                addresses.sort_unstable();
                addresses.dedup();
                Ok(Source::Tx { addresses, from_only: false })
            }
            SourceAst::Block => {
                self.source_kind = "block";
                Ok(Source::Block)
            }
            SourceAst::Preset { name, contracts } => {
                let Some(p) = preset(&name.0) else {
                    return Err(e(
                        format!("no preset `{}`", name.0),
                        name.1.clone(),
                        suggest(&name.0, crate::preset::PRESET_NAMES.iter().copied()),
                    ));
                };
                let mut addresses = Vec::new();
                if contracts.is_empty() {
                    for n in &self.ctx.monitor_contracts {
                        if let Some(c) = self.ctx.contracts.get(n) {
                            addresses.push(c.address);
                        }
                    }
                    if addresses.is_empty() {
                        return Err(e(
                            "the preset has no contracts to watch",
                            name.1.clone(),
                            format!(
                                "name them: `preset {}(CONTRACT)`, or list `contracts` in the monitor",
                                name.0
                            ),
                        ));
                    }
                } else {
                    for (n, s) in contracts {
                        // a Safe of the plan is watched like a contract
                        // (`preset safe_changes(emergency)`)
                        match self.ctx.safes.get(n) {
                            Some((chain, address)) if *chain == self.ctx.chain => {
                                addresses.push(*address);
                            }
                            Some((chain, _)) => {
                                return Err(e(
                                    format!(
                                        "Safe `{n}` is on chain `{chain}`, not the monitor's chain `{}`",
                                        self.ctx.chain
                                    ),
                                    s.clone(),
                                    "watch a Safe of the monitor's chain",
                                ));
                            }
                            None => addresses.push(self.contract(n, s)?.address),
                        }
                    }
                }
                self.source_kind = "preset";
                self.safe_txs = p.name == "safe_transactions";
                self.named_args(p.events.iter());
                Ok(Source::Preset {
                    preset: p,
                    addresses,
                    expected_pausers: self.ctx.expected_pausers.clone(),
                })
            }
        }
    }

    /// The event `contract.event` of the plan: its emitter and ABI.
    fn event(
        &self,
        contract: &(String, Span),
        event: &(String, Span),
    ) -> Result<(Address, Event), RuleError> {
        let c = self.contract(&contract.0, &contract.1)?;
        let events = c.abi.event(&event.0).filter(|v| !v.is_empty());
        let Some(events) = events else {
            return Err(e(
                format!("contract `{}` has no event `{}` in its ABI", contract.0, event.0),
                event.1.clone(),
                suggest(&event.0, c.abi.events.keys().map(String::as_str)),
            ));
        };
        if events.len() > 1 {
            return Err(e(
                format!("event `{}` is overloaded in the ABI", event.0),
                event.1.clone(),
                "rules cannot choose between overloads yet; keep one in the ABI",
            ));
        }
        Ok((c.address, events[0].clone()))
    }

    /// Arguments looked up by name in whichever of `events` matched: each
    /// name with one type across the events that have it (a name with two
    /// types is left out).
    fn named_args<'e>(&mut self, events: impl Iterator<Item = &'e Event>) {
        let mut conflicting = Vec::new();
        for param in events.flat_map(|ev| ev.inputs.iter()) {
            let ty = event_param_ty(param).unwrap_or(Ty::Bytes);
            match self.preset_args.iter().find(|(n, _)| *n == param.name) {
                Some((_, t)) if *t != ty => conflicting.push(param.name.clone()),
                Some(_) => {}
                None => self.preset_args.push((param.name.clone(), ty)),
            }
        }
        self.preset_args.retain(|(n, _)| !conflicting.contains(n));
    }

    fn probe(&mut self, probe: Probe, name: String) -> usize {
        if let Some(i) = self.probes.iter().position(|p| *p == probe) {
            return i;
        }
        self.probes.push(probe);
        self.probe_names.push(name);
        self.probes.len() - 1
    }

    fn is_probe(expr: &Expr) -> bool {
        matches!(&expr.kind, ExprKind::Call { callee, .. } if callee.len() == 1 && (callee[0] == "balance" || callee[0] == "call"))
    }

    fn expr(&mut self, expr: &Expr) -> Result<(CExpr, Ty), RuleError> {
        let span = expr.span.clone();
        Ok(match &expr.kind {
            ExprKind::Num(n) => (CExpr::Const(Value::Num(*n)), Ty::Num),
            ExprKind::Bool(b) => (CExpr::Const(Value::Bool(*b)), Ty::Bool),
            ExprKind::Str(s) => (CExpr::Const(Value::Str(s.clone())), Ty::Str),
            ExprKind::Hex(h) => {
                let hex = &h[2..];
                if hex.len() == 40 {
                    let a: Address = h.parse().map_err(|_| {
                        e("invalid address literal", span.clone(), "write 0x + 40 hex digits")
                    })?;
                    (CExpr::Const(Value::Address(a)), Ty::Address)
                } else {
                    let b: Bytes = h.parse().map_err(|_| {
                        e(
                            "invalid hex literal (odd number of digits?)",
                            span.clone(),
                            "write an even number of hex digits",
                        )
                    })?;
                    (CExpr::Const(Value::Bytes(b)), Ty::Bytes)
                }
            }
            ExprKind::Window(_) => {
                return Err(e(
                    "a window only goes inside `sum`, `count`, `min`, `max` or `avg`",
                    span,
                    "e.g. `sum(amount, 10 blocks)`",
                ));
            }
            ExprKind::Path(path) => self.path(path, span)?,
            ExprKind::Not(x) => {
                let (cx, ty) = self.expr(x)?;
                self.want(ty, Ty::Bool, &x.span, "`!`")?;
                (CExpr::Not(Box::new(cx)), Ty::Bool)
            }
            ExprKind::Neg(x) => {
                let (cx, ty) = self.expr(x)?;
                self.want(ty, Ty::Num, &x.span, "`-`")?;
                (CExpr::Neg(Box::new(cx)), Ty::Num)
            }
            ExprKind::Binary(BinOp::In, lhs, rhs) => {
                let (cl, ty) = self.expr(lhs)?;
                self.want(ty, Ty::Address, &lhs.span, "`in`")?;
                let ExprKind::Path(p) = &rhs.kind else {
                    return Err(e(
                        "`in` needs the name of an address list",
                        rhs.span.clone(),
                        "define the list under [lists] in the plan",
                    ));
                };
                let name = p.join(".");
                let Some(list) = self.ctx.lists.get(&name) else {
                    let hint = if self.ctx.lists.keys().all(|k| k.starts_with("plan.")) {
                        format!(
                            "define it in the plan: `[lists]` with `{name} = [\"0x…\"]`, or use one of the plan's own: plan.signers, plan.safes, plan.authorities, plan.team, plan.contracts"
                        )
                    } else {
                        suggest(&name, self.ctx.lists.keys().map(String::as_str))
                    };
                    return Err(e(
                        format!("no address list `{name}` in the plan"),
                        rhs.span.clone(),
                        hint,
                    ));
                };
                let idx = match self.lists.iter().position(|(n, _)| *n == name) {
                    Some(i) => i,
                    None => {
                        self.lists.push((name, list.clone()));
                        self.lists.len() - 1
                    }
                };
                (CExpr::In(Box::new(cl), idx), Ty::Bool)
            }
            ExprKind::Binary(op, lhs, rhs) => {
                let (cl, tl) = self.expr(lhs)?;
                let (cr, tr) = self.expr(rhs)?;
                let sym = op_symbol(*op);
                let ty = match op {
                    BinOp::And | BinOp::Or => {
                        self.want(tl, Ty::Bool, &lhs.span, sym)?;
                        self.want(tr, Ty::Bool, &rhs.span, sym)?;
                        Ty::Bool
                    }
                    BinOp::Eq | BinOp::Ne => {
                        let (cl, cr) = self.comparable((cl, tl, lhs), (cr, tr, rhs), &span)?;
                        return Ok((CExpr::Binary(*op, Box::new(cl), Box::new(cr)), Ty::Bool));
                    }
                    BinOp::Lt | BinOp::Le | BinOp::Gt | BinOp::Ge => {
                        self.want(tl, Ty::Num, &lhs.span, sym)?;
                        self.want(tr, Ty::Num, &rhs.span, sym)?;
                        Ty::Bool
                    }
                    _ => {
                        self.want(tl, Ty::Num, &lhs.span, sym)?;
                        self.want(tr, Ty::Num, &rhs.span, sym)?;
                        Ty::Num
                    }
                };
                (CExpr::Binary(*op, Box::new(cl), Box::new(cr)), ty)
            }
            ExprKind::Call { callee, callee_span, args } => {
                self.call(callee, callee_span, args, span)?
            }
        })
    }

    /// The two sides of `==` / `!=`, when they can ever be equal. A byte
    /// literal compared with a `bytesN` must have exactly N bytes (`0x00`
    /// against a `bytes32` would silently never match); an address literal
    /// compared with a `bytes20` is taken as its 20 bytes.
    fn comparable(
        &self,
        (cl, tl, lhs): (CExpr, Ty, &Expr),
        (cr, tr, rhs): (CExpr, Ty, &Expr),
        span: &Span,
    ) -> Result<(CExpr, CExpr), RuleError> {
        let fixed_vs_literal = |fixed: Ty, lit: &CExpr, lit_expr: &Expr, other: &Expr| {
            let Ty::Fixed(n) = fixed else { return Ok(None) };
            let bytes = match lit {
                CExpr::Const(Value::Bytes(b)) => b.clone(),
                CExpr::Const(Value::Address(a)) => Bytes::copy_from_slice(a.as_slice()),
                _ => return Ok(None),
            };
            if bytes.len() == usize::from(n) {
                return Ok(Some(CExpr::Const(Value::Bytes(bytes))));
            }
            let mut padded = bytes.to_vec();
            padded.resize(usize::from(n), 0);
            let what = self.text.get(other.span.clone()).unwrap_or("the other side");
            Err(e(
                format!(
                    "this literal has {} byte(s) but `{what}` is a bytes{n}: the comparison could never be true",
                    bytes.len()
                ),
                lit_expr.span.clone(),
                if bytes.len() < usize::from(n) {
                    format!(
                        "write all {n} bytes; a bytes{n} value is left-aligned, so padded on the right this is {}",
                        Bytes::from(padded)
                    )
                } else {
                    format!("a bytes{n} has {n} bytes: shorten the literal")
                },
            ))
        };
        if let Some(c) = fixed_vs_literal(tl, &cr, rhs, lhs)? {
            return Ok((cl, c));
        }
        if let Some(c) = fixed_vs_literal(tr, &cl, lhs, rhs)? {
            return Ok((c, cr));
        }
        let bytes_like = |t: Ty| matches!(t, Ty::Bytes | Ty::Fixed(_));
        // two byte strings of any lengths (a `bytes` argument and a `bytesN`)
        // may be compared: equal when their bytes are
        if tl == tr || (bytes_like(tl) && bytes_like(tr) && (tl == Ty::Bytes || tr == Ty::Bytes)) {
            return Ok((cl, cr));
        }
        Err(e(
            format!("cannot compare a {} with a {}", tl.name(), tr.name()),
            span.clone(),
            "compare values of the same type",
        ))
    }

    fn want(&self, got: Ty, want: Ty, span: &Span, what: &str) -> Result<(), RuleError> {
        if got == want {
            return Ok(());
        }
        let _ = self.text;
        Err(e(
            format!("{what} needs a {} here, not a {}", want.name(), got.name()),
            span.clone(),
            match want {
                Ty::Bool => "use a comparison such as `x > 0`".to_owned(),
                Ty::Num => "use a number, a numeric argument or a probe".to_owned(),
                _ => format!("give a {}", want.name()),
            },
        ))
    }

    fn path(&mut self, path: &[String], span: Span) -> Result<(CExpr, Ty), RuleError> {
        let name = path.join(".");
        if let Some((_, b, ty)) = BUILTINS.iter().find(|(n, _, _)| *n == name) {
            let allowed = match b {
                Builtin::LogAddress => matches!(self.source_kind, "event" | "events" | "preset"),
                Builtin::EventName => matches!(self.source_kind, "preset" | "events"),
                Builtin::TxFrom
                | Builtin::TxTo
                | Builtin::TxValue
                | Builtin::TxSuccess
                | Builtin::TxGasUsed
                | Builtin::TxNonce => self.source_kind != "block",
                Builtin::TxFirebreak => self.source_kind == "tx from",
                Builtin::SafeTxApproved => self.safe_txs,
                Builtin::BlockNumber | Builtin::BlockTimestamp => true,
            };
            if !allowed {
                return Err(e(
                    format!("`{name}` is not available in a `{}` rule", self.source_kind),
                    span,
                    if *b == Builtin::SafeTxApproved {
                        "`safe_tx.approved` reads a Safe's transactions: `preset safe_transactions(SAFE) where !safe_tx.approved`"
                    } else if *b == Builtin::TxFirebreak {
                        "only a `tx from ACCOUNTS` rule knows whether firebreak sent the transaction: `tx from plan.signers where !tx.firebreak`"
                    } else {
                        "see docs/rules.md for what each source provides"
                    },
                ));
            }
            return Ok((CExpr::Builtin(*b), *ty));
        }
        if path.len() == 1
            && let Some(i) = self.args.iter().position(|(n, _)| *n == name)
        {
            return Ok((CExpr::Arg(i, self.args[i].1), self.args[i].1));
        }
        if path.len() == 1
            && let Some((n, ty)) = self.preset_args.iter().find(|(n, _)| *n == name)
        {
            // unknown (so a comparison is false) on an event without it
            return Ok((CExpr::NamedArg(n.clone(), *ty), *ty));
        }
        if let Some(c) = self.ctx.contracts.get(&name) {
            return Ok((CExpr::Const(Value::Address(c.address)), Ty::Address));
        }
        if let Some(a) = self.ctx.accounts.get(&name) {
            return Ok((CExpr::Const(Value::Address(*a)), Ty::Address));
        }
        if self.ctx.lists.contains_key(&name) {
            return Err(e(
                format!("`{name}` is an address list"),
                span,
                format!("use it with `in`: `tx.from in {name}`"),
            ));
        }
        let mut known: Vec<&str> = self.args.iter().map(|(n, _)| n.as_str()).collect();
        known.extend(self.preset_args.iter().map(|(n, _)| n.as_str()));
        known.extend(BUILTINS.iter().map(|(n, _, _)| *n));
        known.extend(self.ctx.accounts.keys().map(String::as_str));
        known.extend(self.ctx.contracts.keys().map(String::as_str));
        let what = match self.source_kind {
            "event" => "argument of the event",
            "call" => "argument of the function",
            _ => "value",
        };
        Err(e(format!("unknown {what} `{name}`"), span, suggest(&name, known.iter().copied())))
    }

    fn call(
        &mut self,
        callee: &[String],
        callee_span: &Span,
        args: &[Expr],
        span: Span,
    ) -> Result<(CExpr, Ty), RuleError> {
        let name = callee.join(".");
        let arity = |n: usize, hint: &str| -> Result<(), RuleError> {
            if args.len() == n {
                Ok(())
            } else {
                Err(e(
                    format!("`{name}` takes {n} argument{}", if n == 1 { "" } else { "s" }),
                    span.clone(),
                    hint.to_owned(),
                ))
            }
        };
        match name.as_str() {
            "abs" => {
                arity(1, "write `abs(x)`")?;
                let (x, ty) = self.expr(&args[0])?;
                self.want(ty, Ty::Num, &args[0].span, "`abs`")?;
                Ok((CExpr::Abs(Box::new(x)), Ty::Num))
            }
            "pct_change" => {
                arity(2, "write `pct_change(new, old)`")?;
                let (a, ta) = self.expr(&args[0])?;
                let (b, tb) = self.expr(&args[1])?;
                self.want(ta, Ty::Num, &args[0].span, "`pct_change`")?;
                self.want(tb, Ty::Num, &args[1].span, "`pct_change`")?;
                Ok((CExpr::PctChange(Box::new(a), Box::new(b)), Ty::Num))
            }
            "prev" => {
                arity(1, "write `prev(balance(TOKEN, HOLDER))`")?;
                if !Self::is_probe(&args[0]) {
                    return Err(e(
                        "`prev` takes a probe: `balance(…)` or `call(…)`",
                        args[0].span.clone(),
                        "e.g. `prev(balance(usdc, pool))`",
                    ));
                }
                let (x, ty) = self.expr(&args[0])?;
                let CExpr::Probe(i) = x else {
                    return Err(e(
                        "`prev` takes a probe: `balance(…)` or `call(…)`",
                        args[0].span.clone(),
                        "e.g. `prev(balance(usdc, pool))`",
                    ));
                };
                Ok((CExpr::Prev(i), ty))
            }
            "balance" => {
                arity(2, "write `balance(TOKEN, HOLDER)` (TOKEN a contract id or ETH)")?;
                let token = self.token(&args[0])?;
                let holder = self.static_address(&args[1])?;
                let shown = format!(
                    "balance({}, {})",
                    self.slice(&args[0].span),
                    self.slice(&args[1].span)
                );
                let i = self.probe(Probe::Balance { token, holder }, shown);
                Ok((CExpr::Probe(i), Ty::Num))
            }
            "call" => {
                arity(1, "write `call(contract.viewFunction(args))`")?;
                self.view_call(&args[0])
            }
            "sum" | "avg" | "count" | "min" | "max" => {
                let windowed = args
                    .last()
                    .and_then(|a| if let ExprKind::Window(w) = a.kind { Some(w) } else { None });
                match (name.as_str(), windowed) {
                    ("min" | "max", None) => {
                        if args.len() < 2 {
                            return Err(e(
                                format!(
                                    "`{name}` needs two or more values, or a value and a window"
                                ),
                                span,
                                format!("`{name}(a, b)` or `{name}(amount, 10 blocks)`"),
                            ));
                        }
                        let mut out = Vec::new();
                        for a in args {
                            let (x, ty) = self.expr(a)?;
                            self.want(ty, Ty::Num, &a.span, &format!("`{name}`"))?;
                            out.push(x);
                        }
                        Ok((if name == "min" { CExpr::Min(out) } else { CExpr::Max(out) }, Ty::Num))
                    }
                    (_, None) => Err(e(
                        format!("`{name}` needs a window as its last argument"),
                        span,
                        format!("e.g. `{name}(amount, 10 blocks)` or `{name}(amount, 5m)`"),
                    )),
                    (_, Some(window)) => {
                        if self.in_window {
                            return Err(e(
                                "windows cannot be nested",
                                span,
                                "aggregate over a plain value",
                            ));
                        }
                        if self.source_kind == "preset" {
                            return Err(e(
                                "presets cannot be aggregated",
                                span,
                                "use an `event` source to aggregate",
                            ));
                        }
                        let agg = match name.as_str() {
                            "sum" => Agg::Sum,
                            "avg" => Agg::Avg,
                            "count" => Agg::Count,
                            "min" => Agg::Min,
                            _ => Agg::Max,
                        };
                        // `AGG(value, condition, W)`: only matches where the
                        // condition holds feed the window
                        let mut filter = None;
                        if args.len() == 3 && agg != Agg::Count {
                            self.in_window = true;
                            let (x, ty) = self.expr(&args[1])?;
                            self.in_window = false;
                            self.want(ty, Ty::Bool, &args[1].span, &format!("`{name}`'s filter"))?;
                            filter = Some(Box::new(x));
                        }
                        let value_args = if filter.is_some() { 2 } else { args.len() };
                        let value = match (agg, value_args) {
                            (Agg::Count, 1) => None,
                            (Agg::Count, 2) => {
                                self.in_window = true;
                                let (x, ty) = self.expr(&args[0])?;
                                self.in_window = false;
                                self.want(ty, Ty::Bool, &args[0].span, "`count`")?;
                                Some(Box::new(x))
                            }
                            (_, 2) => {
                                self.in_window = true;
                                let (x, ty) = self.expr(&args[0])?;
                                self.in_window = false;
                                self.want(ty, Ty::Num, &args[0].span, &format!("`{name}`"))?;
                                Some(Box::new(x))
                            }
                            _ => {
                                return Err(e(
                                    format!(
                                        "`{name}` takes a value, an optional filter and a window"
                                    ),
                                    span,
                                    format!(
                                        "`{name}(amount, 10 blocks)`, or only some matches: `{name}(amount, from == vault, 10 blocks)`"
                                    ),
                                ));
                            }
                        };
                        let slot = self.windows;
                        self.windows += 1;
                        Ok((CExpr::Window { agg, value, filter, window, slot }, Ty::Num))
                    }
                }
            }
            _ => {
                let known = [
                    "abs",
                    "min",
                    "max",
                    "pct_change",
                    "prev",
                    "balance",
                    "call",
                    "sum",
                    "count",
                    "avg",
                ];
                let hint = if callee.len() == 2 {
                    format!("view calls are written `call({name}(…))`")
                } else {
                    suggest(&name, known.iter().copied())
                };
                Err(e(format!("unknown function `{name}`"), callee_span.clone(), hint))
            }
        }
    }

    fn slice(&self, span: &Span) -> String {
        self.text.get(span.clone()).unwrap_or("?").to_owned()
    }

    fn token(&self, arg: &Expr) -> Result<Option<Address>, RuleError> {
        match &arg.kind {
            ExprKind::Path(p) if p.len() == 1 && p[0].eq_ignore_ascii_case("eth") => Ok(None),
            _ => self.static_address(arg).map(Some),
        }
    }

    fn static_address(&self, arg: &Expr) -> Result<Address, RuleError> {
        match &arg.kind {
            ExprKind::Path(p) if p.len() == 1 => Ok(self.contract(&p[0], &arg.span)?.address),
            ExprKind::Hex(h) if h.len() == 42 => {
                h.parse().map_err(|_| e("invalid address", arg.span.clone(), "0x + 40 hex digits"))
            }
            _ => Err(e(
                "a probe reads a fixed address: a contract id or an address literal",
                arg.span.clone(),
                "e.g. `balance(usdc, pool)`",
            )),
        }
    }

    fn view_call(&mut self, arg: &Expr) -> Result<(CExpr, Ty), RuleError> {
        let ExprKind::Call { callee, callee_span, args } = &arg.kind else {
            return Err(e(
                "`call` takes a view call",
                arg.span.clone(),
                "write `call(oracle.latestAnswer())`",
            ));
        };
        if callee.len() != 2 {
            return Err(e(
                "a view call is `CONTRACT.FUNCTION(args)`",
                callee_span.clone(),
                "e.g. `call(oracle.latestAnswer())`",
            ));
        }
        let c = self.contract(&callee[0], callee_span)?;
        let Some(fs) = c.abi.function(&callee[1]) else {
            return Err(e(
                format!("contract `{}` has no function `{}` in its ABI", callee[0], callee[1]),
                callee_span.clone(),
                suggest(&callee[1], c.abi.functions.keys().map(String::as_str)),
            ));
        };
        let Some(f) = fs.iter().find(|f| f.inputs.len() == args.len()) else {
            return Err(e(
                format!("`{}.{}` takes {} argument(s)", callee[0], callee[1], fs[0].inputs.len()),
                arg.span.clone(),
                format!("match `{}`", fs[0].signature()),
            ));
        };
        if f.outputs.len() != 1 {
            return Err(e(
                format!(
                    "`{}` returns {} values; a probe reads exactly one",
                    f.signature(),
                    f.outputs.len()
                ),
                arg.span.clone(),
                "probe a function with one return value",
            ));
        }
        let Some(out_ty) = param_ty(&f.outputs[0]) else {
            return Err(e(
                format!(
                    "`{}` returns `{}`, which rules cannot read",
                    f.signature(),
                    f.outputs[0].ty
                ),
                arg.span.clone(),
                "probe a function returning a number, address, bool, bytes or string",
            ));
        };
        let mut values = Vec::new();
        for (p, a) in f.inputs.iter().zip(args) {
            let text = match &a.kind {
                ExprKind::Num(n) if n.is_integer() => n.to_string(),
                ExprKind::Hex(h) | ExprKind::Str(h) => h.clone(),
                ExprKind::Bool(b) => b.to_string(),
                ExprKind::Path(p1) if p1.len() == 1 && self.ctx.contracts.contains_key(&p1[0]) => {
                    self.contract(&p1[0], &a.span)?.address.to_string()
                }
                _ => {
                    return Err(e(
                        "view-call arguments are constants (numbers, addresses, contract ids)",
                        a.span.clone(),
                        "probes are read once per block with fixed arguments",
                    ));
                }
            };
            let ty = p.resolve().map_err(|err| {
                e(
                    format!("unsupported parameter type: {err}"),
                    a.span.clone(),
                    "use a simpler function",
                )
            })?;
            values.push(ty.coerce_str(&text).map_err(|_| {
                e(
                    format!("`{text}` is not a `{}`", p.ty),
                    a.span.clone(),
                    format!("give a `{}`", p.ty),
                )
            })?);
        }
        let data = alloy_dyn_abi::JsonAbiExt::abi_encode_input(f, &values).map_err(|err| {
            e(format!("cannot encode the call: {err}"), arg.span.clone(), "check the arguments")
        })?;
        let shown = format!("call({})", self.slice(&arg.span));
        let i = self.probe(
            Probe::Call { to: c.address, data: data.into(), output: f.outputs[0].ty.clone() },
            shown,
        );
        Ok((CExpr::Probe(i), out_ty))
    }
}

fn op_symbol(op: BinOp) -> &'static str {
    match op {
        BinOp::Or => "`||`",
        BinOp::And => "`&&`",
        BinOp::Eq => "`==`",
        BinOp::Ne => "`!=`",
        BinOp::Lt => "`<`",
        BinOp::Le => "`<=`",
        BinOp::Gt => "`>`",
        BinOp::Ge => "`>=`",
        BinOp::In => "`in`",
        BinOp::Add => "`+`",
        BinOp::Sub => "`-`",
        BinOp::Mul => "`*`",
        BinOp::Div => "`/`",
        BinOp::Rem => "`%`",
    }
}
