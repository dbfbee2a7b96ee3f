//! Isolation: one chain's dead endpoint, or a flood of idle war-room
//! connections, must not hold up a pause. Both chains mine only when the test
//! says so, so "the next block" is the block the test mines next, and a pause
//! held up by the other chain would never reach the pool (the test's wait
//! for it fails instead of passing late).

use std::{sync::Arc, time::Duration};

use firebreak_node::{DaemonEvent, DaemonOptions, Metrics, WatchEvent, WatchOptions};
use firebreak_store::IncidentFilter;
use firebreak_test_utils::{Chain, Pauser, World, proxy::Proxy, repo_root, sink};

use crate::contain::{
    Running, alice_on_webhook, exploit, load, pause_block, start_with, store, wait_contained,
};
use firebreak_store::prelude::*;

/// A plan with chains `a` (through `a_rpc`) and `b`, each with its vault,
/// its own playbook and a P1 monitor on every price change.
fn two_chains(a: &World, a_rpc: &str, b: &World) -> String {
    let fixtures = repo_root().join("crates/devnet/fixtures");
    let mut text = String::from(
        "version = 1\nmode = \"drill\"\n[protocol]\nname = \"Two chains\"\n[signers.guardian]\nanvil_account = 1\n",
    );
    for (key, w, rpc) in [("a", a, a_rpc.to_owned()), ("b", b, b.chain.http_url())] {
        text.push_str(&format!(
            r#"
[chains.{key}]
id = {id}
rpc = ["{rpc}"]
confirmations = 1
[contracts.vault_{key}]
chain = "{key}"
address = "{vault}"
abi = {{ artifact = "{fixtures}/LendingVault.json" }}
pause = {{ method = "pause", via = [{{ signer = "guardian" }}] }}
[playbooks.contain_{key}]
steps = [{{ kind = "pause", contracts = ["vault_{key}"] }}]
[monitors.price_{key}]
severity = "P1"
chain = "{key}"
contracts = ["vault_{key}"]
rule = 'event vault_{key}.PriceUpdated'
playbook = "contain_{key}"
"#,
            id = w.chain.chain_id(),
            vault = w.vault.vault,
            fixtures = fixtures.display(),
        ));
    }
    text
}

async fn manual_chain(id: u64) -> World {
    let chain = Chain::spawn_with(|a| a.chain_id(id)).unwrap();
    World::manual_on(chain, Pauser::Guardian).await.unwrap()
}

/// Waits for a watcher event of each chain in `ids` (the watchers are up).
async fn watching(d: &mut Running, ids: &[u64]) {
    let mut left: Vec<u64> = ids.to_vec();
    while !left.is_empty() {
        let e = tokio::time::timeout(Duration::from_secs(30), d.events.recv()).await;
        let Ok(Some(e)) = e else { panic!("no block processed on chains {left:?}") };
        if let DaemonEvent::Watch { event: WatchEvent::Processed { chain_id, .. } } = e {
            left.retain(|c| *c != chain_id);
        }
    }
}

