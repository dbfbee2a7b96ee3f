//! The tamper-evident timeline: each entry carries the previous entry's hash
//! and its own, SHA-256 over a canonical encoding.
//!
//! The canonical encoding is JSON with object keys sorted, no whitespace, of
//! `{"actor", "at", "body", "incident", "kind", "prev", "seq"}`. The first
//! entry's `prev` is 64 zeros. Anyone can re-check a chain from the rows alone.

use firebreak_primitives::{Actor, IncidentId};
use serde::Serialize;
use serde_json::Value;
use sha2::{Digest, Sha256};

/// `prev` of an incident's first entry.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// One timeline entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TimelineEntry {
    /// Incident.
    pub incident: IncidentId,
    /// Position, from 1.
    pub seq: u64,
    /// RFC 3339 time with milliseconds, UTC.
    pub at: String,
    /// Who.
    pub actor: Actor,
    /// What kind of event (`incident_opened`, `step`, `tx_broadcast` …).
    pub kind: String,
    /// Details.
    pub body: Value,
    /// Hash of the previous entry.
    pub prev_hash: String,
    /// Hash of this entry.
    pub hash: String,
}

/// Now as RFC 3339 with milliseconds, UTC (the timeline's time format).
pub fn rfc3339_now() -> String {
    jiff::Timestamp::now().strftime("%Y-%m-%dT%H:%M:%S%.3fZ").to_string()
}

/// Writes `v` with object keys sorted and no whitespace.
pub fn canonical_json(v: &Value) -> String {
    let mut out = String::new();
    write_canonical(v, &mut out);
    out
}

fn write_canonical(v: &Value, out: &mut String) {
    match v {
        Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            out.push('{');
            for (i, k) in keys.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(&Value::String((*k).clone()).to_string());
                out.push(':');
                write_canonical(&map[k.as_str()], out);
            }
            out.push('}');
        }
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_canonical(item, out);
            }
            out.push(']');
        }
        other => out.push_str(&other.to_string()),
    }
}

/// The hash of an entry from its fields.
pub fn entry_hash(
    incident: IncidentId,
    seq: u64,
    at: &str,
    actor: &Actor,
    kind: &str,
    body: &Value,
    prev: &str,
) -> String {
    let doc = serde_json::json!({
        "actor": actor.to_string(),
        "at": at,
        "body": body,
        "incident": incident.0,
        "kind": kind,
        "prev": prev,
        "seq": seq,
    });
    let digest = Sha256::digest(canonical_json(&doc).as_bytes());
    alloy_primitives::hex::encode(digest)
}

/// Where a timeline stops verifying.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ChainBreak {
    /// An entry is missing or out of order.
    #[error("entry {found} follows entry {after}: entries are missing or reordered")]
    Gap {
        /// Previous sequence number.
        after: u64,
        /// Found sequence number.
        found: u64,
    },
    /// An entry's `prev` is not the previous entry's hash.
    #[error("entry {seq} does not link to the entry before it (prev {prev}, expected {expected})")]
    Link {
        /// Entry.
        seq: u64,
        /// Its `prev`.
        prev: String,
        /// The previous entry's hash.
        expected: String,
    },
    /// The timeline does not end where the incident's record says: entries
    /// were deleted from its end (or added outside firebreak).
    #[error(
        "the timeline has {found} entries, but the incident's record says {recorded} ending in {recorded_head}: its last entries were removed"
    )]
    Truncated {
        /// Entries the incident's record counts.
        recorded: u64,
        /// The last hash the incident's record holds.
        recorded_head: String,
        /// Entries found.
        found: u64,
    },
    /// An entry's content does not match its hash: it was altered.
    #[error("entry {seq} ({kind}) was altered: its content hashes to {computed}, not {stored}")]
    Altered {
        /// Entry.
        seq: u64,
        /// Its kind.
        kind: String,
        /// Hash recomputed from the content.
        computed: String,
        /// Hash stored.
        stored: String,
    },
}

