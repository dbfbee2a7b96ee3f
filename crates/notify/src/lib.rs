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
//! let channel = Channel::from_plan("war-room", &plan.channels["war-room"], &plan.base_dir)?;
//! let message = Message {
//!     event: EventKind::Test, incident: None, severity: "P5".into(), chain_id: None,
//!     protocol: plan.protocol.name.clone(), title: "test".into(), text: "hello".into(),
//!     links: vec![], drill: false, key: "test-1".into(), at: "2026-01-01T00:00:00Z".into(), recipient: None,
//! };
//! channel.deliver(&reqwest::Client::new(), &message).await?;
//! # Ok(()) }
//! ```
#![cfg_attr(not(test), warn(unused_crate_dependencies))]

mod ack;
mod channel;
mod courier;
mod message;
pub mod pager;

pub use ack::{AckError, ack_token, verify_ack_token};
pub use channel::{
    Channel, ChannelError, DeliveryError, escape_discord, escape_markdown_v2, escape_slack, sign,
    truncate,
};
pub use courier::{Courier, CourierOptions, Gate, backoff_delay};
pub use message::{EventKind, Link, Message, Renderer, TemplateError};

/// Sends a test message (`EventKind::Test`, severity P5, key
/// `{purpose}/{channel}/{now}`) through channel `id` of `plan`: delivered,
/// or why not (a secret that does not resolve, the service's refusal).
pub async fn send_test(
    http: &reqwest::Client,
    plan: &firebreak_plan::Plan,
    id: &str,
    purpose: &str,
) -> Result<(), String> {
    let ch = plan.channels.get(id).ok_or_else(|| format!("no channel `{id}` in the plan"))?;
    let ctx = serde_json::json!({"protocol": plan.protocol.name, "channel": id});
    let (title, text) =
        Renderer::default().render(EventKind::Test, &ctx, None).map_err(|e| e.to_string())?;
    let message = Message {
        event: EventKind::Test,
        incident: None,
        severity: "P5".into(),
        chain_id: None,
        protocol: plan.protocol.name.clone(),
        title,
        text,
        links: vec![],
        drill: ch.drill,
        key: format!("{purpose}/{id}/{}", firebreak_primitives::now_ms()),
        at: firebreak_primitives::rfc3339_now(),
        recipient: None,
    };
    let channel = Channel::from_plan(id, ch, &plan.base_dir).map_err(|e| e.reason)?;
    channel.deliver(http, &message).await.map_err(|e| e.reason)
}

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

/// Queues a `resolved` notice for every channel that carried a message of
/// the incident (PagerDuty closes its incident with the same `dedup_key`).
/// Returns how many were queued.
///
/// # Errors
/// When the store fails.
pub async fn notify_resolved(
    store: &dyn firebreak_store::OutboxStore,
    incident: &firebreak_store::Incident,
    note: Option<&str>,
) -> Result<usize, firebreak_store::Error> {
    let mut channels: Vec<String> =
        store.outbox(Some(incident.id)).await?.into_iter().map(|m| m.channel).collect();
    channels.sort();
    channels.dedup();
    let ctx = serde_json::json!({"incident": incident.id.0, "note": note});
    let (title, text) =
        Renderer::default().render(EventKind::Resolved, &ctx, None).unwrap_or_default();
    let mut queued = 0;
    for ch in channels {
        let key = format!("{}/resolved/{ch}", incident.id);
        let m = Message {
            event: EventKind::Resolved,
            incident: Some(incident.id.0),
            severity: incident.severity.to_string(),
            chain_id: Some(incident.chain_id),
            protocol: incident.protocol.clone(),
            title: title.clone(),
            text: text.clone(),
            links: vec![],
            drill: incident.drill,
            key: key.clone(),
            at: firebreak_primitives::rfc3339_now(),
            recipient: None,
        };
        let row = firebreak_store::OutboxMessage {
            id: 0,
            key,
            incident: Some(incident.id),
            channel: ch,
            body: serde_json::to_value(&m).unwrap_or_default(),
            status: "pending".into(),
            attempts: 0,
            next_at_ms: firebreak_primitives::now_ms(),
            last_error: None,
            created_ms: firebreak_primitives::now_ms(),
        };
        queued += usize::from(store.enqueue(row).await?);
    }
    Ok(queued)
}
