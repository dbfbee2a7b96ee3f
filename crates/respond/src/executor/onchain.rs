//! Landing pauses and calls: each target's pause paths in order, guardian
//! transactions, Safe transactions batched per Safe, and the action records
//! that let a restart find what was already sent.

use super::*;

impl Executor {
    pub(super) fn abis_for(&self, chain: &str) -> Vec<&JsonAbi> {
        self.plan.contracts.values().filter(|c| c.chain == chain).map(|c| &c.abi).collect()
    }

    /// The `paused()` call of a contract whose ABI has one.
    pub(super) fn paused_call(&self, contract: &str) -> Option<TransactionRequest> {
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

    pub(super) async fn is_paused(&self, link: &ChainLink, contract: &str) -> Option<bool> {
        let req = self.paused_call(contract)?;
        let out = link.read("paused()", |p| {
            let req = req.clone();
            async move { p.call(req).await }
        });
        let out = out.await.ok()?;
        out.get(31).map(|b| *b == 1)
    }

    pub(super) async fn on_chain(
        &self,
        id: IncidentId,
        step: &str,
        targets: &[Target<'_>],
        pause: bool,
        avoid: &[Address],
        policy: FeePolicy,
    ) -> Result<Progress> {
        let Some(chain) = targets.first().map(|t| t.chain.to_owned()) else {
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
            for authority in t.via {
                let path = path_ref(authority);
                let label = path.to_string();
                let found = actions.iter().find(|a| a.key.covers(id, step, &path, t.contract));
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
                                    Ok(k) if avoid.contains(&k.address()) => {
                                        reasons.push(format!(
                                            "{label}: {} is the compromised account; it signs nothing",
                                            k.address()
                                        ));
                                        continue;
                                    }
                                    Ok(k) => k,
                                    Err(reason) => {
                                        reasons.push(format!("{label}: {reason}"));
                                        self.store
                                            .append(
                                                id,
                                                Actor::System,
                                                Event::PathUnavailable(event::PathUnavailable {
                                                    contract: t.contract.to_owned(),
                                                    path: label.clone(),
                                                    reason: reason.clone(),
                                                }),
                                            )
                                            .await?;
                                        continue;
                                    }
                                };
                                let mut action = match found {
                                    Some(a) => a.clone(),
                                    None => {
                                        let a = new_action(
                                            action_key(id, step, path.clone(), &[t.contract]),
                                            link.chain_id,
                                            ActionKind::Guardian,
                                            key.address(),
                                            t.address,
                                            t.path.calldata.clone(),
                                        );
                                        self.record(
                                            a.clone(),
                                            Some(Event::ActionPlanned(event::ActionPlanned {
                                                action: a.key.to_string(),
                                                path: label.clone(),
                                                contract: Some(t.contract.to_owned()),
                                                from: Some(key.address().to_string()),
                                                contracts: None,
                                                relayer: None,
                                            })),
                                        )
                                        .await?;
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
                                    fencing: self.fences(),
                                    bundles: &self.bundles,
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
            let calls: Vec<(Address, Bytes)> =
                batch.iter().map(|t| (t.address, t.path.calldata.clone())).collect();
            let round = SafeRound { safe: &name, labels: &contracts, calls, avoid };
            match self.safe_round(id, step, round, &actions, link, policy, &abis).await? {
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

    /// One round of one SafeTx of Safe `round.safe` performing
    /// `round.calls` (one call, or a MultiSend batch): built, signed by hot
    /// signers other than the `avoid`ed accounts, executed at the threshold.
    #[allow(clippy::too_many_arguments)]
    pub(super) async fn safe_round(
        &self,
        id: IncidentId,
        step: &str,
        round: SafeRound<'_>,
        actions: &[ActionRecord],
        link: &ChainLink,
        policy: FeePolicy,
        abis: &[&JsonAbi],
    ) -> Result<Progress> {
        let name = round.safe;
        let safe =
            self.plan.safes.get(name).ok_or(Error::Plan { what: "safe", id: name.into() })?;
        let path = PathRef::Safe(name.to_owned());
        let label = path.to_string();
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
        if round.avoid.contains(&relayer.address()) {
            return Ok(Progress::Failed(format!(
                "the relayer of Safe `{name}` ({}) is the compromised account; it sends nothing",
                relayer.address()
            )));
        }
        let contracts: &[&str] = round.labels;
        let key = action_key(id, step, path, contracts);
        let mut action = match actions.iter().find(|a| a.key == key) {
            Some(a) => a.clone(),
            None => {
                let a = new_action(
                    key,
                    link.chain_id,
                    ActionKind::Safe,
                    relayer.address(),
                    safe.address,
                    Bytes::new(),
                );
                let e = Event::ActionPlanned(event::ActionPlanned {
                    action: a.key.to_string(),
                    path: label.clone(),
                    contract: None,
                    from: None,
                    contracts: Some(contracts.iter().map(|c| (*c).to_owned()).collect()),
                    relayer: Some(relayer.address().to_string()),
                });
                self.record(a.clone(), Some(e)).await?;
                a
            }
        };
        let hot: Vec<(&str, &PrivateKeySigner)> = safe
            .hot_signers
            .iter()
            .filter_map(|h| self.keys.get(h).and_then(Sender::key).map(|k| (h.as_str(), k)))
            .filter(|(_, k)| !round.avoid.contains(&k.address()))
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
                fencing: self.fences(),
                bundles: &self.bundles,
            },
            safe_id: name,
            safe: safe.address,
            multisend: safe.multisend,
            hot,
            calls: round.calls,
            avoid: round.avoid,
        };
        match advance_safe(&ctx, &mut action).await {
            Err(e) if !e.is_retryable() => self.give_up(&mut action, &e).await,
            other => other,
        }
    }

    pub(super) fn confirmations(&self, chain: &str) -> u64 {
        self.plan
            .chains
            .get(chain)
            .map_or(firebreak_plan::Chain::DEFAULT_CONFIRMATIONS, |c| c.confirmations)
    }

    /// A permanent error (a node's refusal, a signing failure): the action
    /// fails once, with its cause on the timeline, and is not retried; the
    /// step moves on to its next path or fails.
    pub(super) async fn give_up(&self, action: &mut ActionRecord, e: &Error) -> Result<Progress> {
        let reason = firebreak_primitives::error_chain(e);
        tracing::error!(action = %action.key, %reason, "permanent error; not retried");
        action.status = ActionStatus::Failed;
        action.error = Some(reason.clone());
        let e = Event::ActionFailed(event::ActionFailed {
            action: action.key.to_string(),
            to: None,
            reason: Some(reason.clone()),
        });
        self.record(action.clone(), Some(e)).await?;
        Ok(Progress::Failed(reason))
    }
}

/// What one Safe round lands.
pub(super) struct SafeRound<'a> {
    /// Safe key.
    pub safe: &'a str,
    /// What the action key names (contract keys, or labels of the calls).
    pub labels: &'a [&'a str],
    /// The calls, in order.
    pub calls: Vec<(Address, Bytes)>,
    /// Accounts whose keys and signatures are never used (compromised).
    pub avoid: &'a [Address],
}

pub(super) fn path_ref(a: &Authority) -> PathRef {
    match a {
        Authority::Signer(s) => PathRef::Signer(s.clone()),
        Authority::Safe(s) => PathRef::Safe(s.clone()),
    }
}

/// One action per incident, step, path and batch.
pub(super) fn action_key(
    id: IncidentId,
    step: &str,
    path: PathRef,
    contracts: &[&str],
) -> ActionKey {
    ActionKey {
        incident: id,
        step: step.to_owned(),
        path,
        contracts: contracts.iter().map(|c| (*c).to_owned()).collect(),
    }
}

#[allow(clippy::too_many_arguments)]
pub(super) fn new_action(
    key: ActionKey,
    chain_id: u64,
    kind: ActionKind,
    from: Address,
    to: Address,
    calldata: Bytes,
) -> ActionRecord {
    let now = now_ms();
    ActionRecord {
        incident: key.incident,
        step_id: key.step.clone(),
        key,
        chain_id,
        kind,
        from,
        to,
        calldata,
        value: alloy_primitives::U256::ZERO,
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
