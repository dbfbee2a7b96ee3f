//! Incidents, their hash-chained timeline, playbook steps, on-chain actions,
//! approvals and Safe signatures.

use alloy_primitives::{Address, B256, Bytes};
use firebreak_primitives::{Actor, Alert, Event, IncidentId, IncidentStatus, Severity, StepStatus};
use futures::future::BoxFuture;
use serde::{Deserialize, Serialize};

use crate::{Result, timeline::TimelineEntry};

/// How an alert finds its incident: same protocol, playbook and chain, and
/// the incident's last alert no older than `window_ms`.
#[derive(Debug, Clone)]
pub struct Grouping {
    /// Protocol name from the plan.
    pub protocol: String,
    /// Keccak-256 of the plan file.
    pub plan_hash: B256,
    /// Grouping window in milliseconds.
    pub window_ms: u64,
    /// Title for a new incident.
    pub title: String,
    /// Whether the plan runs in drill mode.
    pub drill: bool,
    /// Now, in unix milliseconds (explicit so tests control time).
    pub now_ms: u64,
    /// Entries a new incident gets right after its opening, in the same
    /// transaction (the Safe Harbor terms in force).
    pub on_open: Vec<Event>,
}

/// What recording an alert did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AlertOutcome {
    /// The incident the alert belongs to.
    pub incident: IncidentId,
    /// The alert opened this incident.
    pub opened: bool,
    /// The alert raised the incident's severity to this.
    pub upgraded: Option<Severity>,
    /// `false` when the alert was already linked (a replay after a restart).
    pub new: bool,
}

/// An incident.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Incident {
    /// Id.
    pub id: IncidentId,
    /// Lifecycle state.
    pub status: IncidentStatus,
    /// Highest severity of its alerts.
    pub severity: Severity,
    /// Title.
    pub title: String,
    /// Protocol name.
    pub protocol: String,
    /// Playbook it runs.
    pub playbook: String,
    /// Chain id.
    pub chain_id: u64,
    /// Plan file hash at opening.
    pub plan_hash: B256,
    /// Opened by a drill plan.
    pub drill: bool,
    /// Alerts linked to it.
    pub alert_count: u64,
    /// Opened at (unix ms).
    pub opened_ms: u64,
    /// Last alert at (unix ms).
    pub last_alert_ms: u64,
    /// Last change at (unix ms).
    pub updated_ms: u64,
    /// Entries of its timeline, as recorded with each entry.
    pub timeline_len: u64,
    /// Hash of its timeline's last entry, as recorded with each entry.
    pub timeline_head: String,
}

/// Filter for [`IncidentStore::incidents`].
#[derive(Debug, Clone, Default)]
pub struct IncidentFilter {
    /// Only these states (empty: all).
    pub statuses: Vec<IncidentStatus>,
    /// At most this many, newest first (0: no limit).
    pub limit: u64,
}

/// A playbook step of an incident.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StepState {
    /// Step id from the playbook.
    pub step_id: String,
    /// Position in the playbook.
    pub index: u32,
    /// State.
    pub status: StepStatus,
    /// Times it started running.
    pub attempts: u32,
    /// Last detail (why it waits, failed or succeeded).
    pub detail: Option<String>,
    /// Last change (unix ms).
    pub updated_ms: u64,
}

/// How an on-chain action is authorised.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ActionKind {
    /// Sent directly by a guardian key.
    Guardian,
    /// `execTransaction` on a Safe, sent by its relayer.
    Safe,
}

/// Where an on-chain action is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ActionStatus {
    /// Recorded; nothing signed yet.
    Planned,
    /// Waiting for Safe owner signatures.
    AwaitingSignatures,
    /// A transaction is signed and recorded (maybe broadcast).
    Sent,
    /// Mined and succeeded.
    Mined,
    /// Mined and reverted.
    Reverted,
    /// Given up before anything was mined (simulation revert, no key…).
    Failed,
}

impl ActionStatus {
    /// Whether the action is over.
    pub const fn is_final(self) -> bool {
        matches!(self, Self::Mined | Self::Reverted | Self::Failed)
    }
}

