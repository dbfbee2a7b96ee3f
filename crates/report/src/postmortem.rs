//! Post-mortems written from the record: Markdown and a self-contained HTML
//! page with an SVG timeline, from an incident's store entries alone.

use std::fmt::Write as _;

use firebreak_primitives::{Event, IncidentId, StepStatus};
use firebreak_store::{
    ActionRecord, ActionStatus, ApprovalRecord, Incident, IncidentStore, StepState, TimelineEntry,
    timeline::describe, verify_incident,
};
use serde::Serialize;

/// Money at stake, when a drill or the demo measured it (asset units, e.g. USDC).
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Impact {
    /// Asset symbol.
    pub asset: String,
    /// Held by the protocol when the exploit began.
    pub at_risk: f64,
    /// Taken by the attacker.
    pub lost: f64,
    /// Still held after containment.
    pub saved: f64,
}

/// Response metrics derived from the timeline.
#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq)]
pub struct Metrics {
    /// Block of the first alert.
    pub alert_block: Option<u64>,
    /// Block in which the first pause was mined.
    pub pause_block: Option<u64>,
    /// Incident opened → first transaction signed (ms).
    pub to_first_action_ms: Option<u64>,
    /// Incident opened → first transaction broadcast (ms).
    pub to_broadcast_ms: Option<u64>,
    /// Incident opened → pause mined (ms, as seen by the daemon).
    pub to_contain_ms: Option<u64>,
    /// Incident opened → first page queued (ms).
    pub to_page_ms: Option<u64>,
    /// Incident opened → first acknowledgement (ms).
    pub to_acknowledge_ms: Option<u64>,
}

/// Everything a post-mortem is made of.
#[derive(Debug, Clone, Serialize)]
pub struct PostMortem {
    /// The incident.
    pub incident: Incident,
    /// Steps.
    pub steps: Vec<StepState>,
    /// On-chain actions.
    pub actions: Vec<ActionRecord>,
    /// Approvals.
    pub approvals: Vec<ApprovalRecord>,
    /// The timeline.
    pub timeline: Vec<TimelineEntry>,
    /// Whether the hash chain verifies.
    pub timeline_intact: bool,
    /// Metrics.
    pub metrics: Metrics,
    /// Impact, when measured.
    pub impact: Option<Impact>,
}

fn ms(at: &str) -> Option<i64> {
    at.parse::<jiff::Timestamp>().ok().map(|t| t.as_millisecond())
}

impl PostMortem {
    /// Reads incident `id` from `store`.
    ///
    /// # Errors
    /// When the store fails or the incident does not exist.
    pub async fn load(
        store: &dyn IncidentStore,
        id: IncidentId,
        impact: Option<Impact>,
    ) -> eyre::Result<Self> {
        let incident = store
            .incident(id)
            .await?
            .ok_or_else(|| eyre::eyre!("no incident {id} in the store"))?;
        let timeline = store.timeline(id).await?;
        let alerts = store.incident_alerts(id).await?;
        let actions = store.actions(id).await?;
        let start = timeline.first().and_then(|e| ms(&e.at)).unwrap_or_default();
        let first = |is: fn(&Event) -> bool| {
            timeline
                .iter()
                .find(|e| is(&e.event))
                .and_then(|e| ms(&e.at))
                .map(|t| u64::try_from(t - start).unwrap_or(0))
        };
        let pause_block = actions
            .iter()
            .filter(|a| a.status == ActionStatus::Mined)
            .filter_map(|a| a.receipt.as_ref()?["block_number"].as_u64())
            .min();
        let metrics = Metrics {
            alert_block: alerts.first().map(|a| a.block_number),
            pause_block,
            to_first_action_ms: first(|e| matches!(e, Event::TxSigned(_))),
            to_broadcast_ms: first(|e| matches!(e, Event::TxBroadcast(_))),
            to_contain_ms: first(|e| matches!(e, Event::TxMined(_))),
            to_page_ms: first(|e| matches!(e, Event::Paged(_))),
            to_acknowledge_ms: first(|e| matches!(e, Event::Acknowledged(_))),
        };
        Ok(Self {
            timeline_intact: verify_incident(&incident, &timeline).is_ok(),
            steps: store.steps(id).await?,
            approvals: store.approvals(id).await?,
            incident,
            actions,
            timeline,
            metrics,
            impact,
        })
    }

