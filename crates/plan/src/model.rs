//! The validated, typed plan. Runtime code only ever sees these types.

use std::{collections::BTreeMap, path::PathBuf, time::Duration};

use alloy_dyn_abi::DynSolValue;
use alloy_json_abi::{Function, JsonAbi};
use alloy_primitives::{Address, B256, Bytes};
use firebreak_primitives::{Role, Severity};

use crate::{
    raw::{AnnounceStatus, ChannelKind, IdentityRequirement, PlanMode, RawChannel},
    secret::SecretRef,
};

/// A plan that passed every offline check.
#[derive(Debug, Clone)]
pub struct Plan {
    /// Format version (always 1 today).
    pub version: u32,
    /// Production or drill.
    pub mode: PlanMode,
    /// Keccak-256 of the plan file's bytes; stored with every incident.
    pub hash: B256,
    /// Directory of the plan file; relative paths in the plan start here.
    pub base_dir: PathBuf,
    /// The protected protocol.
    pub protocol: Protocol,
    /// Chains by id.
    pub chains: BTreeMap<String, Chain>,
    /// Contracts by id.
    pub contracts: BTreeMap<String, Contract>,
    /// Signers by id.
    pub signers: BTreeMap<String, Signer>,
    /// Safes by id.
    pub safes: BTreeMap<String, Safe>,
    /// Team members by handle.
    pub team: BTreeMap<String, Member>,
    /// Channels by id.
    pub channels: BTreeMap<String, Channel>,
    /// On-call rotation and escalation.
    pub oncall: Option<Oncall>,
    /// Named address lists.
    pub lists: BTreeMap<String, Vec<Address>>,
    /// Monitors by id.
    pub monitors: BTreeMap<String, Monitor>,
    /// Playbooks by name.
    pub playbooks: BTreeMap<String, Playbook>,
    /// Bounty terms.
    pub safe_harbor: Option<SafeHarbor>,
    /// Fund recovery settings (defaults when the plan has no `[recovery]`).
    pub recovery: Recovery,
    /// Status page.
    pub status_page: Option<StatusPage>,
    /// War-room quorums.
    pub war_room: WarRoom,
    /// The dead-man's switch, when the plan names one.
    pub heartbeat: Option<Heartbeat>,
}

/// `[heartbeat]`, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Heartbeat {
    /// Pinged while firebreak is up and able to act.
    pub url: Endpoint,
    /// Pinged while it runs but cannot act.
    pub fail_url: Option<Endpoint>,
    /// How often.
    pub interval: Duration,
}

/// Quorums for actions taken from the war room.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WarRoom {
    /// Starting a playbook by hand ("pause now").
    pub pause: Approval,
    /// Unpausing a contract (always a higher quorum than `pause`).
    pub unpause: Approval,
    /// Approving a status-page announcement.
    pub announce: Approval,
}

impl Approval {
    /// Whether `member` counts toward it: holds one of its roles (any member
    /// when it names none).
    pub fn counts(&self, member: &Member) -> bool {
        self.roles.is_empty() || member.roles.iter().any(|r| self.roles.contains(r))
    }
}

/// A chain and how to reach it.
#[derive(Debug, Clone)]
pub struct Chain {
    /// EIP-155 chain id.
    pub id: u64,
    /// Display name.
    pub name: String,
    /// Endpoints in priority order.
    pub rpc: Vec<Endpoint>,
    /// Explorer link templates.
    pub explorer: Option<Explorer>,
    /// Blocks a firebreak transaction needs on the canonical chain (its own
    /// block included) before it counts as final.
    pub confirmations: u64,
    /// Whether pending transactions can be seen before they are mined.
    pub mempool: Mempool,
    /// `eth_sendBundle` endpoints for pre-emptive pauses.
    pub builders: Vec<Endpoint>,
}

/// Whether a chain has a public pending pool firebreak can read.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Default,
    serde::Serialize,
    serde::Deserialize,
    schemars::JsonSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum Mempool {
    /// Pending transactions are public: `pre_empt` monitors simulate them.
    Public,
    /// No public pending pool (a rollup sequencer, private order flow):
    /// pre-emption cannot work here.
    #[default]
    None,
}

impl Mempool {
    /// The plan's spelling.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Public => "public",
            Self::None => "none",
        }
    }
}

