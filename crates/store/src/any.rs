//! [`AnyStore`]: the backend chosen at run time from `--db`, behind every
//! store trait, so that callers (the CLI, the daemon) are written once.

use alloy_primitives::{Address, B256};
use firebreak_primitives::{Actor, Alert, Event, IncidentId, IncidentStatus, StepStatus};
use futures::future::BoxFuture;

use crate::{
    ActionRecord, AlertOutcome, ApprovalRecord, BlockCommit, Checkpoint, Fence, Grouping, Incident,
    IncidentFilter, Lease, LeaseTable, OutboxMessage, Presigned, ReplicaBeat, Result,
    SafeSignature, StepState, StoredAlert, TimelineEntry,
    warroom::{
        Announcement, AnnouncementState, ManualIncident, NewAnnouncement, Session, TokenInfo,
    },
};

/// A store on SQLite or on PostgreSQL.
#[derive(Debug, Clone)]
pub enum AnyStore {
    /// One SQLite file.
    Sqlite(crate::SqliteStore),
    /// A PostgreSQL database (replicas).
    #[cfg(feature = "postgres")]
    Postgres(crate::PgStore),
}

impl AnyStore {
    /// Opens `db`: a `postgres://` or `postgresql://` URL connects to
    /// PostgreSQL, anything else is a SQLite file (created if missing).
    /// Either is migrated.
    ///
    /// # Errors
    /// When the database cannot be opened or migrated, or a PostgreSQL URL
    /// is given to a binary built without PostgreSQL.
    pub async fn open(db: &str) -> Result<Self> {
        if crate::is_postgres_url(db) {
            #[cfg(feature = "postgres")]
            return Ok(Self::Postgres(crate::PgStore::connect(db).await?));
            #[cfg(not(feature = "postgres"))]
            return Err(crate::Error::Open {
                path: crate::shown(db),
                source: "this firebreak was built without PostgreSQL (feature `postgres`)".into(),
            });
        }
        Ok(Self::Sqlite(crate::SqliteStore::open(db.as_ref()).await?))
    }

    /// The newest migration applied.
    ///
    /// # Errors
    /// When the database cannot be read.
    pub async fn schema_version(&self) -> Result<i64> {
        match self {
            Self::Sqlite(s) => s.schema_version().await,
            #[cfg(feature = "postgres")]
            Self::Postgres(s) => s.schema_version().await,
        }
    }

    /// Writes a consistent copy of a SQLite store to the new file `to`.
    /// PostgreSQL is backed up with its own tools (`pg_dump`).
    ///
    /// # Errors
    /// When the copy cannot be written, or the store is on PostgreSQL.
    pub async fn backup_to(&self, to: &std::path::Path) -> Result<()> {
        match self {
            Self::Sqlite(s) => s.backup_to(to).await,
            #[cfg(feature = "postgres")]
            Self::Postgres(_) => Err(crate::Error::Open {
                path: to.display().to_string(),
                source: "a PostgreSQL store is backed up with pg_dump (see docs/operations.md)"
                    .into(),
            }),
        }
    }

    /// Which backend, in a word (`sqlite`, `postgres`).
    pub fn backend(&self) -> &'static str {
        match self {
            Self::Sqlite(_) => "sqlite",
            #[cfg(feature = "postgres")]
            Self::Postgres(_) => "postgres",
        }
    }
}

/// Implements `$trait` for [`AnyStore`] by passing each call to the backend.
macro_rules! delegate {
    ($trait:ident { $( fn $name:ident $(<$lt:lifetime>)? (&$($sl:lifetime)? self $(, $arg:ident : $ty:ty)* $(,)?) -> $ret:ty; )* }) => {
        impl crate::$trait for AnyStore {
            $(
                fn $name $(<$lt>)? (&$($sl)? self $(, $arg: $ty)*) -> $ret {
                    match self {
                        Self::Sqlite(s) => s.$name($($arg),*),
                        #[cfg(feature = "postgres")]
                        Self::Postgres(s) => s.$name($($arg),*),
                    }
                }
            )*
        }
    };
}

