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
#[cfg(feature = "sqlite")]
mod any;
mod incidents;
mod leases;
#[cfg(feature = "postgres")]
mod postgres;
mod replicas;
mod rows;
#[cfg(feature = "sqlite")]
mod sqlite;
pub mod timeline;
mod wake;
mod warroom;

pub use alerts::{
    AlertStore, AllowedSafeTx, BlockCommit, Checkpoint, Error, Result, SentTx, StoredAlert,
};
#[cfg(feature = "sqlite")]
pub use any::AnyStore;
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
        Wakeups as _, WarRoomStore as _,
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
pub use wake::{DRIVE_CHANNEL, Wakeups};
pub use warroom::{
    Announcement, AnnouncementState, ManualIncident, NewAnnouncement, Session, TokenInfo,
    WarRoomStore,
};

use firebreak_primitives::now_ms;

/// Whether `db` names a PostgreSQL database.
pub fn is_postgres_url(db: &str) -> bool {
    db.starts_with("postgres://") || db.starts_with("postgresql://")
}

/// `db` as it may be shown: a PostgreSQL URL without its password.
pub fn shown(db: &str) -> String {
    if !is_postgres_url(db) {
        return db.to_owned();
    }
    let (scheme, rest) = db.split_once("://").unwrap_or(("postgres", db));
    let (authority, tail) = match rest.find(['/', '?']) {
        Some(i) => rest.split_at(i),
        None => (rest, ""),
    };
    let tail = tail.split_once('?').map_or(tail, |(path, _)| path);
    let authority = match authority.rsplit_once('@') {
        Some((user, host)) => {
            let user = user.split_once(':').map_or(user, |(u, _)| u);
            format!("{user}@{host}")
        }
        None => authority.to_owned(),
    };
    format!("{scheme}://{authority}{tail}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_postgres_url_is_shown_without_its_password() {
        assert_eq!(
            shown("postgres://firebreak:s3cret@db.internal:5432/fb?sslmode=require"),
            "postgres://firebreak@db.internal:5432/fb"
        );
        assert_eq!(shown("postgresql://db:5432/fb"), "postgresql://db:5432/fb");
        assert_eq!(shown("postgres://u:p%40ss@h/d"), "postgres://u@h/d");
        assert_eq!(shown("/var/lib/firebreak/firebreak.db"), "/var/lib/firebreak/firebreak.db");
    }
}
