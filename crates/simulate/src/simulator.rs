//! Executing a pending transaction on top of the latest block, then the
//! state reads the rules declare on the state it leaves.

use std::{collections::BTreeSet, future::IntoFuture as _};

use alloy::{
    consensus::Transaction as _,
    eips::{BlockId, BlockNumberOrTag},
    providers::Provider,
};
use alloy_primitives::{Address, B256, Bytes, TxKind, U256};
use firebreak_primitives::{LogData, StateRead, TxData};
use revm::{
    Context, ExecuteEvm as _, MainBuilder as _, MainContext as _,
    bytecode::Bytecode,
    context::{BlockEnv, TxEnv},
    context_interface::result::{EVMError, ExecutionResult, ResultAndState},
    database::CacheDB,
    primitives::hardfork::SpecId,
};

use crate::state::{Cached, Missing};

/// Most state entries one transaction may fetch before it is given up (a
/// transaction that reads thousands of fresh slots is not simulated at the
/// cost of thousands of round trips; it is reported as such).
pub const MAX_FETCHES: usize = 512;
/// Most entries one block's cache holds before it starts again empty.
const MAX_ENTRIES: usize = 200_000;
/// Most storage slots remembered as hot (fetched again at each new block).
const MAX_HOT: usize = 4_096;
/// Gas of a state read (a probe's `eth_call`).
const READ_GAS: u64 = 15_000_000;
/// Memory one execution may use.
const MEMORY_LIMIT: u64 = 256 << 20;
/// Entries fetched at once while warming.
const WARM_IN_FLIGHT: usize = 32;
/// Most pending transactions of the same sender run ahead of one.
pub const MAX_BEFORE: usize = 16;

/// Errors of a simulation.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The node did not answer a state read.
    #[error("chain {chain_id}: {method} failed: {source}")]
    Rpc {
        /// Chain id.
        chain_id: u64,
        /// The RPC method.
        method: &'static str,
        /// The transport's error.
        source: alloy::transports::TransportError,
    },
    /// The transaction needed more fresh state than one simulation may fetch.
    #[error("transaction {hash} needs more than {MAX_FETCHES} state entries: not simulated")]
    TooMuchState {
        /// The transaction.
        hash: B256,
    },
    /// The transaction cannot run on the latest state (e.g. its gas is above
    /// the block's limit).
    #[error("transaction {hash} cannot run on the latest state: {reason}")]
    Invalid {
        /// The transaction.
        hash: B256,
        /// revm's reason.
        reason: String,
    },
    /// One of the sender's pending transactions run ahead of the
    /// transaction could not be simulated.
    #[error("its sender's pending transaction {hash} ahead of it: {source}")]
    Before {
        /// The transaction ahead.
        hash: B256,
        /// Why it could not be simulated.
        source: Box<Self>,
    },
    /// No block to simulate on yet ([`Simulator::at_head`] was not called).
    #[error("no block to simulate on yet")]
    NoHead,
}

impl Error {
    /// Whether trying again (on another endpoint, or later) may succeed.
    pub fn is_retryable(&self) -> bool {
        match self {
            Self::Rpc { .. } | Self::NoHead => true,
            Self::Before { source, .. } => source.is_retryable(),
            Self::TooMuchState { .. } | Self::Invalid { .. } => false,
        }
    }
}

/// What a pending transaction would do if it were the next block's first.
#[derive(Debug, Clone)]
pub struct Simulation {
    /// The transaction as a block would hold it: its logs, success, gas.
    pub tx: TxData,
    /// The sender's pending transactions run ahead of it (lower nonces),
    /// as the block would hold them.
    pub before: Vec<TxData>,
    /// The revert data, when it reverted.
    pub revert: Option<Bytes>,
    /// The results of the state reads asked for, on the state the
    /// transaction leaves (`None`: the read reverted).
    pub reads: Vec<Option<Bytes>>,
    /// Every account the transaction loaded (called, read or wrote).
    pub touched: BTreeSet<Address>,
    /// State entries fetched from the node for this transaction (and those
    /// run ahead of it).
    pub fetched: usize,
}

