//! People: `[team.*]`, `[channels.*]`, `[oncall]` (schedules and
//! escalation) and approval quorums.

use super::*;

impl<'r, 'a> Validator<'r, 'a> {
    pub(super) fn team(&mut self) -> BTreeMap<String, Member> {
        let mut out = BTreeMap::new();
        for (handle, m) in &self.raw.team {
            let ctx = format!("member `{handle}`");
            if m.name.trim().is_empty() {
                let span = self.at(at_path!["team", handle, "name"]);
                self.error(
                    "empty-value",
                    span,
                    format!("{ctx} has an empty name"),
                    "write the person's name",
                );
            }
            let span = self.at(at_path!["team", handle, "timezone"]);
            self.timezone(&m.timezone, span, "time zone");
            for (channel, contact) in &m.contacts {
                let span = self.key_at(at_path!["team", handle, "contacts", channel]);
                if self.reference(
                    "channel",
                    "channels",
                    channel,
                    self.raw.channels.keys(),
                    span.clone(),
                    &format!("a contact of {ctx}"),
                ) && contact.trim().is_empty()
                {
                    self.error(
                        "empty-value",
                        span,
                        format!("{ctx} has an empty contact for `{channel}`"),
                        "write the address, handle or id",
                    );
                }
            }
            let safe_owner = m.safe_owner.as_ref().and_then(|a| {
                let span = self.at(at_path!["team", handle, "safe_owner"]);
                self.address(a, span, "Safe owner address")
            });
            out.insert(
                handle.clone(),
                Member {
                    name: m.name.clone(),
                    roles: m.roles.clone(),
                    timezone: m.timezone.clone(),
                    contacts: m.contacts.clone(),
                    safe_owner,
                },
            );
        }
        out
    }

