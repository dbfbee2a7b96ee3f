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
    collections::{BTreeMap, BTreeSet, HashMap, HashSet, VecDeque},
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
/// Pending transactions remembered as having raised alerts.
const ALERTED: usize = 4_096;
/// Pending transactions waiting for simulation, at most.
const QUEUE: usize = 65_536;
/// The latest block is looked up at least this often between the watcher's
/// blocks.
const HEAD_CHECK: Duration = Duration::from_millis(250);
/// Evidence: the alert was raised on a pending transaction.
pub const PENDING: &str = "pending";
/// Evidence: when its hash reached firebreak (Unix ms).
pub const PENDING_SEEN_MS: &str = "pending.seen_ms";

/// Evidence: the sender's pending transactions run ahead of the attack
/// (comma-separated hashes, lowest nonce first).
pub const PENDING_BEFORE: &str = "pending.before";

/// The pending transactions read so far, by sender and nonce (the latest at
/// each nonce: a replacement takes its place), so that a transaction is
/// simulated after its sender's pending ones with lower nonces, as a block
/// would hold them. Bounded like the seen hashes: the oldest is forgotten.
#[derive(Debug, Default)]
struct Pool {
    by_sender: HashMap<Address, BTreeMap<u64, alloy::rpc::types::Transaction>>,
    order: VecDeque<(Address, u64, B256)>,
    /// Roughly the memory the transactions held take.
    bytes: usize,
}

/// Most memory the pool's transactions may take (their input data, mostly).
const POOL_BYTES: usize = 64 << 20;

/// What one transaction roughly takes in the pool.
fn size(tx: &alloy::rpc::types::Transaction) -> usize {
    tx.input().len() + 512
}

impl Pool {
    fn insert(&mut self, tx: &alloy::rpc::types::Transaction) {
        let (from, nonce, hash) = (tx.inner.signer(), tx.nonce(), *tx.inner.tx_hash());
        self.bytes += size(tx);
        if let Some(old) = self.by_sender.entry(from).or_default().insert(nonce, tx.clone()) {
            self.bytes -= size(&old);
        }
        self.order.push_back((from, nonce, hash));
        while self.order.len() > SEEN || self.bytes > POOL_BYTES {
            let Some((from, nonce, hash)) = self.order.pop_front() else { break };
            self.remove_if(from, nonce, hash);
        }
    }

    /// Forgets `from`'s transaction at `nonce` if it is still `hash`.
    fn remove_if(&mut self, from: Address, nonce: u64, hash: B256) {
        if let Some(txs) = self.by_sender.get_mut(&from) {
            if txs.get(&nonce).is_some_and(|t| *t.inner.tx_hash() == hash)
                && let Some(old) = txs.remove(&nonce)
            {
                self.bytes -= size(&old);
            }
            if txs.is_empty() {
                self.by_sender.remove(&from);
            }
        }
    }

    /// `from`'s transactions with nonces `first..nonce`, in order; `None`
    /// when one of them was not seen (or there are more than
    /// [`firebreak_simulate::MAX_BEFORE`]). Forgets those below `first`:
    /// they are mined.
    fn before(
        &mut self,
        from: Address,
        first: u64,
        nonce: u64,
    ) -> Option<Vec<alloy::rpc::types::Transaction>> {
        let txs = self.by_sender.get_mut(&from)?;
        let kept = txs.split_off(&first);
        self.bytes -= txs.values().map(size).sum::<usize>();
        *txs = kept;
        let wanted = usize::try_from(nonce.checked_sub(first)?).ok()?;
        if wanted > firebreak_simulate::MAX_BEFORE {
            return None;
        }
        let run: Vec<_> = txs.range(first..nonce).map(|(_, t)| t.clone()).collect();
        (run.len() == wanted).then_some(run)
    }

    /// `from`'s transactions seen with the nonces right after `nonce`
    /// (consecutive), in order.
    fn after(&self, from: Address, nonce: u64) -> Vec<alloy::rpc::types::Transaction> {
        let Some(txs) = self.by_sender.get(&from) else { return Vec::new() };
        let mut next = nonce.saturating_add(1);
        let mut out = Vec::new();
        for (n, t) in txs.range(next..) {
            if *n != next || out.len() >= firebreak_simulate::MAX_BEFORE {
                break;
            }
            out.push(t.clone());
            next = next.saturating_add(1);
        }
        out
    }
}

