//! Following a chain live: heads over WebSocket (or HTTP polling), endpoint
//! failover, gap backfill, reorg rewind with alert retraction, and a "blind"
//! alert when every endpoint has failed for too long.

use std::{
    collections::VecDeque,
    sync::Arc,
    time::{Duration, Instant},
};

use alloy::{
    providers::{DynProvider, Provider},
    pubsub::Subscription,
    rpc::types::Header,
};
use firebreak_chain::{RpcEndpoint, StackOptions};
use firebreak_detect::Alert;
use firebreak_plan::Plan;
use firebreak_store::{AlertStore, BlockCommit, Checkpoint};

use crate::detector::{Detector, DetectorError};

/// Blocks fetched ahead at most while catching up (one checkpoint write each).
const CATCH_UP_WINDOW: u64 = 256;
/// Block fetches in flight while catching up.
const CATCH_UP_IN_FLIGHT: usize = 32;

/// Tuning of a watcher.
#[derive(Debug, Clone)]
pub struct WatchOptions {
    /// How often heads are polled when no WebSocket subscription is active
    /// (and the longest wait even with one).
    pub poll_interval: Duration,
    /// After this long with every endpoint failing, a "blind" event fires.
    pub blind_after: Duration,
    /// How many processed blocks are kept to rewind on a reorg.
    pub reorg_depth: usize,
    /// First block to process; default: the head at start.
    pub start: Option<u64>,
    /// Longest wait for one RPC answer before the endpoint counts as failed
    /// (a silently dead WebSocket never answers at all).
    pub rpc_timeout: Duration,
    /// After a failover, how long before a higher-priority endpoint is tried again.
    pub failback_after: Duration,
}

impl Default for WatchOptions {
    fn default() -> Self {
        Self {
            poll_interval: Duration::from_millis(250),
            blind_after: Duration::from_secs(30),
            reorg_depth: 64,
            start: None,
            rpc_timeout: Duration::from_secs(5),
            failback_after: Duration::from_secs(30),
        }
    }
}

/// What a watcher reports.
#[derive(Debug, Clone, serde::Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum WatchEvent {
    /// A monitor fired on a canonical block.
    Alert {
        /// The alert.
        alert: Alert,
    },
    /// An alert whose block was orphaned by a reorg is withdrawn.
    Retracted {
        /// The withdrawn alert.
        alert: Alert,
    },
    /// A reorg was handled: blocks above `ancestor` were replaced.
    Reorg {
        /// Chain id.
        chain_id: u64,
        /// Last common block.
        ancestor: u64,
        /// Number of orphaned blocks.
        depth: usize,
    },
    /// A block was processed (for progress and checkpoints).
    Processed {
        /// Chain id.
        chain_id: u64,
        /// Number.
        number: u64,
    },
    /// An endpoint failed; the watcher moves to the next one.
    EndpointFailed {
        /// Chain key.
        chain: String,
        /// Endpoint, safe to print (secret URLs are shown by reference).
        endpoint: String,
        /// Why.
        error: String,
    },
    /// Every endpoint has failed for longer than `blind_after`: the monitors
    /// of this chain see nothing.
    Blind {
        /// Chain key.
        chain: String,
        /// How long it has been blind.
        for_secs: u64,
    },
    /// The chain is visible again after being blind.
    Recovered {
        /// Chain key.
        chain: String,
    },
    /// The store could not record a block; its alerts were reported anyway.
    StoreFailed {
        /// Chain key.
        chain: String,
        /// Why (the cause chain).
        error: String,
    },
}

#[derive(Debug)]
struct Ep {
    endpoint: RpcEndpoint,
    provider: Option<DynProvider>,
    failures: u32,
    last_failure: Option<Instant>,
}

#[derive(Debug)]
struct Processed {
    number: u64,
    hash: alloy::primitives::B256,
    /// The monitors' state after this block (rules are not copied).
    state: firebreak_detect::EngineState,
    alerts: Vec<Alert>,
}

