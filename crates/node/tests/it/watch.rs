//! The watcher against a real anvil: reorgs, endpoint failover through a
//! loopback TCP proxy that we cut, a blind chain, and garbage JSON-RPC replies
//! (the one fault anvil cannot produce, served by a local socket).

use std::{
    sync::{
        Arc,
        atomic::{AtomicBool, Ordering},
    },
    time::Duration,
};

use alloy::{primitives::U256, providers::Provider};
use firebreak_node::{WatchEvent, WatchOptions, Watcher};
use firebreak_test_utils::{Chain, LendingVault, deploy_vault};
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt, copy_bidirectional},
    net::{TcpListener, TcpStream},
};

use crate::detect::{monitor, plan};

/// anvil with the vault fixture and a drill plan holding `monitors`.
async fn setup(
    monitors: &str,
) -> (Chain, firebreak_test_utils::DeployedVault, firebreak_plan::Plan) {
    let chain = Chain::spawn().unwrap();
    let v = deploy_vault(&chain, chain.dev_address(0), chain.dev_address(1)).await.unwrap();
    let p = plan(&chain, &v, chain.dev_address(9), monitors);
    (chain, v, p)
}

/// The exploit-like transaction of these tests: anyone may set the price.
async fn set_price(
    chain: &Chain,
    v: &firebreak_test_utils::DeployedVault,
) -> alloy::rpc::types::TransactionReceipt {
    let r =
        LendingVault::new(v.vault, chain.provider()).setPrice(U256::from(1)).send().await.unwrap();
    r.get_receipt().await.unwrap()
}

fn opts(start: u64) -> WatchOptions {
    WatchOptions {
        start: Some(start),
        poll_interval: Duration::from_millis(50),
        rpc_timeout: Duration::from_secs(1),
        ..WatchOptions::default()
    }
}

async fn step(w: &mut Watcher) -> Vec<WatchEvent> {
    let mut events = Vec::new();
    w.step(&mut |e| events.push(e)).await;
    events
}

/// The blocks processed, in the order reported.
fn processed(events: &[WatchEvent]) -> Vec<u64> {
    events
        .iter()
        .filter_map(|e| match e {
            WatchEvent::Processed { number, .. } => Some(*number),
            _ => None,
        })
        .collect()
}

fn alerts(events: &[WatchEvent]) -> Vec<(u64, String)> {
    events
        .iter()
        .filter_map(|e| match e {
            WatchEvent::Alert { alert: a } => {
                Some((a.block_number, format!("alert {}", a.block_hash)))
            }
            WatchEvent::Retracted { alert: a } => {
                Some((a.block_number, format!("retracted {}", a.block_hash)))
            }
            _ => None,
        })
        .collect()
}

#[tokio::test]
async fn anvil_reorg_retracts_orphaned_alerts_and_alerts_once_on_the_canonical_block() {
    let (chain, v, p) =
        setup(&monitor("price", "P1", "event vault.PriceUpdated where newPrice > 10_000e6", ""))
            .await;
    let start = chain.block_number().await.unwrap() + 1;
    let mut w =
        Watcher::new(&p, "local", opts(start)).unwrap().with_endpoints(vec![chain.ws_url()]);
    let vault = LendingVault::new(v.vault, chain.provider());
    let exploit = || vault.setPrice(U256::from(1_000_000_000_000u64)).from(chain.dev_address(4));

    let r = exploit().send().await.unwrap().get_receipt().await.unwrap();
    let n = r.block_number.unwrap();
    let orphan = r.block_hash.unwrap();
    let first = step(&mut w).await;
    assert_eq!(alerts(&first), vec![(n, format!("alert {orphan}"))]);

    // block n is replaced by an empty one; the exploit lands again in n + 1
    let _: serde_json::Value = chain
        .provider()
        .raw_request("anvil_reorg".into(), (1u64, Vec::<serde_json::Value>::new()))
        .await
        .unwrap();
    let new_n = chain.provider().get_block_by_number(n.into()).await.unwrap().unwrap();
    assert_ne!(new_n.header.hash, orphan, "anvil replaced block {n}");
    // the reorg dropped the first exploit, so the attacker's nonce went back: ask the node
    let nonce = chain.provider().get_transaction_count(chain.dev_address(4)).await.unwrap();
    let r2 = exploit().nonce(nonce).send().await.unwrap().get_receipt().await.unwrap();
    let (m, canonical) = (r2.block_number.unwrap(), r2.block_hash.unwrap());
    assert_eq!(m, n + 1);

    let second = step(&mut w).await;
    assert_eq!(
        alerts(&second),
        vec![(n, format!("retracted {orphan}")), (m, format!("alert {canonical}"))],
        "{second:#?}"
    );
    assert!(
        second.iter().any(
            |e| matches!(e, WatchEvent::Reorg { depth: 1, ancestor, .. } if *ancestor == n - 1)
        )
    );
    // nothing new: no duplicate on the next rounds
    assert!(alerts(&step(&mut w).await).is_empty());
}

