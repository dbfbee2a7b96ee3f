//! `firebreak watch`

use eyre::{WrapErr as _, bail};
use firebreak_node::{WatchEvent, WatchOptions, Watcher};
use firebreak_plan::Plan;
use tokio::sync::{mpsc, watch};

use crate::{Outcome, args::WatchArgs, cmd::alerts::print_alert, output};

pub(crate) fn run(args: &WatchArgs) -> eyre::Result<Outcome> {
    let Some(plan) = super::valid_plan(&args.plan)? else { return Ok(Outcome::Invalid) };
    let chains: Vec<String> = if args.chains.is_empty() {
        let mut c: Vec<String> =
            plan.monitors.values().filter(|m| m.enabled).map(|m| m.chain.clone()).collect();
        c.sort();
        c.dedup();
        c
    } else {
        args.chains.clone()
    };
    if chains.is_empty() {
        bail!("the plan has no enabled monitors: nothing to watch");
    }
    if chains.len() > 1 && (args.from.is_some() || args.until.is_some() || args.rpc.is_some()) {
        output::error("error: --from, --until and --rpc need exactly one --chain");
        return Ok(Outcome::Invalid);
    }
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    runtime.block_on(watch_all(&plan, &chains, args))
}

async fn watch_all(plan: &Plan, chains: &[String], args: &WatchArgs) -> eyre::Result<Outcome> {
    let opts = WatchOptions {
        poll_interval: args.poll,
        blind_after: args.blind_after,
        start: args.from,
        ..WatchOptions::default()
    };
    let store: Option<std::sync::Arc<dyn firebreak_store::AlertStore>> = if args.no_db {
        None
    } else {
        let s = firebreak_store::SqliteStore::open(&args.db).await.wrap_err_with(|| {
            format!("cannot open the alert store `{}` (or pass --no-db)", args.db.display())
        })?;
        Some(std::sync::Arc::new(s))
    };
    let mut watchers = Vec::new();
    for chain in chains {
        let mut w = Watcher::new(plan, chain, opts.clone())?;
        for skipped in w.skipped_endpoints() {
            output::error(&format!("warning: chain `{chain}`: endpoint {skipped}"));
        }
        if let Some(store) = &store {
            w = w.with_store(store.clone());
        }
        if let Some(url) = &args.rpc {
            w = w.with_endpoints(vec![url.clone()]);
        }
        watchers.push((chain.clone(), w));
    }
    output::error(&format!("watching {} (Ctrl-C to stop)", chains.join(", ")));
    let (stop_tx, stop_rx) = watch::channel(false);
    let (tx, mut rx) = mpsc::unbounded_channel::<WatchEvent>();
    let until = args.until;
    let runs: Vec<_> = watchers
        .iter_mut()
        .map(|(_, w)| {
            let tx = tx.clone();
            let mut stop = stop_rx.clone();
            let stop_tx = stop_tx.clone();
            async move {
                let mut emit = |e: WatchEvent| {
                    if let (Some(until), WatchEvent::Processed { number, .. }) = (until, &e)
                        && *number >= until
                    {
                        let _ = stop_tx.send(true);
                    }
                    let _ = tx.send(e);
                };
                w.run(&mut emit, async move {
                    let _ = stop.wait_for(|s| *s).await;
                })
                .await;
            }
        })
        .collect();
    drop(tx);
    let json = args.json;
    let printer = async {
        while let Some(e) = rx.recv().await {
            print_event(plan, &e, json);
        }
    };
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
        let _ = stop_tx.send(true);
    };
    tokio::select! {
        _ = futures::future::join(futures::future::join_all(runs), printer) => {}
        () = ctrl_c => {}
    }
    output::error("stopped");
    Ok(Outcome::Ok)
}

fn print_event(plan: &Plan, e: &WatchEvent, json: bool) {
    if json {
        if !matches!(e, WatchEvent::Processed { .. })
            && let Ok(line) = serde_json::to_string(e)
        {
            output::out(&line);
        }
        return;
    }
    match e {
        WatchEvent::Alert { alert } => print_alert(plan, alert, false),
        WatchEvent::Retracted { alert } => output::out(&format!(
            "RETRACTED [{}] {}  block {} {} was orphaned by a reorg",
            alert.severity, alert.monitor, alert.block_number, alert.block_hash
        )),
        WatchEvent::Blind { chain, for_secs } => output::out(&format!(
            "[BLIND] chain `{chain}`: every RPC endpoint has failed for {for_secs}s: its monitors see nothing; check the endpoints"
        )),
        WatchEvent::Recovered { chain } => {
            output::out(&format!("[RECOVERED] chain `{chain}` is visible again"))
        }
        WatchEvent::Reorg { chain_id, ancestor, depth } => {
            output::error(&format!(
                "reorg on chain {chain_id}: {depth} block(s) above {ancestor} replaced"
            ));
        }
        WatchEvent::EndpointFailed { chain, endpoint, error } => {
            output::error(&format!("warning: chain `{chain}`: {endpoint}: {error}"));
        }
        WatchEvent::StoreFailed { chain, error } => {
            output::error(&format!(
                "error: chain `{chain}`: the store did not record a block ({error}); alerts are still reported"
            ));
        }
        WatchEvent::Processed { .. }
        | WatchEvent::Simulated { .. }
        | WatchEvent::PendingIntake { .. } => {}
    }
}
