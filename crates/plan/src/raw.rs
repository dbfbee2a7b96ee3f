//! The plan file as written: serde structs that mirror the TOML, with every
//! field optional where the format allows it. Nothing here is validated; see
//! `validate` for the checks that turn a [`RawPlan`] into a [`crate::Plan`].

use std::{collections::BTreeMap, path::PathBuf};

use firebreak_primitives::{Role, Severity};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::secret::SecretRef;

/// A whole plan file, version 1.
#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(title = "firebreak emergency response plan")]
pub struct RawPlan {
    /// Format version. Must be `1`.
    pub version: u32,
    /// `production` (default) or `drill`. Only drill plans may use anvil dev keys.
    #[serde(default)]
    pub mode: PlanMode,
    /// The protocol this plan protects.
    pub protocol: RawProtocol,
    /// Chains, by id used in the rest of the plan (e.g. `mainnet`).
    #[serde(default)]
    pub chains: BTreeMap<String, RawChain>,
    /// Watched and controlled contracts, by id.
    #[serde(default)]
    pub contracts: BTreeMap<String, RawContract>,
    /// Keys the daemon may sign with, as references only.
    #[serde(default)]
    pub signers: BTreeMap<String, RawSigner>,
    /// Safe multisigs, by id.
    #[serde(default)]
    pub safes: BTreeMap<String, RawSafe>,
    /// Team members, by handle.
    #[serde(default)]
    pub team: BTreeMap<String, RawMember>,
    /// Where messages go, by id.
    #[serde(default)]
    pub channels: BTreeMap<String, RawChannel>,
    /// On-call rotation and escalation.
    #[serde(default)]
    pub oncall: Option<RawOncall>,
    /// Named address lists for rules (`tx.from in attackers`).
    #[serde(default)]
    pub lists: BTreeMap<String, Vec<String>>,
    /// Detection rules, by id.
    #[serde(default)]
    pub monitors: BTreeMap<String, RawMonitor>,
    /// What happens when a monitor fires, by name.
    #[serde(default)]
    pub playbooks: BTreeMap<String, RawPlaybook>,
    /// SEAL Safe Harbor (v3) bounty terms offered to white hats.
    #[serde(default)]
    pub safe_harbor: Option<RawSafeHarbor>,
    /// Fund recovery: tracing, prices, labels, messages to attackers and
    /// bounty payments.
    #[serde(default)]
    pub recovery: Option<RawRecovery>,
    /// The public status page.
    #[serde(default)]
    pub status_page: Option<RawStatusPage>,
    /// Who may act from the war room (dashboard and API), and how many.
    #[serde(default)]
    pub war_room: Option<RawWarRoom>,
    /// The dead-man's switch: an outside service told, every interval, that
    /// firebreak is up and able to act, so that it pages when firebreak
    /// goes silent.
    #[serde(default)]
    pub heartbeat: Option<RawHeartbeat>,
}

/// `[war_room]`: the quorums that gate actions taken from the dashboard and
/// the API. Unpausing needs a higher quorum than pausing.
#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawWarRoom {
    /// "Pause now": starting a playbook by hand. Default: 2 of the
    /// commanders and operators (1 when only one member holds those roles).
    #[serde(default)]
    pub pause: Option<RawApproval>,
    /// Unpausing a contract. Default: one more than `pause`.
    #[serde(default)]
    pub unpause: Option<RawApproval>,
    /// Approving a status-page announcement. Default: 1 of the commanders
    /// and comms.
    #[serde(default)]
    pub announce: Option<RawApproval>,
}

/// Whether a plan describes production or an exercise.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum PlanMode {
    /// The real protocol. Anvil dev keys are refused.
    #[default]
    Production,
    /// A drill or demo on a local or forked chain.
    Drill,
}

/// `[protocol]`
#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawProtocol {
    /// Display name.
    pub name: String,
    /// One or two sentences on what the protocol does.
    #[serde(default)]
    pub description: Option<String>,
    /// Named links (website, docs, audits, github …).
    #[serde(default)]
    pub links: BTreeMap<String, String>,
}

