//! Store conformance: every test runs against each backend through the
//! store traits, on SQLite and on PostgreSQL (a throwaway cluster each, see
//! `firebreak_test_utils::pg`).
#![allow(clippy::unwrap_used)]

mod alerts;
mod incidents;
mod upgrade;