    fn follow_ups(&self) -> Vec<String> {
        let mut out = Vec::new();
        for e in &self.timeline {
            match &e.event {
                Event::SimulationReverted(s) => out.push(format!(
                    "A pause path reverted in simulation ({}): fix the role or remove the path, then `firebreak verify`.",
                    s.reason
                )),
                Event::PathUnavailable(p) => out.push(format!(
                    "A pause path could not be used ({}): load its key or remove it.",
                    p.reason
                )),
                Event::TxReplaced(_) => out.push(
                    "The pause needed a fee replacement: review the priority-fee policy for P1.".into(),
                ),
                _ => {}
            }
        }
        for s in &self.steps {
            if s.status == StepStatus::Failed {
                out.push(format!(
                    "Step `{}` failed ({}): find out why before the next incident.",
                    s.step_id,
                    s.detail.as_deref().unwrap_or("no detail")
                ));
            }
        }
        out.sort();
        out.dedup();
        out
    }

    fn went_well(&self) -> Vec<String> {
        let mut out = Vec::new();
        if let (Some(a), Some(p)) = (self.metrics.alert_block, self.metrics.pause_block) {
            out.push(format!(
                "The pause was mined in block {p}, {} block(s) after the block that raised the alert ({a}).",
                p.saturating_sub(a)
            ));
        }
        if let Some(t) = self.metrics.to_broadcast_ms {
            out.push(format!("The pause transaction was broadcast {t} ms after the incident opened, without waiting for a person."));
        }
        if self.timeline_intact {
            out.push("The incident record is complete and its hash chain verifies.".into());
        }
        out
    }

