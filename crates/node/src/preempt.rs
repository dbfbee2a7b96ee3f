//! Pre-emption: the pending transactions of a chain with a public mempool,
//! each executed in-process on top of the latest block
//! ([`firebreak_simulate::Simulator`]) and evaluated by the monitors that opt
//! in (`pre_empt = true`) as a "pending block" of that one transaction, on
//! the monitors' state after the latest canonical block. An alert raised
//! there carries the attack's fees, and the playbook's pause outbids them:
//! it is mined ahead of the attack in the same block.
//!
//! Intake: full pending transactions over a WebSocket subscription where
//! the endpoint is `ws(s)://` (hashes, read one by one, from a node that
//! sends only those), the node's pending-transaction filter polled
//! otherwise, each transaction then read by hash. What it cannot see it
//! cannot stop: private order flow, and chains whose sequencer keeps no
//! public pool (`mempool = "none"`; `verify` says so).

use std::{
    collections::{BTreeSet, HashSet, VecDeque},
    pin::Pin,
    time::{Duration, Instant},
};

use alloy::{
    consensus::Transaction as _,
    primitives::{Address, B256},
    providers::Provider,
};
use firebreak_chain::{RpcEndpoint, StackOptions};
use firebreak_detect::{Alert, EngineState};
use firebreak_plan::{Mempool, Plan};
use firebreak_primitives::StateRead;
use firebreak_simulate::Simulator;
use futures::{FutureExt as _, Stream, StreamExt as _};
use tokio::sync::{mpsc, watch};

use crate::{
    detector::{Detector, DetectorError},
    watch::{WatchError, WatchEvent},
};

/// Pending transaction hashes remembered (each is simulated once).
const SEEN: usize = 16_384;
/// Pending transactions waiting for simulation, at most.
const QUEUE: usize = 65_536;
/// The latest block is looked up at least this often between the watcher's
/// blocks.
const HEAD_CHECK: Duration = Duration::from_millis(250);
/// Evidence: the alert was raised on a pending transaction.
pub const PENDING: &str = "pending";
/// Evidence: when its hash reached firebreak (Unix ms).
pub const PENDING_SEEN_MS: &str = "pending.seen_ms";

/// A pending transaction as the node announced it.
#[derive(Debug)]
enum Pending {
    /// Its hash: the transaction is read by hash.
    Hash(B256),
    /// The whole transaction (a full-transaction subscription).
    Full(Box<alloy::rpc::types::Transaction>),
}

impl Pending {
    /// A subscription's item: a transaction object, or a hash.
    fn of(v: serde_json::Value) -> Option<Self> {
        match v {
            serde_json::Value::String(h) => h.parse().ok().map(Self::Hash),
            other => serde_json::from_value(other).ok().map(|t| Self::Full(Box::new(t))),
        }
    }

    fn hash(&self) -> B256 {
        match self {
            Self::Hash(h) => *h,
            Self::Full(t) => *t.inner.tx_hash(),
        }
    }
}

/// Tuning of pre-emption.
#[derive(Debug, Clone)]
pub struct PreEmptOptions {
    /// How often the node's pending-transaction filter is polled (HTTP
    /// endpoints; a WebSocket pushes).
    pub poll_interval: Duration,
    /// Longest wait for one RPC answer.
    pub rpc_timeout: Duration,
    /// Wait before the next endpoint after one failed.
    pub retry_after: Duration,
}

impl Default for PreEmptOptions {
    fn default() -> Self {
        Self {
            poll_interval: Duration::from_millis(50),
            rpc_timeout: Duration::from_secs(5),
            retry_after: Duration::from_secs(1),
        }
    }
}

/// Watches one chain's pending transactions for the `pre_empt` monitors.
#[derive(Debug)]
pub struct PreEmptor {
    chain: String,
    chain_id: u64,
    endpoints: Vec<RpcEndpoint>,
    detector: Detector,
    reads: Vec<StateRead>,
    monitors: BTreeSet<String>,
    watched: BTreeSet<Address>,
    /// The monitors' state after the latest canonical block (the watcher's).
    base: watch::Receiver<Option<EngineState>>,
    /// Before the watcher's first block: the state before any block.
    initial: EngineState,
    opts: PreEmptOptions,
    seen: HashSet<B256>,
    order: VecDeque<B256>,
}

