//! The courier: delivers the outbox, at least once, in order per incident and
//! channel, with retries for as long as a message matters. It runs beside the
//! executor and never blocks it: steps only enqueue.

use std::{collections::BTreeMap, sync::Arc, time::Duration};

use firebreak_primitives::now_ms;
use firebreak_store::{OutboxMessage, OutboxStore};

use crate::{channel::Channel, message::Message};

/// Delivery settings.
#[derive(Debug, Clone)]
pub struct CourierOptions {
    /// First retry delay; doubles each attempt, with jitter of up to one more delay.
    pub first_retry: Duration,
    /// Longest delay between attempts.
    pub max_retry: Duration,
    /// Give up on a message this long after it was enqueued.
    pub give_up_after: Duration,
    /// How often the outbox is read when nothing wakes the courier (retries
    /// come due on this beat; a queued message wakes it at once).
    pub poll: Duration,
    /// Fewest milliseconds between two deliveries on one channel (rate limit).
    pub min_gap_per_channel: Duration,
}

impl Default for CourierOptions {
    fn default() -> Self {
        Self {
            first_retry: Duration::from_secs(1),
            max_retry: Duration::from_secs(300),
            give_up_after: Duration::from_secs(24 * 3600),
            poll: Duration::from_millis(500),
            min_gap_per_channel: Duration::from_millis(50),
        }
    }
}

/// The delay before attempt `attempts + 1` of a retryable failure
/// (`DeliveryError::retryable`): exponential from `first_retry`, doubled each
/// attempt up to `max_retry`, with jitter (backon's schedule). The outbox
/// stores the time, so a restart keeps the schedule. A service that says
/// when to come back (`Retry-After`) is believed.
pub fn backoff_delay(
    opts: &CourierOptions,
    attempts: u32,
    retry_after: Option<Duration>,
) -> Duration {
    use backon::BackoffBuilder as _;
    if let Some(after) = retry_after {
        return after;
    }
    backon::ExponentialBuilder::default()
        .with_min_delay(opts.first_retry)
        .with_max_delay(opts.max_retry)
        .with_factor(2.0)
        .with_jitter()
        .without_max_times()
        .build()
        .nth(usize::try_from(attempts.saturating_sub(1).min(20)).unwrap_or(20))
        .unwrap_or(opts.max_retry)
        .min(opts.max_retry)
}

/// Delivers the outbox.
#[derive(Debug)]
pub struct Courier {
    store: Arc<dyn OutboxStore>,
    channels: BTreeMap<String, Channel>,
    http: reqwest::Client,
    opts: CourierOptions,
    last: std::sync::Mutex<BTreeMap<String, std::time::Instant>>,
    failures: Arc<std::sync::Mutex<BTreeMap<String, u64>>>,
    gate: Option<Gate>,
    /// Claims taken as this holder, for this long (replicas).
    claims: Option<(String, Duration)>,
}

/// Whether this courier may deliver now (replicas: only the one acting).
#[derive(Clone)]
pub struct Gate(pub Arc<dyn Fn() -> bool + Send + Sync>);

impl std::fmt::Debug for Gate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Gate")
    }
}

impl Courier {
    /// A courier for `channels`.
    pub fn new(
        store: Arc<dyn OutboxStore>,
        channels: BTreeMap<String, Channel>,
        opts: CourierOptions,
    ) -> Self {
        let http = reqwest::Client::builder()
            .user_agent(concat!("firebreak/", env!("CARGO_PKG_VERSION")))
            .build()
            .unwrap_or_default();
        Self {
            store,
            channels,
            http,
            opts,
            last: std::sync::Mutex::new(BTreeMap::new()),
            failures: Arc::default(),
            gate: None,
            claims: None,
        }
    }

    /// Claims each message before attempting it, as `holder` for `claim`
    /// (replicas sharing one outbox): a message another courier claimed is
    /// left to it until its claim runs out.
    #[must_use]
    pub fn with_claims(mut self, holder: impl Into<String>, claim: Duration) -> Self {
        self.claims = Some((holder.into(), claim));
        self
    }

    /// Delivers only while `gate` says so: of replicas sharing one outbox,
    /// the one acting delivers, and the others leave every message pending.
    #[must_use]
    pub fn with_gate(mut self, gate: Gate) -> Self {
        self.gate = Some(gate);
        self
    }

    /// Failed delivery attempts so far, per channel (for metrics).
    pub fn failures(&self) -> Arc<std::sync::Mutex<BTreeMap<String, u64>>> {
        self.failures.clone()
    }

    /// The delay before attempt `attempts + 1` (see [`backoff_delay`]).
    pub fn backoff(&self, attempts: u32, retry_after: Option<Duration>) -> Duration {
        backoff_delay(&self.opts, attempts, retry_after)
    }

    /// One round: attempts every due message. Returns how many were delivered.
    ///
    /// # Errors
    /// When the store fails (delivery failures are recorded, not returned).
    pub async fn round(&self) -> Result<usize, firebreak_store::Error> {
        self.round_for(None).await
    }

    /// One round for one channel (or all); each result is recorded as soon as
    /// it is known.
    async fn round_for(&self, channel: Option<&str>) -> Result<usize, firebreak_store::Error> {
        if self.gate.as_ref().is_some_and(|open| !(open.0)()) {
            return Ok(0);
        }
        let due = match &self.claims {
            Some((holder, claim)) => {
                let claim_ms = u64::try_from(claim.as_millis()).unwrap_or(u64::MAX);
                self.store.claim_due(holder, now_ms(), 100, claim_ms).await?
            }
            None => self.store.due_messages(now_ms(), 100).await?,
        };
        let due: Vec<OutboxMessage> =
            due.into_iter().filter(|m| channel.is_none_or(|c| c == m.channel)).collect();
        let results = futures::future::join_all(due.iter().map(|m| async move {
            let result = self.attempt(m).await;
            self.record(m, result).await
        }))
        .await;
        let mut delivered = 0;
        for r in results {
            delivered += usize::from(r?);
        }
        Ok(delivered)
    }

