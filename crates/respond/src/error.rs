use firebreak_plan::SecretError;

/// Response errors.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The store failed; nothing was acted on without being recorded first.
    #[error("the incident store failed")]
    Store(#[from] firebreak_store::Error),
    /// An RPC call failed.
    #[error("`{what}` on chain {chain_id} failed: {detail}")]
    Rpc {
        /// Chain id.
        chain_id: u64,
        /// Which call.
        what: &'static str,
        /// The node's answer (URLs and keys never appear here).
        detail: String,
    },
    /// A signer's key could not be loaded.
    #[error("cannot load signer `{signer}`")]
    Signer {
        /// Signer id.
        signer: String,
        /// Cause.
        #[source]
        source: SecretError,
    },
    /// Signing failed.
    #[error("signing with `{signer}` failed: {detail}")]
    Sign {
        /// Signer id.
        signer: String,
        /// Why.
        detail: String,
    },
    /// The plan lacks something the executor needs.
    #[error("the plan has no {what} `{id}`")]
    Plan {
        /// Kind.
        what: &'static str,
        /// Key.
        id: String,
    },
    /// No endpoint of a chain could be reached.
    #[error("chain `{chain}` has no usable RPC endpoint")]
    NoEndpoint {
        /// Chain key.
        chain: String,
    },
}

impl Error {
    /// Whether trying again later may help.
    pub fn is_retryable(&self) -> bool {
        match self {
            Self::Store(e) => e.is_retryable(),
            Self::Rpc { .. } | Self::NoEndpoint { .. } => true,
            Self::Signer { .. } | Self::Sign { .. } | Self::Plan { .. } => false,
        }
    }
}

/// Result alias.
pub type Result<T, E = Error> = std::result::Result<T, E>;
