// [`LeaseStore`] and the fence check in SQL that SQLite and PostgreSQL both
// read, compiled once per backend like `incidents.rs` beside it; `now_ms!`
// (the database's clock in unix ms), `for_update!` (a row lock where the
// backend has them) and `EXCLUSIVE` (one daemon per store) are the backend's.

use futures::future::BoxFuture;

use super::incidents::{get, u64_col};
use crate::{
    Error, Result,
    leases::{Fence, Lease, LeaseStore, LeaseTable},
};

fn lease_of(row: &DbRow) -> Result<Lease> {
    Ok(Lease {
        name: get(row, "name")?,
        holder: get(row, "holder")?,
        epoch: u64_col(row, "epoch")?,
        expires_ms: u64_col(row, "expires_ms")?,
    })
}

/// Refuses the transaction's writes unless `fence` holds its lease now; on
/// PostgreSQL the lease row stays locked until the transaction ends, so a
/// takeover waits for this write and then sees it.
pub(super) async fn check_fence(tx: &mut Tx, fence: &Fence) -> Result<()> {
    let row = sqlx::query(concat!(
        "SELECT holder, epoch, expires_ms, ",
        now_ms!(),
        " AS now_ms FROM leases WHERE name = $1",
        for_update!()
    ))
    .bind(&fence.name)
    .fetch_optional(&mut **tx)
    .await
    .map_err(q("check lease"))?;
    let refuse = |now: String| Error::Fenced {
        lease: fence.name.clone(),
        holder: fence.holder.clone(),
        epoch: fence.epoch,
        now,
    };
    let Some(row) = row else { return Err(refuse("nobody holds it".into())) };
    let holder: String = get(&row, "holder")?;
    let epoch = u64_col(&row, "epoch")?;
    let expires = u64_col(&row, "expires_ms")?;
    let now = u64_col(&row, "now_ms")?;
    if holder != fence.holder || epoch != fence.epoch {
        return Err(refuse(format!("`{holder}` holds it at epoch {epoch}")));
    }
    if expires < now {
        return Err(refuse(format!("it ran out {} ms ago", now - expires)));
    }
    Ok(())
}

/// Takes or renews lease `name` inside `tx` (see
/// [`LeaseStore::acquire_lease`]).
async fn take_in(tx: &mut Tx, name: &str, holder: &str, ttl_ms: u64) -> Result<Option<Lease>> {
    // one statement: insert, renew (same holder, same epoch while it has
    // not run out) or take over (epoch + 1) a lease that ran out
    let row = sqlx::query(concat!(
        "INSERT INTO leases (name, holder, epoch, expires_ms) VALUES ($1, $2, 1, ",
        now_ms!(),
        " + $3) ON CONFLICT (name) DO UPDATE SET \
         epoch = CASE WHEN leases.holder = excluded.holder AND leases.expires_ms >= ",
        now_ms!(),
        " THEN leases.epoch ELSE leases.epoch + 1 END, \
         holder = excluded.holder, expires_ms = excluded.expires_ms \
         WHERE leases.holder = excluded.holder OR leases.expires_ms < ",
        now_ms!(),
        " RETURNING name, holder, epoch, expires_ms"
    ))
    .bind(name)
    .bind(holder)
    .bind(i64_of(ttl_ms, "lease time")?)
    .fetch_optional(&mut **tx)
    .await
    .map_err(q("take lease"))?;
    row.as_ref().map(lease_of).transpose()
}

impl LeaseStore for Store {
    fn acquire_lease<'a>(
        &'a self,
        name: &'a str,
        holder: &'a str,
        ttl_ms: u64,
    ) -> BoxFuture<'a, Result<Option<Lease>>> {
        Box::pin(async move {
            let mut tx = self.write().await?;
            let lease = take_in(&mut tx, name, holder, ttl_ms).await?;
            tx.commit().await.map_err(q("commit"))?;
            Ok(lease)
        })
    }

    fn acquire_leases<'a>(
        &'a self,
        names: &'a [String],
        holder: &'a str,
        ttl_ms: u64,
    ) -> BoxFuture<'a, Result<Option<Vec<Lease>>>> {
        Box::pin(async move {
            let mut tx = self.write().await?;
            let mut leases = Vec::with_capacity(names.len());
            for name in names {
                match take_in(&mut tx, name, holder, ttl_ms).await? {
                    Some(lease) => leases.push(lease),
                    // another holds this one: nothing of this call is kept
                    // (the transaction rolls back when dropped)
                    None => return Ok(None),
                }
            }
            tx.commit().await.map_err(q("commit"))?;
            Ok(Some(leases))
        })
    }

    fn release_lease<'a>(&'a self, name: &'a str, holder: &'a str) -> BoxFuture<'a, Result<()>> {
        Box::pin(async move {
            let mut tx = self.write().await?;
            sqlx::query(concat!(
                "UPDATE leases SET expires_ms = ",
                now_ms!(),
                " - 1 WHERE name = $1 AND holder = $2"
            ))
            .bind(name)
            .bind(holder)
            .execute(&mut *tx)
            .await
            .map_err(q("release lease"))?;
            tx.commit().await.map_err(q("commit"))?;
            Ok(())
        })
    }

    fn exclusive(&self) -> bool {
        EXCLUSIVE
    }

    fn expire_others<'a>(&'a self, holder: &'a str) -> BoxFuture<'a, Result<()>> {
        Box::pin(async move {
            let mut tx = self.write().await?;
            sqlx::query(concat!(
                "UPDATE leases SET expires_ms = ",
                now_ms!(),
                " - 1 WHERE holder <> $1"
            ))
            .bind(holder)
            .execute(&mut *tx)
            .await
            .map_err(q("expire leases"))?;
            tx.commit().await.map_err(q("commit"))?;
            Ok(())
        })
    }

    fn leases(&self) -> BoxFuture<'_, Result<LeaseTable>> {
        Box::pin(async move {
            let now = sqlx::query(concat!("SELECT ", now_ms!(), " AS now_ms"))
                .fetch_one(&self.pool)
                .await
                .map_err(q("read clock"))?;
            let rows = sqlx::query("SELECT * FROM leases ORDER BY name")
                .fetch_all(&self.pool)
                .await
                .map_err(q("read leases"))?;
            Ok(LeaseTable {
                now_ms: u64_col(&now, "now_ms")?,
                leases: rows.iter().map(lease_of).collect::<Result<_>>()?,
            })
        })
    }
}