/// The enabled `pre_empt` monitors of `chain` in `plan`.
pub fn pre_empt_monitors(plan: &Plan, chain: &str) -> BTreeSet<String> {
    plan.monitors
        .iter()
        .filter(|(_, m)| m.enabled && m.pre_empt && m.chain == chain)
        .map(|(id, _)| id.clone())
        .collect()
}

impl PreEmptor {
    /// Pre-emption of chain `chain`, evaluating on the watcher's state
    /// published on `base` ([`crate::Watcher::with_state_feed`]). `None`
    /// when the chain has no enabled `pre_empt` monitor, or no public
    /// mempool (`check` warns and `verify` reports it).
    ///
    /// # Errors
    /// Unknown chain, rules that do not compile, or no usable endpoint.
    pub fn new(
        plan: &Plan,
        chain: &str,
        base: watch::Receiver<Option<EngineState>>,
        opts: PreEmptOptions,
    ) -> Result<Option<Self>, WatchError> {
        let c =
            plan.chains.get(chain).ok_or_else(|| DetectorError::UnknownChain(chain.to_owned()))?;
        let monitors = pre_empt_monitors(plan, chain);
        if monitors.is_empty() || c.mempool != Mempool::Public {
            return Ok(None);
        }
        let detector = Detector::new(plan, chain)?;
        let (endpoints, _) = firebreak_respond::plan_endpoints(plan, chain)
            .map_err(|_| DetectorError::UnknownChain(chain.to_owned()))?;
        if endpoints.is_empty() {
            return Err(WatchError::NoEndpoint(chain.to_owned()));
        }
        let watched =
            plan.contracts.values().filter(|k| k.chain == chain).map(|k| k.address).collect();
        Ok(Some(Self {
            chain: chain.to_owned(),
            chain_id: c.id,
            endpoints,
            reads: detector.reads(),
            initial: detector.snapshot(),
            detector,
            monitors,
            watched,
            base,
            opts,
            seen: HashSet::new(),
            order: VecDeque::new(),
        }))
    }

    /// Replaces the plan's endpoints (tests, `--rpc`).
    #[must_use]
    pub fn with_endpoints(mut self, urls: Vec<String>) -> Self {
        self.endpoints = urls.into_iter().map(RpcEndpoint::public).collect();
        self
    }

    /// The monitors evaluated on pending transactions.
    pub fn monitors(&self) -> &BTreeSet<String> {
        &self.monitors
    }

    /// Runs until `shutdown` completes or `events` is closed: pending
    /// transactions in, [`WatchEvent::Alert`]s (pre-emptive) and
    /// [`WatchEvent::Simulated`] out. A failing endpoint is reported and the
    /// next one is tried.
    pub async fn run_into(
        mut self,
        events: mpsc::Sender<WatchEvent>,
        shutdown: impl std::future::Future<Output = ()>,
    ) {
        tokio::pin!(shutdown);
        let mut i = 0;
        loop {
            let endpoint = self.endpoints[i % self.endpoints.len()].clone();
            let failed = tokio::select! {
                () = &mut shutdown => return,
                r = self.intake(&endpoint, &events) => match r {
                    Ok(()) => return,
                    Err(e) => e,
                },
            };
            let event = WatchEvent::EndpointFailed {
                chain: self.chain.clone(),
                endpoint: format!("mempool {}", endpoint.label()),
                error: endpoint.redact(&failed),
            };
            if events.send(event).await.is_err() {
                return;
            }
            i += 1;
            tokio::select! {
                () = &mut shutdown => return,
                () = tokio::time::sleep(self.opts.retry_after) => {}
            }
        }
    }

    /// Remembers `hash`; `false` when it was seen before.
    fn remember(&mut self, hash: B256) -> bool {
        if !self.seen.insert(hash) {
            return false;
        }
        self.order.push_back(hash);
        while self.order.len() > SEEN {
            if let Some(old) = self.order.pop_front() {
                self.seen.remove(&old);
            }
        }
        true
    }

