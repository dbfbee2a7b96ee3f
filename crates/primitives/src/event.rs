//! What an incident's timeline records: one tagged enum, [`Event`], with a
//! typed body per kind, and the one place that says each in words
//! ([`Event::describe`]) and draws it ([`Event::milestone`]).
//!
//! The store keeps an entry as its kind (`"tx_mined"`) and its body as JSON,
//! and hashes exactly that JSON; [`Event::to_stored`] and
//! [`Event::from_stored`] convert. A row whose kind is not known here, or
//! whose body no longer reads as its kind's, becomes
//! [`Event::Unrecognised`]: it is shown as raw JSON and its hash still
//! verifies, since the hash covers the stored body, never this view of it.
//!
//! Adding a kind is adding a variant below: every `match` on `Event` in the
//! workspace is exhaustive, so each place that must handle it fails to
//! compile until it does.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::{IncidentStatus, Role, Severity, StepStatus};

macro_rules! events {
    ($($(#[$doc:meta])* $variant:ident($body:ty) = $kind:literal,)+) => {
        /// One timeline event: its kind and typed body.
        #[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
        #[serde(tag = "kind", content = "body")]
        pub enum Event {
            $($(#[$doc])* #[serde(rename = $kind)] $variant($body),)+
            /// A stored entry this version cannot read as any kind above
            /// (written by a newer version, or a body of an older shape).
            #[serde(skip)]
            Unrecognised {
                /// The stored kind.
                kind: String,
                /// Why it did not read.
                error: String,
            },
        }

        impl Event {
            /// Every kind this version writes, in declaration order.
            pub const KINDS: &'static [&'static str] = &[$($kind),+];

            /// The kind, as stored (`"tx_mined"`).
            pub fn kind(&self) -> &str {
                match self {
                    $(Self::$variant(_) => $kind,)+
                    Self::Unrecognised { kind, .. } => kind,
                }
            }
        }
    };
}

events! {
    /// An incident was opened, by an alert or by hand.
    IncidentOpened(Opened) = "incident_opened",
    /// Another alert joined an open incident.
    Alert(AlertSeen) = "alert",
    /// A more severe alert raised the incident's severity.
    SeverityRaised(SeverityRaised) = "severity_raised",
    /// The incident moved in its lifecycle.
    Status(StatusChanged) = "status",
    /// A playbook step changed state.
    Step(StepChanged) = "step",
    /// A member acknowledged the incident.
    Acknowledged(Acknowledged) = "acknowledged",
    /// A member approved a gated step.
    Approved(StepRef) = "approved",
    /// A member rejected a gated step.
    Rejected(StepRef) = "rejected",
    /// A member asked for contracts to be unpaused.
    UnpauseRequested(UnpauseRequested) = "unpause_requested",
    /// A status-page announcement was drafted.
    AnnouncementDrafted(AnnouncementChanged) = "announcement_drafted",
    /// An announcement was approved.
    AnnouncementApproved(AnnouncementChanged) = "announcement_approved",
    /// An announcement was published.
    AnnouncementPublished(AnnouncementChanged) = "announcement_published",
    /// An on-chain action was planned on a path.
    ActionPlanned(ActionPlanned) = "action_planned",
    /// A pause path could not be used.
    PathUnavailable(PathUnavailable) = "path_unavailable",
    /// An on-chain action gave up.
    ActionFailed(ActionFailed) = "action_failed",
    /// The simulation of an action reverted; nothing was sent.
    SimulationReverted(SimulationReverted) = "simulation_reverted",
    /// A transaction was signed (written ahead of its broadcast).
    TxSigned(TxSigned) = "tx_signed",
    /// A transaction was signed again with higher fees.
    TxReplaced(TxSigned) = "tx_replaced",
    /// A signed transaction was sent to the chain's endpoints.
    TxBroadcast(TxBroadcast) = "tx_broadcast",
    /// Another transaction took the action's nonce.
    NonceTaken(NonceTaken) = "nonce_taken",
    /// What became of the pending transaction a pre-emptive pause was sent
    /// for: pre-empted, landed, or the pause was unnecessary.
    PreEmption(PreEmption) = "pre_emption",
    /// The transaction was mined and succeeded.
    TxMined(TxOutcome) = "tx_mined",
    /// The transaction was mined and reverted.
    TxReverted(TxOutcome) = "tx_reverted",
    /// A reorg took the transaction's block off the canonical chain.
    TxReorged(TxReorged) = "tx_reorged",
    /// Our SafeTx hash differs from the Safe's own.
    SafeHashMismatch(SafeHashMismatch) = "safe_hash_mismatch",
    /// A SafeTx was built, awaiting signatures.
    SafeTxBuilt(SafeTxBuilt) = "safe_tx_built",
    /// The Safe's nonce moved: the SafeTx was built again.
    SafeNonceMoved(SafeTxBuilt) = "safe_nonce_moved",
    /// A SafeTx has enough signatures and is being executed.
    SafeThresholdMet(SafeThresholdMet) = "safe_threshold_met",
    /// An owner's signature of a SafeTx was accepted.
    SafeSignature(SafeSignature) = "safe_signature",
    /// A contract reads unpaused and nobody ordered it.
    UnpausedOutsidePlan(UnpausedOutsidePlan) = "unpaused_outside_plan",
    /// Paging started for a step.
    PageStarted(StepRef) = "page_started",
    /// A member was paged.
    Paged(Paged) = "paged",
    /// Nobody could be paged.
    PageUnreachable(PageUnreachable) = "page_unreachable",
    /// A member was asked for an approval or a signature.
    Asked(Asked) = "asked",
    /// A message reached its channel.
    MessageDelivered(MessageDelivered) = "message_delivered",
    /// A message's delivery failed and will be retried.
    MessageRetrying(MessageFailed) = "message_retrying",
    /// A message's delivery failed for good.
    MessageFailed(MessageFailed) = "message_failed",
    /// The incident's playbook is not in the plan.
    PlaybookMissing(PlaybookMissing) = "playbook_missing",
    /// A P1 pause path cannot sign or land.
    ReadinessProblem(ReadinessProblem) = "readiness_problem",
    /// A free-text note.
    Note(Note) = "note",
    /// The SEAL Safe Harbor terms in force when the incident opened.
    SafeHarborTerms(SafeHarborTerms) = "safe_harbor_terms",
    /// The evidence suggests an address is the attacker's.
    AttackerProposed(AttackerProposed) = "attacker_proposed",
    /// A member confirmed a proposed attacker address.
    AttackerConfirmed(AttackerDecision) = "attacker_confirmed",
    /// A member rejected a proposed attacker address.
    AttackerRejected(AttackerDecision) = "attacker_rejected",
    /// Traced funds moved out of an attacker's (or a traced) address.
    FundsMoved(FundsMoved) = "funds_moved",
    /// Funds reached the recovery address.
    FundsReturned(FundsReturned) = "funds_returned",
    /// An on-chain message to attackers was drafted for review.
    WhitehatMessageDrafted(MessageDraft) = "whitehat_message_drafted",
    /// A member approved a drafted message.
    WhitehatMessageApproved(MessageApproval) = "whitehat_message_approved",
    /// A message was sent on chain.
    WhitehatMessageSent(OnchainMessage) = "whitehat_message_sent",
    /// A message came in on chain.
    WhitehatMessageReceived(OnchainMessage) = "whitehat_message_received",
    /// A bounty payment was proposed as a SafeTx.
    BountyProposed(BountyProposed) = "bounty_proposed",
    /// A proposed bounty was paid: the Safe executed its SafeTx.
    BountyPaid(BountyPaid) = "bounty_paid",
    /// A commander let a signature over a DELEGATECALL outside the plan's
    /// allow-list go ahead, with a reason.
    DelegatecallOverride(DelegatecallOverride) = "delegatecall_override",
    /// A clock of the Safe Harbor agreement was set or ran out.
    RecoveryDeadline(RecoveryDeadline) = "recovery_deadline",
}

/// The alert that opened or joined an incident.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct AlertSeen {
    /// Monitor id.
    pub monitor: String,
    /// Its severity.
    pub severity: Severity,
    /// Block number.
    pub block_number: u64,
    /// Block hash.
    pub block_hash: String,
    /// Transaction hash, when the match is in a transaction.
    pub tx_hash: Option<String>,
    /// Log index, when the match is a log.
    pub log_index: Option<u64>,
    /// Decoded arguments and builtins, as text.
    #[serde(default)]
    pub evidence: BTreeMap<String, String>,
    /// Probe values, as text.
    #[serde(default)]
    pub probes: BTreeMap<String, String>,
    /// The alert's dedup key.
    #[serde(default)]
    pub dedup_key: String,
}

impl From<&crate::Alert> for AlertSeen {
    fn from(a: &crate::Alert) -> Self {
        Self {
            monitor: a.monitor.clone(),
            severity: a.severity,
            block_number: a.block_number,
            block_hash: a.block_hash.to_string(),
            tx_hash: a.tx_hash.map(|h| h.to_string()),
            log_index: a.log_index,
            evidence: a.evidence.clone(),
            probes: a.probes.clone(),
            dedup_key: a.dedup_key.clone(),
        }
    }
}

/// `incident_opened`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Opened {
    /// Title.
    pub title: String,
    /// Severity at opening.
    pub severity: Severity,
    /// Protocol name.
    pub protocol: String,
    /// Playbook.
    pub playbook: String,
    /// Chain id.
    pub chain_id: u64,
    /// Hash of the plan in force.
    pub plan_hash: String,
    /// Opened in a drill.
    pub drill: bool,
    /// The alert, when an alert opened it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alert: Option<AlertSeen>,
    /// Who opened it by hand, and why.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub manual: Option<ManualOpen>,
}

/// Who opened an incident by hand.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct ManualOpen {
    /// The actor, as text (`member:alice`).
    pub by: String,
    /// Why.
    pub reason: String,
}