    /// The post-mortem as Markdown.
    pub fn markdown(&self) -> String {
        let i = &self.incident;
        let mut md = String::new();
        let drill = if i.drill { " (DRILL)" } else { "" };
        let _ = writeln!(md, "# Post-mortem: incident {} — {}{drill}\n", i.id, i.title);
        let _ = writeln!(md, "## Summary\n");
        let _ = writeln!(md, "| | |\n|---|---|");
        let _ = writeln!(md, "| severity | {} |", i.severity);
        let _ = writeln!(md, "| status | {} |", i.status);
        let _ = writeln!(md, "| protocol | {} |", i.protocol);
        let _ = writeln!(md, "| chain id | {} |", i.chain_id);
        let _ = writeln!(md, "| playbook | `{}` |", i.playbook);
        let _ =
            writeln!(md, "| opened | {} |", self.timeline.first().map_or("", |e| e.at.as_str()));
        let _ = writeln!(md, "| alerts | {} |", i.alert_count);
        let _ = writeln!(md, "| plan hash | `{}` |\n", i.plan_hash);
        let _ = writeln!(md, "## Impact\n");
        match &self.impact {
            Some(x) => {
                let _ = writeln!(md, "| at risk | lost | saved |\n|---:|---:|---:|");
                let _ = writeln!(
                    md,
                    "| {} {} | {} {} | {} {} |\n",
                    money(x.at_risk),
                    x.asset,
                    money(x.lost),
                    x.asset,
                    money(x.saved),
                    x.asset
                );
            }
            None => {
                let _ =
                    writeln!(md, "_Funds at risk, lost and saved: to be filled in by the team._\n");
            }
        }
        let _ = writeln!(md, "## Metrics\n");
        let m = &self.metrics;
        let opt = |v: Option<u64>, unit: &str| {
            v.map_or("not recorded".to_owned(), |v| format!("{v} {unit}"))
        };
        let _ = writeln!(md, "| metric | value |\n|---|---|");
        let _ = writeln!(
            md,
            "| block of the alert | {} |",
            m.alert_block.map_or("—".into(), |b| b.to_string())
        );
        let _ = writeln!(
            md,
            "| block of the pause | {} |",
            m.pause_block.map_or("not paused".into(), |b| b.to_string())
        );
        let _ =
            writeln!(md, "| time to first action (signed) | {} |", opt(m.to_first_action_ms, "ms"));
        let _ = writeln!(md, "| time to broadcast | {} |", opt(m.to_broadcast_ms, "ms"));
        let _ = writeln!(md, "| time to contain (pause mined) | {} |", opt(m.to_contain_ms, "ms"));
        let _ = writeln!(md, "| time to page | {} |", opt(m.to_page_ms, "ms"));
        let _ = writeln!(md, "| time to acknowledge | {} |\n", opt(m.to_acknowledge_ms, "ms"));
        let _ = writeln!(md, "## Timeline\n");
        let _ = writeln!(md, "![timeline](timeline.svg)\n");
        let _ = writeln!(md, "| # | time (UTC) | actor | event | detail |\n|---:|---|---|---|---|");
        for e in &self.timeline {
            let _ = writeln!(
                md,
                "| {} | {} | {} | {} | {} |",
                e.seq,
                e.at.get(11..23).unwrap_or(&e.at),
                e.actor,
                e.kind(),
                describe(e).replace('|', "\\|")
            );
        }
        let _ = writeln!(
            md,
            "\nHash chain: {} ({} entries, head `{}`; keep this line: a timeline cut short after it no longer matches; re-check with `firebreak incident verify {}`).\n",
            if self.timeline_intact { "intact" } else { "**BROKEN**" },
            self.timeline.len(),
            self.timeline.last().map_or("", |e| e.hash.as_str()),
            i.id
        );
        let _ = writeln!(md, "## Actions and approvals\n");
        for a in &self.actions {
            let _ = writeln!(
                md,
                "- `{}` — {:?} from `{}` to `{}`, {} transaction(s){}{}",
                a.key,
                a.status,
                a.from,
                a.to,
                a.attempts.len(),
                a.receipt
                    .as_ref()
                    .map(|r| format!(", mined in block {}", r["block_number"]))
                    .unwrap_or_default(),
                a.error.as_ref().map(|e| format!(" — {e}")).unwrap_or_default()
            );
        }
        for a in &self.approvals {
            let _ = writeln!(
                md,
                "- {} {} step `{}`",
                a.member,
                if a.approve { "approved" } else { "rejected" },
                a.step_id
            );
        }
        if self.actions.is_empty() && self.approvals.is_empty() {
            let _ = writeln!(md, "_None._");
        }
        let _ = writeln!(md, "\n## Communications\n");
        let mut any = false;
        for e in self.timeline.iter().filter(|e| {
            matches!(
                e.event,
                Event::MessageDelivered(_) | Event::MessageFailed(_) | Event::PageUnreachable(_)
            )
        }) {
            any = true;
            let _ = writeln!(md, "- {}", describe(e));
        }
        if !any {
            let _ = writeln!(md, "_No messages were part of this playbook._");
        }
        self.recovery_markdown(&mut md);
        let _ = writeln!(
            md,
            "\n## Root cause\n\n_What in the code or the operations allowed the exploit?_\n"
        );
        let _ = writeln!(md, "## Five whys\n");
        for n in 1..=5 {
            let _ = writeln!(md, "{n}. Why? _…_");
        }
        let _ = writeln!(md, "\n## What went well\n");
        for w in self.went_well() {
            let _ = writeln!(md, "- {w}");
        }
        let _ = writeln!(md, "\n## Where we got lucky\n\n_…_\n");
        let _ = writeln!(md, "## Follow-ups\n");
        let f = self.follow_ups();
        if f.is_empty() {
            let _ = writeln!(md, "- _…_");
        }
        for x in f {
            let _ = writeln!(md, "- [ ] {x}");
        }
        md
    }

    /// The recovery as its timeline records it (empty when there was none).
    pub fn recovery(&self) -> firebreak_recover::book::RecoveryView {
        firebreak_recover::book::RecoveryView::from_events(self.timeline.iter().map(|e| &e.event))
    }