/// A loopback TCP proxy to anvil that can be cut: every connection is
/// dropped and new ones are refused.
struct Proxy {
    port: u16,
    cut: Arc<AtomicBool>,
}

#[allow(clippy::disallowed_methods)] // the proxy's accept loop is a test fixture task
async fn proxy(target_port: u16) -> Proxy {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let cut = Arc::new(AtomicBool::new(false));
    let flag = cut.clone();
    tokio::spawn(async move {
        loop {
            let Ok((mut inbound, _)) = listener.accept().await else { return };
            if flag.load(Ordering::SeqCst) {
                drop(inbound);
                continue;
            }
            let flag = flag.clone();
            tokio::spawn(async move {
                let Ok(mut outbound) = TcpStream::connect(("127.0.0.1", target_port)).await else {
                    return;
                };
                tokio::select! {
                    _ = copy_bidirectional(&mut inbound, &mut outbound) => {}
                    () = async { while !flag.load(Ordering::SeqCst) { tokio::time::sleep(Duration::from_millis(10)).await } } => {}
                }
            });
        }
    });
    Proxy { port, cut }
}

async fn mine(chain: &Chain, blocks: u64) {
    for _ in 0..blocks {
        let _: serde_json::Value =
            chain.provider().raw_request("evm_mine".into(), ()).await.unwrap();
    }
}

fn port_of(url: &str) -> u16 {
    url.rsplit(':').next().unwrap().trim_end_matches('/').parse().unwrap()
}

#[tokio::test]
async fn anvil_ws_cut_fails_over_backfills_and_misses_no_block() {
    let (chain, _, p) =
        setup(&every_block(&monitor("deposits", "P5", "event vault.Deposit", ""))).await;
    let px = proxy(port_of(&chain.http_url())).await;
    let start = chain.block_number().await.unwrap() + 1;
    let mut w = Watcher::new(&p, "local", opts(start))
        .unwrap()
        .with_endpoints(vec![format!("ws://127.0.0.1:{}", px.port), chain.http_url()]);
    let mut processed = Vec::new();
    let mut failed = Vec::new();
    let mut record = |events: Vec<WatchEvent>| {
        for e in events {
            match e {
                WatchEvent::Processed { number, .. } => processed.push(number),
                WatchEvent::EndpointFailed { endpoint, .. } => failed.push(endpoint),
                _ => {}
            }
        }
    };
    mine(&chain, 3).await;
    record(step(&mut w).await);
    px.cut.store(true, Ordering::SeqCst);
    tokio::time::sleep(Duration::from_millis(100)).await; // the proxy drops open connections
    mine(&chain, 4).await;
    for _ in 0..3 {
        record(step(&mut w).await);
    }
    let head = chain.block_number().await.unwrap();
    assert_eq!(processed, (start..=head).collect::<Vec<_>>(), "every block once, in order");
    assert_eq!(failed.len(), 1, "the ws endpoint failed once, then http took over: {failed:?}");
    assert!(failed[0].starts_with("ws://127.0.0.1"));
}

