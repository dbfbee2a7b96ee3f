//! Store conformance: every test runs against each backend through the
//! store traits. The alert store's tests run on SQLite and PostgreSQL (a
//! throwaway cluster each); the incident store's on SQLite until its
//! PostgreSQL backend lands.
#![allow(clippy::unwrap_used)]

mod alerts;
mod incidents;
mod pg;
mod upgrade;
