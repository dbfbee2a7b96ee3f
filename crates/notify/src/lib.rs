//! firebreak's communication.
//!
//! [`Message`]s are rendered from templates ([`Renderer`], a default per
//! event kind, overridable in the plan), stored in the outbox with a stable
//! idempotency key, and delivered by the [`Courier`] to each [`Channel`] in
//! its service's wire format: signed webhooks, Slack Block Kit, Discord
//! embeds, Telegram MarkdownV2, PagerDuty Events v2, or a local command. The
//! courier retries with exponential backoff and jitter, honours `429` and
//! `Retry-After`, keeps order per incident and channel, and runs beside the
//! executor so a slow service never delays a pause.
//!
//! # Feature flags
//! None.
//!
//! # Example
//! ```no_run
//! # async fn demo(plan: &firebreak_plan::Plan) -> Result<(), Box<dyn std::error::Error>> {
//! use firebreak_notify::{Channel, EventKind, Message};
//! let raw = &plan.channels["war-room"];
//! let channel = Channel::from_plan("war-room", raw, &plan.base_dir)?;
//! let message = Message {
//!     event: EventKind::Test, incident: None, severity: "P5".into(), chain_id: None,
//!     protocol: plan.protocol.name.clone(), title: "test".into(), text: "hello".into(),
//!     links: vec![], drill: false, key: "test-1".into(), at: "2026-01-01T00:00:00Z".into(), recipient: None,
//! };
//! channel.deliver(&reqwest::Client::new(), &message).await?;
//! # Ok(()) }
//! ```
#![cfg_attr(not(test), warn(unused_crate_dependencies))]

mod channel;
mod courier;
mod message;
pub mod pager;

pub use channel::{Channel, ChannelError, DeliveryError, escape_markdown_v2, sign, truncate};
pub use courier::{Courier, CourierOptions};
pub use message::{EventKind, Link, Message, Renderer, TemplateError};

/// Builds every channel of a plan; those that cannot be built (a secret not
/// set) are returned apart with the reason.
pub fn plan_channels(
    plan: &firebreak_plan::Plan,
) -> (std::collections::BTreeMap<String, Channel>, Vec<ChannelError>) {
    let mut ok = std::collections::BTreeMap::new();
    let mut bad = Vec::new();
    for (id, raw) in &plan.channels {
        match Channel::from_plan(id, raw, &plan.base_dir) {
            Ok(c) => {
                ok.insert(id.clone(), c);
            }
            Err(e) => bad.push(e),
        }
    }
    (ok, bad)
}