    pub(super) fn channels(&mut self) -> BTreeMap<String, Channel> {
        let mut out = BTreeMap::new();
        for (name, ch) in &self.raw.channels {
            let (required, optional): (&[&str], &[&str]) = match ch.kind {
                ChannelKind::Slack | ChannelKind::Discord => (&["webhook_url"], &["base_url"]),
                ChannelKind::Telegram => (&["bot_token", "chat_id"], &["base_url"]),
                ChannelKind::Pagerduty => (&["routing_key"], &["base_url", "webhook_secret"]),
                ChannelKind::Webhook => (&["url", "signing_secret"], &["timeout"]),
                ChannelKind::Email => (
                    &["smtp_host", "from", "to"],
                    &["smtp_port", "tls", "username", "password", "timeout"],
                ),
                ChannelKind::Command => (&["program"], &["args", "timeout"]),
            };
            let kind = ch.kind.as_str();
            let present = self.spans.keys(at_path!["channels", name]);
            let mut ok = true;
            for (key, span) in &present {
                let k = key.as_str();
                let common = matches!(k, "kind" | "drill" | "readiness");
                if !common && !required.contains(&k) && !optional.contains(&k) {
                    ok = false;
                    let mut allowed: Vec<&str> = required.iter().chain(optional).copied().collect();
                    allowed.extend(["drill", "readiness"]);
                    self.error(
                        "field-not-for-kind",
                        Some(span.clone()),
                        format!("`{k}` does not apply to a {kind} channel"),
                        format!("{kind} channels take {}", list(&allowed)),
                    );
                }
            }
            for r in required {
                if !present.iter().any(|(k, _)| k == r) {
                    ok = false;
                    let span = self.key_at(at_path!["channels", name]);
                    self.error(
                        "missing-key",
                        span,
                        format!("{kind} channel `{name}` needs `{r}`"),
                        format!("add `{r} = …` to [channels.{name}]"),
                    );
                }
            }
            for (field, secret) in [
                ("webhook_url", &ch.webhook_url),
                ("bot_token", &ch.bot_token),
                ("routing_key", &ch.routing_key),
                ("webhook_secret", &ch.webhook_secret),
                ("signing_secret", &ch.signing_secret),
                ("password", &ch.password),
            ] {
                if let Some(secret) = secret {
                    let span = self.at(at_path!["channels", name, field]);
                    self.secret(secret, span);
                }
            }
            for (field, url) in [("url", &ch.url), ("base_url", &ch.base_url)] {
                if let Some(url) = url {
                    let span = self.at(at_path!["channels", name, field]);
                    ok &= self.url(url, span, &["https", "http"], field);
                }
            }
            if let Some(t) = &ch.timeout {
                let span = self.at(at_path!["channels", name, "timeout"]);
                ok &= self.duration(t, span, "timeout").is_some();
            }
            if ch.kind == ChannelKind::Email {
                let mut addrs: Vec<(Vec<Seg<'_>>, &String)> = Vec::new();
                if let Some(from) = &ch.from {
                    addrs.push((at_path!["channels", name, "from"].to_vec(), from));
                }
                for (i, to) in ch.to.iter().flatten().enumerate() {
                    addrs.push((at_path!["channels", name, "to", i].to_vec(), to));
                }
                for (p, a) in addrs {
                    if !a.contains('@') {
                        ok = false;
                        let span = self.at(&p);
                        self.error(
                            "invalid-email",
                            span,
                            format!("`{a}` is not an e-mail address"),
                            "write user@domain",
                        );
                    }
                }
                if ch.username.is_some() != ch.password.is_some() {
                    ok = false;
                    let span = self.key_at(at_path!["channels", name]);
                    self.error("missing-key", span, format!("email channel `{name}` needs both `username` and `password`, or neither"), "give SMTP credentials as a pair");
                }
            }
            if ok {
                match Channel::from_raw(ch) {
                    Ok(c) => {
                        out.insert(name.clone(), c);
                    }
                    // every case is reported at its key above; this is the net
                    Err(e) => {
                        let span = self.key_at(at_path!["channels", name]);
                        self.error(
                            "invalid-channel",
                            span,
                            format!("channel `{name}`: {e}"),
                            "fix the channel's settings",
                        );
                    }
                }
            }
        }
        out
    }

    /// Parses a target (`oncall`, `role:NAME`, member) and expands it to members.
    pub(super) fn target(
        &mut self,
        text: &str,
        span: Span,
        ctx: &str,
    ) -> Option<(Target, BTreeSet<String>)> {
        if text == "oncall" {
            let Some(oncall) = &self.raw.oncall else {
                self.error(
                    "unknown-reference",
                    span,
                    format!("{ctx} pages `oncall` but the plan has no [oncall] section"),
                    "add [oncall] with a rotation, or name a member",
                );
                return None;
            };
            return Some((Target::Oncall, oncall.rotation.iter().cloned().collect()));
        }
        if let Some(role) = text.strip_prefix("role:") {
            let Some(role) = Role::parse(role) else {
                let names: Vec<&str> = Role::ALL.iter().map(|r| r.as_str()).collect();
                let hint = match closest(role, names.iter().copied()) {
                    Some(best) => format!("did you mean `role:{best}`?"),
                    None => format!("roles are {}", list(&names)),
                };
                self.error("unknown-role", span, format!("{ctx}: `{role}` is not a role"), hint);
                return None;
            };
            let holders: BTreeSet<String> = self
                .raw
                .team
                .iter()
                .filter(|(_, m)| m.roles.contains(&role))
                .map(|(h, _)| h.clone())
                .collect();
            if holders.is_empty() {
                self.error(
                    "unheld-role",
                    span,
                    format!("{ctx} pages role `{role}` but no member holds it"),
                    format!("give the `{role}` role to a member in [team]"),
                );
                return None;
            }
            return Some((Target::Role(role), holders));
        }
        if self.reference("member", "team", text, self.raw.team.keys(), span, ctx) {
            return Some((Target::Member(text.to_owned()), BTreeSet::from([text.to_owned()])));
        }
        None
    }

    pub(super) fn oncall(&mut self) -> Option<Oncall> {
        let o = self.raw.oncall.as_ref()?;
        let ctx = "the on-call rotation";
        if o.rotation.is_empty() {
            let span = self.at(at_path!["oncall", "rotation"]);
            self.error(
                "empty-rotation",
                span,
                "the on-call rotation is empty",
                "list member handles in `rotation`",
            );
        }
        for (i, m) in o.rotation.iter().enumerate() {
            let span = self.at(at_path!["oncall", "rotation", i]);
            self.reference("member", "team", m, self.raw.team.keys(), span, ctx);
        }
        let span = self.at(at_path!["oncall", "shift"]);
        let shift = self.duration(&o.shift, span.clone(), "shift");
        if shift.is_some_and(|d| d.is_zero()) {
            self.error("invalid-duration", span, "the on-call shift is zero", "use e.g. `7d`");
        }
        let span = self.at(at_path!["oncall", "handoff"]);
        let handoff = jiff::civil::Time::strptime("%H:%M", &o.handoff).ok();
        if handoff.is_none() {
            self.error(
                "invalid-time",
                span,
                format!("hand-off time `{}` is not HH:MM", o.handoff),
                "write a 24-hour time such as \"09:00\"",
            );
        }
        let span = self.at(at_path!["oncall", "timezone"]);
        self.timezone(&o.timezone, span, "time zone");
        let span = self.at(at_path!["oncall", "start"]);
        let start = o.start.parse::<jiff::civil::Date>().ok();
        if start.is_none() {
            self.error(
                "invalid-date",
                span,
                format!("start `{}` is not a date", o.start),
                "write YYYY-MM-DD",
            );
        }
        let mut overrides = Vec::new();
        for (i, ov) in o.overrides.iter().enumerate() {
            let span = self.at(at_path!["oncall", "overrides", i, "member"]);
            self.reference(
                "member",
                "team",
                &ov.member,
                self.raw.team.keys(),
                span,
                "an on-call override",
            );
            let stamp = |field: &'static str, text: &str, this: &mut Self| {
                let span = this.at(at_path!["oncall", "overrides", i, field]);
                let parsed = text.parse::<jiff::Timestamp>().ok();
                if parsed.is_none() {
                    this.error(
                        "invalid-date",
                        span,
                        format!("`{text}` is not an RFC 3339 time"),
                        "write e.g. \"2026-12-24T18:00:00Z\"",
                    );
                }
                parsed
            };
            let from = stamp("from", &ov.from, self);
            let until = stamp("until", &ov.until, self);
            if let (Some(from), Some(until)) = (from, until) {
                if until <= from {
                    let span = self.at(at_path!["oncall", "overrides", i, "until"]);
                    self.error(
                        "invalid-date",
                        span,
                        "override ends before it starts",
                        "make `until` later than `from`",
                    );
                } else {
                    overrides.push(Override { member: ov.member.clone(), from, until });
                }
            }
        }
        let mut escalation = Vec::new();
        let mut reached = BTreeSet::new();
        if o.escalation.is_empty() {
            let span = self.key_at(at_path!["oncall"]);
            self.warn(
                "no-escalation",
                span,
                "no escalation levels: a page nobody acknowledges goes no further",
                "add [[oncall.escalation]] levels",
            );
        }
        for (i, level) in o.escalation.iter().enumerate() {
            let ctx = format!("escalation level {}", i + 1);
            if level.targets.is_empty() {
                let span = self.at(at_path!["oncall", "escalation", i]);
                self.error(
                    "missing-key",
                    span,
                    format!("{ctx} pages nobody"),
                    "add `targets = [\"oncall\"]` or members / `role:NAME`",
                );
            }
            let mut targets = Vec::new();
            for (j, t) in level.targets.iter().enumerate() {
                let span = self.at(at_path!["oncall", "escalation", i, "targets", j]);
                if let Some((target, members)) = self.target(t, span, &ctx) {
                    reached.extend(members);
                    targets.push(target);
                }
            }
            let delay = match &level.delay {
                Some(d) => {
                    let span = self.at(at_path!["oncall", "escalation", i, "delay"]);
                    self.duration(d, span, "delay")
                }
                None => Some(Duration::ZERO),
            };
            escalation.push(EscalationLevel {
                targets,
                delay: delay.unwrap_or_default(),
                repeat: level.repeat,
            });
        }
        if !o.escalation.is_empty() && reached.len() == 1 {
            let span = self.at(at_path!["oncall", "escalation"]);
            let who = reached.iter().next().cloned().unwrap_or_default();
            self.warn(
                "single-person-escalation",
                span,
                format!("escalation only ever reaches `{who}`"),
                "add a level that pages a second person or a role",
            );
        }
        Some(Oncall {
            rotation: o.rotation.clone(),
            shift: shift?,
            handoff: handoff?,
            timezone: o.timezone.clone(),
            start: start?,
            overrides,
            escalation,
        })
    }

    pub(super) fn approval(
        &mut self,
        quorum: u32,
        roles: &[Role],
        span: Span,
        ctx: &str,
    ) -> Approval {
        if roles.is_empty() {
            self.error(
                "missing-key",
                span.clone(),
                format!("{ctx}: approval names no roles"),
                "add `roles = [\"commander\", \"operator\"]`",
            );
        }
        let eligible =
            self.raw.team.values().filter(|m| m.roles.iter().any(|r| roles.contains(r))).count();
        if quorum == 0 {
            self.error(
                "invalid-quorum",
                span,
                format!("{ctx}: quorum 0 approves nothing"),
                "use a quorum of at least 1, or remove the approval",
            );
        } else if !roles.is_empty() && quorum as usize > eligible {
            let names: Vec<&str> = roles.iter().map(|r| r.as_str()).collect();
            self.error(
                "quorum-unreachable",
                span,
                format!(
                    "{ctx}: quorum {quorum} but only {eligible} member(s) hold {}",
                    list(&names)
                ),
                format!("lower the quorum to {eligible} or give more members these roles"),
            );
        }
        Approval { quorum, roles: roles.to_vec() }
    }
}
