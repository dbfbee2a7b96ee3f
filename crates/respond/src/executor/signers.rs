//! Keys: which signers can sign, drills' impersonated senders, and the
//! readiness incident when a P1 pause path cannot sign.

use super::*;

impl Executor {
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

    /// What the chain says today about each P1 pause path whose keys load:
    /// a guardian (or a Safe's submitter) without the gas money for a pause
    /// at today's fees, a guardian pause that now reverts in simulation (a
    /// revoked role), a Safe whose owners or threshold differ from the plan.
    /// A handful of cheap reads per path, made each readiness round; a read
    /// that fails is skipped (a blind chain is reported on its own).
    pub async fn live_problems(&self) -> Vec<crate::PathProblem> {
        let mut out = Vec::new();
        for (contract, playbooks) in crate::readiness::p1_pause_targets(&self.plan) {
            let Some(c) = self.plan.contracts.get(&contract) else { continue };
            let Some(path) = c.pause.as_ref() else { continue };
            let Some(link) = self.links.get(&c.chain) else { continue };
            let abis = self.abis_for(&c.chain);
            // a paused contract reverts a second pause: nothing to learn
            let paused = self.is_paused(link, &contract).await == Some(true);
            let mut problem = |path: String, signer: &str, reason: String| {
                out.push(crate::PathProblem {
                    contract: contract.clone(),
                    path,
                    signer: signer.to_owned(),
                    reason,
                    playbooks: playbooks.clone(),
                    live: true,
                });
            };
            for authority in &path.via {
                match authority {
                    Authority::Signer(s) => {
                        let Ok(sender) = self.key(s) else { continue };
                        let label = format!("signer `{s}`");
                        if let Some(reason) = gas_money(link, sender.address()).await {
                            problem(label.clone(), s, reason);
                        }
                        if !paused
                            && let Ok(Some(why)) = crate::tx::simulate(
                                link,
                                sender.address(),
                                c.address,
                                &path.calldata,
                                &abis,
                            )
                            .await
                        {
                            problem(
                                label,
                                s,
                                format!("a pause from it now reverts in simulation: {why}"),
                            );
                        }
                    }
                    Authority::Safe(name) => {
                        let Some(safe) = self.plan.safes.get(name) else { continue };
                        let label = format!("Safe `{name}`");
                        let submitter = safe.relayer.as_ref().or_else(|| safe.hot_signers.first());
                        if let Some(sub) = submitter
                            && let Ok(sender) = self.key(sub)
                            && let Some(reason) = gas_money(link, sender.address()).await
                        {
                            problem(label.clone(), sub, reason);
                        }
                        let Ok((nonce, owners, threshold)) =
                            crate::safe_path::safe_state(link, safe.address).await
                        else {
                            continue;
                        };
                        // without enough hot signers the pre-signed pause is
                        // the path: spent or passed by the Safe's nonce, it
                        // cannot land
                        let hot = u32::try_from(safe.hot_signers.len()).unwrap_or(u32::MAX);
                        if hot < safe.threshold
                            && let Ok(list) =
                                self.store.presigned(link.chain_id, safe.address).await
                            && let Some(newest) = list.first()
                            && newest.nonce < nonce
                        {
                            problem(
                                label.clone(),
                                name,
                                format!(
                                    "pre-signed pause invalidated — re-sign: the Safe is at nonce {nonce}, its pre-signed pause was signed at nonce {}, and its {hot} hot signer(s) cannot meet the threshold of {}; run `firebreak safe presign PLAN --safe {name}`",
                                    newest.nonce, safe.threshold
                                ),
                            );
                        }
                        let mut ours = safe.owners.clone();
                        let mut theirs = owners.clone();
                        ours.sort();
                        theirs.sort();
                        if ours != theirs || threshold != u64::from(safe.threshold) {
                            problem(
                                label,
                                name,
                                format!(
                                    "the Safe on chain has {} owner(s) and threshold {threshold}, the plan says {} and {}: someone changed it, or the plan is out of date",
                                    owners.len(),
                                    safe.owners.len(),
                                    safe.threshold
                                ),
                            );
                        }
                    }
                }
            }
        }
        out.sort();
        out.dedup();
        out
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
            playbook: Some(READINESS_MONITOR.to_owned()),
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
        let live = problems.iter().any(|p| p.live);
        let title = format!(
            "{}: NOT READY — a P1 pause path cannot {}",
            self.plan.protocol.name,
            if live { "land" } else { "sign" }
        );
        let grouping = firebreak_store::Grouping {
            protocol: self.plan.protocol.name.clone(),
            plan_hash: self.plan.hash,
            // joins the readiness incident still open from an earlier start
            window_ms: u64::MAX,
            title: title.clone(),
            drill: drill || self.plan.mode == firebreak_plan::PlanMode::Drill,
            now_ms: now,
            // a readiness incident: no funds to recover
            on_open: Vec::new(),
        };
        let out = self.store.record_alert(&alert, &grouping).await?;
        let id = out.incident;
        let Some(incident) = self.store.incident(id).await? else { return Ok(Some(id)) };
        let digest = digest.to_string();
        let recorded = self
            .store
            .timeline(id)
            .await?
            .iter()
            .any(|e| matches!(&e.event, Event::ReadinessProblem(r) if r.digest == digest));
        if !recorded {
            let e = Event::ReadinessProblem(event::ReadinessProblem {
                digest: digest.clone(),
                problems: problems.to_vec(),
            });
            self.store.append(id, Actor::System, e).await?;
        }
        let text = format!(
            "{}: firebreak runs but cannot pause everything a P1 alert would pause:\n{}\n{}",
            self.plan.protocol.name,
            lines.iter().map(|l| format!("- {l}")).collect::<Vec<_>>().join("\n"),
            if live {
                "Fix it on chain (gas money, the pauser role, the Safe) or in the plan; readiness clears by itself once the chain shows it fixed, and `/readyz` answers 503 until then."
            } else {
                "Fix the keys and restart firebreak; until then `/readyz` answers 503."
            }
        );
        // the plan's readiness channels hear it too, once per set of problems
        for (ch, channel) in &self.plan.channels {
            if !channel.readiness {
                continue;
            }
            let message = firebreak_notify::Message {
                event: firebreak_notify::EventKind::IncidentOpened,
                incident: Some(id.0),
                severity: "P1".to_owned(),
                chain_id: Some(chain_id),
                protocol: self.plan.protocol.name.clone(),
                title: format!("[P1] {title}"),
                text: text.clone(),
                links: vec![],
                drill: incident.drill,
                key: format!("{id}/readiness/{digest}/{ch}"),
                at: firebreak_primitives::rfc3339_now(),
                recipient: None,
            };
            self.enqueue(id, ch, &message).await?;
        }
        self.alarm(&incident, &format!("readiness/{digest}"), format!("[P1] {title}"), text)
            .await?;
        Ok(Some(id))
    }