impl Chain {
    /// Confirmations when the plan sets none: the pause's block and one on top.
    pub const DEFAULT_CONFIRMATIONS: u64 = 2;
    /// The deepest confirmation depth a plan may ask for.
    pub const MAX_CONFIRMATIONS: u64 = 64;
}

/// An RPC endpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Endpoint {
    /// A URL written in the plan.
    Url(String),
    /// A URL read from a secret at start-up.
    Secret(SecretRef),
}

impl Endpoint {
    /// Text safe to log: the URL, or where the secret URL comes from.
    pub fn describe(&self) -> String {
        match self {
            Self::Url(url) => url.clone(),
            Self::Secret(s) => format!("<{}>", s.describe()),
        }
    }
}

/// A watched contract.
#[derive(Debug, Clone)]
pub struct Contract {
    /// Chain key.
    pub chain: String,
    /// Address.
    pub address: Address,
    /// Loaded ABI.
    pub abi: JsonAbi,
    /// Whether the plan declares it pausable.
    pub pausable: bool,
    /// How to pause it.
    pub pause: Option<ControlPath>,
    /// How to unpause it.
    pub unpause: Option<ControlPath>,
}

/// A resolved contract call and who may send it.
#[derive(Debug, Clone)]
pub struct ControlPath {
    /// The ABI function.
    pub function: Function,
    /// Decoded arguments.
    pub args: Vec<DynSolValue>,
    /// ABI-encoded calldata (selector + arguments).
    pub calldata: Bytes,
    /// Authorities in order of preference.
    pub via: Vec<Authority>,
}

/// Who sends a control transaction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Authority {
    /// A guardian EOA (key of `signers`).
    Signer(String),
    /// A Safe multisig (key of `safes`).
    Safe(String),
}

/// Where a signing key comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeySource {
    /// Hex private key in an environment variable.
    Env(String),
    /// Encrypted JSON keystore and its password.
    Keystore {
        /// Keystore file (resolved against the plan directory).
        path: PathBuf,
        /// Password reference.
        password: SecretRef,
    },
    /// An anvil dev account (drill plans only).
    AnvilDev(u32),
}

/// A signing key reference.
#[derive(Debug, Clone)]
pub struct Signer {
    /// Where the key comes from.
    pub source: KeySource,
    /// Its address, when the plan states it or it is an anvil dev account.
    pub address: Option<Address>,
}

/// A Safe multisig.
#[derive(Debug, Clone)]
pub struct Safe {
    /// Chain key.
    pub chain: String,
    /// Proxy address.
    pub address: Address,
    /// Owners.
    pub owners: Vec<Address>,
    /// Threshold.
    pub threshold: u32,
    /// Signers held by the daemon that are owners.
    pub hot_signers: Vec<String>,
    /// Signer that submits `execTransaction`.
    pub relayer: Option<String>,
    /// MultiSendCallOnly contract for batched pauses.
    pub multisend: Address,
    /// Contracts it may DELEGATECALL besides `multisend`.
    pub delegatecall_allow: Vec<Address>,
    /// Addresses ready to replace a compromised owner.
    pub standby_owners: Vec<Address>,
}

impl Safe {
    /// Every target a signature over a DELEGATECALL may name.
    pub fn delegatecall_targets(&self) -> Vec<Address> {
        std::iter::once(self.multisend).chain(self.delegatecall_allow.iter().copied()).collect()
    }
}

/// The canonical MultiSendCallOnly v1.4.1 deployment (same address on every chain).
pub const CANONICAL_MULTISEND_CALL_ONLY: Address =
    alloy_primitives::address!("9641d764fc13c8B624c04430C7356C1C7C8102e2");

/// A team member.
#[derive(Debug, Clone)]
pub struct Member {
    /// Full name.
    pub name: String,
    /// Roles.
    pub roles: Vec<Role>,
    /// IANA time zone name.
    pub timezone: String,
    /// Contacts by channel id.
    pub contacts: BTreeMap<String, String>,
    /// Safe owner address.
    pub safe_owner: Option<Address>,
}

/// Who a page or escalation reaches.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// Whoever is on call.
    Oncall,
    /// A member by handle.
    Member(String),
    /// Every member holding the role.
    Role(Role),
}

/// The on-call rotation.
#[derive(Debug, Clone)]
pub struct Oncall {
    /// Members in order.
    pub rotation: Vec<String>,
    /// Shift length.
    pub shift: Duration,
    /// Local hand-off time.
    pub handoff: jiff::civil::Time,
    /// Time zone of the hand-off.
    pub timezone: String,
    /// First day of the rotation.
    pub start: jiff::civil::Date,
    /// Overrides.
    pub overrides: Vec<Override>,
    /// Escalation levels.
    pub escalation: Vec<EscalationLevel>,
}

