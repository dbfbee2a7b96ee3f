//! Containment that stays true: each new head re-reads every contained
//! contract; one read unpaused outside the plan raises a P1 alert on the
//! incident, pages, and pauses it again.

use super::*;

impl Executor {
    /// Keeps `contained` true. While the incident is contained, each new
    /// block of its chain checks that every mined pause is still in the
    /// canonical chain and that every paused contract still reads
    /// `paused() == true`. A pause dropped by a reorg, or a contract unpaused
    /// outside the plan (no unpause was ordered in the war room), moves the
    /// incident back to `containing` and runs the pause step again; an
    /// unpause is also recorded as a P1 alert and pages the on-call.
    pub(super) async fn watch_containment(
        &self,
        incident: &firebreak_store::Incident,
        playbook: &firebreak_plan::Playbook,
        states: &mut HashMap<String, StepState>,
        timeline: &[firebreak_store::TimelineEntry],
    ) -> Result<Watch> {
        let id = incident.id;
        if incident.status != IncidentStatus::Contained {
            self.watched_at.lock().await.remove(&id);
            return Ok(Watch::Off);
        }
        let Some((chain, _)) = self.plan.chains.iter().find(|(_, c)| c.id == incident.chain_id)
        else {
            return Ok(Watch::Off);
        };
        let Some(link) = self.links.get(chain) else { return Ok(Watch::Off) };
        let head = link
            .read("eth_getBlockByNumber", |p| async move {
                p.get_block_by_number(alloy::eips::BlockNumberOrTag::Latest).await
            })
            .await?
            .map(|b| b.header.hash);
        if head.is_some() && self.watched_at.lock().await.get(&id) == head.as_ref() {
            return Ok(Watch::Holding);
        }
        let unpause_ordered =
            timeline.iter().any(|e| matches!(e.event, Event::UnpauseRequested(_)));
        let actions = self.store.actions(id).await?;
        // what to look at: each succeeded pause step's mined transactions
        // (hash, block hash) and its contracts' `paused()` calls
        let mut checks = Vec::new();
        for (i, step) in playbook.steps.iter().enumerate() {
            let StepAction::Pause { contracts, .. } = &step.action else { continue };
            if states.get(&step.id).is_none_or(|s| s.status != StepStatus::Succeeded) {
                continue;
            }
            let round = pause_round(&step.id, timeline);
            let mined: Vec<(B256, B256)> = actions
                .iter()
                .filter(|a| a.step_id == round && a.status == ActionStatus::Mined)
                .filter_map(mined_at)
                .collect();
            let calls: Vec<(String, TransactionRequest)> =
                contracts.iter().filter_map(|c| Some((c.clone(), self.paused_call(c)?))).collect();
            checks.push((i, step, mined, calls));
        }
        // every read of the decision from one endpoint at one block: the
        // calls name the block by hash, and a decision whose block left the
        // canonical chain while it was read (a reorg between the receipts
        // and the calls) is not taken: the next block decides
        let seen = link
            .read_at("containment", |p, at| {
                let checks = &checks;
                async move {
                    let mut out = Vec::with_capacity(checks.len());
                    for (_, _, mined, calls) in checks {
                        let mut moved = None;
                        for (hash, block) in mined {
                            let r = p.get_transaction_receipt(*hash).await?;
                            if r.is_none_or(|r| r.block_hash != Some(*block)) {
                                moved = Some(*hash);
                                break;
                            }
                        }
                        let mut open = None;
                        for (c, req) in calls {
                            match p
                                .call(req.clone())
                                .block(alloy::eips::BlockId::hash(at.hash))
                                .await
                            {
                                Ok(ret) if ret.get(31) == Some(&0) => {
                                    open = Some(c.clone());
                                    break;
                                }
                                Ok(_) => {}
                                // a revert says nothing about the pause
                                Err(e) if e.as_error_resp().is_some() => {}
                                Err(e) => return Err(e),
                            }
                        }
                        out.push((moved, open));
                    }
                    let still = p
                        .get_block_by_number(alloy::eips::BlockNumberOrTag::Number(at.number))
                        .await?
                        .map(|b| b.header.hash);
                    Ok((at, out, still == Some(at.hash)))
                }
            })
            .await;
        let (at, seen, still) = seen?;
        if !still {
            tracing::info!(incident = %id, block = at.number, "the chain moved while containment was read; deciding on the next block");
            self.watched_at.lock().await.remove(&id);
            return Ok(Watch::Holding);
        }
        let mut lost = false;
        for ((i, step, _, _), (moved, open)) in checks.iter().zip(seen) {
            let why = match (moved, open) {
                (Some(tx), _) => Some(format!(
                    "the pause {tx} left the canonical chain in a reorg; re-sending it"
                )),
                (None, Some(c)) if !unpause_ordered => {
                    self.unpaused_outside_plan(incident, &step.id, &c, at).await?;
                    Some(format!(
                        "`{c}` was unpaused outside the plan at block {}; pausing it again",
                        at.number
                    ))
                }
                _ => None,
            };
            if let Some(note) = why {
                tracing::error!(incident = %id, step = %step.id, %note, "containment lost");
                self.store.lose_containment(id, note.clone()).await?;
                let s = self
                    .store
                    .set_step(id, &step.id, idx(*i), StepStatus::Running, Some(note))
                    .await?;
                states.insert(step.id.clone(), s);
                lost = true;
            }
        }
        if lost {
            self.watched_at.lock().await.remove(&id);
            return Ok(Watch::Lost);
        }
        self.watched_at.lock().await.insert(id, at.hash);
        Ok(Watch::Holding)
    }