/// `[chains.ID]`
#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawChain {
    /// EIP-155 chain id.
    pub id: u64,
    /// Display name.
    #[serde(default)]
    pub name: Option<String>,
    /// RPC endpoints in priority order: `ws(s)://` or `http(s)://` URLs, or
    /// secret references for URLs that embed an API key.
    pub rpc: Vec<RawEndpoint>,
    /// Block explorer link templates.
    #[serde(default)]
    pub explorer: Option<RawExplorer>,
    /// Blocks a firebreak transaction needs on the canonical chain (its own
    /// block included) before it counts as final: an incident is
    /// `contained` only once every pause is this deep (default 2, 1 to 64).
    #[serde(default)]
    pub confirmations: Option<u64>,
    /// Whether pending transactions are visible before they are mined:
    /// `"public"` (a public mempool the endpoints serve; `pre_empt`
    /// monitors simulate what waits there) or `"none"` (the default: a
    /// rollup sequencer, or private order flow only).
    #[serde(default)]
    pub mempool: Option<crate::model::Mempool>,
    /// Block builders that accept `eth_sendBundle`: a pre-emptive pause is
    /// also sent to each as a bundle [pause, attack allowed to revert]. A
    /// URL, or a secret reference for one that embeds a key.
    #[serde(default)]
    pub builders: Vec<RawEndpoint>,
}

/// An RPC endpoint: a URL, or a reference to a secret holding the URL.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(untagged)]
pub enum RawEndpoint {
    /// A plain URL.
    Url(String),
    /// A URL kept out of the plan because it embeds an API key.
    Secret(SecretRef),
}

/// `[chains.ID.explorer]`: link templates with `{hash}`, `{address}`, `{number}`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawExplorer {
    /// Transaction link, containing `{hash}`.
    pub tx: String,
    /// Address link, containing `{address}`.
    pub address: String,
    /// Block link, containing `{number}`.
    #[serde(default)]
    pub block: Option<String>,
}

/// `[contracts.ID]`
#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawContract {
    /// Chain id (a key of `[chains]`).
    pub chain: String,
    /// Contract address (EIP-55 checksummed or all lower case).
    pub address: String,
    /// Where the ABI comes from.
    pub abi: RawAbiSource,
    /// What this contract is.
    #[serde(default)]
    pub description: Option<String>,
    /// Declares that the contract can be paused; then a `pause` path is required.
    #[serde(default)]
    pub pausable: Option<bool>,
    /// How to pause it.
    #[serde(default)]
    pub pause: Option<RawControlPath>,
    /// How to unpause it.
    #[serde(default)]
    pub unpause: Option<RawControlPath>,
}

/// Exactly one of `file`, `artifact` or `signatures`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawAbiSource {
    /// A JSON ABI file (an array of ABI items), relative to the plan.
    #[serde(default)]
    pub file: Option<PathBuf>,
    /// A Foundry artifact such as `out/Vault.sol/Vault.json`, relative to the plan.
    #[serde(default)]
    pub artifact: Option<PathBuf>,
    /// Human-readable signatures, e.g. `"function pause()"`, `"event Paused(address account)"`.
    #[serde(default)]
    pub signatures: Option<Vec<String>>,
}

/// A method and the authorities allowed to call it, tried in order.
#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawControlPath {
    /// Function name, or a full signature such as `pause(uint256)` to pick an overload.
    pub method: String,
    /// Arguments, one per parameter.
    #[serde(default)]
    pub args: Vec<serde_json::Value>,
    /// Who sends it, in order of preference.
    pub via: Vec<RawAuthority>,
}

/// `{ signer = "ID" }` or `{ safe = "ID" }`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawAuthority {
    /// A key of `[signers]` (a guardian EOA).
    #[serde(default)]
    pub signer: Option<String>,
    /// A key of `[safes]`.
    #[serde(default)]
    pub safe: Option<String>,
}

