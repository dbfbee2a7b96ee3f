//! firebreak's drills and demo: a protected protocol on a local chain, an
//! exploit against it, and the measurements of the response.
//!
//! The local protocol (anvil, the fixture vault with a deliberate oracle
//! flaw, its stablecoin, a real Safe) comes from `firebreak-devnet`;
//! [`demo`] runs the whole story once: deploy, watch, exploit, pause, report.
//!
//! # Feature flags
//! None.
//!
//! # Example
//! ```no_run
//! # async fn demo() -> eyre::Result<()> {
//! use firebreak_devnet::{Pauser, World};
//! let world = World::new(Pauser::Guardian).await?;
//! let block = world.exploit().await?;
//! println!("exploit mined in block {block}; paused: {}", world.paused().await?);
//! # Ok(()) }
//! ```
#![cfg_attr(not(test), warn(unused_crate_dependencies))]

pub mod demo;
pub mod exercise;
pub mod scenario;
pub mod verify;
