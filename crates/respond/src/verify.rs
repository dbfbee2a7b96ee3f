//! `firebreak verify`: proves a plan against the chains as they are now.
//!
//! For each chain: the id. For each contract: code at the address, whether it
//! is already paused, and every pause path simulated from the account that
//! would send it. For each Safe: owners, threshold, hot signers, pre-signed
//! pauses. For every sender: enough ETH for several pauses at a stress gas
//! price. Each item passes, warns, or fails (blocking), with how to fix it.

use std::fmt::Write as _;

use crate::{ChainLink, safe_state, simulate, valid_signatures};
use alloy::{
    primitives::{Address, B256, Bytes, U256},
    providers::Provider as _,
    rpc::types::TransactionRequest,
};
use alloy_sol_types::SolValue as _;
use firebreak_plan::{Authority, Plan};
use firebreak_store::IncidentStore;
use serde::Serialize;

/// Outcome of one item.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Ready.
    Pass,
    /// Worth fixing; does not stop the plan from working.
    Warn,
    /// The plan will not work as written.
    Fail,
}

/// One checked item.
#[derive(Debug, Clone, Serialize)]
pub struct Check {
    /// What kind of check (`chain-id`, `code`, `pause-path`, …).
    pub kind: &'static str,
    /// What was checked (`vault via signer:guardian`).
    pub subject: String,
    /// Outcome.
    pub status: Status,
    /// What was found.
    pub detail: String,
    /// How to fix it (failures and warnings).
    pub fix: Option<String>,
}

/// The readiness report.
#[derive(Debug, Clone, Serialize)]
pub struct Readiness {
    /// Protocol name.
    pub protocol: String,
    /// Every item.
    pub checks: Vec<Check>,
    /// 0–100: passes count 1, warnings ½, failures 0.
    pub score: u32,
    /// Failures.
    pub blocking: usize,
    /// Warnings.
    pub warnings: usize,
}

/// Settings.
#[derive(Debug, Clone)]
pub struct VerifyOptions {
    /// Pause transactions every sender must be able to pay for.
    pub pauses: u64,
    /// Gas price of the stress scenario, in gwei.
    pub stress_gwei: u64,
    /// The last drill of this plan: (age, passed), when one was recorded.
    pub last_drill: Option<(std::time::Duration, bool)>,
    /// Also send a test message through every channel.
    pub notify: bool,
}

impl Default for VerifyOptions {
    fn default() -> Self {
        Self { pauses: 5, stress_gwei: 200, last_drill: None, notify: false }
    }
}

struct Report(Vec<Check>);

impl Report {
    fn add(
        &mut self,
        kind: &'static str,
        subject: impl Into<String>,
        status: Status,
        detail: impl Into<String>,
        fix: Option<String>,
    ) {
        self.0.push(Check { kind, subject: subject.into(), status, detail: detail.into(), fix });
    }
}

async fn call_view(link: &ChainLink, to: Address, data: Vec<u8>) -> Option<Bytes> {
    let req = TransactionRequest::default().to(to).input(Bytes::from(data).into());
    link.read("eth_call", |p| {
        let req = req.clone();
        async move { p.call(req).await }
    })
    .await
    .ok()
}

/// Links and sender gas: what the sections hand to each other.
type Links = std::collections::BTreeMap<String, ChainLink>;
type Senders = std::collections::BTreeMap<(String, Address), (String, u64)>;

/// Checks `plan` against its chains (and `store` for pre-signed pauses),
/// section by section.
pub async fn verify(
    plan: &Plan,
    store: Option<&dyn IncidentStore>,
    opts: &VerifyOptions,
) -> Readiness {
    let mut r = Report(Vec::new());
    let links = chains(plan, &mut r).await;
    let senders = contracts(plan, &links, &mut r).await;
    safes(plan, &links, store, &mut r).await;
    revoke_paths(plan, &links, &mut r).await;
    pre_emption(plan, &links, &mut r).await;
    safe_harbor(plan, &links, &mut r).await;
    gas_money(&links, &senders, opts, &mut r).await;
    if opts.notify {
        channels(plan, &mut r).await;
    }
    last_drill(opts, &mut r);
    finish(plan, r.0)
}