/// What ended a wait with nothing queued.
enum Idle {
    /// Pending transactions (`None`: the stream ended).
    Pending(Option<Vec<Pending>>),
    /// The watcher published a new block (`false`: the watcher is gone).
    Block(bool),
    /// Time to look the head up again.
    Tick,
}

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
    pool: Pool,
    /// The monitors that fired on recent pending transactions: a sender's
    /// later transaction, run after one of them, does not raise them again.
    alerted: HashMap<B256, BTreeSet<String>>,
    alerted_order: VecDeque<B256>,
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
            pool: Pool::default(),
            alerted: HashMap::new(),
            alerted_order: VecDeque::new(),
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
                .warming(self.watched.iter().copied())
                .in_turn(endpoint.is_websocket());
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
            // the watcher publishes its state; once it is gone, the head is
            // still looked up every HEAD_CHECK
            let mut watcher = true;
            loop {
                loop {
                    match hashes.next().now_or_never() {
                        Some(Some(batch)) => self.enqueue(&mut queue, batch),
                        Some(None) => return Err("the pending-transaction stream ended".to_owned()),
                        None => break,
                    }
                }
                let Some((pending, seen_at, seen_ms)) = queue.pop_front() else {
                    // idle: a new block is adopted (and the cache warmed)
                    // as soon as the watcher has it, not when the next
                    // pending transaction (perhaps the attack) needs it
                    let idle = tokio::select! {
                        batch = hashes.next() => Idle::Pending(batch),
                        changed = self.base.changed(), if watcher => Idle::Block(changed.is_ok()),
                        () = tokio::time::sleep_until((checked + HEAD_CHECK).into()) => Idle::Tick,
                    };
                    match idle {
                        Idle::Pending(Some(batch)) => self.enqueue(&mut queue, batch),
                        Idle::Pending(None) => {
                            return Err("the pending-transaction stream ended".to_owned());
                        }
                        Idle::Block(false) => watcher = false,
                        Idle::Block(true) | Idle::Tick => {
                            self.base.mark_unchanged();
                            sim.at_head().await.map_err(|e| e.to_string())?;
                            checked = Instant::now();
                        }
                    }
                    continue;
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
                self.pool.insert(&tx);
                let (mut judged, complete) = self.judge(&mut sim, &tx, (seen_at, seen_ms)).await?;
                // its sender's transactions that came first with higher
                // nonces waited for it: judged again, now with it ahead
                // (only when nothing below it is missing any more)
                if complete {
                    let now = (Instant::now(), firebreak_primitives::now_ms());
                    for later in self.pool.after(tx.inner.signer(), tx.nonce()) {
                        judged.extend(self.judge(&mut sim, &later, now).await?.0);
                    }
                }
                for event in judged {
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

    /// Simulates one pending transaction and evaluates it: the events to
    /// report, and whether every pending transaction of its sender below it
    /// was known (and run ahead of it). A transaction that cannot be
    /// simulated is reported, not fatal; an endpoint that does not answer
    /// is (`Err`).
    async fn judge<P: Provider>(
        &mut self,
        sim: &mut Simulator<P>,
        tx: &alloy::rpc::types::Transaction,
        (seen_at, seen_ms): (Instant, u64),
    ) -> Result<(Vec<WatchEvent>, bool), String> {
        let hash = *tx.inner.tx_hash();
        let from = tx.inner.signer();
        let first = sim.nonce(from).await.map_err(|e| e.to_string())?;
        if tx.nonce() < first {
            // mined already (the head moved on since it was announced)
            return Ok((Vec::new(), false));
        }
        // a transaction whose sender has pending ones ahead of it (say, the
        // deployment of the contract it calls) runs after them
        let run = self.pool.before(from, first, tx.nonce());
        let complete = run.is_some();
        let mut before = run.unwrap_or_default();
        let mut outcome = sim.simulate_after(&before, tx, &self.reads).await;
        if matches!(&outcome, Err(e) if !e.is_retryable()) && !before.is_empty() {
            // one ahead of it cannot be simulated (too much state, invalid):
            // the transaction alone is still judged
            before.clear();
            outcome = sim.simulate(tx, &self.reads).await;
        }
        let s = match outcome {
            Ok(s) => s,
            Err(e) if e.is_retryable() => return Err(e.to_string()),
            Err(e) => {
                let failed = WatchEvent::EndpointFailed {
                    chain: self.chain.clone(),
                    endpoint: "simulation".to_owned(),
                    error: format!("pending transaction {hash} was not simulated: {e}"),
                };
                return Ok((vec![failed], complete));
            }
        };
        // monitors that fired on one run ahead of it: not raised again
        let fired: BTreeSet<String> = before
            .iter()
            .filter_map(|b| self.alerted.get(b.inner.tx_hash()))
            .flatten()
            .cloned()
            .collect();
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
                txs: s.before.iter().chain([&s.tx]).cloned().collect(),
            };
            let base = self.base.borrow().clone().unwrap_or_else(|| self.initial.clone());
            let alerts = self.detector.evaluate_pending(&base, &block, s.reads.clone());
            for a in alerts {
                if self.monitors.contains(&a.monitor) && !fired.contains(&a.monitor) {
                    self.remember_alert(hash, &a.monitor);
                    let alert = pending_alert(a, &before, tx, s.tx.success, seen_ms);
                    events.push(WatchEvent::Alert { alert });
                }
            }
        }
        events.push(WatchEvent::Simulated {
            chain_id: self.chain_id,
            tx_hash: hash,
            from: s.tx.from,
            succeeded: s.tx.success,
            after: s.before.len(),
            watched,
            alerts: events.len(),
            micros: u64::try_from(seen_at.elapsed().as_micros()).unwrap_or(u64::MAX),
        });
        Ok((events, complete))
    }

    /// Remembers that `monitor` fired on pending transaction `hash`.
    fn remember_alert(&mut self, hash: B256, monitor: &str) {
        if !self.alerted.contains_key(&hash) {
            self.alerted_order.push_back(hash);
            while self.alerted_order.len() > ALERTED {
                if let Some(old) = self.alerted_order.pop_front() {
                    self.alerted.remove(&old);
                }
            }
        }
        self.alerted.entry(hash).or_default().insert(monitor.to_owned());
    }
}

