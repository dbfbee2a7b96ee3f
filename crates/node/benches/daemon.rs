//! The daemon as users run it (`run_daemon_with`, the code path of
//! `firebreak run`: supervised tasks, watcher over WebSocket, executor,
//! courier, SQLite with fsync), on loopback anvils. Run, not tests:
//!
//!   cargo bench -p firebreak-node --bench daemon -- webhook
//!   cargo bench -p firebreak-node --bench daemon -- idle
//!   cargo bench -p firebreak-node --bench daemon -- isolation
//!
//! webhook:   200 drills; each mines a block holding a matching transaction
//!            (manual mining) and times from just before `evm_mine` to the
//!            page arriving whole at a loopback webhook sink (monitor with 0
//!            confirmations; the playbook pages one member). p50 / p90 / p99.
//! idle:      CPU time of this process (the daemon and nothing else) over
//!            20 s with 1 chain, 22 monitors (balance probes included) and
//!            anvil mining an empty block every second; as % of one core.
//! isolation: two chains; 100 drills on chain b, each timing exploit mined →
//!            chain b's pause in b's pool, first with both chains healthy,
//!            then with chain a's only endpoint black-holed (a loopback proxy
//!            that accepts and never answers) while chain a's own incident is
//!            open. p50 / p99 of each.
#![allow(missing_docs, clippy::unwrap_used, clippy::print_stdout, clippy::disallowed_methods)]

use std::{
    sync::Arc,
    time::{Duration, Instant},
};

use alloy::{primitives::U256, providers::Provider};
use firebreak_node::{DaemonEvent, DaemonOptions, WatchOptions, run_daemon_with};
use firebreak_primitives::{Actor, IncidentStatus};
use firebreak_store::prelude::*;
use firebreak_store::{IncidentFilter, SqliteStore};
use firebreak_test_utils::{
    Chain, LendingVault, Pauser, World, fixture_plan, monitors_22, proxy::Proxy, repo_root, sink,
};
use tokio::sync::broadcast;

fn load(text: &str) -> Arc<firebreak_plan::Plan> {
    let checked = firebreak_detect::check_source(
        "bench.toml",
        text,
        &repo_root(),
        &firebreak_plan::CheckOptions::default(),
    );
    assert_eq!(checked.report.errors(), 0, "{}", checked.report.render());
    Arc::new(checked.plan.unwrap())
}

/// A daemon in this process; stops when `stop` is dropped or sent.
struct Running {
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    task: tokio::task::JoinHandle<()>,
    events: broadcast::Receiver<DaemonEvent>,
}

fn start(plan: Arc<firebreak_plan::Plan>, store: Arc<SqliteStore>, opts: DaemonOptions) -> Running {
    let (tx, events) = broadcast::channel(firebreak_node::EVENT_CAPACITY);
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn(async move {
        run_daemon_with(plan, store, opts, tx, async move {
            let _ = stopped.await;
        })
        .await
        .unwrap();
    });
    Running { stop: Some(stop), task, events }
}

impl Running {
    /// Waits until a block of each chain in `ids` was processed.
    async fn watching(&mut self, ids: &[u64]) {
        let mut left = ids.to_vec();
        while !left.is_empty() {
            if let DaemonEvent::Watch {
                event: firebreak_node::WatchEvent::Processed { chain_id, .. },
            } = self.events.recv().await.unwrap()
            {
                left.retain(|c| *c != chain_id);
            }
        }
    }

    async fn stop(mut self) {
        let _ = self.stop.take().unwrap().send(());
        self.task.await.unwrap();
    }
}

fn opts() -> DaemonOptions {
    DaemonOptions {
        watch: WatchOptions { start: None, ..WatchOptions::default() },
        // every alert its own incident, so every drill pages
        window: Duration::ZERO,
        ..DaemonOptions::default()
    }
}

fn percentiles(name: &str, samples: &mut [Duration]) {
    samples.sort();
    let at = |p: f64| samples[((samples.len() as f64 - 1.0) * p).round() as usize];
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    println!(
        "{name}: {} samples, p50 {:.1} ms, p90 {:.1} ms, p99 {:.1} ms (max {:.1} ms)",
        samples.len(),
        ms(at(0.5)),
        ms(at(0.9)),
        ms(at(0.99)),
        ms(samples[samples.len() - 1])
    );
}

async fn mine(w: &World) {
    let _: serde_json::Value = w.chain.provider().raw_request("evm_mine".into(), ()).await.unwrap();
}

/// Sends a price change (a match) from dev 0 without mining it.
async fn price_change(w: &World, i: usize) {
    let p = w.chain.provider();
    let nonce = p.get_transaction_count(w.chain.dev_address(0)).pending().await.unwrap();
    let vault = LendingVault::new(w.vault.vault, p);
    let _ = vault.setPrice(U256::from(1_000 + i)).nonce(nonce).send().await.unwrap();
}

