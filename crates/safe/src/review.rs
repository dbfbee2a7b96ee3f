//! What a person must see before signing a SafeTx: the values a hardware
//! wallet displays (the EIP-712 domain hash, the message hash and the
//! SafeTx hash), the operation, and the calldata decoded, a MultiSend batch
//! call by call. And the refusal of a DELEGATECALL to a target outside the
//! plan's allow-list: a delegate call runs foreign code with the Safe's
//! storage and funds (how the Bybit Safe was taken over).

use alloy_primitives::{Address, B256, Bytes, U256};
use alloy_sol_types::{SolCall as _, SolStruct as _};

use crate::tx::{Operation, SafeTx};

alloy_sol_types::sol! {
    function multiSend(bytes transactions) external payable;
}

/// One call the SafeTx makes (the SafeTx itself, or one of its batch).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Call {
    /// Call or delegate call.
    pub operation: Operation,
    /// Target.
    pub to: Address,
    /// ETH sent.
    pub value: U256,
    /// Calldata.
    pub data: Bytes,
    /// The calldata in words (`pause()`, `transfer(0x…, 100)`), when an ABI
    /// of the plan knows the function.
    pub decoded: Option<String>,
}

/// What is shown before a signature.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Review {
    /// The Safe.
    pub safe: Address,
    /// Chain id.
    pub chain_id: u64,
    /// The EIP-712 domain separator (a hardware wallet's "domain hash").
    pub domain_hash: B256,
    /// The SafeTx struct hash (its "message hash").
    pub message_hash: B256,
    /// The hash the owners sign: keccak(0x1901 ‖ domain ‖ message).
    pub safe_tx_hash: B256,
    /// The SafeTx's own operation, target, value and nonce.
    pub operation: Operation,
    /// Its target.
    pub to: Address,
    /// ETH it sends.
    pub value: U256,
    /// The Safe nonce it is valid at.
    pub nonce: U256,
    /// The calls it makes: one, or a MultiSend batch decoded call by call.
    pub calls: Vec<Call>,
    /// Whether `calls` is a decoded MultiSend batch.
    pub batch: bool,
}

/// Reviews `tx` of `safe` on `chain_id`; `decode` names a call from its
/// target and calldata, when it can.
pub fn review(
    tx: &SafeTx,
    chain_id: u64,
    safe: Address,
    decode: &dyn Fn(Address, &[u8]) -> Option<String>,
) -> Review {
    let domain = SafeTx::domain(chain_id, safe);
    let message = tx.eip712_struct();
    let batch =
        (tx.operation == Operation::DelegateCall).then(|| unpack_multisend(&tx.data)).flatten();
    let calls = match &batch {
        Some(calls) => calls
            .iter()
            .map(|(operation, to, value, data)| Call {
                operation: *operation,
                to: *to,
                value: *value,
                decoded: decode(*to, data),
                data: data.clone(),
            })
            .collect(),
        None => vec![Call {
            operation: tx.operation,
            to: tx.to,
            value: tx.value,
            decoded: decode(tx.to, &tx.data),
            data: tx.data.clone(),
        }],
    };
    Review {
        safe,
        chain_id,
        domain_hash: domain.separator(),
        message_hash: message.eip712_hash_struct(),
        safe_tx_hash: tx.hash(chain_id, safe),
        operation: tx.operation,
        to: tx.to,
        value: tx.value,
        nonce: tx.nonce,
        calls,
        batch: batch.is_some(),
    }
}

/// The calls of `multiSend(bytes)` calldata: (operation, to, value, data)
/// each; `None` when it is not one.
pub fn unpack_multisend(data: &[u8]) -> Option<Vec<(Operation, Address, U256, Bytes)>> {
    let packed = multiSendCall::abi_decode(data).ok()?.transactions;
    let mut out = Vec::new();
    let mut rest: &[u8] = &packed;
    while !rest.is_empty() {
        // operation (1) ‖ to (20) ‖ value (32) ‖ data length (32) ‖ data
        if rest.len() < 85 {
            return None;
        }
        let operation = match rest[0] {
            0 => Operation::Call,
            1 => Operation::DelegateCall,
            _ => return None,
        };
        let to = Address::from_slice(&rest[1..21]);
        let value = U256::from_be_slice(&rest[21..53]);
        let len = usize::try_from(U256::from_be_slice(&rest[53..85])).ok()?;
        let end = 85usize.checked_add(len)?;
        let data = Bytes::copy_from_slice(rest.get(85..end)?);
        out.push((operation, to, value, data));
        rest = &rest[end..];
    }
    Some(out)
}

