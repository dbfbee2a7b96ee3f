//! Key-compromise steps: reject what is queued on a Safe, rotate a
//! compromised owner out, revoke a compromised account's roles. The
//! compromised account never signs or sends anything these steps do; each
//! transaction is simulated first and goes through the ordinary action
//! records (a restart resumes it, the timeline shows it).

use alloy_primitives::U256;
use alloy_sol_types::SolCall as _;
use firebreak_plan::AccountRef;

use super::{
    onchain::{SafeRound, action_key},
    *,
};

alloy_sol_types::sol! {
    function swapOwner(address prevOwner, address oldOwner, address newOwner) external;
    function revokeRole(bytes32 role, address account) external;
    function hasRole(bytes32 role, address account) external view returns (bool);
    function balanceOf(address account) external view returns (uint256);
    function transfer(address to, uint256 amount) external returns (bool);
}

/// The Safe's owner-list sentinel: the "previous owner" of the first one.
const SENTINEL: Address =
    Address::new([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]);

impl Executor {
    /// The addresses `account` names for `incident`: a fixed one, or every
    /// address under that name in its alerts' evidence, in alert order.
    pub(super) async fn compromised_accounts(
        &self,
        incident: IncidentId,
        account: &AccountRef,
    ) -> Result<Vec<Address>> {
        let mut out = Vec::new();
        match account {
            AccountRef::Address(a) => out.push(*a),
            AccountRef::Plan(id) => out.extend(self.plan.account_address(id)),
            AccountRef::Evidence(name) => {
                for alert in self.store.incident_alerts(incident).await? {
                    if let Some(a) = alert.evidence.get(name).and_then(|v| v.parse().ok())
                        && !out.contains(&a)
                    {
                        out.push(a);
                    }
                }
            }
        }
        Ok(out)
    }

    /// One round of a key-compromise step.
    pub(super) async fn compromise_step(
        &self,
        incident: &firebreak_store::Incident,
        step: &str,
        action: &StepAction,
        policy: FeePolicy,
    ) -> Result<Progress> {
        let id = incident.id;
        let (StepAction::SafeReject { account, .. }
        | StepAction::RotateSigner { account, .. }
        | StepAction::RevokeRoles { account, .. }
        | StepAction::Sweep { account, .. }) = action
        else {
            return Ok(Progress::Failed("not a key-compromise step".into()));
        };
        let accounts = self.compromised_accounts(id, account).await?;
        if accounts.is_empty() {
            return Ok(Progress::Failed(format!(
                "no compromised account: the incident's alerts have no address under {account}"
            )));
        }
        match action {
            StepAction::SafeReject { safe, nonces, .. } => {
                self.reject(id, step, safe, *nonces, &accounts, policy).await
            }
            StepAction::RotateSigner { safe, standby, .. } => {
                self.rotate(id, step, safe, *standby, &accounts, policy).await
            }
            StepAction::RevokeRoles { contracts, via, .. } => {
                self.revoke(id, step, contracts, via, &accounts, policy).await
            }
            StepAction::Sweep { from, to, tokens, chain, .. } => {
                self.sweep(id, step, (from, *to), tokens, chain, &accounts, policy).await
            }
            _ => Ok(Progress::Failed("not a key-compromise step".into())),
        }
    }