/// Re-checks every link and hash of an incident's timeline, and that it
/// ends where the incident's record says it ends: the hash chain alone
/// cannot tell a timeline whose last entries were deleted.
///
/// # Errors
/// The first [`ChainBreak`].
pub fn verify_incident(
    incident: &crate::Incident,
    entries: &[TimelineEntry],
) -> Result<(), ChainBreak> {
    verify_chain(entries)?;
    let found = entries.len() as u64;
    let head = entries.last().map(|e| e.hash.as_str()).unwrap_or_default();
    if found != incident.timeline_len || head != incident.timeline_head {
        return Err(ChainBreak::Truncated {
            recorded: incident.timeline_len,
            recorded_head: incident.timeline_head.clone(),
            found,
        });
    }
    Ok(())
}

/// Re-checks every link and hash of an incident's timeline.
///
/// # Errors
/// The first [`ChainBreak`].
pub fn verify_chain(entries: &[TimelineEntry]) -> Result<(), ChainBreak> {
    let mut prev = GENESIS.to_owned();
    let mut last = 0;
    for e in entries {
        if e.seq != last + 1 {
            return Err(ChainBreak::Gap { after: last, found: e.seq });
        }
        if e.prev_hash != prev {
            return Err(ChainBreak::Link { seq: e.seq, prev: e.prev_hash.clone(), expected: prev });
        }
        let computed = entry_hash(e.incident, e.seq, &e.at, &e.actor, &e.kind, &e.body, &prev);
        if computed != e.hash {
            return Err(ChainBreak::Altered {
                seq: e.seq,
                kind: e.kind.clone(),
                computed,
                stored: e.hash.clone(),
            });
        }
        prev = e.hash.clone();
        last = e.seq;
    }
    Ok(())
}

