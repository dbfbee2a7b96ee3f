//! Turning alerts into incidents.

use std::{sync::Arc, time::Duration};

use firebreak_plan::{Plan, PlanMode};
use firebreak_primitives::now_ms;
use firebreak_primitives::{Alert, IncidentId};
use firebreak_store::{AlertOutcome, Grouping, IncidentStore};

use crate::error::Result;

/// What an alert led to.
#[derive(Debug, Clone)]
pub enum Handled {
    /// It went to an incident.
    Incident(AlertOutcome),
    /// An alert-only monitor's alert: sent to these channels.
    Notified {
        /// Channels a message was queued for.
        channels: Vec<String>,
    },
}

/// Groups alerts into incidents: the same protocol, playbook and chain within
/// `window` of the incident's last alert make one incident; a higher severity
/// raises it. It keeps nothing per alert in memory: a storm of alerts costs
/// store rows, not daemon memory.
#[derive(Debug, Clone)]
pub struct IncidentManager {
    plan: Arc<Plan>,
    store: Arc<dyn IncidentStore>,
    window: Duration,
    drill: bool,
}

impl IncidentManager {
    /// Default grouping window.
    pub const DEFAULT_WINDOW: Duration = Duration::from_secs(3600);

    /// A manager for `plan` writing to `store`.
    pub fn new(plan: Arc<Plan>, store: Arc<dyn IncidentStore>) -> Self {
        Self { plan, store, window: Self::DEFAULT_WINDOW, drill: false }
    }

    /// Sets the grouping window.
    #[must_use]
    pub const fn with_window(mut self, window: Duration) -> Self {
        self.window = window;
        self
    }

    /// Marks every incident as a drill (whatever the plan's mode).
    #[must_use]
    pub const fn with_drill(mut self, drill: bool) -> Self {
        self.drill = drill;
        self
    }

    /// Records `alert` and returns its incident.
    ///
    /// # Errors
    /// When the store fails.
    pub async fn on_alert(&self, alert: &Alert) -> Result<AlertOutcome> {
        let description = self
            .plan
            .monitors
            .get(&alert.monitor)
            .and_then(|m| m.description.clone())
            .unwrap_or_else(|| alert.monitor.clone());
        let grouping = Grouping {
            protocol: self.plan.protocol.name.clone(),
            plan_hash: self.plan.hash,
            window_ms: u64::try_from(self.window.as_millis()).unwrap_or(u64::MAX),
            title: format!("{}: {description}", self.plan.protocol.name),
            drill: self.drill || self.plan.mode == PlanMode::Drill,
            now_ms: now_ms(),
            // the terms white hats are held to, as they stood at the opening
            on_open: self.plan.safe_harbor.iter().map(firebreak_recover::terms_entry).collect(),
        };
        let out = self.store.record_alert(alert, &grouping).await?;
        if out.opened {
            tracing::warn!(incident = %out.incident, monitor = %alert.monitor, severity = %alert.severity, block = alert.block_number, "incident opened");
        }
        Ok(out)
    }

    /// What an alert leads to: an incident (as [`Self::on_alert`]), or for an
    /// alert-only monitor (no playbook, or one of `notify` steps only) a
    /// message to each of the monitor's channels, queued once per alert and
    /// channel, and no incident.
    ///
    /// # Errors
    /// When the store fails.
    pub async fn handle(&self, alert: &Alert) -> Result<Handled> {
        let Some(monitor) = self.plan.monitors.get(&alert.monitor) else {
            return Ok(Handled::Incident(self.on_alert(alert).await?));
        };
        if monitor.playbook.is_some() {
            return Ok(Handled::Incident(self.on_alert(alert).await?));
        }
        let ctx = serde_json::json!({
            "protocol": self.plan.protocol.name,
            "severity": alert.severity.to_string(),
            "monitor": alert.monitor,
            "block": alert.block_number,
            "chain_id": alert.chain_id,
            "tx": alert.tx_hash.map(|h| h.to_string()),
            "evidence": alert.evidence,
        });
        let (title, text) = firebreak_notify::Renderer::default()
            .render(firebreak_notify::EventKind::Alert, &ctx, None)
            .unwrap_or_default();
        let drill = self.drill || self.plan.mode == PlanMode::Drill;
        let mut queued = Vec::new();
        for channel in &monitor.notify {
            let message = firebreak_notify::Message {
                event: firebreak_notify::EventKind::Alert,
                incident: None,
                severity: alert.severity.to_string(),
                chain_id: Some(alert.chain_id),
                protocol: self.plan.protocol.name.clone(),
                title: title.clone(),
                text: text.clone(),
                links: vec![],
                drill,
                key: format!(
                    "alert/{}/{}/{}/{}/{channel}",
                    alert.chain_id, alert.block_number, alert.monitor, alert.dedup_key
                ),
                at: firebreak_primitives::rfc3339_now(),
                recipient: None,
            };
            self.store
                .enqueue(firebreak_store::OutboxMessage {
                    id: 0,
                    key: message.key.clone(),
                    incident: None,
                    channel: channel.clone(),
                    body: serde_json::to_value(&message).unwrap_or_default(),
                    status: "pending".into(),
                    attempts: 0,
                    next_at_ms: now_ms(),
                    last_error: None,
                    created_ms: now_ms(),
                })
                .await?;
            queued.push(channel.clone());
        }
        tracing::info!(monitor = %alert.monitor, severity = %alert.severity, block = alert.block_number, channels = ?queued, "alert (no incident)");
        Ok(Handled::Notified { channels: queued })
    }

    /// Links alerts stored before a crash but never grouped; returns the
    /// incidents they went to.
    ///
    /// # Errors
    /// When the store fails.
    pub async fn recover_unlinked(&self) -> Result<Vec<IncidentId>> {
        let mut out = Vec::new();
        let window = u64::try_from(self.window.as_millis()).unwrap_or(u64::MAX);
        for alert in self.store.unlinked_alerts(now_ms().saturating_sub(window)).await? {
            // an alert-only monitor's alert stays unlinked: its messages are
            // queued once (by key), whenever this runs
            let Handled::Incident(o) = self.handle(&alert).await? else { continue };
            if !out.contains(&o.incident) {
                out.push(o.incident);
            }
        }
        Ok(out)
    }
}
