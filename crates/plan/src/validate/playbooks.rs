//! `[playbooks.*]`: steps, their kinds and fields, and their approvals.

use super::*;

/// Most nonces one `safe_reject` step rejects.
const MAX_REJECTIONS: u32 = 20;

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
                    StepKind::Pause => (&["contracts"], &["via"]),
                    StepKind::Call => (&["contract", "method", "via"], &["args"]),
                    StepKind::Notify => (&["channels"], &["message"]),
                    StepKind::Page => (&[], &["targets", "message"]),
                    StepKind::WaitApproval => (&["quorum", "roles"], &["timeout"]),
                    StepKind::Announce => (&["status", "message"], &["components"]),
                    StepKind::SafeReject => (&["safe"], &["nonces", "account"]),
                    StepKind::RotateSigner => (&["safe"], &["standby", "account"]),
                    StepKind::RevokeRoles => (&["contracts", "via"], &["account"]),
                    StepKind::TransferOwnership => (&["contract", "to", "via"], &[]),
                    StepKind::Sweep => (&["from", "to"], &["tokens", "chain", "account"]),
                };
                let present = self.spans.keys(base);
                let mut ok = true;
                for (key, span) in &present {
                    let k = key.as_str();
                    let common = k == "id"
                        || k == "kind"
                        || k == "after"
                        || (k == "approval" && st.kind != StepKind::WaitApproval);
                    if !common && !required.contains(&k) && !optional.contains(&k) {
                        ok = false;
                        let mut allowed = vec!["id", "after", "approval"];
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
                        let via = st
                            .via
                            .as_ref()
                            .and_then(|via| self.step_via(via, &list_, contracts, (name, i), &ctx));
                        StepAction::Pause { contracts: list_, via }
                    }
                    StepKind::Call | StepKind::TransferOwnership => {
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
                        // transfer_ownership is a call of transferOwnership(to)
                        let owner_args;
                        let (method, args) = if st.kind == StepKind::TransferOwnership {
                            let Some(to) = self.address_or_safe(st.to.as_deref(), (name, i), &ctx)
                            else {
                                continue;
                            };
                            owner_args = [serde_json::Value::String(to.to_string())];
                            ("transferOwnership", &owner_args[..])
                        } else {
                            (
                                st.method.as_deref().unwrap_or_default(),
                                st.args.as_deref().unwrap_or_default(),
                            )
                        };
                        let abi = contracts.get(&contract).map(|c| &c.abi);
                        let spec =
                            CallSpec { method, args, via: st.via.as_deref().unwrap_or_default() };
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
                    StepKind::SafeReject | StepKind::RotateSigner => {
                        let safe = st.safe.clone().unwrap_or_default();
                        let span = self.at(at_path!["playbooks", name, "steps", i, "safe"]);
                        if !self.reference(
                            "Safe",
                            "safes",
                            &safe,
                            self.raw.safes.keys(),
                            span,
                            &ctx,
                        ) {
                            continue;
                        }
                        let account = self.account_ref(st.account.as_deref(), (name, i), &ctx);
                        if st.kind == StepKind::SafeReject {
                            let nonces = st.nonces.unwrap_or(1);
                            if !(1..=MAX_REJECTIONS).contains(&nonces) {
                                let span =
                                    self.at(at_path!["playbooks", name, "steps", i, "nonces"]);
                                self.error(
                                    "invalid-value",
                                    span,
                                    format!("{ctx}: `nonces = {nonces}` is outside 1..={MAX_REJECTIONS}"),
                                    "give how many nonces to reject from the current one (1 rejects what is queued now)",
                                );
                            }
                            StepAction::SafeReject { safe, nonces, account }
                        } else {
                            let standby = match st.standby.as_deref() {
                                None => {
                                    let listed = self
                                        .raw
                                        .safes
                                        .get(&safe)
                                        .is_some_and(|s| !s.standby_owners.is_empty());
                                    if !listed {
                                        let span = self.at(base);
                                        self.error(
                                            "no-standby",
                                            span,
                                            format!("{ctx} has no owner to swap in: Safe `{safe}` lists no `standby_owners`"),
                                            format!("add `standby_owners = [\"0x…\"]` to [safes.{safe}], or `standby = \"0x…\"` to the step"),
                                        );
                                    }
                                    None
                                }
                                Some(text) => {
                                    let span =
                                        self.at(at_path!["playbooks", name, "steps", i, "standby"]);
                                    match text.parse::<Address>() {
                                        Ok(a) => Some(a),
                                        Err(_) => {
                                            self.error(
                                                "invalid-address",
                                                span,
                                                format!("{ctx}: `standby = \"{text}\"` is not an address"),
                                                "write the standby owner's address (0x and 40 hex digits)",
                                            );
                                            None
                                        }
                                    }
                                }
                            };
                            StepAction::RotateSigner { safe, standby, account }
                        }
                    }
                    StepKind::RevokeRoles => {
                        let list_ = st.contracts.clone().unwrap_or_default();
                        let mut chain = None;
                        for (j, c) in list_.iter().enumerate() {
                            let span =
                                self.at(at_path!["playbooks", name, "steps", i, "contracts", j]);
                            if !self.contract_ref(c, span.clone(), &ctx) {
                                continue;
                            }
                            let Some(contract) = contracts.get(c) else { continue };
                            let revokes = contract.abi.function("revokeRole").is_some()
                                && contract.abi.function("hasRole").is_some();
                            if !revokes {
                                self.error(
                                    "not-access-control",
                                    span.clone(),
                                    format!("{ctx} revokes roles on `{c}`, whose ABI has no `revokeRole` and `hasRole` (OpenZeppelin AccessControl)"),
                                    format!("leave `{c}` out, or give it its AccessControl ABI"),
                                );
                            }
                            match &chain {
                                None => chain = Some(contract.chain.clone()),
                                Some(first) if *first != contract.chain => {
                                    self.error(
                                        "mixed-chains",
                                        span,
                                        format!(
                                            "{ctx} lists contracts of chains `{first}` and `{}`",
                                            contract.chain
                                        ),
                                        "write one revoke_roles step per chain",
                                    );
                                }
                                Some(_) => {}
                            }
                        }
                        if list_.is_empty() {
                            let span =
                                self.at(at_path!["playbooks", name, "steps", i, "contracts"]);
                            self.error(
                                "missing-key",
                                span,
                                format!("{ctx} lists no contracts"),
                                "list the AccessControl contracts to revoke roles on",
                            );
                        }
                        let account = self.account_ref(st.account.as_deref(), (name, i), &ctx);
                        let Some(chain) = chain else { continue };
                        let via = self.authorities(
                            st.via.as_deref().unwrap_or_default(),
                            &chain,
                            at_path!["playbooks", name, "steps", i, "via"],
                            &ctx,
                        );
                        StepAction::RevokeRoles { contracts: list_, via, account }
                    }
                    StepKind::Sweep => {
                        let from = st.from.clone().unwrap_or_default();
                        let span = self.at(at_path!["playbooks", name, "steps", i, "from"]);
                        if !self.reference(
                            "signer",
                            "signers",
                            &from,
                            self.raw.signers.keys(),
                            span,
                            &ctx,
                        ) {
                            continue;
                        }
                        let Some(to) = self.address_or_safe(st.to.as_deref(), (name, i), &ctx)
                        else {
                            continue;
                        };
                        let tokens = st.tokens.clone().unwrap_or_default();
                        let mut chain = st.chain.clone();
                        for (j, t) in tokens.iter().enumerate() {
                            let span =
                                self.at(at_path!["playbooks", name, "steps", i, "tokens", j]);
                            if !self.contract_ref(t, span.clone(), &ctx) {
                                continue;
                            }
                            let Some(c) = contracts.get(t) else { continue };
                            if c.abi.function("balanceOf").is_none()
                                || c.abi.function("transfer").is_none()
                            {
                                self.error(
                                    "not-a-token",
                                    span.clone(),
                                    format!("{ctx} sweeps `{t}`, whose ABI has no `balanceOf` and `transfer` (ERC-20)"),
                                    format!("leave `{t}` out, or give it its ERC-20 ABI"),
                                );
                            }
                            match &chain {
                                None => chain = Some(c.chain.clone()),
                                Some(k) if *k != c.chain => self.error(
                                    "mixed-chains",
                                    span,
                                    format!(
                                        "{ctx} sweeps tokens of chains `{k}` and `{}`",
                                        c.chain
                                    ),
                                    "write one sweep step per chain",
                                ),
                                Some(_) => {}
                            }
                        }
                        let Some(chain) = chain else {
                            let span = self.at(base);
                            self.error(
                                "missing-key",
                                span,
                                format!("{ctx} sweeps only ETH and names no chain"),
                                "add `chain = \"…\"` (a key of [chains])",
                            );
                            continue;
                        };
                        if !self.raw.chains.contains_key(&chain) {
                            let span = self.at(at_path!["playbooks", name, "steps", i, "chain"]);
                            self.reference(
                                "chain",
                                "chains",
                                &chain,
                                self.raw.chains.keys(),
                                span,
                                &ctx,
                            );
                            continue;
                        }
                        let account = self.account_ref(st.account.as_deref(), (name, i), &ctx);
                        StepAction::Sweep { from, to, tokens, chain, account }
                    }
                };
                steps.push((Step { id, approval, action, after: Vec::new() }, i));
            }
            let steps = self.order(name, steps);
            out.insert(name.clone(), Playbook { description: pb.description.clone(), steps });
        }
        out
    }

    /// A step's `to`: an address, or the id of a Safe of the plan.
    fn address_or_safe(
        &mut self,
        text: Option<&str>,
        (playbook, i): (&str, usize),
        ctx: &str,
    ) -> Option<Address> {
        let text = text.unwrap_or_default();
        let resolved = self.raw.safes.get(text).map_or(text, |s| s.address.as_str());
        let parsed = resolved.parse::<Address>().ok();
        if parsed.is_none() {
            let span = self.at(at_path!["playbooks", playbook, "steps", i, "to"]);
            self.error(
                "invalid-address",
                span,
                format!("{ctx}: `to = \"{text}\"` is neither an address nor a Safe of the plan"),
                "write an address (0x and 40 hex digits), or the id of a Safe under [safes]",
            );
        }
        parsed
    }

    /// A key-compromise step's `account`: an address, a plan signer, Safe
    /// or member id, or else the name of an evidence value (default
    /// `tx.from`).
    fn account_ref(
        &mut self,
        text: Option<&str>,
        (playbook, i): (&str, usize),
        ctx: &str,
    ) -> AccountRef {
        let Some(text) = text else { return AccountRef::Evidence("tx.from".into()) };
        if text.starts_with("0x") {
            return match text.parse::<Address>() {
                Ok(a) => AccountRef::Address(a),
                Err(_) => {
                    let span = self.at(at_path!["playbooks", playbook, "steps", i, "account"]);
                    self.error(
                        "invalid-address",
                        span,
                        format!("{ctx}: `account = \"{text}\"` is not an address"),
                        "write 0x and 40 hex digits, a signer id, or an evidence name such as `tx.from`",
                    );
                    AccountRef::Evidence("tx.from".into())
                }
            };
        }
        if self.raw.signers.contains_key(text)
            || self.raw.safes.contains_key(text)
            || self.raw.team.contains_key(text)
        {
            return AccountRef::Plan(text.to_owned());
        }
        AccountRef::Evidence(text.to_owned())
    }

    /// A pause step's own `via`: resolved, and each path must be one of
    /// every listed contract's pause paths (a step chooses among the
    /// authorities the plan gives each contract; it grants none).
    fn step_via(
        &mut self,
        via: &[RawAuthority],
        listed: &[String],
        contracts: &BTreeMap<String, Contract>,
        (playbook, i): (&str, usize),
        ctx: &str,
    ) -> Option<Vec<Authority>> {
        let chain =
            listed.iter().find_map(|c| self.raw.contracts.get(c)).map(|c| c.chain.clone())?;
        let base = at_path!["playbooks", playbook, "steps", i, "via"];
        let resolved = self.authorities(via, &chain, base, ctx);
        if resolved.len() != via.len() {
            return None;
        }
        let mut ok = true;
        for (j, authority) in resolved.iter().enumerate() {
            for c in listed {
                let Some(path) = contracts.get(c).and_then(|c| c.pause.as_ref()) else { continue };
                if path.via.contains(authority) {
                    continue;
                }
                ok = false;
                let span = self.at(at_path!["playbooks", playbook, "steps", i, "via", j]);
                let given: Vec<String> = path.via.iter().map(authority_text).collect();
                self.error(
                    "via-not-a-pause-path",
                    span,
                    format!(
                        "{ctx} pauses `{c}` through {}, which is not one of `{c}`'s pause paths ({})",
                        authority_text(authority),
                        given.join(", ")
                    ),
                    format!(
                        "add {} to [contracts.{c}.pause].via, or leave `{c}` out of this step",
                        authority_text(authority)
                    ),
                );
            }
        }
        ok.then_some(resolved)
    }

    /// Each step's `after`, resolved (see [`Step::after`]) and checked:
    /// steps of this playbook, not itself, and no cycle.
    fn order(&mut self, playbook: &str, steps: Vec<(Step, usize)>) -> Vec<Step> {
        let ids: Vec<String> = steps.iter().map(|(s, _)| s.id.clone()).collect();
        let mut out = Vec::with_capacity(steps.len());
        let mut previous: Option<String> = None;
        for (mut step, i) in steps {
            let ctx = format!("step `{}` of playbook `{playbook}`", step.id);
            match self.raw.playbooks[playbook].steps[i].after.clone() {
                Some(after) => {
                    for (j, dep) in after.iter().enumerate() {
                        let span = self.at(at_path!["playbooks", playbook, "steps", i, "after", j]);
                        if *dep == step.id {
                            self.error(
                                "step-cycle",
                                span,
                                format!("{ctx} waits for itself"),
                                "remove it from `after`",
                            );
                        } else if ids.contains(dep) {
                            step.after.push(dep.clone());
                        } else {
                            let hint = match closest(dep, ids.iter().map(String::as_str)) {
                                Some(best) => format!("did you mean `{best}`?"),
                                None => format!("steps of `{playbook}`: {}", list(&ids)),
                            };
                            self.error(
                                "unknown-step",
                                span,
                                format!(
                                    "{ctx} waits for `{dep}`, which is not a step of `{playbook}`"
                                ),
                                hint,
                            );
                        }
                    }
                }
                None if step.tells_people() => {}
                None => step.after.extend(previous.clone()),
            }
            // what others wait for by default: gates and chain actions
            // (an announcement waits its turn but holds up nobody)
            if !step.tells_people() && !matches!(step.action, StepAction::Announce { .. }) {
                previous = Some(step.id.clone());
            }
            out.push((step, i));
        }
        // a cycle never starts: name one step of it
        let mut state: BTreeMap<&str, u8> = BTreeMap::new();
        fn visit<'s>(
            id: &'s str,
            steps: &'s [(Step, usize)],
            state: &mut BTreeMap<&'s str, u8>,
        ) -> bool {
            match state.get(id) {
                Some(1) => return true,
                Some(_) => return false,
                None => {}
            }
            state.insert(id, 1);
            let deps = steps.iter().find(|(s, _)| s.id == id).map(|(s, _)| &s.after);
            for dep in deps.into_iter().flatten() {
                if visit(dep, steps, state) {
                    return true;
                }
            }
            state.insert(id, 2);
            false
        }
        let mut cyclic = None;
        for (s, i) in &out {
            if visit(&s.id, &out, &mut state) {
                cyclic = Some((s.id.clone(), *i));
                break;
            }
        }
        if let Some((id, i)) = cyclic {
            let span = self.at(at_path!["playbooks", playbook, "steps", i, "after"]);
            self.error(
                "step-cycle",
                span,
                format!("the steps of playbook `{playbook}` wait for each other in a circle (through `{id}`): none would ever start"),
                "remove one of the `after` entries of the circle",
            );
        }
        out.into_iter().map(|(s, _)| s).collect()
    }
}

/// `{ signer = "x" }` / `{ safe = "y" }`, as written in the plan.
fn authority_text(a: &Authority) -> String {
    match a {
        Authority::Signer(s) => format!("{{ signer = \"{s}\" }}"),
        Authority::Safe(s) => format!("{{ safe = \"{s}\" }}"),
    }
}
