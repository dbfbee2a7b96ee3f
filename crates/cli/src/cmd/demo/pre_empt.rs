//! `firebreak demo --pre-empt`: the attack that a next-block pause cannot
//! stop, stopped in its own block.
//!
//! anvil orders its pool by fee and mines one block per second. The
//! attacker's contract drains the vault in ONE transaction (inflate the
//! price, borrow everything, take it), sent to the public pool with the
//! node's ordinary fee at a random moment of the block interval. The daemon
//! reads the pool, simulates the transaction on the latest state, sees the
//! price jump it would cause, and sends the pause with more than twice the
//! attack's fees: the pause is mined first in the same block and the drain
//! reverts. `--runs N` repeats it on fresh daemons and reports every run
//! that was not pre-empted, with the reason.

use std::{path::Path, sync::Arc, time::Duration};

use alloy::{primitives::U256, providers::Provider as _};
use eyre::WrapErr as _;
use firebreak_devnet::{Drainer, IERC20, LendingVault, MockUSDC, Pauser, World, deploy_drainer};
use firebreak_node::{DaemonEvent, DaemonOptions, WatchEvent, WatchOptions, run_daemon};
use firebreak_store::{IncidentFilter, SqliteStore, prelude::*};
use serde::Serialize;

/// One attack and what became of it.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct PreEmptRun {
    /// 1-based.
    pub run: u32,
    /// The drain transaction.
    pub exploit_tx: String,
    /// Its block.
    pub exploit_block: u64,
    /// Its index in that block.
    pub exploit_index: u64,
    /// `reverted` (pre-empted) or `succeeded` (the vault was drained).
    pub exploit_status: String,
    /// The pause transaction (none: no pause was sent).
    pub pause_tx: Option<String>,
    /// Its block.
    pub pause_block: Option<u64>,
    /// Its index in that block.
    pub pause_index: Option<u64>,
    /// The pause was mined ahead of the drain in the drain's block.
    pub pre_empted: bool,
    /// The drain's hash reached firebreak → the node accepted the pause (ms).
    pub seen_to_pause_accepted_ms: Option<u64>,
    /// How far into the block interval the drain was sent (ms).
    pub sent_into_interval_ms: u64,
    /// Why it was not pre-empted.
    pub reason: Option<String>,
}

/// p50 / p99 / max of a measurement.
#[derive(Debug, Clone, Copy, Serialize, Default)]
pub(crate) struct Spread {
    pub p50: u64,
    pub p99: u64,
    pub max: u64,
}

impl Spread {
    fn of(mut v: Vec<u64>) -> Option<Self> {
        if v.is_empty() {
            return None;
        }
        v.sort_unstable();
        let at = |pct: usize| v[(v.len() * pct).div_ceil(100).saturating_sub(1).min(v.len() - 1)];
        Some(Self { p50: at(50), p99: at(99), max: v[v.len() - 1] })
    }
}

/// What `--pre-empt` measured.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct PreEmptReport {
    /// The local chain's RPC URL.
    pub rpc: String,
    /// Block interval (s); the pool is ordered by fee.
    pub block_time_secs: u64,
    /// The vault.
    pub vault: String,
    /// The attacker's contract.
    pub drainer: String,
    /// The first run's drain block, pause block, indexes and drain status.
    pub exploit_block: u64,
    pub pause_block: Option<u64>,
    pub exploit_index: u64,
    pub pause_index: Option<u64>,
    pub exploit_status: String,
    /// Runs made.
    pub runs: u32,
    /// Runs whose pause was mined ahead of the drain in the same block.
    pub pre_empted: u32,
    /// Pending transaction seen → pause accepted by the node, over the runs.
    pub seen_to_pause_accepted_ms: Option<Spread>,
    /// The runs that were not pre-empted, with the reason.
    pub not_pre_empted: Vec<PreEmptRun>,
    /// Every run.
    pub each: Vec<PreEmptRun>,
    /// The plan file.
    pub plan: String,
    /// The last run's store (`firebreak incident show 1 --db …`).
    pub db: String,
}

