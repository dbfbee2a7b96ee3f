//! Following a chain: heads over WebSocket (or HTTP polling), endpoint
//! failover and failback, pipelined backfill, and reorgs, delivered as typed
//! notifications in canonical order. It knows nothing of rules or stores:
//! `firebreak-node`'s watcher consumes the notifications.

use std::{
    collections::VecDeque,
    time::{Duration, Instant},
};

use alloy::{
    primitives::B256,
    providers::{DynProvider, Provider as _},
    pubsub::Subscription,
    rpc::types::Header,
};
use firebreak_primitives::BlockData;

use crate::{RpcEndpoint, StackOptions, connect_endpoint};

/// Tuning of a [`Follower`].
#[derive(Debug, Clone)]
pub struct FollowOptions {
    /// How often heads are polled without a WebSocket subscription (and the
    /// longest wait even with one: at least a second).
    pub poll_interval: Duration,
    /// After this long with every endpoint failing, [`Notification::Blind`].
    pub blind_after: Duration,
    /// How many delivered blocks are remembered to find a reorg's ancestor.
    pub reorg_depth: usize,
    /// Longest wait for one RPC answer before the endpoint counts as failed.
    pub rpc_timeout: Duration,
    /// After a failover, how long before a higher-priority endpoint is tried again.
    pub failback_after: Duration,
    /// Blocks fetched ahead at most while catching up.
    pub window: u64,
    /// Block fetches in flight while catching up.
    pub in_flight: usize,
}

impl Default for FollowOptions {
    fn default() -> Self {
        Self {
            poll_interval: Duration::from_millis(250),
            blind_after: Duration::from_secs(30),
            reorg_depth: 64,
            rpc_timeout: Duration::from_secs(5),
            failback_after: Duration::from_secs(30),
            window: 256,
            in_flight: 32,
        }
    }
}

/// What a [`Follower`] tells its consumer.
#[derive(Debug, Clone)]
pub enum Notification {
    /// The next block of the canonical chain.
    Committed(BlockData),
    /// Blocks delivered before left the canonical chain.
    Reorged {
        /// The newest delivered block still canonical (after a reorg deeper
        /// than the remembered blocks: the block to restart after).
        ancestor: u64,
        /// The orphaned blocks (number, hash), oldest first.
        old: Vec<(u64, B256)>,
        /// The new branch from `ancestor + 1`, as far as it was fetched;
        /// later blocks follow as [`Notification::Committed`].
        new: Vec<BlockData>,
        /// Deeper than the remembered blocks: state kept per block cannot
        /// be rewound and must start over.
        deep: bool,
    },
    /// An endpoint failed; the next round uses the next one.
    EndpointFailed {
        /// The endpoint's label (secret URLs shown by reference).
        endpoint: String,
        /// Why (secret URLs replaced by the label).
        error: String,
    },
    /// Every endpoint has failed for longer than `blind_after`.
    Blind {
        /// For how long.
        for_secs: u64,
    },
    /// An endpoint answers again after [`Notification::Blind`].
    Recovered,
}

#[derive(Debug)]
struct Ep {
    endpoint: RpcEndpoint,
    provider: Option<DynProvider>,
    last_failure: Option<Instant>,
}

/// Follows one chain across its endpoints.
#[derive(Debug)]
pub struct Follower {
    chain_id: u64,
    endpoints: Vec<Ep>,
    current: usize,
    opts: FollowOptions,
    heads: Option<Subscription<Header>>,
    failing_since: Option<Instant>,
    blind_reported: bool,
    /// Delivered blocks (number, hash), newest last, at most `reorg_depth`.
    history: VecDeque<(u64, B256)>,
    /// The newest block known just below `history`.
    base: Option<(u64, B256)>,
    /// The next block to deliver.
    next: Option<u64>,
    /// The head of the round in progress, if one is.
    head: Option<u64>,
    /// Blocks fetched ahead, in order from `next`.
    ahead: VecDeque<BlockData>,
    /// Health notifications waiting to be delivered.
    queued: VecDeque<Notification>,
    /// An endpoint failed: once the queue is delivered the round is over.
    round_over: bool,
    /// When set, catching up fetches logs by range and only the blocks
    /// holding one (emitters, event topics), plus each window's last block.
    logs: Option<(Vec<alloy::primitives::Address>, Vec<B256>)>,
}

