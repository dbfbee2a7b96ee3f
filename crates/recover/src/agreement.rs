//! SEAL Safe Harbor agreements as registries serve them on chain, and how
//! they differ from a plan's `[safe_harbor]` terms.
//!
//! A registry's `getAgreement(adopter)` returns the address of the
//! adopter's agreement contract (and reverts when there is none); the
//! agreement's `getDetails()` returns the details. Two shapes of details
//! exist:
//! - v3 and v2 (registry `version()` `"3.0.0"` and `"1.1.0"`): CAIP-2 chain
//!   ids and addresses as strings, an aggregate bounty cap.
//! - v1 (`"1.0.0"`, also the `version()` of a v1 agreement): numeric chain
//!   ids, addresses as `address`, a signature per account, no aggregate cap.
//!
//! A registry that answers `getAgreement` with the details themselves
//! rather than an address is read too, in either shape.
//!
//! This module only encodes calls and decodes answers; the reading is done
//! by `firebreak verify`.

use alloy_primitives::{Address, Bytes, U256};
use alloy_sol_types::{SolCall, SolValue};
use serde::Serialize;

/// SEAL v3 types and calls (v2 agreements return the same tuple).
pub mod v3 {
    alloy_sol_types::sol! {
        /// Contact.
        #[derive(Debug)]
        struct Contact { string name; string contact; }
        /// Account in scope.
        #[derive(Debug)]
        struct Account { string accountAddress; uint8 childContractScope; }
        /// Chain of the agreement.
        #[derive(Debug)]
        struct Chain { string assetRecoveryAddress; Account[] accounts; string caip2ChainId; }
        /// Bounty terms.
        #[derive(Debug)]
        struct BountyTerms {
            uint256 bountyPercentage;
            uint256 bountyCapUSD;
            bool retainable;
            uint8 identity;
            string diligenceRequirements;
            uint256 aggregateBountyCapUSD;
        }
        /// The agreement.
        #[derive(Debug)]
        struct AgreementDetails {
            string protocolName;
            Contact[] contactDetails;
            Chain[] chains;
            BountyTerms bountyTerms;
            string agreementURI;
        }
        /// Registry and agreement calls.
        function version() external view returns (string);
        function getAgreement(address adopter) external view returns (address);
        function getDetails() external view returns (AgreementDetails);
    }
}

/// SEAL v1 types (`AgreementV1.getDetails()`).
pub mod v1 {
    alloy_sol_types::sol! {
        /// Contact.
        #[derive(Debug)]
        struct Contact { string name; string contact; }
        /// Account in scope.
        #[derive(Debug)]
        struct Account { address accountAddress; uint8 childContractScope; bytes signature; }
        /// Chain of the agreement.
        #[derive(Debug)]
        struct Chain { address assetRecoveryAddress; Account[] accounts; uint256 id; }
        /// Bounty terms.
        #[derive(Debug)]
        struct BountyTerms {
            uint256 bountyPercentage;
            uint256 bountyCapUSD;
            bool retainable;
            uint8 identity;
            string diligenceRequirements;
        }
        /// The agreement.
        #[derive(Debug)]
        struct AgreementDetailsV1 {
            string protocolName;
            Contact[] contactDetails;
            Chain[] chains;
            BountyTerms bountyTerms;
            string agreementURI;
        }
        /// `AgreementV1.getDetails()`.
        function getDetails() external view returns (AgreementDetailsV1);
    }
}

/// An agreement as read on chain, in one shape for every version.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OnchainAgreement {
    /// `v1`, `v2` or `v3`.
    pub version: &'static str,
    /// The agreement contract (v3).
    pub contract: Option<Address>,
    /// `protocolName`.
    pub protocol_name: String,
    /// `contactDetails`, as (name, contact).
    pub contacts: Vec<(String, String)>,
    /// `chains`.
    pub chains: Vec<OnchainChain>,
    /// `bountyPercentage`.
    pub bounty_percentage: U256,
    /// `bountyCapUSD`.
    pub bounty_cap_usd: U256,
    /// `retainable`.
    pub retainable: bool,
    /// `identity`: 0 anonymous, 1 pseudonymous, 2 named.
    pub identity: u8,
    /// `diligenceRequirements`.
    pub diligence: String,
    /// `aggregateBountyCapUSD` (0: none; v1 has none).
    pub aggregate_cap_usd: U256,
    /// `agreementURI`.
    pub uri: String,
}

/// A chain of an [`OnchainAgreement`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OnchainChain {
    /// CAIP-2 id (`eip155:1`), derived from the numeric id before v3.
    pub caip2: String,
    /// `assetRecoveryAddress`, as written.
    pub recovery: String,
    /// Accounts in scope: (address as written, `childContractScope`).
    pub accounts: Vec<(String, u8)>,
}