/// `[signers.ID]`: exactly one key source, never the key itself.
#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawSigner {
    /// Environment variable holding the hex private key.
    #[serde(default)]
    pub env: Option<String>,
    /// Encrypted JSON keystore file (relative to the plan).
    #[serde(default)]
    pub keystore: Option<PathBuf>,
    /// Password of the keystore.
    #[serde(default)]
    pub password: Option<SecretRef>,
    /// Index of an anvil dev account (0-9); only in `mode = "drill"` plans.
    #[serde(default)]
    pub anvil_account: Option<u32>,
    /// Expected address of the key, checked when the key is loaded.
    #[serde(default)]
    pub address: Option<String>,
    /// What this key is for.
    #[serde(default)]
    pub description: Option<String>,
    /// Never valid: present so that a pasted key gets a clear error.
    #[serde(default, skip_serializing)]
    #[schemars(skip)]
    pub private_key: Option<serde_json::Value>,
    /// Never valid: present so that a pasted key gets a clear error.
    #[serde(default, skip_serializing)]
    #[schemars(skip)]
    pub key: Option<serde_json::Value>,
}

/// `[safes.ID]`
#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawSafe {
    /// Chain id (a key of `[chains]`).
    pub chain: String,
    /// Safe proxy address.
    pub address: String,
    /// Owner addresses, as on chain.
    pub owners: Vec<String>,
    /// Signatures required.
    pub threshold: u32,
    /// Signers (keys of `[signers]`) the daemon holds that are owners of this Safe.
    #[serde(default)]
    pub hot_signers: Vec<String>,
    /// Signer that pays gas to submit `execTransaction`.
    #[serde(default)]
    pub relayer: Option<String>,
    /// MultiSendCallOnly contract used to batch several pauses into one Safe
    /// transaction (default: the canonical v1.4.1 deployment).
    #[serde(default)]
    pub multisend: Option<String>,
    /// Contracts this Safe may DELEGATECALL besides `multisend`: a signature
    /// over a delegate call to any other target is refused unless a
    /// commander overrides it with a reason.
    #[serde(default)]
    pub delegatecall_allow: Vec<String>,
    /// Addresses ready to replace a compromised owner (kept cold, not owners
    /// today): `verify` warns when a Safe has none.
    #[serde(default)]
    pub standby_owners: Vec<String>,
}

/// `[team.HANDLE]`
#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawMember {
    /// Full name.
    pub name: String,
    /// Roles held during incidents.
    #[serde(default)]
    pub roles: Vec<Role>,
    /// IANA time zone, e.g. `Europe/Berlin`.
    pub timezone: String,
    /// Contact per channel id: a Slack member id, an e-mail address, a Telegram chat …
    #[serde(default)]
    pub contacts: BTreeMap<String, String>,
    /// Address this member signs Safe transactions with.
    #[serde(default)]
    pub safe_owner: Option<String>,
}

/// The kinds of channel firebreak speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ChannelKind {
    /// Slack incoming webhook (Block Kit).
    Slack,
    /// Discord webhook (embeds).
    Discord,
    /// Telegram Bot API `sendMessage`.
    Telegram,
    /// E-mail over SMTP.
    Email,
    /// PagerDuty Events API v2.
    Pagerduty,
    /// Signed JSON webhook.
    Webhook,
    /// A local program reading the event JSON on stdin.
    Command,
}

impl ChannelKind {
    /// The name used in plan files.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Slack => "slack",
            Self::Discord => "discord",
            Self::Telegram => "telegram",
            Self::Email => "email",
            Self::Pagerduty => "pagerduty",
            Self::Webhook => "webhook",
            Self::Command => "command",
        }
    }
}

/// SMTP transport security.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum SmtpTls {
    /// Plain connection upgraded with STARTTLS (port 587).
    #[default]
    Starttls,
    /// TLS from the first byte (port 465).
    Implicit,
    /// No TLS; only for a loopback relay.
    None,
}

