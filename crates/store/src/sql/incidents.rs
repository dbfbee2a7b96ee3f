// [`IncidentStore`] in SQL that SQLite and PostgreSQL both read: this file
// is compiled once per backend (`include!`d by `sqlite/incidents.rs` and
// `postgres/incidents.rs`), where `Store`, `Tx`, `Db`, `DbRow`, the hooks
// `lock_incident` and `serialise_grouping`, and the `rowid!` and
// `since_param!` spellings are that backend's.

use alloy_primitives::{Address, B256};
use firebreak_primitives::{
    Actor, Alert, Event, IncidentId, IncidentStatus, Severity, StepStatus,
    event::{self, AlertSeen, SeverityRaised},
};
use futures::future::BoxFuture;
use serde_json::Value;
use sqlx::Row;

use crate::{
    Error, Result,
    incidents::{
        ActionRecord, ActionStore, AlertOutcome, ApprovalRecord, Grouping, Incident,
        IncidentFilter, IncidentRecords, OutboxMessage, OutboxStore, Presigned, SafeSignature,
        StepState, StepStore, TimelineStore,
    },
    now_ms,
    timeline::{GENESIS, TimelineEntry, canonical_json, entry_hash},
};

use firebreak_primitives::rfc3339;

pub(super) fn corrupt(what: &'static str, detail: impl ToString) -> Error {
    Error::Corrupt { what, detail: detail.to_string() }
}

pub(super) fn get<'r, T>(row: &'r DbRow, col: &str) -> Result<T>
where
    T: sqlx::Decode<'r, Db> + sqlx::Type<Db>,
{
    row.try_get(col).map_err(q("decode row"))
}

pub(super) fn u64_col(row: &DbRow, col: &str) -> Result<u64> {
    let v: i64 = get(row, col)?;
    u64::try_from(v).map_err(|_| corrupt("row", format!("negative {col} {v}")))
}

