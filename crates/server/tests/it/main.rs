//! War-room tests: every endpoint through `Router::oneshot` against a real
//! SQLite store and a plan checked by the real validator.
#![allow(clippy::unwrap_used)]

mod api;
mod dashboard;
mod fuzz;
mod harness;
mod listen;
mod recovery;
mod status;
