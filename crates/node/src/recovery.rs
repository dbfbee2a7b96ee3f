//! The recovery task: while incidents are open, every processed block is
//! scanned for each of them (funds traced out of confirmed attackers,
//! returns to the recovery address, messages on chain), attacker addresses
//! are proposed from each new incident's evidence, and the agreement's
//! clocks are kept. Only the acting replica records (a standby replica
//! would write the same entries twice).

use std::{collections::BTreeMap, sync::Arc, time::Duration};

use firebreak_plan::Plan;
use firebreak_primitives::{IncidentId, now_ms};
use firebreak_respond::{Fencing, Recovery};
use firebreak_store::{IncidentFilter, IncidentStore};
use futures::FutureExt as _;
use tokio::sync::broadcast;

use crate::{DaemonEvent, WatchEvent, daemon::publish, tasks::Stop};

pub(crate) struct RecoveryTask {
    pub(crate) plan: Arc<Plan>,
    pub(crate) store: Arc<dyn IncidentStore>,
    pub(crate) fencing: Arc<Fencing>,
    pub(crate) events: broadcast::Sender<DaemonEvent>,
}

/// Open incidents' scan positions: (incident, chain key) → next block.
type Cursors = BTreeMap<(IncidentId, String), u64>;

impl RecoveryTask {
    pub(crate) async fn run(self, stop: Stop) -> Result<(), String> {
        let stopping = stop.wait();
        tokio::pin!(stopping);
        let mut events = self.events.subscribe();
        let mut recovery: Option<Recovery> = None;
        let mut cursors = Cursors::new();
        let mut proposed = std::collections::BTreeSet::new();
        loop {
            let (chain_id, number) = tokio::select! {
                () = &mut stopping => return Ok(()),
                e = events.recv() => match e {
                    Ok(DaemonEvent::Watch { event: WatchEvent::Processed { chain_id, number } }) => (chain_id, number),
                    Err(broadcast::error::RecvError::Closed) => return Ok(()),
                    Ok(_) | Err(broadcast::error::RecvError::Lagged(_)) => continue,
                },
            };
            if !self.fencing.acting() {
                continue;
            }
            if recovery.is_none() {
                match Recovery::connect(self.plan.clone(), self.store.clone()).await {
                    Ok(r) => recovery = Some(r),
                    Err(e) => {
                        tracing::warn!(error = %e, "recovery cannot reach the chains yet");
                        continue;
                    }
                }
            }
            let Some(r) = recovery.as_ref() else { continue };
            // recovery reads what attackers put on chain: whatever goes wrong
            // in a round (an error, even a panic) is reported and retried at
            // the next block, and never stops the daemon's pause path
            let round = self.round(r, chain_id, number, &mut cursors, &mut proposed);
            let failed = match std::panic::AssertUnwindSafe(round).catch_unwind().await {
                Ok(Ok(())) => None,
                Ok(Err(e)) => Some(e.to_string()),
                Err(panic) => Some(format!(
                    "panicked: {}",
                    panic
                        .downcast_ref::<&str>()
                        .map(|s| (*s).to_owned())
                        .or_else(|| panic.downcast_ref::<String>().cloned())
                        .unwrap_or_default()
                )),
            };
            if let Some(error) = failed {
                // what was recorded stays; the next block retries from the cursor
                tracing::warn!(%error, "recovery round failed; retried at the next block");
                publish(&self.events, DaemonEvent::Error { error: format!("recovery: {error}") });
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
        }
    }

    async fn round(
        &self,
        r: &Recovery,
        chain_id: u64,
        number: u64,
        cursors: &mut Cursors,
        proposed: &mut std::collections::BTreeSet<IncidentId>,
    ) -> Result<(), firebreak_respond::Error> {
        panic_point();
        let Some(key) =
            self.plan.chains.iter().find(|(_, c)| c.id == chain_id).map(|(k, _)| k.clone())
        else {
            return Ok(());
        };
        use firebreak_primitives::IncidentStatus as S;
        let statuses =
            vec![S::Detected, S::Acknowledged, S::Containing, S::Contained, S::Recovering];
        let open = self.store.incidents(&IncidentFilter { statuses, limit: 0 }).await?;
        cursors.retain(|(id, _), _| open.iter().any(|i| i.id == *id));
        for incident in open {
            let id = incident.id;
            if proposed.insert(id) {
                let n = r.propose(id).await?;
                if n > 0 {
                    let message = format!(
                        "{n} attacker address(es) proposed from the evidence; confirm them (firebreak whitehat show {id})"
                    );
                    publish(&self.events, DaemonEvent::Recovery { incident: id, message });
                }
            }
            let from = match cursors.get(&(id, key.clone())) {
                Some(next) => *next,
                None => {
                    // from the first alert on this chain, else from now
                    let alerts = self.store.incident_alerts(id).await?;
                    alerts
                        .iter()
                        .filter(|a| a.chain_id == chain_id)
                        .map(|a| a.block_number)
                        .min()
                        .unwrap_or(number)
                }
            };
            if from <= number {
                let s = r.scan(id, &key, from, number).await?;
                for (n, what) in [
                    (
                        s.exits,
                        "traced transfer(s) reached a bridge, mixer, exchange or sanctioned address",
                    ),
                    (s.moved - s.exits, "traced transfer(s)"),
                    (s.returned, "return(s) to the recovery address"),
                    (s.messages, "message(s) on chain"),
                ] {
                    if n > 0 {
                        let message = format!("{n} {what} in blocks {from}–{number}");
                        publish(&self.events, DaemonEvent::Recovery { incident: id, message });
                    }
                }
            }
            cursors.insert((id, key.clone()), number + 1);
            r.clocks(id, now_ms()).await?;
            for p in r.pay_bounties(id).await? {
                let message = format!(
                    "bounty paid to {}: {} base units of {} ({})",
                    p.whitehat, p.amount, p.token, p.tx_hash
                );
                publish(&self.events, DaemonEvent::Recovery { incident: id, message });
            }
            // messages every approving role approved go out now (one sender:
            // the acting replica)
            let view = r.view(id).await?;
            for d in view.drafts.iter().filter(|d| !d.sent && d.missing().is_empty()) {
                if d.draft.chain_id != chain_id {
                    continue;
                }
                let sent = r.send(id, d.draft.draft).await?;
                let message = format!(
                    "message #{} sent on chain to {}",
                    d.draft.draft,
                    sent.iter().map(|m| m.to.as_str()).collect::<Vec<_>>().join(", ")
                );
                publish(&self.events, DaemonEvent::Recovery { incident: id, message });
            }
        }
        Ok(())
    }
}

/// A test hook (only with the `crash-points` feature): with
/// `FIREBREAK_PANIC_RECOVERY=1` every recovery round panics, so a test can
/// check that the daemon goes on pausing and says why recovery failed.
#[cfg(feature = "crash-points")]
fn panic_point() {
    if std::env::var("FIREBREAK_PANIC_RECOVERY").is_ok_and(|v| v == "1") {
        panic!("FIREBREAK_PANIC_RECOVERY=1 (test hook)");
    }
}

/// Without the `crash-points` feature: nothing.
#[cfg(not(feature = "crash-points"))]
const fn panic_point() {}
