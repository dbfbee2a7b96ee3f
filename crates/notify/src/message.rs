//! Messages: what happened, rendered from templates (overridable in the plan).

use serde::{Deserialize, Serialize};

/// What a message is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EventKind {
    /// An incident opened.
    IncidentOpened,
    /// An alert-only monitor fired (no incident is opened).
    Alert,
    /// A playbook step finished (or failed).
    StepResult,
    /// A pause was mined.
    PauseMined,
    /// A step waits for approvals or signatures.
    ApprovalNeeded,
    /// Someone is paged.
    Page,
    /// Nobody acknowledged: the next level is paged.
    Escalation,
    /// Someone acknowledged.
    Acknowledged,
    /// The incident is resolved.
    Resolved,
    /// `firebreak notify test`.
    Test,
    /// Fund recovery: traced funds moved, funds returned, a message came in.
    Recovery,
}

impl EventKind {
    /// snake_case name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::IncidentOpened => "incident_opened",
            Self::Alert => "alert",
            Self::StepResult => "step_result",
            Self::PauseMined => "pause_mined",
            Self::ApprovalNeeded => "approval_needed",
            Self::Page => "page",
            Self::Escalation => "escalation",
            Self::Acknowledged => "acknowledged",
            Self::Resolved => "resolved",
            Self::Test => "test",
            Self::Recovery => "recovery",
        }
    }
}

/// A link shown with a message (explorer, dashboard).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Link {
    /// Label.
    pub label: String,
    /// URL.
    pub url: String,
}

/// A rendered message, as stored in the outbox and sent to every channel.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Message {
    /// What it is about.
    pub event: EventKind,
    /// Incident id.
    pub incident: Option<u64>,
    /// Severity (P1…P5).
    pub severity: String,
    /// Chain id.
    pub chain_id: Option<u64>,
    /// Protocol name.
    pub protocol: String,
    /// One line.
    pub title: String,
    /// The body, plain text (may span lines).
    pub text: String,
    /// Evidence and other links.
    pub links: Vec<Link>,
    /// Sent during a drill: shown with a visible DRILL marker.
    pub drill: bool,
    /// Stable idempotency key.
    pub key: String,
    /// RFC 3339 time of the event.
    pub at: String,
    /// A single recipient (a page's contact address), when the message is
    /// for one person rather than the channel's audience.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recipient: Option<String>,
}

impl Message {
    /// The title with the DRILL marker when it applies.
    pub fn headline(&self) -> String {
        let incident = self.incident.map(|i| format!(" · incident {i}")).unwrap_or_default();
        let drill = if self.drill { "[DRILL] " } else { "" };
        format!("{drill}[{}] {}{incident}", self.severity, self.title)
    }

    /// Severity mapped to PagerDuty's scale.
    pub fn pagerduty_severity(&self) -> &'static str {
        match self.severity.as_str() {
            "P1" => "critical",
            "P2" => "error",
            "P3" => "warning",
            _ => "info",
        }
    }
}

/// Renders titles and bodies with minijinja templates: a default per event
/// kind, or the plan's own (`message` of a `notify` step).
#[derive(Debug)]
pub struct Renderer {
    env: minijinja::Environment<'static>,
}