/// Each chain with `pre_empt` monitors: whether pre-emption can work there.
/// A chain without a public mempool (`mempool = "none"`) cannot show a
/// transaction before it is mined; a public one must serve pending
/// transactions (a filter is opened and closed again to prove it).
async fn pre_emption(plan: &Plan, links: &Links, r: &mut Report) {
    for (key, chain) in &plan.chains {
        let monitors: Vec<&str> = plan
            .monitors
            .iter()
            .filter(|(_, m)| m.enabled && m.pre_empt && &m.chain == key)
            .map(|(id, _)| id.as_str())
            .collect();
        if monitors.is_empty() {
            continue;
        }
        let subject = format!("pre-emption on chain `{key}` ({})", monitors.join(", "));
        if chain.mempool == firebreak_plan::Mempool::None {
            r.add(
                "pre-emption",
                subject,
                Status::Warn,
                "pre-emption is unavailable on this chain: `mempool = \"none\"` (no public pending pool: a rollup sequencer, or private order flow); its pre_empt monitors fire on inclusion only",
                Some(format!("if the chain's endpoints serve pending transactions, set `mempool = \"public\"` under [chains.{key}]; otherwise rely on the next-block pause")),
            );
            continue;
        }
        let Some(link) = links.get(key) else { continue };
        let opened = link
            .read("eth_newPendingTransactionFilter", |p| async move {
                p.raw_request::<_, alloy_primitives::U256>(
                    "eth_newPendingTransactionFilter".into(),
                    (),
                )
                .await
            })
            .await;
        match opened {
            Ok(id) => {
                let _ = link
                    .read("eth_uninstallFilter", |p| async move {
                        p.raw_request::<_, bool>("eth_uninstallFilter".into(), (id,)).await
                    })
                    .await;
                let (builders, skipped) = crate::plan_builders(plan, key).unwrap_or_default();
                let bundles = if builders.is_empty() {
                    String::new()
                } else {
                    let labels: Vec<&str> = builders.iter().map(firebreak_chain::RpcEndpoint::label).collect();
                    format!("; pauses also go as bundles to {}", labels.join(", "))
                };
                if !skipped.is_empty() {
                    r.add(
                        "pre-emption",
                        subject.clone(),
                        Status::Warn,
                        format!("builder(s) left out, so no bundle goes to them: {}", skipped.join("; ")),
                        Some("set the secret the builder's URL comes from, or remove it from `builders`".into()),
                    );
                }
                r.add(
                    "pre-emption",
                    subject,
                    Status::Pass,
                    format!("the endpoints serve pending transactions: each is simulated, and a pause outbids an attack it catches{bundles}; private order flow stays unseen"),
                    None,
                );
            }
            Err(e) => r.add(
                "pre-emption",
                subject,
                Status::Warn,
                format!("pre-emption is unavailable on this chain: the endpoints serve no pending transactions ({e}); its pre_empt monitors fire on inclusion only"),
                Some("use an endpoint that serves the public mempool (eth_newPendingTransactionFilter, or newPendingTransactions over WebSocket), or set `mempool = \"none\"`".into()),
            ),
        }
    }
}

/// Each `revoke_roles` step's first path, proved able to revoke on each of
/// its contracts: `revokeRole(DEFAULT_ADMIN_ROLE, 0x…dEaD)` simulated from
/// it (a no-op that AccessControl still refuses to a non-admin). A path
/// that cannot revoke is found now, not during a key compromise.
async fn revoke_paths(plan: &Plan, links: &Links, r: &mut Report) {
    use alloy_sol_types::SolCall as _;
    alloy_sol_types::sol! {
        function revokeRole(bytes32 role, address account) external;
    }
    let nobody = Address::repeat_byte(0xde);
    let data: Bytes =
        revokeRoleCall { role: alloy_primitives::B256::ZERO, account: nobody }.abi_encode().into();
    let mut seen = std::collections::BTreeSet::new();
    for (name, pb) in &plan.playbooks {
        for step in &pb.steps {
            let firebreak_plan::StepAction::RevokeRoles { contracts, via, .. } = &step.action
            else {
                continue;
            };
            let Some(first) = via.first() else { continue };
            let (label, who) = match first {
                Authority::Signer(s) => (format!("signer `{s}`"), signer_address(plan, s)),
                Authority::Safe(s) => (format!("Safe `{s}`"), plan.safes.get(s).map(|x| x.address)),
            };
            let Some(who) = who else { continue };
            for key in contracts {
                let Some(c) = plan.contracts.get(key) else { continue };
                let Some(link) = links.get(&c.chain) else { continue };
                if !seen.insert((key.clone(), who)) {
                    continue;
                }
                let abis = vec![&c.abi];
                let subject = format!("`{key}` through {label} (playbook `{name}`)");
                match simulate(link, who, c.address, &data, &abis).await {
                    Ok(None) => r.add(
                        "revoke-path",
                        subject,
                        Status::Pass,
                        format!("{who} can revoke roles (an admin of DEFAULT_ADMIN_ROLE)"),
                        None,
                    ),
                    Ok(Some(why)) => r.add(
                        "revoke-path",
                        subject,
                        Status::Fail,
                        format!("{who} cannot revoke roles on `{key}`: {why}; step `{}` would fail during a key compromise", step.id),
                        Some(format!("grantRole(DEFAULT_ADMIN_ROLE, {who}) on `{key}`, or send the step through an admin")),
                    ),
                    Err(e) => r.add(
                        "revoke-path",
                        subject,
                        Status::Warn,
                        format!("could not simulate a revocation: {e}"),
                        None,
                    ),
                }
            }
        }
    }
}

