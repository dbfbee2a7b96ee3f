//! The playbook executor: runs an incident's steps in order, durably.
//!
//! Every round ([`Executor::drive`]) reads the incident's recorded state and
//! moves it forward; it keeps nothing in memory that a restart would need.
//! State is written before and after acting, and on-chain actions are found
//! again by key, so a restarted daemon looks up what it already sent (and its
//! receipt) instead of sending it twice.
//!
//! This file holds the round itself ([`Executor::drive`]), the step states
//! and the approval gates; by concern, the rest is in `onchain` (pause paths,
//! guardian and Safe transactions, action records), `containment` (the
//! re-check at each head, re-pausing), `comms` (pages, messages,
//! announcements), `unpause` and `signers` (keys, impersonation, readiness).

use std::{
    collections::{BTreeSet, HashMap},
    sync::Arc,
};

use alloy::{providers::Provider as _, rpc::types::TransactionRequest};
use alloy_json_abi::JsonAbi;
use alloy_primitives::{Address, B256, Bytes};
use alloy_signer_local::PrivateKeySigner;
use firebreak_plan::{Approval, Authority, ControlPath, Plan, StepAction};
use firebreak_primitives::now_ms;
use firebreak_primitives::{
    ActionKey, Actor, Event, IncidentId, IncidentStatus, PathRef, StepStatus, TRIGGER_STEP,
    UNPAUSE_STEP,
    event::{self, AskReason},
};
use firebreak_store::{ActionKind, ActionRecord, ActionStatus, IncidentStore, StepState};
use serde_json::json;
use tokio::sync::Mutex;

use crate::{
    ChainLink,
    error::{Error, Result},
    fees::FeePolicy,
    safe_path::{SafeCtx, advance_safe},
    tx::{Progress, Sender, TxCtx, advance},
};

mod comms;
mod compromise;
mod containment;
mod onchain;
mod pre_emption;
mod signers;
mod unpause;

pub use containment::UNPAUSED_MONITOR;
use containment::{MAX_REPAUSES, Watch, generation, pause_round};

/// Runs playbooks for incidents.
#[derive(Debug)]
pub struct Executor {
    plan: Arc<Plan>,
    store: Arc<dyn IncidentStore>,
    links: HashMap<String, ChainLink>,
    keys: HashMap<String, Sender>,
    key_errors: HashMap<String, String>,
    sent_at: Mutex<HashMap<firebreak_primitives::ActionKey, u64>>,
    /// Incidents whose pauses also go to block builders (pre-emption).
    bundles: crate::bundle::BundleBook,
    /// One owner of each sender's nonces, shared by incidents driven at once.
    nonces: crate::tx::NonceBook,
    /// The head (its hash: a reorg to the same height is a new head) at
    /// which each contained incident's containment was last checked.
    watched_at: Mutex<HashMap<IncidentId, B256>>,
    fee_policy: Option<FeePolicy>,
    renderer: firebreak_notify::Renderer,
    ack_links: Option<(String, secrecy::SecretString, std::time::Duration)>,
    announcements: Option<Arc<dyn firebreak_store::WarRoomStore>>,
    /// The signer leases this replica holds, and their names (replicas).
    fencing: Option<(Arc<crate::Fencing>, Vec<String>)>,
}