/// One line on what a timeline entry says.
pub fn describe(e: &TimelineEntry) -> String {
    let b = &e.body;
    let s = |k: &str| b[k].as_str().unwrap_or_default().to_owned();
    match e.kind.as_str() {
        "incident_opened" if b.get("manual").is_some() => format!(
            "[{}] {} — opened by {}: {}",
            s("severity"),
            s("title"),
            b["manual"]["by"].as_str().unwrap_or(""),
            b["manual"]["reason"].as_str().unwrap_or("")
        ),
        "incident_opened" => format!(
            "[{}] {} — `{}` at block {}",
            s("severity"),
            s("title"),
            b["alert"]["monitor"].as_str().unwrap_or(""),
            b["alert"]["block_number"]
        ),
        "unpause_requested" => format!(
            "unpause of {} requested (needs {} approval(s))",
            b["contracts"]
                .as_array()
                .map(|a| a.iter().filter_map(|c| c.as_str()).collect::<Vec<_>>().join(", "))
                .unwrap_or_default(),
            b["quorum"]
        ),
        "announcement_drafted" | "announcement_approved" | "announcement_published" => {
            format!("announcement {} ({}): {}", b["announcement"], s("status"), s("message"))
        }
        "alert" => format!("`{}` fired at block {}", s("monitor"), b["block_number"]),
        "readiness_problem" => {
            let problems = b["problems"].as_array().map(Vec::as_slice).unwrap_or_default();
            let lines: Vec<String> = problems
                .iter()
                .map(|p| {
                    format!(
                        "`{}` through {}: `{}` cannot {}",
                        p["contract"].as_str().unwrap_or("?"),
                        p["path"].as_str().unwrap_or("?"),
                        p["signer"].as_str().unwrap_or("?"),
                        if p["live"] == true {
                            format!("land: {}", p["reason"].as_str().unwrap_or("?"))
                        } else {
                            "sign".to_owned()
                        }
                    )
                })
                .collect();
            format!("NOT READY: {}", lines.join("; "))
        }
        "severity_raised" => format!("{} → {}", s("from"), s("to")),
        "status" => format!(
            "{} → {}{}",
            s("from"),
            s("to"),
            b["note"].as_str().map(|n| format!(" ({n})")).unwrap_or_default()
        ),
        "step" => format!(
            "`{}` {}{}",
            s("step"),
            s("status"),
            b["detail"].as_str().map(|d| format!(" — {d}")).unwrap_or_default()
        ),
        "action_planned" => format!("{} via {}", s("action"), s("path")),
        "simulation_reverted" => format!("simulation from {} reverted: {}", s("from"), s("reason")),
        "tx_signed" | "tx_replaced" => format!(
            "{} nonce {} tip {} wei",
            s("tx_hash"),
            b["nonce"],
            s("max_priority_fee_per_gas")
        ),
        "tx_broadcast" => format!(
            "{} accepted by {} endpoint(s) at head {}",
            s("tx_hash"),
            b["accepted_by"],
            b["head"]
        ),
        "tx_mined" => format!("{} mined in block {}", s("tx_hash"), b["block_number"]),
        "tx_reverted" => format!("{} REVERTED in block {}", s("tx_hash"), b["block_number"]),
        "nonce_taken" | "path_unavailable" => {
            b["detail"].as_str().or_else(|| b["reason"].as_str()).unwrap_or_default().to_owned()
        }
        "safe_tx_built" | "safe_nonce_moved" => {
            format!("SafeTx {} at nonce {}", s("safe_tx_hash"), b["nonce"])
        }
        "safe_signature" => {
            format!("{} signed {} ({})", s("owner"), s("safe_tx_hash"), s("source"))
        }
        "safe_threshold_met" => format!(
            "{} signatures; relayer {}",
            b["signers"].as_array().map_or(0, Vec::len),
            s("relayer")
        ),
        "approved" | "rejected" => format!("step `{}`", s("step")),
        "asked" => format!(
            "asked {} on `{}` for {} (step `{}`)",
            s("member"),
            s("channel"),
            if b["reason"] == "signature" { "a Safe signature" } else { "an approval" },
            s("step")
        ),
        "message_retrying" => format!(
            "{} on channel `{}` failed (attempt {}), retrying: {}",
            b["event"].as_str().unwrap_or("message"),
            s("channel"),
            b["attempts"],
            s("error")
        ),
        "message_failed" => format!(
            "{} on channel `{}` FAILED after {} attempt(s): {}",
            b["event"].as_str().unwrap_or("message"),
            s("channel"),
            b["attempts"],
            s("error")
        ),
        "page_unreachable" => format!("NOBODY PAGED: {}", s("reason")),
        "tx_reorged" => format!(
            "{} was in block {}, which a reorg replaced: {}",
            s("tx_hash"),
            b["block_number"],
            s("detail")
        ),
        "unpaused_outside_plan" => format!(
            "`{}` reads unpaused at block {} and no unpause was ordered",
            s("contract"),
            b["block"]
        ),
        _ => {
            let text = b.to_string();
            if text.chars().count() > 120 {
                format!("{}…", text.chars().take(117).collect::<String>())
            } else {
                text
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chain(n: u64) -> Vec<TimelineEntry> {
        let mut prev = GENESIS.to_owned();
        (1..=n)
            .map(|seq| {
                let body = serde_json::json!({"n": seq, "b": [1, {"z": 1, "a": 2}]});
                let at = format!("2026-01-01T00:00:0{seq}.000Z");
                let hash =
                    entry_hash(IncidentId(7), seq, &at, &Actor::System, "note", &body, &prev);
                let e = TimelineEntry {
                    incident: IncidentId(7),
                    seq,
                    at,
                    actor: Actor::System,
                    kind: "note".into(),
                    body,
                    prev_hash: prev.clone(),
                    hash: hash.clone(),
                };
                prev = hash;
                e
            })
            .collect()
    }

    #[test]
    fn canonical_json_sorts_keys_at_every_depth() {
        let v = serde_json::json!({"b": 1, "a": {"d": [true, null], "c": "x\"y"}});
        assert_eq!(canonical_json(&v), r#"{"a":{"c":"x\"y","d":[true,null]},"b":1}"#);
    }

    #[test]
    fn an_intact_chain_verifies_and_any_change_breaks_it() {
        let good = chain(4);
        assert_eq!(verify_chain(&good), Ok(()));

        let mut altered = good.clone();
        altered[1].body = serde_json::json!({"n": 99});
        assert!(matches!(verify_chain(&altered), Err(ChainBreak::Altered { seq: 2, .. })));

        let mut actor = good.clone();
        actor[2].actor = Actor::Member("mallory".into());
        assert!(matches!(verify_chain(&actor), Err(ChainBreak::Altered { seq: 3, .. })));

        let mut dropped = good.clone();
        dropped.remove(1);
        assert!(matches!(verify_chain(&dropped), Err(ChainBreak::Gap { after: 1, found: 3 })));

        let mut relinked = good;
        relinked[3].prev_hash = GENESIS.into();
        assert!(matches!(verify_chain(&relinked), Err(ChainBreak::Link { seq: 4, .. })));
    }
}