/// One signed transaction of an action (the first, or a fee replacement).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TxAttempt {
    /// Transaction hash.
    pub hash: B256,
    /// The signed transaction, as broadcast (EIP-2718 bytes).
    pub raw: Bytes,
    /// Nonce.
    pub nonce: u64,
    /// `maxFeePerGas` in wei.
    pub max_fee: u128,
    /// `maxPriorityFeePerGas` in wei.
    pub priority_fee: u128,
    /// When it was signed (unix ms).
    pub at_ms: u64,
}

/// An on-chain action and everything tried to land it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ActionRecord {
    /// Unique key: at most one action per incident, step, path and batch.
    pub key: firebreak_primitives::ActionKey,
    /// Incident.
    pub incident: IncidentId,
    /// Step id.
    pub step_id: String,
    /// Chain id.
    pub chain_id: u64,
    /// Guardian or Safe.
    pub kind: ActionKind,
    /// Transaction sender (guardian, or the Safe's relayer).
    pub from: Address,
    /// Transaction target (the contract, or the Safe).
    pub to: Address,
    /// Calldata of the transaction.
    pub calldata: Bytes,
    /// ETH the transaction carries (a sweep; zero for every other action).
    #[serde(default)]
    pub value: alloy_primitives::U256,
    /// Nonce of the sender, once chosen.
    pub nonce: Option<u64>,
    /// State.
    pub status: ActionStatus,
    /// Every signed transaction, in order.
    pub attempts: Vec<TxAttempt>,
    /// Receipt summary once mined.
    pub receipt: Option<serde_json::Value>,
    /// The SafeTx (Safe actions).
    pub safe_tx: Option<serde_json::Value>,
    /// Its EIP-712 hash (Safe actions).
    pub safe_tx_hash: Option<B256>,
    /// Last error.
    pub error: Option<String>,
    /// Created (unix ms).
    pub created_ms: u64,
    /// Last change (unix ms).
    pub updated_ms: u64,
}

/// A member's decision on a gated step.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ApprovalRecord {
    /// Step id.
    pub step_id: String,
    /// Member handle.
    pub member: String,
    /// Approve (`false`: reject).
    pub approve: bool,
    /// When (unix ms).
    pub at_ms: u64,
}

/// An owner's signature over a SafeTx hash.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SafeSignature {
    /// The SafeTx hash signed.
    pub safe_tx_hash: B256,
    /// The owner (recovered from the signature).
    pub signer: Address,
    /// 65-byte signature.
    pub signature: Bytes,
    /// Where it came from (`hot:NAME`, `member:NAME`, `presigned`).
    pub source: String,
}

/// A pause batch signed in advance.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Presigned {
    /// Chain id.
    pub chain_id: u64,
    /// The Safe.
    pub safe: Address,
    /// Safe nonce it was signed at.
    pub nonce: u64,
    /// SafeTx hash.
    pub safe_tx_hash: B256,
    /// SafeTx JSON.
    pub safe_tx: serde_json::Value,
    /// Plan contract keys the batch pauses.
    pub contracts: Vec<String>,
    /// Created (unix ms).
    pub created_ms: u64,
}

/// A message in the outbox.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutboxMessage {
    /// Row id (0 before it is stored).
    pub id: u64,
    /// Idempotency key: the same message is stored once and services see
    /// this key on every attempt.
    pub key: String,
    /// Incident, when the message belongs to one.
    pub incident: Option<IncidentId>,
    /// Channel key in the plan.
    pub channel: String,
    /// The message (JSON, as the notifier rendered it).
    pub body: serde_json::Value,
    /// `pending`, `delivered` or `failed`.
    pub status: String,
    /// Delivery attempts so far.
    pub attempts: u32,
    /// Not before (unix ms).
    pub next_at_ms: u64,
    /// Last failure.
    pub last_error: Option<String>,
    /// Enqueued (unix ms).
    pub created_ms: u64,
}