/// Watches one chain of a plan.
#[derive(Debug)]
pub struct Watcher {
    chain: String,
    endpoints: Vec<Ep>,
    current: usize,
    detector: Detector,
    history: VecDeque<Processed>,
    next: Option<u64>,
    opts: WatchOptions,
    failing_since: Option<Instant>,
    blind_reported: bool,
    heads: Option<Subscription<Header>>,
    /// Alerts waiting for their monitor's confirmations: (reportable at height, alert).
    pending: Vec<(u64, Alert)>,
    /// Where alerts and checkpoints are kept across restarts.
    store: Option<Arc<dyn AlertStore>>,
    /// Dedup keys retracted since the last commit.
    retracted: Vec<String>,
    /// The newest block known just below the kept history (number, hash).
    base: Option<(u64, alloy::primitives::B256)>,
    /// Endpoints left out because their secret did not resolve, with why.
    skipped: Vec<String>,
    /// Monitor state before any block, for a reorg deeper than the history.
    initial: firebreak_detect::EngineState,
}

/// Errors that stop a watcher before it starts.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum WatchError {
    /// The plan or its rules are not usable.
    #[error(transparent)]
    Detector(#[from] DetectorError),
    /// A chain without any endpoint whose secret resolves.
    #[error("chain `{0}` has no usable RPC endpoint (are its secret references set?)")]
    NoEndpoint(String),
}

impl Watcher {
    /// A watcher of chain `chain` of `plan`, with the plan's endpoints in order.
    ///
    /// # Errors
    /// Unknown chain, rules that do not compile, or no usable endpoint.
    pub fn new(plan: &Plan, chain: &str, opts: WatchOptions) -> Result<Self, WatchError> {
        let detector = Detector::new(plan, chain)?;
        let detector_initial = detector.snapshot();
        let (endpoints, skipped) = firebreak_respond::plan_endpoints(plan, chain)
            .map_err(|_| DetectorError::UnknownChain(chain.to_owned()))?;
        let endpoints: Vec<Ep> = endpoints
            .into_iter()
            .map(|endpoint| Ep { endpoint, provider: None, failures: 0, last_failure: None })
            .collect();
        if endpoints.is_empty() {
            return Err(WatchError::NoEndpoint(chain.to_owned()));
        }
        Ok(Self {
            chain: chain.to_owned(),
            endpoints,
            current: 0,
            detector,
            history: VecDeque::new(),
            next: None,
            opts,
            failing_since: None,
            blind_reported: false,
            heads: None,
            pending: Vec::new(),
            store: None,
            retracted: Vec::new(),
            base: None,
            skipped,
            initial: detector_initial,
        })
    }

    /// Replaces the plan's endpoints (tests, `--rpc`).
    #[must_use]
    pub fn with_endpoints(mut self, urls: Vec<String>) -> Self {
        self.endpoints = urls
            .into_iter()
            .map(|url| Ep {
                endpoint: RpcEndpoint::public(url),
                provider: None,
                failures: 0,
                last_failure: None,
            })
            .collect();
        self.current = 0;
        self
    }

    /// Chain id.
    pub fn chain_id(&self) -> u64 {
        self.detector.chain_id()
    }

    /// Keeps alerts and the per-chain checkpoint in `store`: the watcher
    /// resumes from the checkpoint and never reports an alert twice, across
    /// reconnects and restarts.
    #[must_use]
    pub fn with_store(mut self, store: Arc<dyn AlertStore>) -> Self {
        self.store = Some(store);
        self
    }

    /// Endpoints of the plan left out because their secret reference did not
    /// resolve (e.g. an unset environment variable), each with the reason.
    pub fn skipped_endpoints(&self) -> &[String] {
        &self.skipped
    }

    /// The endpoint in use (secret URLs shown by reference).
    pub fn endpoint(&self) -> &str {
        self.endpoints[self.current].endpoint.label()
    }

    /// The next block the watcher will process.
    pub fn next_block(&self) -> Option<u64> {
        self.next
    }

    async fn provider(&mut self) -> Result<DynProvider, String> {
        let ep = &mut self.endpoints[self.current];
        if let Some(p) = &ep.provider {
            return Ok(p.clone());
        }
        let stack = StackOptions { timeout: self.opts.rpc_timeout, ..StackOptions::default() };
        let p = firebreak_chain::connect_endpoint(&ep.endpoint, stack)
            .await
            .map_err(|e| ep.endpoint.redact(&e.to_string()))?;
        // Heads by subscription when the endpoint speaks WebSocket.
        self.heads =
            if ep.endpoint.is_websocket() { p.subscribe_blocks().await.ok() } else { None };
        ep.provider = Some(p.clone());
        Ok(p)
    }

