//! The playbook executor: runs an incident's steps in order, durably.
//!
//! Every round ([`Executor::drive`]) reads the incident's recorded state and
//! moves it forward; it keeps nothing in memory that a restart would need.
//! State is written before and after acting, and on-chain actions are found
//! again by key, so a restarted daemon looks up what it already sent (and its
//! receipt) instead of sending it twice.

use std::{collections::HashMap, sync::Arc};

use alloy::{providers::Provider as _, rpc::types::TransactionRequest};
use alloy_json_abi::JsonAbi;
use alloy_primitives::{Address, B256, Bytes};
use alloy_signer_local::PrivateKeySigner;
use firebreak_plan::{Approval, Authority, ControlPath, Plan, StepAction};
use firebreak_primitives::{
    Actor, IncidentId, IncidentStatus, StepStatus, TRIGGER_STEP, UNPAUSE_STEP,
};
use firebreak_store::{ActionKind, ActionRecord, ActionStatus, IncidentStore, StepState, now_ms};
use serde_json::json;
use tokio::sync::Mutex;

use crate::{
    ChainLink,
    error::{Error, Result},
    fees::FeePolicy,
    safe_path::{SafeCtx, advance_safe},
    tx::{Progress, Sender, TxCtx, advance},
};

/// Runs playbooks for incidents.
#[derive(Debug)]
pub struct Executor {
    plan: Arc<Plan>,
    store: Arc<dyn IncidentStore>,
    links: HashMap<String, ChainLink>,
    keys: HashMap<String, Sender>,
    key_errors: HashMap<String, String>,
    sent_at: Mutex<HashMap<String, u64>>,
    /// One owner of each sender's nonces, shared by incidents driven at once.
    nonces: crate::tx::NonceBook,
    /// The head (its hash: a reorg to the same height is a new head) at
    /// which each contained incident's containment was last checked.
    watched_at: Mutex<HashMap<IncidentId, B256>>,
    fee_policy: Option<FeePolicy>,
    renderer: firebreak_notify::Renderer,
    ack_links: Option<(String, secrecy::SecretString, std::time::Duration)>,
    announcements: Option<Arc<dyn firebreak_store::WarRoomStore>>,
}

/// A step's target: a contract and the call to land on it.
struct Target<'p> {
    contract: &'p str,
    address: Address,
    path: &'p ControlPath,
}

impl Executor {
    /// Connects to every chain of the plan and loads every signer. A signer
    /// whose key cannot be loaded is reported (without its secret) and its
    /// paths fail with that reason at run time, so the next path is tried.
    ///
    /// # Errors
    /// When a chain has no usable endpoint.
    pub async fn new(plan: Arc<Plan>, store: Arc<dyn IncidentStore>) -> Result<Self> {
        let mut links = HashMap::new();
        for key in plan.chains.keys() {
            links.insert(key.clone(), crate::connect_link(&plan, key).await?);
        }
        Ok(Self::with_links(plan, store, links))
    }

    /// Uses the given chain connections (tests, drills).
    pub fn with_links(
        plan: Arc<Plan>,
        store: Arc<dyn IncidentStore>,
        links: HashMap<String, ChainLink>,
    ) -> Self {
        let mut keys = HashMap::new();
        let mut key_errors = HashMap::new();
        for (id, signer) in &plan.signers {
            match firebreak_plan::load_signer(id, signer, &plan.base_dir) {
                Ok(k) => {
                    keys.insert(id.clone(), Sender::Key(k));
                }
                Err(e) => {
                    tracing::warn!(signer = %id, error = %e, hint = %e.hint(), "signer not loaded");
                    key_errors.insert(id.clone(), format!("{e} ({})", e.hint()));
                }
            }
        }
        Self {
            announcements: None,
            plan,
            store,
            links,
            keys,
            key_errors,
            sent_at: Mutex::new(HashMap::new()),
            nonces: crate::tx::NonceBook::default(),
            watched_at: Mutex::new(HashMap::new()),
            fee_policy: None,
            renderer: firebreak_notify::Renderer::default(),
            ack_links: None,
        }
    }

    /// Pages carry a signed acknowledgement link under `base_url` (served by
    /// the daemon), valid for `ttl`.
    #[must_use]
    pub fn with_ack_links(
        mut self,
        base_url: String,
        key: secrecy::SecretString,
        ttl: std::time::Duration,
    ) -> Self {
        self.ack_links = Some((base_url, key, ttl));
        self
    }

    /// Overrides the fee policy (by default it follows the incident's severity).
    #[must_use]
    pub const fn with_fee_policy(mut self, policy: FeePolicy) -> Self {
        self.fee_policy = Some(policy);
        self
    }

    /// The plan.
    pub fn plan(&self) -> &Plan {
        &self.plan
    }

    /// The chain connection of plan chain `key`.
    pub fn link(&self, key: &str) -> Option<&ChainLink> {
        self.links.get(key)
    }

    /// `announce` steps draft announcements here, for the war room to
    /// approve and publish; without it they stay pending.
    #[must_use]
    pub fn with_announcements(mut self, store: Arc<dyn firebreak_store::WarRoomStore>) -> Self {
        self.announcements = Some(store);
        self
    }