async fn webhook() {
    const DRILLS: usize = 200;
    let w = World::manual(Pauser::Guardian).await.unwrap();
    let hook = sink::start().await;
    let secrets = tempfile::tempdir().unwrap();
    std::fs::write(secrets.path().join("whsec"), "whsec").unwrap();
    let mut text = w.plan_text(r#"[{ signer = "guardian" }]"#, &[]);
    // a P2 page-only playbook (a P1 must pause)
    text = text
        .replace(
            r#"steps = [{ kind = "pause", contracts = ["vault"] }]"#,
            r#"steps = [{ kind = "page", targets = ["alice"] }]"#,
        )
        .replace("[monitors.price]\nseverity = \"P1\"", "[monitors.price]\nseverity = \"P2\"");
    text.push_str(&format!(
        "[team.alice]\nname = \"Alice\"\nroles = [\"commander\"]\ntimezone = \"UTC\"\ncontacts = {{ hook = \"@alice\" }}\n[channels.hook]\nkind = \"webhook\"\nurl = \"{}/page\"\nsigning_secret = {{ file = \"{}\" }}\n",
        hook.url,
        secrets.path().join("whsec").display()
    ));
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(SqliteStore::open(&dir.path().join("bench.db")).await.unwrap());
    let mut d = start(load(&text), store.clone(), opts());
    d.watching(&[w.chain.chain_id()]).await;
    let mut samples = Vec::with_capacity(DRILLS);
    for i in 0..DRILLS {
        // apart by more than the channel's rate limit (50 ms between two
        // deliveries), which would otherwise be what this measures
        tokio::time::sleep(Duration::from_millis(100)).await;
        price_change(&w, i).await;
        let t0 = Instant::now();
        mine(&w).await;
        hook.wait_for(i + 1).await;
        samples.push(hook.seen()[i].at.duration_since(t0));
        // the page is out: close the incident, as the team would (a
        // daemon with 200 open incidents waiting for an acknowledgement
        // measures those, not a page)
        resolve_open(&store).await;
    }
    d.stop().await;
    percentiles("block mined → page received by the webhook sink", &mut samples);
}

/// Resolves every open incident (waiting for the one of the last drill to open).
async fn resolve_open(store: &SqliteStore) {
    loop {
        let list = store.incidents(&IncidentFilter::default()).await.unwrap();
        let open: Vec<_> = list.iter().filter(|i| i.status.is_open()).map(|i| i.id).collect();
        if !open.is_empty() {
            for id in open {
                store
                    .transition(id, IncidentStatus::Resolved, Actor::System, Some("bench".into()))
                    .await
                    .unwrap();
            }
            return;
        }
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
}

/// CPU time (user + system) of this process so far.
fn cpu_time() -> Duration {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap();
    // fields after the command name (which may hold spaces) start at ") "
    let rest = &stat[stat.rfind(") ").unwrap() + 2..];
    let f: Vec<&str> = rest.split_whitespace().collect();
    // utime and stime are fields 14 and 15 of the whole line (11 and 12 here)
    let ticks: u64 = f[11].parse::<u64>().unwrap() + f[12].parse::<u64>().unwrap();
    let hz = std::process::Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .and_then(|s| s.trim().parse::<u64>().ok())
        .unwrap_or(100);
    Duration::from_secs_f64(ticks as f64 / hz as f64)
}

async fn idle() {
    let chain = Chain::spawn_with(|a| a.block_time(1)).unwrap();
    let vault =
        firebreak_test_utils::deploy_vault(&chain, chain.dev_address(0), chain.dev_address(1))
            .await
            .unwrap();
    let text = fixture_plan(&chain, &vault, chain.dev_address(9), &monitors_22(true));
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(SqliteStore::open(&dir.path().join("bench.db")).await.unwrap());
    let mut d = start(load(&text), store, opts());
    d.watching(&[chain.chain_id()]).await;
    // settle, then measure
    tokio::time::sleep(Duration::from_secs(2)).await;
    let (c0, t0) = (cpu_time(), Instant::now());
    tokio::time::sleep(Duration::from_secs(20)).await;
    let (c1, t1) = (cpu_time(), Instant::now());
    d.stop().await;
    let share = (c1 - c0).as_secs_f64() / (t1 - t0).as_secs_f64() * 100.0;
    println!(
        "idle, 1 chain (1 block/s), 22 monitors: {:.2} s CPU in {:.1} s = {share:.2} % of one core",
        (c1 - c0).as_secs_f64(),
        (t1 - t0).as_secs_f64()
    );
}

/// The plan of the isolation case: chains `a` (through `a_rpc`) and `b`.
fn two_chains(a: &World, a_rpc: &str, b: &World) -> String {
    let fixtures = repo_root().join("crates/devnet/fixtures");
    let mut text = String::from(
        "version = 1\nmode = \"drill\"\n[protocol]\nname = \"Two chains\"\n[signers.guardian]\nanvil_account = 1\n",
    );
    for (key, w, rpc) in [("a", a, a_rpc.to_owned()), ("b", b, b.chain.ws_url())] {
        text.push_str(&format!(
            "[chains.{key}]\nid = {id}\nrpc = [\"{rpc}\"]\nconfirmations = 1\n[contracts.vault_{key}]\nchain = \"{key}\"\naddress = \"{vault}\"\nabi = {{ artifact = \"{fixtures}/LendingVault.json\" }}\npause = {{ method = \"pause\", via = [{{ signer = \"guardian\" }}] }}\n[playbooks.contain_{key}]\nsteps = [{{ kind = \"pause\", contracts = [\"vault_{key}\"] }}]\n[monitors.price_{key}]\nseverity = \"P1\"\nchain = \"{key}\"\ncontracts = [\"vault_{key}\"]\nrule = 'event vault_{key}.PriceUpdated'\nplaybook = \"contain_{key}\"\n",
            id = w.chain.chain_id(),
            vault = w.vault.vault,
            fixtures = fixtures.display(),
        ));
    }
    text
}

async fn pending(w: &World) -> u64 {
    w.pending().await.unwrap()
}

async fn wait_pending(w: &World) {
    while pending(w).await == 0 {
        tokio::time::sleep(Duration::from_micros(200)).await;
    }
}

/// `n` drills on chain b: exploit mined → b's pause in b's pool.
async fn drills_on_b(b: &World, store: &SqliteStore, n: usize, offset: usize) -> Vec<Duration> {
    let mut samples = Vec::with_capacity(n);
    let vault = LendingVault::new(b.vault.vault, b.chain.provider());
    for i in 0..n {
        // apart by more than a delayed ACK (40 ms): anvil's WebSocket server
        // leaves Nagle's algorithm on, so a head announced within 40 ms of
        // its last answer on that socket waits for our ACK (blocks on a live
        // chain are further apart than that)
        tokio::time::sleep(Duration::from_millis(100)).await;
        price_change(b, offset + i).await;
        let t0 = Instant::now();
        mine(b).await;
        wait_pending(b).await;
        samples.push(t0.elapsed());
        mine(b).await;
        // the pause is final: close the incident, reopen the vault for the next drill
        let id = loop {
            let list = store.incidents(&IncidentFilter::default()).await.unwrap();
            let chain_b = list
                .iter()
                .find(|i| i.status == IncidentStatus::Contained && i.playbook == "contain_b");
            if let Some(i) = chain_b {
                break i.id;
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        };
        store
            .transition(id, IncidentStatus::Resolved, Actor::System, Some("bench".into()))
            .await
            .unwrap();
        let nonce = b
            .chain
            .provider()
            .get_transaction_count(b.chain.dev_address(0))
            .pending()
            .await
            .unwrap();
        let _ = vault.unpause().nonce(nonce).send().await.unwrap();
        mine(b).await;
        assert!(!b.paused().await.unwrap());
    }
    samples
}

async fn isolation() {
    const DRILLS: usize = 100;
    let a = World::manual_on(Chain::spawn_with(|x| x.chain_id(31_338)).unwrap(), Pauser::Guardian)
        .await
        .unwrap();
    let b = World::manual_on(Chain::spawn_with(|x| x.chain_id(31_339)).unwrap(), Pauser::Guardian)
        .await
        .unwrap();
    // dev 0 (the admin) reopens the vault between drills
    let vault_b = LendingVault::new(b.vault.vault, b.chain.provider());
    let role = vault_b.PAUSER_ROLE().call().await.unwrap();
    let _ = vault_b.grantRole(role, b.chain.dev_address(0)).send().await.unwrap();
    mine(&b).await;
    let target = a.chain.http_url().trim_start_matches("http://").parse().unwrap();
    let proxy = Proxy::start(target).await;
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(SqliteStore::open(&dir.path().join("bench.db")).await.unwrap());
    let mut d = start(load(&two_chains(&a, &proxy.http_url(), &b)), store.clone(), opts());
    d.watching(&[a.chain.chain_id(), b.chain.chain_id()]).await;

    let mut normal = drills_on_b(&b, &store, DRILLS, 0).await;
    percentiles("chain b exploit mined → b's pause in b's pool, both chains healthy", &mut normal);

    // chain a: an incident of its own, then its endpoint goes dark
    price_change(&a, 0).await;
    mine(&a).await;
    wait_pending(&a).await;
    proxy.black_hole(true);
    let mut dark = drills_on_b(&b, &store, DRILLS, DRILLS).await;
    percentiles("chain b exploit mined → b's pause in b's pool, chain a black-holed", &mut dark);
    proxy.black_hole(false);
    d.stop().await;
}

fn main() {
    let which: Vec<String> = std::env::args().skip(1).filter(|a| !a.starts_with('-')).collect();
    let all = which.is_empty();
    let rt =
        tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    if all || which.iter().any(|w| w == "webhook") {
        rt.block_on(webhook());
    }
    if all || which.iter().any(|w| w == "idle") {
        rt.block_on(idle());
    }
    if all || which.iter().any(|w| w == "isolation") {
        rt.block_on(isolation());
    }
}