/// `severity_raised`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct SeverityRaised {
    /// Before.
    pub from: Severity,
    /// After.
    pub to: Severity,
    /// The alert that raised it.
    pub alert: AlertSeen,
}

/// `status`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct StatusChanged {
    /// Before.
    pub from: IncidentStatus,
    /// After.
    pub to: IncidentStatus,
    /// Why.
    pub note: Option<String>,
}

/// `step`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct StepChanged {
    /// Step id.
    pub step: String,
    /// Its position in the playbook.
    pub index: u32,
    /// New state.
    pub status: StepStatus,
    /// Attempts so far.
    pub attempt: u32,
    /// What happened, in words.
    pub detail: Option<String>,
}

/// `acknowledged`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Acknowledged {
    /// Member.
    pub member: String,
    /// How (`war room`, `firebreak incident ack`, a link …).
    pub how: String,
}

/// A step named by an event (`approved`, `rejected`, `page_started`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct StepRef {
    /// Step id.
    pub step: String,
}

/// `unpause_requested`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct UnpauseRequested {
    /// Contract ids.
    pub contracts: Vec<String>,
    /// Why.
    pub reason: String,
    /// Approvals needed.
    pub quorum: u32,
    /// Roles whose approvals count.
    pub roles: Vec<Role>,
}

/// `announcement_drafted`, `announcement_approved`, `announcement_published`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct AnnouncementChanged {
    /// Announcement id.
    pub announcement: u64,
    /// The status-page status it announces.
    pub status: String,
    /// Text.
    pub message: String,
    /// Affected components.
    pub components: Vec<String>,
    /// draft, approved or published.
    pub state: String,
}

