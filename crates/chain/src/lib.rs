//! firebreak's chain access.
//!
//! Owns connecting to nodes ([`connect_endpoint`]: one stack of alloy layers
//! per endpoint, retry with backoff and per-call timeouts), a chain's
//! endpoints as one client with failover by health ([`ChainLink`]), secret
//! endpoint URLs ([`RpcEndpoint`]), turning a node's blocks, receipts and
//! logs into [`BlockData`], and performing the state reads rules declare
//! ([`StateRead`]) at a given block. It never holds rule logic, signs or
//! decides anything: it reads and sends what it is given.
//!
//! # Feature flags
//! None.
//!
//! # Example
//! ```no_run
//! # async fn demo() -> Result<(), firebreak_chain::Error> {
//! use alloy::providers::ProviderBuilder;
//! let provider = ProviderBuilder::new().connect_http("http://127.0.0.1:8545".parse().unwrap());
//! let block = firebreak_chain::fetch_block(&provider, 31337, 1).await?;
//! println!("{} txs", block.txs.len());
//! # Ok(()) }
//! ```
#![cfg_attr(not(test), warn(unused_crate_dependencies))]

mod connect;
mod endpoint;
mod error;
mod fetch;
mod follow;
mod link;
mod state;

pub use connect::{
    StackOptions, TimedOut, TimeoutLayer, TimeoutService, connect, connect_endpoint,
};
pub use endpoint::RpcEndpoint;
pub use error::{Error, Result};
pub use fetch::{fetch_block, fetch_block_in_turn};
pub use firebreak_primitives::{BlockData, StateRead};
pub use follow::{FollowOptions, Follower, Notification};
pub use link::{At, ChainLink, EndpointHealth, HEDGE_AFTER, is_retryable};
pub use state::read_state;
