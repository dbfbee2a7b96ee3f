//! `[playbooks.*]`: steps, their kinds and fields, and their approvals.

use super::*;

impl<'r, 'a> Validator<'r, 'a> {
    pub(super) fn playbooks(
        &mut self,
        contracts: &BTreeMap<String, Contract>,
    ) -> BTreeMap<String, Playbook> {
        let mut out = BTreeMap::new();
        for (name, pb) in &self.raw.playbooks {
            if pb.steps.is_empty() {
                let span = self.key_at(at_path!["playbooks", name]);
                self.error(
                    "empty-playbook",
                    span,
                    format!("playbook `{name}` has no steps"),
                    "add [[playbooks.NAME.steps]] entries",
                );
            }
            let mut steps = Vec::new();
            let mut ids = BTreeSet::new();
            for (i, st) in pb.steps.iter().enumerate() {
                let kind = st.kind.as_str();
                let id = st.id.clone().unwrap_or_else(|| format!("{kind}-{}", i + 1));
                let ctx = format!("step `{id}` of playbook `{name}`");
                let base = at_path!["playbooks", name, "steps", i];
                if id == firebreak_primitives::TRIGGER_STEP
                    || id == firebreak_primitives::UNPAUSE_STEP
                {
                    let span = self.at(at_path!["playbooks", name, "steps", i, "id"]);
                    self.error(
                        "reserved-step-id",
                        span,
                        format!("{ctx}: `{id}` is reserved for the war room's own gate"),
                        "rename the step",
                    );
                }
                if !ids.insert(id.clone()) {
                    let span = self.at(at_path!["playbooks", name, "steps", i, "id"]);
                    self.error(
                        "duplicate-step",
                        span,
                        format!("playbook `{name}` has two steps with id `{id}`"),
                        "give every step a unique `id`",
                    );
                }
                let (required, optional): (&[&str], &[&str]) = match st.kind {
                    StepKind::Pause => (&["contracts"], &[]),
                    StepKind::Call => (&["contract", "method", "via"], &["args"]),
                    StepKind::Notify => (&["channels"], &["message"]),
                    StepKind::Page => (&[], &["targets", "message"]),
                    StepKind::WaitApproval => (&["quorum", "roles"], &["timeout"]),
                    StepKind::Announce => (&["status", "message"], &["components"]),
                };
                let present = self.spans.keys(base);
                let mut ok = true;
                for (key, span) in &present {
                    let k = key.as_str();
                    let common = k == "id"
                        || k == "kind"
                        || (k == "approval" && st.kind != StepKind::WaitApproval);
                    if !common && !required.contains(&k) && !optional.contains(&k) {
                        ok = false;
                        let mut allowed = vec!["id", "approval"];
                        allowed.extend(required.iter().chain(optional));
                        self.error(
                            "field-not-for-kind",
                            Some(span.clone()),
                            format!("`{k}` does not apply to a {kind} step"),
                            format!("{kind} steps take {}", list(&allowed)),
                        );
                    }
                }
                for r in required {
                    if !present.iter().any(|(k, _)| k == r) {
                        ok = false;
                        let span = self.at(base);
                        self.error(
                            "missing-key",
                            span,
                            format!("{ctx} needs `{r}`"),
                            format!("add `{r} = …` to this {kind} step"),
                        );
                    }
                }
                let approval = st.approval.as_ref().map(|a| {
                    let span = self.at(at_path!["playbooks", name, "steps", i, "approval"]);
                    self.approval(a.quorum, &a.roles, span, &ctx)
                });
                if !ok {
                    continue;
                }
                let action = match st.kind {
                    StepKind::Pause => {
                        let list_ = st.contracts.clone().unwrap_or_default();
                        if list_.is_empty() {
                            let span =
                                self.at(at_path!["playbooks", name, "steps", i, "contracts"]);
                            self.error(
                                "missing-key",
                                span,
                                format!("{ctx} pauses no contracts"),
                                "list the contracts to pause",
                            );
                        }
                        for (j, c) in list_.iter().enumerate() {
                            let span =
                                self.at(at_path!["playbooks", name, "steps", i, "contracts", j]);
                            if self.contract_ref(c, span.clone(), &ctx)
                                && self.raw.contracts.get(c).is_some_and(|c| c.pause.is_none())
                            {
                                self.error(
                                    "no-pause-path",
                                    span,
                                    format!("{ctx} pauses `{c}`, which has no pause path"),
                                    format!("add [contracts.{c}.pause] or use a `call` step"),
                                );
                            }
                        }
                        StepAction::Pause { contracts: list_ }
                    }
                    StepKind::Call => {
                        let contract = st.contract.clone().unwrap_or_default();
                        let span = self.at(at_path!["playbooks", name, "steps", i, "contract"]);
                        if !self.contract_ref(&contract, span, &ctx) {
                            continue;
                        }
                        let Some(chain) =
                            self.raw.contracts.get(&contract).map(|c| c.chain.clone())
                        else {
                            continue;
                        };
                        let abi = contracts.get(&contract).map(|c| &c.abi);
                        let spec = CallSpec {
                            method: st.method.as_deref().unwrap_or_default(),
                            args: st.args.as_deref().unwrap_or_default(),
                            via: st.via.as_deref().unwrap_or_default(),
                        };
                        let Some(call) = self.control_path(abi, spec, &chain, base, &ctx) else {
                            continue;
                        };
                        StepAction::Call { contract, call }
                    }
                    StepKind::Notify => {
                        let channels = st.channels.clone().unwrap_or_default();
                        for (j, c) in channels.iter().enumerate() {
                            let span =
                                self.at(at_path!["playbooks", name, "steps", i, "channels", j]);
                            self.reference(
                                "channel",
                                "channels",
                                c,
                                self.raw.channels.keys(),
                                span,
                                &ctx,
                            );
                        }
                        StepAction::Notify { channels, message: st.message.clone() }
                    }
                    StepKind::Page => {
                        let targets = st.targets.as_ref().map(|ts| {
                            ts.iter()
                                .enumerate()
                                .filter_map(|(j, t)| {
                                    let span = self.at(at_path![
                                        "playbooks",
                                        name,
                                        "steps",
                                        i,
                                        "targets",
                                        j
                                    ]);
                                    self.target(t, span, &ctx).map(|(t, _)| t)
                                })
                                .collect()
                        });
                        if targets.is_none() && self.raw.oncall.is_none() {
                            let span = self.at(base);
                            self.error(
                                "unknown-reference",
                                span,
                                format!(
                                    "{ctx} pages the escalation policy but the plan has no [oncall]"
                                ),
                                "add [oncall], or give `targets`",
                            );
                        }
                        StepAction::Page { targets }
                    }
                    StepKind::WaitApproval => {
                        let span = self.at(at_path!["playbooks", name, "steps", i, "quorum"]);
                        let approval = self.approval(
                            st.quorum.unwrap_or_default(),
                            st.roles.as_deref().unwrap_or_default(),
                            span,
                            &ctx,
                        );
                        let timeout = st.timeout.as_ref().and_then(|t| {
                            let span = self.at(at_path!["playbooks", name, "steps", i, "timeout"]);
                            self.duration(t, span, "timeout")
                        });
                        StepAction::WaitApproval { approval, timeout }
                    }
                    StepKind::Announce => {
                        let components = st.components.clone().unwrap_or_default();
                        let defined: Vec<String> = self
                            .raw
                            .status_page
                            .iter()
                            .flat_map(|s| s.components.iter().map(|c| c.id.clone()))
                            .collect();
                        if self.raw.status_page.is_none() {
                            let span = self.at(base);
                            self.error(
                                "unknown-reference",
                                span,
                                format!("{ctx} announces but the plan has no [status_page]"),
                                "add [status_page] with a title and components",
                            );
                        }
                        for (j, c) in components.iter().enumerate() {
                            let span =
                                self.at(at_path!["playbooks", name, "steps", i, "components", j]);
                            self.reference(
                                "status-page component",
                                "status_page.components",
                                c,
                                defined.iter(),
                                span,
                                &ctx,
                            );
                        }
                        StepAction::Announce {
                            status: st.status.unwrap_or(AnnounceStatus::Investigating),
                            message: st.message.clone().unwrap_or_default(),
                            components,
                        }
                    }
                };
                steps.push(Step { id, approval, action });
            }
            out.insert(name.clone(), Playbook { description: pb.description.clone(), steps });
        }
        out
    }
}
