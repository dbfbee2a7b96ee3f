//! People: pages with acknowledgement links and escalation, messages to
//! the plan's channels, announcements drafted for the status page.

use super::*;

impl Executor {
    /// Tells the on-call at once (the first level of the escalation policy,
    /// or every member when the plan has none) on each of their contacts, as
    /// a P1 page. `key` makes it go out once.
    pub(super) async fn alarm(
        &self,
        incident: &firebreak_store::Incident,
        key: &str,
        title: String,
        text: String,
    ) -> Result<()> {
        use firebreak_notify::{EventKind, Message, pager};
        let id = incident.id;
        let members: Vec<String> =
            match self.plan.oncall.as_ref().and_then(|o| o.escalation.first()) {
                Some(level) => level
                    .targets
                    .iter()
                    .flat_map(|t| pager::resolve(&self.plan, t, now_ms()))
                    .collect(),
                None => self.plan.team.keys().cloned().collect(),
            };
        let contacts = self.contacts(members);
        if contacts.is_empty() {
            // an alarm nobody receives is said so, once, where people look
            tracing::error!(incident = %id, alarm = key, "nobody could be paged: no on-call member has a contact on a channel of the plan");
            let said = self
                .store
                .timeline(id)
                .await?
                .iter()
                .any(|e| matches!(&e.event, Event::PageUnreachable(p) if p.alarm == key));
            if !said {
                let e = Event::PageUnreachable(event::PageUnreachable {
                    alarm: key.to_owned(),
                    reason: "no on-call member has a contact on a channel of the plan: add `contacts` to [team.*] and a channel".to_owned(),
                });
                self.store.append(id, Actor::System, e).await?;
            }
        }
        for (member, _, ch, address) in contacts {
            let message = Message {
                event: EventKind::Page,
                incident: Some(id.0),
                severity: "P1".to_owned(),
                chain_id: Some(incident.chain_id),
                protocol: self.plan.protocol.name.clone(),
                title: title.clone(),
                text: format!("{text}\nAcknowledge: {}", self.ack_hint(id, &member)),
                links: vec![],
                drill: incident.drill,
                key: format!("{id}/alarm/{key}/{member}/{ch}"),
                at: firebreak_primitives::rfc3339_now(),
                recipient: Some(address.to_owned()),
            };
            if self.enqueue(id, ch, &message).await? {
                let e = Event::Paged(event::Paged {
                    alarm: Some(key.to_owned()),
                    step: None,
                    member: member.clone(),
                    channel: ch.to_owned(),
                    level: None,
                    repeat: None,
                });
                self.store.append(id, Actor::System, e).await?;
            }
        }
        Ok(())
    }