#[tokio::test]
async fn anvil_all_endpoints_down_raises_blind_then_recovered() {
    let (chain, _, p) = setup(&monitor("deposits", "P5", "event vault.Deposit", "")).await;
    let px = proxy(port_of(&chain.http_url())).await;
    let start = chain.block_number().await.unwrap();
    let mut o = opts(start);
    o.blind_after = Duration::ZERO;
    let mut w = Watcher::new(&p, "local", o)
        .unwrap()
        .with_endpoints(vec![format!("http://127.0.0.1:{}", px.port)]);
    assert!(step(&mut w).await.iter().any(|e| matches!(e, WatchEvent::Processed { .. })));
    px.cut.store(true, Ordering::SeqCst);
    tokio::time::sleep(Duration::from_millis(100)).await; // the proxy drops open connections
    let events = step(&mut w).await;
    assert!(
        events.iter().any(|e| matches!(e, WatchEvent::Blind { chain, .. } if chain == "local")),
        "{events:#?}"
    );
    // blind is reported once, not at every failing round
    assert!(!step(&mut w).await.iter().any(|e| matches!(e, WatchEvent::Blind { .. })));
    px.cut.store(false, Ordering::SeqCst);
    let events = step(&mut w).await;
    assert!(events.iter().any(|e| matches!(e, WatchEvent::Recovered { .. })), "{events:#?}");
}

/// Mock, because anvil never sends malformed JSON-RPC: a socket that answers
/// every HTTP request with a truncated JSON body.
#[allow(clippy::disallowed_methods)] // the garbage server is a test fixture task
async fn garbage_server() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        while let Ok((mut s, _)) = listener.accept().await {
            let mut buf = [0u8; 4096];
            let _ = s.read(&mut buf).await;
            let body = r#"{"jsonrpc":"2.0","id":0,"result":{"number":"#;
            let reply = format!(
                "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                body.len()
            );
            let _ = s.write_all(reply.as_bytes()).await;
        }
    });
    port
}

#[tokio::test]
async fn anvil_malformed_rpc_replies_mark_the_endpoint_failed_without_panic() {
    let (chain, _, p) = setup(&monitor("deposits", "P5", "event vault.Deposit", "")).await;
    let garbage = garbage_server().await;
    let start = chain.block_number().await.unwrap();
    let mut w = Watcher::new(&p, "local", opts(start))
        .unwrap()
        .with_endpoints(vec![format!("http://127.0.0.1:{garbage}"), chain.http_url()]);
    let events = step(&mut w).await;
    let failed: Vec<_> = events
        .iter()
        .filter_map(|e| match e {
            WatchEvent::EndpointFailed { endpoint, error, .. } => {
                Some((endpoint.clone(), error.clone()))
            }
            _ => None,
        })
        .collect();
    assert_eq!(failed.len(), 1, "{events:#?}");
    assert!(failed[0].0.contains(&garbage.to_string()));
    assert!(
        failed[0].1.to_lowercase().contains("deserializ") || failed[0].1.contains("EOF"),
        "{}",
        failed[0].1
    );
    // the next round uses the healthy endpoint
    let events = step(&mut w).await;
    assert!(
        events
            .iter()
            .any(|e| matches!(e, WatchEvent::Processed { number, .. } if *number == start)),
        "{events:#?}"
    );
}

#[tokio::test]
async fn anvil_confirmations_delay_the_alert_until_enough_blocks_are_on_top() {
    let (chain, v, p) =
        setup(&monitor("price", "P3", "event vault.PriceUpdated", "confirmations = 2")).await;
    let start = chain.block_number().await.unwrap() + 1;
    let mut w =
        Watcher::new(&p, "local", opts(start)).unwrap().with_endpoints(vec![chain.http_url()]);
    let r = set_price(&chain, &v).await;
    let n = r.block_number.unwrap();
    assert!(alerts(&step(&mut w).await).is_empty(), "0 blocks on top");
    mine(&chain, 1).await;
    assert!(alerts(&step(&mut w).await).is_empty(), "1 block on top");
    mine(&chain, 1).await;
    let got = alerts(&step(&mut w).await);
    assert_eq!(got, vec![(n, format!("alert {}", r.block_hash.unwrap()))]);
    mine(&chain, 3).await;
    assert!(alerts(&step(&mut w).await).is_empty(), "reported once");
}

