//! Integration tests of the harness against a real anvil.

#![allow(clippy::unwrap_used)] // test helpers fail loudly by design

mod anvil_fixtures;