    /// The terms in force when the incident opened.
    fn terms(&self) -> Option<firebreak_recover::Terms> {
        self.timeline.iter().find_map(|e| match &e.event {
            Event::SafeHarborTerms(t) => firebreak_recover::Terms::from_entry(t),
            _ => None,
        })
    }

    /// Whether the incident had any recovery to report.
    pub fn has_recovery(&self) -> bool {
        let v = self.recovery();
        !(v.attackers.is_empty()
            && v.moves.is_empty()
            && v.returns.is_empty()
            && v.messages.is_empty())
    }

    /// The fund-flow graph as SVG.
    pub fn fund_flow_svg(&self) -> String {
        let v = self.recovery();
        firebreak_recover::graph::FlowGraph::new(&v.moves, &v.confirmed())
            .svg(&format!("Fund flow: incident {}", self.incident.id))
    }

    fn recovery_markdown(&self, md: &mut String) {
        use firebreak_recover::book::{AttackerState, dollars, whole};
        if !self.has_recovery() {
            return;
        }
        let v = self.recovery();
        let _ = writeln!(md, "\n## Recovery\n");
        if let Some(e) = self.timeline.iter().find(|e| matches!(e.event, Event::SafeHarborTerms(_)))
        {
            let _ = writeln!(md, "{}\n", describe(e));
        }
        let _ = writeln!(md, "### Attacker addresses\n");
        let _ = writeln!(md, "| address | state | evidence |\n|---|---|---|");
        for a in &v.attackers {
            let state = match a.state {
                AttackerState::Proposed => "proposed, not decided".to_owned(),
                AttackerState::Confirmed => {
                    format!("confirmed by {}", a.decided_by.as_deref().unwrap_or("?"))
                }
                AttackerState::Rejected => {
                    format!("rejected by {}", a.decided_by.as_deref().unwrap_or("?"))
                }
            };
            let _ = writeln!(md, "| `{}` | {state} | {} |", a.address, a.reasons.join("; "));
        }
        let _ = writeln!(md, "\n### Fund flow\n\n![fund flow](fund-flow.svg)\n");
        let traced: Vec<_> = v.moves.iter().filter(|m| m.hop > 0).collect();
        if !traced.is_empty() {
            let _ = writeln!(
                md,
                "| hop | block | from | to | amount | where |\n|---|---|---|---|---|---|"
            );
            for m in traced {
                let t = &m.transfer;
                let _ = writeln!(
                    md,
                    "| {} | {} | `{}` | `{}` | {} {} | {} |",
                    m.hop,
                    t.block,
                    t.from,
                    t.to,
                    whole(t.amount.parse().unwrap_or_default(), t.decimals),
                    t.asset,
                    match (&m.label, &m.kind) {
                        (Some(l), Some(k)) => format!("{l} ({k})"),
                        _ => String::new(),
                    }
                );
            }
        }
        if let Some(terms) = self.terms() {
            let l = v.ledger(&terms);
            let _ = writeln!(md, "\n### Ledger\n");
            let _ = writeln!(
                md,
                "| asset | lost | returned | kept as bounty | net loss |\n|---|---|---|---|---|"
            );
            for a in &l.assets {
                let d = l.decimals.get(&a.asset).copied().unwrap_or(18);
                let _ = writeln!(
                    md,
                    "| {} | {} | {} | {} | {} |",
                    a.asset,
                    whole(a.lost, d),
                    whole(a.returned, d),
                    whole(a.retained, d),
                    whole(a.net_loss, d)
                );
            }
            if !l.settlement.whitehats.is_empty() {
                let _ = writeln!(
                    md,
                    "\n| white hat | returned | kept | bounty | owed | kept beyond the bounty |\n|---|---|---|---|---|---|"
                );
                for w in &l.settlement.whitehats {
                    let _ = writeln!(
                        md,
                        "| `{}` | ${} | ${} | ${} | ${} | ${} |",
                        w.whitehat,
                        dollars(w.returned),
                        dollars(w.retained),
                        dollars(w.bounty),
                        dollars(w.owed),
                        dollars(w.excess)
                    );
                }
            }
            if let Some((num, den)) = l.settlement.pro_rata {
                let _ = writeln!(
                    md,
                    "\nThe aggregate cap bound: every bounty was scaled by ${} / ${}.",
                    dollars(num),
                    dollars(den)
                );
            }
        }
        if !v.messages.is_empty() {
            let _ = writeln!(md, "\n### Messages on chain\n");
            for (out, m) in &v.messages {
                let _ = writeln!(
                    md,
                    "- {} `{}` → `{}` ({}): {}",
                    if *out { "sent" } else { "received" },
                    m.from,
                    m.to,
                    m.tx_hash,
                    m.text.replace('\n', " ")
                );
            }
        }
        for b in &v.bounties {
            let _ = writeln!(
                md,
                "\n- Bounty for `{}` proposed from Safe `{}`: {} base units of {} (SafeTx `{}`)",
                b.whitehat, b.safe, b.amount, b.token, b.safe_tx_hash
            );
        }
        for d in v.deadlines.values() {
            let _ = writeln!(md, "- Clock `{}` ({}): {}", d.clock, d.state, d.detail);
        }
    }