#[tokio::test]
async fn anvil_fails_back_to_the_preferred_endpoint_once_it_is_healthy() {
    let (chain, _, p) = setup(&monitor("deposits", "P5", "event vault.Deposit", "")).await;
    let px = proxy(port_of(&chain.http_url())).await;
    let preferred = format!("ws://127.0.0.1:{}", px.port);
    let start = chain.block_number().await.unwrap();
    let mut o = opts(start);
    o.failback_after = Duration::from_millis(300);
    let mut w = Watcher::new(&p, "local", o)
        .unwrap()
        .with_endpoints(vec![preferred.clone(), chain.http_url()]);
    step(&mut w).await;
    assert_eq!(w.endpoint(), preferred);
    px.cut.store(true, Ordering::SeqCst);
    tokio::time::sleep(Duration::from_millis(100)).await;
    step(&mut w).await; // fails over
    step(&mut w).await;
    assert_eq!(w.endpoint(), chain.http_url());
    px.cut.store(false, Ordering::SeqCst);
    tokio::time::sleep(Duration::from_millis(400)).await;
    mine(&chain, 2).await;
    let events = step(&mut w).await;
    assert_eq!(w.endpoint(), preferred, "{events:#?}");
    assert!(events.iter().any(|e| matches!(e, WatchEvent::Processed { .. })));
}

/// A SQLite store in a fresh temporary directory (kept while the guard lives).
async fn temp_store() -> (tempfile::TempDir, std::sync::Arc<firebreak_store::SqliteStore>) {
    let dir = tempfile::tempdir().unwrap();
    let store = firebreak_store::SqliteStore::open(&dir.path().join("f.db")).await.unwrap();
    (dir, std::sync::Arc::new(store))
}

async fn stored_watcher(
    p: &firebreak_plan::Plan,
    chain: &Chain,
    store: &std::sync::Arc<firebreak_store::SqliteStore>,
    start: Option<u64>,
) -> Watcher {
    let mut o = opts(0);
    o.start = start;
    Watcher::new(p, "local", o)
        .unwrap()
        .with_endpoints(vec![chain.http_url()])
        .with_store(store.clone())
}

#[tokio::test]
async fn anvil_restart_resumes_from_the_checkpoint_without_duplicates() {
    let (chain, v, p) =
        setup(&every_block(&monitor("price", "P1", "event vault.PriceUpdated", ""))).await;
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("firebreak.db");
    let store = std::sync::Arc::new(firebreak_store::SqliteStore::open(&db).await.unwrap());
    let first = chain.block_number().await.unwrap() + 1;

    let mut a = stored_watcher(&p, &chain, &store, Some(first)).await;
    let r = set_price(&chain, &v).await;
    let n = r.block_number.unwrap();
    assert_eq!(alerts(&step(&mut a).await).len(), 1);
    drop(a); // the daemon stops (or crashes) here

    mine(&chain, 2).await;
    // a restart resumes after the checkpoint: the alert is not reported again
    let mut b = stored_watcher(&p, &chain, &store, None).await;
    let events = step(&mut b).await;
    assert!(alerts(&events).is_empty(), "{events:#?}");
    let processed = processed(&events);
    assert_eq!(processed, vec![n + 1, n + 2], "resumed right after the checkpoint");
    // even re-processing the exploit block from scratch reports nothing twice
    let mut c = stored_watcher(&p, &chain, &store, Some(first)).await;
    assert!(alerts(&step(&mut c).await).is_empty());
    let stored = firebreak_store::AlertStore::alerts(&*store, chain.chain_id(), 0).await.unwrap();
    assert_eq!(stored.len(), 1);
    assert_eq!(stored[0].alert.block_number, n);
}

