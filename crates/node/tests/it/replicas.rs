//! Replicas on one PostgreSQL: the one holding the leases acts; when its
//! database connection is cut (a loopback proxy turned black hole: a
//! partition, which a real server cannot be made to have), it stops acting
//! within its lease, another replica takes the leases over with a new epoch
//! and pauses the exploit, and a write with the old epoch is refused by the
//! store.

use std::{sync::Arc, time::Duration};

use firebreak_node::DaemonEvent;
use firebreak_store::prelude::*;
use firebreak_store::{ActionStatus, Fence, PgStore, verify_incident};
use firebreak_test_utils::{Pauser, pg::PgCluster, proxy::Proxy};

use crate::{
    contain::{exploit, load, pause_block_in, start_with, wait_contained_in, world},
    isolation::next_event,
};

fn acting(e: &DaemonEvent) -> Option<String> {
    match e {
        DaemonEvent::Replica { message } if message.starts_with("acting") => Some(message.clone()),
        _ => None,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[allow(clippy::print_stderr)] // shows the refusal, as the closing note quotes it
async fn anvil_the_holder_cut_from_postgres_stops_and_the_other_replica_pauses() {
    let pg = PgCluster::start();
    let cut = Proxy::start(format!("127.0.0.1:{}", pg.port()).parse().unwrap()).await;
    let via_cut =
        format!("postgres://firebreak@{}/firebreak", cut.http_url().trim_start_matches("http://"));
    let store_a = Arc::new(PgStore::connect(&via_cut).await.unwrap());
    let store_b = Arc::new(PgStore::connect(&pg.url).await.unwrap());
    let w = world(Pauser::Guardian).await;
    let plan = load(&w.plan_text(r#"[{ signer = "guardian" }]"#, &[]));
    let from = w.chain.block_number().await.unwrap() + 1;
    let ttl = Duration::from_secs(2);
    let mut a = start_with(plan.clone(), store_a.clone(), from, |mut o| {
        o.lease_ttl = Some(ttl);
        o
    });
    next_event(&mut a, acting).await;
    let mut b = start_with(plan, store_b.clone(), from, |mut o| {
        o.lease_ttl = Some(ttl);
        o
    });
    next_event(&mut b, |e| matches!(e, DaemonEvent::Started).then_some(())).await;

    // a holds every lease at one epoch (1, unless a stall of this busy
    // machine let them lapse once): the executor's and each signing
    // key's (the guardian, the Safe's hot owners and relayer)
    let before = store_b.leases().await.unwrap();
    let names: Vec<&str> = before.leases.iter().map(|l| l.name.as_str()).collect();
    let guardian = firebreak_store::signer_lease(31337, w.chain.dev_address(1));
    assert!(names.contains(&"executor") && names.contains(&guardian.as_str()), "{before:?}");
    let a_holder = before.leases[0].holder.clone();
    let epoch = before.leases[0].epoch;
    assert!(before.leases.iter().all(|l| l.holder == a_holder && l.epoch == epoch), "{before:?}");
    let stale = Fence { name: guardian.clone(), holder: a_holder.clone(), epoch };

    // a is cut off from the database: b takes the leases over, the next epoch
    cut.black_hole(true);
    let took = next_event(&mut b, acting).await;
    assert!(took.contains(&format!("@{}", epoch + 1)), "{took}");
    let after = store_b.leases().await.unwrap();
    assert!(after.leases.iter().all(|l| l.holder != a_holder && l.epoch == epoch + 1), "{after:?}");

    // the exploit: b (acting) pauses; a, cut off, does nothing
    let n = exploit(&w).await;
    let (id, pause) = pause_block_in(&w, &*store_b).await;
    assert_eq!(pause, n + 1, "exploit in block {n}, pause in block {pause}");
    wait_contained_in(&*store_b, 1).await;
    let actions = store_b.actions(id).await.unwrap();
    assert_eq!(actions.len(), 1, "one pause: {actions:?}");
    assert_eq!(actions[0].status, ActionStatus::Mined);
    assert_eq!(actions[0].attempts.len(), 1, "signed once: {actions:?}");

    // the partition heals: a write a makes with its old epoch is refused
    cut.black_hole(false);
    let mut late = actions[0].clone();
    late.status = ActionStatus::Planned;
    let refused = store_a.put_action_fenced(late, None, &stale).await.unwrap_err().to_string();
    // shown, not asserted on: the store's own words
    eprintln!("the cut replica's late write: {refused}");
    assert!(refused.contains(&format!("holds it at epoch {}", epoch + 1)), "{refused}");
    assert!(refused.contains(&a_holder), "{refused}");
    assert_eq!(store_b.actions(id).await.unwrap()[0].status, ActionStatus::Mined, "unchanged");
    let incident = store_b.incident(id).await.unwrap().unwrap();
    verify_incident(&incident, &store_b.timeline(id).await.unwrap()).unwrap();

    a.stop().await;
    b.stop().await;
}

/// A decision recorded by a standby replica's war room wakes the acting
/// replica at once (PostgreSQL `LISTEN`/`NOTIFY`). The acting replica here
/// ticks once an hour and no block comes after the exploit, so nothing but
/// the wake-up can drive the approved pause.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn anvil_an_approval_on_a_standby_replica_wakes_the_acting_one() {
    let pg = PgCluster::start();
    let store_a = Arc::new(PgStore::connect(&pg.url).await.unwrap());
    let store_b = Arc::new(PgStore::connect(&pg.url).await.unwrap());
    let w = world(Pauser::Guardian).await;
    let fixture = r#"steps = [{ kind = "pause", contracts = ["vault"] }]"#;
    let gated = r#"steps = [{ id = "decide", kind = "wait_approval", quorum = 1, roles = ["commander"] }, { kind = "pause", contracts = ["vault"] }]"#;
    let mut text = w.plan_text(r#"[{ signer = "guardian" }]"#, &[]).replace(fixture, gated);
    text.push_str(
        "\n[team.alice]\nname = \"Alice\"\nroles = [\"commander\"]\ntimezone = \"UTC\"\n",
    );
    let plan = load(&text);
    let from = w.chain.block_number().await.unwrap() + 1;
    let long = Duration::from_secs(60);
    let mut a = start_with(plan.clone(), store_a.clone(), from, |mut o| {
        o.lease_ttl = Some(long);
        o.tick = Duration::from_secs(3600);
        o
    });
    next_event(&mut a, acting).await;
    let mut b = start_with(plan, store_b.clone(), from, |mut o| {
        o.lease_ttl = Some(long);
        o.listen = Some("127.0.0.1:0".parse().unwrap());
        o
    });
    let url = next_event(&mut b, |e| match e {
        DaemonEvent::Serving { url } => Some(url.clone()),
        _ => None,
    })
    .await;

    // the exploit: a opens the incident and waits for a commander
    exploit(&w).await;
    let mut waiting = None;
    for _ in 0..600 {
        let list = store_b.incidents(&firebreak_store::IncidentFilter::default()).await.unwrap();
        if let Some(i) = list.first() {
            let steps = store_b.steps(i.id).await.unwrap();
            if steps.iter().any(|s| {
                s.step_id == "decide"
                    && s.status == firebreak_primitives::StepStatus::AwaitingApproval
            }) {
                waiting = Some(i.id);
                break;
            }
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let id = waiting.expect("the gate never waited for approval");
    assert!(!w.paused().await.unwrap());

    // alice approves on b's war room; b does not act, it tells a
    let token = "alice-chaos-token-0123456789abcdef";
    store_b.create_token("alice", "test", &firebreak_server::hash_token(token)).await.unwrap();
    let r = reqwest::Client::new()
        .post(format!("{url}/api/v1/incidents/{id}/steps/decide/approve"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success(), "{}", r.text().await.unwrap());
    let (paused_in, _) = pause_block_in(&w, &*store_a).await;
    assert_eq!(paused_in, id);
    a.stop().await;
    b.stop().await;
}

/// A database that takes reads but refuses the lease writes (a failover to
/// a read-only standby, here a trigger on the lease table): the leases run
/// out, nobody holds them, and the daemon says so (`/readyz` 503, a
/// readiness event) until it can take them again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn anvil_no_replica_holding_a_lease_is_an_alarm_until_one_takes_it() {
    let w = world(Pauser::Guardian).await;
    let plan = load(&w.plan_text(r#"[{ signer = "guardian" }]"#, &[]));
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("firebreak.db");
    let store = Arc::new(firebreak_store::SqliteStore::open(&path).await.unwrap());
    let from = w.chain.block_number().await.unwrap() + 1;
    let mut d = start_with(plan, store.clone(), from, |mut o| {
        o.lease_ttl = Some(Duration::from_secs(2));
        o.listen = Some("127.0.0.1:0".parse().unwrap());
        o
    });
    let url = next_event(&mut d, |e| match e {
        DaemonEvent::Serving { url } => Some(url.clone()),
        _ => None,
    })
    .await;
    let first = next_event(&mut d, acting).await;
    let epoch_of = |said: &str| -> u64 {
        said.split("executor@")
            .nth(1)
            .and_then(|r| r.split([',', ' ']).next())
            .unwrap()
            .parse()
            .unwrap()
    };
    let other = sqlx::SqlitePool::connect(&format!("sqlite://{}", path.display())).await.unwrap();
    sqlx::query(
        "CREATE TRIGGER refuse_leases BEFORE UPDATE ON leases \
         BEGIN SELECT RAISE(ABORT, 'the database is read-only'); END",
    )
    .execute(&other)
    .await
    .unwrap();
    let alarm = next_event(&mut d, |e| match e {
        DaemonEvent::Readiness { message } if message.contains("no replica holds the lease") => {
            Some(message.clone())
        }
        _ => None,
    })
    .await;
    assert!(alarm.starts_with("NOT READY"), "{alarm}");
    let (status, body) = crate::isolation::readyz(&url).await;
    assert_eq!(status, 503, "{body}");
    assert!(body.contains("no replica holds the lease"), "{body}");

    // writes are taken again: the daemon takes the leases (a new epoch) and
    // the alarm clears
    sqlx::query("DROP TRIGGER refuse_leases").execute(&other).await.unwrap();
    let took = next_event(&mut d, acting).await;
    assert!(epoch_of(&took) > epoch_of(&first), "{first} / {took}");
    let mut cleared = false;
    for _ in 0..400 {
        let (status, body) = crate::isolation::readyz(&url).await;
        if status == 200 && !body.contains("no replica holds") {
            cleared = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(cleared, "the alarm stayed after the leases were taken again");
    d.stop().await;
}