/// An alert raised on a simulated pending transaction (run after `before`,
/// its sender's pending ones): its own dedup key, no confirmations to wait
/// for, and the attack's fees (the pause outbids them: see
/// `firebreak_respond::PENDING_MAX_FEE`).
fn pending_alert(
    mut a: Alert,
    before: &[alloy::rpc::types::Transaction],
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
    // the attack's signed transactions: a builder bundle puts the pause first
    let raw = |t: &alloy::rpc::types::Transaction| {
        alloy::primitives::Bytes::from(alloy::eips::eip2718::Encodable2718::encoded_2718(&*t.inner))
    };
    let attack = raw(tx);
    if attack.len() <= firebreak_respond::MAX_RAW {
        a.evidence.insert(firebreak_respond::PENDING_RAW.to_owned(), attack.to_string());
    }
    if !before.is_empty() {
        let hashes: Vec<_> = before.iter().map(|t| t.inner.tx_hash().to_string()).collect();
        a.evidence.insert(PENDING_BEFORE.to_owned(), hashes.join(","));
        let raws: Vec<_> = before.iter().map(raw).collect();
        if raws.iter().map(|r| r.len()).sum::<usize>() <= firebreak_respond::MAX_BEFORE_RAW {
            let raws: Vec<_> = raws.iter().map(ToString::to_string).collect();
            a.evidence.insert(firebreak_respond::PENDING_BEFORE_RAW.to_owned(), raws.join(","));
        }
    }
    a
}

#[cfg(test)]
mod tests {
    use alloy::{
        consensus::{Signed, TxEip1559, TxEnvelope, transaction::Recovered},
        primitives::{Bytes, Signature, TxKind, U256},
        rpc::types::Transaction,
    };

    use super::*;

