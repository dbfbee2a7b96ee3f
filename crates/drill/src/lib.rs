//! firebreak's drills: a protected protocol on a local chain or a fork, an
//! exploit against it, and the measurements of the response. (`verify`, the
//! readiness proof, sits in `firebreak-respond` beside the send path it
//! simulates.)
//!
//! The local protocol (anvil, the fixture vault with a deliberate oracle
//! flaw, its stablecoin, a real Safe) comes from `firebreak-devnet`; the demo
//! (`firebreak demo`) is a command of the CLI; post-mortems and the SVG
//! timeline come from `firebreak-report`. It is never used by the daemon.
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

pub mod exercise;
pub mod scenario;
