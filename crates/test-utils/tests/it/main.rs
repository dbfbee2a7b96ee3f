//! Integration tests of the harness against a real anvil.

mod anvil_fixtures;