/// `action_planned`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct ActionPlanned {
    /// Action key.
    pub action: String,
    /// The pause path (`signer:guardian`, `safe:emergency`).
    pub path: String,
    /// The contract (a guardian path).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contract: Option<String>,
    /// The sender (a guardian path).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from: Option<String>,
    /// The contracts of one Safe batch.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contracts: Option<Vec<String>>,
    /// The key that submits the Safe transaction.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub relayer: Option<String>,
}

/// `path_unavailable`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct PathUnavailable {
    /// Contract.
    pub contract: String,
    /// Path.
    pub path: String,
    /// Why.
    pub reason: String,
}

/// `action_failed`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct ActionFailed {
    /// Action key.
    pub action: String,
    /// Target, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to: Option<String>,
    /// Why.
    pub reason: Option<String>,
}

/// `simulation_reverted`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct SimulationReverted {
    /// Action key.
    pub action: String,
    /// Simulated sender.
    pub from: String,
    /// Target.
    pub to: String,
    /// Decoded revert reason.
    pub reason: String,
}

/// `tx_signed`, `tx_replaced`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct TxSigned {
    /// Action key.
    pub action: String,
    /// Transaction hash.
    pub tx_hash: String,
    /// Nonce.
    pub nonce: u64,
    /// Gas limit.
    pub gas_limit: u64,
    /// Max fee per gas, wei.
    pub max_fee_per_gas: String,
    /// Max priority fee per gas, wei.
    pub max_priority_fee_per_gas: String,
    /// Attempt number, from 1.
    pub attempt: usize,
}

/// One endpoint's answer to a broadcast.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct EndpointAnswer {
    /// Endpoint label (never its URL).
    pub endpoint: String,
    /// Whether it took the transaction.
    pub accepted: bool,
    /// Why not.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// `tx_broadcast`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct TxBroadcast {
    /// Action key.
    pub action: String,
    /// Transaction hash.
    pub tx_hash: String,
    /// Endpoints that took it.
    pub accepted_by: usize,
    /// Each endpoint's answer.
    pub endpoints: Vec<EndpointAnswer>,
    /// The chain's head when sent.
    pub head: u64,
    /// A replacement sent through an impersonated sender (drills).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub replacement: Option<bool>,
}

/// `nonce_taken`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct NonceTaken {
    /// Action key.
    pub action: String,
    /// The nonce.
    pub nonce: u64,
    /// The sender.
    pub sender: String,
    /// What happens next.
    pub detail: String,
}

/// `pre_emption`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct PreEmption {
    /// The pending transaction a pre-emptive alert saw.
    pub tx_hash: String,
    /// `pre_empted` (it reverted: the pause was mined ahead of it),
    /// `landed` (it succeeded and the monitors fired on it),
    /// `unnecessary` (it never landed, or landed without raising an alert).
    pub outcome: String,
    /// Its block, when it landed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub block: Option<u64>,
    /// In words.
    pub detail: String,
}

/// `tx_mined`, `tx_reverted`: the action and its receipt.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct TxOutcome {
    /// Action key.
    pub action: String,
    /// The receipt, summarised.
    #[serde(flatten)]
    pub receipt: Receipt,
}

/// A transaction receipt, summarised (kept on the action too).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Receipt {
    /// Transaction hash.
    pub tx_hash: String,
    /// Block number.
    pub block_number: Option<u64>,
    /// Block hash.
    pub block_hash: Option<String>,
    /// Gas used.
    pub gas_used: u64,
    /// Effective gas price, wei.
    pub effective_gas_price: String,
    /// Succeeded.
    pub status: bool,
    /// Which attempt was mined, from 1.
    pub attempt: Option<usize>,
}

/// `tx_reorged`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct TxReorged {
    /// Action key.
    pub action: String,
    /// Transaction hash.
    pub tx_hash: String,
    /// The block it was in.
    pub block_number: Option<u64>,
    /// The hash of that block.
    pub block_hash: String,
    /// What happens next.
    pub detail: String,
}

/// `safe_hash_mismatch`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct SafeHashMismatch {
    /// Ours.
    pub ours: String,
    /// The Safe's `getTransactionHash`.
    pub safe: String,
}

/// `safe_tx_built`, `safe_nonce_moved`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct SafeTxBuilt {
    /// Action key.
    pub action: String,
    /// The Safe.
    pub safe: String,
    /// SafeTx hash.
    pub safe_tx_hash: String,
    /// Safe nonce.
    pub nonce: u64,
    /// Target (the contract, or MultiSend).
    pub to: String,
    /// `call` or `delegate_call`.
    pub operation: String,
    /// Calls in the batch.
    pub calls: usize,
    /// Signatures needed.
    pub threshold: u64,
}

/// `safe_threshold_met`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct SafeThresholdMet {
    /// Action key.
    pub action: String,
    /// SafeTx hash.
    pub safe_tx_hash: String,
    /// Owners whose signatures are used.
    pub signers: Vec<String>,
    /// The key that submits it.
    pub relayer: String,
}

/// `safe_signature`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct SafeSignature {
    /// SafeTx hash.
    pub safe_tx_hash: String,
    /// Owner.
    pub owner: String,
    /// Where it came from (hot key, war room, pre-signed …).
    pub source: String,
}

/// `unpaused_outside_plan`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct UnpausedOutsidePlan {
    /// The pause step.
    pub step: String,
    /// Contract id.
    pub contract: String,
    /// Its address.
    pub address: String,
    /// The block it reads unpaused at.
    pub block: u64,
    /// In words.
    pub detail: String,
}

/// `paged`: an alarm page (NOT READY, unpaused) or an escalation level's page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Paged {
    /// The alarm's key, for an alarm page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alarm: Option<String>,
    /// The paging step.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub step: Option<String>,
    /// Member.
    pub member: String,
    /// Channel.
    pub channel: String,
    /// Escalation level, from 1.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub level: Option<usize>,
    /// Repeat within the level.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub repeat: Option<u32>,
}