    /// Moves incident `id` forward as far as it can go now. Returns `true`
    /// while work remains (transactions in flight, approvals or signatures
    /// awaited). A contained incident has no work left, but while it is open
    /// each round on a new block checks that it stays contained (see
    /// `watch_containment`): the daemon keeps driving contained incidents.
    ///
    /// # Errors
    /// Store failures and RPC failures; both leave the recorded state
    /// consistent, and the next round picks up from there.
    pub async fn drive(&self, id: IncidentId) -> Result<bool> {
        let Some(incident) = self.store.incident(id).await? else { return Ok(false) };
        if !incident.status.is_open() {
            return Ok(false);
        }
        if incident.playbook == crate::readiness::READINESS_MONITOR {
            // nothing to run: people fix the keys and resolve it
            return Ok(false);
        }
        let Some(playbook) = self.plan.playbooks.get(&incident.playbook) else {
            self.store
                .append(
                    id,
                    Actor::System,
                    "playbook_missing",
                    json!({"playbook": incident.playbook}),
                )
                .await?;
            return Ok(false);
        };
        let mut states: HashMap<String, StepState> =
            self.store.steps(id).await?.into_iter().map(|s| (s.step_id.clone(), s)).collect();
        let timeline = self.store.timeline(id).await?;
        // started by hand: nothing runs until the war room's pause quorum approves
        if timeline.first().is_some_and(|e| e.body.get("manual").is_some()) {
            let state = states.get(TRIGGER_STEP);
            if !state.is_some_and(|s| s.status.is_final()) {
                let approval = self.plan.war_room.pause.clone();
                let (status, detail) =
                    match self.approval_state(id, TRIGGER_STEP, &approval).await? {
                        Gate::Open(d) => (StepStatus::Succeeded, d),
                        Gate::Waiting(d) => (StepStatus::AwaitingApproval, d),
                        Gate::Rejected(d) => (StepStatus::Failed, d),
                    };
                if state.is_none_or(|s| s.status != status || s.detail.as_deref() != Some(&detail))
                {
                    let s = self.store.set_step(id, TRIGGER_STEP, 0, status, Some(detail)).await?;
                    states.insert(TRIGGER_STEP.to_owned(), s);
                }
                match status {
                    StepStatus::Succeeded => {}
                    StepStatus::Failed => return Ok(false),
                    _ => return Ok(true),
                }
            } else if state.is_some_and(|s| s.status == StepStatus::Failed) {
                return Ok(false);
            }
        }
        for (i, step) in playbook.steps.iter().enumerate() {
            if !states.contains_key(&step.id) {
                let s =
                    self.store.set_step(id, &step.id, idx(i), StepStatus::Pending, None).await?;
                states.insert(step.id.clone(), s);
            }
        }
        let policy = self.fee_policy.unwrap_or_else(|| FeePolicy::for_severity(incident.severity));
        let mut paging = false;
        let timeline =
            match self.watch_containment(&incident, playbook, &mut states, &timeline).await? {
                // containment was lost: the record changed, read it again
                Watch::Lost => self.store.timeline(id).await?,
                Watch::Holding | Watch::Off => timeline,
            };
        if timeline.iter().any(|e| e.kind == "unpause_requested") {
            let at = idx(playbook.steps.len());
            let state = states.get(UNPAUSE_STEP);
            let done = playbook
                .steps
                .iter()
                .all(|st| states.get(&st.id).is_some_and(|s| s.status.is_final()));
            if done {
                paging |= self.unpause(id, &timeline, state, at, policy).await?;
            } else if !state.is_some_and(|s| s.status.is_final()) {
                // never undo a pause that is still being carried out
                let detail = "waits until the playbook's steps are done";
                if state.and_then(|s| s.detail.as_deref()) != Some(detail) {
                    self.store
                        .set_step(id, UNPAUSE_STEP, at, StepStatus::Pending, Some(detail.into()))
                        .await?;
                }
                paging = true;
            }
        }
        for (i, step) in playbook.steps.iter().enumerate() {
            let state = states.get(&step.id);
            if state.is_some_and(|s| s.status.is_final()) {
                continue;
            }
            if let StepAction::Page { targets } = &step.action {
                paging |= self.page(&incident, &step.id, i, targets.as_deref(), state).await?;
                continue;
            }
            if let StepAction::Announce { status, message, components } = &step.action {
                self.announce(id, &step.id, i, (*status, message, components), state).await?;
                continue;
            }
            let gate = match &step.action {
                StepAction::WaitApproval { approval, .. } => Some(approval),
                _ => step.approval.as_ref(),
            };
            if let Some(approval) = gate {
                match self.approval_state(id, &step.id, approval).await? {
                    Gate::Open(_) => {}
                    Gate::Waiting(detail) => {
                        let timeout = match &step.action {
                            StepAction::WaitApproval { timeout, .. } => *timeout,
                            _ => None,
                        };
                        if let Some(limit) = timeout
                            && self.waited(id, &step.id).await?.is_some_and(|w| w > limit)
                        {
                            let why = format!(
                                "no quorum within {}: {detail}",
                                humantime_secs(limit.as_secs())
                            );
                            self.set(id, &step.id, i, StepStatus::Failed, why, state).await?;
                            continue;
                        }
                        self.set(id, &step.id, i, StepStatus::AwaitingApproval, detail, state)
                            .await?;
                        return Ok(true);
                    }
                    Gate::Rejected(detail) => {
                        self.set(id, &step.id, i, StepStatus::Failed, detail, state).await?;
                        continue;
                    }
                }
            }
            let progress = match &step.action {
                StepAction::WaitApproval { approval, .. } => {
                    match self.approval_state(id, &step.id, approval).await? {
                        Gate::Open(detail) => Progress::Done(detail),
                        Gate::Waiting(d) => Progress::Waiting(d),
                        Gate::Rejected(d) => Progress::Failed(d),
                    }
                }
                StepAction::Pause { contracts } => {
                    if state.is_none_or(|s| s.status != StepStatus::Running) {
                        self.store
                            .set_step(id, &step.id, idx(i), StepStatus::Running, None)
                            .await?;
                        self.store
                            .transition(
                                id,
                                IncidentStatus::Containing,
                                Actor::System,
                                Some(format!("step `{}` is pausing its contracts", step.id)),
                            )
                            .await?;
                    }
                    let mut targets = Vec::new();
                    for c in contracts {
                        let contract = self
                            .plan
                            .contracts
                            .get(c)
                            .ok_or(Error::Plan { what: "contract", id: c.clone() })?;
                        let Some(path) = contract.pause.as_ref() else {
                            return Err(Error::Plan {
                                what: "pause path of contract",
                                id: c.clone(),
                            });
                        };
                        targets.push(Target { contract: c, address: contract.address, path });
                    }
                    let round = pause_round(&step.id, &timeline);
                    if generation(&step.id, &timeline) > MAX_REPAUSES {
                        Progress::Failed(format!(
                            "unpaused outside the plan {MAX_REPAUSES} times; firebreak stops re-pausing: find and revoke the account that unpauses"
                        ))
                    } else {
                        self.on_chain(id, &round, &targets, true, policy).await?
                    }
                }
                StepAction::Call { contract, call } => {
                    if state.is_none_or(|s| s.status != StepStatus::Running) {
                        self.store
                            .set_step(id, &step.id, idx(i), StepStatus::Running, None)
                            .await?;
                    }
                    let c = self
                        .plan
                        .contracts
                        .get(contract)
                        .ok_or(Error::Plan { what: "contract", id: contract.clone() })?;
                    let targets = [Target { contract, address: c.address, path: call }];
                    self.on_chain(id, &step.id, &targets, false, policy).await?
                }
                StepAction::Notify { channels, message } => {
                    self.notify(&incident, &step.id, channels, message.as_deref()).await?
                }
                StepAction::Page { .. } | StepAction::Announce { .. } => continue,
            };
            let state = self.store.steps(id).await?.into_iter().find(|s| s.step_id == step.id);
            match progress {
                Progress::Done(detail) => {
                    self.set(id, &step.id, i, StepStatus::Succeeded, detail, state.as_ref())
                        .await?;
                    if matches!(step.action, StepAction::Pause { .. }) {
                        self.store
                            .transition(
                                id,
                                IncidentStatus::Contained,
                                Actor::System,
                                Some(format!("step `{}` paused its contracts", step.id)),
                            )
                            .await?;
                    }
                }
                Progress::Waiting(detail) => {
                    let status = if detail.contains("signatures") {
                        StepStatus::AwaitingApproval
                    } else {
                        StepStatus::Running
                    };
                    self.set(id, &step.id, i, status, detail, state.as_ref()).await?;
                    return Ok(true);
                }
                Progress::Failed(detail) => {
                    tracing::error!(incident = %id, step = %step.id, %detail, "step failed");
                    if matches!(step.action, StepAction::Pause { .. } | StepAction::Call { .. }) {
                        let title = format!("[P1] step `{}` failed", step.id);
                        let text = format!(
                            "{}: incident {id}, step `{}` failed and will not be retried: {detail}",
                            self.plan.protocol.name, step.id
                        );
                        self.alarm(&incident, &format!("failed/{}", step.id), title, text).await?;
                    }
                    self.set(id, &step.id, i, StepStatus::Failed, detail, state.as_ref()).await?;
                }
            }
        }
        Ok(paging)
    }