/// The Safe Harbor agreement on chain, field by field against the plan's
/// terms: white hats act on what the chain says.
async fn safe_harbor(plan: &Plan, links: &Links, r: &mut Report) {
    use firebreak_plan::AgreementAt;
    use firebreak_recover::agreement as seal;
    let Some(sh) = &plan.safe_harbor else { return };
    let Some(at) = &sh.onchain else { return };
    let Some(link) = links.get(&at.chain) else { return };
    let raw = |to: Address, data: Bytes, what: &'static str| async move {
        link.read(what, |p| {
            let req = TransactionRequest::default().to(to).input(data.clone().into());
            async move { p.call(req).await }
        })
        .await
        .map_err(|e| e.to_string())
    };
    let version_of = |to: Address| async move {
        raw(to, seal::version_call(), "version")
            .await
            .ok()
            .and_then(|o| String::abi_decode(&o).ok())
            .map(|v| seal::version_name(&v))
    };
    let read = async {
        let (contract, version) = match at.at {
            AgreementAt::Agreement(a) => (a, None),
            AgreementAt::Registry { registry, adopter } => {
                let version = version_of(registry).await;
                let out = raw(registry, seal::get_agreement_call(adopter), "getAgreement")
                    .await
                    .map_err(|e| {
                        format!(
                            "the registry {registry} has no agreement adopted by {adopter} ({e})"
                        )
                    })?;
                match seal::decode_registry_answer(&out)? {
                    seal::RegistryAnswer::Details(d) => return Ok(*d),
                    seal::RegistryAnswer::Contract(a) => (a, version),
                }
            }
        };
        // a v1 agreement says so itself (a v2 registry may fall back to v1)
        let version = version_of(contract).await.or(version);
        let out = raw(contract, seal::get_details_call(), "getDetails").await.map_err(|e| {
            format!("getDetails() of {contract} failed ({e}); is it a SEAL Safe Harbor agreement?")
        })?;
        seal::decode_details(&out, Some(contract), version)
    };
    let subject = match at.at {
        AgreementAt::Agreement(a) => format!("Safe Harbor agreement {a}"),
        AgreementAt::Registry { registry, adopter } => {
            format!("Safe Harbor agreement of {adopter} in registry {registry}")
        }
    };
    let on = match read.await {
        Ok(on) => on,
        Err(e) => {
            r.add(
                "safe-harbor",
                subject,
                Status::Fail,
                e,
                Some(
                    "check [safe_harbor] registry, adopter and agreement, and agreement_chain"
                        .into(),
                ),
            );
            return;
        }
    };
    let differences = seal::compare(&plan.protocol.name, sh, &on);
    if differences.is_empty() {
        r.add(
            "safe-harbor",
            subject.clone(),
            Status::Pass,
            format!("the {} agreement on chain matches the plan's terms", on.version),
            None,
        );
    }
    for d in differences {
        r.add(
            "safe-harbor",
            format!("{subject}: {}", d.field),
            Status::Fail,
            format!("the plan says `{}`, the {} agreement on chain says `{}`", d.plan, on.version, d.chain),
            Some("white hats act on the agreement on chain: bring [safe_harbor] in line with it, or adopt an amended agreement".into()),
        );
    }
}

/// Each chain answers with the plan's chain id.
async fn chains(plan: &Plan, r: &mut Report) -> Links {
    let mut links = Links::new();
    for (key, chain) in &plan.chains {
        let subject = format!("chain `{key}`");
        let answer = match crate::connect_link(plan, key).await {
            Ok(link) => link
                .read("eth_chainId", |p| async move { p.get_chain_id().await })
                .await
                .map(|id| (link, id))
                .map_err(|e| e.to_string()),
            Err(e) => Err(e.to_string()),
        };
        match answer {
            Ok((link, id)) if id == chain.id => {
                r.add("chain-id", subject, Status::Pass, format!("chain id {id}"), None);
                links.insert(key.clone(), link);
            }
            Ok((_, id)) => r.add(
                "chain-id",
                subject,
                Status::Fail,
                format!("the endpoints answer chain id {id}, the plan says {}", chain.id),
                Some(format!("point [chains.{key}].rpc at chain {} or correct `id`", chain.id)),
            ),
            Err(e) => {
                r.add("chain-id", subject, Status::Fail, e, Some("check the RPC endpoints".into()));
            }
        }
    }
    links
}