    /// The timeline as an SVG chart (see [`crate::timeline_svg`]).
    pub fn svg(&self) -> String {
        crate::timeline_svg(self.incident.id, &self.timeline)
    }

    /// A self-contained HTML page: the Markdown rendered, the SVG inline in
    /// place of its image link.
    pub fn html(&self) -> String {
        let md = self
            .markdown()
            .replace("![timeline](timeline.svg)", "TIMELINE-SVG-HERE")
            .replace("![fund flow](fund-flow.svg)", "FUND-FLOW-SVG-HERE");
        let body = markdown_to_html(&md)
            .replace("<p>TIMELINE-SVG-HERE</p>", &self.svg())
            .replace("<p>FUND-FLOW-SVG-HERE</p>", &self.fund_flow_svg());
        format!(
            "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>Post-mortem: incident {}</title>\n<style>body{{font-family:system-ui,sans-serif;max-width:960px;margin:2em auto;padding:0 1em;color:#212529}}table{{border-collapse:collapse;margin:1em 0}}td,th{{border:1px solid #dee2e6;padding:4px 8px;font-size:14px}}code{{background:#f1f3f5;padding:0 3px}}h2{{border-bottom:1px solid #dee2e6}}</style></head><body>\n{body}</body></html>\n",
            self.incident.id
        )
    }
}

/// Markdown (with tables) to HTML by `pulldown-cmark`. Raw HTML in the
/// Markdown is shown as text, never passed through: a post-mortem quotes
/// titles, reasons and notes that anyone could have typed.
pub fn markdown_to_html(md: &str) -> String {
    use pulldown_cmark::{Event as Md, Options, Parser, html};
    let parser = Parser::new_ext(md, Options::ENABLE_TABLES | Options::ENABLE_STRIKETHROUGH).map(
        |e| match e {
            Md::Html(t) | Md::InlineHtml(t) => Md::Text(t),
            other => other,
        },
    );
    let mut out = String::new();
    html::push_html(&mut out, parser);
    out
}

/// Money with thousands grouped (`1,000,000`).
pub fn money(v: f64) -> String {
    let whole = v.round() as i128;
    let digits = whole.abs().to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    if whole < 0 { format!("-{out}") } else { out }
}

/// Escapes text for HTML (the workspace's one escaper).
pub use firebreak_primitives::escape_html as escape;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn money_groups_thousands_and_html_is_escaped() {
        assert_eq!(money(1_000_000.0), "1,000,000");
        assert_eq!(money(999.4), "999");
        assert_eq!(money(-1234.0), "-1,234");
        assert_eq!(escape("<a href=\"x\">&</a>"), "&lt;a href=&quot;x&quot;&gt;&amp;&lt;/a&gt;");
        assert_eq!(markdown_to_html("a `<b>` c"), "<p>a <code>&lt;b&gt;</code> c</p>\n");
        assert_eq!(
            markdown_to_html("x <script>alert(1)</script> **y**"),
            "<p>x &lt;script&gt;alert(1)&lt;/script&gt; <strong>y</strong></p>\n"
        );
    }
}