/// `[channels.ID]`: which fields apply depends on `kind`.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawChannel {
    /// Service kind.
    pub kind: ChannelKind,
    /// Slack / Discord webhook URL (secret).
    #[serde(default)]
    pub webhook_url: Option<SecretRef>,
    /// Telegram bot token (secret).
    #[serde(default)]
    pub bot_token: Option<SecretRef>,
    /// Telegram chat id.
    #[serde(default)]
    pub chat_id: Option<String>,
    /// PagerDuty integration (routing) key (secret).
    #[serde(default)]
    pub routing_key: Option<SecretRef>,
    /// Signing secret of the PagerDuty V3 webhook subscription pointed at
    /// the daemon's `/hooks/pagerduty` (secret): acknowledging in PagerDuty
    /// then acknowledges the incident here.
    #[serde(default)]
    pub webhook_secret: Option<SecretRef>,
    /// Webhook target URL.
    #[serde(default)]
    pub url: Option<String>,
    /// Webhook HMAC signing secret.
    #[serde(default)]
    pub signing_secret: Option<SecretRef>,
    /// SMTP server host.
    #[serde(default)]
    pub smtp_host: Option<String>,
    /// SMTP server port.
    #[serde(default)]
    pub smtp_port: Option<u16>,
    /// SMTP transport security.
    #[serde(default)]
    pub tls: Option<SmtpTls>,
    /// SMTP user name.
    #[serde(default)]
    pub username: Option<String>,
    /// SMTP password (secret).
    #[serde(default)]
    pub password: Option<SecretRef>,
    /// Sender address.
    #[serde(default)]
    pub from: Option<String>,
    /// Recipient addresses for broadcast messages.
    #[serde(default)]
    pub to: Option<Vec<String>>,
    /// Program to run for `command` channels.
    #[serde(default)]
    pub program: Option<String>,
    /// Program arguments.
    #[serde(default)]
    pub args: Option<Vec<String>>,
    /// Time limit for one delivery, e.g. `10s`.
    #[serde(default)]
    pub timeout: Option<String>,
    /// Service base URL override (tests and self-hosted gateways).
    #[serde(default)]
    pub base_url: Option<String>,
    /// Only used during drills.
    #[serde(default)]
    pub drill: Option<bool>,
    /// Receives readiness problems (a P1 pause path that cannot sign or
    /// land), besides the on-call's pages.
    #[serde(default)]
    pub readiness: Option<bool>,
}

/// `[oncall]`
#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawOncall {
    /// Members on call, in rotation order.
    pub rotation: Vec<String>,
    /// Length of one shift, e.g. `7d`.
    pub shift: String,
    /// Local hand-off time, `HH:MM`.
    pub handoff: String,
    /// IANA time zone of the hand-off time.
    pub timezone: String,
    /// Date (`YYYY-MM-DD`) the first member of the rotation starts.
    pub start: String,
    /// Temporary replacements.
    #[serde(default)]
    pub overrides: Vec<RawOverride>,
    /// Escalation levels, in order.
    #[serde(default)]
    pub escalation: Vec<RawEscalationLevel>,
}

/// `[[oncall.overrides]]`
#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawOverride {
    /// Member on call instead.
    pub member: String,
    /// Start, RFC 3339.
    pub from: String,
    /// End, RFC 3339.
    pub until: String,
}

/// `[[oncall.escalation]]`
#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawEscalationLevel {
    /// Who is paged: `oncall`, a member handle, or `role:NAME`.
    pub targets: Vec<String>,
    /// Wait after the previous level before paging this one, e.g. `5m`.
    #[serde(default)]
    pub delay: Option<String>,
    /// How many more times this level is paged if nobody acknowledges.
    #[serde(default)]
    pub repeat: u32,
}