    /// Lands the SafeTxs `(label, calls)` of Safe `safe` one after the
    /// other (each at the nonce the one before left), none signed by
    /// `avoid`. Done when every one is mined.
    async fn safe_sequence(
        &self,
        id: IncidentId,
        step: &str,
        safe: &str,
        txs: Vec<(String, Vec<(Address, Bytes)>)>,
        avoid: &[Address],
        policy: FeePolicy,
    ) -> Result<Progress> {
        let s = self.plan.safes.get(safe).ok_or(Error::Plan { what: "safe", id: safe.into() })?;
        let Some(link) = self.links.get(&s.chain) else {
            return Ok(Progress::Waiting(format!("no connection to chain `{}`", s.chain)));
        };
        let abis = self.abis_for(&s.chain);
        let mut done = Vec::new();
        for (label, calls) in txs {
            let actions: Vec<ActionRecord> =
                self.store.actions(id).await?.into_iter().filter(|a| a.step_id == step).collect();
            let labels = [label.as_str()];
            let key = action_key(id, step, PathRef::Safe(safe.to_owned()), &labels);
            if let Some(a) = actions.iter().find(|a| a.key == key) {
                match a.status {
                    ActionStatus::Mined => {
                        done.push(format!("{label}: mined"));
                        continue;
                    }
                    ActionStatus::Failed | ActionStatus::Reverted => {
                        return Ok(Progress::Failed(format!(
                            "{label}: {}",
                            a.error.clone().unwrap_or_else(|| "reverted".into())
                        )));
                    }
                    _ => {}
                }
            }
            let round = SafeRound { safe, labels: &labels, calls, avoid };
            match self.safe_round(id, step, round, &actions, link, policy, &abis).await? {
                Progress::Done(d) => done.push(format!("{label}: {d}")),
                Progress::Waiting(d) => return Ok(Progress::Waiting(format!("{label}: {d}"))),
                Progress::Failed(d) => return Ok(Progress::Failed(format!("{label}: {d}"))),
            }
        }
        Ok(Progress::Done(done.join("; ")))
    }

    /// `safe_reject`: an empty SafeTx to the Safe itself at its current
    /// nonce, then at each next one, `nonces` in all: whatever was queued
    /// at those nonces can never execute.
    async fn reject(
        &self,
        id: IncidentId,
        step: &str,
        safe: &str,
        nonces: u32,
        avoid: &[Address],
        policy: FeePolicy,
    ) -> Result<Progress> {
        let s = self.plan.safes.get(safe).ok_or(Error::Plan { what: "safe", id: safe.into() })?;
        let txs = (0..nonces)
            .map(|k| (format!("reject-{}", k + 1), vec![(s.address, Bytes::new())]))
            .collect();
        let progress = self.safe_sequence(id, step, safe, txs, avoid, policy).await?;
        Ok(match progress {
            Progress::Done(d) => Progress::Done(format!(
                "Safe `{safe}`: {nonces} nonce(s) rejected without {}; {d}",
                shown(avoid)
            )),
            other => other,
        })
    }

    /// `rotate_signer`: each compromised owner of the Safe is swapped for a
    /// standby owner with `swapOwner` (one call, the threshold unchanged).
    async fn rotate(
        &self,
        id: IncidentId,
        step: &str,
        safe: &str,
        standby: Option<Address>,
        avoid: &[Address],
        policy: FeePolicy,
    ) -> Result<Progress> {
        let s = self.plan.safes.get(safe).ok_or(Error::Plan { what: "safe", id: safe.into() })?;
        let Some(link) = self.links.get(&s.chain) else {
            return Ok(Progress::Waiting(format!("no connection to chain `{}`", s.chain)));
        };
        // the swaps already recorded are followed to the end, whatever the owners now
        let mut txs: Vec<(String, Vec<(Address, Bytes)>)> = self
            .store
            .actions(id)
            .await?
            .into_iter()
            .filter(|a| a.step_id == step)
            .filter_map(|a| {
                let label = a.key.contracts.first()?.clone();
                let tx: firebreak_safe::SafeTx = serde_json::from_value(a.safe_tx?).ok()?;
                Some((label, vec![(tx.to, tx.data)]))
            })
            .collect();
        let (_, mut owners, _) = crate::safe_path::safe_state(link, s.address).await?;
        let mut pool: Vec<Address> =
            standby.into_iter().chain(s.standby_owners.iter().copied()).collect();
        pool.retain(|a| !owners.contains(a) && !avoid.contains(a));
        for old in avoid {
            let label = format!("rotate-{old}");
            if txs.iter().any(|(l, _)| *l == label) {
                continue;
            }
            let Some(pos) = owners.iter().position(|o| o == old) else { continue };
            if pool.is_empty() {
                return Ok(Progress::Failed(format!(
                    "Safe `{safe}` has no standby owner left to swap in for {old}: add `standby_owners` to [safes.{safe}]"
                )));
            }
            let new = pool.remove(0);
            let prev = if pos == 0 { SENTINEL } else { owners[pos - 1] };
            let data: Bytes = swapOwnerCall { prevOwner: prev, oldOwner: *old, newOwner: new }
                .abi_encode()
                .into();
            owners[pos] = new;
            txs.push((label, vec![(s.address, data)]));
        }
        if txs.is_empty() {
            return Ok(Progress::Done(format!(
                "none of {} is an owner of Safe `{safe}`: nothing to rotate",
                shown(avoid)
            )));
        }
        self.safe_sequence(id, step, safe, txs, avoid, policy).await
    }

