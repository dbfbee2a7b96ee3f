//! Chain data as the engine sees it: a block with its transactions, receipts
//! and logs. Produced by the chain crate, consumed by detection.

use alloy_primitives::{Address, B256, Bytes, U256};

/// One log of a transaction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogData {
    /// Emitter.
    pub address: Address,
    /// Topics (topic0 first).
    pub topics: Vec<B256>,
    /// Data.
    pub data: Bytes,
    /// Index of the log in the block.
    pub index: u64,
}

/// One transaction with its receipt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TxData {
    /// Hash.
    pub hash: B256,
    /// Sender.
    pub from: Address,
    /// Recipient (`None` for contract creation).
    pub to: Option<Address>,
    /// ETH sent.
    pub value: U256,
    /// Calldata.
    pub input: Bytes,
    /// Receipt status.
    pub success: bool,
    /// Gas used.
    pub gas_used: u64,
    /// Logs, in block order.
    pub logs: Vec<LogData>,
}

/// A block with its transactions, as the engine sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BlockData {
    /// EIP-155 chain id.
    pub chain_id: u64,
    /// Number.
    pub number: u64,
    /// Hash.
    pub hash: B256,
    /// Hash of the parent block (reorg detection).
    pub parent_hash: B256,
    /// Timestamp (seconds).
    pub timestamp: u64,
    /// Transactions in order.
    pub txs: Vec<TxData>,
}

/// A read of chain state at a block, declared by rules (probes) and performed
/// by the chain crate.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum StateRead {
    /// `eth_getBalance(address)`, returned ABI-encoded as a `uint256`.
    EthBalance(Address),
    /// `eth_call` to `to` with `data`, returning the raw return data.
    Call {
        /// Target.
        to: Address,
        /// Calldata.
        data: Bytes,
    },
}
