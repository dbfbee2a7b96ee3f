//! Following funds block by block: transfers out of traced addresses (hop
//! by hop from confirmed attackers), transfers into the recovery address,
//! and UTF-8 messages sent on chain.
//!
//! The scan is pure: it reads a fetched block and the state of the trace,
//! and says what it found. The caller fetches blocks, resolves the decimals
//! and prices of the assets a block touches ([`Watch::touched_tokens`]),
//! and records what is found on the timeline.

use std::collections::{BTreeMap, BTreeSet};

use alloy_primitives::{Address, B256, U256, b256};
use firebreak_plan::{AddressLabel, LabelKind};
use firebreak_primitives::{
    BlockData,
    event::{FundsMoved, FundsReturned, OnchainMessage, Transfer},
};

use crate::MicroUsd;

/// `Transfer(address,address,uint256)`.
pub const TRANSFER: B256 =
    b256!("ddf252ad1be2c89b69c2b068fc378daa952ba7f163c4a11628f55a4df523b3ef");

/// An asset as the scan values it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Asset {
    /// Its name (`ETH`, the plan's contract key, or the token's address).
    pub name: String,
    /// Decimals.
    pub decimals: u8,
    /// Micro-USD per whole unit at the block before, when known.
    pub price: Option<MicroUsd>,
    /// Whether the ledger counts it (ETH and the plan's tokens).
    pub listed: bool,
}

/// What one block held for the incident.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Found {
    /// Traced funds moved.
    Moved(FundsMoved),
    /// Funds reached the recovery address.
    Returned(FundsReturned),
    /// A message came in on chain.
    Message(OnchainMessage),
}

/// The state of an incident's trace on one chain.
#[derive(Debug, Clone)]
pub struct Watch {
    /// Chain id.
    pub chain_id: u64,
    /// The recovery address on this chain.
    pub recovery: Option<Address>,
    /// The protocol's addresses (plan contracts and Safes).
    pub protocol: BTreeSet<Address>,
    /// Attacker addresses not rejected: their messages are read.
    pub attackers: BTreeSet<Address>,
    /// Addresses whose outgoing transfers are followed, with the hop of
    /// the funds they hold (0: a confirmed attacker).
    pub traced: BTreeMap<Address, u32>,
    /// Hops followed.
    pub max_hops: u32,
    /// Transfers worth less are not followed.
    pub dust: MicroUsd,
    /// Labelled addresses.
    pub labels: BTreeMap<Address, AddressLabel>,
    /// Our own senders (message signer): not read as incoming messages.
    pub ours: BTreeSet<Address>,
}

impl Watch {
    fn follows_into(&self, to: Address) -> bool {
        Some(to) != self.recovery
            && !self.protocol.contains(&to)
            && self
                .labels
                .get(&to)
                .is_none_or(|l| !l.kind.is_exit() && l.kind != LabelKind::Protocol)
    }

    /// Whether the block has anything for this watch, and the tokens whose
    /// decimals and prices the scan will need.
    pub fn touched_tokens(&self, block: &BlockData) -> Option<BTreeSet<Address>> {
        let mut tokens = BTreeSet::new();
        let mut any = false;
        for tx in block.txs.iter().filter(|t| t.success) {
            if !tx.value.is_zero() && (self.traced.contains_key(&tx.from) || tx.to == self.recovery)
            {
                any = true;
            }
            if self.message(tx).is_some() {
                any = true;
            }
            for log in &tx.logs {
                if let Some((from, to, _)) = erc20_transfer(log)
                    && (self.traced.contains_key(&from) || Some(to) == self.recovery)
                {
                    any = true;
                    tokens.insert(log.address);
                }
            }
        }
        any.then_some(tokens)
    }

    fn message(&self, tx: &firebreak_primitives::TxData) -> Option<String> {
        if self.ours.contains(&tx.from) {
            return None;
        }
        let to = tx.to?;
        let relevant = self.attackers.contains(&tx.from)
            || self.protocol.contains(&to)
            || Some(to) == self.recovery;
        if !relevant {
            return None;
        }
        utf8_message(&tx.input)
    }

