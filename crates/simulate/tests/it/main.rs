//! The simulator against a real anvil: pending transactions in the pool of a
//! chain that mines only on demand, simulated before any block holds them.

#![allow(clippy::unwrap_used)] // test helpers fail loudly by design

mod pending;