/// `[monitors.ID]`
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawMonitor {
    /// What the monitor detects.
    #[serde(default)]
    pub description: Option<String>,
    /// SEAL severity, `P1` … `P5`.
    pub severity: Severity,
    /// Chain id (a key of `[chains]`).
    pub chain: String,
    /// Contracts the rule watches.
    #[serde(default)]
    pub contracts: Vec<String>,
    /// Rule expression (the rule language).
    pub rule: String,
    /// Minimum time between two alerts of this monitor, e.g. `10m`.
    #[serde(default)]
    pub cooldown: Option<String>,
    /// Confirmations before the monitor fires (0 = on inclusion).
    #[serde(default)]
    pub confirmations: Option<u64>,
    /// Playbook run when it fires (an incident is opened). Without one (or
    /// with a playbook of `notify` steps only) the monitor is alert-only.
    #[serde(default)]
    pub playbook: Option<String>,
    /// Alert-only: channels told of each alert (no incident is opened).
    #[serde(default)]
    pub notify: Option<Vec<String>>,
    /// Set to `false` to keep the monitor in the plan without running it.
    #[serde(default)]
    pub enabled: Option<bool>,
    /// Also evaluate the rule over each pending transaction, simulated on
    /// the latest state (the chain needs `mempool = "public"`): the
    /// playbook starts before the transaction is mined, and its pause
    /// outbids it.
    #[serde(default)]
    pub pre_empt: Option<bool>,
}

/// `[playbooks.NAME]`
#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawPlaybook {
    /// What the playbook is for.
    #[serde(default)]
    pub description: Option<String>,
    /// Ordered steps.
    pub steps: Vec<RawStep>,
}

/// Step kinds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum StepKind {
    /// Pause contracts through their plan pause paths.
    Pause,
    /// Call any contract function.
    Call,
    /// Post a message to channels.
    Notify,
    /// Page people with acknowledgement and escalation.
    Page,
    /// Wait for M-of-N approvals before going on.
    WaitApproval,
    /// Publish to the status page.
    Announce,
    /// Cancel whatever is queued at a Safe's current nonce (and the next
    /// ones): execute an empty transaction to the Safe itself there, signed
    /// by owners other than the compromised account.
    SafeReject,
    /// Swap a compromised Safe owner for a standby one in one transaction
    /// (`swapOwner`), keeping the threshold.
    RotateSigner,
    /// Revoke every role the compromised account holds (found on chain)
    /// on the listed AccessControl contracts.
    RevokeRoles,
    /// `transferOwnership(to)` on an Ownable contract.
    TransferOwnership,
    /// Move a hot wallet's plan-listed tokens, then its ETH, to a cold
    /// address (never a wallet whose key is the compromised one).
    Sweep,
}

impl StepKind {
    /// The name used in plan files.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Pause => "pause",
            Self::Call => "call",
            Self::Notify => "notify",
            Self::Page => "page",
            Self::WaitApproval => "wait_approval",
            Self::Announce => "announce",
            Self::SafeReject => "safe_reject",
            Self::RotateSigner => "rotate_signer",
            Self::RevokeRoles => "revoke_roles",
            Self::TransferOwnership => "transfer_ownership",
            Self::Sweep => "sweep",
        }
    }

    /// Whether the step acts on chain to stop damage.
    pub const fn contains(self) -> bool {
        matches!(
            self,
            Self::Pause
                | Self::Call
                | Self::SafeReject
                | Self::RotateSigner
                | Self::RevokeRoles
                | Self::TransferOwnership
                | Self::Sweep
        )
    }
}

/// Status-page states of an announcement.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum AnnounceStatus {
    /// Looking into it.
    Investigating,
    /// Cause known.
    Identified,
    /// Fix in place, watching.
    Monitoring,
    /// Over.
    Resolved,
}

