//! firebreak's rule language and detection engine.
//!
//! Owns the rule language (parser, type checker against the plan's ABIs,
//! evaluator with exact 256-bit-safe arithmetic) and the engine that turns
//! chain data into alerts. It is pure and synchronous: data in, alerts out, so
//! it can be benchmarked, fuzzed and replayed. It never does I/O; fetching
//! blocks, logs and probe values belongs to the chain crate.
//!
//! # Feature flags
//! None.
//!
//! # Example
//! ```
//! let ast = firebreak_detect::parse("event pool.Borrow where amount > 100_000e6").unwrap();
//! assert!(ast.condition.is_some());
//! let err = firebreak_detect::parse("event pool.Borrow where amount = 1").unwrap_err();
//! assert_eq!(err.span, 31..32);
//! ```
#![cfg_attr(not(test), warn(unused_crate_dependencies))]

mod check;
mod compile;
mod engine;
mod num;
mod preset;
mod syntax;

pub use check::{check_file, check_rules, check_source, monitor_specs, rule_context};
pub use compile::{
    Agg, Builtin, CExpr, CompiledRule, ContractRef, Probe, RuleContext, RuleError, Source, Ty,
    Value, compile, compile_ast,
};
pub use engine::{Engine, EngineState, EvalError, MonitorSpec, NoState, StateView};
pub use firebreak_primitives::{Alert, BlockData, LogData, TxData};
pub use num::{Num, Overflow};
pub use preset::{PRESET_NAMES, Preset, preset, safe_tx_hash_of};
pub use syntax::{BinOp, Expr, ExprKind, RuleAst, SourceAst, Span, SyntaxError, Window, parse};