#[derive(Debug, Clone)]
struct Head {
    number: u64,
    hash: B256,
    timestamp: u64,
    block: BlockEnv,
}

/// Simulates pending transactions of one chain on top of its latest block,
/// in-process (revm over a cache of the node's state).
#[derive(Debug)]
pub struct Simulator<P> {
    provider: P,
    chain_id: u64,
    head: Option<Head>,
    state: Cached,
    /// Accounts fetched as soon as a new block is adopted (the watched
    /// contracts).
    warm: BTreeSet<Address>,
    /// Storage slots of warm accounts that simulations read: fetched too.
    hot: BTreeSet<(Address, U256)>,
    /// An account's three reads one after the other (see [`Self::in_turn`]).
    in_turn: bool,
}

impl<P: Provider> Simulator<P> {
    /// A simulator of chain `chain_id` reading state through `provider`.
    pub fn new(provider: P, chain_id: u64) -> Self {
        Self {
            provider,
            chain_id,
            head: None,
            state: Cached::default(),
            warm: BTreeSet::new(),
            hot: BTreeSet::new(),
            in_turn: false,
        }
    }

    /// Reads an account's balance, nonce and code one after the other
    /// rather than at once, while a transaction waits for them. For a
    /// WebSocket: its requests share one TCP connection, and a node whose
    /// Nagle's algorithm is on holds its second answer until the first is
    /// acknowledged, which the client's delayed ACK can put off by 40 ms.
    /// Two more round trips on an open socket cost far less. (Warming,
    /// which happens as a block is adopted, still reads at once.)
    #[must_use]
    pub fn in_turn(mut self, in_turn: bool) -> Self {
        self.in_turn = in_turn;
        self
    }

    /// Accounts kept warm: fetched with every new block, and their storage
    /// slots that simulations read, too.
    #[must_use]
    pub fn warming(mut self, accounts: impl IntoIterator<Item = Address>) -> Self {
        self.warm.extend(accounts);
        self
    }

    /// The block simulations run on top of: (number, hash).
    pub fn head(&self) -> Option<(u64, B256)> {
        self.head.as_ref().map(|h| (h.number, h.hash))
    }

    /// The block a simulated transaction would be in: (number, parent
    /// hash, timestamp).
    pub fn next_block(&self) -> Option<(u64, B256, u64)> {
        self.head.as_ref().map(|h| (h.number + 1, h.hash, h.timestamp + 1))
    }

    /// Adopts the latest block when it is new: a fresh cache, warmed for
    /// the watched contracts. Returns the block's number.
    ///
    /// # Errors
    /// When the node does not answer.
    pub async fn at_head(&mut self) -> Result<u64, Error> {
        let block = self
            .provider
            .get_block_by_number(BlockNumberOrTag::Latest)
            .await
            .map_err(|source| self.rpc("eth_getBlockByNumber", source))?
            .ok_or(Error::NoHead)?;
        let h = &block.header;
        if self.head.as_ref().is_some_and(|old| old.hash == h.hash) {
            return Ok(h.number);
        }
        let env = BlockEnv {
            number: U256::from(h.number + 1),
            beneficiary: h.beneficiary,
            timestamp: U256::from(h.timestamp + 1),
            gas_limit: h.gas_limit,
            basefee: h.base_fee_per_gas.unwrap_or_default(),
            difficulty: U256::ZERO,
            prevrandao: Some(h.mix_hash),
            ..BlockEnv::default()
        };
        // code is immutable by hash: kept across blocks
        let codes = self.state.read(|e| e.codes.clone());
        self.state = Cached::default();
        self.state.write(|e| {
            e.codes = codes;
            e.hashes.insert(h.number, h.hash);
        });
        self.head =
            Some(Head { number: h.number, hash: h.hash, timestamp: h.timestamp, block: env });
        self.warm_up().await?;
        Ok(h.number)
    }

