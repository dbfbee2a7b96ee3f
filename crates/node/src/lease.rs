//! The lease keeper: which replica acts. Every replica ingests, detects and
//! serves the war room; only the one holding the plan's leases drives
//! playbooks, signs and delivers messages. The leases are the plan-wide
//! `executor` lease and one per (chain, signing key) — the nonce spaces —
//! taken in one order by every replica, so two replicas never split them.
//! The holder renews them every quarter of the lease time; when it dies,
//! hangs or loses the database, its leases run out and the next replica to
//! look (every quarter of the lease time) takes them over with a new epoch
//! and drives every open incident, re-broadcasting recorded transactions
//! before signing anything new. A replica relies on its hold only until a
//! local deadline a quarter of the lease time before the database's
//! expiry, so it stops acting before another may start. On a store that one
//! daemon uses at a time (SQLite, under the daemon lock), a daemon starting
//! takes the leases of its crashed predecessor at once.

use std::{sync::Arc, time::Duration};

use firebreak_respond::Fencing;
use firebreak_store::{Lease, LeaseStore};
use tokio::{sync::broadcast, time::Instant};

use crate::{
    daemon::{DaemonEvent, publish},
    metrics::Metrics,
    tasks::Stop,
};

/// The plan-wide lease: whoever holds it drives playbooks.
pub(crate) const EXECUTOR_LEASE: &str = "executor";

/// Lease time from the chains' block time: two of the fastest chain's
/// blocks, between 2 and 30 seconds.
pub(crate) fn lease_time(block_times: &[Duration]) -> Duration {
    let fastest = block_times.iter().min().copied().unwrap_or(Duration::from_secs(12));
    (fastest * 2).clamp(Duration::from_secs(2), Duration::from_secs(30))
}

/// The average time between the last 20 blocks (`None` when the chain is
/// younger or does not answer).
pub(crate) async fn block_time(link: &firebreak_respond::ChainLink) -> Option<Duration> {
    use alloy::providers::Provider as _;
    let p = link.primary();
    let head = p.get_block_number().await.ok()?;
    let back = head.checked_sub(20)?;
    let t = |n: u64| async move {
        p.get_block_by_number(n.into()).await.ok().flatten().map(|b| b.header.timestamp)
    };
    let (new, old) = (t(head).await?, t(back).await?);
    Some(Duration::from_millis(new.saturating_sub(old) * 1000 / 20))
}

pub(crate) struct LeaseKeeper {
    pub(crate) store: Arc<dyn LeaseStore>,
    pub(crate) fencing: Arc<Fencing>,
    /// Every lease to hold, the executor's first, then the signers' sorted.
    pub(crate) names: Vec<String>,
    pub(crate) ttl: Duration,
    pub(crate) events: broadcast::Sender<DaemonEvent>,
    pub(crate) metrics: Arc<Metrics>,
}

impl LeaseKeeper {
    /// Takes and renews the leases until the daemon stops, then hands them
    /// over at once.
    pub(crate) async fn run(self, stop: Stop) -> Result<(), String> {
        let every = self.ttl / 4;
        let stopping = stop.wait();
        tokio::pin!(stopping);
        let mut held: Option<Vec<Lease>> = None;
        // one daemon per store (SQLite): whoever held the leases is gone (a
        // crash, a kill -9); a restart acts at once instead of waiting for
        // them to run out
        if self.store.exclusive()
            && let Err(e) = self.store.expire_others(self.fencing.holder()).await
        {
            tracing::warn!(error = %firebreak_primitives::error_chain(&e), "cannot take the leases over at start");
        }
        loop {
            held = self.round(held).await;
            self.metrics.set(
                "firebreak_acting",
                &[],
                if self.fencing.acting() { 1.0 } else { 0.0 },
            );
            tokio::select! {
                () = &mut stopping => break,
                () = tokio::time::sleep(every) => {}
            }
        }
        self.fencing.drop_all();
        for name in &self.names {
            if let Err(e) = self.store.release_lease(name, self.fencing.holder()).await {
                tracing::warn!(lease = %name, error = %firebreak_primitives::error_chain(&e), "lease not handed over; it runs out instead");
            }
        }
        Ok(())
    }

    /// One pass over every lease: renewed, taken, or let go of when another
    /// replica holds one of them.
    async fn round(&self, before: Option<Vec<Lease>>) -> Option<Vec<Lease>> {
        let started = Instant::now();
        let ttl_ms = u64::try_from(self.ttl.as_millis()).unwrap_or(u64::MAX);
        let holder = self.fencing.holder();
        // one transaction for all of them: one write (and fsync) per round
        let taken = tokio::time::timeout(
            self.ttl / 2,
            self.store.acquire_leases(&self.names, holder, ttl_ms),
        )
        .await
        .unwrap_or_else(|_| {
            // a database that does not answer (a cut connection) is an
            // error after half the lease time, not a hung keeper
            Err(firebreak_store::Error::Query {
                what: "take leases",
                source: "the database did not answer within half the lease time".into(),
            })
        });
        let leases = match taken {
            Ok(Some(leases)) => leases,
            Ok(None) => {
                // another replica acts (nothing of this pass was kept)
                if before.is_some() {
                    self.fencing.drop_all();
                    for name in &self.names {
                        let _ = self.store.release_lease(name, holder).await;
                    }
                    self.say("standing by: another replica holds the leases".to_owned());
                }
                return None;
            }
            Err(e) => {
                // the database is out of reach: the hold stands until its
                // local deadline (Fencing::acting), then lapses
                tracing::warn!(error = %firebreak_primitives::error_chain(&e), "cannot renew the leases");
                return before;
            }
        };
        let took_over = before.as_ref().is_none_or(|b| {
            b.iter().zip(&leases).any(|(old, new)| old.epoch != new.epoch)
                || b.len() != leases.len()
        });
        let until = started + self.ttl - self.ttl / 4;
        self.fencing.hold(leases.iter().map(Lease::fence).collect(), until);
        if took_over {
            let epochs: Vec<String> =
                leases.iter().map(|l| format!("{}@{}", l.name, l.epoch)).collect();
            self.say(format!("acting: holds {} (lease time {:?})", epochs.join(", "), self.ttl));
        }
        Some(leases)
    }

    fn say(&self, message: String) {
        tracing::info!(replica = %self.fencing.holder(), "{message}");
        publish(&self.events, DaemonEvent::Replica { message });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_lease_time_is_two_blocks_of_the_fastest_chain_within_bounds() {
        let s = Duration::from_secs;
        assert_eq!(lease_time(&[s(12), s(2)]), s(4));
        assert_eq!(lease_time(&[Duration::ZERO]), s(2), "anvil mining on demand");
        assert_eq!(lease_time(&[s(60)]), s(30));
        assert_eq!(lease_time(&[]), s(24), "unknown: twelve-second blocks");
    }
}
