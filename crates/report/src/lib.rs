//! Reports written from an incident's record alone.
//!
//! This crate owns the post-mortem ([`PostMortem`]: Markdown, and a
//! self-contained HTML page rendered from that Markdown by `pulldown-cmark`
//! with any raw HTML in it escaped) and the one SVG timeline
//! ([`timeline_svg`]) that the war room's dashboard, the post-mortem, the
//! demo and drills all draw. Every word about an event comes from
//! [`firebreak_primitives::Event`]'s renderer.
//!
//! It never touches the chain, sends a message or writes to the store: it
//! reads.
//!
//! # Feature flags
//! None.
//!
//! # Example
//! ```
//! let svg = firebreak_report::timeline_svg(firebreak_primitives::IncidentId(1), &[]);
//! assert!(svg.contains("no milestones yet"));
//! ```
#![cfg_attr(not(test), warn(unused_crate_dependencies))]

mod postmortem;
mod svg;

pub use postmortem::{Impact, Metrics, PostMortem, escape, markdown_to_html, money};
pub use svg::timeline_svg;