/// Calldata of `version()` (registries of every version, v1 agreements).
pub fn version_call() -> Bytes {
    v3::versionCall {}.abi_encode().into()
}

/// Calldata of `getAgreement(adopter)`.
pub fn get_agreement_call(adopter: Address) -> Bytes {
    v3::getAgreementCall { adopter }.abi_encode().into()
}

/// Calldata of a v3 agreement's `getDetails()`.
pub fn get_details_call() -> Bytes {
    v3::getDetailsCall {}.abi_encode().into()
}

/// What a registry's `getAgreement(adopter)` answered.
#[derive(Debug)]
pub enum RegistryAnswer {
    /// The agreement contract, to read with `getDetails()`.
    Contract(Address),
    /// The details themselves.
    Details(Box<OnchainAgreement>),
}

/// The version name of a `version()` answer (`"3.0.0"` → `v3`, `"1.1.0"`
/// → `v2`, `"1.0.0"` → `v1`).
pub fn version_name(version: &str) -> &'static str {
    match version.split('.').next() {
        Some("3") => "v3",
        Some("1") if version.starts_with("1.1") => "v2",
        Some("1") => "v1",
        _ => "v3",
    }
}

/// Decodes a registry's `getAgreement` answer: an address, or the details.
///
/// # Errors
/// When the answer is none of these.
pub fn decode_registry_answer(out: &[u8]) -> Result<RegistryAnswer, String> {
    if out.len() == 32 {
        return v3::getAgreementCall::abi_decode_returns(out)
            .map(RegistryAnswer::Contract)
            .map_err(|e| format!("the registry's answer is not an address: {e}"));
    }
    decode_details(out, None, None).map(|d| RegistryAnswer::Details(Box::new(d)))
}

/// Decodes `getDetails()`: the v3/v2 tuple, or v1's. `version` names the
/// shape when known (`v1` tries v1 first).
///
/// # Errors
/// When it decodes as neither.
pub fn decode_details(
    out: &[u8],
    contract: Option<Address>,
    version: Option<&'static str>,
) -> Result<OnchainAgreement, String> {
    let v1_first = version == Some("v1");
    let as_v3 = || {
        v3::AgreementDetails::abi_decode(out).map(|d| from_v3(d, contract, version.unwrap_or("v3")))
    };
    let as_v1 = || v1::AgreementDetailsV1::abi_decode(out).map(|d| from_v1(d, contract));
    let first = if v1_first { as_v1() } else { as_v3() };
    first.or_else(|_| if v1_first { as_v3() } else { as_v1() }).map_err(|e| {
        format!("the answer is not SEAL Safe Harbor agreement details (v1, v2 or v3): {e}")
    })
}

fn from_v3(
    d: v3::AgreementDetails,
    contract: Option<Address>,
    version: &'static str,
) -> OnchainAgreement {
    let t = d.bountyTerms;
    OnchainAgreement {
        version,
        contract,
        protocol_name: d.protocolName,
        contacts: d.contactDetails.into_iter().map(|c| (c.name, c.contact)).collect(),
        chains: d
            .chains
            .into_iter()
            .map(|c| OnchainChain {
                caip2: c.caip2ChainId,
                recovery: c.assetRecoveryAddress,
                accounts: c
                    .accounts
                    .into_iter()
                    .map(|a| (a.accountAddress, a.childContractScope))
                    .collect(),
            })
            .collect(),
        bounty_percentage: t.bountyPercentage,
        bounty_cap_usd: t.bountyCapUSD,
        retainable: t.retainable,
        identity: t.identity,
        diligence: t.diligenceRequirements,
        aggregate_cap_usd: t.aggregateBountyCapUSD,
        uri: d.agreementURI,
    }
}

fn from_v1(d: v1::AgreementDetailsV1, contract: Option<Address>) -> OnchainAgreement {
    let t = d.bountyTerms;
    OnchainAgreement {
        version: "v1",
        contract,
        protocol_name: d.protocolName,
        contacts: d.contactDetails.into_iter().map(|c| (c.name, c.contact)).collect(),
        chains: d
            .chains
            .into_iter()
            .map(|c| OnchainChain {
                caip2: format!("eip155:{}", c.id),
                recovery: c.assetRecoveryAddress.to_string(),
                accounts: c
                    .accounts
                    .into_iter()
                    .map(|a| (a.accountAddress.to_string(), a.childContractScope))
                    .collect(),
            })
            .collect(),
        bounty_percentage: t.bountyPercentage,
        bounty_cap_usd: t.bountyCapUSD,
        retainable: t.retainable,
        identity: t.identity,
        diligence: t.diligenceRequirements,
        aggregate_cap_usd: U256::ZERO,
        uri: d.agreementURI,
    }
}