impl Follower {
    /// A follower of chain `chain_id` over `endpoints`, in priority order.
    pub fn new(chain_id: u64, endpoints: Vec<RpcEndpoint>, opts: FollowOptions) -> Self {
        let endpoints = endpoints
            .into_iter()
            .map(|endpoint| Ep { endpoint, provider: None, last_failure: None })
            .collect();
        Self {
            chain_id,
            endpoints,
            current: 0,
            opts,
            heads: None,
            failing_since: None,
            blind_reported: false,
            history: VecDeque::new(),
            base: None,
            next: None,
            head: None,
            ahead: VecDeque::new(),
            queued: VecDeque::new(),
            round_over: false,
            logs: None,
        }
    }

    /// While catching up (more than one block behind), delivers only the
    /// blocks that hold a log of one of `emitters` with one of `topics`,
    /// and the last block of each window: for a consumer whose every input
    /// is such a log (see `Engine::log_filter`). Logs are fetched by range
    /// (`eth_getLogs`); live blocks are still delivered one by one. A skipped
    /// stretch is checked for reorgs by the hash of the block delivered
    /// before it.
    #[must_use]
    pub fn with_log_filter(
        mut self,
        filter: Option<(Vec<alloy::primitives::Address>, Vec<B256>)>,
    ) -> Self {
        self.logs = filter;
        self
    }

    /// Chain id.
    pub const fn chain_id(&self) -> u64 {
        self.chain_id
    }

    /// Whether there are endpoints at all.
    pub fn has_endpoints(&self) -> bool {
        !self.endpoints.is_empty()
    }

    /// The endpoint in use (secret URLs shown by reference).
    pub fn endpoint(&self) -> &str {
        self.endpoints.get(self.current).map_or("", |e| e.endpoint.label())
    }

    /// The next block to deliver, once known.
    pub const fn next_block(&self) -> Option<u64> {
        self.next
    }

    /// Delivers from block `number` on (a checkpoint to resume from).
    pub fn start_at(&mut self, number: u64) {
        self.next = Some(number);
        self.ahead.clear();
    }

    /// Whether blocks are already fetched beyond the last one delivered
    /// (catching up: a consumer may batch its writes until this is false).
    pub fn has_ahead(&self) -> bool {
        !self.ahead.is_empty()
    }

    /// The current endpoint's provider, connecting (and subscribing to heads
    /// on a WebSocket) when needed.
    ///
    /// # Errors
    /// When it does not connect within the RPC timeout (the text names the
    /// endpoint by label); call [`Follower::fail`] to move on.
    pub async fn provider(&mut self) -> Result<DynProvider, String> {
        let limit = self.opts.rpc_timeout;
        let ep = self.endpoints.get_mut(self.current).ok_or("no endpoint")?;
        if let Some(p) = &ep.provider {
            return Ok(p.clone());
        }
        let stack = StackOptions { timeout: limit, ..StackOptions::default() };
        // the connect future (WebSocket handshake) is large: keep it on the heap
        let connect = Box::pin(connect_endpoint(&ep.endpoint, stack));
        let p = match tokio::time::timeout(limit, connect).await {
            Ok(Ok(p)) => p,
            Ok(Err(e)) => return Err(ep.endpoint.redact(&e.to_string())),
            Err(_) => return Err(format!("no answer within {limit:?}")),
        };
        self.heads = if ep.endpoint.is_websocket() {
            tokio::time::timeout(limit, p.subscribe_blocks()).await.ok().and_then(Result::ok)
        } else {
            None
        };
        ep.provider = Some(p.clone());
        Ok(p)
    }

    /// The current endpoint failed (in the follower, or in the consumer's
    /// own reads through [`Follower::provider`]): the round ends, the next
    /// one uses the next endpoint, and a notification says so.
    pub fn fail(&mut self, error: &str) {
        let Some(ep) = self.endpoints.get_mut(self.current) else { return };
        // an endpoint's URL may hold its API key: errors show its label only
        let error = ep.endpoint.redact(error);
        ep.last_failure = Some(Instant::now());
        ep.provider = None;
        self.heads = None;
        self.head = None;
        self.ahead.clear();
        self.round_over = true;
        self.queued.push_back(Notification::EndpointFailed {
            endpoint: ep.endpoint.label().to_owned(),
            error,
        });
        self.current = (self.current + 1) % self.endpoints.len();
        let since = *self.failing_since.get_or_insert_with(Instant::now);
        if !self.blind_reported && since.elapsed() >= self.opts.blind_after {
            self.blind_reported = true;
            self.queued.push_back(Notification::Blind { for_secs: since.elapsed().as_secs() });
        }
    }

    /// The consumer could not use block `number` (delivered by the last
    /// [`Follower::next`]): it is delivered again, from the next endpoint.
    pub fn retry_from(&mut self, number: u64, error: &str) {
        while self.history.back().is_some_and(|(n, _)| *n >= number) {
            self.history.pop_back();
        }
        self.next = Some(number);
        self.fail(error);
    }