/// A signer's address, stated in the plan or read from its key.
fn signer_address(plan: &Plan, id: &str) -> Option<Address> {
    let s = plan.signers.get(id)?;
    s.address
        .or_else(|| firebreak_plan::load_signer(id, s, &plan.base_dir).ok().map(|k| k.address()))
}

/// Each contract: code at its address, whether it is paused already, and
/// every pause path simulated from its sender. Returns each sender's gas.
async fn contracts(plan: &Plan, links: &Links, r: &mut Report) -> Senders {
    let mut senders = Senders::new();
    for (key, c) in &plan.contracts {
        let Some(link) = links.get(&c.chain) else { continue };
        if !code(key, c, link, r).await {
            continue;
        }
        owner(plan, key, c, link, r).await;
        admins(plan, key, c, link, r).await;
        if let Some(path) = &c.pause {
            pause_paths(plan, key, c, path, link, &mut senders, r).await;
        }
    }
    senders
}

/// Code at the contract's address.
async fn code(key: &str, c: &firebreak_plan::Contract, link: &ChainLink, r: &mut Report) -> bool {
    let code = link.read("eth_getCode", |p| async move { p.get_code_at(c.address).await }).await;
    match code {
        Ok(code) if !code.is_empty() => r.add(
            "code",
            format!("contract `{key}`"),
            Status::Pass,
            format!("{} bytes of code at {}", code.len(), c.address),
            None,
        ),
        Ok(_) => {
            r.add(
                "code",
                format!("contract `{key}`"),
                Status::Fail,
                format!("no code at {} on chain `{}`", c.address, c.chain),
                Some(format!("check [contracts.{key}].address and its chain")),
            );
            return false;
        }
        Err(e) => {
            r.add("code", format!("contract `{key}`"), Status::Fail, e.to_string(), None);
            return false;
        }
    }
    true
}

/// Who `owner()` is, when the contract has one: a Safe or signer of the plan.
async fn owner(
    plan: &Plan,
    key: &str,
    c: &firebreak_plan::Contract,
    link: &ChainLink,
    r: &mut Report,
) {
    if let Some(f) = c.abi.function("owner").and_then(|f| f.first()).filter(|f| f.inputs.is_empty())
        && let Some(out) = call_view(link, c.address, f.selector().to_vec()).await
        && out.len() >= 32
    {
        let owner = Address::from_slice(&out[12..32]);
        let known = plan.safes.values().any(|s| s.address == owner)
            || plan.signers.keys().any(|s| signer_address(plan, s) == Some(owner));
        if known {
            r.add(
                "owner",
                format!("contract `{key}`"),
                Status::Pass,
                format!("owner() is {owner}, held by the plan"),
                None,
            );
        } else {
            r.add(
                "owner",
                format!("contract `{key}`"),
                Status::Warn,
                format!("owner() is {owner}, which is not a signer or Safe of the plan"),
                Some(
                    "add the owner to the plan (a Safe or signer) so the team knows who holds it"
                        .into(),
                ),
            );
        }
    }
}