/// `page_unreachable`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct PageUnreachable {
    /// The alarm's key.
    pub alarm: String,
    /// Why, with how to fix it.
    pub reason: String,
}

/// What a member is asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum AskReason {
    /// A step approval.
    Approval,
    /// A Safe signature.
    Signature,
}

impl AskReason {
    /// As stored.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Approval => "approval",
            Self::Signature => "signature",
        }
    }
}

/// `asked`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Asked {
    /// Step.
    pub step: String,
    /// Member.
    pub member: String,
    /// Channel.
    pub channel: String,
    /// For what.
    pub reason: AskReason,
    /// Escalation level, from 1.
    pub level: usize,
    /// Repeat within the level.
    pub repeat: u32,
}

/// `message_delivered`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct MessageDelivered {
    /// Channel.
    pub channel: String,
    /// Idempotency key.
    pub key: String,
    /// Attempts it took.
    pub attempts: u32,
    /// The message's event (`page`, `incident_opened` …).
    pub event: Option<String>,
    /// Time from queued to delivered.
    pub queued_ms: u64,
}

/// `message_retrying`, `message_failed`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct MessageFailed {
    /// Channel.
    pub channel: String,
    /// Idempotency key.
    pub key: String,
    /// Attempts so far.
    pub attempts: u32,
    /// The last error (never a secret).
    pub error: String,
    /// The message's event.
    pub event: Option<String>,
    /// When it is tried again (none once it gave up).
    pub retry_at_ms: Option<u64>,
}

/// `playbook_missing`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct PlaybookMissing {
    /// The playbook the incident names.
    pub playbook: String,
}

/// A P1 pause path that cannot sign or land.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, JsonSchema)]
pub struct PathProblem {
    /// The contract the path pauses.
    pub contract: String,
    /// The path, as the plan names it (`signer guardian`, `safe emergency`).
    pub path: String,
    /// The signer that cannot sign (or the Safe without a submitter).
    pub signer: String,
    /// Why, with how to fix it.
    pub reason: String,
    /// P1 playbooks that pause the contract.
    pub playbooks: Vec<String>,
    /// Found on the chain while running (no gas money, a pause that now
    /// reverts, a Safe that no longer matches the plan), not in the keys.
    pub live: bool,
}

impl std::fmt::Display for PathProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "the P1 pause of `{}` through {} cannot {}: `{}`: {}",
            self.contract,
            self.path,
            if self.live { "land" } else { "sign" },
            self.signer,
            self.reason
        )
    }
}

/// `readiness_problem`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct ReadinessProblem {
    /// A digest of the problems (one entry per distinct set).
    pub digest: String,
    /// The problems.
    pub problems: Vec<PathProblem>,
}

/// `note`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Note {
    /// Text.
    pub text: String,
}

/// `safe_harbor_terms`: the SEAL Safe Harbor terms in force, as the plan
/// stated them when the incident opened.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct SafeHarborTerms {
    /// The signed agreement's URI.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agreement_uri: Option<String>,
    /// Bounty share, percent (`"10.00"`).
    pub bounty_percent: String,
    /// Cap per white hat, USD.
    pub bounty_cap_usd: u64,
    /// Cap on all bounties, USD.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub aggregate_cap_usd: Option<u64>,
    /// Whether the white hat keeps its bounty from what it rescued.
    pub retainable: bool,
    /// Identity the white hat must give (`anonymous`, `pseudonymous`, `named`).
    pub identity: String,
    /// Diligence asked of the white hat.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub diligence: Option<String>,
    /// Each chain: CAIP-2 id, recovery address, accounts in scope.
    pub chains: Vec<SafeHarborChainTerms>,
    /// Security contacts (`name: contact`).
    pub contacts: Vec<String>,
}

/// One chain of [`SafeHarborTerms`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct SafeHarborChainTerms {
    /// CAIP-2 chain id (`eip155:1`).
    pub caip2: String,
    /// Where rescued funds go.
    pub recovery: String,
    /// Accounts in scope.
    pub accounts: Vec<String>,
    /// SEAL's `childContractScope` (`none`, `existing_only`, `all`, `future_only`).
    pub child_contract_scope: String,
}

/// `attacker_proposed`: an address the incident's evidence points at.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct AttackerProposed {
    /// Chain id.
    pub chain_id: u64,
    /// The address.
    pub address: String,
    /// Why (`sender of the exploit transaction 0x…`).
    pub reason: String,
    /// The exploit transaction it came from.
    pub tx_hash: String,
}

/// `attacker_confirmed` / `attacker_rejected`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct AttackerDecision {
    /// The address.
    pub address: String,
    /// Who decided.
    pub member: String,
    /// Why, when given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// An asset moved on chain: ETH or a token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Transfer {
    /// Chain id.
    pub chain_id: u64,
    /// Block number.
    pub block: u64,
    /// Transaction hash.
    pub tx_hash: String,
    /// Log index for a token transfer; none for ETH sent as a transaction's value.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub log_index: Option<u64>,
    /// Sender.
    pub from: String,
    /// Receiver.
    pub to: String,
    /// Asset name (`ETH`, or the plan's contract key / the token's address).
    pub asset: String,
    /// Token contract; none for ETH.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token: Option<String>,
    /// Amount in base units (decimal).
    pub amount: String,
    /// The asset's decimals.
    pub decimals: u8,
    /// USD value in micro-dollars at the block before, when priced.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value_micro_usd: Option<String>,
}

/// `funds_moved`: traced funds moved.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct FundsMoved {
    /// The transfer.
    #[serde(flatten)]
    pub transfer: Transfer,
    /// Hops from a confirmed attacker (1: sent by the attacker itself).
    pub hop: u32,
    /// The receiver's label, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
    /// The receiver's kind (`bridge`, `mixer`, `exchange` …), when labelled.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
}

