//! Turning alerts into incidents.

use std::{sync::Arc, time::Duration};

use firebreak_plan::{Plan, PlanMode};
use firebreak_primitives::{Alert, IncidentId};
use firebreak_store::{AlertOutcome, Grouping, IncidentStore, now_ms};

use crate::error::Result;

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
        };
        let out = self.store.record_alert(alert, &grouping).await?;
        if out.opened {
            tracing::warn!(incident = %out.incident, monitor = %alert.monitor, severity = %alert.severity, block = alert.block_number, "incident opened");
        }
        Ok(out)
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
            let o = self.on_alert(&alert).await?;
            if !out.contains(&o.incident) {
                out.push(o.incident);
            }
        }
        Ok(out)
    }
}