    fn fail(&mut self, error: String, emit: &mut (dyn FnMut(WatchEvent) + Send)) {
        let ep = &mut self.endpoints[self.current];
        // an endpoint's URL may hold its API key: errors show its label only
        let error = ep.endpoint.redact(&error);
        ep.failures += 1;
        ep.last_failure = Some(Instant::now());
        ep.provider = None;
        self.heads = None;
        emit(WatchEvent::EndpointFailed {
            chain: self.chain.clone(),
            endpoint: ep.endpoint.label().to_owned(),
            error,
        });
        // the next endpoint in priority order
        self.current = (self.current + 1) % self.endpoints.len();
        let since = *self.failing_since.get_or_insert_with(Instant::now);
        if !self.blind_reported && since.elapsed() >= self.opts.blind_after {
            self.blind_reported = true;
            emit(WatchEvent::Blind {
                chain: self.chain.clone(),
                for_secs: since.elapsed().as_secs(),
            });
        }
    }

    fn ok(&mut self, emit: &mut (dyn FnMut(WatchEvent) + Send)) {
        self.endpoints[self.current].failures = 0;
        self.failing_since = None;
        if self.blind_reported {
            self.blind_reported = false;
            emit(WatchEvent::Recovered { chain: self.chain.clone() });
        }
    }

    /// One round: catch up from the next unprocessed block to the head,
    /// handling reorgs. Never returns an error: failures become events and
    /// the next round retries on the next endpoint, from the same block.
    pub async fn step(&mut self, emit: &mut (dyn FnMut(WatchEvent) + Send)) {
        let limit = self.opts.rpc_timeout;
        // fail back to the highest-priority endpoint that has rested long enough
        let rested =
            |e: &Ep| e.last_failure.is_none_or(|t| t.elapsed() >= self.opts.failback_after);
        if let Some(better) = self.endpoints[..self.current].iter().position(rested) {
            self.endpoints[self.current].provider = None;
            self.heads = None;
            self.current = better;
        }
        // the connect future (WebSocket handshake) is large: keep it on the heap
        let provider = match Box::pin(timed(limit, self.provider())).await {
            Ok(p) => p,
            Err(e) => return self.fail(e, emit),
        };
        let head = match timed(limit, async {
            provider.get_block_number().await.map_err(|e| e.to_string())
        })
        .await
        {
            Ok(h) => h,
            Err(e) => return self.fail(e, emit),
        };
        self.ok(emit);
        if self.next.is_none() && self.opts.start.is_none() {
            match timed(limit * 4, self.resume(&provider, emit)).await {
                Ok(resumed) => self.next = resumed,
                Err(e) => return self.fail(e, emit),
            }
        }
        let mut next = *self.next.get_or_insert(self.opts.start.unwrap_or(head));
        // blocks fetched ahead while catching up, in order, starting at `next`
        let mut ahead: VecDeque<firebreak_chain::BlockData> = VecDeque::new();
        while next <= head {
            if ahead.front().is_none_or(|b| b.number != next) {
                ahead.clear();
                match self.fetch_ahead(&provider, next, head).await {
                    Ok(blocks) => ahead = blocks,
                    Err(e) => return self.fail(e, emit),
                }
            }
            let Some(block) = ahead.pop_front() else {
                return self.fail(format!("block {next} came back empty"), emit);
            };
            // while catching up, the checkpoint is written once per window
            // (and with every alert), not once per block
            let window_end = ahead.is_empty();
            if let Some(last) = self.history.back()
                && last.number + 1 == block.number
                && last.hash != block.parent_hash
            {
                match timed(limit * 4, self.rewind(&provider, emit)).await {
                    Ok(n) => {
                        next = n;
                        self.next = Some(n);
                        continue;
                    }
                    Err(e) => return self.fail(e, emit),
                }
            }
            let mut after = self.detector.clone();
            let processed = timed(limit, async {
                after.process_block(&provider, &block).await.map_err(|e| e.to_string())
            });
            let alerts = match processed.await {
                Ok(a) => a,
                Err(e) => return self.fail(e, emit),
            };
            for e in after.take_errors() {
                emit(WatchEvent::EndpointFailed {
                    chain: self.chain.clone(),
                    endpoint: format!("monitor {}", e.monitor),
                    error: format!("block {}: {}", e.block_number, e.message),
                });
            }
            for a in alerts {
                self.pending.push((a.block_number + a.confirmations, a));
            }
            self.detector = after;
            if self.history.is_empty() && self.base.is_none() {
                self.base = Some((block.number.saturating_sub(1), block.parent_hash));
            }
            self.history.push_back(Processed {
                number: block.number,
                hash: block.hash,
                state: self.detector.snapshot(),
                alerts: Vec::new(),
            });
            while self.history.len() > self.opts.reorg_depth {
                if let Some(old) = self.history.pop_front() {
                    self.base = Some((old.number, old.hash));
                }
            }
            // alerts whose block now has enough blocks on top (a reorg drops the
            // pending alerts of orphaned blocks before they are ever shown)
            let (ready, waiting): (Vec<_>, Vec<_>) = std::mem::take(&mut self.pending)
                .into_iter()
                .partition(|(at, _)| *at <= block.number);
            self.pending = waiting;
            let ready: Vec<Alert> = ready.into_iter().map(|(_, a)| a).collect();
            let deferred = !window_end && ready.is_empty() && self.retracted.is_empty();
            let fresh = if deferred { Vec::new() } else { self.record(&block, &ready, emit).await };
            for (a, new) in ready.into_iter().zip(fresh) {
                if let Some(entry) = self.history.iter_mut().find(|e| e.number == a.block_number) {
                    entry.alerts.push(a.clone());
                }
                if new {
                    emit(WatchEvent::Alert { alert: a });
                }
            }
            emit(WatchEvent::Processed { chain_id: self.chain_id(), number: block.number });
            next += 1;
            self.next = Some(next);
        }
    }