/// A temporary on-call replacement.
#[derive(Debug, Clone)]
pub struct Override {
    /// Member on call instead.
    pub member: String,
    /// Start.
    pub from: jiff::Timestamp,
    /// End.
    pub until: jiff::Timestamp,
}

/// One escalation level.
#[derive(Debug, Clone)]
pub struct EscalationLevel {
    /// Who is paged.
    pub targets: Vec<Target>,
    /// Wait after the previous level.
    pub delay: Duration,
    /// Extra pages at this level.
    pub repeat: u32,
}

/// A detection rule (the text is compiled by the detection engine).
#[derive(Debug, Clone)]
pub struct Monitor {
    /// Description.
    pub description: Option<String>,
    /// Severity.
    pub severity: Severity,
    /// Chain key.
    pub chain: String,
    /// Watched contracts.
    pub contracts: Vec<String>,
    /// Rule text.
    pub rule: String,
    /// Cooldown between alerts.
    pub cooldown: Option<Duration>,
    /// Confirmations before firing (default 0 for P1 and P2, 1 otherwise).
    pub confirmations: u64,
    /// The playbook an alert opens an incident with; `None`: the monitor is
    /// alert-only (no playbook, or one of `notify` steps only).
    pub playbook: Option<String>,
    /// Alert-only: the channels each alert is sent to (the monitor's
    /// `notify`, and the channels of its notify-only playbook).
    pub notify: Vec<String>,
    /// Whether it runs.
    pub enabled: bool,
    /// Also evaluated over simulated pending transactions.
    pub pre_empt: bool,
}

/// A playbook.
#[derive(Debug, Clone)]
pub struct Playbook {
    /// Description.
    pub description: Option<String>,
    /// Steps in order.
    pub steps: Vec<Step>,
}

/// A playbook step.
#[derive(Debug, Clone)]
pub struct Step {
    /// Unique id in the playbook.
    pub id: String,
    /// Human gate before the step runs; `None` = automatic.
    pub approval: Option<Approval>,
    /// What it does.
    pub action: StepAction,
    /// Steps (ids in the playbook) that must be over (succeeded or failed)
    /// before this one starts: the plan's `after`, or by default the
    /// nearest step before it that is a gate or a chain action
    /// (`wait_approval`, `pause`, `call`); none for `page` and `notify`.
    pub after: Vec<String>,
}

impl Step {
    /// Whether the step sends transactions (pause, call, and the
    /// key-compromise steps).
    pub const fn acts_on_chain(&self) -> bool {
        matches!(
            self.action,
            StepAction::Pause { .. }
                | StepAction::Call { .. }
                | StepAction::SafeReject { .. }
                | StepAction::RotateSigner { .. }
                | StepAction::RevokeRoles { .. }
                | StepAction::Sweep { .. }
        )
    }

    /// Whether the step only tells people (`page`, `notify`): such steps
    /// never wait behind another unless the plan says so with `after`.
    pub const fn tells_people(&self) -> bool {
        matches!(self.action, StepAction::Page { .. } | StepAction::Notify { .. })
    }
}

/// M-of-N approval by role.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Approval {
    /// Approvals needed.
    pub quorum: u32,
    /// Roles whose holders may approve.
    pub roles: Vec<Role>,
}