/// Incidents and their alerts: opening, grouping and lifecycle.
pub trait IncidentRecords: Send + Sync + std::fmt::Debug {
    /// Stores `alert` (if new) and links it to its incident, opening or
    /// upgrading one as needed.
    fn record_alert<'a>(
        &'a self,
        alert: &'a Alert,
        grouping: &'a Grouping,
    ) -> BoxFuture<'a, Result<AlertOutcome>>;
    /// Stored, unretracted alerts not linked to any incident, stored at or
    /// after `since_ms` (e.g. the daemon died between storing an alert and
    /// opening its incident).
    fn unlinked_alerts(&self, since_ms: u64) -> BoxFuture<'_, Result<Vec<Alert>>>;
    /// One incident.
    fn incident(&self, id: IncidentId) -> BoxFuture<'_, Result<Option<Incident>>>;
    /// Incidents, newest first.
    fn incidents<'a>(&'a self, filter: &'a IncidentFilter) -> BoxFuture<'a, Result<Vec<Incident>>>;
    /// Alerts linked to an incident, in chain order.
    fn incident_alerts(&self, id: IncidentId) -> BoxFuture<'_, Result<Vec<Alert>>>;
    /// Moves an incident forward in its lifecycle (never backward). Returns
    /// `false` when it already was at or past `to`.
    fn transition(
        &self,
        id: IncidentId,
        to: IncidentStatus,
        actor: Actor,
        note: Option<String>,
    ) -> BoxFuture<'_, Result<bool>>;
    /// Containment was lost: moves a `contained` incident back to
    /// `containing`, with the reason on the timeline (a `status` entry from
    /// `contained` to `containing`). Returns `false` when the incident was
    /// not contained.
    fn lose_containment(&self, id: IncidentId, note: String) -> BoxFuture<'_, Result<bool>>;
}

/// The hash-chained timeline of each incident.
pub trait TimelineStore: Send + Sync + std::fmt::Debug {
    /// Appends an entry to the timeline.
    fn append(
        &self,
        id: IncidentId,
        actor: Actor,
        event: Event,
    ) -> BoxFuture<'_, Result<TimelineEntry>>;
    /// Appends an entry of `kind` unless the incident's timeline holds one
    /// already, in one transaction: of callers racing, exactly one records
    /// it (an acknowledgement is recorded once however many people press at
    /// once). Returns whether it was recorded, and the entry that stands.
    fn append_once(
        &self,
        id: IncidentId,
        actor: Actor,
        event: Event,
    ) -> BoxFuture<'_, Result<(bool, TimelineEntry)>>;
    /// The whole timeline, in order.
    fn timeline(&self, id: IncidentId) -> BoxFuture<'_, Result<Vec<TimelineEntry>>>;
}

/// Playbook steps' states and members' decisions on gated steps.
pub trait StepStore: Send + Sync + std::fmt::Debug {
    /// Sets a step's state (counting an attempt when it enters `running`) and
    /// records the change on the timeline when the state changed.
    fn set_step(
        &self,
        id: IncidentId,
        step_id: &str,
        index: u32,
        status: StepStatus,
        detail: Option<String>,
    ) -> BoxFuture<'_, Result<StepState>>;
    /// Steps of an incident, in playbook order.
    fn steps(&self, id: IncidentId) -> BoxFuture<'_, Result<Vec<StepState>>>;
    /// Records a member's decision on a step; `false` when that member had
    /// already decided (the first decision stands).
    fn decide(
        &self,
        id: IncidentId,
        step_id: &str,
        member: &str,
        approve: bool,
    ) -> BoxFuture<'_, Result<bool>>;
    /// Decisions on an incident's steps.
    fn approvals(&self, id: IncidentId) -> BoxFuture<'_, Result<Vec<ApprovalRecord>>>;
}