/// `funds_returned`: funds reached the recovery address.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct FundsReturned {
    /// The transfer (`from` is the white hat).
    #[serde(flatten)]
    pub transfer: Transfer,
    /// Micro-USD per whole unit, at `priced_at`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub price_micro_usd: Option<String>,
    /// The block the price was read at (the one before the return).
    pub priced_at: u64,
}

/// `whitehat_message_drafted`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct MessageDraft {
    /// Draft number within the incident (1, 2 …).
    pub draft: u32,
    /// The exact text to send.
    pub text: String,
    /// Recipients.
    pub to: Vec<String>,
    /// Chain id.
    pub chain_id: u64,
    /// Signer id that sends it.
    pub signer: String,
    /// Roles that must each approve.
    pub approvers: Vec<Role>,
    /// Who drafted it.
    pub member: String,
}

/// `whitehat_message_approved`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct MessageApproval {
    /// The draft.
    pub draft: u32,
    /// Who approved.
    pub member: String,
    /// In which role.
    pub role: Role,
}

/// `whitehat_message_sent` / `whitehat_message_received`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct OnchainMessage {
    /// Chain id.
    pub chain_id: u64,
    /// Sender.
    pub from: String,
    /// Receiver.
    pub to: String,
    /// Transaction hash.
    pub tx_hash: String,
    /// Block, once mined.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub block: Option<u64>,
    /// The text (the transaction's input, as UTF-8).
    pub text: String,
    /// The draft it was sent from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub draft: Option<u32>,
}

/// `bounty_proposed`: a bounty payment as a SafeTx awaiting the owners.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct BountyProposed {
    /// The white hat paid.
    pub whitehat: String,
    /// The bounty, micro-USD.
    pub bounty_micro_usd: String,
    /// Token paid in.
    pub token: String,
    /// Amount in the token's base units.
    pub amount: String,
    /// The paying Safe.
    pub safe: String,
    /// Its nonce.
    pub nonce: u64,
    /// The SafeTx hash the owners sign (equal to the Safe's own).
    pub safe_tx_hash: String,
    /// Chain id.
    pub chain_id: u64,
}

/// `bounty_paid`: the Safe executed a proposed bounty.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct BountyPaid {
    /// The white hat paid.
    pub whitehat: String,
    /// The SafeTx executed.
    pub safe_tx_hash: String,
    /// The `execTransaction` transaction.
    pub tx_hash: String,
    /// Its block.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub block: Option<u64>,
    /// Amount in the token's base units.
    pub amount: String,
    /// Token paid in.
    pub token: String,
}

/// `delegatecall_override`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct DelegatecallOverride {
    /// The SafeTx signed.
    pub safe_tx_hash: String,
    /// The delegate-call targets outside the allow-list.
    pub targets: Vec<String>,
    /// The commander.
    pub member: String,
    /// Why.
    pub reason: String,
}

/// `recovery_deadline`: one of the agreement's clocks.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct RecoveryDeadline {
    /// Which (`return`, `return_retrospective`, `bounty_payment`, `dispute`).
    pub clock: String,
    /// When it runs out, Unix ms.
    pub due_ms: u64,
    /// `set`, `reminder` or `passed`.
    pub state: String,
    /// What it means, in words.
    pub detail: String,
}

/// A body that does not serialise (never happens for the types above).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("cannot encode a `{kind}` timeline event: {reason}")]
pub struct EncodeError {
    /// Kind.
    pub kind: String,
    /// Why.
    pub reason: String,
}

impl Event {
    /// The alert this entry records: the one that opened the incident,
    /// joined it, or raised its severity.
    pub fn alert(&self) -> Option<&AlertSeen> {
        match self {
            Self::Alert(a) => Some(a),
            Self::IncidentOpened(o) => o.alert.as_ref(),
            Self::SeverityRaised(r) => Some(&r.alert),
            _ => None,
        }
    }

    /// The kind and the JSON body to store.
    pub fn to_stored(&self) -> Result<(String, serde_json::Value), EncodeError> {
        let fail = |reason: String| EncodeError { kind: self.kind().to_owned(), reason };
        if let Self::Unrecognised { .. } = self {
            return Err(fail("an unrecognised entry is never written again".into()));
        }
        let mut v = serde_json::to_value(self).map_err(|e| fail(e.to_string()))?;
        let body = v.get_mut("body").map(serde_json::Value::take);
        Ok((self.kind().to_owned(), body.unwrap_or(serde_json::Value::Null)))
    }

    /// Reads a stored kind and body; never fails (see [`Event::Unrecognised`]).
    pub fn from_stored(kind: &str, body: &serde_json::Value) -> Self {
        let doc = serde_json::json!({"kind": kind, "body": body});
        serde_json::from_value(doc)
            .unwrap_or_else(|e| Self::Unrecognised { kind: kind.to_owned(), error: e.to_string() })
    }

