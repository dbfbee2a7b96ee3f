//! Store conformance: every test runs against each backend through the
//! [`IncidentStore`] trait (SQLite today; PostgreSQL joins the macro later).
#![allow(clippy::unwrap_used)]

mod incidents;
mod upgrade;