const DEFAULTS: &[(&str, &str, &str)] = &[
    (
        "incident_opened",
        "{{ protocol }}: {{ monitor }} fired",
        "Monitor `{{ monitor }}` fired at block {{ block }} on chain {{ chain_id }}.{% if tx %} Transaction {{ tx }}.{% endif %}{% for k, v in evidence|items %}\n{{ k }} = {{ v }}{% endfor %}",
    ),
    (
        "alert",
        "[{{ severity }}] {{ protocol }}: {{ monitor }} fired",
        "Monitor `{{ monitor }}` fired at block {{ block }} on chain {{ chain_id }} (an alert: no incident is opened).{% if tx %} Transaction {{ tx }}.{% endif %}{% for k, v in evidence|items %}\n{{ k }} = {{ v }}{% endfor %}",
    ),
    (
        "step_result",
        "step `{{ step }}`: {{ status }}",
        "Step `{{ step }}` of incident {{ incident }}: {{ status }}{% if detail %} — {{ detail }}{% endif %}",
    ),
    (
        "pause_mined",
        "paused: {{ contracts }}",
        "The pause of {{ contracts }} was mined in block {{ block }} ({{ tx }}).",
    ),
    (
        "approval_needed",
        "approval needed: step `{{ step }}`",
        "Step `{{ step }}` of incident {{ incident }} waits: {{ detail }}",
    ),
    (
        "page",
        "PAGE: incident {{ incident }} needs {{ member }}",
        "{{ member }}, you are paged for incident {{ incident }} ({{ severity }}). Acknowledge: {{ ack }}",
    ),
    (
        "escalation",
        "ESCALATION: incident {{ incident }} unacknowledged",
        "Nobody acknowledged incident {{ incident }} within {{ waited }}; paging level {{ level }}.",
    ),
    (
        "acknowledged",
        "acknowledged by {{ member }}",
        "{{ member }} acknowledged incident {{ incident }}.",
    ),
    (
        "resolved",
        "resolved",
        "Incident {{ incident }} is resolved.{% if note %} {{ note }}{% endif %}",
    ),
    (
        "recovery",
        "[{{ severity }}] {{ protocol }} recovery: {{ headline }}",
        "Incident {{ incident }}: {{ detail }}",
    ),
    (
        "test",
        "test message from firebreak",
        "This is a test of channel `{{ channel }}` of {{ protocol }}'s emergency plan. No action needed.",
    ),
];

/// A template that does not render.
#[derive(Debug, thiserror::Error)]
#[error("template for `{event}` does not render: {reason}")]
pub struct TemplateError {
    /// Event kind.
    pub event: &'static str,
    /// Why.
    pub reason: String,
}

impl Default for Renderer {
    fn default() -> Self {
        let mut env = minijinja::Environment::new();
        env.set_undefined_behavior(minijinja::UndefinedBehavior::Lenient);
        for (kind, title, body) in DEFAULTS {
            // defaults are constants checked by the tests
            let _ = env.add_template_owned(format!("{kind}.title"), (*title).to_owned());
            let _ = env.add_template_owned(format!("{kind}.text"), (*body).to_owned());
        }
        Self { env }
    }
}

impl Renderer {
    /// Renders (title, text) of `kind` with `ctx`; `text_override` replaces
    /// the default body template.
    ///
    /// # Errors
    /// When a template does not render.
    pub fn render(
        &self,
        kind: EventKind,
        ctx: &serde_json::Value,
        text_override: Option<&str>,
    ) -> Result<(String, String), TemplateError> {
        let err =
            |e: minijinja::Error| TemplateError { event: kind.as_str(), reason: e.to_string() };
        let title = self
            .env
            .get_template(&format!("{}.title", kind.as_str()))
            .map_err(err)?
            .render(ctx)
            .map_err(err)?;
        let text = match text_override {
            Some(t) => self.env.render_str(t, ctx).map_err(err)?,
            None => self
                .env
                .get_template(&format!("{}.text", kind.as_str()))
                .map_err(err)?
                .render(ctx)
                .map_err(err)?,
        };
        Ok((title, text))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_default_template_renders_and_overrides_win() {
        let r = Renderer::default();
        let ctx = serde_json::json!({
            "protocol": "Acme", "monitor": "drain", "block": 12, "chain_id": 1, "tx": "0xabc",
            "evidence": {"amount": "5"}, "incident": 3, "step": "pause", "status": "succeeded",
            "member": "alice", "severity": "P1", "ack": "http://x", "contracts": "vault",
            "waited": "5m", "level": 2, "channel": "war-room",
        });
        for (kind, _, _) in DEFAULTS {
            let k: EventKind = serde_json::from_value(serde_json::json!(kind)).unwrap();
            let (title, text) = r.render(k, &ctx, None).unwrap();
            assert!(!title.is_empty() && !text.is_empty(), "{kind}");
        }
        let (_, text) = r.render(EventKind::IncidentOpened, &ctx, None).unwrap();
        assert_eq!(
            text,
            "Monitor `drain` fired at block 12 on chain 1. Transaction 0xabc.\namount = 5"
        );
        let (_, custom) = r
            .render(EventKind::StepResult, &ctx, Some("{{ protocol }} paused {{ contracts }}"))
            .unwrap();
        assert_eq!(custom, "Acme paused vault");
        assert!(r.render(EventKind::Test, &ctx, Some("{% if %}")).is_err());
    }
}
