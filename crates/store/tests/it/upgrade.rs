//! A store written by the previous release (schema version 4: a demo run,
//! one contained incident with a 14-entry timeline, in
//! `tests/fixtures/schema-4-demo.db`) opens, migrates, and its incidents
//! still verify: the new timeline head on the incident row is filled from
//! the existing entries.

use firebreak_store::prelude::*;
use firebreak_store::{IncidentFilter, SqliteStore, verify_incident};

#[tokio::test]
async fn a_store_of_the_previous_schema_migrates_and_still_verifies() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("old.db");
    let fixture =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/schema-4-demo.db");
    std::fs::copy(&fixture, &db).unwrap();
    let store = SqliteStore::open(&db).await.unwrap();
    let incidents = store.incidents(&IncidentFilter::default()).await.unwrap();
    assert_eq!(incidents.len(), 1);
    for i in &incidents {
        let timeline = store.timeline(i.id).await.unwrap();
        assert_eq!(timeline.len(), 14);
        assert_eq!(i.timeline_len, 14, "the head is filled in from the entries");
        assert_eq!(i.timeline_head, timeline.last().unwrap().hash);
        verify_incident(i, &timeline).unwrap();
    }
    // and it keeps working: a new entry moves the head
    let id = incidents[0].id;
    store
        .append(
            id,
            firebreak_primitives::Actor::System,
            firebreak_primitives::Event::Note(firebreak_primitives::event::Note {
                text: "after the upgrade".into(),
            }),
        )
        .await
        .unwrap();
    let i = store.incident(id).await.unwrap().unwrap();
    let timeline = store.timeline(id).await.unwrap();
    assert_eq!(i.timeline_len, 15);
    verify_incident(&i, &timeline).unwrap();
}

/// A store written by the version before typed timeline events (a demo run
/// then `incident ack` and two `incident status` moves with the binary of
/// that version: 17 entries of 9 kinds, in
/// `tests/fixtures/before-typed-events.db`) opens, every entry reads as its
/// typed event, the chain verifies, and a typed entry appended after it
/// links on.
#[tokio::test]
async fn a_store_written_before_typed_events_reads_typed_and_still_verifies() {
    use firebreak_primitives::{Event, IncidentStatus, event};
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("old.db");
    let fixture = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/before-typed-events.db");
    std::fs::copy(&fixture, &db).unwrap();
    let store = SqliteStore::open(&db).await.unwrap();
    let incidents = store.incidents(&IncidentFilter::default()).await.unwrap();
    assert_eq!(incidents.len(), 1);
    let i = &incidents[0];
    let timeline = store.timeline(i.id).await.unwrap();
    assert_eq!(timeline.len(), 17);
    verify_incident(i, &timeline).unwrap();
    for e in &timeline {
        assert!(
            !matches!(e.event, Event::Unrecognised { .. }),
            "entry {} did not read: {e:?}",
            e.seq
        );
        // the typed view writes back the very JSON that was hashed
        assert_eq!(e.event.to_stored().unwrap().1, e.body, "entry {} ({})", e.seq, e.kind());
    }
    let kinds: std::collections::BTreeSet<&str> = timeline.iter().map(|e| e.kind()).collect();
    assert_eq!(kinds.len(), 9, "{kinds:?}");
    assert!(
        timeline.iter().any(|e| matches!(&e.event,
        Event::Status(s) if s.to == IncidentStatus::Resolved && s.note.as_deref() == Some("done")))
    );
    assert!(timeline.iter().any(|e| matches!(&e.event,
        Event::Acknowledged(a) if a.member == "alice")));
    // the action keys of that version read as typed keys
    let actions = store.actions(i.id).await.unwrap();
    assert_eq!(actions.len(), 1);
    assert_eq!(actions[0].key.to_string(), "1/pause-1/signer:guardian/vault");
    let note = Event::Note(event::Note { text: "after the typed events".into() });
    store.append(i.id, firebreak_primitives::Actor::System, note).await.unwrap();
    let i = store.incident(i.id).await.unwrap().unwrap();
    let timeline = store.timeline(i.id).await.unwrap();
    assert_eq!(i.timeline_len, 18);
    verify_incident(&i, &timeline).unwrap();
}
