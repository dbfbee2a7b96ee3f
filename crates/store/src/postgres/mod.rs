//! The PostgreSQL store: for teams that run several replicas on the
//! database they already operate. Migrations in `migrations/postgres` are
//! applied on connect, under PostgreSQL's own advisory lock (sqlx), so
//! replicas starting at once migrate in turn.
//!
//! It holds everything the SQLite store holds, behind the same traits:
//! alerts and checkpoints ([`AlertStore`]), incidents with their timelines,
//! steps, actions and outbox (`crate::IncidentStore`, the same SQL source
//! as SQLite's, `../sql/`), the war room's tokens, sessions and
//! announcements, and the replicas' heartbeats ([`crate::ReplicaStore`]).
//!
//! Several replicas write at once here, where SQLite has one writer: the
//! writes of one incident take turns on its row (`SELECT … FOR UPDATE`), so
//! its timeline stays gap-free and hash-chained; grouping alerts into
//! incidents takes a transaction-scoped advisory lock, so one attack opens
//! one incident.

use futures::future::BoxFuture;
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};

use crate::alerts::{Error, Result};

/// The database's clock, unix milliseconds, in SQL.
macro_rules! now_ms {
    () => {
        "CAST(EXTRACT(EPOCH FROM clock_timestamp()) * 1000 AS BIGINT)"
    };
}

/// Locks the rows read until the transaction ends, where the backend can.
macro_rules! for_update {
    () => {
        " FOR UPDATE"
    };
}

/// Skips rows another transaction has locked, where the backend can.
macro_rules! skip_locked {
    () => {
        " FOR UPDATE SKIP LOCKED"
    };
}

mod alerts;
mod incidents;
mod leases;
mod warroom;

pub(super) fn q(what: &'static str) -> impl FnOnce(sqlx::Error) -> Error {
    move |e| Error::Query { what, source: Box::new(e) }
}

/// A write transaction.
pub(super) struct Tx {
    tx: sqlx::Transaction<'static, sqlx::Postgres>,
}

impl std::ops::Deref for Tx {
    type Target = sqlx::PgConnection;
    fn deref(&self) -> &sqlx::PgConnection {
        &self.tx
    }
}

impl std::ops::DerefMut for Tx {
    fn deref_mut(&mut self) -> &mut sqlx::PgConnection {
        &mut self.tx
    }
}

impl Tx {
    pub(super) async fn commit(self) -> std::result::Result<(), sqlx::Error> {
        self.tx.commit().await
    }
}

/// Takes the incident's row lock until the transaction ends: the writers of
/// one incident, on any replica, take turns.
pub(super) async fn lock_incident(tx: &mut Tx, id: i64) -> Result<()> {
    sqlx::query("SELECT 1 FROM incidents WHERE id = $1 FOR UPDATE")
        .bind(id)
        .execute(&mut **tx)
        .await
        .map_err(q("lock incident"))?;
    Ok(())
}

/// The advisory lock key of alert grouping (any constant firebreak owns).
const GROUPING_LOCK: i64 = 0x6669_7265_6272_6b01;

/// Takes the grouping lock until the transaction ends.
pub(super) async fn serialise_grouping(tx: &mut Tx) -> Result<()> {
    sqlx::query("SELECT pg_advisory_xact_lock($1)")
        .bind(GROUPING_LOCK)
        .execute(&mut **tx)
        .await
        .map_err(q("lock grouping"))?;
    Ok(())
}

pub(super) fn i64_of(v: u64, what: &'static str) -> Result<i64> {
    i64::try_from(v).map_err(|_| Error::Corrupt {
        what,
        detail: format!("{v} does not fit a signed 64-bit column"),
    })
}

/// The PostgreSQL store.
#[derive(Debug, Clone)]
pub struct PgStore {
    pool: PgPool,
    options: PgConnectOptions,
    /// Moves on every message this handle queues: wakes the courier at once.
    outbox: std::sync::Arc<tokio::sync::watch::Sender<u64>>,
}

