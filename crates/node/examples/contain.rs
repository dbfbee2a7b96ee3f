//! Containment on a local chain, end to end, in one process:
//!
//!   cargo run -p firebreak-node --example contain
//!
//! Starts anvil (from `npm ci --prefix tools`), deploys the vault fixture
//! with dev account 1 as its guardian and a 2-of-3 Safe, runs the daemon with
//! a SQLite store in a temporary directory, sends an exploit-like
//! transaction, and prints what happened: the alert, the incident, the pause
//! mined in the next block, and the verified timeline. With `FIREBREAK_DB=FILE`
//! the store is kept, for `firebreak incident show 1 --db FILE`.
#![allow(missing_docs, clippy::print_stdout, clippy::unwrap_used)]

use std::{sync::Arc, time::Duration};

use firebreak_node::{DaemonEvent, DaemonOptions, WatchEvent, WatchOptions, run_daemon};
use firebreak_store::prelude::*;
use firebreak_store::{IncidentFilter, SqliteStore, verify_chain};
use firebreak_test_utils::{Pauser, World, repo_root};

#[tokio::main(flavor = "current_thread")]
async fn main() -> eyre::Result<()> {
    let w = World::new(Pauser::Guardian).await?;
    let text = w.plan_text(r#"[{ signer = "guardian" }]"#, &[]);
    let checked = firebreak_detect::check_source(
        "example.toml",
        &text,
        &repo_root(),
        &firebreak_plan::CheckOptions::default(),
    );
    let plan = Arc::new(checked.plan.ok_or_else(|| eyre::eyre!(checked.report.render()))?);
    // FIREBREAK_DB keeps the store for `firebreak incident show/verify --db …`
    let dir = tempfile::tempdir()?;
    let path = std::env::var_os("FIREBREAK_DB")
        .map_or_else(|| dir.path().join("firebreak.db"), std::path::PathBuf::from);
    let store = Arc::new(SqliteStore::open(&path).await?);
    println!(
        "anvil at {} — vault {} guarded by {}",
        w.chain.http_url(),
        w.vault.vault,
        w.chain.dev_address(1)
    );

    let from = w.chain.block_number().await? + 1;
    let opts = DaemonOptions {
        watch: WatchOptions { start: Some(from), ..WatchOptions::default() },
        ..DaemonOptions::default()
    };
    let mut emit = |e: DaemonEvent| match e {
        DaemonEvent::Watch { event: WatchEvent::Alert { alert } } => {
            println!(
                "ALERT [{}] {} at block {}",
                alert.severity, alert.monitor, alert.block_number
            );
        }
        DaemonEvent::IncidentOpened { incident, .. } => println!("incident {incident} opened"),
        DaemonEvent::Step { step, status, detail, .. } => {
            println!("  step {step}: {status} {}", detail.unwrap_or_default());
        }
        _ => {}
    };
    let scenario = async {
        tokio::time::sleep(Duration::from_secs(1)).await;
        let n = w.exploit().await.unwrap();
        println!("exploit mined in block {n}");
        while !w.paused().await.unwrap() {
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    };
    run_daemon(plan, store.clone(), opts, &mut emit, scenario).await?;

    let incident = store.incidents(&IncidentFilter::default()).await?.remove(0);
    let actions = store.actions(incident.id).await?;
    let block = actions[0].receipt.as_ref().map(|r| r["block_number"].clone());
    println!(
        "incident {} is {}; pause mined in block {}",
        incident.id,
        incident.status,
        block.unwrap_or_default()
    );
    let timeline = store.timeline(incident.id).await?;
    verify_chain(&timeline)?;
    println!("timeline: {} entries, hash chain verified", timeline.len());
    for e in timeline {
        println!(
            "  {:>2} {} {:<20} {}",
            e.seq,
            e.at.get(11..23).unwrap_or(&e.at),
            e.kind(),
            e.actor
        );
    }
    Ok(())
}