delegate!(AlertStore {
    fn commit(&self, commit: BlockCommit) -> BoxFuture<'_, Result<Vec<bool>>>;
    fn checkpoint(&self, chain_id: u64) -> BoxFuture<'_, Result<Option<Checkpoint>>>;
    fn alerts(&self, chain_id: u64, from: u64) -> BoxFuture<'_, Result<Vec<StoredAlert>>>;
    fn sent_by_firebreak(&self, chain_id: u64, txs: Vec<crate::SentTx>) -> BoxFuture<'_, Result<Vec<bool>>>;
    fn approved_safe_txs(&self, chain_id: u64, hashes: Vec<B256>) -> BoxFuture<'_, Result<Vec<bool>>>;
    fn allow_safe_tx(&self, allowed: crate::AllowedSafeTx) -> BoxFuture<'_, Result<bool>>;
    fn allowed_safe_txs(&self, chain_id: u64) -> BoxFuture<'_, Result<Vec<crate::AllowedSafeTx>>>;
});

delegate!(IncidentRecords {
    fn record_alert<'a>(&'a self, alert: &'a Alert, grouping: &'a Grouping) -> BoxFuture<'a, Result<AlertOutcome>>;
    fn unlinked_alerts(&self, since_ms: u64) -> BoxFuture<'_, Result<Vec<Alert>>>;
    fn incident(&self, id: IncidentId) -> BoxFuture<'_, Result<Option<Incident>>>;
    fn incidents<'a>(&'a self, filter: &'a IncidentFilter) -> BoxFuture<'a, Result<Vec<Incident>>>;
    fn incident_alerts(&self, id: IncidentId) -> BoxFuture<'_, Result<Vec<Alert>>>;
    fn transition(&self, id: IncidentId, to: IncidentStatus, actor: Actor, note: Option<String>) -> BoxFuture<'_, Result<bool>>;
    fn lose_containment(&self, id: IncidentId, note: String) -> BoxFuture<'_, Result<bool>>;
});

delegate!(TimelineStore {
    fn append(&self, id: IncidentId, actor: Actor, event: Event) -> BoxFuture<'_, Result<TimelineEntry>>;
    fn append_once(&self, id: IncidentId, actor: Actor, event: Event) -> BoxFuture<'_, Result<(bool, TimelineEntry)>>;
    fn timeline(&self, id: IncidentId) -> BoxFuture<'_, Result<Vec<TimelineEntry>>>;
});

delegate!(StepStore {
    fn set_step(&self, id: IncidentId, step_id: &str, index: u32, status: StepStatus, detail: Option<String>) -> BoxFuture<'_, Result<StepState>>;
    fn steps(&self, id: IncidentId) -> BoxFuture<'_, Result<Vec<StepState>>>;
    fn decide(&self, id: IncidentId, step_id: &str, member: &str, approve: bool) -> BoxFuture<'_, Result<bool>>;
    fn approvals(&self, id: IncidentId) -> BoxFuture<'_, Result<Vec<ApprovalRecord>>>;
});

delegate!(ActionStore {
    fn put_action(&self, action: ActionRecord, event: Option<Event>) -> BoxFuture<'_, Result<()>>;
    fn put_action_fenced<'a>(&'a self, action: ActionRecord, event: Option<Event>, fence: &'a Fence) -> BoxFuture<'a, Result<()>>;
    fn action<'a>(&'a self, key: &'a firebreak_primitives::ActionKey) -> BoxFuture<'a, Result<Option<ActionRecord>>>;
    fn actions(&self, id: IncidentId) -> BoxFuture<'_, Result<Vec<ActionRecord>>>;
    fn add_signature(&self, signature: SafeSignature, incident: Option<(IncidentId, Actor)>) -> BoxFuture<'_, Result<bool>>;
    fn signatures(&self, safe_tx_hash: B256) -> BoxFuture<'_, Result<Vec<SafeSignature>>>;
    fn put_presigned(&self, presigned: Presigned) -> BoxFuture<'_, Result<()>>;
    fn presigned(&self, chain_id: u64, safe: Address) -> BoxFuture<'_, Result<Vec<Presigned>>>;
});