    pub(super) fn key(&self, signer: &str) -> std::result::Result<&Sender, String> {
        self.keys.get(signer).ok_or_else(|| {
            self.key_errors
                .get(signer)
                .cloned()
                .unwrap_or_else(|| format!("signer `{signer}` is not in the plan"))
        })
    }
}

/// Gas a pause is budgeted at: a guardian call or a Safe `execTransaction`
/// with a small batch.
const PAUSE_GAS: u128 = 300_000;

/// `Some(why)` when `account` cannot pay for a pause at today's fees: the
/// budget is [`PAUSE_GAS`] at three times the base fee plus a 2 gwei tip (a
/// P1 offer, see `FeePolicy`).
async fn gas_money(link: &ChainLink, account: Address) -> Option<String> {
    let (balance, base) = link
        .read("balance and base fee", |p| async move {
            let balance = p.get_balance(account).await?;
            let block = p.get_block_by_number(alloy::eips::BlockNumberOrTag::Latest).await?;
            Ok((balance, block.and_then(|b| b.header.base_fee_per_gas).unwrap_or(0)))
        })
        .await
        .ok()?;
    let need = alloy_primitives::U256::from(PAUSE_GAS * (3 * u128::from(base) + 2_000_000_000));
    (balance < need).then(|| {
        format!(
            "{account} holds {balance} wei, less than the {need} wei a pause costs at today's fees (300,000 gas at 3 × base fee + 2 gwei); send it gas money"
        )
    })
}
