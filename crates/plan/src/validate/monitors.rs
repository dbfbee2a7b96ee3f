//! `[monitors.*]` and `[lists.*]`: severities, rules and where in the
//! file each rule is, for positioned rule errors.

use super::*;

impl<'r, 'a> Validator<'r, 'a> {
    pub(super) fn monitors(&mut self) -> BTreeMap<String, Monitor> {
        let mut out = BTreeMap::new();
        for (name, m) in &self.raw.monitors {
            let ctx = format!("monitor `{name}`");
            self.chain_ref(&m.chain, at_path!["monitors", name, "chain"], &ctx);
            for (i, c) in m.contracts.iter().enumerate() {
                let span = self.at(at_path!["monitors", name, "contracts", i]);
                if self.contract_ref(c, span.clone(), &ctx)
                    && let Some(chain) = self
                        .raw
                        .contracts
                        .get(c)
                        .map(|c| &c.chain)
                        .filter(|chain| **chain != m.chain)
                {
                    {
                        self.error(
                            "chain-mismatch",
                            span,
                            format!(
                                "{ctx} runs on `{}` but contract `{c}` is on `{chain}`",
                                m.chain
                            ),
                            "watch contracts of the monitor's chain, or add a monitor per chain",
                        );
                    }
                }
            }
            if m.rule.trim().is_empty() {
                let span = self.at(at_path!["monitors", name, "rule"]);
                self.error(
                    "empty-rule",
                    span,
                    format!("{ctx} has an empty rule"),
                    "write the rule expression (see docs/plan.md)",
                );
            }
            let cooldown = m.cooldown.as_ref().and_then(|c| {
                let span = self.at(at_path!["monitors", name, "cooldown"]);
                self.duration(c, span, "cooldown")
            });
            let span = self.at(at_path!["monitors", name, "playbook"]);
            let mut notify = Vec::new();
            for (i, c) in m.notify.iter().flatten().enumerate() {
                let span = self.at(at_path!["monitors", name, "notify", i]);
                if self.reference("channel", "channels", c, self.raw.channels.keys(), span, &ctx) {
                    notify.push(c.clone());
                }
            }
            let mut playbook = None;
            if let Some(pb) = &m.playbook
                && self.reference(
                    "playbook",
                    "playbooks",
                    pb,
                    self.raw.playbooks.keys(),
                    span.clone(),
                    &ctx,
                )
            {
                let steps =
                    self.raw.playbooks.get(pb).map(|p| p.steps.as_slice()).unwrap_or_default();
                if !steps.is_empty() && steps.iter().all(|s| s.kind == StepKind::Notify) {
                    // nothing to drive: alerts go to its channels, no incident
                    for c in steps.iter().flat_map(|s| s.channels.iter().flatten()) {
                        if !notify.contains(c) {
                            notify.push(c.clone());
                        }
                    }
                } else {
                    playbook = Some(pb.clone());
                    if m.severity == Severity::P1
                        && m.enabled != Some(false)
                        && !steps.iter().any(|s| s.kind.contains())
                    {
                        self.error(
                            "p1-without-containment",
                            span.clone(),
                            format!(
                                "P1 {ctx} runs playbook `{pb}`, which never pauses or calls a contract"
                            ),
                            "add a `pause` (or `call`) step to the playbook, or lower the severity",
                        );
                    }
                }
            }
            if m.playbook.is_none() && m.notify.is_none() {
                let span = self.at(at_path!["monitors", name]);
                self.error(
                    "missing-key",
                    span,
                    format!("{ctx} has neither `playbook` nor `notify`: its alerts would reach nobody"),
                    "add `playbook = \"…\"` to open an incident, or `notify = [\"CHANNEL\"]` for an alert-only monitor",
                );
            } else if m.playbook.is_some() && m.notify.is_some() {
                let span = self.at(at_path!["monitors", name, "notify"]);
                self.error(
                    "field-not-for-kind",
                    span,
                    format!("{ctx} has both `playbook` and `notify`"),
                    "a monitor with a playbook tells people through its steps: add a `notify` step to the playbook, or drop `playbook` for an alert-only monitor",
                );
            }
            if m.pre_empt == Some(true)
                && let Some(chain) = self.raw.chains.get(&m.chain)
                && chain.mempool.unwrap_or_default() == crate::model::Mempool::None
            {
                let span = self.at(at_path!["monitors", name, "pre_empt"]);
                self.warn(
                    "pre-empt-unavailable",
                    span,
                    format!(
                        "{ctx} asks for pre-emption, but chain `{}` has no public mempool",
                        m.chain
                    ),
                    format!(
                        "set `mempool = \"public\"` on `[chains.{}]` if its endpoints serve pending transactions; on a chain without one (a rollup sequencer, private order flow) the monitor fires on inclusion only",
                        m.chain
                    ),
                );
            }
            let confirmations = m.confirmations.unwrap_or(match m.severity {
                Severity::P1 | Severity::P2 => 0,
                _ => 1,
            });
            out.insert(
                name.clone(),
                Monitor {
                    description: m.description.clone(),
                    severity: m.severity,
                    chain: m.chain.clone(),
                    contracts: m.contracts.clone(),
                    rule: m.rule.clone(),
                    cooldown,
                    confirmations,
                    playbook,
                    notify,
                    enabled: m.enabled.unwrap_or(true),
                    pre_empt: m.pre_empt.unwrap_or(false),
                },
            );
        }
        out
    }

    pub(super) fn lists(&mut self) -> BTreeMap<String, Vec<Address>> {
        let mut out = BTreeMap::new();
        for (name, items) in &self.raw.lists {
            let mut list = Vec::new();
            for (i, a) in items.iter().enumerate() {
                let span = self.at(at_path!["lists", name, i]);
                if let Some(a) = self.address(a, span, "list entry") {
                    list.push(a);
                }
            }
            out.insert(name.clone(), list);
        }
        out
    }

    pub(super) fn rule_sites(&self, text: &str) -> Vec<RuleSite> {
        self.raw
            .monitors
            .iter()
            .filter_map(|(name, m)| {
                let value_span = self.at(at_path!["monitors", name, "rule"])?;
                Some(RuleSite {
                    monitor: name.clone(),
                    chain: m.chain.clone(),
                    contracts: m.contracts.clone(),
                    text: m.rule.clone(),
                    content_start: content_start(text, &value_span, &m.rule),
                    value_span,
                })
            })
            .collect()
    }
}