    async fn record(
        &self,
        m: &OutboxMessage,
        result: Result<(), crate::channel::DeliveryError>,
    ) -> Result<bool, firebreak_store::Error> {
        let attempts = m.attempts + 1;
        match result {
            Ok(()) => {
                self.store.delivered(m.id, attempts).await?;
                Ok(true)
            }
            Err(e) => {
                let age = Duration::from_millis(now_ms().saturating_sub(m.created_ms));
                let next = (e.retryable && age < self.opts.give_up_after).then(|| {
                    now_ms()
                        + u64::try_from(self.backoff(attempts, e.retry_after).as_millis())
                            .unwrap_or(u64::MAX)
                });
                tracing::warn!(channel = %m.channel, key = %m.key, attempts, error = %e.reason, retry = next.is_some(), "delivery failed");
                if let Ok(mut f) = self.failures.lock() {
                    *f.entry(m.channel.clone()).or_default() += 1;
                }
                self.store.attempt_failed(m.id, attempts, e.reason, next).await?;
                Ok(false)
            }
        }
    }

    async fn attempt(&self, m: &OutboxMessage) -> Result<(), crate::channel::DeliveryError> {
        let Some(channel) = self.channels.get(&m.channel) else {
            // its secret may be set at the next start: keep the message
            return Err(crate::channel::DeliveryError {
                reason: format!(
                    "channel `{}` is not usable (see the readiness warnings at start-up)",
                    m.channel
                ),
                retryable: true,
                retry_after: None,
            });
        };
        let message: Message =
            serde_json::from_value(m.body.clone()).map_err(|e| crate::channel::DeliveryError {
                reason: format!("stored message does not decode: {e}"),
                retryable: false,
                retry_after: None,
            })?;
        let wait = {
            let last = self.last.lock().map(|l| l.get(&m.channel).copied()).ok().flatten();
            last.map(|t| self.opts.min_gap_per_channel.saturating_sub(t.elapsed()))
        };
        if let Some(w) = wait.filter(|w| !w.is_zero()) {
            tokio::time::sleep(w).await;
        }
        if let Ok(mut l) = self.last.lock() {
            l.insert(m.channel.clone(), std::time::Instant::now());
        }
        channel.deliver(&self.http, &message).await
    }

    /// The channels this courier delivers to.
    pub fn channel_names(&self) -> impl Iterator<Item = &str> {
        self.channels.keys().map(String::as_str)
    }

    /// Runs until `shutdown` completes: one loop per channel, so a slow or
    /// hanging service holds up only its own messages.
    pub async fn run(&self, shutdown: impl std::future::Future<Output = ()>) {
        let (stop, stopped) = tokio::sync::watch::channel(false);
        let loops = futures::future::join_all(self.channel_names().map(|ch| {
            let mut stopped = stopped.clone();
            self.run_channel(ch, async move {
                let _ = stopped.wait_for(|s| *s).await;
            })
        }));
        let signal = async move {
            shutdown.await;
            let _ = stop.send(true);
        };
        tokio::join!(loops, signal);
    }

    /// Delivers channel `channel` until `shutdown` completes. It is woken as
    /// soon as the store queues a message (when the store can tell), and
    /// otherwise looks at the outbox every poll interval, which is also when
    /// retries come due.
    pub async fn run_channel(
        &self,
        channel: &str,
        shutdown: impl std::future::Future<Output = ()>,
    ) {
        tokio::pin!(shutdown);
        let mut queued = self.store.outbox_changes();
        loop {
            if let Some(q) = &mut queued {
                // everything queued so far is read by the round below
                q.mark_unchanged();
            }
            // a delivery cut short by shutdown stays pending: it is sent
            // again (same idempotency key) after the restart
            let delivered = tokio::select! {
                () = &mut shutdown => return,
                r = self.round_for(Some(channel)) => match r {
                    Ok(n) => n,
                    Err(e) => {
                        tracing::error!(channel = %channel, error = %e, "outbox round failed; retrying");
                        0
                    }
                },
            };
            if delivered > 0 {
                // the next message of the same incident may be due now
                continue;
            }
            let woken = async {
                match &mut queued {
                    Some(q) => {
                        if q.changed().await.is_err() {
                            // the store is gone: poll from now on
                            std::future::pending::<()>().await;
                        }
                    }
                    None => std::future::pending().await,
                }
            };
            tokio::select! {
                () = &mut shutdown => return,
                () = tokio::time::sleep(self.opts.poll) => {}
                () = woken => {}
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retries_back_off_exponentially_within_the_bounds_and_believe_retry_after() {
        let opts = CourierOptions {
            first_retry: Duration::from_secs(1),
            max_retry: Duration::from_secs(60),
            ..CourierOptions::default()
        };
        for attempt in 1..=5u32 {
            let base = Duration::from_secs(1 << (attempt - 1));
            let d = backoff_delay(&opts, attempt, None);
            assert!(d >= base && d <= base * 2, "attempt {attempt}: {d:?}");
        }
        assert!(backoff_delay(&opts, 30, None) <= Duration::from_secs(60));
        let told = backoff_delay(&opts, 3, Some(Duration::from_secs(7)));
        assert_eq!(told, Duration::from_secs(7));
    }
}