delegate!(OutboxStore {
    fn enqueue(&self, message: OutboxMessage) -> BoxFuture<'_, Result<bool>>;
    fn outbox_changes(&self) -> Option<tokio::sync::watch::Receiver<u64>>;
    fn due_messages(&self, now_ms: u64, limit: u32) -> BoxFuture<'_, Result<Vec<OutboxMessage>>>;
    fn claim_due<'a>(&'a self, holder: &'a str, now_ms: u64, limit: u32, claim_ms: u64) -> BoxFuture<'a, Result<Vec<OutboxMessage>>>;
    fn delivered(&self, id: u64, attempts: u32) -> BoxFuture<'_, Result<()>>;
    fn attempt_failed(&self, id: u64, attempts: u32, error: String, next_at_ms: Option<u64>) -> BoxFuture<'_, Result<()>>;
    fn outbox(&self, incident: Option<IncidentId>) -> BoxFuture<'_, Result<Vec<OutboxMessage>>>;
});

delegate!(WarRoomStore {
    fn create_token<'a>(&'a self, member: &'a str, label: &'a str, hash: &'a str) -> BoxFuture<'a, Result<TokenInfo>>;
    fn tokens(&self) -> BoxFuture<'_, Result<Vec<TokenInfo>>>;
    fn revoke_token(&self, id: u64) -> BoxFuture<'_, Result<bool>>;
    fn token_by_hash<'a>(&'a self, hash: &'a str) -> BoxFuture<'a, Result<Option<TokenInfo>>>;
    fn create_session<'a>(&'a self, hash: &'a str, session: &'a Session) -> BoxFuture<'a, Result<()>>;
    fn session<'a>(&'a self, hash: &'a str, now_ms: u64) -> BoxFuture<'a, Result<Option<Session>>>;
    fn end_session<'a>(&'a self, hash: &'a str) -> BoxFuture<'a, Result<()>>;
    fn draft_announcement(&self, draft: NewAnnouncement) -> BoxFuture<'_, Result<Announcement>>;
    fn announcement(&self, id: u64) -> BoxFuture<'_, Result<Option<Announcement>>>;
    fn announcements(&self, incident: Option<IncidentId>, published_only: bool) -> BoxFuture<'_, Result<Vec<Announcement>>>;
    fn advance_announcement<'a>(&'a self, id: u64, from: AnnouncementState, member: &'a str) -> BoxFuture<'a, Result<Option<Announcement>>>;
    fn open_manual(&self, incident: ManualIncident) -> BoxFuture<'_, Result<IncidentId>>;
});

delegate!(ReplicaStore {
    fn beat<'a>(&'a self, beat: &'a ReplicaBeat) -> BoxFuture<'a, Result<()>>;
    fn replicas(&self) -> BoxFuture<'_, Result<Vec<ReplicaBeat>>>;
});

delegate!(LeaseStore {
    fn acquire_lease<'a>(&'a self, name: &'a str, holder: &'a str, ttl_ms: u64) -> BoxFuture<'a, Result<Option<Lease>>>;
    fn acquire_leases<'a>(&'a self, names: &'a [String], holder: &'a str, ttl_ms: u64) -> BoxFuture<'a, Result<Option<Vec<Lease>>>>;
    fn release_lease<'a>(&'a self, name: &'a str, holder: &'a str) -> BoxFuture<'a, Result<()>>;
    fn leases(&self) -> BoxFuture<'_, Result<LeaseTable>>;
    fn exclusive(&self) -> bool;
    fn expire_others<'a>(&'a self, holder: &'a str) -> BoxFuture<'a, Result<()>>;
});

delegate!(Wakeups {
    fn announce_drive(&self, id: IncidentId) -> BoxFuture<'_, Result<()>>;
    fn drive_requests(&self) -> BoxFuture<'_, Result<Option<futures::stream::BoxStream<'static, IncidentId>>>>;
});

impl crate::OwnPool for AnyStore {
    fn own_pool(&self) -> BoxFuture<'_, Result<Self>> {
        Box::pin(async move {
            Ok(match self {
                Self::Sqlite(s) => Self::Sqlite(s.with_own_pool().await?),
                #[cfg(feature = "postgres")]
                Self::Postgres(s) => Self::Postgres(crate::OwnPool::own_pool(s).await?),
            })
        })
    }
}
