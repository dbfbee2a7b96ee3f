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
    /// The sender's nonce.
    pub nonce: u64,
    /// Whether firebreak itself signed and sent it: known only for the
    /// senders of `tx from` monitors (set by the watcher from the store);
    /// `None` when unknown, and then `tx.firebreak` rules do not match.
    pub by_firebreak: Option<bool>,
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
    /// SafeTx hashes named by this block's Safe logs (`ApproveHash`,
    /// `ExecutionSuccess`, `ExecutionFailure`) that the team approved: set
    /// by the watcher from the store when a rule reads `safe_tx.approved`;
    /// `None` when unknown, and then `safe_tx.approved` rules do not match.
    pub approved_safe_txs: Option<Vec<B256>>,
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
    /// Playbook to run; none for an alert-only monitor, whose alerts open no
    /// incident. (Stored alerts of earlier versions say `""` for none.)
    #[serde(default, deserialize_with = "empty_is_none")]
    pub playbook: Option<String>,
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

fn empty_is_none<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    let s: Option<String> = serde::Deserialize::deserialize(d)?;
    Ok(s.filter(|s| !s.is_empty()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_alert_stored_with_an_empty_playbook_reads_as_alert_only() {
        let mut v = serde_json::to_value(Alert {
            monitor: "m".into(),
            severity: crate::Severity::P3,
            playbook: Some("contain".into()),
            chain_id: 1,
            block_number: 2,
            block_hash: B256::ZERO,
            tx_hash: None,
            log_index: None,
            evidence: BTreeMap::new(),
            probes: BTreeMap::new(),
            dedup_key: "k".into(),
            confirmations: 0,
        })
        .unwrap();
        let read = |v: &serde_json::Value| serde_json::from_value::<Alert>(v.clone()).unwrap();
        assert_eq!(read(&v).playbook.as_deref(), Some("contain"));
        v["playbook"] = "".into();
        assert_eq!(read(&v).playbook, None);
        v["playbook"] = serde_json::Value::Null;
        assert_eq!(read(&v).playbook, None);
    }
}