    /// Pages by the escalation policy (or the step's targets) until someone
    /// acknowledges. Never blocks the following steps. Returns whether paging
    /// goes on.
    pub(super) async fn page(
        &self,
        incident: &firebreak_store::Incident,
        step: &str,
        i: usize,
        targets: Option<&[firebreak_plan::Target]>,
        state: Option<&StepState>,
    ) -> Result<bool> {
        use firebreak_notify::{EventKind, pager};
        let id = incident.id;
        let timeline = self.store.timeline(id).await?;
        let ack = timeline.iter().find_map(|e| match &e.event {
            Event::Acknowledged(a) => Some((e, a)),
            _ => None,
        });
        let started =
            timeline.iter().find(|e| matches!(&e.event, Event::PageStarted(s) if s.step == step));
        let ms_of = |at: &str| {
            at.parse::<jiff::Timestamp>()
                .map_or(0, |t| u64::try_from(t.as_millisecond()).unwrap_or(0))
        };
        let start_ms = match started {
            Some(e) => ms_of(&e.at),
            None if ack.is_none() => {
                let e = Event::PageStarted(event::StepRef { step: step.to_owned() });
                self.store.append(id, Actor::System, e).await?;
                now_ms()
            }
            None => now_ms(),
        };
        let levels: Vec<firebreak_plan::EscalationLevel> = match (targets, &self.plan.oncall) {
            (Some(t), _) => vec![firebreak_plan::EscalationLevel {
                targets: t.to_vec(),
                delay: std::time::Duration::ZERO,
                repeat: 0,
            }],
            (None, Some(o)) => o.escalation.clone(),
            (None, None) => {
                let why = "no targets and no [oncall] escalation policy".to_owned();
                self.set(id, step, i, StepStatus::Failed, why, state).await?;
                return Ok(false);
            }
        };
        let message = |event: EventKind, key: &str, title: String, text: String| {
            self.message(incident, event, key.to_owned(), (title, text))
        };
        if let Some((ack, acked)) = ack {
            let who = acked.member.clone();
            let after = ms_of(&ack.at).saturating_sub(start_ms);
            // tell every channel that carried a page (PagerDuty stops paging)
            let mut channels: Vec<String> = Vec::new();
            for e in &timeline {
                if let Event::Paged(p) = &e.event
                    && p.step.as_deref() == Some(step)
                    && !channels.contains(&p.channel)
                {
                    channels.push(p.channel.clone());
                }
            }
            for ch in &channels {
                let ctx = json!({"incident": id.0, "member": who});
                let (title, text) =
                    self.renderer.render(EventKind::Acknowledged, &ctx, None).unwrap_or_default();
                let key = format!("{id}/{step}/ack/{ch}");
                self.enqueue(id, ch, &message(EventKind::Acknowledged, &key, title, text)).await?;
            }
            let detail = format!(
                "acknowledged by {who} {:.1} s after the first page",
                after as f64 / 1000.0
            );
            self.set(id, step, i, StepStatus::Succeeded, detail, state).await?;
            return Ok(false);
        }
        let elapsed = now_ms().saturating_sub(start_ms);
        let mut reached = Vec::new();
        let mut last_level = 0;
        for slot in pager::due(&levels, elapsed) {
            last_level = slot.level;
            let level = &levels[slot.level - 1];
            let members: Vec<String> = level
                .targets
                .iter()
                .flat_map(|t| pager::resolve(&self.plan, t, now_ms()))
                .collect();
            for (member, m, ch, address) in self.contacts(members) {
                let ctx = json!({
                    "incident": id.0, "member": format!("{} ({address})", m.name),
                    "severity": incident.severity.to_string(), "level": slot.level,
                    "ack": self.ack_hint(id, &member),
                    "protocol": self.plan.protocol.name,
                });
                let kind = if slot.level > 1 { EventKind::Escalation } else { EventKind::Page };
                let (title, text) =
                    self.renderer.render(EventKind::Page, &ctx, None).unwrap_or_default();
                let key = format!("{id}/{step}/L{}R{}/{member}/{ch}", slot.level, slot.repeat);
                let mut page = message(kind, &key, title, text);
                page.recipient = Some(address.to_owned());
                if self.enqueue(id, ch, &page).await? {
                    let e = Event::Paged(event::Paged {
                        alarm: None,
                        step: Some(step.to_owned()),
                        member: member.clone(),
                        channel: ch.to_owned(),
                        level: Some(slot.level),
                        repeat: Some(slot.repeat),
                    });
                    self.store.append(id, Actor::System, e).await?;
                }
                reached.push(member.clone());
            }
        }
        reached.sort();
        reached.dedup();
        let detail = format!(
            "paged up to level {last_level} of {} ({}); waiting for an acknowledgement: firebreak incident ack {id} --as MEMBER --plan PLAN",
            levels.len(),
            reached.join(", ")
        );
        self.set(id, step, i, StepStatus::Running, detail, state).await?;
        Ok(true)
    }

    /// Asks the members whose approval of `step` would count, and who have
    /// not decided yet, to decide: at once, then again on the escalation
    /// policy's schedule while the step waits.
    pub(super) async fn ask_approvers(
        &self,
        incident: &firebreak_store::Incident,
        step: &str,
        approval: &Approval,
    ) -> Result<()> {
        let id = incident.id;
        let decided: Vec<String> = self
            .store
            .approvals(id)
            .await?
            .into_iter()
            .filter(|d| d.step_id == step)
            .map(|d| d.member)
            .collect();
        let members: Vec<String> = self
            .plan
            .team
            .iter()
            .filter(|(handle, m)| approval.counts(m) && !decided.contains(handle))
            .map(|(handle, _)| handle.clone())
            .collect();
        let what = |member: &str| {
            format!(
                "your approval is needed ({} of {}). Approve: firebreak incident approve {id} {step} --as {member} --plan PLAN{}",
                approval.quorum,
                if approval.roles.is_empty() {
                    "any member".to_owned()
                } else {
                    approval.roles.iter().map(ToString::to_string).collect::<Vec<_>>().join(" or ")
                },
                self.war_room_hint(id)
            )
        };
        self.ask(incident, step, AskReason::Approval, members, what).await
    }

