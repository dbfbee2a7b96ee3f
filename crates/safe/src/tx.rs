use alloy_primitives::{Address, B256, Bytes, U256};
use alloy_sol_types::{Eip712Domain, SolStruct};

pub(crate) use eip712::SafeTx as Eip712SafeTx;

mod eip712 {
    alloy_sol_types::sol! {
        /// The EIP-712 struct a Safe (>= 1.3) signs; its name is part of the type hash.
        #[derive(Debug)]
        struct SafeTx {
        address to;
        uint256 value;
        bytes data;
        uint8 operation;
        uint256 safeTxGas;
        uint256 baseGas;
        uint256 gasPrice;
        address gasToken;
        address refundReceiver;
        uint256 nonce;
    }
    }
}

mod exec {
    alloy_sol_types::sol! {
        function execTransaction(address to, uint256 value, bytes data, uint8 operation, uint256 safeTxGas, uint256 baseGas, uint256 gasPrice, address gasToken, address refundReceiver, bytes signatures) external payable returns (bool success);
        function multiSend(bytes transactions) external payable;
    }
}

/// Calldata of `MultiSendCallOnly.multiSend` performing `calls` (target,
/// calldata; no value) in order. The Safe runs it with a delegate call.
pub fn multisend_calldata(calls: &[(Address, Bytes)]) -> Bytes {
    use alloy_sol_types::SolCall;
    let mut packed = Vec::new();
    for (to, data) in calls {
        packed.push(0u8); // operation: call
        packed.extend_from_slice(to.as_slice());
        packed.extend_from_slice(&U256::ZERO.to_be_bytes::<32>());
        packed.extend_from_slice(&U256::from(data.len()).to_be_bytes::<32>());
        packed.extend_from_slice(data);
    }
    exec::multiSendCall { transactions: packed.into() }.abi_encode().into()
}

/// How the Safe performs the transaction.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Operation {
    /// A plain call.
    Call,
    /// A delegate call (e.g. MultiSendCallOnly batches).
    DelegateCall,
}

impl Operation {
    /// The `uint8` the Safe uses.
    pub const fn as_u8(self) -> u8 {
        match self {
            Self::Call => 0,
            Self::DelegateCall => 1,
        }
    }
}

/// A Safe transaction, as owners sign it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct SafeTx {
    /// Target.
    pub to: Address,
    /// ETH sent.
    pub value: U256,
    /// Calldata.
    pub data: Bytes,
    /// Call or delegate call.
    pub operation: Operation,
    /// Gas for the inner call (0: all available).
    pub safe_tx_gas: U256,
    /// Gas refunded independently of the inner call.
    pub base_gas: U256,
    /// Refund gas price (0: no refund).
    pub gas_price: U256,
    /// Refund token (zero: ETH).
    pub gas_token: Address,
    /// Refund receiver (zero: tx.origin).
    pub refund_receiver: Address,
    /// The Safe nonce it is valid at.
    pub nonce: U256,
}

impl SafeTx {
    /// A plain call with no value and no refund, at `nonce` — how firebreak
    /// builds pauses: whoever relays pays the gas.
    pub fn call(to: Address, data: Bytes, nonce: U256) -> Self {
        Self {
            to,
            value: U256::ZERO,
            data,
            operation: Operation::Call,
            safe_tx_gas: U256::ZERO,
            base_gas: U256::ZERO,
            gas_price: U256::ZERO,
            gas_token: Address::ZERO,
            refund_receiver: Address::ZERO,
            nonce,
        }
    }

    /// Calldata of `execTransaction` carrying this transaction and the
    /// packed owner `signatures`.
    pub fn exec_calldata(&self, signatures: Bytes) -> Bytes {
        use alloy_sol_types::SolCall;
        exec::execTransactionCall {
            to: self.to,
            value: self.value,
            data: self.data.clone(),
            operation: self.operation.as_u8(),
            safeTxGas: self.safe_tx_gas,
            baseGas: self.base_gas,
            gasPrice: self.gas_price,
            gasToken: self.gas_token,
            refundReceiver: self.refund_receiver,
            signatures,
        }
        .abi_encode()
        .into()
    }

    /// The EIP-712 domain of `safe` on `chain_id` (Safe >= 1.3: chain id and verifying contract).
    pub fn domain(chain_id: u64, safe: Address) -> Eip712Domain {
        Eip712Domain {
            chain_id: Some(U256::from(chain_id)),
            verifying_contract: Some(safe),
            ..Eip712Domain::default()
        }
    }

    /// Its EIP-712 struct.
    pub(crate) fn eip712_struct(&self) -> Eip712SafeTx {
        Eip712SafeTx {
            to: self.to,
            value: self.value,
            data: self.data.clone(),
            operation: self.operation.as_u8(),
            safeTxGas: self.safe_tx_gas,
            baseGas: self.base_gas,
            gasPrice: self.gas_price,
            gasToken: self.gas_token,
            refundReceiver: self.refund_receiver,
            nonce: self.nonce,
        }
    }

    /// The hash owners sign: equal to `getTransactionHash(...)` of the Safe.
    pub fn hash(&self, chain_id: u64, safe: Address) -> B256 {
        let s = self.eip712_struct();
        s.eip712_signing_hash(&Self::domain(chain_id, safe))
    }
}
