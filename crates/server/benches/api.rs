//! How fast the war room answers during a busy incident: the timeline of an
//! incident with 200 entries through the API, the dashboard's incident page
//! and its live fragment (rendered from the same record), and the public
//! status page with 20 published updates. Real SQLite (in memory), the real
//! router, requests through `Router::oneshot`.
#![allow(missing_docs, clippy::unwrap_used)]

#[path = "../tests/it/harness.rs"]
#[allow(dead_code, unreachable_pub)]
mod harness;

use criterion::{Criterion, criterion_group, criterion_main};
use firebreak_primitives::{Actor, IncidentId};
use firebreak_store::prelude::*;
use firebreak_store::{AnnouncementState, NewAnnouncement, WarRoomStore};

fn bench(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let room = rt.block_on(async {
        let r = harness::room().await;
        for i in 0..200 {
            let text = format!("entry {i} {}", "x".repeat(200));
            let note =
                firebreak_primitives::Event::Note(firebreak_primitives::event::Note { text });
            r.store.append(IncidentId(1), Actor::System, note).await.unwrap();
        }
        for i in 0..20 {
            let a = r
                .store
                .draft_announcement(NewAnnouncement {
                    incident: Some(IncidentId(1)),
                    status: "monitoring".into(),
                    message: format!("update {i}: the vault stays paused while we verify the fix"),
                    components: vec!["vault".into()],
                    author: Actor::Member("dan".into()),
                })
                .await
                .unwrap();
            r.store.advance_announcement(a.id, AnnouncementState::Draft, "alice").await.unwrap();
            r.store.advance_announcement(a.id, AnnouncementState::Approved, "dan").await.unwrap();
        }
        r
    });
    let get = |path: &'static str, member: Option<&'static str>| {
        let room = &room;
        let rt = &rt;
        move || {
            rt.block_on(async {
                let reply = room.call("GET", path, member, None).await;
                assert_eq!(reply.status, 200, "{path}");
                reply.text.len()
            })
        }
    };
    c.bench_function("GET /api/v1/incidents/1/timeline (207 entries, hash chain verified)", |b| {
        b.iter(get("/api/v1/incidents/1/timeline", Some("alice")));
    });
    c.bench_function("GET /incidents/1 (dashboard page)", |b| {
        b.iter(get("/incidents/1", Some("alice")));
    });
    c.bench_function("GET /incidents/1/live (the 2 s refresh)", |b| {
        b.iter(get("/incidents/1/live", Some("alice")));
    });
    c.bench_function("GET /status.json (20 published updates)", |b| {
        b.iter(get("/status.json", None));
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