    /// One line on what the event says. `actor` is who recorded it, as
    /// text; `body` is the stored JSON, shown for an unrecognised entry.
    pub fn describe(&self, body: &serde_json::Value) -> String {
        match self {
            Self::IncidentOpened(o) => match (&o.manual, &o.alert) {
                (Some(m), _) => {
                    format!("[{}] {} — opened by {}: {}", o.severity, o.title, m.by, m.reason)
                }
                (None, a) => format!(
                    "[{}] {} — `{}` at block {}",
                    o.severity,
                    o.title,
                    a.as_ref().map_or("", |a| a.monitor.as_str()),
                    a.as_ref().map_or(0, |a| a.block_number)
                ),
            },
            Self::UnpauseRequested(u) => format!(
                "unpause of {} requested (needs {} approval(s))",
                u.contracts.join(", "),
                u.quorum
            ),
            Self::AnnouncementDrafted(a)
            | Self::AnnouncementApproved(a)
            | Self::AnnouncementPublished(a) => {
                format!("announcement {} ({}): {}", a.announcement, a.status, a.message)
            }
            Self::Alert(a) => format!("`{}` fired at block {}", a.monitor, a.block_number),
            Self::ReadinessProblem(r) => {
                let lines: Vec<String> = r
                    .problems
                    .iter()
                    .map(|p| {
                        format!(
                            "`{}` through {}: `{}` cannot {}",
                            p.contract,
                            p.path,
                            p.signer,
                            if p.live { format!("land: {}", p.reason) } else { "sign".to_owned() }
                        )
                    })
                    .collect();
                format!("NOT READY: {}", lines.join("; "))
            }
            Self::SeverityRaised(s) => format!("{} → {}", s.from, s.to),
            Self::Status(s) => format!(
                "{} → {}{}",
                s.from,
                s.to,
                s.note.as_ref().map(|n| format!(" ({n})")).unwrap_or_default()
            ),
            Self::Step(s) => format!(
                "`{}` {}{}",
                s.step,
                s.status,
                s.detail.as_ref().map(|d| format!(" — {d}")).unwrap_or_default()
            ),
            Self::ActionPlanned(a) => format!("{} via {}", a.action, a.path),
            Self::SimulationReverted(s) => {
                format!("simulation from {} reverted: {}", s.from, s.reason)
            }
            Self::TxSigned(t) | Self::TxReplaced(t) => {
                format!("{} nonce {} tip {} wei", t.tx_hash, t.nonce, t.max_priority_fee_per_gas)
            }
            Self::TxBroadcast(t) => format!(
                "{} accepted by {} endpoint(s) at head {}",
                t.tx_hash, t.accepted_by, t.head
            ),
            Self::TxMined(t) => {
                format!("{} mined in block {}", t.receipt.tx_hash, number(t.receipt.block_number))
            }
            Self::TxReverted(t) => {
                format!(
                    "{} REVERTED in block {}",
                    t.receipt.tx_hash,
                    number(t.receipt.block_number)
                )
            }
            Self::NonceTaken(n) => n.detail.clone(),
            Self::PreEmption(p) => p.detail.clone(),
            Self::PathUnavailable(p) => p.reason.clone(),
            Self::SafeTxBuilt(s) | Self::SafeNonceMoved(s) => {
                format!("SafeTx {} at nonce {}", s.safe_tx_hash, s.nonce)
            }
            Self::SafeSignature(s) => {
                format!("{} signed {} ({})", s.owner, s.safe_tx_hash, s.source)
            }
            Self::SafeThresholdMet(s) => {
                format!("{} signatures; relayer {}", s.signers.len(), s.relayer)
            }
            Self::Approved(s) | Self::Rejected(s) => format!("step `{}`", s.step),
            Self::Asked(a) => format!(
                "asked {} on `{}` for {} (step `{}`)",
                a.member,
                a.channel,
                match a.reason {
                    AskReason::Signature => "a Safe signature",
                    AskReason::Approval => "an approval",
                },
                a.step
            ),
            Self::MessageRetrying(m) => format!(
                "{} on channel `{}` failed (attempt {}), retrying: {}",
                m.event.as_deref().unwrap_or("message"),
                m.channel,
                m.attempts,
                m.error
            ),
            Self::MessageFailed(m) => format!(
                "{} on channel `{}` FAILED after {} attempt(s): {}",
                m.event.as_deref().unwrap_or("message"),
                m.channel,
                m.attempts,
                m.error
            ),
            Self::PageUnreachable(p) => format!("NOBODY PAGED: {}", p.reason),
            Self::TxReorged(t) => format!(
                "{} was in block {}, which a reorg replaced: {}",
                t.tx_hash,
                number(t.block_number),
                t.detail
            ),
            Self::UnpausedOutsidePlan(u) => format!(
                "`{}` reads unpaused at block {} and no unpause was ordered",
                u.contract, u.block
            ),
            Self::Acknowledged(a) => format!("by {} ({})", a.member, a.how),
            Self::ActionFailed(a) => format!(
                "{} failed: {}",
                a.action,
                a.reason.as_deref().unwrap_or("no reason recorded")
            ),
            Self::SafeHashMismatch(s) => {
                format!("our SafeTx hash {} differs from the Safe's {}", s.ours, s.safe)
            }
            Self::PageStarted(s) => format!("paging for step `{}`", s.step),
            Self::Paged(p) => match (&p.alarm, p.level) {
                (Some(alarm), _) => format!("{} on `{}` about {alarm}", p.member, p.channel),
                (None, Some(level)) => {
                    format!("{} on `{}` (level {level})", p.member, p.channel)
                }
                (None, None) => format!("{} on `{}`", p.member, p.channel),
            },
            Self::MessageDelivered(m) => format!(
                "{} on `{}` after {} attempt(s), {} ms after it was queued",
                m.event.as_deref().unwrap_or("message"),
                m.channel,
                m.attempts,
                m.queued_ms
            ),
            Self::PlaybookMissing(p) => {
                format!("playbook `{}` is not in the plan: nothing runs", p.playbook)
            }
            Self::Note(n) => n.text.clone(),
            Self::SafeHarborTerms(t) => format!(
                "Safe Harbor terms in force: {} % bounty, capped at {} USD per white hat{}, {}; recovery {}",
                t.bounty_percent,
                t.bounty_cap_usd,
                t.aggregate_cap_usd.map(|a| format!(" and {a} USD in all")).unwrap_or_default(),
                if t.retainable { "retainable" } else { "paid after the return" },
                t.chains
                    .iter()
                    .map(|c| format!("{} {}", c.caip2, c.recovery))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            Self::AttackerProposed(a) => {
                format!("attacker address proposed: {} ({})", a.address, a.reason)
            }
            Self::AttackerConfirmed(a) => format!(
                "attacker address {} confirmed by {}{}",
                a.address,
                a.member,
                a.note.as_ref().map(|n| format!(": {n}")).unwrap_or_default()
            ),
            Self::AttackerRejected(a) => format!(
                "attacker address {} rejected by {}{}",
                a.address,
                a.member,
                a.note.as_ref().map(|n| format!(": {n}")).unwrap_or_default()
            ),
            Self::FundsMoved(m) => format!(
                "traced funds moved (hop {}): {} {} from {} to {}{} in block {}",
                m.hop,
                m.transfer.amount,
                m.transfer.asset,
                m.transfer.from,
                m.transfer.to,
                match (&m.label, &m.kind) {
                    (Some(l), Some(k)) => format!(" ({l}, {k})"),
                    (Some(l), None) => format!(" ({l})"),
                    _ => String::new(),
                },
                m.transfer.block
            ),
            Self::FundsReturned(r) => format!(
                "returned to the recovery address: {} {} from {} in block {}",
                r.transfer.amount, r.transfer.asset, r.transfer.from, r.transfer.block
            ),
            Self::WhitehatMessageDrafted(d) => format!(
                "message #{} to {} drafted by {}, awaiting {}",
                d.draft,
                d.to.join(", "),
                d.member,
                d.approvers.iter().map(|r| r.as_str()).collect::<Vec<_>>().join(" and ")
            ),
            Self::WhitehatMessageApproved(a) => {
                format!("message #{} approved by {} ({})", a.draft, a.member, a.role.as_str())
            }
            Self::WhitehatMessageSent(m) => {
                format!("message sent on chain to {} in {}: {}", m.to, m.tx_hash, m.text)
            }
            Self::WhitehatMessageReceived(m) => {
                format!("message on chain from {} to {} in {}: {}", m.from, m.to, m.tx_hash, m.text)
            }
            Self::BountyProposed(b) => format!(
                "bounty for {} proposed from Safe {}: {} base units of {} (SafeTx {})",
                b.whitehat, b.safe, b.amount, b.token, b.safe_tx_hash
            ),
            Self::BountyPaid(b) => format!(
                "bounty paid to {}: {} base units of {} (SafeTx {} executed in {})",
                b.whitehat, b.amount, b.token, b.safe_tx_hash, b.tx_hash
            ),
            Self::RecoveryDeadline(d) => format!("{} ({}): {}", d.clock, d.state, d.detail),
            Self::DelegatecallOverride(o) => format!(
                "{} let a signature over SafeTx {} DELEGATECALL {} (outside the plan's allow-list): {}",
                o.member,
                o.safe_tx_hash,
                o.targets.join(", "),
                o.reason
            ),
            Self::Unrecognised { .. } => {
                let text = body.to_string();
                if text.chars().count() > 120 {
                    format!("{}…", text.chars().take(117).collect::<String>())
                } else {
                    text
                }
            }
        }
    }

    /// How the event shows on the visual timeline: a label and a colour,
    /// or `None` for events that are not milestones. `who` is the actor's
    /// name.
    pub fn milestone(&self, who: &str) -> Option<(String, &'static str)> {
        const RED: &str = "#c92a2a";
        Some(match self {
            Self::IncidentOpened(_) => ("detected".into(), RED),
            Self::Paged(_) => ("paged".into(), "#f08c00"),
            Self::Acknowledged(a) => (format!("acknowledged by {}", a.member), "#1971c2"),
            Self::Approved(_) => (format!("approved by {who}"), "#7048e8"),
            Self::Rejected(_) => (format!("rejected by {who}"), "#e64980"),
            Self::TxBroadcast(_) => ("pause sent".into(), "#f59f00"),
            Self::TxMined(_) => ("pause mined".into(), "#2b8a3e"),
            Self::TxReverted(_) => ("pause REVERTED".into(), RED),
            Self::TxReorged(_) => ("pause undone by a reorg".into(), RED),
            Self::UnpausedOutsidePlan(_) => ("unpaused outside the plan".into(), RED),
            Self::ReadinessProblem(_) => ("NOT READY".into(), RED),
            Self::PageUnreachable(_) => ("nobody could be paged".into(), RED),
            Self::MessageFailed(m) => (format!("{} not delivered", m.channel), RED),
            Self::SafeSignature(_) => (format!("signature by {who}"), "#5c940d"),
            Self::AnnouncementPublished(_) => ("announcement published".into(), "#0b7285"),
            Self::UnpauseRequested(_) => (format!("unpause requested by {who}"), "#868e96"),
            Self::Status(s) if s.to == IncidentStatus::Contained => ("contained".into(), "#2b8a3e"),
            Self::Status(s) if s.to == IncidentStatus::Resolved => ("resolved".into(), "#495057"),
            Self::Alert(_)
            | Self::SeverityRaised(_)
            | Self::Status(_)
            | Self::Step(_)
            | Self::AnnouncementDrafted(_)
            | Self::AnnouncementApproved(_)
            | Self::ActionPlanned(_)
            | Self::PathUnavailable(_)
            | Self::ActionFailed(_)
            | Self::SimulationReverted(_)
            | Self::TxSigned(_)
            | Self::TxReplaced(_)
            | Self::NonceTaken(_)
            | Self::PreEmption(_)
            | Self::SafeHashMismatch(_)
            | Self::SafeTxBuilt(_)
            | Self::SafeNonceMoved(_)
            | Self::SafeThresholdMet(_)
            | Self::PageStarted(_)
            | Self::Asked(_)
            | Self::MessageDelivered(_)
            | Self::MessageRetrying(_)
            | Self::PlaybookMissing(_)
            | Self::Note(_)
            | Self::SafeHarborTerms(_)
            | Self::AttackerProposed(_)
            | Self::AttackerRejected(_)
            | Self::WhitehatMessageDrafted(_)
            | Self::WhitehatMessageApproved(_)
            | Self::RecoveryDeadline(_)
            | Self::Unrecognised { .. } => return None,
            Self::AttackerConfirmed(_) => ("attacker confirmed".into(), "#862e9c"),
            Self::FundsMoved(m)
                if m.kind.as_deref().is_some_and(|k| {
                    matches!(k, "bridge" | "mixer" | "exchange" | "sanctioned")
                }) =>
            {
                (format!("funds reached a {}", m.kind.as_deref().unwrap_or("?")), RED)
            }
            Self::FundsMoved(_) => return None,
            Self::FundsReturned(_) => ("funds returned".into(), "#2b8a3e"),
            Self::WhitehatMessageSent(_) => ("message sent on chain".into(), "#862e9c"),
            Self::WhitehatMessageReceived(_) => ("message received on chain".into(), "#862e9c"),
            Self::BountyProposed(_) => ("bounty proposed".into(), "#0c8599"),
            Self::BountyPaid(_) => ("bounty paid".into(), "#2b8a3e"),
            Self::DelegatecallOverride(_) => ("DELEGATECALL override".into(), RED),
        })
    }
}

/// The lanes of the visual timeline, top to bottom.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Lane {
    /// Alerts and the incident's opening.
    Detected,
    /// Steps and their approvals.
    Steps,
    /// Transactions.
    Transactions,
    /// Safe transactions and signatures.
    Safe,
    /// Mined pauses, containment and status.
    Contained,
    /// Pages, acknowledgements, messages and announcements.
    People,
}