/// Who holds `DEFAULT_ADMIN_ROLE` of an AccessControl contract (from its
/// `RoleGranted` logs, each checked with `hasRole` now): a Safe of the plan
/// passes, any other contract is named, a single key (no code) warns.
async fn admins(
    plan: &Plan,
    key: &str,
    c: &firebreak_plan::Contract,
    link: &ChainLink,
    r: &mut Report,
) {
    use alloy::rpc::types::Filter;
    let granted = alloy_primitives::keccak256("RoleGranted(bytes32,address,address)");
    let Some(has_role) =
        c.abi.function("hasRole").and_then(|f| f.first()).filter(|f| f.inputs.len() == 2)
    else {
        return;
    };
    let subject = format!("admin of `{key}`");
    let filter = Filter::new()
        .address(c.address)
        .event_signature(granted)
        .topic1(B256::ZERO)
        .from_block(0u64);
    let logs = match link
        .read("eth_getLogs", |p| {
            let filter = filter.clone();
            async move { p.get_logs(&filter).await }
        })
        .await
    {
        Ok(logs) => logs,
        Err(e) => {
            r.add(
                "admin-role",
                subject,
                Status::Warn,
                format!("cannot list the DEFAULT_ADMIN_ROLE holders: {e}"),
                Some(
                    "verify against a node that serves eth_getLogs from the contract's deployment"
                        .into(),
                ),
            );
            return;
        }
    };
    let mut holders: Vec<Address> =
        logs.iter().filter_map(|l| l.topics().get(2).map(|t| Address::from_word(*t))).collect();
    holders.sort();
    holders.dedup();
    for who in holders {
        let mut data = has_role.selector().to_vec();
        data.extend_from_slice(&[0u8; 32]);
        data.extend_from_slice(&[0u8; 12]);
        data.extend_from_slice(who.as_slice());
        if call_view(link, c.address, data).await.is_none_or(|o| o.get(31) != Some(&1)) {
            continue; // revoked since
        }
        if let Some((name, _)) = plan.safes.iter().find(|(_, s)| s.address == who) {
            r.add(
                "admin-role",
                subject.clone(),
                Status::Pass,
                format!("{who} (Safe `{name}`) holds DEFAULT_ADMIN_ROLE"),
                None,
            );
            continue;
        }
        let code = link.read("eth_getCode", |p| async move { p.get_code_at(who).await }).await;
        match code {
            Ok(code) if code.is_empty() => r.add("admin-role", subject.clone(), Status::Warn, format!("{who} holds DEFAULT_ADMIN_ROLE: a single key, one theft from granting itself every role"), Some(format!("grant DEFAULT_ADMIN_ROLE to a Safe of the plan and renounce it from {who}"))),
            Ok(_) => r.add("admin-role", subject.clone(), Status::Pass, format!("{who} (a contract, not a Safe of the plan) holds DEFAULT_ADMIN_ROLE"), None),
            Err(e) => r.add("admin-role", subject.clone(), Status::Warn, format!("{who} holds DEFAULT_ADMIN_ROLE; its code could not be read: {e}"), None),
        }
    }
}

