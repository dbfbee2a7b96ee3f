// [`WarRoomStore`] in SQL that SQLite and PostgreSQL both read, compiled
// once per backend like `incidents.rs` beside it.

use firebreak_primitives::{Actor, Event, IncidentId, event};
use futures::future::BoxFuture;
use sqlx::Row as _;

use super::incidents::{append_in, corrupt, get, json_col, u64_col};
use crate::{
    Error, Result,
    warroom::{
        Announcement, AnnouncementState, ManualIncident, NewAnnouncement, Session, TokenInfo,
        WarRoomStore,
    },
};

macro_rules! boxed {
    ($body:expr) => {
        Box::pin(async move { $body })
    };
}

fn opt_u64(row: &DbRow, col: &str) -> Result<Option<u64>> {
    let v: Option<i64> = get(row, col)?;
    Ok(v.and_then(|v| u64::try_from(v).ok()))
}

fn token_of(row: &DbRow) -> Result<TokenInfo> {
    Ok(TokenInfo {
        id: u64_col(row, "id")?,
        member: get(row, "member")?,
        label: get(row, "label")?,
        created_ms: u64_col(row, "created_ms")?,
        revoked_ms: opt_u64(row, "revoked_ms")?,
        last_used_ms: opt_u64(row, "last_used_ms")?,
    })
}

fn announcement_of(row: &DbRow) -> Result<Announcement> {
    let state: String = get(row, "state")?;
    Ok(Announcement {
        id: u64_col(row, "id")?,
        incident: opt_u64(row, "incident_id")?.map(IncidentId),
        status: get(row, "status")?,
        message: get(row, "message")?,
        components: json_col(row, "components", "announcement")?,
        state: AnnouncementState::parse(&state)
            .ok_or_else(|| corrupt("announcement", format!("state `{state}`")))?,
        author: get(row, "author")?,
        approved_by: get(row, "approved_by")?,
        published_by: get(row, "published_by")?,
        created_ms: u64_col(row, "created_ms")?,
        approved_ms: opt_u64(row, "approved_ms")?,
        published_ms: opt_u64(row, "published_ms")?,
    })
}

fn announcement_body(a: &Announcement) -> event::AnnouncementChanged {
    event::AnnouncementChanged {
        announcement: a.id,
        status: a.status.clone(),
        message: a.message.clone(),
        components: a.components.clone(),
        state: a.state.as_str().to_owned(),
    }
}

