//! The latest state, as far as simulations have needed it: accounts, storage
//! slots, code and block hashes fetched from the node at one block and kept
//! for every simulation on top of that block.
//!
//! revm reads state synchronously; the node answers asynchronously. The
//! cache answers what it holds and names what it lacks ([`Missing`]); the
//! simulator fetches that one entry and runs the transaction again. A
//! transaction's second run meets a warmer cache, and the watched contracts
//! are warm before the first pending transaction arrives.

use std::{
    collections::HashMap,
    sync::{Arc, PoisonError, RwLock},
};

use alloy_primitives::{Address, B256, U256};
use revm::{
    DatabaseRef, bytecode::Bytecode, database_interface::DBErrorMarker, state::AccountInfo,
};

/// An entry the cache does not hold yet.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum Missing {
    /// Balance, nonce and code of an account.
    Account(Address),
    /// One storage slot.
    Storage(Address, U256),
    /// Code by hash (only ever asked for code the cache handed out).
    Code(B256),
    /// The hash of a block (`BLOCKHASH`).
    BlockHash(u64),
}

impl std::fmt::Display for Missing {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Account(a) => write!(f, "account {a}"),
            Self::Storage(a, k) => write!(f, "storage slot {k:#x} of {a}"),
            Self::Code(h) => write!(f, "code {h}"),
            Self::BlockHash(n) => write!(f, "hash of block {n}"),
        }
    }
}

impl std::error::Error for Missing {}
impl DBErrorMarker for Missing {}

#[derive(Debug, Default)]
pub(crate) struct Entries {
    pub(crate) accounts: HashMap<Address, Option<AccountInfo>>,
    pub(crate) storage: HashMap<(Address, U256), U256>,
    pub(crate) codes: HashMap<B256, Bytecode>,
    pub(crate) hashes: HashMap<u64, B256>,
}

impl Entries {
    /// Number of entries held (a bound on what one block may fetch).
    pub(crate) fn len(&self) -> usize {
        self.accounts.len() + self.storage.len() + self.hashes.len()
    }
}

/// The cache of one block's state, shared by the simulations on top of it.
#[derive(Debug, Clone, Default)]
pub(crate) struct Cached(Arc<RwLock<Entries>>);

impl Cached {
    pub(crate) fn read<T>(&self, f: impl FnOnce(&Entries) -> T) -> T {
        f(&self.0.read().unwrap_or_else(PoisonError::into_inner))
    }

    pub(crate) fn write<T>(&self, f: impl FnOnce(&mut Entries) -> T) -> T {
        f(&mut self.0.write().unwrap_or_else(PoisonError::into_inner))
    }

    /// Keeps an account (with its code) as fetched.
    pub(crate) fn put_account(&self, address: Address, balance: U256, nonce: u64, code: Bytecode) {
        let info = if balance.is_zero() && nonce == 0 && code.is_empty() {
            None
        } else {
            let hash = code.hash_slow();
            Some(AccountInfo::new(balance, nonce, hash, code))
        };
        self.write(|e| {
            if let Some(i) = &info
                && let Some(code) = &i.code
            {
                e.codes.insert(i.code_hash, code.clone());
            }
            e.accounts.insert(address, info);
        });
    }
}

impl DatabaseRef for Cached {
    type Error = Missing;

    fn basic_ref(&self, address: Address) -> Result<Option<AccountInfo>, Missing> {
        self.read(|e| e.accounts.get(&address).cloned().ok_or(Missing::Account(address)))
    }

    fn code_by_hash_ref(&self, code_hash: B256) -> Result<Bytecode, Missing> {
        self.read(|e| e.codes.get(&code_hash).cloned().ok_or(Missing::Code(code_hash)))
    }

    fn storage_ref(&self, address: Address, index: U256) -> Result<U256, Missing> {
        self.read(|e| {
            if let Some(v) = e.storage.get(&(address, index)) {
                return Ok(*v);
            }
            // an account known not to exist has no storage to fetch
            match e.accounts.get(&address) {
                Some(None) => Ok(U256::ZERO),
                _ => Err(Missing::Storage(address, index)),
            }
        })
    }

    fn block_hash_ref(&self, number: u64) -> Result<B256, Missing> {
        self.read(|e| e.hashes.get(&number).copied().ok_or(Missing::BlockHash(number)))
    }
}