async fn wait_pending(w: &World) {
    for _ in 0..300 {
        if w.pending().await.unwrap() > 0 {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("nothing reached the pool of chain {}", w.chain.chain_id());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn anvil_a_black_holed_chain_does_not_hold_up_another_chains_pause() {
    let a = manual_chain(31_338).await;
    let b = manual_chain(31_339).await;
    let target = a.chain.http_url().trim_start_matches("http://").parse().unwrap();
    let proxy = Proxy::start(target).await;
    let plan = load(&two_chains(&a, &proxy.http_url(), &b));
    let (_dir, store) = store().await;
    // a dead endpoint is waited on for an hour: had chain b to wait behind
    // chain a, its pause would not reach the pool while this test runs
    let mut d = start_with(plan, store.clone(), 0, |o| DaemonOptions {
        watch: WatchOptions {
            start: None,
            poll_interval: Duration::from_millis(100),
            ..WatchOptions::default()
        },
        rpc_timeout: Duration::from_secs(3600),
        ..o
    });
    watching(&mut d, &[a.chain.chain_id(), b.chain.chain_id()]).await;

    // chain a: exploit, the pause reaches its pool, then its endpoint goes dark
    exploit(&a).await;
    wait_pending(&a).await;
    proxy.black_hole(true);

    // chain b: exploit, and the pause lands in its next block
    let n = exploit(&b).await;
    let pause = b.mine_when_pending(Duration::from_secs(60)).await.unwrap();
    assert_eq!(pause, n + 1);
    assert!(b.paused().await.unwrap(), "chain b's vault is open");
    assert!(!a.paused().await.unwrap(), "chain a mined nothing yet");
    wait_contained(&store, 1).await;

    // chain a comes back: its pause lands and both incidents are contained
    proxy.black_hole(false);
    a.mine().await.unwrap();
    assert!(a.paused().await.unwrap());
    wait_contained(&store, 2).await;
    d.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn anvil_idle_connections_to_the_war_room_do_not_stop_a_pause_or_a_page() {
    let w = World::manual(Pauser::Guardian).await.unwrap();
    let hook = sink::start().await;
    let mut text = w.plan_text(r#"[{ signer = "guardian" }]"#, &[]);
    let steps = r#"steps = [{ kind = "pause", contracts = ["vault"] }]"#;
    text = text.replace(
        steps,
        r#"steps = [{ kind = "pause", contracts = ["vault"] }, { kind = "page", targets = ["alice"] }]"#,
    );
    let (_secrets, alice) = alice_on_webhook(&hook.url);
    text.push_str(&alice);
    let plan = load(&text);
    let (_dir, store) = store().await;
    let metrics = Arc::new(Metrics::default());
    let from = w.chain.block_number().await.unwrap() + 1;
    let mut d = start_with(plan, store.clone(), from, |o| DaemonOptions {
        listen: Some("127.0.0.1:0".parse().unwrap()),
        metrics: metrics.clone(),
        ..o
    });
    let url = loop {
        let e = tokio::time::timeout(Duration::from_secs(30), d.events.recv()).await;
        if let Ok(Some(DaemonEvent::Serving { url })) = e {
            break url;
        }
        assert!(e.is_ok(), "the war room was never served");
    };
    let addr: std::net::SocketAddr = url.trim_start_matches("http://").parse().unwrap();
    let mut idle = Vec::new();
    for _ in 0..1_500 {
        idle.push(tokio::net::TcpStream::connect(addr).await.unwrap());
    }

    let n = exploit(&w).await;
    let (_, pause) = pause_block(&w, &store).await;
    assert_eq!(pause, n + 1, "exploit in block {n}, pause in block {pause}");
    let mut paged = false;
    for _ in 0..300 {
        if hook.seen().iter().any(|r| r.json()["text"].as_str().is_some_and(|t| t.contains("P1"))) {
            paged = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(paged, "no page delivered: {:?}", hook.seen().len());
    // the reaction (opening → pause signed and sent) is a real histogram
    let mut reaction = String::new();
    for _ in 0..300 {
        reaction = metrics.render();
        if reaction.contains("firebreak_reaction_seconds_count{path=\"guardian\"} 1") {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(
        reaction.contains("firebreak_reaction_seconds_count{path=\"guardian\"} 1")
            && reaction.contains("firebreak_reaction_seconds_bucket{"),
        "{reaction}"
    );
    // the cap held: connections beyond it were closed at once
    // (the gauge is copied every 5 s: wait up to a minute, for a busy machine)
    let mut refused = 0.0;
    for _ in 0..1_200 {
        refused = metrics.get("firebreak_http_connections_refused_total", &[]).unwrap_or(0.0);
        if refused > 0.0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(refused > 0.0, "no connection was refused");
    let open = metrics.get("firebreak_http_connections_open", &[]).unwrap_or(0.0);
    assert!(open <= 512.0, "{open} connections open");
    // the idle clients leave; the war room answers again
    drop(idle);
    let http = reqwest::Client::new();
    let mut ok = false;
    for _ in 0..300 {
        if let Ok(r) = http.get(format!("{url}/healthz")).send().await
            && r.status().is_success()
        {
            ok = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(ok, "the war room does not answer after the flood");
    d.stop().await;
}

/// A process out of file descriptors: every new socket fails (EMFILE).
/// Chain access that is already connected (a WebSocket) keeps going, so the
/// pause lands in the next block; the page, which needs a new connection,
/// fails with the operating system's reason on the incident's timeline at
/// once, nothing panics, and the page is delivered once descriptors are
/// free again. The descriptors are used up by the test itself (its process
/// is the daemon's: nextest runs each test in a process of its own), with
/// the soft limit lowered, so nothing frees one by chance.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn anvil_out_of_file_descriptors_a_pause_lands_and_the_failed_page_is_on_the_timeline() {
    use alloy::providers::{Provider as _, ProviderBuilder};
    use rustix::process::{Resource, getrlimit, setrlimit};

    let w = World::manual(Pauser::Guardian).await.unwrap();
    let hook = sink::start().await;
    let mut text = w.plan_text(r#"[{ signer = "guardian" }]"#, &[]);
    // the WebSocket endpoint only: one connection, opened before the test
    // runs out of descriptors
    let (ws, http) = (w.chain.ws_url(), w.chain.http_url());
    let both = format!(r#"rpc = ["{ws}", "{http}"]"#);
    assert!(text.contains(&both), "the fixture plan changed");
    text = text.replace(&both, &format!(r#"rpc = ["{ws}"]"#));
    let steps = r#"steps = [{ kind = "pause", contracts = ["vault"] }]"#;
    text = text.replace(
        steps,
        r#"steps = [{ kind = "pause", contracts = ["vault"] }, { kind = "page", targets = ["alice"] }]"#,
    );
    let (_secrets, alice) = alice_on_webhook(&hook.url);
    text.push_str(&alice);
    let plan = load(&text);
    let (_dir, store) = store().await;
    // from the head: a block to process at once shows the watcher is up
    let from = w.chain.block_number().await.unwrap();
    let mut d = start_with(plan, store.clone(), from, |o| o);
    watching(&mut d, &[w.chain.chain_id()]).await;
    // the test's own way to the chain while out of descriptors
    let miner = ProviderBuilder::new().connect(&ws).await.unwrap();
    let pending = || async {
        let s: serde_json::Value = miner.raw_request("txpool_status".into(), ()).await.unwrap();
        s["pending"].as_str().map_or(0, |p| u64::from_str_radix(&p[2..], 16).unwrap())
    };
    // the exploit waits in the pool
    let vault = firebreak_test_utils::LendingVault::new(w.vault.vault, w.chain.provider());
    let _exploit = vault.setPrice(alloy::primitives::U256::from(1)).send().await.unwrap();
    assert_eq!(pending().await, 1);

    // use up every descriptor
    let before = getrlimit(Resource::Nofile);
    let open = std::fs::read_dir("/proc/self/fd").unwrap().count() as u64;
    setrlimit(Resource::Nofile, rustix::process::Rlimit { current: Some(open + 16), ..before })
        .unwrap();
    let mut held = Vec::new();
    while let Ok(f) = std::fs::File::open("/dev/null") {
        held.push(f);
    }
    assert!(std::net::TcpListener::bind("127.0.0.1:0").is_err(), "a descriptor is still free");

    // the exploit block, then the pause in the block after it
    let _: serde_json::Value = miner.raw_request("evm_mine".into(), ()).await.unwrap();
    let n = miner.get_block_number().await.unwrap();
    let mut waited = 0;
    while pending().await == 0 {
        assert!(waited < 3_000, "the pause never reached the pool while out of descriptors");
        waited += 1;
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let _: serde_json::Value = miner.raw_request("evm_mine".into(), ()).await.unwrap();
    assert_eq!(miner.get_block_number().await.unwrap(), n + 1);
    // confirmations
    let _: serde_json::Value = miner.raw_request("anvil_mine".into(), (3,)).await.unwrap();
    wait_contained(&store, 1).await;

    // the page could not connect: said at once on the timeline, with why
    let incident = store.incidents(&IncidentFilter::default()).await.unwrap()[0].id;
    let mut failed = None;
    for _ in 0..1_200 {
        let timeline = store.timeline(incident).await.unwrap();
        failed = timeline.into_iter().find(|e| e.kind() == "message_retrying");
        if failed.is_some() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let failed = failed.expect("no failed delivery on the timeline");
    let error = failed.body["error"].as_str().unwrap();
    assert!(error.contains("Too many open files"), "{error}");
    assert!(hook.seen().is_empty(), "a page got through without a descriptor");

    // descriptors free again: the page is delivered, the daemon never stopped
    drop(held);
    setrlimit(Resource::Nofile, before).unwrap();
    let mut paged = false;
    for _ in 0..1_200 {
        if hook.seen().iter().any(|r| r.json()["text"].as_str().is_some_and(|t| t.contains("P1"))) {
            paged = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(paged, "the page was not delivered once descriptors were free");
    assert!(w.paused().await.unwrap());
    d.stop().await;
}

/// The war room's URL, once the daemon serves it.
pub(crate) async fn serving(d: &mut Running) -> String {
    next_event(d, |e| match e {
        DaemonEvent::Serving { url } => Some(url.clone()),
        _ => None,
    })
    .await
}

/// `/readyz` of the war room at `url`: status and body.
pub(crate) async fn readyz(url: &str) -> (u16, String) {
    let r = reqwest::get(format!("{url}/readyz")).await.unwrap();
    (r.status().as_u16(), r.text().await.unwrap())
}

/// Waits (up to 30 s of events) for the first event `pick` accepts.
pub(crate) async fn next_event<T>(
    d: &mut Running,
    mut pick: impl FnMut(&DaemonEvent) -> Option<T>,
) -> T {
    loop {
        let e = tokio::time::timeout(Duration::from_secs(30), d.events.recv()).await;
        let Ok(Some(e)) = e else { panic!("the daemon never reported the awaited event") };
        if let Some(t) = pick(&e) {
            return t;
        }
    }
}

/// While every endpoint of a chain fails, the daemon cannot see an exploit
/// nor land a pause there: `/readyz` answers 503 and says which chain, the
/// `firebreak_chain_blind` gauge is 1; both clear when the chain is seen
/// again. (Before, `/readyz` stayed ready and the lag gauge stayed 0.) The
/// dead endpoint is a black-hole proxy: a hung node, which anvil cannot be
/// made to be.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn anvil_a_blind_chain_makes_readyz_fail_until_it_is_seen_again() {
    let w = World::manual(Pauser::Guardian).await.unwrap();
    let px = Proxy::start(w.chain.http_url().trim_start_matches("http://").parse().unwrap()).await;
    let plan = load(&w.plan_text(r#"[{ signer = "guardian" }]"#, &[]));
    let (_dir, store) = store().await;
    let metrics = Arc::new(Metrics::default());
    let from = w.chain.block_number().await.unwrap() + 1;
    let mut d = start_with(plan, store, from, |mut o| {
        o.listen = Some("127.0.0.1:0".parse().unwrap());
        o.metrics = metrics.clone();
        o.endpoints.insert("local".into(), vec![px.http_url()]);
        o.watch.blind_after = Duration::ZERO;
        o.watch.rpc_timeout = Duration::from_millis(300);
        o.rpc_timeout = Duration::from_millis(300);
        o
    });
    let url = serving(&mut d).await;
    let readyz = || readyz(&url);
    w.mine().await.unwrap();
    next_event(&mut d, |e| {
        matches!(e, DaemonEvent::Watch { event: WatchEvent::Processed { .. } }).then_some(())
    })
    .await;
    let mut ready = (0, String::new());
    for _ in 0..100 {
        ready = readyz().await;
        if ready.0 == 200 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(ready.0, 200, "{}", ready.1);

    px.black_hole(true);
    next_event(&mut d, |e| {
        matches!(e, DaemonEvent::Watch { event: WatchEvent::Blind { .. } }).then_some(())
    })
    .await;
    let (status, body) = readyz().await;
    assert_eq!(status, 503, "{body}");
    assert!(body.contains("chain `local` is BLIND"), "{body}");
    assert_eq!(metrics.get("firebreak_chain_blind", &[("chain", "local")]), Some(1.0));

    px.black_hole(false);
    next_event(&mut d, |e| {
        matches!(e, DaemonEvent::Watch { event: WatchEvent::Recovered { .. } }).then_some(())
    })
    .await;
    let (status, body) = readyz().await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(metrics.get("firebreak_chain_blind", &[("chain", "local")]), Some(0.0));
    d.stop().await;
}
