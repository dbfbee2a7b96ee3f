//! The PostgreSQL store: for teams that run several replicas on the
//! database they already operate. Migrations in `migrations/postgres` are
//! applied on connect, under PostgreSQL's own advisory lock (sqlx), so
//! replicas starting at once migrate in turn.
//!
//! Today it holds the alerts and the per-chain checkpoints
//! ([`AlertStore`]) and the replicas' heartbeats
//! ([`crate::ReplicaStore`]); incidents follow behind the same traits.

use futures::future::BoxFuture;
use sqlx::{
    Row,
    postgres::{PgPool, PgPoolOptions},
};

use crate::alerts::{AlertStore, BlockCommit, Checkpoint, Error, Result, StoredAlert};

fn q(what: &'static str) -> impl FnOnce(sqlx::Error) -> Error {
    move |e| Error::Query { what, source: Box::new(e) }
}

fn i64_of(v: u64, what: &'static str) -> Result<i64> {
    i64::try_from(v).map_err(|_| Error::Corrupt {
        what,
        detail: format!("{v} does not fit a signed 64-bit column"),
    })
}

/// The PostgreSQL store.
#[derive(Debug, Clone)]
pub struct PgStore {
    pool: PgPool,
}

impl PgStore {
    /// Connects to `url` (`postgres://user@host:port/db`) and migrates.
    /// The URL is never shown in an error: it may carry a password.
    ///
    /// # Errors
    /// When the database cannot be reached or migrated.
    pub async fn connect(url: &str) -> Result<Self> {
        let shown = "the PostgreSQL database".to_owned();
        let open = |e: sqlx::Error| Error::Open {
            path: shown.clone(),
            source: Box::new(std::io::Error::other(firebreak_primitives::redact(&e.to_string()))),
        };
        let pool = PgPoolOptions::new()
            .max_connections(8)
            .acquire_timeout(std::time::Duration::from_secs(10))
            .connect(url)
            .await
            .map_err(open)?;
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
        Ok(Self { pool })
    }
}

impl AlertStore for PgStore {
    fn commit(&self, commit: BlockCommit) -> BoxFuture<'_, Result<Vec<bool>>> {
        Box::pin(async move {
            let mut tx = self.pool.begin().await.map_err(q("begin"))?;
            let mut fresh = Vec::with_capacity(commit.alerts.len());
            for a in &commit.alerts {
                let body = serde_json::to_string(a)
                    .map_err(|e| Error::Corrupt { what: "alert", detail: e.to_string() })?;
                let done = sqlx::query(
                    "INSERT INTO alerts (dedup_key, monitor, severity, chain_id, block_number, \
                     block_hash, body) VALUES ($1, $2, $3, $4, $5, $6, $7) \
                     ON CONFLICT (dedup_key) DO NOTHING",
                )
                .bind(&a.dedup_key)
                .bind(&a.monitor)
                .bind(a.severity.as_str())
                .bind(i64_of(a.chain_id, "chain id")?)
                .bind(i64_of(a.block_number, "block number")?)
                .bind(a.block_hash.to_string())
                .bind(body)
                .execute(&mut *tx)
                .await
                .map_err(q("insert alert"))?;
                fresh.push(done.rows_affected() == 1);
            }
            for key in &commit.retracted {
                sqlx::query("UPDATE alerts SET retracted = true WHERE dedup_key = $1")
                    .bind(key)
                    .execute(&mut *tx)
                    .await
                    .map_err(q("retract alert"))?;
            }
            let c = commit.checkpoint;
            sqlx::query(
                "INSERT INTO checkpoints (chain_id, number, hash) VALUES ($1, $2, $3) \
                 ON CONFLICT (chain_id) DO UPDATE SET number = excluded.number, \
                 hash = excluded.hash, updated_at = now()",
            )
            .bind(i64_of(c.chain_id, "chain id")?)
            .bind(i64_of(c.number, "block number")?)
            .bind(c.hash.to_string())
            .execute(&mut *tx)
            .await
            .map_err(q("checkpoint"))?;
            tx.commit().await.map_err(q("commit"))?;
            Ok(fresh)
        })
    }

    fn checkpoint(&self, chain_id: u64) -> BoxFuture<'_, Result<Option<Checkpoint>>> {
        Box::pin(async move {
            let row = sqlx::query("SELECT number, hash FROM checkpoints WHERE chain_id = $1")
                .bind(i64_of(chain_id, "chain id")?)
                .fetch_optional(&self.pool)
                .await
                .map_err(q("read checkpoint"))?;
            let Some(row) = row else { return Ok(None) };
            let number: i64 = row.try_get("number").map_err(q("read checkpoint"))?;
            let hash: String = row.try_get("hash").map_err(q("read checkpoint"))?;
            crate::rows::checkpoint(chain_id, number, &hash).map(Some)
        })
    }

    fn alerts(&self, chain_id: u64, from: u64) -> BoxFuture<'_, Result<Vec<StoredAlert>>> {
        Box::pin(async move {
            let rows = sqlx::query(
                "SELECT body, retracted FROM alerts WHERE chain_id = $1 AND block_number >= $2 \
                 ORDER BY block_number, id",
            )
            .bind(i64_of(chain_id, "chain id")?)
            .bind(i64_of(from, "block number")?)
            .fetch_all(&self.pool)
            .await
            .map_err(q("read alerts"))?;
            rows.into_iter()
                .map(|row| {
                    let body: String = row.try_get("body").map_err(q("read alerts"))?;
                    let retracted: bool = row.try_get("retracted").map_err(q("read alerts"))?;
                    crate::rows::stored_alert(&body, retracted)
                })
                .collect()
        })
    }
}

impl crate::ReplicaStore for PgStore {
    fn beat<'a>(&'a self, beat: &'a crate::ReplicaBeat) -> BoxFuture<'a, Result<()>> {
        Box::pin(async move {
            let body = crate::rows::beat_body(beat)?;
            sqlx::query(
                "INSERT INTO replicas (replica, beat_ms, body) VALUES ($1, $2, $3) \
                 ON CONFLICT (replica) DO UPDATE SET beat_ms = excluded.beat_ms, body = excluded.body",
            )
            .bind(&beat.replica)
            .bind(i64_of(beat.beat_ms, "time")?)
            .bind(body)
            .execute(&self.pool)
            .await
            .map_err(q("record heartbeat"))?;
            Ok(())
        })
    }

    fn replicas(&self) -> BoxFuture<'_, Result<Vec<crate::ReplicaBeat>>> {
        Box::pin(async move {
            let rows = sqlx::query("SELECT body FROM replicas ORDER BY beat_ms DESC")
                .fetch_all(&self.pool)
                .await
                .map_err(q("read replicas"))?;
            rows.iter()
                .map(|row| {
                    let body: String = row.try_get("body").map_err(q("read replicas"))?;
                    crate::rows::beat(&body)
                })
                .collect()
        })
    }
}