    /// Fetches block `from` and, while the chain is further ahead, the blocks
    /// after it (up to [`CATCH_UP_WINDOW`]) with that many requests in flight,
    /// returned in order. A single new block on a WebSocket is fetched in
    /// turn (see `firebreak_chain::fetch_block_in_turn`).
    async fn fetch_ahead(
        &self,
        provider: &DynProvider,
        from: u64,
        head: u64,
    ) -> Result<VecDeque<firebreak_chain::BlockData>, String> {
        use futures::StreamExt as _;
        let chain_id = self.chain_id();
        let limit = self.opts.rpc_timeout;
        if from == head {
            let block = timed(limit, async {
                let block = if self.heads.is_some() {
                    firebreak_chain::fetch_block_in_turn(provider, chain_id, from).await
                } else {
                    firebreak_chain::fetch_block(provider, chain_id, from).await
                };
                block.map_err(|e| e.to_string())
            });
            return block.await.map(|b| VecDeque::from([b]));
        }
        let to = head.min(from.saturating_add(CATCH_UP_WINDOW - 1));
        let fetched = futures::stream::iter(from..=to)
            .map(|n| {
                timed(limit, async move {
                    firebreak_chain::fetch_block(provider, chain_id, n)
                        .await
                        .map_err(|e| e.to_string())
                })
            })
            .buffered(CATCH_UP_IN_FLIGHT)
            .collect::<Vec<_>>()
            .await;
        // the blocks before the first failure are used; the rest is fetched again
        let mut ahead = VecDeque::new();
        for block in fetched {
            match block {
                Ok(b) => ahead.push_back(b),
                Err(e) if ahead.is_empty() => return Err(e),
                Err(_) => break,
            }
        }
        Ok(ahead)
    }