    /// Reads pending transactions from one endpoint until it fails (`Err`)
    /// or `events` is closed (`Ok`).
    fn intake<'a>(
        &'a mut self,
        endpoint: &'a RpcEndpoint,
        events: &'a mpsc::Sender<WatchEvent>,
    ) -> Pin<Box<dyn std::future::Future<Output = Result<(), String>> + Send + 'a>> {
        Box::pin(async move {
            let stack = StackOptions { timeout: self.opts.rpc_timeout, ..StackOptions::default() };
            let provider = firebreak_chain::connect_endpoint(endpoint, stack)
                .await
                .map_err(|e| e.to_string())?;
            let mut sim = Simulator::new(provider.clone(), self.chain_id)
                .warming(self.watched.iter().copied());
            sim.at_head().await.map_err(|e| e.to_string())?;
            let hashes: Pin<Box<dyn Stream<Item = Vec<Pending>> + Send>> =
                if endpoint.is_websocket() {
                    // full transactions where the node sends them (hashes from
                    // one that ignores the flag are read by hash)
                    let sub = provider
                        .subscribe::<_, serde_json::Value>(("newPendingTransactions", true))
                        .channel_size(4096)
                        .await
                        .map_err(|e| format!("cannot subscribe to pending transactions: {e}"))?;
                    Box::pin(
                        sub.into_stream()
                            .filter_map(|v| async move { Pending::of(v) })
                            .ready_chunks(256),
                    )
                } else {
                    let poller = provider.watch_pending_transactions().await.map_err(|e| {
                        format!("the node offers no pending-transaction filter: {e}")
                    })?;
                    Box::pin(
                        poller
                            .with_poll_interval(self.opts.poll_interval)
                            .into_stream()
                            .map(|b| b.into_iter().map(Pending::Hash).collect()),
                    )
                };
            let intake = WatchEvent::PendingIntake {
                chain: self.chain.clone(),
                endpoint: endpoint.label().to_owned(),
                how: if endpoint.is_websocket() { "subscription" } else { "filter" }.to_owned(),
            };
            if events.send(intake).await.is_err() {
                return Ok(());
            }
            // what waited in the pool before the subscription (or filter) began
            let waiting = provider
                .get_block_by_number(alloy::eips::BlockNumberOrTag::Pending)
                .await
                .map_err(|e| format!("eth_getBlockByNumber(pending): {e}"))?
                .map(|b| b.transactions.hashes().map(Pending::Hash).collect::<Vec<_>>())
                .unwrap_or_default();
            let mut hashes = hashes;
            // hashes wait here, not in the subscription's small buffer: a
            // subscription that overflows while a simulation runs stalls
            let mut queue: VecDeque<(Pending, Instant, u64)> = VecDeque::new();
            self.enqueue(&mut queue, waiting);
            let mut checked = Instant::now();
            loop {
                loop {
                    match hashes.next().now_or_never() {
                        Some(Some(batch)) => self.enqueue(&mut queue, batch),
                        Some(None) => return Err("the pending-transaction stream ended".to_owned()),
                        None => break,
                    }
                }
                let Some((pending, seen_at, seen_ms)) = queue.pop_front() else {
                    match hashes.next().await {
                        Some(batch) => {
                            self.enqueue(&mut queue, batch);
                            continue;
                        }
                        None => return Err("the pending-transaction stream ended".to_owned()),
                    }
                };
                // a block may have come: its state, not the old one (the
                // watcher's new block says so; a lagging watcher is not waited for)
                if self.base.has_changed().unwrap_or(false) || checked.elapsed() >= HEAD_CHECK {
                    self.base.mark_unchanged();
                    sim.at_head().await.map_err(|e| e.to_string())?;
                    checked = Instant::now();
                }
                let tx = match pending {
                    Pending::Full(tx) => Some(*tx),
                    Pending::Hash(hash) => provider
                        .get_transaction_by_hash(hash)
                        .await
                        .map_err(|e| format!("eth_getTransactionByHash: {e}"))?,
                };
                // gone (replaced, dropped) or mined already
                let Some(tx) = tx.filter(|t| t.block_number.is_none()) else { continue };
                for event in self.judge(&mut sim, &tx, (seen_at, seen_ms)).await? {
                    if events.send(event).await.is_err() {
                        return Ok(());
                    }
                }
            }
        })
    }

    /// Queues the transactions not seen before (oldest dropped past [`QUEUE`]).
    fn enqueue(&mut self, queue: &mut VecDeque<(Pending, Instant, u64)>, batch: Vec<Pending>) {
        let (at, ms) = (Instant::now(), firebreak_primitives::now_ms());
        for p in batch {
            if self.remember(p.hash()) {
                queue.push_back((p, at, ms));
            }
        }
        if queue.len() > QUEUE {
            let dropped = queue.len() - QUEUE;
            queue.drain(..dropped);
            tracing::warn!(chain = %self.chain, dropped, "pending transactions arrive faster than they are simulated; the oldest are dropped");
        }
    }

    /// Simulates one pending transaction and evaluates it; the events to
    /// report. A transaction that cannot be simulated is reported, not
    /// fatal; an endpoint that does not answer is (`Err`).
    async fn judge<P: Provider>(
        &mut self,
        sim: &mut Simulator<P>,
        tx: &alloy::rpc::types::Transaction,
        (seen_at, seen_ms): (Instant, u64),
    ) -> Result<Vec<WatchEvent>, String> {
        let hash = *tx.inner.tx_hash();
        let s = match sim.simulate(tx, &self.reads).await {
            Ok(s) => s,
            Err(e) if e.is_retryable() => return Err(e.to_string()),
            Err(e) => {
                return Ok(vec![WatchEvent::EndpointFailed {
                    chain: self.chain.clone(),
                    endpoint: "simulation".to_owned(),
                    error: format!("pending transaction {hash} was not simulated: {e}"),
                }]);
            }
        };
        let watched = s.touched.iter().any(|a| self.watched.contains(a));
        let mut events = Vec::new();
        if watched {
            let (number, parent, timestamp) = sim.next_block().unwrap_or_default();
            let block = firebreak_chain::BlockData {
                chain_id: self.chain_id,
                number,
                hash: B256::ZERO,
                parent_hash: parent,
                approved_safe_txs: None,
                timestamp,
                txs: vec![s.tx.clone()],
            };
            let base = self.base.borrow().clone().unwrap_or_else(|| self.initial.clone());
            let alerts = self.detector.evaluate_pending(&base, &block, s.reads.clone());
            for a in alerts {
                if self.monitors.contains(&a.monitor) {
                    let alert = pending_alert(a, tx, s.tx.success, seen_ms);
                    events.push(WatchEvent::Alert { alert });
                }
            }
        }
        events.push(WatchEvent::Simulated {
            chain_id: self.chain_id,
            tx_hash: hash,
            from: s.tx.from,
            succeeded: s.tx.success,
            watched,
            alerts: events.len(),
            micros: u64::try_from(seen_at.elapsed().as_micros()).unwrap_or(u64::MAX),
        });
        Ok(events)
    }
}

