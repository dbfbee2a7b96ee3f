// [`AlertStore`] and [`crate::ReplicaStore`] in SQL that SQLite and
// PostgreSQL both read, compiled once per backend like `incidents.rs`
// beside it; `rowid!` and `now_ts!` (the `updated_at` timestamp) are the
// backend's.

use futures::future::BoxFuture;
use sqlx::Row;

use super::incidents::insert_alert;
use crate::alerts::{
    AlertStore, AllowedSafeTx, BlockCommit, Checkpoint, Result, SentTx, StoredAlert,
};

impl AlertStore for Store {
    fn commit(&self, commit: BlockCommit) -> BoxFuture<'_, Result<Vec<bool>>> {
        Box::pin(async move {
            let mut tx = self.write().await?;
            let mut fresh = Vec::with_capacity(commit.alerts.len());
            for a in &commit.alerts {
                fresh.push(insert_alert(&mut tx, a).await?);
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
                concat!(
                    "INSERT INTO checkpoints (chain_id, number, hash) VALUES ($1, $2, $3) \
                     ON CONFLICT (chain_id) DO UPDATE SET number = excluded.number, \
                     hash = excluded.hash, updated_at = ",
                    now_ts!()
                ),
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

    fn sent_by_firebreak(
        &self,
        chain_id: u64,
        txs: Vec<SentTx>,
    ) -> BoxFuture<'_, Result<Vec<bool>>> {
        Box::pin(async move {
            let mut out = Vec::with_capacity(txs.len());
            for t in txs {
                let rows = sqlx::query(
                    "SELECT attempts FROM actions WHERE chain_id = $1 AND sender = $2 AND nonce = $3",
                )
                .bind(i64_of(chain_id, "chain id")?)
                .bind(t.from.to_string())
                .bind(i64_of(t.nonce, "nonce")?)
                .fetch_all(&self.pool)
                .await
                .map_err(q("read actions by sender"))?;
                let mut ours = false;
                for row in rows {
                    let text: String = row.try_get("attempts").map_err(q("read actions"))?;
                    let attempts: Vec<crate::TxAttempt> = serde_json::from_str(&text)
                        .map_err(|e| super::incidents::corrupt("action", e))?;
                    // signed here: the hash must be one of ours; signed by
                    // the node (an impersonated drill account): the nonce
                    // was reserved before it was sent
                    ours |= attempts.is_empty()
                        || attempts.iter().any(|a| a.hash == t.hash || a.raw.is_empty());
                }
                out.push(ours);
            }
            Ok(out)
        })
    }

    fn approved_safe_txs(
        &self,
        chain_id: u64,
        hashes: Vec<alloy_primitives::B256>,
    ) -> BoxFuture<'_, Result<Vec<bool>>> {
        Box::pin(async move {
            let chain = i64_of(chain_id, "chain id")?;
            let mut out = Vec::with_capacity(hashes.len());
            for h in hashes {
                let found: Option<i32> = sqlx::query_scalar(
                    "SELECT 1 FROM safe_tx_allow WHERE chain_id = $1 AND safe_tx_hash = $2 \
                     UNION ALL SELECT 1 FROM actions WHERE chain_id = $1 AND safe_tx_hash = $2 \
                     UNION ALL SELECT 1 FROM presigned WHERE chain_id = $1 AND safe_tx_hash = $2 \
                     LIMIT 1",
                )
                .bind(chain)
                .bind(h.to_string())
                .fetch_optional(&self.pool)
                .await
                .map_err(q("read approved SafeTx hashes"))?;
                out.push(found.is_some());
            }
            Ok(out)
        })
    }

    fn allow_safe_tx(&self, a: AllowedSafeTx) -> BoxFuture<'_, Result<bool>> {
        Box::pin(async move {
            let done = sqlx::query(
                "INSERT INTO safe_tx_allow (chain_id, safe, safe_tx_hash, member, reason, at_ms) \
                 VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (chain_id, safe_tx_hash) DO NOTHING",
            )
            .bind(i64_of(a.chain_id, "chain id")?)
            .bind(a.safe.to_string())
            .bind(a.safe_tx_hash.to_string())
            .bind(&a.member)
            .bind(firebreak_primitives::redact(&a.reason))
            .bind(i64_of(a.at_ms, "time")?)
            .execute(&self.pool)
            .await
            .map_err(q("allow SafeTx hash"))?;
            Ok(done.rows_affected() == 1)
        })
    }

    fn allowed_safe_txs(&self, chain_id: u64) -> BoxFuture<'_, Result<Vec<AllowedSafeTx>>> {
        Box::pin(async move {
            let rows = sqlx::query(
                "SELECT safe, safe_tx_hash, member, reason, at_ms FROM safe_tx_allow \
                 WHERE chain_id = $1 ORDER BY at_ms, safe_tx_hash",
            )
            .bind(i64_of(chain_id, "chain id")?)
            .fetch_all(&self.pool)
            .await
            .map_err(q("read the SafeTx allow-list"))?;
            let mut out = Vec::with_capacity(rows.len());
            for row in &rows {
                let text = |c: &str| -> Result<String> {
                    row.try_get::<String, _>(c).map_err(q("read the SafeTx allow-list"))
                };
                let bad = |e: String| super::incidents::corrupt("allowed SafeTx", e);
                let at: i64 = row.try_get("at_ms").map_err(q("read the SafeTx allow-list"))?;
                out.push(AllowedSafeTx {
                    chain_id,
                    safe: text("safe")?.parse().map_err(|e: alloy_primitives::hex::FromHexError| bad(e.to_string()))?,
                    safe_tx_hash: text("safe_tx_hash")?.parse().map_err(|e: alloy_primitives::hex::FromHexError| bad(e.to_string()))?,
                    member: text("member")?,
                    reason: text("reason")?,
                    at_ms: u64::try_from(at).unwrap_or_default(),
                });
            }
            Ok(out)
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
                concat!(
                    "SELECT body, CAST(CASE WHEN retracted THEN 1 ELSE 0 END AS BIGINT) AS retracted \
                     FROM alerts WHERE chain_id = $1 AND block_number >= $2 ORDER BY block_number, ",
                    rowid!()
                ),
            )
            .bind(i64_of(chain_id, "chain id")?)
            .bind(i64_of(from, "block number")?)
            .fetch_all(&self.pool)
            .await
            .map_err(q("read alerts"))?;
            rows.into_iter()
                .map(|row| {
                    let body: String = row.try_get("body").map_err(q("read alerts"))?;
                    let retracted: i64 = row.try_get("retracted").map_err(q("read alerts"))?;
                    crate::rows::stored_alert(&body, retracted != 0)
                })
                .collect()
        })
    }
}

impl crate::ReplicaStore for Store {
    fn beat<'a>(&'a self, beat: &'a crate::ReplicaBeat) -> BoxFuture<'a, Result<()>> {
        Box::pin(async move {
            let body = crate::rows::beat_body(beat)?;
            let mut tx = self.write().await?;
            sqlx::query(
                "INSERT INTO replicas (replica, beat_ms, body) VALUES ($1, $2, $3) \
                 ON CONFLICT (replica) DO UPDATE SET beat_ms = excluded.beat_ms, body = excluded.body",
            )
            .bind(&beat.replica)
            .bind(i64_of(beat.beat_ms, "time")?)
            .bind(body)
            .execute(&mut *tx)
            .await
            .map_err(q("record heartbeat"))?;
            tx.commit().await.map_err(q("commit"))?;
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