fn parsed<T: std::str::FromStr>(row: &DbRow, col: &str, what: &'static str) -> Result<T>
where
    T::Err: std::fmt::Display,
{
    let text: String = get(row, col)?;
    text.parse().map_err(|e: T::Err| corrupt(what, format!("{col} `{text}`: {e}")))
}

pub(super) fn json_col<T: serde::de::DeserializeOwned>(
    row: &DbRow,
    col: &str,
    what: &'static str,
) -> Result<T> {
    let text: String = get(row, col)?;
    serde_json::from_str(&text).map_err(|e| corrupt(what, format!("{col}: {e}")))
}

fn to_json<T: serde::Serialize>(v: &T, what: &'static str) -> Result<String> {
    serde_json::to_string(v).map_err(|e| corrupt(what, e))
}

pub(super) fn incident_of(row: &DbRow) -> Result<Incident> {
    Ok(Incident {
        id: IncidentId(u64_col(row, "id")?),
        status: parsed(row, "status", "incident")?,
        severity: parsed(row, "severity", "incident")?,
        title: get(row, "title")?,
        protocol: get(row, "protocol")?,
        playbook: get(row, "playbook")?,
        chain_id: u64_col(row, "chain_id")?,
        plan_hash: parsed(row, "plan_hash", "incident")?,
        drill: get::<i64>(row, "drill")? != 0,
        alert_count: u64_col(row, "alert_count")?,
        opened_ms: u64_col(row, "opened_ms")?,
        last_alert_ms: u64_col(row, "last_alert_ms")?,
        updated_ms: u64_col(row, "updated_ms")?,
        timeline_len: u64_col(row, "timeline_len")?,
        timeline_head: get(row, "timeline_head")?,
    })
}

fn entry_of(row: &DbRow) -> Result<TimelineEntry> {
    let kind: String = get(row, "kind")?;
    Ok(TimelineEntry::from_stored(
        IncidentId(u64_col(row, "incident_id")?),
        u64_col(row, "seq")?,
        get(row, "at")?,
        parsed(row, "actor", "timeline")?,
        &kind,
        json_col(row, "body", "timeline")?,
        get(row, "prev_hash")?,
        get(row, "hash")?,
    ))
}

fn step_of(row: &DbRow) -> Result<StepState> {
    Ok(StepState {
        step_id: get(row, "step_id")?,
        index: u32::try_from(u64_col(row, "idx")?).map_err(|e| corrupt("step", e))?,
        status: parsed(row, "status", "step")?,
        attempts: u32::try_from(u64_col(row, "attempts")?).map_err(|e| corrupt("step", e))?,
        detail: get(row, "detail")?,
        updated_ms: u64_col(row, "updated_ms")?,
    })
}

fn action_of(row: &DbRow) -> Result<ActionRecord> {
    let nonce: Option<i64> = get(row, "nonce")?;
    let receipt: Option<String> = get(row, "receipt")?;
    let safe_tx: Option<String> = get(row, "safe_tx")?;
    let safe_tx_hash: Option<String> = get(row, "safe_tx_hash")?;
    let kind: String = get(row, "kind")?;
    let status: String = get(row, "status")?;
    Ok(ActionRecord {
        key: parsed(row, "key", "action")?,
        incident: IncidentId(u64_col(row, "incident_id")?),
        step_id: get(row, "step_id")?,
        chain_id: u64_col(row, "chain_id")?,
        kind: serde_json::from_value(Value::String(kind)).map_err(|e| corrupt("action", e))?,
        from: parsed(row, "sender", "action")?,
        to: parsed(row, "target", "action")?,
        calldata: parsed(row, "calldata", "action")?,
        value: parsed(row, "value", "action")?,
        nonce: nonce.map(|n| u64::try_from(n).unwrap_or_default()),
        status: serde_json::from_value(Value::String(status)).map_err(|e| corrupt("action", e))?,
        attempts: json_col(row, "attempts", "action")?,
        receipt: receipt
            .map(|r| serde_json::from_str(&r))
            .transpose()
            .map_err(|e| corrupt("action", e))?,
        safe_tx: safe_tx
            .map(|r| serde_json::from_str(&r))
            .transpose()
            .map_err(|e| corrupt("action", e))?,
        safe_tx_hash: safe_tx_hash
            .map(|h| h.parse())
            .transpose()
            .map_err(|e| corrupt("action", e))?,
        error: get(row, "error")?,
        created_ms: u64_col(row, "created_ms")?,
        updated_ms: u64_col(row, "updated_ms")?,
    })
}

fn outbox_of(row: &DbRow) -> Result<OutboxMessage> {
    let incident: Option<i64> = get(row, "incident_id")?;
    Ok(OutboxMessage {
        id: u64_col(row, "id")?,
        key: get(row, "key")?,
        incident: incident.map(|i| IncidentId(u64::try_from(i).unwrap_or_default())),
        channel: get(row, "channel")?,
        body: json_col(row, "body", "outbox")?,
        status: get(row, "status")?,
        attempts: u32::try_from(u64_col(row, "attempts")?).unwrap_or(u32::MAX),
        next_at_ms: u64_col(row, "next_at_ms")?,
        last_error: get(row, "last_error")?,
        created_ms: u64_col(row, "created_ms")?,
    })
}

async fn outbox_row(tx: &mut Tx, id: u64) -> Result<OutboxMessage> {
    let row = sqlx::query("SELECT * FROM outbox WHERE id = $1")
        .bind(i64_of(id, "outbox id")?)
        .fetch_optional(&mut **tx)
        .await
        .map_err(q("read outbox"))?
        .ok_or(Error::NotFound { what: "outbox message", id: id.to_string() })?;
    outbox_of(&row)
}

fn enum_text<T: serde::Serialize>(v: &T) -> String {
    match serde_json::to_value(v) {
        Ok(Value::String(s)) => s,
        other => format!("{other:?}"),
    }
}

/// Inserts `a` unless its dedup key is known; `true` when it was new.
pub(super) async fn insert_alert(tx: &mut Tx, a: &Alert) -> Result<bool> {
    let body = serde_json::to_string(a)
        .map_err(|e| Error::Corrupt { what: "alert", detail: e.to_string() })?;
    let done = sqlx::query(
        "INSERT INTO alerts (dedup_key, monitor, severity, chain_id, block_number, block_hash, body) \
         VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (dedup_key) DO NOTHING",
    )
    .bind(&a.dedup_key)
    .bind(&a.monitor)
    .bind(a.severity.as_str())
    .bind(i64_of(a.chain_id, "chain id")?)
    .bind(i64_of(a.block_number, "block number")?)
    .bind(a.block_hash.to_string())
    .bind(body)
    .execute(&mut **tx)
    .await
    .map_err(q("insert alert"))?;
    Ok(done.rows_affected() == 1)
}

/// Writes action `a` (and `event`) inside `tx`.
async fn put_action_in(tx: &mut Tx, a: ActionRecord, event: Option<Event>) -> Result<()> {
    sqlx::query(
        "INSERT INTO actions (key, incident_id, step_id, chain_id, kind, sender, target, \
         calldata, nonce, status, attempts, receipt, safe_tx, safe_tx_hash, error, \
         created_ms, updated_ms, value) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18) \
         ON CONFLICT (key) DO UPDATE SET sender = excluded.sender, target = excluded.target, \
         calldata = excluded.calldata, value = excluded.value, nonce = excluded.nonce, status = excluded.status, \
         attempts = excluded.attempts, receipt = excluded.receipt, safe_tx = excluded.safe_tx, \
         safe_tx_hash = excluded.safe_tx_hash, error = excluded.error, \
         updated_ms = excluded.updated_ms",
    )
    .bind(a.key.to_string())
    .bind(i64_of(a.incident.0, "incident id")?)
    .bind(&a.step_id)
    .bind(i64_of(a.chain_id, "chain id")?)
    .bind(enum_text(&a.kind))
    .bind(a.from.to_string())
    .bind(a.to.to_string())
    .bind(a.calldata.to_string())
    .bind(a.nonce.map(|n| i64_of(n, "nonce")).transpose()?)
    .bind(enum_text(&a.status))
    .bind(to_json(&a.attempts, "action")?)
    .bind(a.receipt.as_ref().map(|r| to_json(r, "action")).transpose()?)
    .bind(a.safe_tx.as_ref().map(|r| to_json(r, "action")).transpose()?)
    .bind(a.safe_tx_hash.map(|h| h.to_string()))
    .bind(a.error.as_deref().map(firebreak_primitives::redact))
    .bind(i64_of(a.created_ms, "time")?)
    .bind(i64_of(now_ms(), "time")?)
    .bind(format!("{:#x}", a.value))
    .execute(&mut **tx)
    .await
    .map_err(q("write action"))?;
    if let Some(e) = event {
        append_in(tx, a.incident, &Actor::System, &e).await?;
    }
    Ok(())
}

/// Appends a timeline entry inside `tx`.
pub(super) async fn append_in(
    tx: &mut Tx,
    id: IncidentId,
    actor: &Actor,
    event: &Event,
) -> Result<TimelineEntry> {
    let (kind, body) = event
        .to_stored()
        .map_err(|e| Error::Corrupt { what: "timeline", detail: e.to_string() })?;
    let kind = kind.as_str();
    let iid = i64_of(id.0, "incident id")?;
    // one writer at a time per timeline: the head read below is the head
    lock_incident(tx, iid).await?;
    let last = sqlx::query(
        "SELECT seq, hash FROM timeline WHERE incident_id = $1 ORDER BY seq DESC LIMIT 1",
    )
    .bind(iid)
    .fetch_optional(&mut **tx)
    .await
    .map_err(q("read timeline head"))?;
    let (seq, prev) = match last {
        Some(row) => (u64_col(&row, "seq")? + 1, get::<String>(&row, "hash")?),
        None => (1, GENESIS.to_owned()),
    };
    // a secret never enters the record: once hashed it could not be removed
    // without breaking `verify`
    let body = redact_json(body);
    // store exactly what is hashed: canonical body text, millisecond time
    let body: Value =
        serde_json::from_str(&canonical_json(&body)).map_err(|e| corrupt("body", e))?;
    let at = rfc3339(now_ms());
    let hash = entry_hash(id, seq, &at, actor, kind, &body, &prev);
    sqlx::query(
        "INSERT INTO timeline (incident_id, seq, at, actor, kind, body, prev_hash, hash) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(iid)
    .bind(i64_of(seq, "seq")?)
    .bind(&at)
    .bind(actor.to_string())
    .bind(kind)
    .bind(canonical_json(&body))
    .bind(&prev)
    .bind(&hash)
    .execute(&mut **tx)
    .await
    .map_err(q("append timeline"))?;
    // the head on the incident row, in the same transaction: a truncated
    // tail no longer matches it
    sqlx::query("UPDATE incidents SET timeline_len = $1, timeline_head = $2 WHERE id = $3")
        .bind(i64_of(seq, "seq")?)
        .bind(&hash)
        .bind(iid)
        .execute(&mut **tx)
        .await
        .map_err(q("record timeline head"))?;
    Ok(TimelineEntry::from_stored(id, seq, at, actor.clone(), kind, body, prev, hash))
}

impl Store {
    async fn record_alert_in(
        &self,
        tx: &mut Tx,
        alert: &Alert,
        g: &Grouping,
    ) -> Result<AlertOutcome> {
        let severity: Severity = alert.severity;
        // one grouping decision at a time, across replicas: two alerts of
        // one attack open one incident
        serialise_grouping(tx).await?;
        insert_alert(tx, alert).await?;
        let linked = sqlx::query("SELECT incident_id FROM incident_alerts WHERE dedup_key = $1")
            .bind(&alert.dedup_key)
            .fetch_optional(&mut **tx)
            .await
            .map_err(q("find alert link"))?;
        if let Some(row) = linked {
            let incident = IncidentId(u64_col(&row, "incident_id")?);
            return Ok(AlertOutcome { incident, opened: false, upgraded: None, new: false });
        }
        let now = i64_of(g.now_ms, "time")?;
        let since = i64_of(g.now_ms.saturating_sub(g.window_ms), "time")?;
        // an alert-only monitor's alert opens no incident; it never comes here
        // through the incident manager, and is grouped under no playbook if it does
        let playbook = alert.playbook.as_deref().unwrap_or_default();
        let open = sqlx::query(
            "SELECT * FROM incidents WHERE protocol = $1 AND playbook = $2 AND chain_id = $3 \
             AND status NOT IN ('resolved', 'reviewed') AND last_alert_ms >= $4 \
             ORDER BY id DESC LIMIT 1",
        )
        .bind(&g.protocol)
        .bind(playbook)
        .bind(i64_of(alert.chain_id, "chain id")?)
        .bind(since)
        .fetch_optional(&mut **tx)
        .await
        .map_err(q("find open incident"))?;
        let chain_id = i64_of(alert.chain_id, "chain id")?;
        let (incident, opened, upgraded) = if let Some(row) = open {
            let current = incident_of(&row)?;
            let upgraded = (severity > current.severity).then_some(severity);
            let known_monitor = sqlx::query(
                "SELECT 1 FROM incident_alerts l JOIN alerts a ON a.dedup_key = l.dedup_key \
                 WHERE l.incident_id = $1 AND a.monitor = $2 LIMIT 1",
            )
            .bind(i64_of(current.id.0, "incident id")?)
            .bind(&alert.monitor)
            .fetch_optional(&mut **tx)
            .await
            .map_err(q("find monitor"))?
            .is_some();
            sqlx::query(
                "UPDATE incidents SET alert_count = alert_count + 1, last_alert_ms = $1, \
                 updated_ms = $2, severity = $3 WHERE id = $4",
            )
            .bind(now)
            .bind(now)
            .bind(upgraded.unwrap_or(current.severity).to_string())
            .bind(i64_of(current.id.0, "incident id")?)
            .execute(&mut **tx)
            .await
            .map_err(q("update incident"))?;
            if let Some(to) = upgraded {
                let e = Event::SeverityRaised(SeverityRaised {
                    from: current.severity,
                    to,
                    alert: AlertSeen::from(alert),
                });
                append_in(tx, current.id, &Actor::System, &e).await?;
            } else if !known_monitor || alert.evidence.contains_key("pending.tx_hash") {
                // a pending transaction is an attempt of its own (an
                // attacker's replacement at a higher fee): the pause outbids
                // what the timeline shows
                append_in(tx, current.id, &Actor::System, &Event::Alert(alert.into())).await?;
            }
            (current.id, false, upgraded)
        } else {
            let row = sqlx::query(
                "INSERT INTO incidents (status, severity, title, protocol, playbook, chain_id, \
                 plan_hash, drill, alert_count, opened_ms, last_alert_ms, updated_ms) \
                 VALUES ('detected', $1, $2, $3, $4, $5, $6, $7, 1, $8, $9, $10) RETURNING id",
            )
            .bind(severity.to_string())
            .bind(&g.title)
            .bind(&g.protocol)
            .bind(playbook)
            .bind(chain_id)
            .bind(g.plan_hash.to_string())
            .bind(i64::from(g.drill))
            .bind(now)
            .bind(now)
            .bind(now)
            .fetch_one(&mut **tx)
            .await
            .map_err(q("open incident"))?;
            let id = IncidentId(u64_col(&row, "id")?);
            let e = Event::IncidentOpened(event::Opened {
                title: g.title.clone(),
                severity,
                protocol: g.protocol.clone(),
                playbook: playbook.to_owned(),
                chain_id: alert.chain_id,
                plan_hash: g.plan_hash.to_string(),
                drill: g.drill,
                alert: Some(alert.into()),
                manual: None,
            });
            append_in(tx, id, &Actor::System, &e).await?;
            for e in &g.on_open {
                append_in(tx, id, &Actor::System, e).await?;
            }
            (id, true, None)
        };
        sqlx::query("INSERT INTO incident_alerts (dedup_key, incident_id) VALUES ($1, $2)")
            .bind(&alert.dedup_key)
            .bind(i64_of(incident.0, "incident id")?)
            .execute(&mut **tx)
            .await
            .map_err(q("link alert"))?;
        Ok(AlertOutcome { incident, opened, upgraded, new: true })
    }
}

macro_rules! boxed {
    ($body:expr) => {
        Box::pin(async move { $body })
    };
}

impl IncidentRecords for Store {
    fn record_alert<'a>(
        &'a self,
        alert: &'a Alert,
        grouping: &'a Grouping,
    ) -> BoxFuture<'a, Result<AlertOutcome>> {
        boxed!({
            let mut tx = self.write().await?;
            let out = self.record_alert_in(&mut tx, alert, grouping).await?;
            tx.commit().await.map_err(q("commit"))?;
            Ok(out)
        })
    }
    fn unlinked_alerts(&self, since_ms: u64) -> BoxFuture<'_, Result<Vec<Alert>>> {
        boxed!({
            let rows = sqlx::query(
                concat!(
                    "SELECT body FROM alerts a WHERE retracted = false AND created_at >= ",
                    since_param!(),
                    " AND NOT EXISTS \
                     (SELECT 1 FROM incident_alerts l WHERE l.dedup_key = a.dedup_key) \
                     ORDER BY chain_id, block_number, ",
                    rowid!()
                ),
            )
            .bind(rfc3339(since_ms))
            .fetch_all(&self.pool)
            .await
            .map_err(q("read unlinked alerts"))?;
            rows.iter().map(|r| json_col(r, "body", "alert")).collect()
        })
    }
    fn incident(&self, id: IncidentId) -> BoxFuture<'_, Result<Option<Incident>>> {
        boxed!({
            let row = sqlx::query("SELECT * FROM incidents WHERE id = $1")
                .bind(i64_of(id.0, "incident id")?)
                .fetch_optional(&self.pool)
                .await
                .map_err(q("read incident"))?;
            row.as_ref().map(incident_of).transpose()
        })
    }
    fn incidents<'a>(&'a self, filter: &'a IncidentFilter) -> BoxFuture<'a, Result<Vec<Incident>>> {
        boxed!({
            let rows = sqlx::query("SELECT * FROM incidents ORDER BY id DESC")
                .fetch_all(&self.pool)
                .await
                .map_err(q("read incidents"))?;
            let mut out = Vec::new();
            for row in &rows {
                let i = incident_of(row)?;
                if filter.statuses.is_empty() || filter.statuses.contains(&i.status) {
                    out.push(i);
                }
                if filter.limit > 0 && out.len() as u64 >= filter.limit {
                    break;
                }
            }
            Ok(out)
        })
    }
    fn incident_alerts(&self, id: IncidentId) -> BoxFuture<'_, Result<Vec<Alert>>> {
        boxed!({
            let rows = sqlx::query(
                concat!(
                    "SELECT a.body FROM incident_alerts l JOIN alerts a ON a.dedup_key = l.dedup_key \
                     WHERE l.incident_id = $1 ORDER BY a.block_number, a.",
                    rowid!()
                ),
            )
            .bind(i64_of(id.0, "incident id")?)
            .fetch_all(&self.pool)
            .await
            .map_err(q("read incident alerts"))?;
            rows.iter().map(|r| json_col(r, "body", "alert")).collect()
        })
    }
    fn transition(
        &self,
        id: IncidentId,
        to: IncidentStatus,
        actor: Actor,
        note: Option<String>,
    ) -> BoxFuture<'_, Result<bool>> {
        boxed!({
            let mut tx = self.write().await?;
            lock_incident(&mut tx, i64_of(id.0, "incident id")?).await?;
            let row = sqlx::query("SELECT status FROM incidents WHERE id = $1")
                .bind(i64_of(id.0, "incident id")?)
                .fetch_optional(&mut *tx)
                .await
                .map_err(q("read incident"))?
                .ok_or(Error::NotFound { what: "incident", id: id.to_string() })?;
            let from: IncidentStatus = parsed(&row, "status", "incident")?;
            if from >= to {
                return Ok(false);
            }
            sqlx::query("UPDATE incidents SET status = $1, updated_ms = $2 WHERE id = $3")
                .bind(to.as_str())
                .bind(i64_of(now_ms(), "time")?)
                .bind(i64_of(id.0, "incident id")?)
                .execute(&mut *tx)
                .await
                .map_err(q("update incident"))?;
            let e = Event::Status(event::StatusChanged { from, to, note });
            append_in(&mut tx, id, &actor, &e).await?;
            tx.commit().await.map_err(q("commit"))?;
            Ok(true)
        })
    }
    fn lose_containment(&self, id: IncidentId, note: String) -> BoxFuture<'_, Result<bool>> {
        boxed!({
            let mut tx = self.write().await?;
            let done = sqlx::query(
                "UPDATE incidents SET status = $1, updated_ms = $2 WHERE id = $3 AND status = $4",
            )
            .bind(IncidentStatus::Containing.as_str())
            .bind(i64_of(now_ms(), "time")?)
            .bind(i64_of(id.0, "incident id")?)
            .bind(IncidentStatus::Contained.as_str())
            .execute(&mut *tx)
            .await
            .map_err(q("update incident"))?;
            if done.rows_affected() == 0 {
                return Ok(false);
            }
            let e = Event::Status(event::StatusChanged {
                from: IncidentStatus::Contained,
                to: IncidentStatus::Containing,
                note: Some(note),
            });
            append_in(&mut tx, id, &Actor::System, &e).await?;
            tx.commit().await.map_err(q("commit"))?;
            Ok(true)
        })
    }
}

