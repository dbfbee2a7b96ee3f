//! A store written by the previous release (schema version 4: a demo run,
//! one contained incident with a 14-entry timeline, in
//! `tests/fixtures/schema-4-demo.db`) opens, migrates, and its incidents
//! still verify: the new timeline head on the incident row is filled from
//! the existing entries.

use firebreak_store::{IncidentFilter, IncidentStore as _, SqliteStore, verify_incident};

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
            "note",
            serde_json::json!({"text": "after the upgrade"}),
        )
        .await
        .unwrap();
    let i = store.incident(id).await.unwrap().unwrap();
    let timeline = store.timeline(id).await.unwrap();
    assert_eq!(i.timeline_len, 15);
    verify_incident(&i, &timeline).unwrap();
}