    async fn warm_up(&self) -> Result<(), Error> {
        let mut keys: Vec<Missing> = Vec::with_capacity(self.warm.len() + self.hot.len());
        for a in &self.warm {
            keys.push(Missing::Account(*a));
        }
        for (a, k) in &self.hot {
            keys.push(Missing::Storage(*a, *k));
        }
        for chunk in keys.chunks(WARM_IN_FLIGHT) {
            let mut fetches = Vec::with_capacity(chunk.len());
            for k in chunk {
                fetches.push(self.fetch(*k));
            }
            futures::future::try_join_all(fetches).await?;
        }
        Ok(())
    }

    fn rpc(&self, method: &'static str, source: alloy::transports::TransportError) -> Error {
        Error::Rpc { chain_id: self.chain_id, method, source }
    }

    /// Fetches one entry at the head into the cache.
    async fn fetch(&self, key: Missing) -> Result<(), Error> {
        let number = self.head.as_ref().ok_or(Error::NoHead)?.number;
        let at = BlockId::number(number);
        let p = &self.provider;
        match key {
            Missing::Account(a) => {
                let balance = p.get_balance(a).block_id(at).into_future();
                let nonce = p.get_transaction_count(a).block_id(at).into_future();
                let code = p.get_code_at(a).block_id(at).into_future();
                let (balance, nonce, code) = if self.in_turn {
                    (balance.await, nonce.await, code.await)
                } else {
                    futures::join!(balance, nonce, code)
                };
                let balance = balance.map_err(|e| self.rpc("eth_getBalance", e))?;
                let nonce = nonce.map_err(|e| self.rpc("eth_getTransactionCount", e))?;
                let code = code.map_err(|e| self.rpc("eth_getCode", e))?;
                self.state.put_account(a, balance, nonce, Bytecode::new_raw(code));
            }
            Missing::Storage(a, k) => {
                let v = p
                    .get_storage_at(a, k)
                    .block_id(at)
                    .await
                    .map_err(|e| self.rpc("eth_getStorageAt", e))?;
                self.state.write(|e| e.storage.insert((a, k), v));
            }
            Missing::BlockHash(n) => {
                let hash = p
                    .get_block_by_number(BlockNumberOrTag::Number(n))
                    .await
                    .map_err(|e| self.rpc("eth_getBlockByNumber", e))?
                    .map(|b| b.header.hash)
                    .unwrap_or_default();
                self.state.write(|e| e.hashes.insert(n, hash));
            }
            // code is only asked for by the hash of an account the cache
            // holds, with its code: the cache lost it (it was cleared)
            Missing::Code(h) => {
                return Err(Error::Invalid {
                    hash: B256::ZERO,
                    reason: format!("code {h} is not in the cache"),
                });
            }
        }
        Ok(())
    }

    /// Runs `tx` on `db` (not committed), fetching what the cache lacks and
    /// running again; `fetched` counts the fetches.
    async fn run(
        &mut self,
        db: &mut CacheDB<Cached>,
        tx: &TxEnv,
        hash: B256,
        fetched: &mut usize,
    ) -> Result<ResultAndState, Error> {
        let block = self.head.as_ref().ok_or(Error::NoHead)?.block.clone();
        loop {
            let chain_id = self.chain_id;
            // the EVM is not `Send`: it lives only until the outcome is known
            let outcome = Context::mainnet()
                .with_db(&mut *db)
                .with_block(block.clone())
                .modify_cfg_chained(|c| {
                    c.chain_id = chain_id;
                    c.spec = SpecId::PRAGUE;
                    c.disable_nonce_check = true;
                    c.disable_balance_check = true;
                    c.disable_base_fee = true;
                    c.disable_eip3607 = true;
                    c.disable_block_gas_limit = true;
                    c.memory_limit = MEMORY_LIMIT;
                })
                .build_mainnet()
                .transact(tx.clone());
            match outcome {
                Ok(r) => return Ok(r),
                Err(EVMError::Database(missing)) => {
                    *fetched += 1;
                    if *fetched > MAX_FETCHES {
                        return Err(Error::TooMuchState { hash });
                    }
                    self.fetch(missing).await?;
                    if let Missing::Storage(a, k) = missing
                        && self.warm.contains(&a)
                        && self.hot.len() < MAX_HOT
                    {
                        self.hot.insert((a, k));
                    }
                }
                Err(e) => return Err(Error::Invalid { hash, reason: e.to_string() }),
            }
        }
    }

