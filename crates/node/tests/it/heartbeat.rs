//! The dead-man's switch: while the daemon watches and every P1 pause path
//! can land, it pings the plan's heartbeat URL every interval; NOT READY
//! sends the ping to `fail_url` instead; stopped, it pings nothing more.

use std::time::Duration;

use alloy::{primitives::U256, providers::Provider as _};
use firebreak_node::DaemonEvent;
use firebreak_store::ReplicaStore as _;
use firebreak_test_utils::{Pauser, World, sink};

use crate::{
    contain::{load, start_with, store},
    isolation::next_event,
};

fn count(hook: &sink::Sink, path: &str) -> usize {
    hook.seen().iter().filter(|r| r.path == path).count()
}

async fn until(hook: &sink::Sink, path: &str, n: usize) {
    for _ in 0..1_200 {
        if count(hook, path) >= n {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!(
        "fewer than {n} pings on {path}: {:?}",
        hook.seen().iter().map(|r| &r.path).collect::<Vec<_>>()
    );
}

/// The fixture protocol, a sink, and a plan pinging the sink every second
/// (`/ping`, or `/ping/fail` while not able to act).
async fn world_with_heartbeat() -> (World, sink::Sink, std::sync::Arc<firebreak_plan::Plan>) {
    let w = World::new(Pauser::Guardian).await.unwrap();
    let hook = sink::start().await;
    let mut text = w.plan_text(r#"[{ signer = "guardian" }]"#, &[]);
    text.push_str(&format!(
        "\n[heartbeat]\nurl = \"{0}/ping\"\nfail_url = \"{0}/ping/fail\"\ninterval = \"1s\"\n",
        hook.url
    ));
    let plan = load(&text);
    (w, hook, plan)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn anvil_the_heartbeat_beats_while_able_to_act_fails_when_not_and_stops_with_the_daemon() {
    let (w, hook, plan) = world_with_heartbeat().await;
    assert_eq!(plan.heartbeat.as_ref().map(|h| h.interval), Some(Duration::from_secs(1)));
    let (_dir, store) = store().await;
    let mut d = start_with(plan, store.clone(), 0, |o| o);

    // watching, every pause path able to land: the heartbeat beats
    until(&hook, "/ping", 2).await;
    assert_eq!(count(&hook, "/ping/fail"), 0, "a healthy daemon reported failure");
    // and the replica's beat is in the store, for `firebreak status`
    let mut beat = None;
    for _ in 0..1_200 {
        beat = store.replicas().await.unwrap().into_iter().next();
        if beat.as_ref().is_some_and(|b| b.ready && b.chains.iter().any(|c| c.lag().is_some())) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let beat = beat.expect("no replica beat recorded");
    assert_eq!(beat.pid, std::process::id());
    assert!(beat.ready, "{beat:?}");
    assert!(beat.chains.iter().any(|c| c.chain == "local" && c.lag().is_some()), "{beat:?}");

    // the guardian's gas money is gone: NOT READY, the pings say so
    let guardian = w.chain.dev_address(1);
    let _: serde_json::Value = w
        .chain
        .provider()
        .raw_request("anvil_setBalance".into(), (guardian, U256::ZERO))
        .await
        .unwrap();
    next_event(&mut d, |e| match e {
        DaemonEvent::Readiness { message } if message.contains("gas money") => Some(()),
        _ => None,
    })
    .await;
    until(&hook, "/ping/fail", 1).await;

    // stopped (as a killed replica): no ping after it
    d.stop().await;
    let after_stop = hook.seen().len();
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(hook.seen().len(), after_stop, "a stopped daemon still pinged");
}

/// A store that takes no write (here another process holds SQLite's write
/// lock, as a stuck backup or CLI would): the daemon cannot record an
/// incident, so it is NOT READY (`/readyz` 503, the outbound heartbeat goes
/// to `fail_url`) until the lock is let go, and then ready again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn anvil_a_store_that_takes_no_write_is_not_ready_until_it_does() {
    use sqlx::Connection as _;
    let (_world, hook, plan) = world_with_heartbeat().await;
    let (dir, store) = store().await;
    let mut d = start_with(plan, store, 0, |o| firebreak_node::DaemonOptions {
        listen: Some("127.0.0.1:0".parse().unwrap()),
        ..o
    });
    let url = crate::isolation::serving(&mut d).await;
    until(&hook, "/ping", 1).await;

    // another process takes the write lock and keeps it
    let path = dir.path().join("firebreak.db");
    let mut other =
        sqlx::SqliteConnection::connect(&format!("sqlite://{}", path.display())).await.unwrap();
    sqlx::query("BEGIN EXCLUSIVE").execute(&mut other).await.unwrap();
    let message = next_event(&mut d, |e| match e {
        DaemonEvent::Readiness { message } if message.contains("the store takes no write") => {
            Some(message.clone())
        }
        _ => None,
    })
    .await;
    assert!(message.contains("NOT READY"), "{message}");
    let (status, body) = crate::isolation::readyz(&url).await;
    assert_eq!(status, 503, "{body}");
    assert!(body.contains("the store takes no write"), "{body}");
    until(&hook, "/ping/fail", 1).await;

    // the lock is let go: ready again
    sqlx::query("COMMIT").execute(&mut other).await.unwrap();
    let mut ready = false;
    for _ in 0..1_200 {
        if crate::isolation::readyz(&url).await.0 == 200 {
            ready = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(ready, "still not ready after the lock was let go");
    d.stop().await;
}