    /// Scans one block, in transaction order; `assets` maps each token (and
    /// `Address::ZERO` for ETH) to its asset. Receivers of followed
    /// transfers are traced from the next transaction on.
    pub fn scan(&mut self, block: &BlockData, assets: &BTreeMap<Address, Asset>) -> Vec<Found> {
        let mut out = Vec::new();
        for tx in block.txs.iter().filter(|t| t.success) {
            if let Some(text) = self.message(tx) {
                out.push(Found::Message(OnchainMessage {
                    chain_id: self.chain_id,
                    from: tx.from.to_string(),
                    to: tx.to.map(|t| t.to_string()).unwrap_or_default(),
                    tx_hash: tx.hash.to_string(),
                    block: Some(block.number),
                    text,
                    draft: None,
                }));
            }
            let mut moves: Vec<(Address, Address, U256, Address, Option<u64>)> = Vec::new();
            if !tx.value.is_zero()
                && let Some(to) = tx.to
            {
                moves.push((tx.from, to, tx.value, Address::ZERO, None));
            }
            for log in &tx.logs {
                if let Some((from, to, amount)) = erc20_transfer(log) {
                    moves.push((from, to, amount, log.address, Some(log.index)));
                }
            }
            for (from, to, amount, token, log_index) in moves {
                let asset = assets.get(&token);
                let value = asset.and_then(|a| a.price).map(|p| {
                    let scale = U256::from(10u8).pow(U256::from(asset.map_or(18, |a| a.decimals)));
                    u128::try_from(amount.saturating_mul(U256::from(p)) / scale)
                        .unwrap_or(u128::MAX)
                });
                let transfer = Transfer {
                    chain_id: self.chain_id,
                    block: block.number,
                    tx_hash: tx.hash.to_string(),
                    log_index,
                    from: from.to_string(),
                    to: to.to_string(),
                    asset: asset.map_or_else(|| token.to_string(), |a| a.name.clone()),
                    token: (token != Address::ZERO).then(|| token.to_string()),
                    amount: amount.to_string(),
                    decimals: asset.map_or(18, |a| a.decimals),
                    value_micro_usd: value.map(|v| v.to_string()),
                };
                if Some(to) == self.recovery && asset.is_some_and(|a| a.listed) {
                    out.push(Found::Returned(FundsReturned {
                        transfer: transfer.clone(),
                        price_micro_usd: asset.and_then(|a| a.price).map(|p| p.to_string()),
                        priced_at: block.number.saturating_sub(1),
                    }));
                }
                let Some(&held) = self.traced.get(&from) else { continue };
                if value.is_some_and(|v| v < self.dust) {
                    continue;
                }
                let hop = held + 1;
                let label = self.labels.get(&to);
                out.push(Found::Moved(FundsMoved {
                    transfer,
                    hop,
                    label: label.map(|l| l.label.clone()),
                    kind: label.map(|l| l.kind.as_str().to_owned()),
                }));
                if hop < self.max_hops && self.follows_into(to) {
                    let e = self.traced.entry(to).or_insert(hop);
                    *e = (*e).min(hop);
                }
            }
        }
        out
    }
}

/// An ERC-20 `Transfer` log: (from, to, amount). ERC-721 transfers (three
/// indexed arguments) are not.
pub fn erc20_transfer(log: &firebreak_primitives::LogData) -> Option<(Address, Address, U256)> {
    if log.topics.len() != 3 || log.topics[0] != TRANSFER || log.data.len() != 32 {
        return None;
    }
    let from = Address::from_word(log.topics[1]);
    let to = Address::from_word(log.topics[2]);
    Some((from, to, U256::from_be_slice(&log.data)))
}

