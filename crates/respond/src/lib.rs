//! firebreak's response: from an alert to a pause mined in the next block.
//!
//! - [`IncidentManager`] groups alerts into incidents in the store.
//! - [`Executor`] runs an incident's playbook, step by step, durably: pauses
//!   through a guardian key (simulated first, EIP-1559 with a fee policy,
//!   broadcast to every endpoint, replaced with a higher fee each block until
//!   mined) or through a Safe (hot signers, human and pre-signed signatures,
//!   `execTransaction` from the relayer, batches through MultiSendCallOnly),
//!   falling back to the next pause path when one reverts in simulation.
//! - [`verify`] proves a plan against the chains (every pause path simulated
//!   from its sender), beside the send path it simulates.
//!
//! It never decides *whether* to act: detection does.
//!
//! # Feature flags
//! - `crash-points`: the crash points of the crash-safety tests
//!   (`FIREBREAK_HALT_AT`); off in every release build.
//!
//! # Example
//! ```no_run
//! # async fn demo(plan: std::sync::Arc<firebreak_plan::Plan>, alert: firebreak_primitives::Alert)
//! # -> Result<(), Box<dyn std::error::Error>> {
//! use std::sync::Arc;
//! use firebreak_respond::{Executor, IncidentManager};
//! let store = Arc::new(firebreak_store::SqliteStore::open("firebreak.db".as_ref()).await?);
//! let manager = IncidentManager::new(plan.clone(), store.clone());
//! let executor = Executor::new(plan, store).await?;
//! let incident = manager.on_alert(&alert).await?.incident;
//! while executor.drive(incident).await? {
//!     tokio::time::sleep(std::time::Duration::from_millis(250)).await;
//! }
//! # Ok(()) }
//! ```
#![cfg_attr(not(test), warn(unused_crate_dependencies))]

mod bundle;
mod endpoints;
mod error;
mod executor;
mod fees;
mod fencing;
mod halt;
mod manager;
mod readiness;
pub mod recovery;
mod revert;
mod safe_path;
mod tx;
pub mod verify;

pub use bundle::{MAX_BEFORE_RAW, MAX_RAW, PENDING_BEFORE_RAW, PENDING_RAW};
pub use endpoints::{connect_link, connect_link_with, plan_builders, plan_endpoints};
pub use error::{Error, Result};
pub use executor::{Executor, PENDING_MAX_FEE, PENDING_TIP, UNPAUSED_MONITOR};
pub use fees::FeePolicy;
pub use fencing::Fencing;
pub use firebreak_chain::{ChainLink, RpcEndpoint};
pub use halt::{CRASH_POINTS, halt_point};
pub use manager::{Handled, IncidentManager};
pub use readiness::{PathProblem, READINESS_MONITOR, p1_path_problems};
pub use recovery::Recovery;
pub use revert::decode_revert;
pub use safe_path::{
    PresignOutcome, Submitted, build_safe_tx, pause_batch, presign, safe_nonce, safe_state,
    submit_signature, valid_signatures,
};
pub use tx::{Progress, Sender, simulate};