impl TimelineStore for Store {
    fn append(
        &self,
        id: IncidentId,
        actor: Actor,
        event: Event,
    ) -> BoxFuture<'_, Result<TimelineEntry>> {
        boxed!({
            let mut tx = self.write().await?;
            let e = append_in(&mut tx, id, &actor, &event).await?;
            tx.commit().await.map_err(q("commit"))?;
            Ok(e)
        })
    }
    fn append_once(
        &self,
        id: IncidentId,
        actor: Actor,
        event: Event,
    ) -> BoxFuture<'_, Result<(bool, TimelineEntry)>> {
        boxed!({
            let kind = event.kind();
            let mut tx = self.write().await?;
            lock_incident(&mut tx, i64_of(id.0, "incident id")?).await?;
            let first = sqlx::query(
                "SELECT * FROM timeline WHERE incident_id = $1 AND kind = $2 ORDER BY seq LIMIT 1",
            )
            .bind(i64_of(id.0, "incident id")?)
            .bind(kind)
            .fetch_optional(&mut *tx)
            .await
            .map_err(q("read timeline"))?;
            if let Some(row) = first {
                return Ok((false, entry_of(&row)?));
            }
            let e = append_in(&mut tx, id, &actor, &event).await?;
            tx.commit().await.map_err(q("commit"))?;
            Ok((true, e))
        })
    }
    fn timeline(&self, id: IncidentId) -> BoxFuture<'_, Result<Vec<TimelineEntry>>> {
        boxed!({
            let rows = sqlx::query("SELECT * FROM timeline WHERE incident_id = $1 ORDER BY seq")
                .bind(i64_of(id.0, "incident id")?)
                .fetch_all(&self.pool)
                .await
                .map_err(q("read timeline"))?;
            rows.iter().map(entry_of).collect()
        })
    }
}

