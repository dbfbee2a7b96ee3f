//! firebreak's chain access.
//!
//! Owns turning a node's blocks, receipts and logs into [`BlockData`] and
//! performing the state reads rules declare ([`StateRead`]) at a given block.
//! Components are generic over alloy's `Provider`. It holds no rule logic.
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
mod error;
mod fetch;
mod state;

pub use connect::connect;
pub use error::{Error, Result};
pub use fetch::{fetch_block, fetch_block_in_turn};
pub use firebreak_primitives::{BlockData, StateRead};
pub use state::read_state;
