//! firebreak's composition root.
//!
//! Wires the pieces together: a [`Detector`] feeds blocks fetched by
//! `firebreak-chain` (with the state reads the rules declare) into the pure
//! engine of `firebreak-detect`; a `Watcher` runs the monitors over a
//! chain's notifications; [`run_daemon`] supervises the watchers, the
//! executor, the couriers, the war room and the readiness checks as tasks.
//! It never holds domain logic of its own.
//!
//! # Feature flags
//! - `crash-points`: the test hooks `FIREBREAK_HALT_AT` and
//!   `FIREBREAK_PANIC_TASK`; off in every release build.
//!
//! # Example
//! ```no_run
//! # async fn demo(plan: firebreak_plan::Plan) -> Result<(), Box<dyn std::error::Error>> {
//! use alloy::providers::ProviderBuilder;
//! let provider = ProviderBuilder::new().connect_http("http://127.0.0.1:8545".parse()?);
//! let mut detector = firebreak_node::Detector::new(&plan, "mainnet")?;
//! for alert in detector.process(&provider, 42).await? {
//!     println!("{} fired in block {}", alert.monitor, alert.block_number);
//! }
//! # Ok(()) }
//! ```
#![cfg_attr(not(test), warn(unused_crate_dependencies))]

mod daemon;
mod detector;
mod heartbeat;
mod lease;
mod metrics;
mod preempt;
mod recovery;
mod tasks;
mod watch;

pub use daemon::{
    DaemonError, DaemonEvent, DaemonOptions, DaemonStore, EVENT_CAPACITY, run_daemon,
    run_daemon_with,
};
pub use detector::{Detector, DetectorError, LOG_RANGE};
pub use metrics::Metrics;
pub use preempt::{
    PENDING, PENDING_BEFORE, PENDING_SEEN_MS, PreEmptOptions, PreEmptor, pre_empt_monitors,
};
pub use tasks::TaskFailure;
pub use watch::{WatchError, WatchEvent, WatchOptions, Watcher};