impl StepStore for Store {
    fn set_step(
        &self,
        id: IncidentId,
        step_id: &str,
        index: u32,
        status: StepStatus,
        detail: Option<String>,
    ) -> BoxFuture<'_, Result<StepState>> {
        let step_id = step_id.to_owned();
        boxed!({
            let iid = i64_of(id.0, "incident id")?;
            // a step re-reported as it stands (every round while it waits)
            // costs a read, not a write and an fsync
            let now_stored =
                sqlx::query("SELECT * FROM steps WHERE incident_id = $1 AND step_id = $2")
                    .bind(iid)
                    .bind(&step_id)
                    .fetch_optional(&self.pool)
                    .await
                    .map_err(q("read step"))?
                    .as_ref()
                    .map(step_of)
                    .transpose()?;
            if let Some(s) = now_stored
                && s.status == status
                && s.detail == detail
                && s.index == index
            {
                return Ok(s);
            }
            let mut tx = self.write().await?;
            lock_incident(&mut tx, iid).await?;
            let old = sqlx::query("SELECT * FROM steps WHERE incident_id = $1 AND step_id = $2")
                .bind(iid)
                .bind(&step_id)
                .fetch_optional(&mut *tx)
                .await
                .map_err(q("read step"))?
                .as_ref()
                .map(step_of)
                .transpose()?;
            let attempts = old.as_ref().map_or(0, |s| s.attempts)
                + u32::from(
                    status == StepStatus::Running
                        && old.as_ref().is_none_or(|s| s.status != StepStatus::Running),
                );
            let now = now_ms();
            sqlx::query(
                "INSERT INTO steps (incident_id, step_id, idx, status, attempts, detail, updated_ms) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (incident_id, step_id) DO UPDATE SET \
                 status = excluded.status, attempts = excluded.attempts, detail = excluded.detail, \
                 updated_ms = excluded.updated_ms",
            )
            .bind(iid)
            .bind(&step_id)
            .bind(i64::from(index))
            .bind(status.as_str())
            .bind(i64::from(attempts))
            .bind(detail.as_deref().map(firebreak_primitives::redact))
            .bind(i64_of(now, "time")?)
            .execute(&mut *tx)
            .await
            .map_err(q("write step"))?;
            let changed = old.as_ref().is_none_or(|s| s.status != status || s.detail != detail);
            if changed {
                let e = Event::Step(event::StepChanged {
                    step: step_id.clone(),
                    index,
                    status,
                    attempt: attempts,
                    detail: detail.clone(),
                });
                append_in(&mut tx, id, &Actor::System, &e).await?;
            }
            tx.commit().await.map_err(q("commit"))?;
            Ok(StepState { step_id, index, status, attempts, detail, updated_ms: now })
        })
    }
    fn steps(&self, id: IncidentId) -> BoxFuture<'_, Result<Vec<StepState>>> {
        boxed!({
            let rows = sqlx::query("SELECT * FROM steps WHERE incident_id = $1 ORDER BY idx")
                .bind(i64_of(id.0, "incident id")?)
                .fetch_all(&self.pool)
                .await
                .map_err(q("read steps"))?;
            rows.iter().map(step_of).collect()
        })
    }
    fn decide(
        &self,
        id: IncidentId,
        step_id: &str,
        member: &str,
        approve: bool,
    ) -> BoxFuture<'_, Result<bool>> {
        let (step_id, member) = (step_id.to_owned(), member.to_owned());
        boxed!({
            let mut tx = self.write().await?;
            let done = sqlx::query(
                "INSERT INTO approvals (incident_id, step_id, member, approve, at_ms) \
                 VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING",
            )
            .bind(i64_of(id.0, "incident id")?)
            .bind(&step_id)
            .bind(&member)
            .bind(i64::from(approve))
            .bind(i64_of(now_ms(), "time")?)
            .execute(&mut *tx)
            .await
            .map_err(q("write approval"))?;
            let new = done.rows_affected() == 1;
            if new {
                let step = event::StepRef { step: step_id };
                let e = if approve { Event::Approved(step) } else { Event::Rejected(step) };
                append_in(&mut tx, id, &Actor::Member(member), &e).await?;
            }
            tx.commit().await.map_err(q("commit"))?;
            Ok(new)
        })
    }
    fn approvals(&self, id: IncidentId) -> BoxFuture<'_, Result<Vec<ApprovalRecord>>> {
        boxed!({
            let rows = sqlx::query("SELECT * FROM approvals WHERE incident_id = $1 ORDER BY at_ms")
                .bind(i64_of(id.0, "incident id")?)
                .fetch_all(&self.pool)
                .await
                .map_err(q("read approvals"))?;
            rows.iter()
                .map(|r| {
                    Ok(ApprovalRecord {
                        step_id: get(r, "step_id")?,
                        member: get(r, "member")?,
                        approve: get::<i64>(r, "approve")? != 0,
                        at_ms: u64_col(r, "at_ms")?,
                    })
                })
                .collect()
        })
    }
}