    /// `revoke_roles`: every role each compromised account holds on the
    /// contracts (granted in a `RoleGranted` log, still held by `hasRole`)
    /// is revoked through the step's paths; a Safe path batches them.
    async fn revoke(
        &self,
        id: IncidentId,
        step: &str,
        contracts: &[String],
        via: &[Authority],
        accounts: &[Address],
        policy: FeePolicy,
    ) -> Result<Progress> {
        let mut calls: Vec<(String, &str, Address, Bytes)> = Vec::new();
        let mut skipped = Vec::new();
        for key in contracts {
            let c = self
                .plan
                .contracts
                .get(key)
                .ok_or(Error::Plan { what: "contract", id: key.clone() })?;
            let Some(link) = self.links.get(&c.chain) else {
                return Ok(Progress::Waiting(format!("no connection to chain `{}`", c.chain)));
            };
            for account in accounts {
                if self.plan.safes.values().any(|s| s.address == *account) {
                    skipped.push(format!("{account} is a Safe of the plan; its roles stay"));
                    continue;
                }
                for role in roles_held(link, c.address, *account).await? {
                    let data: Bytes =
                        revokeRoleCall { role, account: *account }.abi_encode().into();
                    calls.push((format!("{key}:{role}:{account}"), &c.chain, c.address, data));
                }
            }
        }
        // revocations already under way are followed to the end with the
        // calls they were built with, even once the roles read as gone
        // (their own transaction decides that)
        let actions: Vec<ActionRecord> =
            self.store.actions(id).await?.into_iter().filter(|a| a.step_id == step).collect();
        for a in actions.iter().filter(|a| !a.status.is_final()) {
            let sent: Vec<(Address, Bytes)> = match a.kind {
                ActionKind::Guardian => vec![(a.to, a.calldata.clone())],
                ActionKind::Safe => a
                    .safe_tx
                    .clone()
                    .and_then(|v| serde_json::from_value::<firebreak_safe::SafeTx>(v).ok())
                    .map(|tx| match tx.operation {
                        firebreak_safe::Operation::Call => vec![(tx.to, tx.data)],
                        firebreak_safe::Operation::DelegateCall => {
                            firebreak_safe::unpack_multisend(&tx.data)
                                .unwrap_or_default()
                                .into_iter()
                                .map(|(_, to, _, data)| (to, data))
                                .collect()
                        }
                    })
                    .unwrap_or_default(),
            };
            // the batch's calls are in the order of its labels (see `on_chain`)
            if sent.len() != a.key.contracts.len() {
                continue;
            }
            for (label, (to, data)) in a.key.contracts.iter().zip(sent) {
                let Some(c) = contracts.iter().find_map(|k| {
                    let c = self.plan.contracts.get(k)?;
                    (label.starts_with(&format!("{k}:")) && c.address == to).then_some(c)
                }) else {
                    continue;
                };
                calls.retain(|(l, ..)| l != label);
                calls.push((label.clone(), &c.chain, to, data));
            }
        }
        if calls.is_empty() && actions.iter().any(|a| !a.status.is_final()) {
            // a batch in flight: done once it is mined, not while it waits in the pool
            return Ok(Progress::Waiting("revocations in flight".into()));
        }
        if calls.is_empty() {
            let mut detail =
                format!("{} hold(s) no role on {}", shown(accounts), contracts.join(", "));
            if !skipped.is_empty() {
                detail.push_str(&format!(" ({})", skipped.join("; ")));
            }
            return Ok(Progress::Done(detail));
        }
        let function = alloy_json_abi::Function::parse("revokeRole(bytes32 role, address account)")
            .map_err(|e| Error::Plan { what: "revokeRole ABI", id: e.to_string() })?;
        let paths: Vec<ControlPath> = calls
            .iter()
            .map(|(_, _, _, data)| ControlPath {
                function: function.clone(),
                args: Vec::new(),
                calldata: data.clone(),
                via: via.to_vec(),
            })
            .collect();
        let targets: Vec<Target<'_>> = calls
            .iter()
            .zip(&paths)
            .map(|((label, chain, address, _), path)| Target {
                chain,
                contract: label,
                address: *address,
                path,
                via,
            })
            .collect();
        let progress = self.on_chain(id, step, &targets, false, accounts, policy).await?;
        Ok(match progress {
            // done only when nothing is held any more (a role granted again meanwhile is revoked next round)
            Progress::Done(d) => {
                Progress::Waiting(format!("revocations mined ({d}); reading the roles again"))
            }
            other => other,
        })
    }
}

