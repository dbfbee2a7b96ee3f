use std::collections::BTreeMap;

use alloy::{
    primitives::{Address, B256},
    providers::Provider,
    rpc::types::Filter,
};
use firebreak_detect::{Alert, Engine, EvalError, Probe, Value, monitor_specs};
use firebreak_plan::Plan;

/// Blocks per `eth_getLogs` request of a log-range replay (a common limit of
/// hosted nodes).
pub const LOG_RANGE: u64 = 2_000;

/// Errors of a detector.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DetectorError {
    /// The plan has no chain by that key.
    #[error("the plan has no chain `{0}`")]
    UnknownChain(String),
    /// A monitor's rule does not compile (run `firebreak check`).
    #[error("monitor `{monitor}` does not compile: {message}")]
    Rule {
        /// Monitor id.
        monitor: String,
        /// Why.
        message: String,
    },
    /// Chain access failed.
    #[error(transparent)]
    Chain(#[from] firebreak_chain::Error),
}

/// Runs the monitors of one chain of a plan over blocks.
#[derive(Debug, Clone)]
pub struct Detector {
    chain_id: u64,
    engine: Engine,
    probes: Vec<Probe>,
    monitors: usize,
    /// Senders of `tx from` monitors, sorted.
    senders: Vec<Address>,
    /// A monitor reads Safe transactions (`safe_tx.approved`).
    reads_safe_txs: bool,
}

impl Detector {
    /// Compiles the plan's enabled monitors of chain `chain` (a key of `[chains]`).
    ///
    /// # Errors
    /// Unknown chain, or a rule that does not compile.
    pub fn new(plan: &Plan, chain: &str) -> Result<Self, DetectorError> {
        let chain_id = plan
            .chains
            .get(chain)
            .map(|c| c.id)
            .ok_or_else(|| DetectorError::UnknownChain(chain.to_owned()))?;
        let specs = monitor_specs(plan)
            .map_err(|(monitor, message)| DetectorError::Rule { monitor, message })?;
        let specs: Vec<_> = specs.into_iter().filter(|s| s.chain_id == chain_id).collect();
        let monitors = specs.len();
        let engine = Engine::new(specs);
        let probes = engine.probes(chain_id);
        let senders = engine.watched_senders(chain_id);
        let reads_safe_txs = engine.reads_safe_transactions(chain_id);
        Ok(Self { chain_id, engine, probes, monitors, senders, reads_safe_txs })
    }

    /// EIP-155 id of the chain.
    pub fn chain_id(&self) -> u64 {
        self.chain_id
    }

    /// The monitors' state now (windows, previous probe values, cooldowns),
    /// without the compiled rules: cheap to keep one per recent block.
    pub fn snapshot(&self) -> firebreak_detect::EngineState {
        self.engine.state()
    }

    /// Goes back to a state taken with [`Detector::snapshot`].
    pub fn restore(&mut self, state: &firebreak_detect::EngineState) {
        self.engine.restore(state);
    }

    /// The emitters and event topics that feed every monitor, when logs are
    /// all they read (see [`Detector::replay_logs`]).
    pub fn log_filter(&self) -> Option<(Vec<Address>, Vec<B256>)> {
        self.engine.log_filter(self.chain_id)
    }

    /// The senders whose transactions `tx from` monitors read, sorted: the
    /// watcher marks those firebreak sent before a block is processed.
    pub fn watched_senders(&self) -> &[Address] {
        &self.senders
    }

    /// Whether a monitor reads Safe transactions: the watcher then asks the
    /// store which SafeTx hashes of a block the team approved.
    pub fn reads_safe_transactions(&self) -> bool {
        self.reads_safe_txs
    }

    /// Number of monitors running.
    pub fn monitors(&self) -> usize {
        self.monitors
    }

    fn evaluate(
        &mut self,
        block: &firebreak_chain::BlockData,
        raw: Vec<Option<alloy::primitives::Bytes>>,
    ) -> Vec<Alert> {
        let state = probe_values(&self.probes, raw);
        let alerts = self.engine.process_block(block, &state);
        self.engine.prune(self.chain_id, block.number, block.timestamp);
        alerts
    }

