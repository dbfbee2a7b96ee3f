use std::collections::BTreeMap;

use alloy::providers::Provider;
use firebreak_detect::{Alert, Engine, EvalError, Probe, Value, monitor_specs};
use firebreak_plan::Plan;

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
        Ok(Self { chain_id, engine, probes, monitors })
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

    /// Number of monitors running.
    pub fn monitors(&self) -> usize {
        self.monitors
    }

    fn evaluate(
        &mut self,
        block: &firebreak_chain::BlockData,
        raw: Vec<Option<alloy::primitives::Bytes>>,
    ) -> Vec<Alert> {
        let state: BTreeMap<Probe, Value> = self
            .probes
            .iter()
            .zip(raw)
            .filter_map(|(p, r)| r.and_then(|bytes| p.decode(&bytes)).map(|v| (p.clone(), v)))
            .collect();
        let alerts = self.engine.process_block(block, &state);
        self.engine.prune(self.chain_id, block.number, block.timestamp);
        alerts
    }

    /// Evaluates blocks `from..=to` in order, fetching up to `prefetch` blocks
    /// (with their probe reads) concurrently ahead of the one being evaluated.
    /// `each` receives every block's number, alerts and evaluation problems, in order.
    ///
    /// # Errors
    /// The first chain access failure.
    pub async fn replay<P: Provider>(
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

    /// Evaluation problems since the last call (a match that could not be
    /// evaluated, e.g. an undecodable log); they never stop detection.
    pub fn take_errors(&mut self) -> Vec<EvalError> {
        self.engine.take_errors()
    }
}