    /// Simulates `tx` as the first transaction of the next block, then
    /// performs `reads` on the state it leaves.
    ///
    /// # Errors
    /// When the node does not answer, the transaction needs too much fresh
    /// state, or cannot run at all.
    pub async fn simulate(
        &mut self,
        tx: &alloy::rpc::types::Transaction,
        reads: &[StateRead],
    ) -> Result<Simulation, Error> {
        self.simulate_after(&[], tx, reads).await
    }

    /// Simulates `before` (the sender's pending transactions with the
    /// nonces below `tx`'s, in order; at most [`MAX_BEFORE`]) then `tx` at
    /// the start of the next block, and performs `reads` on the state they
    /// leave: an attack whose contract is deployed by a transaction still
    /// pending is judged with that contract in place. Each transaction has
    /// its own budget of [`MAX_FETCHES`] fresh state entries.
    ///
    /// # Errors
    /// As [`Self::simulate`]; [`Error::Before`] when one of `before` could
    /// not be simulated; [`Error::Invalid`] for more than [`MAX_BEFORE`].
    pub async fn simulate_after(
        &mut self,
        before: &[alloy::rpc::types::Transaction],
        tx: &alloy::rpc::types::Transaction,
        reads: &[StateRead],
    ) -> Result<Simulation, Error> {
        if self.state.read(|e| e.len()) > MAX_ENTRIES {
            // a long stretch without a new block: start again warm
            self.state = Cached::default();
            self.warm_up().await?;
        }
        let hash = *tx.inner.tx_hash();
        if before.len() > MAX_BEFORE {
            // the lowest nonces matter most (a deployment): never drop them
            return Err(Error::Invalid {
                hash,
                reason: format!(
                    "{} of its sender's pending transactions are ahead of it; at most {MAX_BEFORE} are run",
                    before.len()
                ),
            });
        }
        let mut total = 0;
        let mut touched = BTreeSet::new();
        let mut db = CacheDB::new(self.state.clone());
        let mut ran: Vec<TxData> = Vec::with_capacity(before.len());
        // log indices run across the block, as a receipt's do
        let mut logs = 0;
        for b in before {
            let mut fetched = 0;
            let r = self.execute(&mut db, b, &mut touched, &mut fetched).await;
            total += fetched;
            let (mut data, _) =
                r.map_err(|e| Error::Before { hash: *b.inner.tx_hash(), source: Box::new(e) })?;
            shift_logs(&mut data, &mut logs);
            ran.push(data);
        }
        let mut fetched = 0;
        let (mut data, revert) = self.execute(&mut db, tx, &mut touched, &mut fetched).await?;
        shift_logs(&mut data, &mut logs);
        let mut out = Vec::with_capacity(reads.len());
        for read in reads {
            out.push(self.read(&mut db, read, hash, &mut fetched).await?);
        }
        total += fetched;
        Ok(Simulation { tx: data, before: ran, revert, reads: out, touched, fetched: total })
    }

    /// The nonce of `account` at the head (fetched when not cached).
    ///
    /// # Errors
    /// When the node does not answer.
    pub async fn nonce(&mut self, account: Address) -> Result<u64, Error> {
        loop {
            match revm::DatabaseRef::basic_ref(&self.state, account) {
                Ok(info) => return Ok(info.map(|i| i.nonce).unwrap_or_default()),
                Err(missing) => self.fetch(missing).await?,
            }
        }
    }