    /// A health notification queued by [`Follower::fail`] or
    /// [`Follower::retry_from`], taken without starting a round.
    pub fn take_queued(&mut self) -> Option<Notification> {
        let n = self.queued.pop_front();
        if n.is_none() {
            self.round_over = false;
        }
        n
    }

    fn ok(&mut self) {
        self.failing_since = None;
        if self.blind_reported {
            self.blind_reported = false;
            self.queued.push_back(Notification::Recovered);
        }
    }

    /// The next notification of the round in progress (starting one at the
    /// head when none is), or `None` when the round is over: caught up with
    /// the head, or an endpoint failed (its notification came first). Call
    /// [`Follower::wait`] before the next round.
    pub async fn next(&mut self) -> Option<Notification> {
        if let Some(n) = self.queued.pop_front() {
            return Some(n);
        }
        if std::mem::take(&mut self.round_over) {
            return None;
        }
        let head = match self.head {
            Some(h) => h,
            None => match self.begin().await {
                Some(h) => {
                    self.head = Some(h);
                    // `Recovered` comes before the blocks
                    if let Some(n) = self.queued.pop_front() {
                        return Some(n);
                    }
                    h
                }
                // the failure's notification; the round is over
                None => return self.queued.pop_front(),
            },
        };
        let next = *self.next.get_or_insert(head);
        if next > head {
            self.head = None;
            return None;
        }
        let block = match self.take(next, head).await {
            Ok(b) => b,
            Err(e) => {
                self.fail(&e);
                return self.queued.pop_front();
            }
        };
        let linked = match self.history.back() {
            Some(&(n, hash)) if n + 1 == block.number => hash == block.parent_hash,
            // a stretch without logs was skipped: the block before it must
            // still be canonical
            Some(&(n, hash)) if n < block.number => match self.hash_at(n).await {
                Ok(now) => now == Some(hash),
                Err(e) => {
                    self.fail(&e);
                    return self.queued.pop_front();
                }
            },
            _ => true,
        };
        if !linked {
            return match self.reorg(head).await {
                Ok(n) => Some(n),
                Err(e) => {
                    self.fail(&e);
                    self.queued.pop_front()
                }
            };
        }
        self.deliver(&block);
        Some(Notification::Committed(block))
    }

    /// Starts a round: fails back to a rested higher-priority endpoint,
    /// connects, reads the head.
    async fn begin(&mut self) -> Option<u64> {
        let rested =
            |e: &Ep| e.last_failure.is_none_or(|t| t.elapsed() >= self.opts.failback_after);
        if let Some(better) = self.endpoints[..self.current].iter().position(rested) {
            self.endpoints[self.current].provider = None;
            self.heads = None;
            self.current = better;
        }
        let limit = self.opts.rpc_timeout;
        let head = match self.provider().await {
            Ok(p) => tokio::time::timeout(limit, p.get_block_number())
                .await
                .map_err(|_| format!("no answer within {limit:?}"))
                .and_then(|r| r.map_err(|e| e.to_string())),
            Err(e) => Err(e),
        };
        match head {
            Ok(h) => {
                self.ok();
                Some(h)
            }
            Err(e) => {
                self.fail(&e);
                None
            }
        }
    }

    fn deliver(&mut self, block: &BlockData) {
        if self.history.is_empty() && self.base.is_none() {
            self.base = Some((block.number.saturating_sub(1), block.parent_hash));
        }
        self.history.push_back((block.number, block.hash));
        while self.history.len() > self.opts.reorg_depth {
            self.base = self.history.pop_front();
        }
        self.next = Some(block.number + 1);
    }

    /// Block `next`, from the blocks fetched ahead or fetched now.
    async fn take(&mut self, next: u64, head: u64) -> Result<BlockData, String> {
        // fetched ahead by log range, the next block held may be further on
        if self.ahead.front().is_none_or(|b| b.number < next) {
            self.ahead = self.fetch_ahead(next, head).await?;
        }
        self.ahead.pop_front().ok_or_else(|| format!("block {next} came back empty"))
    }