    /// Writes the block's reportable alerts, pending retractions and the
    /// checkpoint in one transaction. The checkpoint stays below the oldest
    /// alert still waiting for confirmations, so a restart re-derives it.
    /// Returns, per alert, whether it is new (unknown to the store).
    async fn record(
        &mut self,
        block: &firebreak_chain::BlockData,
        alerts: &[Alert],
        emit: &mut (dyn FnMut(WatchEvent) + Send),
    ) -> Vec<bool> {
        let Some(store) = self.store.clone() else {
            self.retracted.clear();
            return vec![true; alerts.len()];
        };
        let mut at = (block.number, block.hash);
        if let Some(oldest) = self.pending.iter().map(|(_, a)| a.block_number).min() {
            // the newest known block below the oldest waiting alert
            at = match self.history.iter().rev().find(|e| e.number < oldest) {
                Some(e) => (e.number, e.hash),
                None => match self.base {
                    Some(b) if b.0 < oldest => b,
                    // nothing known below it: leave the checkpoint where it was
                    _ => {
                        let fresh = vec![true; alerts.len()];
                        return if alerts.is_empty() && self.retracted.is_empty() {
                            fresh
                        } else {
                            self.commit_without_checkpoint(&store, alerts, emit).await
                        };
                    }
                },
            };
        }
        let commit = BlockCommit {
            checkpoint: Checkpoint { chain_id: self.chain_id(), number: at.0, hash: at.1 },
            alerts: alerts.to_vec(),
            retracted: std::mem::take(&mut self.retracted),
        };
        match store.commit(commit).await {
            Ok(fresh) => fresh,
            Err(e) => {
                // never lose an alert to a store failure: report it anyway
                emit(WatchEvent::StoreFailed {
                    chain: self.chain.clone(),
                    error: firebreak_primitives::error_chain(&e),
                });
                vec![true; alerts.len()]
            }
        }
    }

    async fn commit_without_checkpoint(
        &mut self,
        store: &Arc<dyn AlertStore>,
        alerts: &[Alert],
        emit: &mut (dyn FnMut(WatchEvent) + Send),
    ) -> Vec<bool> {
        // keep the stored checkpoint: re-read it and write it back unchanged
        let kept = match store.checkpoint(self.chain_id()).await {
            Ok(Some(cp)) => cp,
            Ok(None) => {
                emit(WatchEvent::StoreFailed {
                    chain: self.chain.clone(),
                    error: "no checkpoint below a waiting alert yet".into(),
                });
                return vec![true; alerts.len()];
            }
            Err(e) => {
                emit(WatchEvent::StoreFailed {
                    chain: self.chain.clone(),
                    error: firebreak_primitives::error_chain(&e),
                });
                return vec![true; alerts.len()];
            }
        };
        let commit = BlockCommit {
            checkpoint: kept,
            alerts: alerts.to_vec(),
            retracted: std::mem::take(&mut self.retracted),
        };
        store.commit(commit).await.unwrap_or_else(|e| {
            emit(WatchEvent::StoreFailed {
                chain: self.chain.clone(),
                error: firebreak_primitives::error_chain(&e),
            });
            vec![true; alerts.len()]
        })
    }

    /// Where to start: the stored checkpoint when it is still canonical; after
    /// a reorg that happened while down, `reorg_depth` blocks earlier, with
    /// the stored alerts of blocks no longer canonical retracted.
    async fn resume(
        &mut self,
        provider: &DynProvider,
        emit: &mut (dyn FnMut(WatchEvent) + Send),
    ) -> Result<Option<u64>, String> {
        let Some(store) = self.store.clone() else { return Ok(None) };
        let chain_id = self.chain_id();
        let Some(cp) =
            store.checkpoint(chain_id).await.map_err(|e| firebreak_primitives::error_chain(&e))?
        else {
            return Ok(None);
        };
        let hash_at = |n: u64| {
            let provider = provider.clone();
            async move {
                provider
                    .get_block_by_number(n.into())
                    .await
                    .map(|b| b.map(|b| b.header.hash))
                    .map_err(|e| e.to_string())
            }
        };
        if hash_at(cp.number).await? == Some(cp.hash) {
            return Ok(Some(cp.number + 1));
        }
        let from = cp.number.saturating_sub(self.opts.reorg_depth as u64);
        for stored in
            store.alerts(chain_id, from).await.map_err(|e| firebreak_primitives::error_chain(&e))?
        {
            if !stored.retracted
                && hash_at(stored.alert.block_number).await? != Some(stored.alert.block_hash)
            {
                self.retracted.push(stored.alert.dedup_key.clone());
                emit(WatchEvent::Retracted { alert: stored.alert });
            }
        }
        Ok(Some(from))
    }