impl Lane {
    /// Every lane, top to bottom.
    pub const ALL: [Self; 6] = [
        Self::Detected,
        Self::Steps,
        Self::Transactions,
        Self::Safe,
        Self::Contained,
        Self::People,
    ];

    /// Name and colour.
    pub const fn label(self) -> (&'static str, &'static str) {
        match self {
            Self::Detected => ("detected", "#d9480f"),
            Self::Steps => ("steps", "#5f3dc4"),
            Self::Transactions => ("transactions", "#1971c2"),
            Self::Safe => ("Safe", "#0c8599"),
            Self::Contained => ("contained", "#2b8a3e"),
            Self::People => ("people", "#e8590c"),
        }
    }
}

impl Event {
    /// The lane the event is drawn in (`None`: not drawn).
    pub const fn lane(&self) -> Option<Lane> {
        Some(match self {
            Self::IncidentOpened(_) | Self::Alert(_) | Self::SeverityRaised(_) => Lane::Detected,
            Self::Step(_) | Self::Approved(_) | Self::Rejected(_) | Self::PlaybookMissing(_) => {
                Lane::Steps
            }
            Self::ActionPlanned(_)
            | Self::PathUnavailable(_)
            | Self::ActionFailed(_)
            | Self::SimulationReverted(_)
            | Self::TxSigned(_)
            | Self::TxReplaced(_)
            | Self::TxBroadcast(_)
            | Self::NonceTaken(_) => Lane::Transactions,
            Self::PreEmption(_) => Lane::Contained,
            Self::SafeHashMismatch(_)
            | Self::SafeTxBuilt(_)
            | Self::SafeNonceMoved(_)
            | Self::SafeThresholdMet(_)
            | Self::SafeSignature(_)
            | Self::DelegatecallOverride(_) => Lane::Safe,
            Self::TxMined(_)
            | Self::TxReverted(_)
            | Self::TxReorged(_)
            | Self::Status(_)
            | Self::UnpausedOutsidePlan(_)
            | Self::ReadinessProblem(_) => Lane::Contained,
            Self::Acknowledged(_)
            | Self::UnpauseRequested(_)
            | Self::AnnouncementDrafted(_)
            | Self::AnnouncementApproved(_)
            | Self::AnnouncementPublished(_)
            | Self::PageStarted(_)
            | Self::Paged(_)
            | Self::PageUnreachable(_)
            | Self::Asked(_)
            | Self::MessageDelivered(_)
            | Self::MessageRetrying(_)
            | Self::MessageFailed(_)
            | Self::Note(_)
            | Self::SafeHarborTerms(_)
            | Self::AttackerProposed(_)
            | Self::AttackerConfirmed(_)
            | Self::AttackerRejected(_)
            | Self::FundsMoved(_)
            | Self::FundsReturned(_)
            | Self::WhitehatMessageDrafted(_)
            | Self::WhitehatMessageApproved(_)
            | Self::WhitehatMessageSent(_)
            | Self::WhitehatMessageReceived(_)
            | Self::BountyProposed(_)
            | Self::BountyPaid(_)
            | Self::RecoveryDeadline(_) => Lane::People,
            Self::Unrecognised { .. } => return None,
        })
    }
}