/// One field where the plan and the agreement on chain differ.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Difference {
    /// The field, in SEAL's words (`bountyTerms.bountyCapUSD`,
    /// `chains[eip155:1].assetRecoveryAddress`).
    pub field: String,
    /// What the plan says.
    pub plan: String,
    /// What the agreement on chain says.
    pub chain: String,
}

const IDENTITY: [&str; 3] = ["anonymous", "pseudonymous", "named"];
const SCOPE: [&str; 4] = ["none", "existing_only", "all", "future_only"];

fn named(names: &[&str], i: u8) -> String {
    names.get(usize::from(i)).map_or_else(|| format!("unknown ({i})"), |s| (*s).to_owned())
}

fn same_address(a: &str, b: Address) -> bool {
    a.trim().parse::<Address>().is_ok_and(|a| a == b)
}

/// Every field where `plan`'s terms (and protocol name) differ from `on`.
pub fn compare(
    protocol: &str,
    plan: &firebreak_plan::SafeHarbor,
    on: &OnchainAgreement,
) -> Vec<Difference> {
    let mut out = Vec::new();
    let mut differ = |field: &str, p: String, c: String| {
        if p != c {
            out.push(Difference { field: field.to_owned(), plan: p, chain: c });
        }
    };
    differ("protocolName", protocol.to_owned(), on.protocol_name.clone());
    differ("agreementURI", plan.agreement_uri.clone().unwrap_or_default(), on.uri.clone());
    // SEAL states the percentage in whole percent
    let chain_pct = u32::try_from(on.bounty_percentage)
        .ok()
        .and_then(|p| p.checked_mul(100))
        .map_or_else(|| on.bounty_percentage.to_string(), crate::percent);
    differ("bountyTerms.bountyPercentage", crate::percent(plan.bounty_bps), chain_pct);
    differ(
        "bountyTerms.bountyCapUSD",
        plan.bounty_cap_usd.to_string(),
        on.bounty_cap_usd.to_string(),
    );
    differ("bountyTerms.retainable", plan.retainable.to_string(), on.retainable.to_string());
    differ(
        "bountyTerms.identity",
        named(&IDENTITY, plan.identity as u8),
        named(&IDENTITY, on.identity),
    );
    differ(
        "bountyTerms.diligenceRequirements",
        plan.diligence.clone().unwrap_or_default(),
        on.diligence.clone(),
    );
    if on.version != "v1" {
        differ(
            "bountyTerms.aggregateBountyCapUSD",
            plan.aggregate_cap_usd.unwrap_or(0).to_string(),
            on.aggregate_cap_usd.to_string(),
        );
    }
    let mut plan_contacts: Vec<(String, String)> =
        plan.contacts.iter().map(|c| (c.name.clone(), c.contact.clone())).collect();
    let mut chain_contacts = on.contacts.clone();
    plan_contacts.sort();
    chain_contacts.sort();
    let show = |v: &[(String, String)]| {
        v.iter().map(|(n, c)| format!("{n} <{c}>")).collect::<Vec<_>>().join(", ")
    };
    differ("contactDetails", show(&plan_contacts), show(&chain_contacts));
    for c in &plan.chains {
        let Some(oc) = on.chains.iter().find(|oc| oc.caip2 == c.caip2) else {
            differ(
                &format!("chains[{}]", c.caip2),
                format!("chain `{}`", c.chain),
                "absent".into(),
            );
            continue;
        };
        if !same_address(&oc.recovery, c.recovery) {
            differ(
                &format!("chains[{}].assetRecoveryAddress", c.caip2),
                c.recovery.to_string(),
                oc.recovery.clone(),
            );
        }
        for a in &c.accounts {
            match oc.accounts.iter().find(|(s, _)| same_address(s, *a)) {
                None => differ(
                    &format!("chains[{}].accounts[{a}]", c.caip2),
                    "in scope".into(),
                    "absent".into(),
                ),
                Some((_, scope)) => differ(
                    &format!("chains[{}].accounts[{a}].childContractScope", c.caip2),
                    named(&SCOPE, c.child_contract_scope.index()),
                    named(&SCOPE, *scope),
                ),
            }
        }
        for (s, _) in &oc.accounts {
            if !c.accounts.iter().any(|a| same_address(s, *a)) {
                differ(
                    &format!("chains[{}].accounts[{s}]", c.caip2),
                    "absent".into(),
                    "in scope".into(),
                );
            }
        }
    }
    for oc in &on.chains {
        if !plan.chains.iter().any(|c| c.caip2 == oc.caip2) {
            differ(
                &format!("chains[{}]", oc.caip2),
                "absent".into(),
                format!("recovery {}", oc.recovery),
            );
        }
    }
    out
}
