//! Shared vocabulary of firebreak.
//!
//! This crate owns the small types every other crate speaks: the incident
//! [`Severity`] scale, the team [`Role`]s, the chain data handed from
//! ingestion to detection ([`BlockData`]), [`Alert`], the timeline's
//! [`Event`] with its one renderer, [`ActionKey`], the clock ([`now_ms`]),
//! the HTML escaper and secret redaction. It never does I/O.
//!
//! # Feature flags
//! None.
//!
//! # Example
//! ```
//! use firebreak_primitives::Severity;
//! let s: Severity = "P1".parse().unwrap();
//! assert!(s.is_critical());
//! assert!(Severity::P1 > Severity::P3);
//! ```
#![cfg_attr(not(test), warn(unused_crate_dependencies))]

mod action;
mod chain;
mod clock;
mod error_chain;
pub mod event;
mod html;
mod incident;
pub mod redact;
mod role;
mod severity;

pub use action::{ActionKey, PathRef};
pub use chain::{Alert, BlockData, LogData, StateRead, TxData};
pub use clock::{now_ms, parse_rfc3339_ms, rfc3339, rfc3339_now};
pub use error_chain::error_chain;
pub use event::{Event, PathProblem};
pub use html::escape_html;
pub use incident::{
    Actor, ControlMsg, IncidentId, IncidentStatus, StepStatus, TRIGGER_STEP, UNPAUSE_STEP,
};
pub use redact::{excerpt, redact, register_secret, summarise_body};
pub use role::Role;
pub use severity::{ParseSeverityError, Severity};