    /// A pending transaction of `from` (the signature is a placeholder: the
    /// pool keys on the recovered sender it is given).
    fn tx(from: Address, nonce: u64, tip: u128) -> Transaction {
        let t = TxEip1559 {
            chain_id: 1,
            nonce,
            gas_limit: 21_000,
            max_fee_per_gas: 2 * tip,
            max_priority_fee_per_gas: tip,
            to: TxKind::Call(Address::ZERO),
            value: U256::ZERO,
            access_list: Default::default(),
            input: Bytes::new(),
        };
        let hash = alloy::primitives::keccak256(format!("{from}:{nonce}:{tip}"));
        let signed = Signed::new_unchecked(t, Signature::test_signature(), hash);
        Transaction {
            inner: Recovered::new_unchecked(TxEnvelope::Eip1559(signed), from),
            block_hash: None,
            block_number: None,
            transaction_index: None,
            effective_gas_price: None,
            block_timestamp: None,
        }
    }

    fn nonces(txs: &[Transaction]) -> Vec<u64> {
        txs.iter().map(alloy::consensus::Transaction::nonce).collect()
    }

    #[test]
    fn a_transaction_runs_after_its_senders_pending_ones_only_when_none_is_missing() {
        let (a, b) = (Address::repeat_byte(0xa), Address::repeat_byte(0xb));
        let mut pool = Pool::default();
        for n in [5, 6, 7, 9] {
            pool.insert(&tx(a, n, 1));
        }
        pool.insert(&tx(b, 6, 1));
        assert_eq!(pool.before(a, 5, 5).map(|t| nonces(&t)), Some(vec![]), "the next nonce");
        assert_eq!(pool.before(a, 5, 8).map(|t| nonces(&t)), Some(vec![5, 6, 7]));
        assert_eq!(pool.before(a, 5, 10), None, "nonce 8 was not seen: it cannot land yet");
        assert_eq!(pool.before(b, 5, 6), None, "another sender's are not its own");
        // nonce 5 and 6 mined: forgotten
        assert_eq!(pool.before(a, 7, 8).map(|t| nonces(&t)), Some(vec![7]));
        assert_eq!(pool.before(a, 5, 7), None);
        // a replacement takes its nonce's place
        pool.insert(&tx(a, 7, 9));
        let run = pool.before(a, 7, 8).unwrap();
        assert_eq!(run[0].max_priority_fee_per_gas(), Some(9));
    }

    #[test]
    fn later_transactions_that_waited_for_one_follow_it_up_to_a_gap() {
        let a = Address::repeat_byte(0xa);
        let mut pool = Pool::default();
        for n in [3, 4, 6] {
            pool.insert(&tx(a, n, 1));
        }
        assert_eq!(nonces(&pool.after(a, 2)), vec![3, 4]);
        assert_eq!(nonces(&pool.after(a, 4)), Vec::<u64>::new());
        assert_eq!(nonces(&pool.after(a, 5)), vec![6]);
        assert!(pool.after(Address::ZERO, 0).is_empty());
    }

    #[test]
    fn no_more_than_max_before_run_ahead_and_the_pool_is_bounded() {
        let a = Address::repeat_byte(0xa);
        let mut pool = Pool::default();
        let max = firebreak_simulate::MAX_BEFORE as u64;
        for n in 0..=max + 1 {
            pool.insert(&tx(a, n, 1));
        }
        assert_eq!(pool.before(a, 0, max).map(|t| t.len()), Some(max as usize));
        assert_eq!(pool.before(a, 0, max + 1), None, "too many ahead: simulated alone");
        assert_eq!(pool.after(a, 0).len(), firebreak_simulate::MAX_BEFORE);
        for n in 0..SEEN as u64 + 10 {
            pool.insert(&tx(Address::with_last_byte((n % 200) as u8), n, 1));
        }
        assert_eq!(pool.order.len(), SEEN);
        let held: usize = pool.by_sender.values().map(BTreeMap::len).sum();
        assert_eq!(held, SEEN, "each forgotten hash leaves the pool");
        assert!(!pool.by_sender.contains_key(&a), "the oldest sender is forgotten");
    }
}