#[tokio::test]
async fn anvil_checkpoint_never_passes_an_unconfirmed_alert() {
    let (chain, v, p) =
        setup(&monitor("price", "P3", "event vault.PriceUpdated", "confirmations = 2")).await;
    let (_dir, store) = temp_store().await;
    let first = chain.block_number().await.unwrap() + 1;
    let mut a = stored_watcher(&p, &chain, &store, Some(first)).await;
    let r = set_price(&chain, &v).await;
    let n = r.block_number.unwrap();
    mine(&chain, 1).await;
    assert!(alerts(&step(&mut a).await).is_empty());
    let cp =
        firebreak_store::AlertStore::checkpoint(&*store, chain.chain_id()).await.unwrap().unwrap();
    assert_eq!(cp.number, n - 1, "the checkpoint waits below the pending alert");
    drop(a); // crash before the alert was confirmed
    mine(&chain, 1).await;
    let mut b = stored_watcher(&p, &chain, &store, None).await;
    let got = alerts(&step(&mut b).await);
    assert_eq!(
        got,
        vec![(n, format!("alert {}", r.block_hash.unwrap()))],
        "re-derived after the restart, once"
    );
}

#[tokio::test]
async fn anvil_reorg_while_down_retracts_the_stored_alert_on_restart() {
    let (chain, v, p) = setup(&monitor("price", "P1", "event vault.PriceUpdated", "")).await;
    let (_dir, store) = temp_store().await;
    let first = chain.block_number().await.unwrap() + 1;
    let mut a = stored_watcher(&p, &chain, &store, Some(first)).await;
    let r = set_price(&chain, &v).await;
    assert_eq!(alerts(&step(&mut a).await).len(), 1);
    drop(a);
    let _: serde_json::Value = chain
        .provider()
        .raw_request("anvil_reorg".into(), (1u64, Vec::<serde_json::Value>::new()))
        .await
        .unwrap();
    let mut b = stored_watcher(&p, &chain, &store, None).await;
    let got = alerts(&step(&mut b).await);
    assert_eq!(
        got,
        vec![(r.block_number.unwrap(), format!("retracted {}", r.block_hash.unwrap()))]
    );
    let stored = firebreak_store::AlertStore::alerts(&*store, chain.chain_id(), 0).await.unwrap();
    assert!(stored[0].retracted, "the store marks it retracted");
}

#[tokio::test]
async fn anvil_reorg_deeper_than_the_history_restarts_without_skipping_blocks() {
    let (chain, v, p) =
        setup(&every_block(&monitor("price", "P1", "event vault.PriceUpdated", ""))).await;
    let start = chain.block_number().await.unwrap() + 1;
    let mut o = opts(start);
    o.reorg_depth = 2;
    let mut w = Watcher::new(&p, "local", o).unwrap().with_endpoints(vec![chain.http_url()]);
    mine(&chain, 2).await;
    let r = set_price(&chain, &v).await;
    mine(&chain, 1).await;
    assert_eq!(alerts(&step(&mut w).await).len(), 1);
    // replace the last 3 blocks: deeper than the 2 kept
    let _: serde_json::Value = chain
        .provider()
        .raw_request("anvil_reorg".into(), (3u64, Vec::<serde_json::Value>::new()))
        .await
        .unwrap();
    mine(&chain, 1).await;
    let events = step(&mut w).await;
    assert_eq!(
        alerts(&events),
        vec![(r.block_number.unwrap(), format!("retracted {}", r.block_hash.unwrap()))],
        "{events:#?}"
    );
    let processed = processed(&events);
    let head = chain.block_number().await.unwrap();
    let first = *processed.first().unwrap();
    assert_eq!(first, head - 3, "every replaced block is evaluated again: {processed:?}");
    assert_eq!(processed, (first..=head).collect::<Vec<_>>());
}

/// `monitors` plus a block monitor that never fires: every block is then an
/// input, so the watcher processes each one (no catching up by log range).
fn every_block(monitors: &str) -> String {
    format!("{monitors}{}", monitor("every-block", "P5", "block where block.number == 0", ""))
}