    /// Safe transactions of `step` waiting for owners' signatures: for each,
    /// the Safe, the SafeTx hash and the plan's owners who have not signed.
    pub(super) async fn missing_owners(
        &self,
        id: IncidentId,
        step: &str,
    ) -> Result<Vec<(String, B256, Vec<Address>)>> {
        let round = format!("{step}#");
        let mut out = Vec::new();
        for a in self.store.actions(id).await? {
            if a.status != ActionStatus::AwaitingSignatures
                || !(a.step_id == step || a.step_id.starts_with(&round))
            {
                continue;
            }
            let Some(hash) = a.safe_tx_hash else { continue };
            let Some((name, safe)) = self.plan.safes.iter().find(|(_, s)| {
                s.address == a.to
                    && self.plan.chains.get(&s.chain).is_some_and(|c| c.id == a.chain_id)
            }) else {
                continue;
            };
            let signed: Vec<Address> =
                self.store.signatures(hash).await?.into_iter().map(|s| s.signer).collect();
            let missing: Vec<Address> =
                safe.owners.iter().filter(|o| !signed.contains(o)).copied().collect();
            out.push((name.clone(), hash, missing));
        }
        Ok(out)
    }

    /// Asks the members who hold the missing owners' keys (`safe_owner`) to
    /// sign, with the SafeTx hash to check on their own device.
    pub(super) async fn ask_owners(
        &self,
        incident: &firebreak_store::Incident,
        step: &str,
        waiting: &[(String, B256, Vec<Address>)],
    ) -> Result<()> {
        let id = incident.id;
        let mut members = Vec::new();
        let mut lines = Vec::new();
        for (safe, hash, missing) in waiting {
            for (handle, m) in &self.plan.team {
                if m.safe_owner.is_some_and(|o| missing.contains(&o)) && !members.contains(handle) {
                    members.push(handle.clone());
                }
            }
            lines.push(format!("Safe `{safe}`, SafeTx {hash}"));
        }
        let what = |_: &str| {
            format!(
                "your signature is needed: {}. Check the hash on your own device, then: firebreak safe sign {id} --keystore FILE{}",
                lines.join("; "),
                self.war_room_hint(id)
            )
        };
        self.ask(incident, step, AskReason::Signature, members, what).await
    }

    /// ` or in the war room: URL` when the daemon serves one.
    fn war_room_hint(&self, id: IncidentId) -> String {
        self.ack_links.as_ref().map_or_else(String::new, |(base, _, _)| {
            format!(" (or in the war room: {}/incidents/{id})", base.trim_end_matches('/'))
        })
    }

    /// Sends `what` to each of `members` on each of their contacts, as an
    /// `approval_needed` message, at once and then on the escalation
    /// policy's schedule (its delays and repeats, counted from when the step
    /// began to wait); each send once, each on the timeline (`asked`).
    async fn ask(
        &self,
        incident: &firebreak_store::Incident,
        step: &str,
        reason: AskReason,
        members: Vec<String>,
        what: impl Fn(&str) -> String,
    ) -> Result<()> {
        use firebreak_notify::{EventKind, pager};
        let id = incident.id;
        let waited = self.waited(id, step).await?.unwrap_or_default();
        let levels: Vec<firebreak_plan::EscalationLevel> = match &self.plan.oncall {
            Some(o) if !o.escalation.is_empty() => o.escalation.clone(),
            _ => vec![firebreak_plan::EscalationLevel {
                targets: Vec::new(),
                delay: std::time::Duration::ZERO,
                repeat: 0,
            }],
        };
        let elapsed = u64::try_from(waited.as_millis()).unwrap_or(u64::MAX);
        for slot in pager::due(&levels, elapsed) {
            for (member, _, ch, address) in self.contacts(members.clone()) {
                let detail = what(&member);
                let ctx = json!({"incident": id.0, "step": step, "detail": detail});
                let (title, text) =
                    self.renderer.render(EventKind::ApprovalNeeded, &ctx, None).unwrap_or_default();
                let key = format!(
                    "{id}/{step}/ask/{}/L{}R{}/{member}/{ch}",
                    reason.as_str(),
                    slot.level,
                    slot.repeat
                );
                let mut message =
                    self.message(incident, EventKind::ApprovalNeeded, key, (title, text));
                message.recipient = Some(address.to_owned());
                if self.enqueue(id, ch, &message).await? {
                    let e = Event::Asked(event::Asked {
                        step: step.to_owned(),
                        member: member.clone(),
                        channel: ch.to_owned(),
                        reason,
                        level: slot.level,
                        repeat: slot.repeat,
                    });
                    self.store.append(id, Actor::System, e).await?;
                }
            }
        }
        Ok(())
    }

