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
        /// Whether trying again may help: transport failures, timeouts,
        /// rate limits. A node's refusal (an error answer such as a revert in
        /// `eth_estimateGas`) is permanent.
        retryable: bool,
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
    /// A signature was offered by a key that does not own the Safe.
    #[error("{signer} is not an owner of Safe {safe}")]
    NotOwner {
        /// The signing address.
        signer: alloy_primitives::Address,
        /// The Safe.
        safe: alloy_primitives::Address,
    },
    /// A SafeTx does not match the Safe's own hash of it.
    #[error("the stored SafeTx hashes to {ours} but the Safe computes {theirs}; refusing to sign")]
    HashMismatch {
        /// Our hash.
        ours: alloy_primitives::B256,
        /// The Safe's.
        theirs: alloy_primitives::B256,
    },
    /// A recovery action that the record or the plan does not allow yet.
    #[error("{what}: {fix}")]
    Refused {
        /// What was refused, and why.
        what: String,
        /// How to go on.
        fix: String,
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
            Self::Rpc { retryable, .. } => *retryable,
            Self::NoEndpoint { .. } => true,
            Self::Signer { .. }
            | Self::Sign { .. }
            | Self::Plan { .. }
            | Self::NotOwner { .. }
            | Self::HashMismatch { .. }
            | Self::Refused { .. } => false,
        }
    }
}

/// Result alias.
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl From<firebreak_chain::Error> for Error {
    fn from(e: firebreak_chain::Error) -> Self {
        match e {
            firebreak_chain::Error::Read { chain_id, what, detail, retryable } => {
                Self::Rpc { chain_id, what, detail, retryable }
            }
            firebreak_chain::Error::NoEndpoint { chain } => Self::NoEndpoint { chain },
            other => Self::Rpc {
                chain_id: 0,
                what: "chain access",
                detail: other.to_string(),
                retryable: other.is_retryable(),
            },
        }
    }
}