impl PgStore {
    /// Connects to `url` (`postgres://user@host:port/db`) and migrates.
    /// The URL is never shown in an error: it may carry a password.
    ///
    /// # Errors
    /// When the database cannot be reached or migrated.
    pub async fn connect(url: &str) -> Result<Self> {
        let shown = crate::shown(url);
        let open = |e: sqlx::Error| Error::Open {
            path: shown.clone(),
            source: Box::new(std::io::Error::other(firebreak_primitives::redact(&e.to_string()))),
        };
        let options: PgConnectOptions = url.parse().map_err(&open)?;
        // a transaction left open by a replica cut off mid-way is ended by
        // the server, so the rows it locked (a lease) are free for others
        // and every commit is durable before firebreak acts on it (the
        // write-ahead record of a signed transaction must survive a crash of
        // the server), whatever the server's default for this session
        let options = options
            .options([("idle_in_transaction_session_timeout", "5s"), ("synchronous_commit", "on")]);
        // one connection first: its error says what is wrong (refused,
        // authentication, no such database) where the pool would only time out
        sqlx::Connection::close(
            <sqlx::postgres::PgConnection as sqlx::Connection>::connect_with(&options)
                .await
                .map_err(&open)?,
        )
        .await
        .map_err(&open)?;
        let pool = Self::pool(options.clone()).await.map_err(open)?;
        let migrator = sqlx::migrate!("./migrations/postgres");
        if let Err(e) = migrator.run(&pool).await {
            let known = migrator.iter().map(|m| m.version).max().unwrap_or_default();
            return Err(match e {
                sqlx::migrate::MigrateError::VersionMissing(found) => {
                    Error::NewerSchema { path: shown, found, known }
                }
                other => Error::Open { path: shown, source: Box::new(other) },
            });
        }
        Ok(Self { pool, options, outbox: std::sync::Arc::new(tokio::sync::watch::Sender::new(0)) })
    }

    async fn pool(options: PgConnectOptions) -> std::result::Result<PgPool, sqlx::Error> {
        PgPoolOptions::new()
            .max_connections(8)
            .acquire_timeout(std::time::Duration::from_secs(10))
            .connect_with(options)
            .await
    }

    /// The newest migration applied.
    ///
    /// # Errors
    /// When the database cannot be read.
    pub async fn schema_version(&self) -> Result<i64> {
        sqlx::query_scalar("SELECT MAX(version) FROM _sqlx_migrations")
            .fetch_one(&self.pool)
            .await
            .map_err(q("read schema version"))
    }

    /// A write transaction.
    pub(super) async fn write(&self) -> Result<Tx> {
        Ok(Tx { tx: self.pool.begin().await.map_err(q("begin"))? })
    }
}

impl crate::Wakeups for PgStore {
    fn announce_drive(&self, id: firebreak_primitives::IncidentId) -> BoxFuture<'_, Result<()>> {
        Box::pin(async move {
            sqlx::query("SELECT pg_notify($1, $2)")
                .bind(crate::DRIVE_CHANNEL)
                .bind(id.0.to_string())
                .execute(&self.pool)
                .await
                .map_err(q("notify"))?;
            Ok(())
        })
    }

    fn drive_requests(
        &self,
    ) -> BoxFuture<
        '_,
        Result<Option<futures::stream::BoxStream<'static, firebreak_primitives::IncidentId>>>,
    > {
        use futures::StreamExt as _;
        Box::pin(async move {
            // a connection of its own, reconnected by sqlx when lost
            let mut listener =
                sqlx::postgres::PgListener::connect_with(&self.pool).await.map_err(q("listen"))?;
            listener.listen(crate::DRIVE_CHANNEL).await.map_err(q("listen"))?;
            let requests = listener.into_stream().filter_map(|n| {
                std::future::ready(
                    n.ok()
                        .and_then(|n| n.payload().parse::<u64>().ok())
                        .map(firebreak_primitives::IncidentId),
                )
            });
            Ok(Some(requests.boxed()))
        })
    }
}

impl crate::OwnPool for PgStore {
    fn own_pool(&self) -> BoxFuture<'_, Result<Self>> {
        Box::pin(async move {
            let pool = Self::pool(self.options.clone()).await.map_err(|e| Error::Open {
                path: "the PostgreSQL database".to_owned(),
                source: Box::new(std::io::Error::other(firebreak_primitives::redact(
                    &e.to_string(),
                ))),
            })?;
            Ok(Self { pool, ..self.clone() })
        })
    }
}
