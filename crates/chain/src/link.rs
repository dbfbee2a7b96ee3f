//! A chain's endpoints as one client: reads with failover ordered by each
//! endpoint's health, reads pinned to one endpoint and one block, and
//! broadcasts to every endpoint.

use std::{
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use alloy::{
    eips::BlockNumberOrTag,
    primitives::{B256, Bytes},
    providers::{DynProvider, Provider},
    transports::{RpcError, TransportError},
};

use crate::{
    RpcEndpoint,
    connect::{StackOptions, connect_endpoint},
    error::{Error, Result},
};

/// After a transport failure, how long an endpoint is tried only after the others.
const REST: Duration = Duration::from_secs(30);
/// An endpoint this many times slower than the fastest healthy one (and
/// slower than [`SLOW_FLOOR`]) is tried after the others.
const SLOW_FACTOR: f64 = 4.0;
/// Latency below which no endpoint counts as slow.
const SLOW_FLOOR: Duration = Duration::from_millis(250);
/// How long a read waits for one endpoint before the next runs it too.
pub const HEDGE_AFTER: Duration = Duration::from_millis(250);

/// The block a pinned read was made at: every read of one decision sees the
/// same state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct At {
    /// Block number.
    pub number: u64,
    /// Block hash.
    pub hash: B256,
}

/// What is known about an endpoint's health, for `/metrics` and readiness.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct EndpointHealth {
    /// Label (secret URLs shown by reference).
    pub endpoint: String,
    /// Transport failures in a row.
    pub failures: u32,
    /// Moving average of the answer time, once it has answered.
    pub latency_ms: Option<f64>,
    /// Whether it is tried after the others (failed recently, or slow).
    pub demoted: bool,
}

#[derive(Debug, Default)]
struct Health {
    failures: u32,
    failed_at: Option<Instant>,
    latency_ms: Option<f64>,
}

#[derive(Debug, Clone)]
struct Member {
    endpoint: RpcEndpoint,
    provider: DynProvider,
    health: Arc<Mutex<Health>>,
}

/// All endpoints of one chain, each behind the provider stack of
/// [`connect_endpoint`](crate::connect_endpoint).
#[derive(Debug, Clone)]
pub struct ChainLink {
    /// Chain key in the plan.
    pub key: String,
    /// Chain id.
    pub chain_id: u64,
    members: Vec<Member>,
    stack: StackOptions,
}