/// The DELEGATECALL targets of `tx` outside `allowed`: the SafeTx's own
/// target when it is a delegate call that is not an allowed batch
/// contract, and every delegate call inside a batch.
pub fn delegatecalls_outside(review: &Review, allowed: &[Address]) -> Vec<Address> {
    let mut out = Vec::new();
    if review.operation == Operation::DelegateCall && !allowed.contains(&review.to) {
        out.push(review.to);
    }
    if review.batch {
        for c in &review.calls {
            if c.operation == Operation::DelegateCall
                && !allowed.contains(&c.to)
                && !out.contains(&c.to)
            {
                out.push(c.to);
            }
        }
    }
    out
}

impl Review {
    /// The review as text lines; a DELEGATECALL is marked `DELEGATECALL`
    /// with its target (in red when `color`).
    pub fn lines(&self, color: bool) -> Vec<String> {
        let red = |s: String| if color { format!("\x1b[1;31m{s}\x1b[0m") } else { s };
        let op = |o: Operation, to: Address| match o {
            Operation::Call => format!("CALL {to}"),
            Operation::DelegateCall => red(format!("DELEGATECALL {to}")),
        };
        let mut out = vec![
            format!("Safe          {} (chain {})", self.safe, self.chain_id),
            format!("operation     {}", op(self.operation, self.to)),
            format!("value         {} wei", self.value),
            format!("nonce         {}", self.nonce),
        ];
        for (i, c) in self.calls.iter().enumerate() {
            let what = c.decoded.clone().unwrap_or_else(|| format!("{} (not decoded)", c.data));
            let head = if self.batch {
                format!("call {}/{}", i + 1, self.calls.len())
            } else {
                "call".to_owned()
            };
            out.push(format!("{head:<13} {} value {}: {what}", op(c.operation, c.to), c.value));
        }
        out.push(format!("domain hash   {}", self.domain_hash));
        out.push(format!("message hash  {}", self.message_hash));
        out.push(format!("SafeTx hash   {}", self.safe_tx_hash));
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::multisend_calldata;

    #[test]
    fn a_batch_is_decoded_call_by_call_and_a_foreign_delegatecall_is_named() {
        let a = Address::repeat_byte(0xa);
        let b = Address::repeat_byte(0xb);
        let ms = Address::repeat_byte(0x4d);
        let data = multisend_calldata(&[(a, Bytes::from(vec![1, 2, 3, 4])), (b, Bytes::new())]);
        let mut tx = SafeTx::call(ms, data, U256::from(7));
        tx.operation = Operation::DelegateCall;
        let r = review(&tx, 1, Address::repeat_byte(0x5a), &|to, _| {
            (to == a).then(|| "pause()".to_owned())
        });
        assert!(r.batch);
        assert_eq!(r.calls.len(), 2);
        assert_eq!((r.calls[0].to, r.calls[0].decoded.as_deref()), (a, Some("pause()")));
        assert_eq!(r.calls[1].to, b);
        assert!(delegatecalls_outside(&r, &[ms]).is_empty(), "the plan's batch contract");
        assert_eq!(delegatecalls_outside(&r, &[]), [ms]);
        // Bybit-shaped: a delegate call to an unknown contract
        let evil = Address::repeat_byte(0xee);
        let mut bybit =
            SafeTx::call(evil, Bytes::from(vec![0xa9, 0x05, 0x9c, 0xbb]), U256::from(7));
        bybit.operation = Operation::DelegateCall;
        let r = review(&bybit, 1, Address::repeat_byte(0x5a), &|_, _| None);
        assert!(!r.batch);
        assert_eq!(delegatecalls_outside(&r, &[ms]), [evil]);
        let text = r.lines(false).join("\n");
        assert!(text.contains(&format!("DELEGATECALL {evil}")), "{text}");
        assert!(
            text.contains(&format!("SafeTx hash   {}", bybit.hash(1, Address::repeat_byte(0x5a))))
        );
        // the SafeTx hash is keccak(0x1901 ‖ domain ‖ message)
        let mut pre = vec![0x19, 0x01];
        pre.extend_from_slice(r.domain_hash.as_slice());
        pre.extend_from_slice(r.message_hash.as_slice());
        assert_eq!(alloy_primitives::keccak256(pre), r.safe_tx_hash);
    }

    #[test]
    fn truncated_batches_are_not_decoded() {
        let data = multisend_calldata(&[(Address::ZERO, Bytes::from(vec![1; 40]))]);
        let cut = &data[..data.len() - 40];
        assert!(
            unpack_multisend(cut).is_none() || unpack_multisend(cut).is_some_and(|c| c.is_empty())
        );
        assert!(unpack_multisend(&[1, 2, 3]).is_none());
    }
}