/// On-chain actions, Safe signatures and pre-signed batches.
pub trait ActionStore: Send + Sync + std::fmt::Debug {
    /// Inserts or replaces an action (by key); `event` (kind and body), when
    /// given, goes on the timeline in the same transaction.
    fn put_action(&self, action: ActionRecord, event: Option<Event>) -> BoxFuture<'_, Result<()>>;
    /// [`ActionStore::put_action`] by the holder of a lease: written only
    /// when `fence` is still the lease's holder and epoch and the lease has
    /// not run out, checked in the same transaction ([`crate::Error::Fenced`]
    /// otherwise, and nothing is written).
    fn put_action_fenced<'a>(
        &'a self,
        action: ActionRecord,
        event: Option<Event>,
        fence: &'a crate::Fence,
    ) -> BoxFuture<'a, Result<()>>;
    /// One action by key.
    fn action<'a>(
        &'a self,
        key: &'a firebreak_primitives::ActionKey,
    ) -> BoxFuture<'a, Result<Option<ActionRecord>>>;
    /// Actions of an incident, oldest first.
    fn actions(&self, id: IncidentId) -> BoxFuture<'_, Result<Vec<ActionRecord>>>;
    /// Adds an owner signature; `false` when that owner already signed the
    /// hash. `incident`, when given, gets a timeline entry.
    fn add_signature(
        &self,
        signature: SafeSignature,
        incident: Option<(IncidentId, Actor)>,
    ) -> BoxFuture<'_, Result<bool>>;
    /// Signatures over a SafeTx hash.
    fn signatures(&self, safe_tx_hash: B256) -> BoxFuture<'_, Result<Vec<SafeSignature>>>;
    /// Stores a pre-signed batch (its signatures go through [`Self::add_signature`]).
    fn put_presigned(&self, presigned: Presigned) -> BoxFuture<'_, Result<()>>;
    /// Pre-signed batches of a Safe, newest nonce first.
    fn presigned(&self, chain_id: u64, safe: Address) -> BoxFuture<'_, Result<Vec<Presigned>>>;
}

/// The outbox of messages, delivered once per key.
pub trait OutboxStore: Send + Sync + std::fmt::Debug {
    /// Adds a message to the outbox; `false` when its key is already there.
    fn enqueue(&self, message: OutboxMessage) -> BoxFuture<'_, Result<bool>>;
    /// A counter that moves whenever this store queues a message, so the
    /// courier is woken at once instead of polling; `None` when the store
    /// cannot tell (the courier then polls).
    fn outbox_changes(&self) -> Option<tokio::sync::watch::Receiver<u64>> {
        None
    }
    /// Pending messages that may be attempted now: for each incident and
    /// channel only the oldest pending one (order is kept), and only when due.
    fn due_messages(&self, now_ms: u64, limit: u32) -> BoxFuture<'_, Result<Vec<OutboxMessage>>>;
    /// [`OutboxStore::due_messages`], claimed for `holder` for `claim_ms`
    /// (the database's clock): a message another holder claimed, and whose
    /// claim has not run out, is left to it (on PostgreSQL, rows another
    /// transaction is claiming are skipped: `FOR UPDATE SKIP LOCKED`). The
    /// claim ends when the attempt is recorded.
    fn claim_due<'a>(
        &'a self,
        holder: &'a str,
        now_ms: u64,
        limit: u32,
        claim_ms: u64,
    ) -> BoxFuture<'a, Result<Vec<OutboxMessage>>>;
    /// Records a delivery (and, for an incident's message, a timeline entry).
    fn delivered(&self, id: u64, attempts: u32) -> BoxFuture<'_, Result<()>>;
    /// Records a failed attempt: retried at `next_at_ms`, or given up when
    /// `None` (with a timeline entry).
    fn attempt_failed(
        &self,
        id: u64,
        attempts: u32,
        error: String,
        next_at_ms: Option<u64>,
    ) -> BoxFuture<'_, Result<()>>;
    /// Every message of an incident (or all when `None`), oldest first.
    fn outbox(&self, incident: Option<IncidentId>) -> BoxFuture<'_, Result<Vec<OutboxMessage>>>;
}

/// Durable incidents: every narrow store trait at once. Every write that
/// changes what happened also appends to the incident's timeline, in the
/// same transaction. Take the narrowest trait a function needs
/// ([`OutboxStore`] for a courier, [`TimelineStore`] to read a record …);
/// anything that implements them all is an `IncidentStore`.
pub trait IncidentStore:
    IncidentRecords + TimelineStore + StepStore + ActionStore + OutboxStore
{
}

impl<T: IncidentRecords + TimelineStore + StepStore + ActionStore + OutboxStore + ?Sized>
    IncidentStore for T
{
}