/// The pause's role holders and every path simulated from its sender.
async fn pause_paths(
    plan: &Plan,
    key: &str,
    c: &firebreak_plan::Contract,
    path: &firebreak_plan::ControlPath,
    link: &ChainLink,
    senders: &mut Senders,
    r: &mut Report,
) {
    let abis: Vec<&alloy_json_abi::JsonAbi> =
        plan.contracts.values().filter(|x| x.chain == c.chain).map(|x| &x.abi).collect();
    // role holders: OpenZeppelin AccessControl with a PAUSER_ROLE getter
    let has_role =
        c.abi.function("hasRole").and_then(|f| f.first()).filter(|f| f.inputs.len() == 2);
    let role =
        c.abi.function("PAUSER_ROLE").and_then(|f| f.first()).filter(|f| f.inputs.is_empty());
    if let (Some(has_role), Some(role)) = (has_role, role)
        && let Some(role_id) = call_view(link, c.address, role.selector().to_vec()).await
        && role_id.len() >= 32
    {
        for authority in &path.via {
            let (label, who) = match authority {
                Authority::Signer(s) => (format!("signer `{s}`"), signer_address(plan, s)),
                Authority::Safe(s) => (format!("Safe `{s}`"), plan.safes.get(s).map(|x| x.address)),
            };
            let Some(who) = who else { continue };
            let mut data = has_role.selector().to_vec();
            data.extend_from_slice(&role_id[..32]);
            data.extend_from_slice(&[0u8; 12]);
            data.extend_from_slice(who.as_slice());
            let holds =
                call_view(link, c.address, data).await.is_some_and(|o| o.get(31) == Some(&1));
            let subject = format!("PAUSER_ROLE of `{key}` for {label}");
            if holds {
                r.add("role", subject, Status::Pass, format!("{who} holds it"), None);
            } else {
                r.add("role", subject, Status::Warn, format!("{who} does not hold it (its pause path relies on another permission, or fails)"), Some(format!("grantRole(PAUSER_ROLE, {who}) on `{key}`, or remove the path")));
            }
        }
    }
    if let Some(f) =
        c.abi.function("paused").and_then(|f| f.first()).filter(|f| f.inputs.is_empty())
        && let Some(out) = call_view(link, c.address, f.selector().to_vec()).await
        && out.get(31) == Some(&1)
    {
        r.add(
            "paused",
            format!("contract `{key}`"),
            Status::Fail,
            "already paused: a pause cannot be simulated or sent",
            Some("unpause it when the incident is over (or this is an ongoing incident)".into()),
        );
        return;
    }
    for authority in &path.via {
        let (label, from) = match authority {
            Authority::Signer(s) => (format!("signer:{s}"), signer_address(plan, s)),
            Authority::Safe(s) => (format!("safe:{s}"), plan.safes.get(s).map(|x| x.address)),
        };
        let subject = format!("pause `{key}` via {label}");
        let Some(from) = from else {
            r.add(
                "pause-path",
                subject,
                Status::Fail,
                "the sender's address is unknown (no key loaded and no `address`)",
                Some("set the signer's `address` or make its key available".into()),
            );
            continue;
        };
        match simulate(link, from, c.address, &path.calldata, &abis).await {
            Ok(None) => {
                let gas = link
                    .read("eth_estimateGas", |p| {
                        let req = TransactionRequest::default()
                            .from(from)
                            .to(c.address)
                            .input(path.calldata.clone().into());
                        async move { p.estimate_gas(req).await }
                    })
                    .await
                    .unwrap_or(100_000);
                r.add(
                    "pause-path",
                    subject,
                    Status::Pass,
                    format!("simulated from {from}: succeeds ({gas} gas)"),
                    None,
                );
                match authority {
                    Authority::Signer(s) => {
                        let e = senders
                            .entry((c.chain.clone(), from))
                            .or_insert((format!("signer `{s}`"), 0));
                        e.1 = e.1.max(gas);
                    }
                    Authority::Safe(name) => {
                        if let Some(relayer) = plan.safes[name].relayer.as_deref().or(plan.safes
                            [name]
                            .hot_signers
                            .first()
                            .map(String::as_str))
                            && let Some(addr) = signer_address(plan, relayer)
                        {
                            let e = senders
                                .entry((c.chain.clone(), addr))
                                .or_insert((format!("relayer `{relayer}` of Safe `{name}`"), 0));
                            e.1 = e.1.max(gas + 80_000);
                        }
                    }
                }
            }
            Ok(Some(reason)) => {
                let fix = match authority {
                    Authority::Signer(s) => format!(
                        "grant the pausing role to `{s}` ({from}) on `{key}`, or remove this path"
                    ),
                    Authority::Safe(s) => format!(
                        "grant the pausing role to Safe `{s}` ({from}) on `{key}`, or remove this path"
                    ),
                };
                r.add(
                    "pause-path",
                    subject,
                    Status::Fail,
                    format!("simulated from {from}: reverts with {reason}"),
                    Some(fix),
                );
            }
            Err(e) => r.add("pause-path", subject, Status::Fail, e.to_string(), None),
        }
    }
}