    /// A contract of a contained incident reads unpaused and nobody ordered
    /// it: a P1 alert on the incident (recorded like any alert), a timeline
    /// entry, and a page to the on-call.
    pub(super) async fn unpaused_outside_plan(
        &self,
        incident: &firebreak_store::Incident,
        step: &str,
        contract: &str,
        at: firebreak_chain::At,
    ) -> Result<()> {
        let id = incident.id;
        let (head, block_hash) = (at.number, at.hash);
        let address = self.plan.contracts.get(contract).map(|c| c.address).unwrap_or_default();
        let mut evidence = std::collections::BTreeMap::new();
        evidence.insert("contract".to_owned(), contract.to_owned());
        evidence.insert("address".to_owned(), address.to_string());
        evidence.insert("incident".to_owned(), id.to_string());
        let alert = firebreak_primitives::Alert {
            monitor: UNPAUSED_MONITOR.to_owned(),
            severity: firebreak_primitives::Severity::P1,
            playbook: Some(incident.playbook.clone()),
            chain_id: incident.chain_id,
            block_number: head,
            block_hash,
            tx_hash: None,
            log_index: None,
            evidence,
            probes: Default::default(),
            dedup_key: format!("{UNPAUSED_MONITOR}/{id}/{contract}/{block_hash}"),
            confirmations: 0,
        };
        let grouping = firebreak_store::Grouping {
            protocol: self.plan.protocol.name.clone(),
            plan_hash: self.plan.hash,
            // always joins this incident's group while it is open
            window_ms: u64::MAX,
            title: format!("{}: {contract} unpaused outside the plan", self.plan.protocol.name),
            drill: incident.drill,
            now_ms: now_ms(),
            on_open: Vec::new(),
        };
        self.store.record_alert(&alert, &grouping).await?;
        let e = Event::UnpausedOutsidePlan(event::UnpausedOutsidePlan {
            step: step.to_owned(),
            contract: contract.to_owned(),
            address: address.to_string(),
            block: head,
            detail: "paused() reads false and no unpause was ordered in the war room".to_owned(),
        });
        self.store.append(id, Actor::System, e).await?;
        let title = format!("[P1] {contract} unpaused outside the plan");
        let text = format!(
            "{}: incident {id}: `{contract}` ({address}) reads unpaused at block {head} and no unpause was ordered; firebreak pauses it again. Find the account that unpaused it.",
            self.plan.protocol.name
        );
        self.alarm(incident, &format!("unpaused/{contract}/{head}"), title, text).await
    }
}

/// Whether the containment watch holds, was lost (and the pause runs again),
/// or does not apply (the incident is not contained).
pub(super) enum Watch {
    Holding,
    Lost,
    Off,
}

/// The monitor id of alerts raised when a contained contract is unpaused
/// outside the plan.
pub const UNPAUSED_MONITOR: &str = "firebreak.unpaused";

/// How often a pause step re-pauses contracts unpaused outside the plan
/// before it gives up (and pages).
pub(super) const MAX_REPAUSES: usize = 3;

/// How many times `step` has been started: 1, plus one per unpause outside
/// the plan.
pub(super) fn generation(step: &str, timeline: &[firebreak_store::TimelineEntry]) -> usize {
    1 + timeline
        .iter()
        .filter(|e| matches!(&e.event, Event::UnpausedOutsidePlan(u) if u.step == step))
        .count()
}

/// The step name a pause's actions are keyed under: the step id, then
/// `ID#2`, `ID#3`… for each re-pause after an unpause outside the plan (the
/// first pause's actions stay as they were).
pub(super) fn pause_round(step: &str, timeline: &[firebreak_store::TimelineEntry]) -> String {
    match generation(step, timeline) {
        1 => step.to_owned(),
        n => format!("{step}#{n}"),
    }
}

/// A mined action's transaction hash and the hash of the block its receipt named.
pub(super) fn mined_at(a: &ActionRecord) -> Option<(B256, B256)> {
    let receipt = a.receipt.as_ref()?;
    let hash = receipt["tx_hash"].as_str()?.parse().ok()?;
    let block = receipt["block_hash"].as_str()?.parse().ok()?;
    Some((hash, block))
}
