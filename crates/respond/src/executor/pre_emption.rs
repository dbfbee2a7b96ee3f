//! What became of the pending transaction a pre-emptive pause was sent for,
//! recorded once on the incident's timeline: pre-empted (it reverted behind
//! the pause), landed (it succeeded and the monitors fired on it on
//! inclusion), or unnecessary (it never landed, or landed and raised
//! nothing: harmless).

use alloy::providers::Provider as _;
use alloy_primitives::B256;
use firebreak_primitives::{Actor, Event, event};
use firebreak_store::{Incident, TimelineEntry};

use super::Executor;
use crate::error::Result;

/// Blocks a pending transaction may stay unmined before the pause it
/// caused counts as unnecessary (when the node no longer holds it).
const NEVER_LANDED_AFTER: u64 = 10;

impl Executor {
    /// Records the outcome of each pending transaction the incident's
    /// pre-emptive alerts saw, once it is known.
    pub(super) async fn pre_emption_outcomes(
        &self,
        incident: &Incident,
        timeline: &[TimelineEntry],
    ) -> Result<()> {
        let mut pending: Vec<(B256, u64)> = Vec::new();
        let mut harmful: Vec<B256> = Vec::new();
        let mut recorded: Vec<String> = Vec::new();
        for e in timeline {
            if let Event::PreEmption(p) = &e.event {
                recorded.push(p.tx_hash.clone());
            }
            let Some(a) = e.event.alert() else { continue };
            match a.evidence.get("pending.tx_hash").and_then(|h| h.parse::<B256>().ok()) {
                Some(h) => pending.push((h, a.block_number)),
                // an alert on a mined transaction
                None => harmful.extend(a.tx_hash.as_deref().and_then(|h| h.parse::<B256>().ok())),
            }
        }
        pending.retain(|(h, _)| !recorded.contains(&h.to_string()));
        pending.dedup_by_key(|(h, _)| *h);
        if pending.is_empty() {
            return Ok(());
        }
        let Some((chain, _)) = self.plan.chains.iter().find(|(_, c)| c.id == incident.chain_id)
        else {
            return Ok(());
        };
        let Some(link) = self.links.get(chain) else { return Ok(()) };
        let head =
            link.read("eth_blockNumber", |p| async move { p.get_block_number().await }).await?;
        let settle = self.confirmations(chain) + 1;
        for (hash, headed_for) in pending {
            let receipt = link
                .read("eth_getTransactionReceipt", |p| async move {
                    p.get_transaction_receipt(hash).await
                })
                .await?;
            let outcome = match receipt {
                Some(r) => {
                    let block = r.block_number.unwrap_or_default();
                    // the monitors have had the block by now
                    if head < block + settle {
                        continue;
                    }
                    if !r.status() {
                        (
                            "pre_empted",
                            Some(block),
                            format!(
                                "the pending transaction {hash} reverted in block {block}: the pause was mined ahead of it"
                            ),
                        )
                    } else if harmful.contains(&hash) {
                        (
                            "landed",
                            Some(block),
                            format!(
                                "the pending transaction {hash} succeeded in block {block}, ahead of the pause; the monitors fired on it"
                            ),
                        )
                    } else {
                        (
                            "unnecessary",
                            Some(block),
                            format!(
                                "the pending transaction {hash} succeeded in block {block} and raised no alert on inclusion: it was harmless, and the pre-emptive pause was not needed"
                            ),
                        )
                    }
                }
                None => {
                    if head < headed_for + NEVER_LANDED_AFTER {
                        continue;
                    }
                    let known = link
                        .read("eth_getTransactionByHash", |p| async move {
                            p.get_transaction_by_hash(hash).await
                        })
                        .await?;
                    if known.is_some() {
                        continue;
                    }
                    (
                        "unnecessary",
                        None,
                        format!(
                            "the pending transaction {hash} never landed (dropped or replaced within {NEVER_LANDED_AFTER} blocks): the pre-emptive pause was not needed"
                        ),
                    )
                }
            };
            let (outcome, block, detail) = outcome;
            tracing::info!(incident = %incident.id, tx = %hash, outcome, "pre-emption outcome");
            let e = Event::PreEmption(event::PreEmption {
                tx_hash: hash.to_string(),
                outcome: outcome.to_owned(),
                block,
                detail,
            });
            self.store.append(incident.id, Actor::System, e).await?;
        }
        Ok(())
    }
}