/// Each Safe: owners, threshold, hot signers and pre-signed pauses.
async fn safes(plan: &Plan, links: &Links, store: Option<&dyn IncidentStore>, r: &mut Report) {
    for (name, safe) in &plan.safes {
        let Some(link) = links.get(&safe.chain) else { continue };
        let subject = format!("Safe `{name}`");
        let (nonce, owners, threshold) = match safe_state(link, safe.address).await {
            Ok(s) => s,
            Err(e) => {
                r.add(
                    "safe",
                    subject,
                    Status::Fail,
                    format!("cannot read the Safe at {}: {e}", safe.address),
                    Some("check the address: is a Safe deployed there?".into()),
                );
                continue;
            }
        };
        let mut plan_owners = safe.owners.clone();
        plan_owners.sort();
        let mut chain_owners = owners.clone();
        chain_owners.sort();
        if plan_owners == chain_owners {
            r.add(
                "safe-owners",
                subject.clone(),
                Status::Pass,
                format!("{} owners as in the plan", owners.len()),
                None,
            );
        } else {
            let missing: Vec<String> = chain_owners
                .iter()
                .filter(|o| !plan_owners.contains(o))
                .map(ToString::to_string)
                .collect();
            let extra: Vec<String> = plan_owners
                .iter()
                .filter(|o| !chain_owners.contains(o))
                .map(ToString::to_string)
                .collect();
            r.add("safe-owners", subject.clone(), Status::Fail, format!("owners differ: on chain but not in the plan [{}]; in the plan but not on chain [{}]", missing.join(", "), extra.join(", ")), Some(format!("make [safes.{name}].owners equal to getOwners()")));
        }
        if u64::from(safe.threshold) == threshold {
            r.add(
                "safe-threshold",
                subject.clone(),
                Status::Pass,
                format!("threshold {threshold}"),
                None,
            );
        } else {
            r.add(
                "safe-threshold",
                subject.clone(),
                Status::Fail,
                format!("threshold on chain is {threshold}, the plan says {}", safe.threshold),
                Some(format!("set [safes.{name}].threshold = {threshold}, or change it on chain")),
            );
        }
        // losing one owner (a stolen or lost key) must leave the threshold reachable
        let left = owners.len().saturating_sub(1) as u64;
        if left >= threshold {
            r.add("safe-resilience", subject.clone(), Status::Pass, format!("with any one owner lost, {left} owners can still reach the threshold {threshold}"), None);
        } else {
            r.add("safe-resilience", subject.clone(), Status::Warn, format!("with any one owner lost, {left} owner(s) cannot reach the threshold {threshold}: a compromised key could not be rotated out"), Some(format!("add an owner, or lower the threshold below {} owners", owners.len())));
        }
        if safe.standby_owners.is_empty() {
            r.add("standby-owners", subject.clone(), Status::Warn, "no standby owners: a compromised owner has no prepared replacement", Some(format!("add standby_owners = [\"0x…\"] under [safes.{name}] (cold addresses, not owners today)")));
        } else {
            let already: Vec<String> = safe
                .standby_owners
                .iter()
                .filter(|a| owners.contains(a))
                .map(ToString::to_string)
                .collect();
            if already.is_empty() {
                r.add(
                    "standby-owners",
                    subject.clone(),
                    Status::Pass,
                    format!("{} standby owner(s), none an owner today", safe.standby_owners.len()),
                    None,
                );
            } else {
                r.add(
                    "standby-owners",
                    subject.clone(),
                    Status::Warn,
                    format!("standby owner(s) {} are owners on chain already", already.join(", ")),
                    Some(format!("update [safes.{name}].standby_owners")),
                );
            }
        }
        for hot in &safe.hot_signers {
            match signer_address(plan, hot) {
                Some(a) if owners.contains(&a) => r.add("hot-signer", format!("hot signer `{hot}` of Safe `{name}`"), Status::Pass, format!("{a} is an owner on chain"), None),
                Some(a) => r.add("hot-signer", format!("hot signer `{hot}` of Safe `{name}`"), Status::Fail, format!("{a} is not an owner of the Safe on chain"), Some(format!("add {a} as an owner (addOwnerWithThreshold) or remove `{hot}` from hot_signers"))),
                None => r.add("hot-signer", format!("hot signer `{hot}` of Safe `{name}`"), Status::Fail, "its address is unknown", Some("set the signer's `address`".into())),
            }
        }
        if let Some(store) = store
            && let Ok(list) = store.presigned(link.chain_id, safe.address).await
            && let Some(newest) = list.first()
        {
            let subject = format!("pre-signed pause of Safe `{name}`");
            if newest.nonce != nonce {
                r.add("presigned", subject, Status::Fail, format!("signed at nonce {}, the Safe is at nonce {nonce}: the signatures are stale", newest.nonce), Some(format!("re-sign: firebreak safe presign PLAN --safe {name}")));
            } else {
                let have = valid_signatures(store, newest.safe_tx_hash, &owners)
                    .await
                    .map_or(0, |v| v.len());
                if have as u64 >= threshold {
                    r.add(
                        "presigned",
                        subject,
                        Status::Pass,
                        format!("valid at nonce {nonce} with {have} of {threshold} signatures"),
                        None,
                    );
                } else {
                    r.add(
                        "presigned",
                        subject,
                        Status::Warn,
                        format!("valid at nonce {nonce} but only {have} of {threshold} signatures"),
                        Some(format!("more owners run: firebreak safe presign PLAN --safe {name}")),
                    );
                }
            }
        }
    }
}

/// Every sender holds enough ETH for several pauses at a stress gas price.
async fn gas_money(links: &Links, senders: &Senders, opts: &VerifyOptions, r: &mut Report) {
    let stress = U256::from(opts.stress_gwei) * U256::from(1_000_000_000u64);
    for ((chain, address), (who, gas)) in senders {
        let Some(link) = links.get(chain) else { continue };
        let Ok(balance) =
            link.read("eth_getBalance", |p| async move { p.get_balance(*address).await }).await
        else {
            continue;
        };
        let need = stress * U256::from(*gas) * U256::from(opts.pauses);
        let subject = format!("gas money of {who}");
        if balance >= need {
            r.add(
                "balance",
                subject,
                Status::Pass,
                format!(
                    "{} ETH covers {} pauses at {} gwei",
                    eth(balance),
                    opts.pauses,
                    opts.stress_gwei
                ),
                None,
            );
        } else {
            r.add(
                "balance",
                subject,
                Status::Fail,
                format!(
                    "{address} holds {} ETH; {} pauses at {} gwei need {} ETH",
                    eth(balance),
                    opts.pauses,
                    opts.stress_gwei,
                    eth(need)
                ),
                Some(format!("send at least {} ETH to {address}", eth(need - balance))),
            );
        }
    }
}