impl ActionStore for Store {
    fn put_action(&self, a: ActionRecord, event: Option<Event>) -> BoxFuture<'_, Result<()>> {
        boxed!({
            let mut tx = self.write().await?;
            put_action_in(&mut tx, a, event).await?;
            tx.commit().await.map_err(q("commit"))
        })
    }
    fn put_action_fenced<'a>(
        &'a self,
        a: ActionRecord,
        event: Option<Event>,
        fence: &'a crate::Fence,
    ) -> BoxFuture<'a, Result<()>> {
        boxed!({
            let mut tx = self.write().await?;
            super::leases::check_fence(&mut tx, fence).await?;
            put_action_in(&mut tx, a, event).await?;
            tx.commit().await.map_err(q("commit"))
        })
    }
    fn action<'a>(
        &'a self,
        key: &'a firebreak_primitives::ActionKey,
    ) -> BoxFuture<'a, Result<Option<ActionRecord>>> {
        let key = key.to_string();
        boxed!({
            let row = sqlx::query("SELECT * FROM actions WHERE key = $1")
                .bind(&key)
                .fetch_optional(&self.pool)
                .await
                .map_err(q("read action"))?;
            row.as_ref().map(action_of).transpose()
        })
    }
    fn actions(&self, id: IncidentId) -> BoxFuture<'_, Result<Vec<ActionRecord>>> {
        boxed!({
            let rows = sqlx::query(
                concat!(
                    "SELECT * FROM actions WHERE incident_id = $1 ORDER BY created_ms, ",
                    rowid!()
                ),
            )
            .bind(i64_of(id.0, "incident id")?)
            .fetch_all(&self.pool)
            .await
            .map_err(q("read actions"))?;
            rows.iter().map(action_of).collect()
        })
    }
    fn add_signature(
        &self,
        s: SafeSignature,
        incident: Option<(IncidentId, Actor)>,
    ) -> BoxFuture<'_, Result<bool>> {
        boxed!({
            let mut tx = self.write().await?;
            let done = sqlx::query(
                "INSERT INTO safe_signatures (safe_tx_hash, signer, signature, source, at_ms) \
                 VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING",
            )
            .bind(s.safe_tx_hash.to_string())
            .bind(s.signer.to_string())
            .bind(s.signature.to_string())
            .bind(&s.source)
            .bind(i64_of(now_ms(), "time")?)
            .execute(&mut *tx)
            .await
            .map_err(q("write signature"))?;
            let new = done.rows_affected() == 1;
            if let (true, Some((id, actor))) = (new, incident) {
                let e = Event::SafeSignature(event::SafeSignature {
                    safe_tx_hash: s.safe_tx_hash.to_string(),
                    owner: s.signer.to_string(),
                    source: s.source.clone(),
                });
                append_in(&mut tx, id, &actor, &e).await?;
            }
            tx.commit().await.map_err(q("commit"))?;
            Ok(new)
        })
    }
    fn signatures(&self, safe_tx_hash: B256) -> BoxFuture<'_, Result<Vec<SafeSignature>>> {
        boxed!({
            let rows = sqlx::query(
                "SELECT * FROM safe_signatures WHERE safe_tx_hash = $1 ORDER BY at_ms, signer",
            )
            .bind(safe_tx_hash.to_string())
            .fetch_all(&self.pool)
            .await
            .map_err(q("read signatures"))?;
            rows.iter()
                .map(|r| {
                    Ok(SafeSignature {
                        safe_tx_hash: parsed(r, "safe_tx_hash", "signature")?,
                        signer: parsed(r, "signer", "signature")?,
                        signature: parsed(r, "signature", "signature")?,
                        source: get(r, "source")?,
                    })
                })
                .collect()
        })
    }
    fn put_presigned(&self, p: Presigned) -> BoxFuture<'_, Result<()>> {
        boxed!({
            let mut tx = self.write().await?;
            sqlx::query(
                "INSERT INTO presigned (chain_id, safe, nonce, safe_tx_hash, safe_tx, contracts, \
                 created_ms) VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT DO NOTHING",
            )
            .bind(i64_of(p.chain_id, "chain id")?)
            .bind(p.safe.to_string())
            .bind(i64_of(p.nonce, "nonce")?)
            .bind(p.safe_tx_hash.to_string())
            .bind(to_json(&p.safe_tx, "presigned")?)
            .bind(to_json(&p.contracts, "presigned")?)
            .bind(i64_of(p.created_ms, "time")?)
            .execute(&mut *tx)
            .await
            .map_err(q("write presigned"))?;
            tx.commit().await.map_err(q("commit"))?;
            Ok(())
        })
    }
    fn presigned(&self, chain_id: u64, safe: Address) -> BoxFuture<'_, Result<Vec<Presigned>>> {
        boxed!({
            let rows = sqlx::query(
                "SELECT * FROM presigned WHERE chain_id = $1 AND safe = $2 ORDER BY nonce DESC, created_ms DESC",
            )
            .bind(i64_of(chain_id, "chain id")?)
            .bind(safe.to_string())
            .fetch_all(&self.pool)
            .await
            .map_err(q("read presigned"))?;
            rows.iter()
                .map(|r| {
                    Ok(Presigned {
                        chain_id,
                        safe,
                        nonce: u64_col(r, "nonce")?,
                        safe_tx_hash: parsed(r, "safe_tx_hash", "presigned")?,
                        safe_tx: json_col(r, "safe_tx", "presigned")?,
                        contracts: json_col(r, "contracts", "presigned")?,
                        created_ms: u64_col(r, "created_ms")?,
                    })
                })
                .collect()
        })
    }
}

