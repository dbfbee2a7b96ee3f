//! Test harness for firebreak (a dev-only crate: never a normal dependency).
//!
//! Owns: finding and spawning a real anvil on a free loopback port (killed on
//! drop), deploying firebreak's fixture contracts (a lending vault on
//! OpenZeppelin Pausable + AccessControl + ERC20, and a 6-decimals stablecoin),
//! and deploying the real Safe contracts from the npm
//! `@safe-global/safe-smart-account` build artifacts. It holds no product logic.
//!
//! anvil is the native binary of the pinned npm package
//! `@foundry-rs/anvil-linux-amd64`, found through `ANVIL_BIN`, the repository's
//! `tools/node_modules`, or `PATH`. When it is missing the harness returns an
//! error naming the install command; tests never skip silently.
//!
//! # Feature flags
//! None.
//!
//! # Example
//! ```no_run
//! # async fn demo() -> eyre::Result<()> {
//! use firebreak_test_utils::{Chain, deploy_safe, deploy_vault};
//! let chain = Chain::spawn()?;
//! let vault = deploy_vault(&chain, chain.dev_address(0), chain.dev_address(1)).await?;
//! let owners = [chain.dev_address(1), chain.dev_address(2), chain.dev_address(3)];
//! let safe = deploy_safe(&chain, &owners, 2).await?;
//! # let _ = (vault, safe);
//! # Ok(()) }
//! ```
#![cfg_attr(not(test), warn(unused_crate_dependencies))]

pub use firebreak_drill::local::*;

pub mod proxy;
pub mod sink;