impl WarRoomStore for Store {
    fn create_token<'a>(
        &'a self,
        member: &'a str,
        label: &'a str,
        hash: &'a str,
    ) -> BoxFuture<'a, Result<TokenInfo>> {
        boxed!({
            let row = sqlx::query(
                "INSERT INTO api_tokens (member, label, hash, created_ms) VALUES ($1, $2, $3, $4) \
                 RETURNING *",
            )
            .bind(member)
            .bind(label)
            .bind(hash)
            .bind(i64_of(crate::now_ms(), "time")?)
            .fetch_one(&self.pool)
            .await
            .map_err(q("create token"))?;
            token_of(&row)
        })
    }

    fn tokens(&self) -> BoxFuture<'_, Result<Vec<TokenInfo>>> {
        boxed!({
            let rows = sqlx::query("SELECT * FROM api_tokens ORDER BY id DESC")
                .fetch_all(&self.pool)
                .await
                .map_err(q("read tokens"))?;
            rows.iter().map(token_of).collect()
        })
    }

    fn revoke_token(&self, id: u64) -> BoxFuture<'_, Result<bool>> {
        boxed!({
            let mut tx = self.write().await?;
            let done = sqlx::query(
                "UPDATE api_tokens SET revoked_ms = $1 WHERE id = $2 AND revoked_ms IS NULL",
            )
            .bind(i64_of(crate::now_ms(), "time")?)
            .bind(i64_of(id, "token id")?)
            .execute(&mut *tx)
            .await
            .map_err(q("revoke token"))?;
            sqlx::query("DELETE FROM sessions WHERE token_id = $1")
                .bind(i64_of(id, "token id")?)
                .execute(&mut *tx)
                .await
                .map_err(q("end the token's sessions"))?;
            tx.commit().await.map_err(q("commit"))?;
            Ok(done.rows_affected() == 1)
        })
    }

    fn token_by_hash<'a>(&'a self, hash: &'a str) -> BoxFuture<'a, Result<Option<TokenInfo>>> {
        boxed!({
            // a read first: an unknown token (a guess, a flood) never takes the write lock
            let row = sqlx::query("SELECT * FROM api_tokens WHERE hash = $1 AND revoked_ms IS NULL")
                .bind(hash)
                .fetch_optional(&self.pool)
                .await
                .map_err(q("check token"))?;
            let Some(mut token) = row.as_ref().map(token_of).transpose()? else { return Ok(None) };
            let now = crate::now_ms();
            // "last used" to the minute: one write per token per minute at most
            if token.last_used_ms.is_none_or(|t| now.saturating_sub(t) >= 60_000) {
                sqlx::query("UPDATE api_tokens SET last_used_ms = $1 WHERE id = $2")
                    .bind(i64_of(now, "time")?)
                    .bind(i64_of(token.id, "token id")?)
                    .execute(&self.pool)
                    .await
                    .map_err(q("record token use"))?;
                token.last_used_ms = Some(now);
            }
            Ok(Some(token))
        })
    }

    fn create_session<'a>(
        &'a self,
        hash: &'a str,
        session: &'a Session,
    ) -> BoxFuture<'a, Result<()>> {
        boxed!({
            let now = crate::now_ms();
            // expired sessions go when new ones come
            sqlx::query("DELETE FROM sessions WHERE expires_ms < $1")
                .bind(i64_of(now, "time")?)
                .execute(&self.pool)
                .await
                .map_err(q("expire sessions"))?;
            sqlx::query(
                "INSERT INTO sessions (hash, token_id, member, csrf, created_ms, expires_ms) \
                 VALUES ($1, $2, $3, $4, $5, $6)",
            )
            .bind(hash)
            .bind(i64_of(session.token_id, "token id")?)
            .bind(&session.member)
            .bind(&session.csrf)
            .bind(i64_of(now, "time")?)
            .bind(i64_of(session.expires_ms, "time")?)
            .execute(&self.pool)
            .await
            .map_err(q("create session"))?;
            Ok(())
        })
    }

    fn session<'a>(&'a self, hash: &'a str, now_ms: u64) -> BoxFuture<'a, Result<Option<Session>>> {
        boxed!({
            let row = sqlx::query(
                "SELECT s.* FROM sessions s JOIN api_tokens t ON t.id = s.token_id \
                 WHERE s.hash = $1 AND s.expires_ms >= $2 AND t.revoked_ms IS NULL",
            )
            .bind(hash)
            .bind(i64_of(now_ms, "time")?)
            .fetch_optional(&self.pool)
            .await
            .map_err(q("read session"))?;
            row.map(|r| {
                Ok(Session {
                    token_id: u64_col(&r, "token_id")?,
                    member: get(&r, "member")?,
                    csrf: get(&r, "csrf")?,
                    expires_ms: u64_col(&r, "expires_ms")?,
                })
            })
            .transpose()
        })
    }

    fn end_session<'a>(&'a self, hash: &'a str) -> BoxFuture<'a, Result<()>> {
        boxed!({
            sqlx::query("DELETE FROM sessions WHERE hash = $1")
                .bind(hash)
                .execute(&self.pool)
                .await
                .map_err(q("end session"))?;
            Ok(())
        })
    }

    fn draft_announcement(&self, draft: NewAnnouncement) -> BoxFuture<'_, Result<Announcement>> {
        boxed!({
            let mut tx = self.write().await?;
            let author = match &draft.author {
                Actor::Member(m) => m.clone(),
                other => other.to_string(),
            };
            let components =
                serde_json::to_string(&draft.components).map_err(|e| corrupt("announcement", e))?;
            let row = sqlx::query(
                "INSERT INTO announcements (incident_id, status, message, components, state, \
                 author, created_ms) VALUES ($1, $2, $3, $4, 'draft', $5, $6) RETURNING *",
            )
            .bind(draft.incident.map(|i| i64_of(i.0, "incident id")).transpose()?)
            .bind(&draft.status)
            .bind(&draft.message)
            .bind(components)
            .bind(author)
            .bind(i64_of(crate::now_ms(), "time")?)
            .fetch_one(&mut *tx)
            .await
            .map_err(q("draft announcement"))?;
            let a = announcement_of(&row)?;
            if let Some(id) = a.incident {
                let e = Event::AnnouncementDrafted(announcement_body(&a));
                append_in(&mut tx, id, &draft.author, &e).await?;
            }
            tx.commit().await.map_err(q("commit"))?;
            Ok(a)
        })
    }

    fn announcement(&self, id: u64) -> BoxFuture<'_, Result<Option<Announcement>>> {
        boxed!({
            let row = sqlx::query("SELECT * FROM announcements WHERE id = $1")
                .bind(i64_of(id, "announcement id")?)
                .fetch_optional(&self.pool)
                .await
                .map_err(q("read announcement"))?;
            row.as_ref().map(announcement_of).transpose()
        })
    }

    fn announcements(
        &self,
        incident: Option<IncidentId>,
        published_only: bool,
    ) -> BoxFuture<'_, Result<Vec<Announcement>>> {
        boxed!({
            let rows = sqlx::query(
                "SELECT * FROM announcements WHERE ($1 IS NULL OR incident_id = $2) \
                 AND ($3 = 0 OR state = 'published') \
                 ORDER BY COALESCE(published_ms, created_ms) DESC, id DESC",
            )
            .bind(incident.map(|i| i64_of(i.0, "incident id")).transpose()?)
            .bind(incident.map(|i| i64_of(i.0, "incident id")).transpose()?)
            .bind(i64::from(published_only))
            .fetch_all(&self.pool)
            .await
            .map_err(q("read announcements"))?;
            rows.iter().map(announcement_of).collect()
        })
    }

    fn advance_announcement<'a>(
        &'a self,
        id: u64,
        from: AnnouncementState,
        member: &'a str,
    ) -> BoxFuture<'a, Result<Option<Announcement>>> {
        boxed!({
            let (to, sql) = match from {
                AnnouncementState::Draft => (
                    Event::AnnouncementApproved as fn(_) -> _,
                    "UPDATE announcements SET state = 'approved', approved_by = $1, approved_ms = $2 \
                     WHERE id = $3 AND state = 'draft' RETURNING *",
                ),
                AnnouncementState::Approved => (
                    Event::AnnouncementPublished as fn(_) -> _,
                    "UPDATE announcements SET state = 'published', published_by = $1, \
                     published_ms = $2 WHERE id = $3 AND state = 'approved' RETURNING *",
                ),
                AnnouncementState::Published => return Ok(None),
            };
            let mut tx = self.write().await?;
            let row = sqlx::query(sql)
                .bind(member)
                .bind(i64_of(crate::now_ms(), "time")?)
                .bind(i64_of(id, "announcement id")?)
                .fetch_optional(&mut *tx)
                .await
                .map_err(q("advance announcement"))?;
            let Some(row) = row else { return Ok(None) };
            let a = announcement_of(&row)?;
            if let Some(incident) = a.incident {
                let actor = Actor::Member(member.to_owned());
                append_in(&mut tx, incident, &actor, &to(announcement_body(&a))).await?;
            }
            tx.commit().await.map_err(q("commit"))?;
            Ok(Some(a))
        })
    }

    fn open_manual(&self, m: ManualIncident) -> BoxFuture<'_, Result<IncidentId>> {
        boxed!({
            let mut tx = self.write().await?;
            let now = i64_of(m.now_ms, "time")?;
            let row = sqlx::query(
                "INSERT INTO incidents (status, severity, title, protocol, playbook, chain_id, \
                 plan_hash, drill, alert_count, opened_ms, last_alert_ms, updated_ms) \
                 VALUES ('detected', $1, $2, $3, $4, $5, $6, $7, 0, $8, $9, $10) RETURNING id",
            )
            .bind(m.severity.to_string())
            .bind(&m.title)
            .bind(&m.protocol)
            .bind(&m.playbook)
            .bind(i64_of(m.chain_id, "chain id")?)
            .bind(m.plan_hash.to_string())
            .bind(i64::from(m.drill))
            .bind(now)
            .bind(now)
            .bind(now)
            .fetch_one(&mut *tx)
            .await
            .map_err(q("open incident"))?;
            let id: i64 = row.try_get("id").map_err(q("decode row"))?;
            let id = IncidentId(
                u64::try_from(id)
                    .map_err(|_| Error::Corrupt { what: "incident", detail: id.to_string() })?,
            );
            let e = Event::IncidentOpened(event::Opened {
                title: m.title.clone(),
                severity: m.severity,
                protocol: m.protocol.clone(),
                playbook: m.playbook.clone(),
                chain_id: m.chain_id,
                plan_hash: m.plan_hash.to_string(),
                drill: m.drill,
                alert: None,
                manual: Some(event::ManualOpen { by: m.by.to_string(), reason: m.reason.clone() }),
            });
            append_in(&mut tx, id, &m.by, &e).await?;
            tx.commit().await.map_err(q("commit"))?;
            Ok(id)
        })
    }
}