    /// Walks back to the last block whose hash the node still has, retracts
    /// the alerts of the orphaned blocks and restores the engine state.
    async fn rewind(
        &mut self,
        provider: &DynProvider,
        emit: &mut (dyn FnMut(WatchEvent) + Send),
    ) -> Result<u64, String> {
        let mut orphaned = 0;
        while let Some(entry) = self.history.back() {
            let canonical = provider
                .get_block_by_number(entry.number.into())
                .await
                .map_err(|e| e.to_string())?
                .map(|b| b.header.hash);
            if canonical == Some(entry.hash) {
                let ancestor = entry.number;
                self.detector.restore(&entry.state);
                emit(WatchEvent::Reorg { chain_id: self.chain_id(), ancestor, depth: orphaned });
                return Ok(ancestor + 1);
            }
            let Some(gone) = self.history.pop_back() else { break };
            orphaned += 1;
            self.pending.retain(|(_, a)| a.block_number != gone.number);
            for a in gone.alerts {
                self.retracted.push(a.dedup_key.clone());
                emit(WatchEvent::Retracted { alert: a });
            }
        }
        // Deeper than the kept history: start over with fresh monitor state
        // (windows restart empty) right after the newest block known to be
        // canonical, or from the block below the history when that one is gone too.
        let restart = match self.base {
            Some((n, h)) => {
                let canonical = provider
                    .get_block_by_number(n.into())
                    .await
                    .map_err(|e| e.to_string())?
                    .map(|b| b.header.hash);
                if canonical == Some(h) { n + 1 } else { n }
            }
            None => self.next.unwrap_or_default().saturating_sub(orphaned as u64),
        };
        self.detector.restore(&self.initial);
        self.pending.clear();
        self.base = None;
        emit(WatchEvent::Reorg {
            chain_id: self.chain_id(),
            ancestor: restart.saturating_sub(1),
            depth: orphaned,
        });
        Ok(restart)
    }

    /// Runs until `shutdown` completes: a round at every new head (WebSocket)
    /// or every poll interval.
    pub async fn run(
        &mut self,
        emit: &mut (dyn FnMut(WatchEvent) + Send),
        shutdown: impl std::future::Future<Output = ()>,
    ) {
        tokio::pin!(shutdown);
        loop {
            Box::pin(self.step(emit)).await;
            tokio::select! {
                () = &mut shutdown => return,
                () = self.next_round() => {}
            }
        }
    }

    /// Like [`Watcher::run`], with events sent on `events`: a full channel
    /// holds the watcher back (nothing is dropped), and a closed one ends it.
    pub async fn run_into(
        &mut self,
        events: tokio::sync::mpsc::Sender<WatchEvent>,
        shutdown: impl std::future::Future<Output = ()>,
    ) {
        tokio::pin!(shutdown);
        let mut batch = Vec::new();
        loop {
            Box::pin(self.step(&mut |e| batch.push(e))).await;
            for e in batch.drain(..) {
                tokio::select! {
                    () = &mut shutdown => return,
                    sent = events.send(e) => if sent.is_err() { return },
                }
            }
            tokio::select! {
                () = &mut shutdown => return,
                () = self.next_round() => {}
            }
        }
    }

    /// Waits for the next round: a new head on the subscription, or the poll
    /// interval without one. With a live subscription the poll is only a
    /// health check (a silently dead socket is found by its timeout), so it
    /// runs at most once a second and an idle chain costs almost nothing.
    async fn next_round(&mut self) {
        let wait = if self.heads.is_some() {
            self.opts.poll_interval.max(Duration::from_secs(1))
        } else {
            self.opts.poll_interval
        };
        tokio::select! {
            () = tokio::time::sleep(wait) => {}
            head = next_head(&mut self.heads) => if head.is_none() {
                // the subscription ended: poll until the next reconnect renews it
                self.heads = None;
            },
        }
    }
}

async fn timed<T>(
    limit: Duration,
    f: impl std::future::Future<Output = Result<T, String>>,
) -> Result<T, String> {
    tokio::time::timeout(limit, f)
        .await
        .unwrap_or_else(|_| Err(format!("no answer within {limit:?}")))
}

/// `None` once the subscription is closed; a lagged one still means "new heads".
async fn next_head(heads: &mut Option<Subscription<Header>>) -> Option<()> {
    match heads {
        Some(sub) => match sub.recv().await {
            Ok(_) | Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => Some(()),
            Err(tokio::sync::broadcast::error::RecvError::Closed) => None,
        },
        None => std::future::pending().await,
    }
}