/// `[[playbooks.NAME.steps]]`: which fields apply depends on `kind`.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawStep {
    /// Step id, unique in the playbook (default: `KIND-N`).
    #[serde(default)]
    pub id: Option<String>,
    /// What the step does.
    pub kind: StepKind,
    /// Steps (ids in this playbook) this one waits for. Without it, `page`
    /// and `notify` start at once and every other step waits for the step
    /// of those other kinds written before it; `after = []` starts a step
    /// at once.
    #[serde(default)]
    pub after: Option<Vec<String>>,
    /// Human gate: the step waits for this quorum before it runs.
    #[serde(default)]
    pub approval: Option<RawApproval>,
    /// `pause`: contracts to pause.
    #[serde(default)]
    pub contracts: Option<Vec<String>>,
    /// `call`: target contract.
    #[serde(default)]
    pub contract: Option<String>,
    /// `call`: function name or signature.
    #[serde(default)]
    pub method: Option<String>,
    /// `call`: arguments.
    #[serde(default)]
    pub args: Option<Vec<serde_json::Value>>,
    /// `call`: who sends it, in order of preference. `pause`: the paths to
    /// use, in order (each among every listed contract's pause paths;
    /// default: each contract's own).
    #[serde(default)]
    pub via: Option<Vec<RawAuthority>>,
    /// `notify`: channels to post to.
    #[serde(default)]
    pub channels: Option<Vec<String>>,
    /// `notify` / `announce`: message text (template).
    #[serde(default)]
    pub message: Option<String>,
    /// `page`: who is paged (`oncall`, member, `role:NAME`); default: the escalation policy.
    #[serde(default)]
    pub targets: Option<Vec<String>>,
    /// `wait_approval`: approvals needed.
    #[serde(default)]
    pub quorum: Option<u32>,
    /// `wait_approval`: roles whose holders may approve.
    #[serde(default)]
    pub roles: Option<Vec<Role>>,
    /// `wait_approval`: give up after this long, e.g. `30m`.
    #[serde(default)]
    pub timeout: Option<String>,
    /// `announce`: status-page state.
    #[serde(default)]
    pub status: Option<AnnounceStatus>,
    /// `announce`: affected status-page components.
    #[serde(default)]
    pub components: Option<Vec<String>>,
    /// `safe_reject`, `rotate_signer`: the Safe (key of `[safes]`).
    #[serde(default)]
    pub safe: Option<String>,
    /// `safe_reject`: how many nonces to reject, from the current one
    /// (default 1).
    #[serde(default)]
    pub nonces: Option<u32>,
    /// `safe_reject`, `rotate_signer`, `revoke_roles`: the compromised
    /// account: an address, a plan signer or member id, or the name of a
    /// value in the incident's alert evidence (default `tx.from`: who sent
    /// the alert's transaction). It never signs anything these steps send.
    #[serde(default)]
    pub account: Option<String>,
    /// `rotate_signer`: the standby owner to add (address or plan signer
    /// id; default: the first of the Safe's `standby_owners` not yet an owner).
    #[serde(default)]
    pub standby: Option<String>,
    /// `transfer_ownership`: the new owner; `sweep`: where the funds go
    /// (an address or a Safe id).
    #[serde(default)]
    pub to: Option<String>,
    /// `sweep`: the hot wallet (a signer whose key the daemon holds).
    #[serde(default)]
    pub from: Option<String>,
    /// `sweep`: the ERC-20 contracts of the plan to empty first (its ETH
    /// goes last, less what its gas costs).
    #[serde(default)]
    pub tokens: Option<Vec<String>>,
    /// `sweep`: the chain (default: the tokens' chain).
    #[serde(default)]
    pub chain: Option<String>,
}

/// `approval = { quorum = M, roles = [...] }`: M members holding one of the roles.
#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawApproval {
    /// Approvals needed (M).
    pub quorum: u32,
    /// Roles whose holders may approve (N = members holding any of them).
    pub roles: Vec<Role>,
}

/// Identity a white hat must give to claim the bounty (SEAL Safe Harbor).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum IdentityRequirement {
    /// No identity needed.
    Anonymous,
    /// A stable pseudonym.
    Pseudonymous,
    /// Legal name, verified.
    Named,
}