    /// Keeps `contained` true. While the incident is contained, each new
    /// block of its chain checks that every mined pause is still in the
    /// canonical chain and that every paused contract still reads
    /// `paused() == true`. A pause dropped by a reorg, or a contract unpaused
    /// outside the plan (no unpause was ordered in the war room), moves the
    /// incident back to `containing` and runs the pause step again; an
    /// unpause is also recorded as a P1 alert and pages the on-call.
    async fn watch_containment(
        &self,
        incident: &firebreak_store::Incident,
        playbook: &firebreak_plan::Playbook,
        states: &mut HashMap<String, StepState>,
        timeline: &[firebreak_store::TimelineEntry],
    ) -> Result<Watch> {
        let id = incident.id;
        if incident.status != IncidentStatus::Contained {
            self.watched_at.lock().await.remove(&id);
            return Ok(Watch::Off);
        }
        let Some((chain, _)) = self.plan.chains.iter().find(|(_, c)| c.id == incident.chain_id)
        else {
            return Ok(Watch::Off);
        };
        let Some(link) = self.links.get(chain) else { return Ok(Watch::Off) };
        let head = link
            .read("eth_getBlockByNumber", |p| async move {
                p.get_block_by_number(alloy::eips::BlockNumberOrTag::Latest).await
            })
            .await?
            .map(|b| b.header.hash);
        if head.is_some() && self.watched_at.lock().await.get(&id) == head.as_ref() {
            return Ok(Watch::Holding);
        }
        let unpause_ordered = timeline.iter().any(|e| e.kind == "unpause_requested");
        let actions = self.store.actions(id).await?;
        // what to look at: each succeeded pause step's mined transactions
        // (hash, block hash) and its contracts' `paused()` calls
        let mut checks = Vec::new();
        for (i, step) in playbook.steps.iter().enumerate() {
            let StepAction::Pause { contracts } = &step.action else { continue };
            if states.get(&step.id).is_none_or(|s| s.status != StepStatus::Succeeded) {
                continue;
            }
            let round = pause_round(&step.id, timeline);
            let mined: Vec<(B256, B256)> = actions
                .iter()
                .filter(|a| a.step_id == round && a.status == ActionStatus::Mined)
                .filter_map(mined_at)
                .collect();
            let calls: Vec<(String, TransactionRequest)> =
                contracts.iter().filter_map(|c| Some((c.clone(), self.paused_call(c)?))).collect();
            checks.push((i, step, mined, calls));
        }
        // every read of the decision from one endpoint at one block
        let seen = link
            .read_at("containment", |p, at| {
                let checks = &checks;
                async move {
                    let mut out = Vec::with_capacity(checks.len());
                    for (_, _, mined, calls) in checks {
                        let mut moved = None;
                        for (hash, block) in mined {
                            let r = p.get_transaction_receipt(*hash).await?;
                            if r.is_none_or(|r| r.block_hash != Some(*block)) {
                                moved = Some(*hash);
                                break;
                            }
                        }
                        let mut open = None;
                        for (c, req) in calls {
                            match p.call(req.clone()).number(at.number).await {
                                Ok(ret) if ret.get(31) == Some(&0) => {
                                    open = Some(c.clone());
                                    break;
                                }
                                Ok(_) => {}
                                // a revert says nothing about the pause
                                Err(e) if e.as_error_resp().is_some() => {}
                                Err(e) => return Err(e),
                            }
                        }
                        out.push((moved, open));
                    }
                    Ok((at, out))
                }
            })
            .await;
        let (at, seen) = seen?;
        let mut lost = false;
        for ((i, step, _, _), (moved, open)) in checks.iter().zip(seen) {
            let why = match (moved, open) {
                (Some(tx), _) => Some(format!(
                    "the pause {tx} left the canonical chain in a reorg; re-sending it"
                )),
                (None, Some(c)) if !unpause_ordered => {
                    self.unpaused_outside_plan(incident, &step.id, &c, at).await?;
                    Some(format!(
                        "`{c}` was unpaused outside the plan at block {}; pausing it again",
                        at.number
                    ))
                }
                _ => None,
            };
            if let Some(note) = why {
                tracing::error!(incident = %id, step = %step.id, %note, "containment lost");
                self.store.lose_containment(id, note.clone()).await?;
                let s = self
                    .store
                    .set_step(id, &step.id, idx(*i), StepStatus::Running, Some(note))
                    .await?;
                states.insert(step.id.clone(), s);
                lost = true;
            }
        }
        if lost {
            self.watched_at.lock().await.remove(&id);
            return Ok(Watch::Lost);
        }
        self.watched_at.lock().await.insert(id, at.hash);
        Ok(Watch::Holding)
    }