    /// Evaluates blocks `from..=to` in order. When every monitor is fed by
    /// logs only (event and preset monitors without probes), logs are
    /// fetched by block range and only the blocks that hold a matching log
    /// are fetched and evaluated (see [`Detector::replay_logs`]); otherwise
    /// every block is (see [`Detector::replay_blocks`]). Both report the
    /// same alerts.
    ///
    /// # Errors
    /// The first chain access failure.
    pub async fn replay<P: Provider>(
        &mut self,
        provider: &P,
        from: u64,
        to: u64,
        prefetch: usize,
        each: impl FnMut(u64, Vec<Alert>, Vec<EvalError>),
    ) -> Result<(), DetectorError> {
        match self.log_filter() {
            Some(filter) => self.replay_logs(provider, from, to, filter, prefetch, each).await,
            None => self.replay_blocks(provider, from, to, prefetch, each).await,
        }
    }

    /// Evaluates blocks `from..=to` in order, fetching up to `prefetch` blocks
    /// (with their probe reads) concurrently ahead of the one being evaluated.
    /// `each` receives every block's number, alerts and evaluation problems, in order.
    ///
    /// # Errors
    /// The first chain access failure.
    pub async fn replay_blocks<P: Provider>(
        &mut self,
        provider: &P,
        from: u64,
        to: u64,
        prefetch: usize,
        mut each: impl FnMut(u64, Vec<Alert>, Vec<EvalError>),
    ) -> Result<(), DetectorError> {
        use futures::StreamExt as _;
        let reads: Vec<_> = self.probes.iter().map(Probe::read).collect();
        let chain_id = self.chain_id;
        let reads = &reads;
        let mut blocks = futures::stream::iter(from..=to)
            .map(|n| async move {
                let (block, raw) = futures::join!(
                    firebreak_chain::fetch_block(provider, chain_id, n),
                    firebreak_chain::read_state(provider, chain_id, reads, n)
                );
                Ok::<_, firebreak_chain::Error>((block?, raw?))
            })
            .buffered(prefetch.max(1));
        while let Some(next) = blocks.next().await {
            let (block, raw) = next?;
            let alerts = self.evaluate(&block, raw);
            each(block.number, alerts, self.engine.take_errors());
        }
        Ok(())
    }

    /// Evaluates the blocks of `from..=to` that hold a log of one of
    /// `emitters` with one of `topics` (the monitors' only input: see
    /// `Engine::log_filter`). Logs are fetched by range (`eth_getLogs`,
    /// [`LOG_RANGE`] blocks at a time, halved while the node refuses a range
    /// as too large), the blocks holding them with up to `prefetch` in
    /// flight, evaluated in order. Windows are read relative to the block
    /// being evaluated, so the blocks skipped in between change nothing;
    /// they are pruned to each evaluated block first, to bound memory as a
    /// block-by-block replay does.
    /// `each` receives the evaluated blocks, and each range's last block
    /// (without alerts) for progress.
    ///
    /// # Errors
    /// The first chain access failure.
    pub async fn replay_logs<P: Provider>(
        &mut self,
        provider: &P,
        from: u64,
        to: u64,
        (emitters, topics): (Vec<Address>, Vec<B256>),
        prefetch: usize,
        mut each: impl FnMut(u64, Vec<Alert>, Vec<EvalError>),
    ) -> Result<(), DetectorError> {
        use futures::StreamExt as _;
        let chain_id = self.chain_id;
        let mut start = from;
        let mut span = LOG_RANGE;
        while start <= to {
            let end = to.min(start.saturating_add(span - 1));
            let filter = Filter::new()
                .from_block(start)
                .to_block(end)
                .address(emitters.clone())
                .event_signature(topics.clone());
            let logs = match provider.get_logs(&filter).await {
                Ok(logs) => logs,
                // "range too large" / "more than 10000 results": a smaller range
                Err(e) if e.as_error_resp().is_some() && span > 1 => {
                    span /= 2;
                    continue;
                }
                Err(source) => {
                    return Err(firebreak_chain::Error::Rpc {
                        chain_id,
                        method: "eth_getLogs",
                        source,
                    }
                    .into());
                }
            };
            let numbers: std::collections::BTreeSet<u64> =
                logs.iter().filter_map(|l| l.block_number).collect();
            let mut blocks = futures::stream::iter(numbers)
                .map(|n| firebreak_chain::fetch_block(provider, chain_id, n))
                .buffered(prefetch.max(1));
            let mut last = None;
            while let Some(block) = blocks.next().await {
                let block = block?;
                // what every block in between would have pruned
                self.engine.prune(chain_id, block.number, block.timestamp);
                let alerts = self.evaluate(&block, Vec::new());
                last = Some(block.number);
                each(block.number, alerts, self.engine.take_errors());
            }
            if last != Some(end) {
                each(end, Vec::new(), Vec::new());
            }
            start = end + 1;
        }
        Ok(())
    }