/// The action of a step.
#[derive(Debug, Clone)]
pub enum StepAction {
    /// Pause contracts through their pause paths.
    Pause {
        /// Contract keys.
        contracts: Vec<String>,
        /// The paths this step uses, in order of preference (each is one of
        /// every listed contract's pause paths); `None` = each contract's own.
        via: Option<Vec<Authority>>,
    },
    /// Call a contract function.
    Call {
        /// Contract key.
        contract: String,
        /// Resolved call.
        call: ControlPath,
    },
    /// Post to channels.
    Notify {
        /// Channel keys.
        channels: Vec<String>,
        /// Message template.
        message: Option<String>,
    },
    /// Page people.
    Page {
        /// Targets; `None` = the escalation policy.
        targets: Option<Vec<Target>>,
    },
    /// Wait for approvals.
    WaitApproval {
        /// Quorum.
        approval: Approval,
        /// Give-up time.
        timeout: Option<Duration>,
    },
    /// Publish to the status page.
    Announce {
        /// State.
        status: AnnounceStatus,
        /// Text.
        message: String,
        /// Affected components.
        components: Vec<String>,
    },
    /// Execute rejections (empty SafeTxs to the Safe itself) at the Safe's
    /// current nonce and the `nonces - 1` after it, signed by owners other
    /// than the compromised account.
    SafeReject {
        /// Safe key.
        safe: String,
        /// Nonces to reject, from the current one.
        nonces: u32,
        /// The compromised account.
        account: AccountRef,
    },
    /// `swapOwner(prev, compromised, standby)` through the Safe itself.
    RotateSigner {
        /// Safe key.
        safe: String,
        /// The owner to add; `None`: the first of the Safe's standby owners
        /// that is not an owner yet.
        standby: Option<Address>,
        /// The compromised account.
        account: AccountRef,
    },
    /// A hot wallet's tokens, then its ETH, to a cold address.
    Sweep {
        /// Signer key of the hot wallet.
        from: String,
        /// Where the funds go.
        to: Address,
        /// ERC-20 contract keys.
        tokens: Vec<String>,
        /// Chain key.
        chain: String,
        /// The compromised account (the sweep refuses to sign with it).
        account: AccountRef,
    },
    /// `revokeRole(role, account)` for every role the account holds on each
    /// contract, found on chain.
    RevokeRoles {
        /// Contract keys.
        contracts: Vec<String>,
        /// Who sends the revocations, in order of preference.
        via: Vec<Authority>,
        /// The compromised account.
        account: AccountRef,
    },
}

/// Which account a key-compromise step acts on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AccountRef {
    /// A fixed address.
    Address(Address),
    /// A plan signer, Safe or member (their address, Safe or `safe_owner`).
    Plan(String),
    /// Every address found under this name in the incident's alert
    /// evidence (`tx.from`, `account`, `newOwner` …).
    Evidence(String),
}

impl std::fmt::Display for AccountRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Address(a) => write!(f, "{a}"),
            Self::Plan(id) => write!(f, "`{id}`"),
            Self::Evidence(n) => write!(f, "the alert's `{n}`"),
        }
    }
}

/// SEAL Safe Harbor v3 terms.
#[derive(Debug, Clone)]
pub struct SafeHarbor {
    /// Agreement URI.
    pub agreement_uri: Option<String>,
    /// Bounty share in basis points (1 % = 100).
    pub bounty_bps: u32,
    /// Cap per white hat, USD.
    pub bounty_cap_usd: u64,
    /// Cap across white hats, USD.
    pub aggregate_cap_usd: Option<u64>,
    /// Whether the bounty may be kept from recovered funds.
    pub retainable: bool,
    /// Identity requirement.
    pub identity: IdentityRequirement,
    /// Diligence text.
    pub diligence: Option<String>,
    /// Recovery address per chain key.
    pub recovery: BTreeMap<String, Address>,
    /// Contacts.
    pub contacts: Vec<Contact>,
    /// Each chain as SEAL's agreement lists it.
    pub chains: Vec<SafeHarborChain>,
    /// Where the agreement is on chain, when the plan says.
    pub onchain: Option<OnchainAgreement>,
}

impl Plan {
    /// The address of a plan signer (when the plan knows it), Safe or
    /// member (their `safe_owner`).
    pub fn account_address(&self, id: &str) -> Option<Address> {
        if let Some(s) = self.signers.get(id) {
            return s.address;
        }
        if let Some(s) = self.safes.get(id) {
            return Some(s.address);
        }
        self.team.get(id).and_then(|m| m.safe_owner)
    }

    /// A call to `to` on chain `chain_id` in words (`pause()`,
    /// `grantRole(0x…, 0x…)`), when a contract of the plan at that address
    /// has the function in its ABI.
    pub fn describe_call(&self, chain_id: u64, to: Address, data: &[u8]) -> Option<String> {
        use alloy_dyn_abi::JsonAbiExt as _;
        let chain = self.chains.iter().find(|(_, c)| c.id == chain_id)?.0;
        let (key, c) = self.contracts.iter().find(|(_, c)| &c.chain == chain && c.address == to)?;
        let selector = data.get(..4)?;
        let f = c.abi.functions().find(|f| f.selector().as_slice() == selector)?;
        let args = f.abi_decode_input(&data[4..]).ok()?;
        let shown: Vec<String> = args.iter().map(show_value).collect();
        Some(format!("{key}.{}({})", f.name, shown.join(", ")))
    }
}

