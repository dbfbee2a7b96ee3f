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
    /// A read over a chain's endpoints failed (see `ChainLink::read`).
    #[error("`{what}` on chain {chain_id} failed: {detail}")]
    Read {
        /// Chain id.
        chain_id: u64,
        /// Which call.
        what: &'static str,
        /// The last endpoint's answer (secret URLs shown by label).
        detail: String,
        /// Whether trying again may help: transport failures, timeouts,
        /// rate limits. A node's refusal (an error answer such as a revert in
        /// `eth_estimateGas`) is permanent.
        retryable: bool,
    },
    /// No endpoint of a chain could be reached.
    #[error("chain `{chain}` has no usable RPC endpoint")]
    NoEndpoint {
        /// Chain key.
        chain: String,
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
            Self::Read { retryable, .. } => *retryable,
            Self::MissingBlock { .. } | Self::Inconsistent { .. } | Self::NoEndpoint { .. } => true,
        }
    }
}

/// Result alias.
pub type Result<T, E = Error> = std::result::Result<T, E>;