    /// Evaluates an already fetched block, reading the rules' probes at it.
    ///
    /// # Errors
    /// Chain access failures (probe reads); the block can be retried.
    pub async fn process_block<P: Provider>(
        &mut self,
        provider: &P,
        block: &firebreak_chain::BlockData,
    ) -> Result<Vec<Alert>, DetectorError> {
        let reads: Vec<_> = self.probes.iter().map(Probe::read).collect();
        let raw =
            firebreak_chain::read_state(provider, self.chain_id, &reads, block.number).await?;
        Ok(self.evaluate(block, raw))
    }

    /// Fetches block `number`, reads the rules' probes at it, and evaluates.
    /// Blocks must be processed in order (windows and `prev` carry state).
    ///
    /// # Errors
    /// Chain access failures; the block can be retried.
    pub async fn process<P: Provider>(
        &mut self,
        provider: &P,
        number: u64,
    ) -> Result<Vec<Alert>, DetectorError> {
        let block = firebreak_chain::fetch_block(provider, self.chain_id, number).await?;
        self.process_block(provider, &block).await
    }

    /// The state reads the rules declare (their probes), in order: a
    /// simulation performs them on the state a pending transaction leaves.
    pub fn reads(&self) -> Vec<firebreak_primitives::StateRead> {
        self.probes.iter().map(Probe::read).collect()
    }

    /// Evaluates a pending "block" (one simulated transaction on top of the
    /// latest block) on `base`, the monitors' state after the latest block;
    /// `raw` holds the results of [`Detector::reads`] on the state the
    /// transaction leaves. The detector is left in `base`'s state: a
    /// pending transaction changes no window, `prev` or cooldown.
    pub fn evaluate_pending(
        &mut self,
        base: &firebreak_detect::EngineState,
        block: &firebreak_chain::BlockData,
        raw: Vec<Option<alloy::primitives::Bytes>>,
    ) -> Vec<Alert> {
        self.engine.restore(base);
        let state = probe_values(&self.probes, raw);
        let alerts = self.engine.process_block(block, &state);
        self.engine.take_errors();
        self.engine.restore(base);
        alerts
    }

    /// Evaluation problems since the last call (a match that could not be
    /// evaluated, e.g. an undecodable log); they never stop detection.
    pub fn take_errors(&mut self) -> Vec<EvalError> {
        self.engine.take_errors()
    }
}

/// The probes' values from their raw read results (a read that reverted or
/// does not decode leaves its probe unknown).
fn probe_values(
    probes: &[Probe],
    raw: Vec<Option<alloy::primitives::Bytes>>,
) -> BTreeMap<Probe, Value> {
    probes
        .iter()
        .zip(raw)
        .filter_map(|(p, r)| r.and_then(|bytes| p.decode(&bytes)).map(|v| (p.clone(), v)))
        .collect()
}