impl ChainLink {
    /// How long one endpoint may take to answer a read by default.
    pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);

    /// Connects to every endpoint that answers, in priority order, with
    /// `timeout` per call; endpoints that fail to connect are left out with a
    /// warning (secret URLs shown by label).
    ///
    /// # Errors
    /// [`Error::NoEndpoint`] when none connects.
    pub async fn connect(
        key: &str,
        chain_id: u64,
        endpoints: Vec<RpcEndpoint>,
        timeout: Duration,
    ) -> Result<Self> {
        let stack = StackOptions { timeout, ..StackOptions::default() };
        let mut members = Vec::new();
        for endpoint in endpoints {
            match connect_endpoint(&endpoint, stack).await {
                Ok(provider) => members.push(Member {
                    endpoint,
                    provider,
                    health: Arc::new(Mutex::new(Health::default())),
                }),
                Err(e) => {
                    let error = endpoint.redact(&e.to_string());
                    tracing::warn!(chain = key, endpoint = %endpoint, %error, "endpoint skipped");
                }
            }
        }
        if members.is_empty() {
            return Err(Error::NoEndpoint { chain: key.to_owned() });
        }
        Ok(Self { key: key.to_owned(), chain_id, members, stack })
    }

    /// Connects to `(label, url)` endpoints with the default timeout; a pair
    /// whose label differs from its URL is a secret URL.
    ///
    /// # Errors
    /// When none connects.
    pub async fn from_urls(key: &str, chain_id: u64, urls: Vec<(String, String)>) -> Result<Self> {
        Self::connect(key, chain_id, RpcEndpoint::from_pairs(urls), Self::DEFAULT_TIMEOUT).await
    }

    /// How long one endpoint may take to answer one call.
    pub const fn timeout(&self) -> Duration {
        self.stack.timeout
    }

    /// `text` with every secret endpoint URL replaced by its label.
    pub fn redact(&self, text: &str) -> String {
        self.members.iter().fold(text.to_owned(), |t, m| m.endpoint.redact(&t))
    }

    /// The healthiest endpoint (simulations run on one endpoint, so that a
    /// revert is a revert).
    pub fn primary(&self) -> &DynProvider {
        &self.members[self.order()[0]].provider
    }

    /// Health of every endpoint, in priority order.
    pub fn health(&self) -> Vec<EndpointHealth> {
        let fastest = self.fastest();
        self.members
            .iter()
            .map(|m| {
                let h = lock(&m.health);
                EndpointHealth {
                    endpoint: m.endpoint.label().to_owned(),
                    failures: h.failures,
                    latency_ms: h.latency_ms,
                    demoted: demoted(&h, fastest),
                }
            })
            .collect()
    }

    fn fastest(&self) -> Option<f64> {
        self.members
            .iter()
            .filter_map(|m| {
                let h = lock(&m.health);
                if resting(&h) { None } else { h.latency_ms }
            })
            .min_by(f64::total_cmp)
    }

    /// Endpoint indexes in the order to try them: healthy ones in the plan's
    /// order, then those that failed in the last 30 s or are much slower than
    /// the fastest.
    fn order(&self) -> Vec<usize> {
        let fastest = self.fastest();
        let mut order: Vec<(bool, usize)> = self
            .members
            .iter()
            .enumerate()
            .map(|(i, m)| (demoted(&lock(&m.health), fastest), i))
            .collect();
        order.sort_unstable();
        order.into_iter().map(|(_, i)| i).collect()
    }

    /// Runs a read on the healthiest endpoint; when it fails, or has not
    /// answered within [`HEDGE_AFTER`], the next endpoint runs it too, and the
    /// first answer wins. Everything `f` reads comes from one endpoint, so a decision
    /// that takes several reads never mixes two nodes' views (see
    /// [`ChainLink::read_at`] to pin them to one block as well).
    ///
    /// A node's error answer (a revert, an invalid argument) ends the read at
    /// once, as a permanent error: another node would answer the same.
    /// Transport failures and timeouts move on to the next endpoint, and are
    /// retryable when every endpoint fails.
    ///
    /// # Errors
    /// [`Error::Read`] with the last endpoint's error.
    pub async fn read<T, F, Fut>(&self, what: &'static str, f: F) -> Result<T>
    where
        F: Fn(DynProvider) -> Fut,
        Fut: std::future::Future<Output = Result<T, TransportError>>,
    {
        use futures::StreamExt as _;
        let mut last = String::new();
        // a read of several calls gets a timeout per call, plus one
        let limit = self.stack.timeout.saturating_mul(2);
        let f = &f;
        let attempt = |i: usize| async move {
            let m = &self.members[i];
            let started = Instant::now();
            (i, started, tokio::time::timeout(limit, f(m.provider.clone())).await)
        };
        // attempts started and not finished when another answers are
        // counted as failures: the endpoint is tried after the others for a while
        let mut pending: Vec<usize> = Vec::new();
        let abandon = |pending: &[usize], winner: usize| {
            for &i in pending.iter().filter(|i| **i != winner) {
                self.members[i].failed();
            }
        };
        let mut untried = self.order().into_iter();
        let mut running = futures::stream::FuturesUnordered::new();
        if let Some(i) = untried.next() {
            pending.push(i);
            running.push(attempt(i));
        }
        while !running.is_empty() {
            // an endpoint slow to answer is not waited on alone: after
            // `HEDGE_AFTER` the next one runs the same read too, and the first
            // answer wins (each attempt stays on its own endpoint)
            let hedge = tokio::time::sleep(HEDGE_AFTER);
            let done = tokio::select! {
                done = running.next() => done,
                () = hedge, if untried.len() > 0 => {
                    if let Some(i) = untried.next() {
                        pending.push(i);
                        running.push(attempt(i));
                    }
                    continue;
                }
            };
            let Some((i, started, answer)) = done else { break };
            let m = &self.members[i];
            pending.retain(|p| *p != i);
            match answer {
                Ok(Ok(v)) => {
                    m.answered(started.elapsed());
                    abandon(&pending, i);
                    return Ok(v);
                }
                Ok(Err(e)) if !is_retryable(&e) => {
                    m.answered(started.elapsed());
                    abandon(&pending, i);
                    return Err(Error::Read {
                        chain_id: self.chain_id,
                        what,
                        detail: self.redact(&e.to_string()),
                        retryable: false,
                    });
                }
                Ok(Err(e)) => {
                    m.failed();
                    last = format!("{}: {e}", m.endpoint.label());
                }
                Err(_) => {
                    m.failed();
                    last = format!("{}: no answer within {limit:?}", m.endpoint.label());
                }
            }
            // a failure moves on to the next endpoint at once
            if running.is_empty()
                && let Some(i) = untried.next()
            {
                pending.push(i);
                running.push(attempt(i));
            }
        }
        Err(Error::Read {
            chain_id: self.chain_id,
            what,
            detail: self.redact(&last),
            retryable: true,
        })
    }

    /// As [`ChainLink::read`], with the endpoint's latest block first: `f`
    /// reads at that block (pass `at.number` as the block of each call, or
    /// `at.hash` where a reorg between two reads would change the decision,
    /// and check that the block is still canonical at the end), so every
    /// read of one decision sees one node's state at one height.
    ///
    /// # Errors
    /// As [`ChainLink::read`].
    pub async fn read_at<T, F, Fut>(&self, what: &'static str, f: F) -> Result<T>
    where
        F: Fn(DynProvider, At) -> Fut,
        Fut: std::future::Future<Output = Result<T, TransportError>>,
    {
        let f = &f;
        self.read(what, |p| async move {
            let head =
                p.get_block_by_number(BlockNumberOrTag::Latest).await?.ok_or(RpcError::NullResp)?;
            f(p, At { number: head.header.number, hash: head.header.hash }).await
        })
        .await
    }

    /// Sends a signed transaction to every endpoint at once; returns each
    /// endpoint's answer. "Already known" counts as accepted.
    pub async fn broadcast(&self, raw: &Bytes) -> Vec<(String, Result<(), String>)> {
        let sends = self.members.iter().map(|m| async move {
            let started = Instant::now();
            let outcome = match m.provider.send_raw_transaction(raw).await {
                Ok(_) => {
                    m.answered(started.elapsed());
                    Ok(())
                }
                Err(e) => {
                    let text = self.redact(&e.to_string());
                    let lower = text.to_lowercase();
                    if e.as_error_resp().is_some() {
                        m.answered(started.elapsed());
                    } else {
                        m.failed();
                    }
                    if lower.contains("already known") || lower.contains("already imported") {
                        Ok(())
                    } else {
                        Err(text)
                    }
                }
            };
            (m.endpoint.label().to_owned(), outcome)
        });
        futures::future::join_all(sends).await
    }
}

impl Member {
    fn answered(&self, took: Duration) {
        let mut h = lock(&self.health);
        let ms = took.as_secs_f64() * 1000.0;
        h.latency_ms = Some(h.latency_ms.map_or(ms, |avg| avg * 0.7 + ms * 0.3));
        h.failures = 0;
        h.failed_at = None;
    }

    fn failed(&self) {
        let mut h = lock(&self.health);
        h.failures = h.failures.saturating_add(1);
        h.failed_at = Some(Instant::now());
    }
}

fn resting(h: &Health) -> bool {
    h.failed_at.is_some_and(|t| t.elapsed() < REST)
}

fn demoted(h: &Health, fastest: Option<f64>) -> bool {
    let floor = SLOW_FLOOR.as_secs_f64() * 1000.0;
    let slow = match (h.latency_ms, fastest) {
        (Some(ms), Some(best)) => ms > floor && ms > best * SLOW_FACTOR,
        _ => false,
    };
    resting(h) || slow
}

/// The health records are plain numbers: a panic elsewhere cannot leave one
/// half-written, so a poisoned lock is used as it is.
fn lock(h: &Mutex<Health>) -> std::sync::MutexGuard<'_, Health> {
    h.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Whether a failed call may succeed later or elsewhere: everything but a
/// node's error answer that is not a rate limit (alloy's `is_retry_err`).
pub fn is_retryable(e: &TransportError) -> bool {
    match e {
        RpcError::ErrorResp(payload) => payload.is_retry_err(),
        _ => true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failed_and_slow_endpoints_are_demoted() {
        let fresh = Health::default();
        assert!(!demoted(&fresh, None));
        let failed = Health { failures: 1, failed_at: Some(Instant::now()), latency_ms: Some(5.0) };
        assert!(demoted(&failed, Some(5.0)));
        let rested = Health {
            failures: 1,
            failed_at: Instant::now().checked_sub(REST + Duration::from_secs(1)),
            latency_ms: Some(5.0),
        };
        assert!(!demoted(&rested, Some(5.0)));
        let slow = Health { failures: 0, failed_at: None, latency_ms: Some(900.0) };
        assert!(demoted(&slow, Some(20.0)));
        // slower than the fastest, but fast in absolute terms
        let quick = Health { failures: 0, failed_at: None, latency_ms: Some(90.0) };
        assert!(!demoted(&quick, Some(2.0)));
    }
}
