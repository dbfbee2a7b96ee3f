//! firebreak's durable store.
//!
//! Owns what must survive a restart: every alert reported (once per dedup
//! key) and, per chain, the checkpoint of the last block whose alerts are all
//! stored. A block's alerts, the retractions a reorg caused and the new
//! checkpoint are written in one transaction, so the checkpoint is never ahead
//! of its alerts. Incidents, their hash-chained timelines, steps, actions and
//! the outbox sit behind narrow traits ([`IncidentRecords`],
//! [`TimelineStore`], [`StepStore`], [`ActionStore`], [`OutboxStore`]; all
//! of them make [`IncidentStore`]). The traits are free of sqlx types so that
//! other backends (PostgreSQL) can pass the same tests. It never decides
//! what to do, and never says in words what an entry means (that is
//! `firebreak_primitives::Event`'s).
//!
//! # Feature flags
//! - `sqlite` (default): [`SqliteStore`], an embedded file in WAL mode.
//! - `postgres`: `PgStore`, on a PostgreSQL database that several replicas
//!   share. Both backends run one SQL source for incidents and the war room
//!   (`src/sql/`, compiled once per backend).
//!
//! # Example
//! ```no_run
//! # async fn demo() -> Result<(), firebreak_store::Error> {
//! use firebreak_store::{AlertStore, SqliteStore};
//! let store = SqliteStore::open("firebreak.db".as_ref()).await?;
//! println!("{:?}", store.checkpoint(1).await?);
//! # Ok(()) }
//! ```
#![cfg_attr(not(test), warn(unused_crate_dependencies))]

mod alerts;
mod incidents;
mod leases;
#[cfg(feature = "postgres")]
mod postgres;
mod replicas;
mod rows;
#[cfg(feature = "sqlite")]
mod sqlite;
pub mod timeline;
mod warroom;

pub use alerts::{AlertStore, BlockCommit, Checkpoint, Error, Result, StoredAlert};
pub use incidents::{
    ActionKind, ActionRecord, ActionStatus, ActionStore, AlertOutcome, ApprovalRecord, Grouping,
    Incident, IncidentFilter, IncidentRecords, IncidentStore, OutboxMessage, OutboxStore,
    Presigned, SafeSignature, StepState, StepStore, TimelineStore, TxAttempt,
};

/// Every store trait, to bring their methods into scope:
/// `use firebreak_store::prelude::*;`.
pub mod prelude {
    pub use crate::{
        ActionStore as _, AlertStore as _, IncidentRecords as _, IncidentStore as _,
        LeaseStore as _, OutboxStore as _, ReplicaStore as _, StepStore as _, TimelineStore as _,
    };
}
#[cfg(feature = "postgres")]
pub use postgres::PgStore;
#[cfg(feature = "sqlite")]
pub use sqlite::SqliteStore;

/// A store that can open another handle on the same data with connections
/// of its own, so that one user (the war room) never holds up another (the
/// executor) waiting for a connection.
pub trait OwnPool: Sized + Send + Sync {
    /// The other handle.
    fn own_pool(&self) -> futures::future::BoxFuture<'_, Result<Self>>;
}
pub use leases::{Fence, Lease, LeaseStore, LeaseTable, signer_lease};
pub use replicas::{ChainBeat, ReplicaBeat, ReplicaStore};
pub use timeline::{ChainBreak, TimelineEntry, verify_chain, verify_incident};
pub use warroom::{
    Announcement, AnnouncementState, ManualIncident, NewAnnouncement, Session, TokenInfo,
    WarRoomStore,
};

use firebreak_primitives::now_ms;
