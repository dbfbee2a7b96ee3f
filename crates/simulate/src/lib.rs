//! Pending transactions executed in-process on top of the chain's latest
//! block: revm over a cache of the node's state, warmed for the watched
//! contracts, so a transaction waiting in the mempool can be judged by what
//! it would do (its logs, success or revert, and the state reads the rules
//! declare, taken on the state it leaves) before any block holds it.
#![cfg_attr(not(test), warn(unused_crate_dependencies))]

mod simulator;
mod state;

pub use simulator::{Error, MAX_BEFORE, MAX_FETCHES, Simulation, Simulator};