fn show_value(v: &DynSolValue) -> String {
    match v {
        DynSolValue::Address(a) => a.to_string(),
        DynSolValue::Bool(b) => b.to_string(),
        DynSolValue::Uint(u, _) => u.to_string(),
        DynSolValue::Int(i, _) => i.to_string(),
        DynSolValue::FixedBytes(w, n) => format!("0x{}", alloy_primitives::hex::encode(&w[..*n])),
        DynSolValue::Bytes(b) => format!("0x{}", alloy_primitives::hex::encode(b)),
        DynSolValue::String(s) => format!("{s:?}"),
        DynSolValue::Array(a) | DynSolValue::FixedArray(a) | DynSolValue::Tuple(a) => {
            format!("[{}]", a.iter().map(show_value).collect::<Vec<_>>().join(", "))
        }
        other => format!("{other:?}"),
    }
}

/// `[recovery]`, checked.
#[derive(Debug, Clone, PartialEq)]
pub struct Recovery {
    /// Hops followed out of a confirmed attacker address.
    pub trace_hops: u32,
    /// Transfers worth less than this are not followed, in micro-USD.
    pub dust_micro_usd: u128,
    /// Price per asset: `eth` or a token contract key.
    pub prices: BTreeMap<String, Price>,
    /// Labelled addresses: the plan's contracts and Safes (`protocol`), its
    /// `labels` and its label files.
    pub labels: BTreeMap<Address, AddressLabel>,
    /// Signer of on-chain messages.
    pub message_signer: Option<String>,
    /// Roles that each approve a message.
    pub message_approvers: Vec<Role>,
    /// Safe that pays bounties.
    pub bounty_safe: Option<String>,
    /// Token contract bounties are paid in.
    pub bounty_token: Option<String>,
    /// Channels told of recovery events.
    pub channels: Vec<String>,
}

/// The price of one whole unit of an asset.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Price {
    /// Micro-USD per whole unit.
    Fixed(u128),
    /// A Chainlink-style aggregator.
    Feed(Address),
}

/// A labelled address.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct AddressLabel {
    /// Its name.
    pub label: String,
    /// What it is.
    pub kind: crate::raw::LabelKind,
}

/// Where a SEAL Safe Harbor agreement is on chain.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct OnchainAgreement {
    /// Chain key of the plan.
    pub chain: String,
    /// How to find it.
    pub at: AgreementAt,
}

/// A registry and an adopter, or an agreement contract.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AgreementAt {
    /// `getAgreement(adopter)` of a SEAL registry (v1, v2 or v3).
    Registry {
        /// The registry contract.
        registry: Address,
        /// The adopter.
        adopter: Address,
    },
    /// A v3 agreement contract.
    Agreement(Address),
}

/// One chain of the agreement (SEAL's `Chain`).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct SafeHarborChain {
    /// Chain key of the plan.
    pub chain: String,
    /// CAIP-2 id (`eip155:1`).
    pub caip2: String,
    /// Where recovered assets go on this chain.
    pub recovery: Address,
    /// The accounts in scope: the plan's contracts on this chain.
    pub accounts: Vec<Address>,
    /// Whether contracts they create are in scope too.
    pub child_contract_scope: crate::raw::ChildContractScope,
}

/// Where a monitor's rule sits in the file, for positioned rule diagnostics.
#[derive(Debug, Clone)]
pub struct RuleSite {
    /// Monitor id.
    pub monitor: String,
    /// Chain key of the monitor.
    pub chain: String,
    /// Contracts listed by the monitor.
    pub contracts: Vec<String>,
    /// The rule text (after TOML unescaping).
    pub text: String,
    /// Span of the whole TOML string value.
    pub value_span: std::ops::Range<usize>,
    /// Byte offset of the rule's first character in the file, when rule
    /// offsets map one to one onto the file (no escapes in the string).
    pub content_start: Option<usize>,
}

/// What the checks could build even from a plan with errors, so that later
/// stages (rule compilation) can still report their own problems.
#[derive(Debug, Clone, Default)]
pub struct PlanParts {
    /// Contracts whose address and ABI loaded.
    pub contracts: BTreeMap<String, Contract>,
    /// Address lists that parsed.
    pub lists: BTreeMap<String, Vec<Address>>,
    /// The plan's named accounts (see [`named_accounts`]).
    pub accounts: NamedAccounts,
    /// Every monitor rule.
    pub rules: Vec<RuleSite>,
}

