//! Leases: which replica may act for a signer. A lease row names its holder,
//! an epoch (the fencing token) and when it runs out, in the database's own
//! clock so that replicas on several machines agree. Taking a lease that ran
//! out, or one nobody held, moves its epoch on; every action write of the
//! holder carries its [`Fence`] and is refused, in the same transaction,
//! when the epoch is no longer the lease's or the lease ran out. A replica
//! that lost its lease can therefore record nothing new, and it broadcasts
//! only what it recorded first.

use futures::future::BoxFuture;
use serde::{Deserialize, Serialize};

use crate::Result;

/// A lease as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Lease {
    /// What it covers (`signer:CHAIN_ID:ADDRESS`).
    pub name: String,
    /// The replica holding it.
    pub holder: String,
    /// The fencing token: moves on whenever the lease changes hands or is
    /// taken again after running out.
    pub epoch: u64,
    /// When it runs out (unix ms, the database's clock).
    pub expires_ms: u64,
}

impl Lease {
    /// The fence an action write of the holder carries.
    pub fn fence(&self) -> Fence {
        Fence { name: self.name.clone(), holder: self.holder.clone(), epoch: self.epoch }
    }
}

/// What a fenced write proves: its writer holds lease `name` at `epoch`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Fence {
    /// The lease.
    pub name: String,
    /// The writer.
    pub holder: String,
    /// The epoch the writer holds.
    pub epoch: u64,
}

/// Every lease, with the database's clock at the time of reading.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LeaseTable {
    /// The database's clock (unix ms) when read: a lease with
    /// `expires_ms < now_ms` is held by nobody.
    pub now_ms: u64,
    /// Every lease, by name.
    pub leases: Vec<Lease>,
}

/// The lease of the signing key `address` on chain `chain_id`.
pub fn signer_lease(chain_id: u64, address: alloy_primitives::Address) -> String {
    format!("signer:{chain_id}:{address}")
}

/// Leases and fencing.
pub trait LeaseStore: Send + Sync + std::fmt::Debug {
    /// Takes lease `name` for `holder` until `ttl_ms` from now (the
    /// database's clock), or renews it when `holder` has it. `None` when
    /// another holder's lease has not run out.
    fn acquire_lease<'a>(
        &'a self,
        name: &'a str,
        holder: &'a str,
        ttl_ms: u64,
    ) -> BoxFuture<'a, Result<Option<Lease>>>;

    /// Takes or renews every lease of `names`, in that order, in one
    /// transaction: all of them (`Some`, in order), or none when another
    /// holder's lease among them has not run out (`None`, nothing changed).
    fn acquire_leases<'a>(
        &'a self,
        names: &'a [String],
        holder: &'a str,
        ttl_ms: u64,
    ) -> BoxFuture<'a, Result<Option<Vec<Lease>>>>;

    /// Lets lease `name` run out now, if `holder` has it (a replica
    /// stopping hands its signers over at once).
    fn release_lease<'a>(&'a self, name: &'a str, holder: &'a str) -> BoxFuture<'a, Result<()>>;

    /// Every lease.
    fn leases(&self) -> BoxFuture<'_, Result<LeaseTable>>;

    /// Whether at most one daemon uses this store at a time (SQLite: the
    /// daemon lock on the file), so that a daemon starting may take every
    /// lease at once: whoever held them is gone.
    fn exclusive(&self) -> bool;

    /// Lets every lease not held by `holder` run out now (a daemon starting
    /// on an [`LeaseStore::exclusive`] store after a crash of the last one).
    fn expire_others<'a>(&'a self, holder: &'a str) -> BoxFuture<'a, Result<()>>;
}
