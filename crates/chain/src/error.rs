use alloy::transports::{RpcError, TransportError};

/// Errors of chain access.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The RPC call failed.
    #[error("rpc `{method}` failed on chain {chain_id}")]
    Rpc {
        /// Chain id.
        chain_id: u64,
        /// RPC method.
        method: &'static str,
        /// Cause.
        #[source]
        source: TransportError,
    },
    /// The node does not have the block (yet).
    #[error("block {number} not found on chain {chain_id}")]
    MissingBlock {
        /// Chain id.
        chain_id: u64,
        /// Block number.
        number: u64,
    },
    /// The node's answer is inconsistent (e.g. receipts that do not match the block).
    #[error("inconsistent reply for block {number} on chain {chain_id}: {what}")]
    Inconsistent {
        /// Chain id.
        chain_id: u64,
        /// Block number.
        number: u64,
        /// What does not match.
        what: String,
    },
}

impl Error {
    /// Whether trying again may help (transport hiccups, a block not there yet).
    pub fn is_retryable(&self) -> bool {
        match self {
            Self::Rpc { source, .. } => match source {
                RpcError::Transport(kind) => kind.is_retry_err(),
                RpcError::ErrorResp(payload) => payload.is_retry_err(),
                RpcError::NullResp => true,
                _ => false,
            },
            Self::MissingBlock { .. } | Self::Inconsistent { .. } => true,
        }
    }
}

/// Result alias.
pub type Result<T, E = Error> = std::result::Result<T, E>;