/// The accounts a plan names, usable in rules by their ids (`guardian`,
/// `emergency`, `alice`) and as lists (`plan.signers`, `plan.safes`,
/// `plan.authorities`, `plan.team`).
#[derive(Debug, Clone, Default)]
pub struct NamedAccounts {
    /// Signers whose address the plan knows (`address`, or an anvil account's).
    pub signers: BTreeMap<String, Address>,
    /// Safes.
    pub safes: BTreeMap<String, Address>,
    /// Each Safe's chain (key in `[chains]`).
    pub safe_chains: BTreeMap<String, String>,
    /// Members who hold a Safe owner key (their `safe_owner`).
    pub team: BTreeMap<String, Address>,
    /// Every Safe's allowed DELEGATECALL targets (its MultiSend included).
    pub delegatecall_allow: Vec<Address>,
}

/// The named accounts of `signers`, `safes` and `team`.
pub fn named_accounts(
    signers: &BTreeMap<String, Signer>,
    safes: &BTreeMap<String, Safe>,
    team: &BTreeMap<String, Member>,
) -> NamedAccounts {
    NamedAccounts {
        signers: signers.iter().filter_map(|(k, s)| Some((k.clone(), s.address?))).collect(),
        safes: safes.iter().map(|(k, s)| (k.clone(), s.address)).collect(),
        safe_chains: safes.iter().map(|(k, s)| (k.clone(), s.chain.clone())).collect(),
        team: team.iter().filter_map(|(k, m)| Some((k.clone(), m.safe_owner?))).collect(),
        delegatecall_allow: {
            let mut all: Vec<Address> =
                safes.values().flat_map(Safe::delegatecall_targets).collect();
            all.sort_unstable();
            all.dedup();
            all
        },
    }
}

impl Plan {
    /// The accounts this plan names (see [`NamedAccounts`]).
    pub fn named_accounts(&self) -> NamedAccounts {
        named_accounts(&self.signers, &self.safes, &self.team)
    }
}

/// `[protocol]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Protocol {
    /// Display name.
    pub name: String,
    /// What the protocol does.
    pub description: Option<String>,
    /// Named links (website, docs, audits …).
    pub links: BTreeMap<String, String>,
}

/// A chain's block explorer link templates.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Explorer {
    /// Transaction link, containing `{hash}`.
    pub tx: String,
    /// Address link, containing `{address}`.
    pub address: String,
    /// Block link, containing `{number}`.
    pub block: Option<String>,
}

/// A named contact.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Contact {
    /// Who.
    pub name: String,
    /// How to reach them.
    pub contact: String,
}

/// `[status_page]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusPage {
    /// Page title.
    pub title: String,
    /// Components shown with their state.
    pub components: Vec<Component>,
}

/// A status-page component.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Component {
    /// Id used by `announce` steps.
    pub id: String,
    /// Display name.
    pub name: String,
    /// Short description.
    pub description: Option<String>,
}

/// `[channels.ID]`, checked: the settings of its kind and nothing else,
/// durations parsed, secrets still references (resolved when the notifier
/// builds the channel).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Channel {
    /// The service and its settings.
    pub service: ChannelService,
    /// Time limit for one delivery (the notifier's default when none).
    pub timeout: Option<Duration>,
    /// Only used during drills.
    pub drill: bool,
    /// Receives readiness problems besides the on-call's pages.
    pub readiness: bool,
}