#[tokio::test]
async fn anvil_catching_up_fetches_ahead_evaluates_in_order_and_alerts_once() {
    let price = monitor("price", "P1", "event vault.PriceUpdated", "");
    // with a block monitor every block is processed; with event monitors
    // only, logs are fetched by range and only their blocks (and each
    // window's last) are
    for by_logs in [false, true] {
        let monitors = if by_logs { price.clone() } else { every_block(&price) };
        let (chain, v, p) = setup(&monitors).await;
        let (_dir, store) = temp_store().await;
        let first = chain.block_number().await.unwrap() + 1;
        mine(&chain, 300).await;
        let n = set_price(&chain, &v).await.block_number.unwrap();
        // more than two fetch-ahead windows behind, the alert in the middle one
        mine(&chain, 400).await;
        let head = chain.block_number().await.unwrap();
        let mut w = stored_watcher(&p, &chain, &store, Some(first)).await;
        let mut events = Vec::new();
        while !events
            .iter()
            .any(|e| matches!(e, WatchEvent::Processed { number, .. } if *number == head))
        {
            events.extend(step(&mut w).await);
        }
        let processed = processed(&events);
        if by_logs {
            assert!(processed.windows(2).all(|w| w[0] < w[1]), "in order: {processed:?}");
            assert!(processed.contains(&n) && processed.len() < 10, "{processed:?}");
        } else {
            assert_eq!(processed, (first..=head).collect::<Vec<_>>(), "every block once, in order");
        }
        let got = alerts(&events);
        assert_eq!(got.len(), 1, "{got:?}");
        assert_eq!(got[0].0, n);
        let cp = firebreak_store::AlertStore::checkpoint(&*store, chain.chain_id())
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            cp.number, head,
            "the checkpoint reaches the head at the end of the last window"
        );
        let stored =
            firebreak_store::AlertStore::alerts(&*store, chain.chain_id(), 0).await.unwrap();
        assert_eq!(stored.len(), 1);
    }
}

/// A store that cannot say which transactions firebreak sent (its actions
/// table gone, a real SQLite failure) must not hold up the block: the price
/// monitor still fires, the `tx.firebreak` rule stays silent rather than
/// guess, and the store's failure is reported.
#[tokio::test]
async fn anvil_a_store_failure_on_ours_or_not_never_holds_up_the_other_monitors() {
    let monitors = [
        monitor("price", "P1", "event vault.PriceUpdated", ""),
        monitor("key-used", "P1", "tx from guardian where !tx.firebreak", ""),
    ]
    .concat();
    let (chain, v, p) = setup(&monitors).await;
    let (dir, store) = temp_store().await;
    {
        use sqlx::Connection as _;
        let url = format!("sqlite://{}", dir.path().join("f.db").display());
        let mut c = sqlx::SqliteConnection::connect(&url).await.unwrap();
        sqlx::query("DROP TABLE actions").execute(&mut c).await.unwrap();
    }
    let start = chain.block_number().await.unwrap() + 1;
    let mut w = stored_watcher(&p, &chain, &store, Some(start)).await;
    // the guardian key used by someone, then the exploit
    let tx = alloy::rpc::types::TransactionRequest::default()
        .from(chain.dev_address(1))
        .to(chain.dev_address(9))
        .value(U256::from(1));
    chain.provider().send_transaction(tx).await.unwrap().get_receipt().await.unwrap();
    let exploit = set_price(&chain, &v).await.block_number.unwrap();
    let mut events = Vec::new();
    for _ in 0..100 {
        events.extend(step(&mut w).await);
        if processed(&events).contains(&exploit) {
            break;
        }
    }
    assert!(processed(&events).contains(&exploit), "the blocks were held up: {events:?}");
    let fired: Vec<(String, u64)> = events
        .iter()
        .filter_map(|e| match e {
            WatchEvent::Alert { alert } => Some((alert.monitor.clone(), alert.block_number)),
            _ => None,
        })
        .collect();
    assert_eq!(fired, [("price".to_owned(), exploit)], "{events:?}");
    assert!(
        events.iter().any(|e| matches!(e, WatchEvent::EndpointFailed { endpoint, error, .. }
            if endpoint == "store" && error.contains("which transactions firebreak sent"))),
        "{events:?}"
    );
}