    /// A contract of a contained incident reads unpaused and nobody ordered
    /// it: a P1 alert on the incident (recorded like any alert), a timeline
    /// entry, and a page to the on-call.
    async fn unpaused_outside_plan(
        &self,
        incident: &firebreak_store::Incident,
        step: &str,
        contract: &str,
        at: firebreak_chain::At,
    ) -> Result<()> {
        let id = incident.id;
        let (head, block_hash) = (at.number, at.hash);
        let address = self.plan.contracts.get(contract).map(|c| c.address).unwrap_or_default();
        let mut evidence = std::collections::BTreeMap::new();
        evidence.insert("contract".to_owned(), contract.to_owned());
        evidence.insert("address".to_owned(), address.to_string());
        evidence.insert("incident".to_owned(), id.to_string());
        let alert = firebreak_primitives::Alert {
            monitor: UNPAUSED_MONITOR.to_owned(),
            severity: firebreak_primitives::Severity::P1,
            playbook: incident.playbook.clone(),
            chain_id: incident.chain_id,
            block_number: head,
            block_hash,
            tx_hash: None,
            log_index: None,
            evidence,
            probes: Default::default(),
            dedup_key: format!("{UNPAUSED_MONITOR}/{id}/{contract}/{block_hash}"),
            confirmations: 0,
        };
        let grouping = firebreak_store::Grouping {
            protocol: self.plan.protocol.name.clone(),
            plan_hash: self.plan.hash,
            // always joins this incident's group while it is open
            window_ms: u64::MAX,
            title: format!("{}: {contract} unpaused outside the plan", self.plan.protocol.name),
            drill: incident.drill,
            now_ms: now_ms(),
        };
        self.store.record_alert(&alert, &grouping).await?;
        let body = json!({
            "step": step, "contract": contract, "address": address.to_string(), "block": head,
            "detail": "paused() reads false and no unpause was ordered in the war room",
        });
        self.store.append(id, Actor::System, "unpaused_outside_plan", body).await?;
        let title = format!("[P1] {contract} unpaused outside the plan");
        let text = format!(
            "{}: incident {id}: `{contract}` ({address}) reads unpaused at block {head} and no unpause was ordered; firebreak pauses it again. Find the account that unpaused it.",
            self.plan.protocol.name
        );
        self.alarm(incident, &format!("unpaused/{contract}/{head}"), title, text).await
    }