/// What a channel speaks to, with the settings of that service.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChannelService {
    /// Slack incoming webhook.
    Slack {
        /// Webhook URL (secret).
        webhook_url: SecretRef,
        /// Base URL override (tests, gateways).
        base_url: Option<String>,
    },
    /// Discord webhook.
    Discord {
        /// Webhook URL (secret).
        webhook_url: SecretRef,
        /// Base URL override.
        base_url: Option<String>,
    },
    /// Telegram bot.
    Telegram {
        /// Bot token (secret).
        bot_token: SecretRef,
        /// Chat id.
        chat_id: String,
        /// Base URL override.
        base_url: Option<String>,
    },
    /// PagerDuty Events API v2.
    Pagerduty {
        /// Integration (routing) key (secret).
        routing_key: SecretRef,
        /// Signing secret of the V3 webhook subscription (secret).
        webhook_secret: Option<SecretRef>,
        /// Base URL override.
        base_url: Option<String>,
    },
    /// A signed JSON webhook.
    Webhook {
        /// Target URL.
        url: String,
        /// HMAC signing secret.
        signing_secret: SecretRef,
    },
    /// E-mail over SMTP.
    Email {
        /// SMTP host.
        smtp_host: String,
        /// SMTP port (by `tls` when none: 465, 587 or 25).
        smtp_port: Option<u16>,
        /// Transport security.
        tls: crate::raw::SmtpTls,
        /// User name and password (secret), as a pair.
        credentials: Option<(String, SecretRef)>,
        /// Sender.
        from: String,
        /// Recipients of broadcast messages.
        to: Vec<String>,
    },
    /// A local program given the message on stdin.
    Command {
        /// Program.
        program: String,
        /// Its arguments.
        args: Vec<String>,
    },
}

impl Channel {
    /// The kind of service.
    pub const fn kind(&self) -> ChannelKind {
        match self.service {
            ChannelService::Slack { .. } => ChannelKind::Slack,
            ChannelService::Discord { .. } => ChannelKind::Discord,
            ChannelService::Telegram { .. } => ChannelKind::Telegram,
            ChannelService::Pagerduty { .. } => ChannelKind::Pagerduty,
            ChannelService::Webhook { .. } => ChannelKind::Webhook,
            ChannelService::Email { .. } => ChannelKind::Email,
            ChannelService::Command { .. } => ChannelKind::Command,
        }
    }

    /// The typed channel of a raw one. `firebreak check` reports each
    /// problem at its key first; this is for a channel read on its own
    /// (tests, tools).
    ///
    /// # Errors
    /// The first missing setting or unparsable duration, in words.
    pub fn from_raw(raw: &RawChannel) -> Result<Self, String> {
        let need = |v: Option<String>, k: &str| v.ok_or_else(|| format!("`{k}` is missing"));
        let secret =
            |v: &Option<SecretRef>, k: &str| v.clone().ok_or_else(|| format!("`{k}` is missing"));
        let service = match raw.kind {
            ChannelKind::Slack => ChannelService::Slack {
                webhook_url: secret(&raw.webhook_url, "webhook_url")?,
                base_url: raw.base_url.clone(),
            },
            ChannelKind::Discord => ChannelService::Discord {
                webhook_url: secret(&raw.webhook_url, "webhook_url")?,
                base_url: raw.base_url.clone(),
            },
            ChannelKind::Telegram => ChannelService::Telegram {
                bot_token: secret(&raw.bot_token, "bot_token")?,
                chat_id: need(raw.chat_id.clone(), "chat_id")?,
                base_url: raw.base_url.clone(),
            },
            ChannelKind::Pagerduty => ChannelService::Pagerduty {
                routing_key: secret(&raw.routing_key, "routing_key")?,
                webhook_secret: raw.webhook_secret.clone(),
                base_url: raw.base_url.clone(),
            },
            ChannelKind::Webhook => ChannelService::Webhook {
                url: need(raw.url.clone(), "url")?,
                signing_secret: secret(&raw.signing_secret, "signing_secret")?,
            },
            ChannelKind::Email => ChannelService::Email {
                smtp_host: need(raw.smtp_host.clone(), "smtp_host")?,
                smtp_port: raw.smtp_port,
                tls: raw.tls.unwrap_or_default(),
                credentials: match (&raw.username, &raw.password) {
                    (Some(u), Some(p)) => Some((u.clone(), p.clone())),
                    (None, None) => None,
                    _ => return Err("`username` and `password` go together".into()),
                },
                from: need(raw.from.clone(), "from")?,
                to: raw.to.clone().unwrap_or_default(),
            },
            ChannelKind::Command => ChannelService::Command {
                program: need(raw.program.clone(), "program")?,
                args: raw.args.clone().unwrap_or_default(),
            },
        };
        let timeout = raw
            .timeout
            .as_deref()
            .map(|t| {
                crate::parse_duration(t)
                    .map_err(|e| format!("`timeout` `{t}` is not a duration: {e}"))
            })
            .transpose()?;
        Ok(Self {
            service,
            timeout,
            drill: raw.drill == Some(true),
            readiness: raw.readiness == Some(true),
        })
    }
}
