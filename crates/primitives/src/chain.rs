//! Chain data as the engine sees it: a block with its transactions, receipts
//! and logs. Produced by the chain crate, consumed by detection.

use std::collections::BTreeMap;

use alloy_primitives::{Address, B256, Bytes, U256};
use serde::{Deserialize, Serialize};

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

/// One firing of a monitor, with its evidence.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Alert {
    /// Monitor id.
    pub monitor: String,
    /// Severity (of its monitor).
    pub severity: crate::Severity,
    /// Playbook to run (empty for an alert-only monitor, whose alerts open no incident).
    pub playbook: String,
    /// Chain id.
    pub chain_id: u64,
    /// Block number.
    pub block_number: u64,
    /// Block hash.
    pub block_hash: B256,
    /// Transaction hash, when the match is in a transaction.
    pub tx_hash: Option<B256>,
    /// Log index, when the match is a log.
    pub log_index: Option<u64>,
    /// Decoded arguments and builtins (`tx.from` …), as text.
    pub evidence: BTreeMap<String, String>,
    /// Probe values, as text.
    pub probes: BTreeMap<String, String>,
    /// Unique per (monitor, block hash, tx, log index).
    pub dedup_key: String,
    /// Confirmations the monitor asks for before the alert is reported live.
    pub confirmations: u64,
}