/// A step's target: a contract, the call to land on it, and the paths to
/// try (the step's own choice, or the contract's).
struct Target<'p> {
    /// Chain key of the plan.
    chain: &'p str,
    /// The contract's key (or a label naming the call, for calls found on
    /// chain: `vault:MINTER_ROLE`).
    contract: &'p str,
    address: Address,
    path: &'p ControlPath,
    via: &'p [Authority],
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
            fencing: None,
            plan,
            store,
            links,
            keys,
            key_errors,
            sent_at: Mutex::new(HashMap::new()),
            bundles: crate::bundle::BundleBook::default(),
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

    /// Fences every action write with the signer leases `fencing` holds
    /// (replicas on one database): a write for a signer whose lease this
    /// replica does not hold now is refused, here and in the store.
    #[must_use]
    pub fn with_fencing(mut self, fencing: Arc<crate::Fencing>) -> Self {
        let names = self.signer_leases();
        self.fencing = Some((fencing, names));
        self
    }

    /// The lease of every (chain, sending key) this executor may send from,
    /// sorted: whoever acts for the plan holds them all.
    pub fn signer_leases(&self) -> Vec<String> {
        let mut names: Vec<String> = self
            .links
            .values()
            .flat_map(|link| {
                let id = link.chain_id;
                self.keys.values().map(move |k| firebreak_store::signer_lease(id, k.address()))
            })
            .collect();
        names.sort();
        names.dedup();
        names
    }

    /// The fencing of this executor, for a transaction context.
    fn fences(&self) -> Option<(&crate::Fencing, &[String])> {
        self.fencing.as_ref().map(|(f, n)| (&**f, n.as_slice()))
    }

    /// Writes an action, fenced when this executor is.
    async fn record(
        &self,
        action: firebreak_store::ActionRecord,
        event: Option<firebreak_primitives::Event>,
    ) -> Result<()> {
        crate::tx::record(&*self.store, self.fences(), action, event).await
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
            let e = Event::PlaybookMissing(event::PlaybookMissing {
                playbook: incident.playbook.clone(),
            });
            self.store.append(id, Actor::System, e).await?;
            return Ok(false);
        };
        let mut states: HashMap<String, StepState> =
            self.store.steps(id).await?.into_iter().map(|s| (s.step_id.clone(), s)).collect();
        let timeline = self.store.timeline(id).await?;
        // started by hand: nothing runs until the war room's pause quorum approves
        if timeline
            .first()
            .is_some_and(|e| matches!(&e.event, Event::IncidentOpened(o) if o.manual.is_some()))
        {
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
        let policy = outbid_pending(
            self.fee_policy.unwrap_or_else(|| FeePolicy::for_severity(incident.severity)),
            &timeline,
        );
        // builders whose secret does not resolve are left out here; `verify`
        // names them
        let builders = self
            .plan
            .chains
            .iter()
            .find(|(_, c)| c.id == incident.chain_id)
            .and_then(|(key, _)| crate::plan_builders(&self.plan, key).ok())
            .map(|(b, _)| b)
            .unwrap_or_default();
        self.bundles.set(id, crate::bundle::target(&builders, &timeline));
        let mut paging = false;
        let timeline =
            match self.watch_containment(&incident, playbook, &mut states, &timeline).await? {
                // containment was lost: the record changed, read it again
                Watch::Lost => self.store.timeline(id).await?,
                Watch::Holding | Watch::Off => timeline,
            };
        if timeline.iter().any(|e| matches!(e.event, Event::UnpauseRequested(_))) {
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
        // the steps run as a small graph: a step starts once every step it
        // waits for is over (`Step::after`); `page` and `notify` go first in
        // each round, so people hear at once whatever the chain is doing
        let mut over: BTreeSet<&str> = playbook
            .steps
            .iter()
            .filter(|s| states.get(&s.id).is_some_and(|st| st.status.is_final()))
            .map(|s| s.id.as_str())
            .collect();
        let mut order: Vec<usize> = (0..playbook.steps.len()).collect();
        order.sort_by_key(|&i| !playbook.steps[i].tells_people());
        let mut ran = BTreeSet::new();
        let mut work = paging;
        loop {
            let before = over.len();
            for &i in &order {
                let step = &playbook.steps[i];
                if over.contains(step.id.as_str()) || ran.contains(&i) {
                    continue;
                }
                if !step.after.iter().all(|d| over.contains(d.as_str())) {
                    work = true;
                    continue;
                }
                ran.insert(i);
                let state = states.get(&step.id);
                match self.run_step(&incident, step, i, state, &timeline, policy).await? {
                    Run::Over => {
                        over.insert(&step.id);
                    }
                    Run::Going => work = true,
                }
            }
            // a step that ended may let others start in this same round
            if over.len() == before {
                break;
            }
        }
        // after the steps (never ahead of a pause): what became of the
        // pending transactions pre-emptive alerts saw; a failure to read it
        // holds nothing up and is tried again next round
        if let Err(e) = self.pre_emption_outcomes(&incident, &timeline).await {
            tracing::warn!(incident = %id, error = %e, "pre-emption outcome not read");
        }
        Ok(work)
    }

    /// One step of a round: starts it or moves it on.
    async fn run_step(
        &self,
        incident: &firebreak_store::Incident,
        step: &firebreak_plan::Step,
        i: usize,
        state: Option<&StepState>,
        timeline: &[firebreak_store::TimelineEntry],
        policy: FeePolicy,
    ) -> Result<Run> {
        let id = incident.id;
        if let StepAction::Page { targets } = &step.action {
            let going = self.page(incident, &step.id, i, targets.as_deref(), state).await?;
            return Ok(if going { Run::Going } else { Run::Over });
        }
        if let StepAction::Announce { status, message, components } = &step.action {
            self.announce(id, &step.id, i, (*status, message, components), state).await?;
            let now = self.store.steps(id).await?.into_iter().find(|s| s.step_id == step.id);
            return Ok(if now.is_some_and(|s| s.status.is_final()) {
                Run::Over
            } else {
                Run::Going
            });
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
                        return Ok(Run::Over);
                    }
                    self.set(id, &step.id, i, StepStatus::AwaitingApproval, detail, state).await?;
                    self.ask_approvers(incident, &step.id, approval).await?;
                    return Ok(Run::Going);
                }
                Gate::Rejected(detail) => {
                    self.set(id, &step.id, i, StepStatus::Failed, detail, state).await?;
                    return Ok(Run::Over);
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
            StepAction::Pause { contracts, via } => {
                // started once: a step waiting for signatures is not started again
                if state.is_none_or(|s| s.status == StepStatus::Pending) {
                    self.store.set_step(id, &step.id, idx(i), StepStatus::Running, None).await?;
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
                        return Err(Error::Plan { what: "pause path of contract", id: c.clone() });
                    };
                    let via = via.as_deref().unwrap_or(&path.via);
                    targets.push(Target {
                        chain: &contract.chain,
                        contract: c,
                        address: contract.address,
                        path,
                        via,
                    });
                }
                let round = pause_round(&step.id, timeline);
                if generation(&step.id, timeline) > MAX_REPAUSES {
                    Progress::Failed(format!(
                        "unpaused outside the plan {MAX_REPAUSES} times; firebreak stops re-pausing: find and revoke the account that unpauses"
                    ))
                } else {
                    self.on_chain(id, &round, &targets, true, &[], policy).await?
                }
            }
            StepAction::Call { contract, call } => {
                if state.is_none_or(|s| s.status == StepStatus::Pending) {
                    self.store.set_step(id, &step.id, idx(i), StepStatus::Running, None).await?;
                }
                let c = self
                    .plan
                    .contracts
                    .get(contract)
                    .ok_or(Error::Plan { what: "contract", id: contract.clone() })?;
                let targets = [Target {
                    chain: &c.chain,
                    contract,
                    address: c.address,
                    path: call,
                    via: &call.via,
                }];
                self.on_chain(id, &step.id, &targets, false, &[], policy).await?
            }
            StepAction::Notify { channels, message } => {
                self.notify(incident, &step.id, channels, message.as_deref()).await?
            }
            StepAction::Page { .. } | StepAction::Announce { .. } => return Ok(Run::Over),
            StepAction::SafeReject { .. }
            | StepAction::RotateSigner { .. }
            | StepAction::RevokeRoles { .. }
            | StepAction::Sweep { .. } => {
                if state.is_none_or(|s| s.status == StepStatus::Pending) {
                    self.store.set_step(id, &step.id, idx(i), StepStatus::Running, None).await?;
                }
                self.compromise_step(incident, &step.id, &step.action, policy).await?
            }
        };
        let state = self.store.steps(id).await?.into_iter().find(|s| s.step_id == step.id);
        match progress {
            Progress::Done(detail) => {
                self.set(id, &step.id, i, StepStatus::Succeeded, detail, state.as_ref()).await?;
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
                Ok(Run::Over)
            }
            Progress::Waiting(detail) => {
                // people hold it up when a Safe transaction of this step
                // waits for owners' signatures: ask exactly those owners
                let missing = self.missing_owners(id, &step.id).await?;
                let status = if missing.is_empty() {
                    StepStatus::Running
                } else {
                    StepStatus::AwaitingApproval
                };
                self.set(id, &step.id, i, status, detail, state.as_ref()).await?;
                if !missing.is_empty() {
                    self.ask_owners(incident, &step.id, &missing).await?;
                }
                Ok(Run::Going)
            }
            Progress::Failed(detail) => {
                tracing::error!(incident = %id, step = %step.id, %detail, "step failed");
                if step.acts_on_chain() {
                    let title = format!("[P1] step `{}` failed", step.id);
                    let text = format!(
                        "{}: incident {id}, step `{}` failed and will not be retried: {detail}",
                        self.plan.protocol.name, step.id
                    );
                    self.alarm(incident, &format!("failed/{}", step.id), title, text).await?;
                }
                self.set(id, &step.id, i, StepStatus::Failed, detail, state.as_ref()).await?;
                Ok(Run::Over)
            }
        }
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

    /// How long a step has been awaiting approval, from its timeline.
    async fn waited(&self, id: IncidentId, step: &str) -> Result<Option<std::time::Duration>> {
        let since = self.store.timeline(id).await?.into_iter().find(|e| {
            matches!(&e.event, Event::Step(s)
                if s.step == step && s.status == StepStatus::AwaitingApproval)
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
}

/// Where a step stands after its part of a round.
enum Run {
    /// Succeeded or failed: steps waiting for it may start.
    Over,
    /// In flight, or waiting for people.
    Going,
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

/// Evidence keys of an alert raised on a simulated pending transaction (see
/// `firebreak_node`'s pre-emption): its fee cap and priority fee, in wei.
pub const PENDING_MAX_FEE: &str = "pending.max_fee";
/// See [`PENDING_MAX_FEE`].
pub const PENDING_TIP: &str = "pending.priority_fee";

/// `policy`, outbidding every pending transaction a pre-emptive alert of the
/// incident saw: the pause must be mined ahead of the attack, and is
/// re-priced when the attacker raises its fees (a new alert).
fn outbid_pending(mut policy: FeePolicy, timeline: &[firebreak_store::TimelineEntry]) -> FeePolicy {
    for e in timeline {
        if let Some(a) = e.event.alert()
            && let (Some(fee), Some(tip)) =
                (a.evidence.get(PENDING_MAX_FEE), a.evidence.get(PENDING_TIP))
            && let (Ok(fee), Ok(tip)) = (fee.parse::<u128>(), tip.parse::<u128>())
        {
            policy = policy.outbidding(fee, tip);
        }
    }
    policy
}