fn number(n: Option<u64>) -> String {
    n.map_or_else(|| "?".to_owned(), |n| n.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stored_body_reads_back_as_its_kind_and_writes_the_same_json() {
        let body = serde_json::json!({
            "step": "pause", "index": 1, "status": "succeeded", "attempt": 1,
            "detail": "paused in block 14",
        });
        let e = Event::from_stored("step", &body);
        assert!(matches!(&e, Event::Step(s) if s.status == StepStatus::Succeeded));
        assert_eq!(e.to_stored().unwrap(), ("step".to_owned(), body));
    }

    #[test]
    fn an_unknown_kind_or_a_body_of_another_shape_is_unrecognised_not_an_error() {
        let e = Event::from_stored("from_the_future", &serde_json::json!({"x": 1}));
        assert_eq!(e.kind(), "from_the_future");
        assert!(matches!(e, Event::Unrecognised { .. }));
        assert_eq!(e.describe(&serde_json::json!({"x": 1})), r#"{"x":1}"#);
        assert!(e.to_stored().is_err());
        let bad = Event::from_stored("step", &serde_json::json!({"step": 3}));
        assert!(matches!(bad, Event::Unrecognised { .. }));
    }

    #[test]
    fn every_kind_is_listed_once() {
        let mut kinds = Event::KINDS.to_vec();
        kinds.sort_unstable();
        kinds.dedup();
        assert_eq!(kinds.len(), Event::KINDS.len());
    }
}