    /// A message of `incident` (its severity, chain and drill flag), to a
    /// channel rather than a person until `recipient` is set.
    fn message(
        &self,
        incident: &firebreak_store::Incident,
        event: firebreak_notify::EventKind,
        key: String,
        (title, text): (String, String),
    ) -> firebreak_notify::Message {
        firebreak_notify::Message {
            event,
            incident: Some(incident.id.0),
            severity: incident.severity.to_string(),
            chain_id: Some(incident.chain_id),
            protocol: self.plan.protocol.name.clone(),
            title,
            text,
            links: vec![],
            drill: incident.drill,
            key,
            at: firebreak_primitives::rfc3339_now(),
            recipient: None,
        }
    }

    /// Each of `members` once, with every contact on a channel the plan
    /// has: (member, member record, channel, address).
    fn contacts(
        &self,
        mut members: Vec<String>,
    ) -> Vec<(String, &firebreak_plan::Member, &str, &str)> {
        members.sort();
        members.dedup();
        let mut out = Vec::new();
        for member in members {
            let Some(m) = self.plan.team.get(&member) else { continue };
            for (ch, address) in &m.contacts {
                if self.plan.channels.contains_key(ch) {
                    out.push((member.clone(), m, ch.as_str(), address.as_str()));
                }
            }
        }
        out
    }

    /// How a paged member acknowledges: a signed link when the daemon serves
    /// one, else the command.
    pub(super) fn ack_hint(&self, id: IncidentId, member: &str) -> String {
        match &self.ack_links {
            Some((base, key, ttl)) => {
                let expires = now_ms() / 1000 + ttl.as_secs();
                let token = firebreak_notify::ack_token(key, id.0, member, expires);
                format!(
                    "{}/ack/{token} (or: firebreak incident ack {id} --as {member} --plan PLAN)",
                    base.trim_end_matches('/')
                )
            }
            None => format!("firebreak incident ack {id} --as {member} --plan PLAN"),
        }
    }

    /// Adds `m` to the outbox for `channel`; `false` when it was already there.
    pub(super) async fn enqueue(
        &self,
        id: IncidentId,
        channel: &str,
        m: &firebreak_notify::Message,
    ) -> Result<bool> {
        Ok(self
            .store
            .enqueue(firebreak_store::OutboxMessage {
                id: 0,
                key: m.key.clone(),
                incident: Some(id),
                channel: channel.to_owned(),
                body: serde_json::to_value(m).unwrap_or_default(),
                status: "pending".into(),
                attempts: 0,
                next_at_ms: now_ms(),
                last_error: None,
                created_ms: now_ms(),
            })
            .await?)
    }