impl OutboxStore for Store {
    fn enqueue(&self, m: OutboxMessage) -> BoxFuture<'_, Result<bool>> {
        boxed!({
            // queued before (each round re-queues what is due): a read, no write
            let known = sqlx::query("SELECT 1 FROM outbox WHERE key = $1")
                .bind(&m.key)
                .fetch_optional(&self.pool)
                .await
                .map_err(q("look up message"))?;
            if known.is_some() {
                return Ok(false);
            }
            let mut tx = self.write().await?;
            let done = sqlx::query(
                "INSERT INTO outbox (key, incident_id, channel, body, next_at_ms, created_ms) \
                 VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (key) DO NOTHING",
            )
            .bind(&m.key)
            .bind(m.incident.map(|i| i64_of(i.0, "incident id")).transpose()?)
            .bind(&m.channel)
            .bind(to_json(&m.body, "outbox")?)
            .bind(i64_of(m.next_at_ms, "time")?)
            .bind(i64_of(m.created_ms, "time")?)
            .execute(&mut *tx)
            .await
            .map_err(q("enqueue"))?;
            tx.commit().await.map_err(q("commit"))?;
            let queued = done.rows_affected() == 1;
            if queued {
                self.outbox.send_modify(|n| *n = n.wrapping_add(1));
            }
            Ok(queued)
        })
    }
    fn outbox_changes(&self) -> Option<tokio::sync::watch::Receiver<u64>> {
        Some(self.outbox.subscribe())
    }
    fn due_messages(&self, now_ms: u64, limit: u32) -> BoxFuture<'_, Result<Vec<OutboxMessage>>> {
        boxed!({
            // the oldest pending message of each (incident, channel), if due
            let rows = sqlx::query(
                "SELECT o.* FROM outbox o WHERE o.status = 'pending' AND o.id = \
                 (SELECT MIN(p.id) FROM outbox p WHERE p.status = 'pending' AND p.channel = o.channel \
                  AND p.incident_id IS NOT DISTINCT FROM o.incident_id) AND o.next_at_ms <= $1 ORDER BY o.id LIMIT $2",
            )
            .bind(i64_of(now_ms, "time")?)
            .bind(i64::from(limit))
            .fetch_all(&self.pool)
            .await
            .map_err(q("read outbox"))?;
            rows.iter().map(outbox_of).collect()
        })
    }
    fn claim_due<'a>(
        &'a self,
        holder: &'a str,
        now_ms: u64,
        limit: u32,
        claim_ms: u64,
    ) -> BoxFuture<'a, Result<Vec<OutboxMessage>>> {
        boxed!({
            // nothing due (most rounds): a read, no write and no fsync
            if self.due_messages(now_ms, 1).await?.is_empty() {
                return Ok(Vec::new());
            }
            let mut tx = self.write().await?;
            let rows = sqlx::query(concat!(
                "UPDATE outbox SET claimed_by = $1, claimed_until = ",
                now_ms!(),
                " + $4 WHERE id IN (SELECT o.id FROM outbox o WHERE o.status = 'pending' AND o.id = \
                 (SELECT MIN(p.id) FROM outbox p WHERE p.status = 'pending' AND p.channel = o.channel \
                  AND p.incident_id IS NOT DISTINCT FROM o.incident_id) AND o.next_at_ms <= $2 \
                  AND (o.claimed_until IS NULL OR o.claimed_by = $1 OR o.claimed_until < ",
                now_ms!(),
                ") ORDER BY o.id LIMIT $3",
                skip_locked!(),
                ") RETURNING *"
            ))
            .bind(holder)
            .bind(i64_of(now_ms, "time")?)
            .bind(i64::from(limit))
            .bind(i64_of(claim_ms, "claim time")?)
            .fetch_all(&mut *tx)
            .await
            .map_err(q("claim outbox"))?;
            tx.commit().await.map_err(q("commit"))?;
            let mut claimed = rows.iter().map(outbox_of).collect::<Result<Vec<_>>>()?;
            claimed.sort_by_key(|m| m.id);
            Ok(claimed)
        })
    }
    fn delivered(&self, id: u64, attempts: u32) -> BoxFuture<'_, Result<()>> {
        boxed!({
            let mut tx = self.write().await?;
            let now = now_ms();
            sqlx::query("UPDATE outbox SET status = 'delivered', attempts = $1, delivered_ms = $2, last_error = NULL, \
                 claimed_by = NULL, claimed_until = NULL WHERE id = $3")
                .bind(i64::from(attempts))
                .bind(i64_of(now, "time")?)
                .bind(i64_of(id, "outbox id")?)
                .execute(&mut *tx)
                .await
                .map_err(q("mark delivered"))?;
            let m = outbox_row(&mut tx, id).await?;
            if let Some(incident) = m.incident {
                let e = Event::MessageDelivered(event::MessageDelivered {
                    channel: m.channel.clone(),
                    key: m.key.clone(),
                    attempts,
                    event: m.body["event"].as_str().map(str::to_owned),
                    queued_ms: now.saturating_sub(m.created_ms),
                });
                append_in(&mut tx, incident, &Actor::System, &e).await?;
            }
            tx.commit().await.map_err(q("commit"))?;
            Ok(())
        })
    }
    fn attempt_failed(
        &self,
        id: u64,
        attempts: u32,
        error: String,
        next_at_ms: Option<u64>,
    ) -> BoxFuture<'_, Result<()>> {
        boxed!({
            let mut tx = self.write().await?;
            let (status, next) = match next_at_ms {
                Some(t) => ("pending", t),
                None => ("failed", now_ms()),
            };
            sqlx::query("UPDATE outbox SET status = $1, attempts = $2, last_error = $3, next_at_ms = $4, \
                 claimed_by = NULL, claimed_until = NULL WHERE id = $5")
                .bind(status)
                .bind(i64::from(attempts))
                .bind(firebreak_primitives::redact(&error))
                .bind(i64_of(next, "time")?)
                .bind(i64_of(id, "outbox id")?)
                .execute(&mut *tx)
                .await
                .map_err(q("mark failed"))?;
            let m = outbox_row(&mut tx, id).await?;
            // the end of a message's tries is on its incident's timeline, and
            // so is its first failure: an error the team should see at once
            // (a channel down, a process out of file descriptors) is not
            // hidden until the retries give up
            let failed = event::MessageFailed {
                channel: m.channel.clone(),
                key: m.key.clone(),
                attempts,
                error,
                event: m.body["event"].as_str().map(str::to_owned),
                retry_at_ms: next_at_ms,
            };
            let e = match next_at_ms {
                None => Some(Event::MessageFailed(failed)),
                Some(_) if attempts == 1 => Some(Event::MessageRetrying(failed)),
                Some(_) => None,
            };
            if let (Some(incident), Some(e)) = (m.incident, e) {
                append_in(&mut tx, incident, &Actor::System, &e).await?;
            }
            tx.commit().await.map_err(q("commit"))?;
            Ok(())
        })
    }
    fn outbox(&self, incident: Option<IncidentId>) -> BoxFuture<'_, Result<Vec<OutboxMessage>>> {
        boxed!({
            let rows = match incident {
                Some(i) => {
                    sqlx::query("SELECT * FROM outbox WHERE incident_id = $1 ORDER BY id")
                        .bind(i64_of(i.0, "incident id")?)
                        .fetch_all(&self.pool)
                        .await
                }
                None => sqlx::query("SELECT * FROM outbox ORDER BY id").fetch_all(&self.pool).await,
            }
            .map_err(q("read outbox"))?;
            rows.iter().map(outbox_of).collect()
        })
    }
}

/// `v` with every registered secret in its strings (and keys) redacted.
fn redact_json(v: Value) -> Value {
    match v {
        Value::String(s) if firebreak_primitives::redact::holds_secret(&s) => {
            Value::String(firebreak_primitives::redact(&s))
        }
        Value::Array(items) => Value::Array(items.into_iter().map(redact_json).collect()),
        Value::Object(map) => Value::Object(
            map.into_iter()
                .map(|(k, v)| (firebreak_primitives::redact(&k), redact_json(v)))
                .collect(),
        ),
        other => other,
    }
}
