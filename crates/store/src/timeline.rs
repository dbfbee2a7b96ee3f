//! The tamper-evident timeline: each entry carries the previous entry's hash
//! and its own, SHA-256 over a canonical encoding.
//!
//! The canonical encoding is JSON with object keys sorted, no whitespace, of
//! `{"actor", "at", "body", "incident", "kind", "prev", "seq"}`. The first
//! entry's `prev` is 64 zeros. Anyone can re-check a chain from the rows alone.

use firebreak_primitives::{Actor, Event, IncidentId};
use serde::Serialize;
use serde_json::Value;
use sha2::{Digest, Sha256};

/// `prev` of an incident's first entry.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// One timeline entry: the typed event, and the body exactly as stored
/// (which is what the hash covers; the event is a view of it).
#[derive(Debug, Clone, PartialEq)]
pub struct TimelineEntry {
    /// Incident.
    pub incident: IncidentId,
    /// Position, from 1.
    pub seq: u64,
    /// RFC 3339 time with milliseconds, UTC.
    pub at: String,
    /// Who.
    pub actor: Actor,
    /// What happened, typed.
    pub event: Event,
    /// The body as stored and hashed.
    pub body: Value,
    /// Hash of the previous entry.
    pub prev_hash: String,
    /// Hash of this entry.
    pub hash: String,
}

impl TimelineEntry {
    /// An entry from its stored columns; the event is read from the kind and
    /// body (never failing: see [`Event::Unrecognised`]).
    #[allow(clippy::too_many_arguments)]
    pub fn from_stored(
        incident: IncidentId,
        seq: u64,
        at: String,
        actor: Actor,
        kind: &str,
        body: Value,
        prev_hash: String,
        hash: String,
    ) -> Self {
        let event = Event::from_stored(kind, &body);
        Self { incident, seq, at, actor, event, body, prev_hash, hash }
    }

    /// The kind, as stored (`"tx_mined"`).
    pub fn kind(&self) -> &str {
        self.event.kind()
    }
}

/// The API's and `--json`'s shape: the stored columns.
impl Serialize for TimelineEntry {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        #[derive(Serialize)]
        struct Row<'a> {
            incident: IncidentId,
            seq: u64,
            at: &'a str,
            actor: &'a Actor,
            kind: &'a str,
            body: &'a Value,
            prev_hash: &'a str,
            hash: &'a str,
        }
        Row {
            incident: self.incident,
            seq: self.seq,
            at: &self.at,
            actor: &self.actor,
            kind: self.kind(),
            body: &self.body,
            prev_hash: &self.prev_hash,
            hash: &self.hash,
        }
        .serialize(s)
    }
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
        let computed = entry_hash(e.incident, e.seq, &e.at, &e.actor, e.kind(), &e.body, &prev);
        if computed != e.hash {
            return Err(ChainBreak::Altered {
                seq: e.seq,
                kind: e.kind().to_owned(),
                computed,
                stored: e.hash.clone(),
            });
        }
        prev = e.hash.clone();
        last = e.seq;
    }
    Ok(())
}

/// One line on what a timeline entry says (see [`Event::describe`]).
pub fn describe(e: &TimelineEntry) -> String {
    e.event.describe(&e.body)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chain(n: u64) -> Vec<TimelineEntry> {
        let mut prev = GENESIS.to_owned();
        (1..=n)
            .map(|seq| {
                let body =
                    serde_json::json!({"text": format!("{seq}"), "b": [1, {"z": 1, "a": 2}]});
                let at = format!("2026-01-01T00:00:0{seq}.000Z");
                let hash =
                    entry_hash(IncidentId(7), seq, &at, &Actor::System, "note", &body, &prev);
                let e = TimelineEntry::from_stored(
                    IncidentId(7),
                    seq,
                    at,
                    Actor::System,
                    "note",
                    body,
                    prev.clone(),
                    hash.clone(),
                );
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