    /// Queues a message for each channel (delivered by the courier, never
    /// waited for here).
    pub(super) async fn notify(
        &self,
        incident: &firebreak_store::Incident,
        step: &str,
        channels: &[String],
        template: Option<&str>,
    ) -> Result<Progress> {
        let id = incident.id;
        let alerts = self.store.incident_alerts(id).await?;
        let first = alerts.first();
        let chain = self.plan.chains.values().find(|c| c.id == incident.chain_id);
        let mut links = Vec::new();
        if let (Some(explorer), Some(tx)) =
            (chain.and_then(|c| c.explorer.as_ref()), first.and_then(|a| a.tx_hash))
        {
            links.push(firebreak_notify::Link {
                label: "transaction".into(),
                url: explorer.tx.replace("{hash}", &tx.to_string()),
            });
        }
        let steps: Vec<String> = self
            .store
            .steps(id)
            .await?
            .into_iter()
            .map(|s| format!("{}: {}", s.step_id, s.status))
            .collect();
        let ctx = json!({
            "protocol": self.plan.protocol.name,
            "incident": id.0,
            "severity": incident.severity.to_string(),
            "title": incident.title,
            "status": incident.status.to_string(),
            "chain_id": incident.chain_id,
            "chain": chain.map(|c| c.name.clone()),
            "monitor": first.map(|a| a.monitor.clone()),
            "block": first.map(|a| a.block_number),
            "tx": first.and_then(|a| a.tx_hash).map(|h| h.to_string()),
            "evidence": first.map(|a| a.evidence.clone()),
            "steps": steps,
            "drill": incident.drill,
            "step": step,
        });
        let (title, text) =
            match self.renderer.render(firebreak_notify::EventKind::IncidentOpened, &ctx, template)
            {
                Ok(r) => r,
                Err(e) => return Ok(Progress::Failed(e.to_string())),
            };
        let mut queued = Vec::new();
        // a drill goes to the plan's drill rooms when it has any, not to the
        // production channels
        let drill_rooms: Vec<String> =
            self.plan.channels.iter().filter(|(_, c)| c.drill).map(|(k, _)| k.clone()).collect();
        let channels: &[String] =
            if incident.drill && !drill_rooms.is_empty() { &drill_rooms } else { channels };
        for ch in channels {
            // drill-only channels receive drills only
            if self.plan.channels.get(ch).is_some_and(|c| c.drill) && !incident.drill {
                continue;
            }
            let key = format!("{id}/{step}/{ch}");
            let message = firebreak_notify::Message {
                event: firebreak_notify::EventKind::IncidentOpened,
                incident: Some(id.0),
                severity: incident.severity.to_string(),
                chain_id: Some(incident.chain_id),
                protocol: self.plan.protocol.name.clone(),
                title: title.clone(),
                text: text.clone(),
                links: links.clone(),
                drill: incident.drill,
                key: key.clone(),
                at: firebreak_primitives::rfc3339_now(),
                recipient: None,
            };
            self.enqueue(id, ch, &message).await?;
            queued.push(ch.as_str());
        }
        Ok(Progress::Done(format!(
            "queued for {}",
            if queued.is_empty() { "no channel".to_owned() } else { queued.join(", ") }
        )))
    }

    /// Drafts the announcement of an `announce` step (once), for the war
    /// room to approve and publish.
    pub(super) async fn announce(
        &self,
        id: IncidentId,
        step: &str,
        i: usize,
        (status, message, components): (firebreak_plan::AnnounceStatus, &str, &[String]),
        state: Option<&StepState>,
    ) -> Result<()> {
        let Some(board) = &self.announcements else {
            let detail = "waiting: the war room (`firebreak run --listen`) publishes announcements";
            if state.and_then(|s| s.detail.as_deref()) != Some(detail) {
                self.store
                    .set_step(id, step, idx(i), StepStatus::Pending, Some(detail.into()))
                    .await?;
            }
            return Ok(());
        };
        let status = serde_json::to_value(status)
            .ok()
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_else(|| "investigating".into());
        let existing = board
            .announcements(Some(id), false)
            .await?
            .into_iter()
            .find(|a| a.author == "system" && a.message == message && a.status == status);
        let a = match existing {
            Some(a) => a,
            None => {
                board
                    .draft_announcement(firebreak_store::NewAnnouncement {
                        incident: Some(id),
                        status,
                        message: message.to_owned(),
                        components: components.to_vec(),
                        author: Actor::System,
                    })
                    .await?
            }
        };
        let detail =
            format!("announcement {} drafted; approve and publish it in the war room", a.id);
        self.set(id, step, i, StepStatus::Succeeded, detail, state).await
    }
}