/// SEAL's `childContractScope`: which contracts created by an account in
/// scope are in scope too.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ChildContractScope {
    /// Only the account itself.
    #[default]
    None,
    /// Contracts it had created when the agreement was adopted.
    ExistingOnly,
    /// Every contract it created or creates.
    All,
    /// Contracts it creates after the agreement was adopted.
    FutureOnly,
}

impl ChildContractScope {
    /// SEAL's enum index (`None` = 0 … `FutureOnly` = 3), as the agreement
    /// contract stores it.
    pub const fn index(self) -> u8 {
        match self {
            Self::None => 0,
            Self::ExistingOnly => 1,
            Self::All => 2,
            Self::FutureOnly => 3,
        }
    }
}

/// `[safe_harbor]`: SEAL Safe Harbor v3 terms.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawSafeHarbor {
    /// URI of the signed agreement (e.g. the on-chain agreement or IPFS).
    #[serde(default)]
    pub agreement_uri: Option<String>,
    /// Share of recovered funds paid as bounty, in percent (up to two decimals).
    pub bounty_percent: f64,
    /// Bounty cap per white hat, USD.
    pub bounty_cap_usd: u64,
    /// Cap on all bounties of one exploit, USD.
    #[serde(default)]
    pub aggregate_cap_usd: Option<u64>,
    /// The white hat may keep the bounty from the recovered funds.
    pub retainable: bool,
    /// Identity the white hat must give.
    pub identity: IdentityRequirement,
    /// Diligence asked of the white hat, in words.
    #[serde(default)]
    pub diligence: Option<String>,
    /// Where recovered assets go, per chain id: every chain of the plan
    /// needs one.
    #[serde(default)]
    pub recovery: BTreeMap<String, String>,
    /// Whether contracts the plan's contracts create are in scope too
    /// (SEAL's `childContractScope`): `none` (default), `existing_only`,
    /// `all` or `future_only`.
    #[serde(default)]
    pub child_contract_scope: ChildContractScope,
    /// Security contacts.
    #[serde(default)]
    pub contacts: Vec<RawContact>,
    /// The SEAL Safe Harbor registry the agreement is adopted in: `verify`
    /// reads the agreement of `adopter` there and compares it with these
    /// terms. Registries v1, v2 and v3 are read.
    #[serde(default)]
    pub registry: Option<String>,
    /// The account that adopted the agreement in `registry` (the protocol's
    /// deployer or Safe).
    #[serde(default)]
    pub adopter: Option<String>,
    /// The on-chain agreement contract (v3), when read directly rather than
    /// through a registry.
    #[serde(default)]
    pub agreement: Option<String>,
    /// Chain of `registry` or `agreement` (default: the plan's only chain).
    #[serde(default)]
    pub agreement_chain: Option<String>,
}

/// `[recovery]`: how firebreak follows and gets back stolen funds.
#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawRecovery {
    /// Hops followed out of a confirmed attacker address (default 3, at
    /// most 10).
    #[serde(default)]
    pub trace_hops: Option<u32>,
    /// Transfers worth less than this many USD are not followed (default
    /// 100).
    #[serde(default)]
    pub dust_usd: Option<u64>,
    /// USD price per whole unit of each asset the ledger and the tracer
    /// value: `eth` (the chain's native coin) and token contracts by key,
    /// each a number or `{ feed = "0x…" }` (a Chainlink-style aggregator read
    /// at the block before the transfer).
    #[serde(default)]
    pub prices: BTreeMap<String, RawPrice>,
    /// CSV files of labelled addresses (`address,label,kind`; kinds:
    /// bridge, mixer, exchange, sanctioned, protocol, whitehat, other),
    /// relative to the plan.
    #[serde(default)]
    pub label_files: Vec<String>,
    /// Labelled addresses written in the plan.
    #[serde(default)]
    pub labels: Vec<RawLabel>,
    /// Signer that sends on-chain messages to attackers (not one of the
    /// pause signers: it must never hold up a pause's nonce).
    #[serde(default)]
    pub message_signer: Option<String>,
    /// Roles that each approve a message before it is sent (default
    /// liaison and commander).
    #[serde(default)]
    pub message_approvers: Option<Vec<Role>>,
    /// Safe that pays bounties (when the terms are not retainable).
    #[serde(default)]
    pub bounty_safe: Option<String>,
    /// Token contract the bounty is paid in (default: each white hat is paid
    /// in the asset it returned most of).
    #[serde(default)]
    pub bounty_token: Option<String>,
    /// Channels told when traced funds move, funds come back or a message
    /// comes in (default: the channels of the playbooks' notify steps).
    #[serde(default)]
    pub channels: Option<Vec<String>>,
}