/// A transaction input that reads as a message: valid UTF-8 with at least
/// one letter and no control characters but line breaks and tabs (a call's
/// ABI-encoded arguments always hold zero bytes).
pub fn utf8_message(input: &[u8]) -> Option<String> {
    let text = std::str::from_utf8(input).ok()?;
    let text = text.trim();
    if text.is_empty()
        || !text.chars().any(char::is_alphabetic)
        || text.chars().any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t'))
    {
        return None;
    }
    Some(text.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use firebreak_primitives::{LogData, TxData};

    fn a(n: u8) -> Address {
        Address::repeat_byte(n)
    }

    fn transfer_log(
        token: Address,
        from: Address,
        to: Address,
        amount: u64,
        index: u64,
    ) -> LogData {
        LogData {
            address: token,
            topics: vec![TRANSFER, from.into_word(), to.into_word()],
            data: U256::from(amount).to_be_bytes::<32>().to_vec().into(),
            index,
        }
    }

    fn tx(n: u8, from: Address, to: Address, value: u64, logs: Vec<LogData>) -> TxData {
        TxData {
            hash: B256::repeat_byte(n),
            from,
            nonce: 0,
            by_firebreak: None,
            to: Some(to),
            value: U256::from(value),
            input: Default::default(),
            success: true,
            gas_used: 21_000,
            logs,
        }
    }

    fn watch(max_hops: u32) -> Watch {
        let mut labels = BTreeMap::new();
        labels.insert(a(0xb0), AddressLabel { label: "Bridge".into(), kind: LabelKind::Bridge });
        Watch {
            chain_id: 1,
            recovery: Some(a(0xee)),
            protocol: BTreeSet::from([a(0x10)]),
            attackers: BTreeSet::from([a(0xaa)]),
            traced: BTreeMap::from([(a(0xaa), 0)]),
            max_hops,
            dust: 100_000_000,
            labels,
            ours: BTreeSet::new(),
        }
    }

    fn usdc() -> BTreeMap<Address, Asset> {
        BTreeMap::from([(
            a(0x05),
            Asset { name: "usdc".into(), decimals: 6, price: Some(1_000_000), listed: true },
        )])
    }

    #[test]
    fn funds_are_followed_hop_by_hop_within_a_block_and_stop_at_the_limit_and_at_exits() {
        let mut w = watch(3);
        let block = BlockData {
            approved_safe_txs: None,
            chain_id: 1,
            number: 7,
            hash: B256::ZERO,
            parent_hash: B256::ZERO,
            timestamp: 0,
            txs: vec![
                // attacker splits 1,000 USDC: 600 to 0x01, 400 to the bridge
                tx(
                    1,
                    a(0xaa),
                    a(0x05),
                    0,
                    vec![
                        transfer_log(a(0x05), a(0xaa), a(0x01), 600_000_000, 0),
                        transfer_log(a(0x05), a(0xaa), a(0xb0), 400_000_000, 1),
                    ],
                ),
                tx(
                    2,
                    a(0x01),
                    a(0x05),
                    0,
                    vec![transfer_log(a(0x05), a(0x01), a(0x02), 600_000_000, 2)],
                ),
                tx(
                    3,
                    a(0x02),
                    a(0x05),
                    0,
                    vec![transfer_log(a(0x05), a(0x02), a(0x03), 600_000_000, 3)],
                ),
                // hop 4: not followed
                tx(
                    4,
                    a(0x03),
                    a(0x05),
                    0,
                    vec![transfer_log(a(0x05), a(0x03), a(0x04), 600_000_000, 4)],
                ),
                // dust from the attacker: not followed
                tx(
                    5,
                    a(0xaa),
                    a(0x05),
                    0,
                    vec![transfer_log(a(0x05), a(0xaa), a(0x09), 5_000_000, 5)],
                ),
            ],
        };
        assert!(w.touched_tokens(&block).is_some());
        let found = w.scan(&block, &usdc());
        let moves: Vec<(u32, String, Option<String>)> = found
            .iter()
            .map(|f| match f {
                Found::Moved(m) => (m.hop, m.transfer.to.clone(), m.kind.clone()),
                other => panic!("{other:?}"),
            })
            .collect();
        assert_eq!(
            moves,
            [
                (1, a(0x01).to_string(), None),
                (1, a(0xb0).to_string(), Some("bridge".into())),
                (2, a(0x02).to_string(), None),
                (3, a(0x03).to_string(), None),
            ]
        );
        assert!(!w.traced.contains_key(&a(0xb0)), "a bridge is an exit, not followed");
        assert!(!w.traced.contains_key(&a(0x03)), "hop 3 is the last");
    }

    #[test]
    fn returns_to_the_recovery_address_and_messages_are_found() {
        let mut w = watch(3);
        let mut msg = tx(9, a(0xaa), a(0x10), 0, vec![]);
        msg.input = "I will return 90%, keep 10% as bounty".as_bytes().to_vec().into();
        let mut call = tx(10, a(0xaa), a(0x10), 0, vec![]);
        call.input = alloy_primitives::hex!(
            "a9059cbb0000000000000000000000000000000000000000000000000000000000000001"
        )
        .to_vec()
        .into();
        let block = BlockData {
            approved_safe_txs: None,
            chain_id: 1,
            number: 9,
            hash: B256::ZERO,
            parent_hash: B256::ZERO,
            timestamp: 0,
            txs: vec![
                msg,
                call,
                tx(
                    11,
                    a(0x77),
                    a(0x05),
                    0,
                    vec![transfer_log(a(0x05), a(0x77), a(0xee), 900_000_000, 0)],
                ),
                tx(12, a(0x77), a(0xee), 1_000_000_000_000_000_000, vec![]),
            ],
        };
        let found = w.scan(&block, &usdc());
        assert!(matches!(&found[0], Found::Message(m) if m.text.starts_with("I will return")));
        assert!(
            matches!(&found[1], Found::Returned(r) if r.transfer.amount == "900000000" && r.transfer.value_micro_usd.as_deref() == Some("900000000"))
        );
        assert_eq!(
            found.len(),
            2,
            "ETH is not listed in these assets, the call is no message: {found:?}"
        );
    }

    #[test]
    fn only_text_reads_as_a_message() {
        assert_eq!(utf8_message(b"  hello\n"), Some("hello".into()));
        assert_eq!(utf8_message(&[0xa9, 0x05, 0x9c, 0xbb, 0, 0]), None);
        assert_eq!(utf8_message(b"1234"), None);
        assert_eq!(utf8_message(b""), None);
    }
}