    /// Runs `tx` on `db` and commits what it wrote; the transaction as a
    /// block holds it, and its revert data when it reverted.
    async fn execute(
        &mut self,
        db: &mut CacheDB<Cached>,
        tx: &alloy::rpc::types::Transaction,
        touched: &mut BTreeSet<Address>,
        fetched: &mut usize,
    ) -> Result<(TxData, Option<Bytes>), Error> {
        let hash = *tx.inner.tx_hash();
        let from = tx.inner.signer();
        let env = TxEnv {
            tx_type: tx.inner.tx_type() as u8,
            caller: from,
            gas_limit: tx.gas_limit(),
            gas_price: tx.max_fee_per_gas(),
            kind: tx.kind(),
            value: tx.value(),
            data: tx.input().clone(),
            nonce: tx.nonce(),
            chain_id: tx.chain_id(),
            access_list: tx.access_list().cloned().unwrap_or_default(),
            gas_priority_fee: tx.max_priority_fee_per_gas(),
            ..TxEnv::default()
        };
        let ResultAndState { result, state } = self.run(db, &env, hash, fetched).await?;
        touched.extend(state.keys().copied());
        revm::DatabaseCommit::commit(db, state);
        let (success, gas_used, logs, revert) = match result {
            ExecutionResult::Success { gas, logs, .. } => (true, gas.total_gas_spent(), logs, None),
            ExecutionResult::Revert { gas, output, .. } => {
                (false, gas.total_gas_spent(), Vec::new(), Some(output))
            }
            ExecutionResult::Halt { gas, .. } => {
                (false, gas.total_gas_spent(), Vec::new(), Some(Bytes::new()))
            }
        };
        let data = TxData {
            hash,
            from,
            nonce: tx.nonce(),
            by_firebreak: None,
            to: tx.kind().to().copied(),
            value: tx.value(),
            input: tx.input().clone(),
            success,
            gas_used,
            logs: logs
                .into_iter()
                .enumerate()
                .map(|(i, l)| LogData {
                    address: l.address,
                    topics: l.data.topics().to_vec(),
                    data: l.data.data,
                    index: i as u64,
                })
                .collect(),
        };
        Ok((data, revert))
    }

    /// One state read on `db` (the state a simulated transaction left).
    async fn read(
        &mut self,
        db: &mut CacheDB<Cached>,
        read: &StateRead,
        hash: B256,
        fetched: &mut usize,
    ) -> Result<Option<Bytes>, Error> {
        let (to, data) = match read {
            StateRead::EthBalance(a) => loop {
                match revm::Database::basic(db, *a) {
                    Ok(info) => {
                        let balance = info.map(|i| i.balance).unwrap_or_default();
                        return Ok(Some(Bytes::from(balance.to_be_bytes::<32>().to_vec())));
                    }
                    Err(missing) => {
                        *fetched += 1;
                        if *fetched > MAX_FETCHES {
                            return Err(Error::TooMuchState { hash });
                        }
                        self.fetch(missing).await?;
                    }
                }
            },
            StateRead::Call { to, data } => (*to, data.clone()),
        };
        let env = TxEnv {
            caller: Address::ZERO,
            gas_limit: READ_GAS,
            gas_price: 0,
            kind: TxKind::Call(to),
            data,
            chain_id: Some(self.chain_id),
            ..TxEnv::default()
        };
        let r = self.run(db, &env, hash, fetched).await?;
        Ok(match r.result {
            ExecutionResult::Success { output, .. } => Some(output.into_data()),
            _ => None,
        })
    }
}

/// Numbers `tx`'s logs after the `seen` logs of the transactions ahead of it.
fn shift_logs(tx: &mut TxData, seen: &mut u64) {
    for l in &mut tx.logs {
        l.index += *seen;
    }
    *seen += tx.logs.len() as u64;
}