impl Executor {
    /// `sweep`: each listed token's whole balance of the hot wallet, then
    /// its ETH less eight times the gas the transfer costs at the first fee offer, to
    /// `to`, each a transaction signed by the wallet's own key. A wallet
    /// whose address is a compromised account is never swept by its key.
    #[allow(clippy::too_many_arguments)]
    async fn sweep(
        &self,
        id: IncidentId,
        step: &str,
        (from, to): (&str, Address),
        tokens: &[String],
        chain: &str,
        avoid: &[Address],
        policy: FeePolicy,
    ) -> Result<Progress> {
        let Some(link) = self.links.get(chain) else {
            return Ok(Progress::Waiting(format!("no connection to chain `{chain}`")));
        };
        let key = match self.key(from) {
            Ok(k) => k,
            Err(reason) => return Ok(Progress::Failed(format!("signer `{from}`: {reason}"))),
        };
        let wallet = key.address();
        if avoid.contains(&wallet) {
            return Ok(Progress::Failed(format!(
                "the hot wallet `{from}` ({wallet}) is the compromised account: firebreak never signs with that key; move its funds with another key that controls them, if any"
            )));
        }
        let path = PathRef::Signer(from.to_owned());
        let mut done = Vec::new();
        // tokens first: the ETH pays their gas
        let mut pieces: Vec<(String, Option<&String>)> =
            tokens.iter().map(|t| (format!("sweep-{t}"), Some(t))).collect();
        pieces.push(("sweep-ETH".to_owned(), None));
        for (label, token) in pieces {
            let actions = self.store.actions(id).await?;
            let labels = [label.as_str()];
            let akey = action_key(id, step, path.clone(), &labels);
            let mut action = match actions.into_iter().find(|a| a.key == akey) {
                Some(a) if a.status == ActionStatus::Mined => {
                    done.push(format!("{label}: mined"));
                    continue;
                }
                Some(a) if a.status.is_final() => {
                    return Ok(Progress::Failed(format!(
                        "{label}: {}",
                        a.error.unwrap_or_else(|| "reverted".into())
                    )));
                }
                Some(a) => a,
                None => {
                    let (target, calldata, value) = match token {
                        Some(t) => {
                            let c = self
                                .plan
                                .contracts
                                .get(t)
                                .ok_or(Error::Plan { what: "contract", id: t.clone() })?;
                            let balance = token_balance(link, c.address, wallet).await?;
                            if balance.is_zero() {
                                done.push(format!("{label}: nothing to move"));
                                continue;
                            }
                            let data: Bytes =
                                transferCall { to, amount: balance }.abi_encode().into();
                            (c.address, data, U256::ZERO)
                        }
                        None => match eth_to_sweep(link, wallet, to, policy).await? {
                            Some(v) => (to, Bytes::new(), v),
                            None => {
                                done.push(format!(
                                    "{label}: nothing to move above the gas it costs"
                                ));
                                continue;
                            }
                        },
                    };
                    let mut a = super::onchain::new_action(
                        akey,
                        link.chain_id,
                        ActionKind::Guardian,
                        wallet,
                        target,
                        calldata,
                    );
                    a.value = value;
                    let e = Event::ActionPlanned(event::ActionPlanned {
                        action: a.key.to_string(),
                        path: path.to_string(),
                        contract: token.cloned(),
                        from: Some(wallet.to_string()),
                        contracts: None,
                        relayer: None,
                    });
                    self.record(a.clone(), Some(e)).await?;
                    a
                }
            };
            let ctx = TxCtx {
                link,
                store: &*self.store,
                key,
                policy,
                abis: self.abis_for(chain),
                sent_at: &self.sent_at,
                nonces: &self.nonces,
                confirmations: self.confirmations(chain),
                fencing: self.fences(),
                bundles: &self.bundles,
            };
            let progress = match advance(&ctx, &mut action).await {
                Ok(p) => p,
                Err(e) if !e.is_retryable() => self.give_up(&mut action, &e).await?,
                Err(e) => return Err(e),
            };
            match progress {
                Progress::Done(d) => done.push(format!("{label}: {d}")),
                Progress::Waiting(d) => return Ok(Progress::Waiting(format!("{label}: {d}"))),
                Progress::Failed(d) => return Ok(Progress::Failed(format!("{label}: {d}"))),
            }
        }
        Ok(Progress::Done(format!("`{from}` swept to {to}: {}", done.join("; "))))
    }
}