/// A price: USD per whole unit, or a feed to read.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(untagged)]
pub enum RawPrice {
    /// Fixed USD price per whole unit.
    Fixed(f64),
    /// A Chainlink-style aggregator (`latestRoundData`, `decimals`).
    Feed {
        /// The aggregator's address, on the chain of the asset.
        feed: String,
    },
}

/// One labelled address.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawLabel {
    /// The address.
    pub address: String,
    /// What it is called (`Wormhole: Portal`).
    pub label: String,
    /// What it is.
    pub kind: LabelKind,
}

/// What a labelled address is.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum LabelKind {
    /// A bridge: funds leave the chain.
    Bridge,
    /// A mixer (Tornado Cash …).
    Mixer,
    /// A centralised exchange's deposit or hot wallet.
    Exchange,
    /// Sanctioned.
    Sanctioned,
    /// The protocol's own.
    Protocol,
    /// A white hat.
    Whitehat,
    /// Anything else.
    Other,
}

impl LabelKind {
    /// Funds reaching this kind may soon be out of reach: a P1.
    pub const fn is_exit(self) -> bool {
        matches!(self, Self::Bridge | Self::Mixer | Self::Exchange | Self::Sanctioned)
    }

    /// The name used in plans and label files.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Bridge => "bridge",
            Self::Mixer => "mixer",
            Self::Exchange => "exchange",
            Self::Sanctioned => "sanctioned",
            Self::Protocol => "protocol",
            Self::Whitehat => "whitehat",
            Self::Other => "other",
        }
    }

    /// Parses a kind of a label file.
    pub fn parse(s: &str) -> Option<Self> {
        [
            Self::Bridge,
            Self::Mixer,
            Self::Exchange,
            Self::Sanctioned,
            Self::Protocol,
            Self::Whitehat,
            Self::Other,
        ]
        .into_iter()
        .find(|k| k.as_str().eq_ignore_ascii_case(s.trim()))
    }
}

/// A Safe Harbor contact.
#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawContact {
    /// Who.
    pub name: String,
    /// How to reach them (e-mail, Telegram handle, URL).
    pub contact: String,
}

/// `[heartbeat]`: a healthchecks-style dead-man's switch.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawHeartbeat {
    /// Pinged (HTTP GET) every `interval` while firebreak watches every
    /// chain and every P1 pause path can sign: a URL, or a secret holding it.
    pub url: RawEndpoint,
    /// Pinged instead while firebreak runs but is NOT READY or blind on a
    /// chain (healthchecks.io: the same URL with `/fail`); without it,
    /// nothing is sent then and the service's grace period runs out.
    #[serde(default)]
    pub fail_url: Option<RawEndpoint>,
    /// How often, e.g. `1m` (default `1m`, at least `1s`).
    #[serde(default)]
    pub interval: Option<String>,
}

/// `[status_page]`
#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawStatusPage {
    /// Page title.
    pub title: String,
    /// Components shown with their state.
    #[serde(default)]
    pub components: Vec<RawComponent>,
}

/// `[[status_page.components]]`
#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawComponent {
    /// Id used by `announce` steps.
    pub id: String,
    /// Display name.
    pub name: String,
    /// Short description.
    #[serde(default)]
    pub description: Option<String>,
}