/// A test message through every channel.
async fn channels(plan: &Plan, r: &mut Report) {
    {
        let http = reqwest::Client::new();
        for id in plan.channels.keys() {
            let subject = format!("channel `{id}`");
            let outcome = firebreak_notify::send_test(&http, plan, id, "verify").await;
            match outcome {
                Ok(()) => r.add("channel", subject, Status::Pass, "test message delivered", None),
                Err(e) => r.add(
                    "channel",
                    subject,
                    Status::Fail,
                    e,
                    Some(format!(
                        "fix [channels.{id}], then: firebreak notify test PLAN --channel {id}"
                    )),
                ),
            }
        }
    }
}

/// The last drill of the plan, and how old it is.
fn last_drill(opts: &VerifyOptions, r: &mut Report) {
    let drill_fix = Some("run a drill on a fork: firebreak drill PLAN --scenario FILE".to_owned());
    match opts.last_drill {
        None => {
            r.add("drill", "last drill", Status::Warn, "no drill recorded for this plan", drill_fix)
        }
        Some((age, passed)) => {
            let days = age.as_secs() / 86_400;
            let when = if days == 0 { "today".to_owned() } else { format!("{days} day(s) ago") };
            if !passed {
                r.add(
                    "drill",
                    "last drill",
                    Status::Warn,
                    format!("the last drill ({when}) missed its target"),
                    drill_fix,
                );
            } else if days > 90 {
                r.add(
                    "drill",
                    "last drill",
                    Status::Warn,
                    format!("the last passing drill was {when}"),
                    drill_fix,
                );
            } else {
                r.add("drill", "last drill", Status::Pass, format!("passed {when}"), None);
            }
        }
    }
}

fn eth(wei: U256) -> String {
    let milli = wei / U256::from(1_000_000_000_000_000u64);
    format!("{}.{:03}", milli / U256::from(1000u64), (milli % U256::from(1000u64)).to::<u64>())
}

fn finish(plan: &Plan, checks: Vec<Check>) -> Readiness {
    let blocking = checks.iter().filter(|c| c.status == Status::Fail).count();
    let warnings = checks.iter().filter(|c| c.status == Status::Warn).count();
    let passes = checks.len() - blocking - warnings;
    let score = if checks.is_empty() {
        0
    } else {
        u32::try_from((passes * 100 + warnings * 50) / checks.len()).unwrap_or(0)
    };
    Readiness { protocol: plan.protocol.name.clone(), checks, score, blocking, warnings }
}

impl Readiness {
    /// A human table.
    pub fn text(&self) -> String {
        let mut out = String::new();
        let width = self.checks.iter().map(|c| c.subject.chars().count()).max().unwrap_or(10);
        for c in &self.checks {
            let mark = match c.status {
                Status::Pass => "PASS",
                Status::Warn => "WARN",
                Status::Fail => "FAIL",
            };
            let _ = writeln!(out, "{mark}  {:<width$}  {}", c.subject, c.detail);
            if let (Some(fix), true) = (&c.fix, c.status != Status::Pass) {
                let _ = writeln!(out, "      {:<width$}  fix: {fix}", "");
            }
        }
        let _ = writeln!(
            out,
            "\n{}: readiness {}/100 — {} check(s), {} blocking, {} warning(s)",
            self.protocol,
            self.score,
            self.checks.len(),
            self.blocking,
            self.warnings
        );
        out
    }

    /// A Markdown report.
    pub fn markdown(&self) -> String {
        let mut out = format!(
            "# Readiness of {}\n\nScore **{}/100** — {} blocking, {} warning(s).\n\n| status | item | found | fix |\n|---|---|---|---|\n",
            self.protocol, self.score, self.blocking, self.warnings
        );
        for c in &self.checks {
            let status = match c.status {
                Status::Pass => "✅ pass",
                Status::Warn => "⚠️ warn",
                Status::Fail => "❌ fail",
            };
            let _ = writeln!(
                out,
                "| {status} | {} | {} | {} |",
                c.subject.replace('|', "\\|"),
                c.detail.replace('|', "\\|"),
                c.fix.as_deref().unwrap_or("").replace('|', "\\|")
            );
        }
        out
    }
}