    /// Fetches block `from` and, while the chain is further ahead, the blocks
    /// after it (up to `window`) with `in_flight` requests at once, returned
    /// in order; the blocks before the first failure are kept. A single new
    /// block on a WebSocket is fetched in turn (see
    /// [`fetch_block_in_turn`](crate::fetch_block_in_turn)).
    async fn fetch_ahead(&mut self, from: u64, head: u64) -> Result<VecDeque<BlockData>, String> {
        use futures::StreamExt as _;
        let provider = self.provider().await?;
        let (chain_id, limit) = (self.chain_id, self.opts.rpc_timeout);
        async fn timed(
            limit: Duration,
            f: impl std::future::Future<Output = crate::Result<BlockData>>,
        ) -> Result<BlockData, String> {
            match tokio::time::timeout(limit, f).await {
                Ok(r) => r.map_err(|e| e.to_string()),
                Err(_) => Err(format!("no answer within {limit:?}")),
            }
        }
        if from == head {
            let block = if self.heads.is_some() {
                timed(limit, Box::pin(crate::fetch_block_in_turn(&provider, chain_id, from))).await
            } else {
                timed(limit, Box::pin(crate::fetch_block(&provider, chain_id, from))).await
            };
            return block.map(|b| VecDeque::from([b]));
        }
        let to = head.min(from.saturating_add(self.opts.window.max(1) - 1));
        let numbers: Vec<u64> = match &self.logs {
            Some((emitters, topics)) => {
                let filter = alloy::rpc::types::Filter::new()
                    .from_block(from)
                    .to_block(to)
                    .address(emitters.clone())
                    .event_signature(topics.clone());
                let logs = match tokio::time::timeout(limit, provider.get_logs(&filter)).await {
                    Ok(r) => r.map_err(|e| e.to_string())?,
                    Err(_) => return Err(format!("no answer within {limit:?}")),
                };
                let mut numbers: Vec<u64> = logs.iter().filter_map(|l| l.block_number).collect();
                // the window's last block: progress, checkpoints, confirmations
                numbers.push(to);
                numbers.sort_unstable();
                numbers.dedup();
                numbers.retain(|n| (from..=to).contains(n));
                numbers
            }
            None => (from..=to).collect(),
        };
        let fetched = futures::stream::iter(numbers)
            .map(|n| timed(limit, Box::pin(crate::fetch_block(&provider, chain_id, n))))
            .buffered(self.opts.in_flight.max(1))
            .collect::<Vec<_>>()
            .await;
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

    /// The hash of block `n` on the current endpoint, `None` when it has none.
    async fn hash_at(&mut self, n: u64) -> Result<Option<B256>, String> {
        let provider = self.provider().await?;
        let limit = self.opts.rpc_timeout;
        match tokio::time::timeout(limit, provider.get_block_by_number(n.into())).await {
            Ok(r) => r.map(|b| b.map(|b| b.header.hash)).map_err(|e| e.to_string()),
            Err(_) => Err(format!("no answer within {limit:?}")),
        }
    }

    /// Walks back to the newest delivered block the node still has, then
    /// fetches the new branch above it.
    async fn reorg(&mut self, head: u64) -> Result<Notification, String> {
        let mut old = Vec::new();
        let mut found = None;
        while let Some(&(n, h)) = self.history.back() {
            if self.hash_at(n).await? == Some(h) {
                found = Some(n);
                break;
            }
            old.push((n, h));
            self.history.pop_back();
        }
        old.reverse();
        let (ancestor, deep) = match found {
            Some(n) => (n, false),
            // deeper than what is remembered: restart right after the newest
            // block known to be canonical, or the block below the history
            // when that one is gone too
            None => {
                let restart = match self.base {
                    Some((n, h)) => {
                        if self.hash_at(n).await? == Some(h) {
                            n + 1
                        } else {
                            n
                        }
                    }
                    None => self.next.unwrap_or_default().saturating_sub(old.len() as u64),
                };
                self.base = None;
                (restart.saturating_sub(1), true)
            }
        };
        self.ahead.clear();
        self.next = Some(ancestor + 1);
        // the new branch, as far as one window reaches; it must hang from
        // the ancestor (another reorg meanwhile is found in the next round)
        let mut new = Vec::new();
        if ancestor < head {
            let mut parent = self.history.back().copied();
            for b in self.fetch_ahead(ancestor + 1, head).await? {
                // a block after a skipped stretch is checked by the next round
                if parent.is_some_and(|(n, h)| n + 1 != b.number || h != b.parent_hash) {
                    break;
                }
                parent = Some((b.number, b.hash));
                self.deliver(&b);
                new.push(b);
            }
        }
        Ok(Notification::Reorged { ancestor, old, new, deep })
    }

    /// Waits for the next round: a new head on the subscription, or the poll
    /// interval without one. With a live subscription the poll is only a
    /// health check (a silently dead socket is found by its timeout), so it
    /// runs at most once a second and an idle chain costs almost nothing.
    pub async fn wait(&mut self) {
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
