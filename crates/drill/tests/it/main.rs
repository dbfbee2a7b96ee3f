//! The drill crate against a real anvil: `verify` on a correct plan and on
//! deliberate misconfigurations.

#![allow(clippy::unwrap_used)] // test helpers fail loudly by design

mod drill;
