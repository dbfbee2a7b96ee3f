//! Which daemons are up: each records a heartbeat (every few seconds) with
//! its readiness and, per chain, the head it sees and the block it
//! processed. `firebreak status` reads them; a replica whose last beat is
//! old is silent.

use futures::future::BoxFuture;
use serde::{Deserialize, Serialize};

use crate::Result;

/// One chain as a replica sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChainBeat {
    /// Chain key of the plan.
    pub chain: String,
    /// Newest block the node reports.
    pub head: Option<u64>,
    /// Newest block whose monitors ran.
    pub processed: Option<u64>,
}

impl ChainBeat {
    /// Head minus processed, when both are known.
    pub fn lag(&self) -> Option<u64> {
        Some(self.head?.saturating_sub(self.processed?))
    }
}

/// A replica's last heartbeat.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReplicaBeat {
    /// Unique per process (`HOST:PID:RANDOM`).
    pub replica: String,
    /// Host name.
    pub host: String,
    /// Process id.
    pub pid: u32,
    /// When the process started (unix ms).
    pub started_ms: u64,
    /// When it beat (unix ms).
    pub beat_ms: u64,
    /// Whether it was ready to act (every P1 pause path can land, no chain blind).
    pub ready: bool,
    /// Each chain it watches.
    pub chains: Vec<ChainBeat>,
}

/// Replica heartbeats.
pub trait ReplicaStore: Send + Sync + std::fmt::Debug {
    /// Records `beat` as its replica's latest.
    fn beat<'a>(&'a self, beat: &'a ReplicaBeat) -> BoxFuture<'a, Result<()>>;

    /// Every replica's latest beat, newest first.
    fn replicas(&self) -> BoxFuture<'_, Result<Vec<ReplicaBeat>>>;
}
