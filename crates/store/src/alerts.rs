use alloy_primitives::B256;
use firebreak_primitives::Alert;
use futures::future::BoxFuture;

/// Store errors.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The database could not be opened or migrated.
    #[error("cannot open the store at `{path}`")]
    Open {
        /// Where.
        path: String,
        /// Cause.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// A query failed.
    #[error("store query `{what}` failed")]
    Query {
        /// Which operation.
        what: &'static str,
        /// Cause.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// The record asked for does not exist.
    #[error("no {what} {id} in the store")]
    NotFound {
        /// Kind of record.
        what: &'static str,
        /// Its id.
        id: String,
    },
    /// The database was written by a newer firebreak: its schema has
    /// changes this binary does not know.
    #[error(
        "the store at `{path}` has schema version {found}, written by a newer firebreak; this binary knows up to version {known}: upgrade firebreak (or use another --db)"
    )]
    NewerSchema {
        /// Where.
        path: String,
        /// The newest schema version in the database.
        found: i64,
        /// The newest this binary knows.
        known: i64,
    },
    /// A stored row does not decode (a corrupt or foreign database).
    #[error("stored {what} is corrupt: {detail}")]
    Corrupt {
        /// Which table.
        what: &'static str,
        /// What is wrong.
        detail: String,
    },
    /// A fenced write whose writer no longer holds the lease at its epoch:
    /// another replica took it over (or it ran out). Nothing was written.
    #[error(
        "refused: `{holder}` no longer holds lease `{lease}` at epoch {epoch} ({now}); nothing was recorded"
    )]
    Fenced {
        /// The lease.
        lease: String,
        /// The writer.
        holder: String,
        /// The epoch it wrote with.
        epoch: u64,
        /// Who holds it now, in words.
        now: String,
    },
}

impl Error {
    /// Whether trying again may help (a busy or locked database).
    pub fn is_retryable(&self) -> bool {
        match self {
            Self::Query { source, .. } => {
                let text = source.to_string();
                text.contains("database is locked") || text.contains("busy")
            }
            Self::Open { .. }
            | Self::NewerSchema { .. }
            | Self::Corrupt { .. }
            | Self::Fenced { .. }
            | Self::NotFound { .. } => false,
        }
    }
}

/// Result alias.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// The last block of a chain whose alerts are all stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Checkpoint {
    /// Chain id.
    pub chain_id: u64,
    /// Block number.
    pub number: u64,
    /// Block hash.
    pub hash: B256,
}

/// One atomic write: alerts, retractions and the new checkpoint.
#[derive(Debug, Clone)]
pub struct BlockCommit {
    /// The checkpoint to record.
    pub checkpoint: Checkpoint,
    /// Alerts to record; those already known (same dedup key) are ignored.
    pub alerts: Vec<Alert>,
    /// Dedup keys of alerts whose blocks were orphaned.
    pub retracted: Vec<String>,
}

/// A stored alert.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredAlert {
    /// The alert.
    pub alert: Alert,
    /// Whether a reorg withdrew it.
    pub retracted: bool,
}

/// Durable alerts and checkpoints.
pub trait AlertStore: Send + Sync + std::fmt::Debug {
    /// Writes `commit` in one transaction and returns, for each of its
    /// alerts, whether it was new (`false`: already stored, do not report it again).
    fn commit(&self, commit: BlockCommit) -> BoxFuture<'_, Result<Vec<bool>>>;

    /// The checkpoint of `chain_id`, if any.
    fn checkpoint(&self, chain_id: u64) -> BoxFuture<'_, Result<Option<Checkpoint>>>;

    /// Alerts of `chain_id` at or above block `from`, in chain order.
    fn alerts(&self, chain_id: u64, from: u64) -> BoxFuture<'_, Result<Vec<StoredAlert>>>;

    /// For each mined transaction of `chain_id`, whether firebreak sent it:
    /// an action of its sender holds that nonce and signed a transaction
    /// with that hash (or, for an account the node signs for in a drill,
    /// reserved that nonce). Every signed transaction is recorded before it
    /// is broadcast, so a transaction of ours is never reported as foreign.
    fn sent_by_firebreak(
        &self,
        chain_id: u64,
        txs: Vec<SentTx>,
    ) -> BoxFuture<'_, Result<Vec<bool>>>;

    /// For each SafeTx hash of `chain_id`, whether the team approved it:
    /// on the allow-list ([`AlertStore::allow_safe_tx`]), or firebreak's own
    /// (a Safe action's or a pre-signed batch's).
    fn approved_safe_txs(
        &self,
        chain_id: u64,
        hashes: Vec<B256>,
    ) -> BoxFuture<'_, Result<Vec<bool>>>;

    /// Puts a SafeTx hash on the allow-list; `false` when it already was.
    fn allow_safe_tx(&self, allowed: AllowedSafeTx) -> BoxFuture<'_, Result<bool>>;

    /// The allow-list of `chain_id`, oldest first.
    fn allowed_safe_txs(&self, chain_id: u64) -> BoxFuture<'_, Result<Vec<AllowedSafeTx>>>;
}

/// A SafeTx hash the team approved, with who and why.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct AllowedSafeTx {
    /// Chain id.
    pub chain_id: u64,
    /// The Safe.
    pub safe: alloy_primitives::Address,
    /// The SafeTx hash (EIP-712).
    pub safe_tx_hash: B256,
    /// Member who approved it.
    pub member: String,
    /// Why.
    pub reason: String,
    /// When (unix ms).
    pub at_ms: u64,
}

/// A mined transaction, as [`AlertStore::sent_by_firebreak`] looks it up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SentTx {
    /// Sender.
    pub from: alloy_primitives::Address,
    /// The sender's nonce.
    pub nonce: u64,
    /// Transaction hash.
    pub hash: B256,
}