/// Runs the pre-emption demo `runs` times on one chain, a fresh daemon
/// each time.
///
/// # Errors
/// When anvil is missing, a deployment fails, or a run cannot be carried out.
pub(crate) async fn run_pre_empt(
    dir: &Path,
    runs: u32,
    progress: &mut (dyn FnMut(&str) + Send),
) -> eyre::Result<(PreEmptReport, World)> {
    std::fs::create_dir_all(dir)
        .wrap_err_with(|| format!("cannot create the demo directory `{}`", dir.display()))?;
    progress("starting anvil (pool ordered by fee, one block per second) and deploying the vault");
    let chain = firebreak_devnet::Chain::spawn_with(|a| a.args(["--order", "fees"]))
        .wrap_err("cannot start the local chain")?;
    let w = World::with_chain(chain, Pauser::Guardian).await?;
    let attacker = w.chain.dev_address(7);
    let drainer = deploy_drainer(&w.chain, attacker).await?;
    let mut text = w.plan_text(r#"[{ signer = "guardian" }]"#, &[]);
    text = text.replace(r#"name = "Fixture""#, r#"name = "Acme Lending (pre-emption demo)""#);
    text = text.replacen(
        "confirmations = 1\n",
        "confirmations = 1\n# anvil serves its pool: pending transactions are simulated\nmempool = \"public\"\n",
        1,
    );
    text = super::bounded_price_rule(&text, "\npre_empt = true")?;
    let (plan_path, plan) = super::write_plan(dir, "pre-empt-plan.toml", &text)?;
    progress(&format!(
        "plan {} · the attacker {attacker} deployed its contract at {drainer}",
        plan_path.display()
    ));
    let db = dir.join("pre-empt.db");
    let mut each = Vec::new();
    for run in 1..=runs {
        let r = one_run(&w, &plan, drainer, run, &db).await?;
        progress(&describe(&r, runs));
        reset(&w, &r).await?;
        each.push(r);
    }
    let first = each.first().cloned().ok_or_else(|| eyre::eyre!("no run"))?;
    let pre_empted = u32::try_from(each.iter().filter(|r| r.pre_empted).count()).unwrap_or(0);
    let report = PreEmptReport {
        rpc: w.chain.http_url(),
        block_time_secs: 1,
        vault: w.vault.vault.to_string(),
        drainer: drainer.to_string(),
        exploit_block: first.exploit_block,
        pause_block: first.pause_block,
        exploit_index: first.exploit_index,
        pause_index: first.pause_index,
        exploit_status: first.exploit_status,
        runs,
        pre_empted,
        seen_to_pause_accepted_ms: Spread::of(
            each.iter().filter_map(|r| r.seen_to_pause_accepted_ms).collect(),
        ),
        not_pre_empted: each.iter().filter(|r| !r.pre_empted).cloned().collect(),
        each,
        plan: plan_path.display().to_string(),
        db: db.display().to_string(),
    };
    Ok((report, w))
}

fn describe(r: &PreEmptRun, runs: u32) -> String {
    let pause = match (r.pause_block, r.pause_index) {
        (Some(b), Some(i)) => format!("pause block {b} (index {i})"),
        _ => "no pause mined".to_owned(),
    };
    let seen = r
        .seen_to_pause_accepted_ms
        .map(|ms| format!("; seen → pause accepted {ms} ms"))
        .unwrap_or_default();
    let head = if r.pre_empted { "PRE-EMPTED" } else { "NOT PRE-EMPTED" };
    let why = r.reason.as_ref().map(|w| format!(" — {w}")).unwrap_or_default();
    format!(
        "run {}/{runs}: {head}: drain block {} (index {}, {}), {pause}{seen}{why}",
        r.run, r.exploit_block, r.exploit_index, r.exploit_status
    )
}

/// One attack against a fresh daemon with a fresh store.
async fn one_run(
    w: &World,
    plan: &Arc<firebreak_plan::Plan>,
    drainer: alloy::primitives::Address,
    run: u32,
    db: &Path,
) -> eyre::Result<PreEmptRun> {
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", db.display()));
    }
    let store = Arc::new(SqliteStore::open(db).await?);
    let opts = DaemonOptions {
        watch: WatchOptions {
            poll_interval: Duration::from_millis(100),
            ..WatchOptions::default()
        },
        tick: Duration::from_millis(100),
        ..DaemonOptions::default()
    };
    let (events_tx, mut events) = tokio::sync::mpsc::unbounded_channel::<DaemonEvent>();
    let mut emit = move |e: DaemonEvent| {
        let _ = events_tx.send(e);
    };
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let daemon = run_daemon(plan.clone(), store.clone(), opts, &mut emit, async move {
        let _ = stop_rx.await;
    });
    let attack = async {
        // the watcher has a block and the pool is being read
        let (mut block, mut intake) = (false, false);
        while !(block && intake) {
            match events.recv().await {
                Some(DaemonEvent::Watch { event: WatchEvent::Processed { .. } }) => block = true,
                Some(DaemonEvent::Watch { event: WatchEvent::PendingIntake { .. } }) => {
                    intake = true;
                }
                Some(_) => {}
                None => eyre::bail!("the daemon stopped"),
            }
        }
        // a fresh block, then a random moment of its interval
        let head = w.chain.block_number().await?;
        while w.chain.block_number().await? == head {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        let into = rand::random::<u64>() % 1000;
        tokio::time::sleep(Duration::from_millis(into)).await;
        // an ordinary fee: what the node suggests
        let pending = Drainer::new(drainer, w.chain.provider())
            .drain(w.vault.vault)
            .from(w.chain.dev_address(7))
            .value(U256::from(1_000_000_000_000_000u64))
            .gas(500_000)
            .send()
            .await?;
        let hash = *pending.tx_hash();
        let receipt = tokio::time::timeout(Duration::from_secs(30), pending.get_receipt())
            .await
            .wrap_err("the drain was not mined within 30 s")??;
        eyre::Ok((hash, receipt, into))
    };
    tokio::pin!(daemon);
    let (hash, receipt, into) = tokio::select! {
        r = attack => r?,
        r = &mut daemon => {
            r.wrap_err("the daemon stopped")?;
            eyre::bail!("the daemon stopped during run {run}");
        }
    };
    let exploit_block = receipt.block_number.unwrap_or_default();
    // the pause: mined with the drain, or later, or never
    let mut pause = None;
    let mut seen_ms = None;
    let mut accepted = None;
    let wait = async {
        for _ in 0..60 {
            if let Some(i) = store.incidents(&IncidentFilter::default()).await?.into_iter().next() {
                for e in store.timeline(i.id).await? {
                    match &e.event {
                        firebreak_primitives::Event::Alert(a)
                        | firebreak_primitives::Event::IncidentOpened(
                            firebreak_primitives::event::Opened { alert: Some(a), .. },
                        ) => {
                            if let Some(ms) = a.evidence.get(firebreak_node::PENDING_SEEN_MS) {
                                seen_ms = seen_ms.or(ms.parse::<u64>().ok());
                            }
                        }
                        firebreak_primitives::Event::TxBroadcast(b) if b.accepted_by > 0 => {
                            accepted = accepted.or(e
                                .at
                                .parse::<jiff::Timestamp>()
                                .ok()
                                .and_then(|t| u64::try_from(t.as_millisecond()).ok()));
                        }
                        _ => {}
                    }
                }
                let actions = store.actions(i.id).await?;
                if let Some(r) = actions.iter().find_map(|a| a.receipt.clone()) {
                    pause = Some(r);
                    break;
                }
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        eyre::Ok(())
    };
    tokio::select! {
        r = wait => r?,
        r = &mut daemon => {
            r.wrap_err("the daemon stopped")?;
            eyre::bail!("the daemon stopped during run {run}");
        }
    }
    let _ = stop_tx.send(());
    daemon.await.wrap_err("the daemon failed")?;
    let pause_tx = pause.as_ref().and_then(|r| r["tx_hash"].as_str().map(str::to_owned));
    let pause_block = pause.as_ref().and_then(|r| r["block_number"].as_u64());
    let pause_index = match &pause_tx {
        Some(h) => w
            .chain
            .provider()
            .get_transaction_receipt(h.parse()?)
            .await?
            .and_then(|r| r.transaction_index),
        None => None,
    };
    let exploit_index = receipt.transaction_index.unwrap_or_default();
    let pre_empted = pause_block == Some(exploit_block)
        && pause_index.is_some_and(|i| i < exploit_index)
        && !receipt.status();
    let reason = (!pre_empted).then(|| match (pause_block, seen_ms) {
        (None, None) => "no pause: the drain was not caught pending, nor did its block raise an alert in time".to_owned(),
        (Some(b), None) => format!(
            "the drain was mined before firebreak read it from the pool (sent {into} ms into the interval): the pause followed block {exploit_block}'s alert, in block {b}"
        ),
        (None, Some(_)) => "the pause was sent but not mined within 6 s".to_owned(),
        (Some(b), _) if b > exploit_block => format!(
            "the pause was accepted after block {exploit_block} was built (sent {into} ms into the interval): mined in block {b}"
        ),
        (Some(b), _) if b == exploit_block => "same block, but behind the drain".to_owned(),
        (Some(b), _) => format!("the pause was mined in block {b}, before the drain's block, which still succeeded"),
    });
    Ok(PreEmptRun {
        run,
        exploit_tx: hash.to_string(),
        exploit_block,
        exploit_index,
        exploit_status: if receipt.status() { "succeeded" } else { "reverted" }.to_owned(),
        pause_tx,
        pause_block,
        pause_index,
        pre_empted,
        seen_to_pause_accepted_ms: seen_ms
            .zip(accepted)
            .map(|(seen, acc)| acc.saturating_sub(seen)),
        sent_into_interval_ms: into,
        reason,
    })
}

/// Back to an open, funded vault at its honest price for the next run.
async fn reset(w: &World, r: &PreEmptRun) -> eyre::Result<()> {
    let p = w.chain.provider();
    let vault = LendingVault::new(w.vault.vault, p);
    let admin = w.chain.dev_address(0);
    if vault.paused().call().await? {
        vault.unpause().from(admin).send().await?.get_receipt().await?;
    }
    if r.exploit_status == "succeeded" {
        vault
            .setPrice(U256::from(2_000_000_000u64))
            .from(admin)
            .send()
            .await?
            .get_receipt()
            .await?;
        let held = IERC20::new(w.vault.asset, p).balanceOf(w.vault.vault).call().await?;
        let seed = U256::from(1_000_000_000_000u64);
        if held < seed {
            MockUSDC::new(w.vault.asset, p)
                .mint(w.vault.vault, seed - held)
                .from(admin)
                .send()
                .await?
                .get_receipt()
                .await?;
        }
    }
    Ok(())
}