/// An alert raised on a simulated pending transaction: its own dedup key,
/// no confirmations to wait for, and the attack's fees (the pause outbids
/// them: see `firebreak_respond::PENDING_MAX_FEE`).
fn pending_alert(
    mut a: Alert,
    tx: &alloy::rpc::types::Transaction,
    succeeded: bool,
    seen_ms: u64,
) -> Alert {
    let hash = *tx.inner.tx_hash();
    a.dedup_key = format!("pending:{}:{}:{hash}", a.chain_id, a.monitor);
    // the pending block holds this one transaction (a block-wide rule too)
    a.tx_hash = Some(hash);
    a.confirmations = 0;
    let tip = tx.max_priority_fee_per_gas().unwrap_or_else(|| tx.max_fee_per_gas());
    for (k, v) in [
        (PENDING, "true".to_owned()),
        ("pending.tx_hash", hash.to_string()),
        (PENDING_SEEN_MS, seen_ms.to_string()),
        ("pending.simulated", if succeeded { "succeeded" } else { "reverted" }.to_owned()),
        (firebreak_respond::PENDING_MAX_FEE, tx.max_fee_per_gas().to_string()),
        (firebreak_respond::PENDING_TIP, tip.to_string()),
    ] {
        a.evidence.insert(k.to_owned(), v);
    }
    // the attack's signed transaction: a builder bundle puts the pause first
    let raw = alloy::eips::eip2718::Encodable2718::encoded_2718(&*tx.inner);
    if raw.len() <= firebreak_respond::MAX_RAW {
        a.evidence.insert(
            firebreak_respond::PENDING_RAW.to_owned(),
            alloy::primitives::Bytes::from(raw).to_string(),
        );
    }
    a
}