/// An ERC-20 balance at the latest block.
async fn token_balance(link: &ChainLink, token: Address, holder: Address) -> Result<U256> {
    let data: Bytes = balanceOfCall { account: holder }.abi_encode().into();
    let out = link
        .read("balanceOf", |p| {
            let req = TransactionRequest::default().to(token).input(data.clone().into());
            async move { p.call(req).block(alloy::eips::BlockId::latest()).await }
        })
        .await?;
    Ok(U256::try_from_be_slice(out.get(..32).unwrap_or_default()).unwrap_or_default())
}

/// The ETH of `wallet` worth sweeping to `to`: its balance less eight
/// times what the transfer's gas costs at the fee policy's first offer
/// (room for the fee replacements of a crowded block), or `None` when
/// nothing is left above that.
async fn eth_to_sweep(
    link: &ChainLink,
    wallet: Address,
    to: Address,
    policy: FeePolicy,
) -> Result<Option<U256>> {
    let balance = link
        .read("eth_getBalance", |p| async move { p.get_balance(wallet).latest().await })
        .await?;
    let gas = link
        .read("eth_estimateGas", |p| {
            let req = TransactionRequest::default().from(wallet).to(to).value(U256::from(1));
            async move { p.estimate_gas(req).await }
        })
        .await?;
    let (base, tip) = crate::tx::latest_fees(link).await?;
    let (max_fee, _) = policy.initial(base, tip);
    // the gas limit tx.rs signs with: 5/4 of the estimate plus 20,000
    let budget =
        U256::from(gas.saturating_mul(5) / 4 + 20_000) * U256::from(max_fee) * U256::from(8);
    Ok((balance > budget).then(|| balance - budget))
}

/// The roles `account` holds on AccessControl contract `contract`: every
/// role of a `RoleGranted` log naming it, still held (`hasRole`) now.
///
/// # Errors
/// When the logs or a role cannot be read.
pub(crate) async fn roles_held(
    link: &ChainLink,
    contract: Address,
    account: Address,
) -> Result<Vec<B256>> {
    use alloy::rpc::types::Filter;
    let granted = alloy_primitives::keccak256("RoleGranted(bytes32,address,address)");
    let filter = Filter::new()
        .address(contract)
        .event_signature(granted)
        .topic2(account.into_word())
        .from_block(0u64);
    let logs = link
        .read("eth_getLogs", |p| {
            let filter = filter.clone();
            async move { p.get_logs(&filter).await }
        })
        .await?;
    let mut roles: Vec<B256> = logs.iter().filter_map(|l| l.topics().get(1).copied()).collect();
    roles.sort();
    roles.dedup();
    let mut held = Vec::new();
    for role in roles {
        let data: Bytes = hasRoleCall { role, account }.abi_encode().into();
        let out = link
            .read("hasRole", |p| {
                let req = TransactionRequest::default().to(contract).input(data.clone().into());
                // the mined state: a pending block would count a revocation still in the pool
                async move { p.call(req).block(alloy::eips::BlockId::latest()).await }
            })
            .await?;
        if out.get(31) == Some(&1) {
            held.push(role);
        }
    }
    Ok(held)
}

fn shown(accounts: &[Address]) -> String {
    accounts.iter().map(ToString::to_string).collect::<Vec<_>>().join(", ")
}
