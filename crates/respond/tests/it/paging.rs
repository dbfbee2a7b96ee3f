//! Paging by the escalation policy until someone acknowledges: level 1 (the
//! on-call member) at once and again, level 2 (the commander) after its
//! delay, nothing more after the acknowledgement. The page step never holds
//! up the pause behind it.

use std::{sync::Arc, time::Duration};

use firebreak_notify::{Courier, CourierOptions, pager};
use firebreak_primitives::now_ms;
use firebreak_primitives::{Actor, IncidentStatus, StepStatus};
use firebreak_respond::IncidentManager;
use firebreak_store::prelude::*;
use firebreak_store::{SqliteStore, verify_chain};
use firebreak_test_utils::{Pauser, World, WorldExt as _, sink};

#[tokio::test]
async fn anvil_pages_escalate_until_acknowledged_and_never_hold_up_the_pause() {
    let w = World::new(Pauser::Guardian).await.unwrap();
    let hook = sink::start().await;
    let dir = tempfile::tempdir().unwrap();
    let secret = dir.path().join("whsec");
    std::fs::write(&secret, "whsec").unwrap();
    let mut text = w.plan_text(r#"[{ signer = "guardian" }]"#, &[]);
    let steps = r#"steps = [{ kind = "pause", contracts = ["vault"] }]"#;
    text = text.replace(
        steps,
        r#"steps = [{ id = "page", kind = "page" }, { kind = "pause", contracts = ["vault"] }]"#,
    );
    text.push_str(&format!(
        r#"
[team.alice]
name = "Alice"
roles = ["commander"]
timezone = "UTC"
contacts = {{ hook = "@alice" }}
[team.bob]
name = "Bob"
roles = ["operator"]
timezone = "UTC"
contacts = {{ hook = "@bob" }}
[channels.hook]
kind = "webhook"
url = "{url}/page"
signing_secret = {{ file = "{secret}" }}
[oncall]
rotation = ["bob", "alice"]
shift = "7d"
handoff = "00:00"
timezone = "UTC"
start = "2026-01-05"
[[oncall.escalation]]
targets = ["oncall"]
repeat = 1
[[oncall.escalation]]
targets = ["role:commander"]
delay = "2s"
"#,
        url = hook.url,
        secret = secret.display()
    ));
    let plan = Arc::new(w.load_plan(&text).unwrap());
    let oncall = pager::oncall_member(plan.oncall.as_ref().unwrap(), now_ms()).unwrap();

    let store = Arc::new(SqliteStore::open(&dir.path().join("t.db")).await.unwrap());
    let executor = crate::executor(&w, &plan, &store).await;
    let (channels, bad) = firebreak_notify::plan_channels(&plan);
    assert!(bad.is_empty());
    let courier = Courier::new(
        store.clone(),
        channels,
        CourierOptions { min_gap_per_channel: Duration::ZERO, ..CourierOptions::default() },
    );
    let alert = w.alert("P1", "paging");
    let id =
        IncidentManager::new(plan.clone(), store.clone()).on_alert(&alert).await.unwrap().incident;
    let pages = |hook: &sink::Sink| -> Vec<(String, String)> {
        hook.seen()
            .iter()
            .map(|r| {
                let b = r.json();
                (b["event"].as_str().unwrap().to_owned(), b["text"].as_str().unwrap().to_owned())
            })
            .collect()
    };
    let round = || async {
        executor.drive(id).await.unwrap();
        courier.round().await.unwrap();
    };

    round().await;
    let first = pages(&hook);
    assert_eq!(first.len(), 1, "{first:?}");
    assert_eq!(first[0].0, "page");
    assert!(
        first[0].1.contains(&format!("@{oncall}")) && first[0].1.contains("firebreak incident ack"),
        "{first:?}"
    );
    // the pause behind the page step went out in the same round
    let steps = store.steps(id).await.unwrap();
    assert_eq!(steps[0].status, StepStatus::Running);
    assert_ne!(steps[1].status, StepStatus::Pending, "{steps:?}");

    tokio::time::sleep(Duration::from_millis(1_100)).await;
    round().await;
    assert_eq!(pages(&hook).len(), 2, "level 1 repeats once");
    tokio::time::sleep(Duration::from_millis(1_000)).await;
    round().await;
    let all = pages(&hook);
    assert_eq!(all.len(), 3, "{all:?}");
    assert_eq!(all[2].0, "escalation");
    assert!(all[2].1.contains("@alice"), "level 2 pages the commander: {all:?}");

    // alice acknowledges: paging stops
    store
        .append(
            id,
            Actor::Member("alice".into()),
            firebreak_primitives::Event::Acknowledged(firebreak_primitives::event::Acknowledged {
                member: "alice".into(),
                how: "test".into(),
            }),
        )
        .await
        .unwrap();
    store
        .transition(id, IncidentStatus::Acknowledged, Actor::Member("alice".into()), None)
        .await
        .unwrap();
    round().await;
    let after_ack = pages(&hook);
    assert_eq!(after_ack.last().unwrap().0, "acknowledged", "{after_ack:?}");
    let step = store.steps(id).await.unwrap().remove(0);
    assert_eq!(step.status, StepStatus::Succeeded);
    assert!(step.detail.unwrap().starts_with("acknowledged by alice"));
    tokio::time::sleep(Duration::from_millis(1_500)).await;
    round().await;
    assert_eq!(pages(&hook).len(), after_ack.len(), "no page after the acknowledgement");
    let timeline = store.timeline(id).await.unwrap();
    assert_eq!(timeline.iter().filter(|e| e.kind() == "paged").count(), 3);
    verify_chain(&timeline).unwrap();
}

#[tokio::test]
async fn anvil_drill_messages_go_to_the_drill_room_when_the_plan_has_one() {
    let w = World::new(Pauser::Guardian).await.unwrap();
    let (prod, room) = (sink::start().await, sink::start().await);
    let dir = tempfile::tempdir().unwrap();
    let secret = dir.path().join("whsec");
    std::fs::write(&secret, "whsec").unwrap();
    let mut text = w.plan_text(r#"[{ signer = "guardian" }]"#, &[]);
    let steps = r#"steps = [{ kind = "pause", contracts = ["vault"] }]"#;
    text = text.replace(steps, r#"steps = [{ kind = "notify", channels = ["war-room"] }, { kind = "pause", contracts = ["vault"] }]"#);
    text.push_str(&format!(
        "[channels.war-room]\nkind = \"webhook\"\nurl = \"{}/in\"\nsigning_secret = {{ file = \"{s}\" }}\n[channels.drill-room]\nkind = \"webhook\"\nurl = \"{}/in\"\nsigning_secret = {{ file = \"{s}\" }}\ndrill = true\n",
        prod.url,
        room.url,
        s = secret.display()
    ));
    let plan = Arc::new(w.load_plan(&text).unwrap());
    let store = Arc::new(SqliteStore::open(&dir.path().join("t.db")).await.unwrap());
    let executor = crate::executor(&w, &plan, &store).await;
    let (channels, _) = firebreak_notify::plan_channels(&plan);
    let courier = Courier::new(store.clone(), channels, CourierOptions::default());
    let alert = w.alert("P1", "drill-room");
    // the fixture plan is a drill plan: its incidents are drills
    let id = IncidentManager::new(plan, store.clone()).on_alert(&alert).await.unwrap().incident;
    executor.drive(id).await.unwrap();
    courier.round().await.unwrap();
    assert!(prod.seen().is_empty(), "production channels hear nothing of a drill");
    let got = room.seen();
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].json()["drill"], true);
}
