//! Watching a chain: the monitors run over the blocks a
//! [`firebreak_chain::Follower`] delivers (heads, endpoint failover, gap
//! backfill, reorgs as typed notifications), alerts wait for their
//! confirmations, a reorg restores the monitors' state and retracts the
//! alerts of orphaned blocks, and a "blind" event fires when every endpoint
//! has failed for too long.

use std::{collections::VecDeque, sync::Arc, time::Duration};

use alloy::providers::{DynProvider, Provider};
use firebreak_chain::{FollowOptions, Follower, Notification, RpcEndpoint};
use firebreak_detect::Alert;
use firebreak_plan::Plan;
use firebreak_store::{AlertStore, BlockCommit, Checkpoint};

use crate::detector::{Detector, DetectorError};

/// Blocks fetched ahead at most while catching up (one checkpoint write each).
const CATCH_UP_WINDOW: u64 = 256;
/// Block fetches in flight while catching up.
const CATCH_UP_IN_FLIGHT: usize = 32;

impl WatchOptions {
    fn follow(&self) -> FollowOptions {
        FollowOptions {
            poll_interval: self.poll_interval,
            blind_after: self.blind_after,
            reorg_depth: self.reorg_depth,
            rpc_timeout: self.rpc_timeout,
            failback_after: self.failback_after,
            window: CATCH_UP_WINDOW,
            in_flight: CATCH_UP_IN_FLIGHT,
        }
    }
}

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
    /// Pre-emption reads the chain's pending transactions from `endpoint`
    /// (again, after a failure).
    PendingIntake {
        /// Chain key.
        chain: String,
        /// Endpoint, safe to print.
        endpoint: String,
        /// `subscription` (WebSocket) or `filter` (polled).
        how: String,
    },
    /// A pending transaction was simulated on top of the latest block
    /// (pre-emption); `alerts` pre-emptive alerts followed.
    Simulated {
        /// Chain id.
        chain_id: u64,
        /// The pending transaction.
        tx_hash: alloy::primitives::B256,
        /// Its sender.
        from: alloy::primitives::Address,
        /// Whether it would succeed at the start of the next block.
        succeeded: bool,
        /// Pending transactions of its sender (lower nonces) run ahead of it.
        after: usize,
        /// Whether it touched a watched contract.
        watched: bool,
        /// Pre-emptive alerts raised on it.
        alerts: usize,
        /// Microseconds from seeing its hash to its evaluation's end.
        micros: u64,
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
    follower: Follower,
    detector: Detector,
    history: VecDeque<Processed>,
    opts: WatchOptions,
    /// Whether the start block is settled (checkpoint or `start`).
    started: bool,
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
    /// Where the monitors' state after each canonical block is published
    /// (pre-emption evaluates pending transactions on top of it).
    feed: Option<tokio::sync::watch::Sender<Option<firebreak_detect::EngineState>>>,
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
        let initial = detector.snapshot();
        let (endpoints, skipped) = firebreak_respond::plan_endpoints(plan, chain)
            .map_err(|_| DetectorError::UnknownChain(chain.to_owned()))?;
        if endpoints.is_empty() {
            return Err(WatchError::NoEndpoint(chain.to_owned()));
        }
        let follower = Follower::new(detector.chain_id(), endpoints, opts.follow())
            .with_log_filter(detector.log_filter());
        Ok(Self {
            chain: chain.to_owned(),
            follower,
            detector,
            history: VecDeque::new(),
            opts,
            started: false,
            pending: Vec::new(),
            store: None,
            retracted: Vec::new(),
            base: None,
            skipped,
            initial,
            feed: None,
        })
    }

    /// Replaces the plan's endpoints (tests, `--rpc`).
    #[must_use]
    pub fn with_endpoints(mut self, urls: Vec<String>) -> Self {
        let endpoints = urls.into_iter().map(RpcEndpoint::public).collect();
        self.follower = Follower::new(self.chain_id(), endpoints, self.opts.follow())
            .with_log_filter(self.detector.log_filter());
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

    /// Publishes the monitors' state after every canonical block (and after
    /// a reorg's rewind) on `feed`.
    #[must_use]
    pub fn with_state_feed(
        mut self,
        feed: tokio::sync::watch::Sender<Option<firebreak_detect::EngineState>>,
    ) -> Self {
        self.feed = Some(feed);
        self
    }

    fn publish_state(&self) {
        if let Some(feed) = &self.feed {
            feed.send_replace(Some(self.detector.snapshot()));
        }
    }

    /// Endpoints of the plan left out because their secret reference did not
    /// resolve (e.g. an unset environment variable), each with the reason.
    pub fn skipped_endpoints(&self) -> &[String] {
        &self.skipped
    }

    /// The endpoint in use (secret URLs shown by reference).
    pub fn endpoint(&self) -> &str {
        self.follower.endpoint()
    }

    /// The next block the watcher will process.
    pub fn next_block(&self) -> Option<u64> {
        self.follower.next_block()
    }

    /// One round: catch up from the next unprocessed block to the head,
    /// handling reorgs. Never returns an error: failures become events and
    /// the next round retries on the next endpoint, from the same block.
    pub async fn step(&mut self, emit: &mut (dyn FnMut(WatchEvent) + Send)) {
        if !self.started && !Box::pin(self.settle_start(emit)).await {
            return;
        }
        while let Some(n) = self.follower.next().await {
            let go_on = match n {
                Notification::Committed(block) => {
                    let window_end = !self.follower.has_ahead();
                    self.process(block, window_end, emit).await
                }
                Notification::Reorged { ancestor, old, new, deep } => {
                    self.rewind(ancestor, &old, deep, emit);
                    let mut ok = true;
                    let last = new.last().map(|b| b.number);
                    for block in new {
                        let window_end = Some(block.number) == last && !self.follower.has_ahead();
                        if !self.process(block, window_end, emit).await {
                            ok = false;
                            break;
                        }
                    }
                    ok
                }
                // an endpoint failure ends the round: the next one, after the
                // wait, uses the next endpoint
                health => {
                    let go_on = !matches!(health, Notification::EndpointFailed { .. });
                    if let Some(e) = self.health_event(health) {
                        emit(e);
                    }
                    go_on
                }
            };
            if !go_on {
                // what else the failure queued (blindness) is reported now
                self.drain(emit);
                return;
            }
        }
    }

    /// Settles the first block: `start`, else the stored checkpoint (see
    /// [`Watcher::resume`]), else the head. `false` when the endpoint failed.
    async fn settle_start(&mut self, emit: &mut (dyn FnMut(WatchEvent) + Send)) -> bool {
        if let Some(start) = self.opts.start {
            self.follower.start_at(start);
        } else if self.store.is_some() {
            let provider = match self.follower.provider().await {
                Ok(p) => p,
                Err(e) => return self.failed(&e, emit),
            };
            let limit = self.opts.rpc_timeout * 4;
            match tokio::time::timeout(limit, self.resume(&provider, emit)).await {
                Ok(Ok(Some(from))) => self.follower.start_at(from),
                Ok(Ok(None)) => {}
                Ok(Err(e)) => return self.failed(&e, emit),
                Err(_) => return self.failed(&format!("no answer within {limit:?}"), emit),
            }
        }
        self.started = true;
        true
    }

    /// Reports a failure of the current endpoint seen by the watcher itself.
    fn failed(&mut self, error: &str, emit: &mut (dyn FnMut(WatchEvent) + Send)) -> bool {
        self.follower.fail(error);
        self.drain(emit);
        false
    }

    /// Emits what the follower queued (failures, blindness) without reading.
    fn drain(&mut self, emit: &mut (dyn FnMut(WatchEvent) + Send)) {
        while let Some(n) = self.follower.take_queued() {
            if let Some(e) = self.health_event(n) {
                emit(e);
            }
        }
    }

    /// The watcher's event for a follower's health notification.
    fn health_event(&self, n: Notification) -> Option<WatchEvent> {
        let chain = self.chain.clone();
        match n {
            Notification::EndpointFailed { endpoint, error } => {
                Some(WatchEvent::EndpointFailed { chain, endpoint, error })
            }
            Notification::Blind { for_secs } => Some(WatchEvent::Blind { chain, for_secs }),
            Notification::Recovered => Some(WatchEvent::Recovered { chain }),
            Notification::Committed(_) | Notification::Reorged { .. } => None,
        }
    }

    /// Runs the monitors over `block` (reading their probes at it), keeps
    /// its state for a rewind, and reports the alerts whose confirmations
    /// are complete. `false` when a probe read failed: the block is
    /// delivered again from the next endpoint.
    async fn process(
        &mut self,
        block: firebreak_chain::BlockData,
        window_end: bool,
        emit: &mut (dyn FnMut(WatchEvent) + Send),
    ) -> bool {
        let limit = self.opts.rpc_timeout;
        let provider = match self.follower.provider().await {
            Ok(p) => p,
            Err(e) => {
                self.follower.retry_from(block.number, &e);
                self.drain(emit);
                return false;
            }
        };
        let mut block = block;
        for problem in self.mark_ours(&mut block).await {
            emit(WatchEvent::EndpointFailed {
                chain: self.chain.clone(),
                endpoint: "store".to_owned(),
                error: format!("block {}: {problem}", block.number),
            });
        }
        let mut after = self.detector.clone();
        let processed = tokio::time::timeout(limit, after.process_block(&provider, &block)).await;
        let alerts = match processed {
            Ok(Ok(a)) => a,
            Ok(Err(e)) => {
                self.follower.retry_from(block.number, &e.to_string());
                self.drain(emit);
                return false;
            }
            Err(_) => {
                self.follower.retry_from(block.number, &format!("no answer within {limit:?}"));
                self.drain(emit);
                return false;
            }
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
        self.publish_state();
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
        let (ready, waiting): (Vec<_>, Vec<_>) =
            std::mem::take(&mut self.pending).into_iter().partition(|(at, _)| *at <= block.number);
        self.pending = waiting;
        let ready: Vec<Alert> = ready.into_iter().map(|(_, a)| a).collect();
        // while catching up, the checkpoint is written once per window
        // (and with every alert), not once per block
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
        true
    }

    /// Marks the transactions of watched senders (`tx from` monitors) that
    /// firebreak itself sent, and the SafeTx hashes the team approved
    /// (`safe_tx.approved`), as the store records them. Without a store
    /// nothing is firebreak's or approved. A store that cannot answer
    /// leaves them unknown, and their rules do not match: no false alarm
    /// against our own key, and every other monitor of the block (the pause
    /// path) goes on. The problems are returned to be reported.
    async fn mark_ours(&self, block: &mut firebreak_chain::BlockData) -> Vec<String> {
        let mut problems = Vec::new();
        let senders = self.detector.watched_senders();
        let picked: Vec<usize> = (0..block.txs.len())
            .filter(|&i| senders.binary_search(&block.txs[i].from).is_ok())
            .collect();
        let Some(store) = &self.store else {
            for i in picked {
                block.txs[i].by_firebreak = Some(false);
            }
            block.approved_safe_txs = Some(Vec::new());
            return problems;
        };
        if self.detector.reads_safe_transactions() {
            let mut named: Vec<alloy::primitives::B256> = block
                .txs
                .iter()
                .flat_map(|t| &t.logs)
                .filter_map(|l| firebreak_detect::safe_tx_hash_of(&l.topics))
                .collect();
            named.sort_unstable();
            named.dedup();
            block.approved_safe_txs = if named.is_empty() {
                Some(Vec::new())
            } else {
                match store.approved_safe_txs(block.chain_id, named.clone()).await {
                    Ok(approved) => Some(
                        named
                            .into_iter()
                            .zip(approved)
                            .filter_map(|(h, ok)| ok.then_some(h))
                            .collect(),
                    ),
                    Err(e) => {
                        problems.push(format!("which SafeTx hashes the team approved: {e}"));
                        None
                    }
                }
            };
        }
        if picked.is_empty() {
            return problems;
        }
        let asked = picked
            .iter()
            .map(|&i| {
                let t = &block.txs[i];
                firebreak_store::SentTx { from: t.from, nonce: t.nonce, hash: t.hash }
            })
            .collect();
        match store.sent_by_firebreak(block.chain_id, asked).await {
            Ok(ours) => {
                for (i, ours) in picked.into_iter().zip(ours) {
                    block.txs[i].by_firebreak = Some(ours);
                }
            }
            Err(e) => problems.push(format!("which transactions firebreak sent: {e}")),
        }
        problems
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

    /// Blocks above `ancestor` left the canonical chain: their alerts are
    /// retracted and the monitors' state goes back to the ancestor's (to
    /// the state before any block when the reorg is deeper than the kept
    /// history: windows restart empty).
    fn rewind(
        &mut self,
        ancestor: u64,
        old: &[(u64, alloy::primitives::B256)],
        deep: bool,
        emit: &mut (dyn FnMut(WatchEvent) + Send),
    ) {
        while let Some(gone) = self.history.pop_back() {
            if gone.number <= ancestor {
                self.history.push_back(gone);
                break;
            }
            self.pending.retain(|(_, a)| a.block_number != gone.number);
            for a in gone.alerts {
                self.retracted.push(a.dedup_key.clone());
                emit(WatchEvent::Retracted { alert: a });
            }
        }
        match self.history.back() {
            Some(entry) if !deep && entry.number == ancestor => {
                self.detector.restore(&entry.state);
            }
            _ => {
                self.detector.restore(&self.initial);
                self.pending.clear();
                self.history.clear();
                self.base = None;
            }
        }
        self.publish_state();
        emit(WatchEvent::Reorg { chain_id: self.chain_id(), ancestor, depth: old.len() });
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
                () = self.follower.wait() => {}
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
                () = self.follower.wait() => {}
            }
        }
    }
}
