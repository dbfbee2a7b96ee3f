//! Safe multisig transactions for firebreak.
//!
//! Owns the SafeTx model ([`SafeTx`]), its EIP-712 hash (the one owners sign
//! and compare on a hardware wallet; equal to the Safe's own
//! `getTransactionHash`), the check that a signature comes from an owner, and
//! the packing of signatures in ascending owner order that `execTransaction`
//! requires. It never holds keys: signing happens where the keys are.
//!
//! # Feature flags
//! None.
//!
//! # Example
//! ```
//! use alloy_primitives::{Address, Bytes, U256, address};
//! use firebreak_safe::SafeTx;
//!
//! let safe = address!("0x995e4e9bc6CdF821FB1FC6aF74955e4cC45f445C");
//! let pause = Bytes::from(vec![0x84, 0x56, 0xcb, 0x59]); // pause()
//! let tx = SafeTx::call(address!("0x41B38c41645F9Fe4B24254d9BbC5B338f5362D19"), pause, U256::from(7));
//! let hash = tx.hash(1, safe);
//! assert_eq!(hash, tx.hash(1, safe));
//! assert_ne!(hash, tx.hash(10, safe), "the chain id is part of the domain");
//! ```
#![cfg_attr(not(test), warn(unused_crate_dependencies))]

mod review;
mod signatures;
mod tx;

pub use review::{Call, Review, delegatecalls_outside, review, unpack_multisend};
pub use signatures::{OwnerSignature, SignatureError, pack_signatures, recover_owner};
pub use tx::{Operation, SafeTx, multisend_calldata};