    /// Tells the on-call at once (the first level of the escalation policy,
    /// or every member when the plan has none) on each of their contacts, as
    /// a P1 page. `key` makes it go out once.
    async fn alarm(
        &self,
        incident: &firebreak_store::Incident,
        key: &str,
        title: String,
        text: String,
    ) -> Result<()> {
        use firebreak_notify::{EventKind, Message, pager};
        let id = incident.id;
        let mut members: Vec<String> =
            match self.plan.oncall.as_ref().and_then(|o| o.escalation.first()) {
                Some(level) => level
                    .targets
                    .iter()
                    .flat_map(|t| pager::resolve(&self.plan, t, now_ms()))
                    .collect(),
                None => self.plan.team.keys().cloned().collect(),
            };
        members.sort();
        members.dedup();
        for member in members {
            let Some(m) = self.plan.team.get(&member) else { continue };
            for (ch, address) in &m.contacts {
                if !self.plan.channels.contains_key(ch) {
                    continue;
                }
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
                    at: firebreak_store::timeline::rfc3339_now(),
                    recipient: Some(address.clone()),
                };
                if self.enqueue(id, ch, &message).await? {
                    let body = json!({"alarm": key, "member": member, "channel": ch});
                    self.store.append(id, Actor::System, "paged", body).await?;
                }
            }
        }
        Ok(())
    }

    async fn set(
        &self,
        id: IncidentId,
        step: &str,
        i: usize,
        status: StepStatus,
        detail: String,
        current: Option<&StepState>,
    ) -> Result<()> {
        if current
            .is_some_and(|s| s.status == status && s.detail.as_deref() == Some(detail.as_str()))
        {
            return Ok(());
        }
        self.store.set_step(id, step, idx(i), status, Some(detail)).await?;
        Ok(())
    }

    /// Pages by the escalation policy (or the step's targets) until someone
    /// acknowledges. Never blocks the following steps. Returns whether paging
    /// goes on.
    async fn page(
        &self,
        incident: &firebreak_store::Incident,
        step: &str,
        i: usize,
        targets: Option<&[firebreak_plan::Target]>,
        state: Option<&StepState>,
    ) -> Result<bool> {
        use firebreak_notify::{EventKind, Message, pager};
        let id = incident.id;
        let timeline = self.store.timeline(id).await?;
        let ack = timeline.iter().find(|e| e.kind == "acknowledged");
        let started = timeline.iter().find(|e| e.kind == "page_started" && e.body["step"] == step);
        let ms_of = |at: &str| {
            at.parse::<jiff::Timestamp>()
                .map_or(0, |t| u64::try_from(t.as_millisecond()).unwrap_or(0))
        };
        let start_ms = match started {
            Some(e) => ms_of(&e.at),
            None if ack.is_none() => {
                self.store.append(id, Actor::System, "page_started", json!({"step": step})).await?;
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
        let message = |event: EventKind, key: &str, title: String, text: String| Message {
            event,
            incident: Some(id.0),
            severity: incident.severity.to_string(),
            chain_id: Some(incident.chain_id),
            protocol: self.plan.protocol.name.clone(),
            title,
            text,
            links: vec![],
            drill: incident.drill,
            key: key.to_owned(),
            at: firebreak_store::timeline::rfc3339_now(),
            recipient: None,
        };
        if let Some(ack) = ack {
            let who = ack.body["member"].as_str().unwrap_or("someone").to_owned();
            let after = ms_of(&ack.at).saturating_sub(start_ms);
            // tell every channel that carried a page (PagerDuty stops paging)
            let mut channels: Vec<String> = Vec::new();
            for e in timeline.iter().filter(|e| e.kind == "paged" && e.body["step"] == step) {
                if let Some(ch) = e.body["channel"].as_str()
                    && !channels.iter().any(|c| c == ch)
                {
                    channels.push(ch.to_owned());
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
            let mut members: Vec<String> = level
                .targets
                .iter()
                .flat_map(|t| pager::resolve(&self.plan, t, now_ms()))
                .collect();
            members.sort();
            members.dedup();
            for member in members {
                let Some(m) = self.plan.team.get(&member) else { continue };
                for (ch, address) in &m.contacts {
                    if !self.plan.channels.contains_key(ch) {
                        continue;
                    }
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
                    page.recipient = Some(address.clone());
                    if self.enqueue(id, ch, &page).await? {
                        let body = json!({
                            "step": step, "member": member, "level": slot.level,
                            "repeat": slot.repeat, "channel": ch,
                        });
                        self.store.append(id, Actor::System, "paged", body).await?;
                    }
                    reached.push(member.clone());
                }
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

    /// How a paged member acknowledges: a signed link when the daemon serves
    /// one, else the command.
    fn ack_hint(&self, id: IncidentId, member: &str) -> String {
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
    async fn enqueue(
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
    async fn notify(
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
        let drill_rooms: Vec<String> = self
            .plan
            .channels
            .iter()
            .filter(|(_, c)| c.drill == Some(true))
            .map(|(k, _)| k.clone())
            .collect();
        let channels: &[String] =
            if incident.drill && !drill_rooms.is_empty() { &drill_rooms } else { channels };
        for ch in channels {
            // drill-only channels receive drills only
            if self.plan.channels.get(ch).is_some_and(|c| c.drill == Some(true)) && !incident.drill
            {
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
                at: firebreak_store::timeline::rfc3339_now(),
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
    async fn announce(
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

    /// An unpause requested in the war room: once the plan's (higher)
    /// unpause quorum approves, each contract's unpause path is sent.
    /// Returns `true` while it is in flight.
    async fn unpause(
        &self,
        id: IncidentId,
        timeline: &[firebreak_store::TimelineEntry],
        state: Option<&StepState>,
        at: u32,
        policy: FeePolicy,
    ) -> Result<bool> {
        if state.is_some_and(|s| s.status.is_final()) {
            return Ok(false);
        }
        let Some(request) = timeline.iter().find(|e| e.kind == "unpause_requested") else {
            return Ok(false);
        };
        let contracts: Vec<String> = request.body["contracts"]
            .as_array()
            .map(|a| a.iter().filter_map(|c| c.as_str().map(str::to_owned)).collect())
            .unwrap_or_default();
        let approval = self.plan.war_room.unpause.clone();
        let put = |status: StepStatus, detail: String| async move {
            if state.is_none_or(|s| s.status != status || s.detail.as_deref() != Some(&detail)) {
                self.store.set_step(id, UNPAUSE_STEP, at, status, Some(detail)).await?;
            }
            Ok::<_, Error>(())
        };
        match self.approval_state(id, UNPAUSE_STEP, &approval).await? {
            Gate::Waiting(d) => {
                put(StepStatus::AwaitingApproval, d).await?;
                return Ok(true);
            }
            Gate::Rejected(d) => {
                put(StepStatus::Failed, d).await?;
                return Ok(false);
            }
            Gate::Open(_) => {}
        }
        let mut targets = Vec::new();
        for c in &contracts {
            let contract = self
                .plan
                .contracts
                .get(c)
                .ok_or(Error::Plan { what: "contract", id: c.clone() })?;
            let Some(path) = contract.unpause.as_ref() else {
                return Err(Error::Plan { what: "unpause path of contract", id: c.clone() });
            };
            targets.push(Target { contract: c, address: contract.address, path });
        }
        if state.is_none_or(|s| s.status != StepStatus::Running) {
            self.store.set_step(id, UNPAUSE_STEP, at, StepStatus::Running, None).await?;
        }
        match self.on_chain(id, UNPAUSE_STEP, &targets, false, policy).await? {
            Progress::Done(d) => {
                self.store.set_step(id, UNPAUSE_STEP, at, StepStatus::Succeeded, Some(d)).await?;
                self.store
                    .transition(
                        id,
                        IncidentStatus::Recovering,
                        Actor::System,
                        Some(format!("unpaused {}", contracts.join(", "))),
                    )
                    .await?;
                Ok(false)
            }
            Progress::Waiting(d) => {
                self.store.set_step(id, UNPAUSE_STEP, at, StepStatus::Running, Some(d)).await?;
                Ok(true)
            }
            Progress::Failed(d) => {
                self.store.set_step(id, UNPAUSE_STEP, at, StepStatus::Failed, Some(d)).await?;
                Ok(false)
            }
        }
    }

    /// How long a step has been awaiting approval, from its timeline.
    async fn waited(&self, id: IncidentId, step: &str) -> Result<Option<std::time::Duration>> {
        let since = self.store.timeline(id).await?.into_iter().find(|e| {
            e.kind == "step" && e.body["step"] == step && e.body["status"] == "awaiting_approval"
        });
        let Some(entry) = since else { return Ok(None) };
        let Ok(at) = entry.at.parse::<jiff::Timestamp>() else { return Ok(None) };
        let now = jiff::Timestamp::now();
        Ok(Some(std::time::Duration::from_millis(
            u64::try_from(now.as_millisecond() - at.as_millisecond()).unwrap_or(0),
        )))
    }

    async fn approval_state(
        &self,
        id: IncidentId,
        step: &str,
        approval: &Approval,
    ) -> Result<Gate> {
        let decisions = self.store.approvals(id).await?;
        let eligible =
            |member: &str| self.plan.team.get(member).is_some_and(|m| approval.counts(m));
        let mut yes = Vec::new();
        let mut no = Vec::new();
        for d in decisions.iter().filter(|d| d.step_id == step && eligible(&d.member)) {
            if d.approve { yes.push(d.member.clone()) } else { no.push(d.member.clone()) }
        }
        let roles: Vec<String> = approval.roles.iter().map(ToString::to_string).collect();
        let pool = self.plan.team.keys().filter(|m| eligible(m)).count();
        if yes.len() as u32 >= approval.quorum {
            return Ok(Gate::Open(format!("approved by {}", yes.join(", "))));
        }
        if pool.saturating_sub(no.len()) < approval.quorum as usize {
            return Ok(Gate::Rejected(format!(
                "rejected by {}: the quorum can no longer be met",
                no.join(", ")
            )));
        }
        Ok(Gate::Waiting(format!(
            "needs {} approval(s) from {}; has {}{}; approve with `firebreak incident approve {id} {step} --as MEMBER`",
            approval.quorum,
            if roles.is_empty() { "any member".to_owned() } else { roles.join(" or ") },
            yes.len(),
            if yes.is_empty() { String::new() } else { format!(" ({})", yes.join(", ")) },
        )))
    }

    /// Drills on an anvil fork: signers whose key is not available send as
    /// impersonated accounts (the node must impersonate them, e.g.
    /// `anvil_autoImpersonateAccount`). Their address comes from the plan.
    #[must_use]
    pub fn impersonating(mut self) -> Self {
        for (id, signer) in &self.plan.signers {
            if self.keys.contains_key(id) {
                continue;
            }
            if let Some(address) = signer.address {
                tracing::info!(signer = %id, %address, "impersonated for the drill");
                self.keys.insert(id.clone(), Sender::Impersonated(address));
                self.key_errors.remove(id);
            }
        }
        self
    }

    /// Every P1 pause path that cannot sign with the keys this executor
    /// holds (see [`crate::p1_path_problems`]).
    pub fn containment_problems(&self) -> Vec<crate::PathProblem> {
        crate::p1_path_problems(&self.plan, |s| self.key(s).err())
    }

    /// Opens (or joins the open) P1 readiness incident for `problems`,
    /// records them and pages the on-call. A restart with the same problems
    /// adds nothing and pages nobody again. `None` when there is nothing
    /// wrong.
    ///
    /// # Errors
    /// When the store fails.
    pub async fn raise_readiness(
        &self,
        problems: &[crate::PathProblem],
        drill: bool,
    ) -> Result<Option<IncidentId>> {
        use crate::readiness::READINESS_MONITOR;
        let Some(first) = problems.first() else { return Ok(None) };
        let chain_id = self
            .plan
            .contracts
            .get(&first.contract)
            .and_then(|c| self.plan.chains.get(&c.chain))
            .map_or(0, |c| c.id);
        let lines: Vec<String> = problems.iter().map(ToString::to_string).collect();
        let digest = alloy_primitives::keccak256(lines.join("\n"));
        let mut evidence = std::collections::BTreeMap::new();
        for (i, line) in lines.iter().enumerate() {
            evidence.insert(format!("problem{}", i + 1), line.clone());
        }
        let now = now_ms();
        let alert = firebreak_primitives::Alert {
            monitor: READINESS_MONITOR.to_owned(),
            severity: firebreak_primitives::Severity::P1,
            playbook: READINESS_MONITOR.to_owned(),
            chain_id,
            block_number: 0,
            block_hash: B256::ZERO,
            tx_hash: None,
            log_index: None,
            evidence,
            probes: Default::default(),
            dedup_key: format!("{READINESS_MONITOR}/{digest}"),
            confirmations: 0,
        };
        let title = format!("{}: NOT READY — a P1 pause path cannot sign", self.plan.protocol.name);
        let grouping = firebreak_store::Grouping {
            protocol: self.plan.protocol.name.clone(),
            plan_hash: self.plan.hash,
            // joins the readiness incident still open from an earlier start
            window_ms: u64::MAX,
            title: title.clone(),
            drill: drill || self.plan.mode == firebreak_plan::PlanMode::Drill,
            now_ms: now,
        };
        let out = self.store.record_alert(&alert, &grouping).await?;
        let id = out.incident;
        let Some(incident) = self.store.incident(id).await? else { return Ok(Some(id)) };
        let recorded = self.store.timeline(id).await?.iter().any(|e| {
            e.kind == "readiness_problem" && e.body["digest"] == json!(digest.to_string())
        });
        if !recorded {
            let body = json!({"digest": digest.to_string(), "problems": problems});
            self.store.append(id, Actor::System, "readiness_problem", body).await?;
        }
        let text = format!(
            "{}: firebreak runs but cannot pause everything a P1 alert would pause:\n{}\nFix the keys and restart firebreak; until then `/readyz` answers 503.",
            self.plan.protocol.name,
            lines.iter().map(|l| format!("- {l}")).collect::<Vec<_>>().join("\n"),
        );
        self.alarm(&incident, &format!("readiness/{digest}"), format!("[P1] {title}"), text)
            .await?;
        Ok(Some(id))
    }

    fn key(&self, signer: &str) -> std::result::Result<&Sender, String> {
        self.keys.get(signer).ok_or_else(|| {
            self.key_errors
                .get(signer)
                .cloned()
                .unwrap_or_else(|| format!("signer `{signer}` is not in the plan"))
        })
    }

    fn abis_for(&self, chain: &str) -> Vec<&JsonAbi> {
        self.plan.contracts.values().filter(|c| c.chain == chain).map(|c| &c.abi).collect()
    }

    /// The `paused()` call of a contract whose ABI has one.
    fn paused_call(&self, contract: &str) -> Option<TransactionRequest> {
        let c = self.plan.contracts.get(contract)?;
        let f = c.abi.function("paused")?.first()?;
        if !f.inputs.is_empty() {
            return None;
        }
        Some(
            TransactionRequest::default()
                .to(c.address)
                .input(Bytes::from(f.selector().to_vec()).into()),
        )
    }

    async fn is_paused(&self, link: &ChainLink, contract: &str) -> Option<bool> {
        let req = self.paused_call(contract)?;
        let out = link.read("paused()", |p| {
            let req = req.clone();
            async move { p.call(req).await }
        });
        let out = out.await.ok()?;
        out.get(31).map(|b| *b == 1)
    }

    async fn on_chain(
        &self,
        id: IncidentId,
        step: &str,
        targets: &[Target<'_>],
        pause: bool,
        policy: FeePolicy,
    ) -> Result<Progress> {
        let Some(chain) = targets
            .first()
            .and_then(|t| self.plan.contracts.get(t.contract))
            .map(|c| c.chain.clone())
        else {
            return Ok(Progress::Done("nothing to do".into()));
        };
        let Some(link) = self.links.get(&chain) else {
            return Ok(Progress::Waiting(format!("no connection to chain `{chain}`")));
        };
        let actions: Vec<ActionRecord> =
            self.store.actions(id).await?.into_iter().filter(|a| a.step_id == step).collect();
        let abis = self.abis_for(&chain);
        let mut done = Vec::new();
        let mut waiting = Vec::new();
        let mut failed = Vec::new();
        // contracts whose next path is a given Safe, batched into one SafeTx
        let mut safe_batches: Vec<(String, Vec<&Target<'_>>)> = Vec::new();
        for t in targets {
            let mut reasons = Vec::new();
            let mut outcome = None;
            for authority in &t.path.via {
                let label = label(authority);
                let found = actions.iter().find(|a| covers(a, id, step, &label, t.contract));
                match found.map(|a| a.status) {
                    Some(ActionStatus::Failed | ActionStatus::Reverted) => {
                        reasons.push(format!(
                            "{label}: {}",
                            found.and_then(|a| a.error.clone()).unwrap_or_default()
                        ));
                    }
                    Some(_) | None => {
                        if found.is_none()
                            && pause
                            && self.is_paused(link, t.contract).await == Some(true)
                        {
                            outcome = Some(Ok("already paused".to_owned()));
                            break;
                        }
                        match authority {
                            Authority::Signer(s) => {
                                let key = match self.key(s) {
                                    Ok(k) => k,
                                    Err(reason) => {
                                        reasons.push(format!("{label}: {reason}"));
                                        self.store.append(id, Actor::System, "path_unavailable", json!({"contract": t.contract, "path": label, "reason": reason})).await?;
                                        continue;
                                    }
                                };
                                let mut action = match found {
                                    Some(a) => a.clone(),
                                    None => {
                                        let a = new_action(
                                            id,
                                            step,
                                            &label,
                                            &[t.contract],
                                            link.chain_id,
                                            ActionKind::Guardian,
                                            key.address(),
                                            t.address,
                                            t.path.calldata.clone(),
                                        );
                                        self.store.put_action(a.clone(), Some(("action_planned", json!({"action": a.key, "contract": t.contract, "path": label, "from": key.address().to_string()})))).await?;
                                        a
                                    }
                                };
                                let ctx = TxCtx {
                                    link,
                                    store: &*self.store,
                                    key,
                                    policy,
                                    abis: abis.clone(),
                                    sent_at: &self.sent_at,
                                    nonces: &self.nonces,
                                    confirmations: self.confirmations(&chain),
                                };
                                let progress = match advance(&ctx, &mut action).await {
                                    Ok(p) => p,
                                    Err(e) if !e.is_retryable() => {
                                        self.give_up(&mut action, &e).await?
                                    }
                                    Err(e) => return Err(e),
                                };
                                match progress {
                                    Progress::Done(d) => outcome = Some(Ok(d)),
                                    Progress::Waiting(d) => outcome = Some(Err(Some(d))),
                                    Progress::Failed(reason) => {
                                        reasons.push(format!("{label}: {reason}"));
                                        if pause
                                            && self.is_paused(link, t.contract).await == Some(true)
                                        {
                                            outcome = Some(Ok("already paused".to_owned()));
                                        } else {
                                            continue;
                                        }
                                    }
                                }
                                break;
                            }
                            Authority::Safe(name) => {
                                match safe_batches.iter_mut().find(|(n, _)| n == name) {
                                    Some((_, list)) => list.push(t),
                                    None => safe_batches.push((name.clone(), vec![t])),
                                }
                                outcome = Some(Err(None));
                                break;
                            }
                        }
                    }
                }
            }
            match outcome {
                Some(Ok(d)) => done.push(format!("{}: {d}", t.contract)),
                Some(Err(Some(d))) => waiting.push(format!("{}: {d}", t.contract)),
                Some(Err(None)) => {}
                None => failed.push(format!(
                    "{}: every path failed ({})",
                    t.contract,
                    reasons.join("; ")
                )),
            }
        }
        for (name, mut batch) in safe_batches {
            // plan order, as `safe presign` signs it
            batch.sort_by_key(|t| t.contract);
            let contracts: Vec<&str> = batch.iter().map(|t| t.contract).collect();
            match self.safe_round(id, step, &name, &batch, &actions, link, policy, &abis).await? {
                Progress::Done(d) => done.push(format!("{}: {d}", contracts.join(", "))),
                Progress::Waiting(d) => waiting.push(format!("{}: {d}", contracts.join(", "))),
                Progress::Failed(reason) => {
                    // the next round tries each contract's next path
                    tracing::warn!(incident = %id, safe = %name, %reason, "Safe path failed");
                    waiting.push(format!(
                        "{}: Safe `{name}` failed ({reason}); trying the next path",
                        contracts.join(", ")
                    ));
                }
            }
        }
        if !waiting.is_empty() {
            return Ok(Progress::Waiting(waiting.join("; ")));
        }
        if !failed.is_empty() {
            let mut all = failed;
            all.extend(done);
            return Ok(Progress::Failed(all.join("; ")));
        }
        Ok(Progress::Done(done.join("; ")))
    }

    #[allow(clippy::too_many_arguments)]
    async fn safe_round(
        &self,
        id: IncidentId,
        step: &str,
        name: &str,
        batch: &[&Target<'_>],
        actions: &[ActionRecord],
        link: &ChainLink,
        policy: FeePolicy,
        abis: &[&JsonAbi],
    ) -> Result<Progress> {
        let safe =
            self.plan.safes.get(name).ok_or(Error::Plan { what: "safe", id: name.into() })?;
        let label = format!("safe:{name}");
        let relayer_id = safe.relayer.clone().or_else(|| safe.hot_signers.first().cloned());
        let relayer = match relayer_id.as_deref().map(|r| self.key(r)) {
            Some(Ok(k)) => k,
            Some(Err(reason)) => return Ok(Progress::Failed(format!("relayer: {reason}"))),
            None => {
                return Ok(Progress::Failed(format!(
                    "Safe `{name}` has no relayer or hot signer to submit execTransaction"
                )));
            }
        };
        let contracts: Vec<&str> = batch.iter().map(|t| t.contract).collect();
        let key = action_key(id, step, &label, &contracts);
        let mut action = match actions.iter().find(|a| a.key == key) {
            Some(a) => a.clone(),
            None => {
                let a = new_action(
                    id,
                    step,
                    &label,
                    &contracts,
                    link.chain_id,
                    ActionKind::Safe,
                    relayer.address(),
                    safe.address,
                    Bytes::new(),
                );
                self.store.put_action(a.clone(), Some(("action_planned", json!({"action": a.key, "contracts": contracts, "path": label, "relayer": relayer.address().to_string()})))).await?;
                a
            }
        };
        let hot: Vec<(&str, &PrivateKeySigner)> = safe
            .hot_signers
            .iter()
            .filter_map(|h| self.keys.get(h).and_then(Sender::key).map(|k| (h.as_str(), k)))
            .collect();
        let ctx = SafeCtx {
            tx: TxCtx {
                link,
                store: &*self.store,
                key: relayer,
                policy,
                abis: abis.to_vec(),
                sent_at: &self.sent_at,
                nonces: &self.nonces,
                confirmations: self.confirmations(&safe.chain),
            },
            safe_id: name,
            safe: safe.address,
            multisend: safe.multisend,
            hot,
            calls: batch.iter().map(|t| (t.address, t.path.calldata.clone())).collect(),
        };
        match advance_safe(&ctx, &mut action).await {
            Err(e) if !e.is_retryable() => self.give_up(&mut action, &e).await,
            other => other,
        }
    }

    fn confirmations(&self, chain: &str) -> u64 {
        self.plan
            .chains
            .get(chain)
            .map_or(firebreak_plan::Chain::DEFAULT_CONFIRMATIONS, |c| c.confirmations)
    }

    /// A permanent error (a node's refusal, a signing failure): the action
    /// fails once, with its cause on the timeline, and is not retried; the
    /// step moves on to its next path or fails.
    async fn give_up(&self, action: &mut ActionRecord, e: &Error) -> Result<Progress> {
        let reason = firebreak_primitives::error_chain(e);
        tracing::error!(action = %action.key, %reason, "permanent error; not retried");
        action.status = ActionStatus::Failed;
        action.error = Some(reason.clone());
        let body = json!({"action": action.key, "reason": reason});
        self.store.put_action(action.clone(), Some(("action_failed", body))).await?;
        Ok(Progress::Failed(reason))
    }
}

/// Whether the containment watch holds, was lost (and the pause runs again),
/// or does not apply (the incident is not contained).
enum Watch {
    Holding,
    Lost,
    Off,
}

/// The monitor id of alerts raised when a contained contract is unpaused
/// outside the plan.
pub const UNPAUSED_MONITOR: &str = "firebreak.unpaused";

/// How often a pause step re-pauses contracts unpaused outside the plan
/// before it gives up (and pages).
const MAX_REPAUSES: usize = 3;

/// How many times `step` has been started: 1, plus one per unpause outside
/// the plan.
fn generation(step: &str, timeline: &[firebreak_store::TimelineEntry]) -> usize {
    1 + timeline
        .iter()
        .filter(|e| e.kind == "unpaused_outside_plan" && e.body["step"] == step)
        .count()
}

/// The step name a pause's actions are keyed under: the step id, then
/// `ID#2`, `ID#3`… for each re-pause after an unpause outside the plan (the
/// first pause's actions stay as they were).
fn pause_round(step: &str, timeline: &[firebreak_store::TimelineEntry]) -> String {
    match generation(step, timeline) {
        1 => step.to_owned(),
        n => format!("{step}#{n}"),
    }
}

enum Gate {
    Open(String),
    Waiting(String),
    Rejected(String),
}

fn humantime_secs(secs: u64) -> String {
    match secs {
        s if s % 3600 == 0 && s > 0 => format!("{}h", s / 3600),
        s if s % 60 == 0 && s > 0 => format!("{}m", s / 60),
        s => format!("{s}s"),
    }
}

fn idx(i: usize) -> u32 {
    u32::try_from(i).unwrap_or(u32::MAX)
}

fn label(a: &Authority) -> String {
    match a {
        Authority::Signer(s) => format!("signer:{s}"),
        Authority::Safe(s) => format!("safe:{s}"),
    }
}

/// `INCIDENT/STEP/PATH/CONTRACT[,CONTRACT…]`: one action per path and batch.
fn action_key(id: IncidentId, step: &str, label: &str, contracts: &[&str]) -> String {
    format!("{id}/{step}/{label}/{}", contracts.join(","))
}

fn covers(a: &ActionRecord, id: IncidentId, step: &str, label: &str, contract: &str) -> bool {
    a.key
        .strip_prefix(&format!("{id}/{step}/{label}/"))
        .is_some_and(|rest| rest.split(',').any(|c| c == contract))
}

#[allow(clippy::too_many_arguments)]
fn new_action(
    id: IncidentId,
    step: &str,
    label: &str,
    contracts: &[&str],
    chain_id: u64,
    kind: ActionKind,
    from: Address,
    to: Address,
    calldata: Bytes,
) -> ActionRecord {
    let now = now_ms();
    ActionRecord {
        key: action_key(id, step, label, contracts),
        incident: id,
        step_id: step.to_owned(),
        chain_id,
        kind,
        from,
        to,
        calldata,
        nonce: None,
        status: ActionStatus::Planned,
        attempts: Vec::new(),
        receipt: None,
        safe_tx: None,
        safe_tx_hash: None,
        error: None,
        created_ms: now,
        updated_ms: now,
    }
}

/// A mined action's transaction hash and the hash of the block its receipt named.
fn mined_at(a: &ActionRecord) -> Option<(B256, B256)> {
    let receipt = a.receipt.as_ref()?;
    let hash = receipt["tx_hash"].as_str()?.parse().ok()?;
    let block = receipt["block_hash"].as_str()?.parse().ok()?;
    Some((hash, block))
}
