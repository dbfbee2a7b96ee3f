//! `firebreak replay`

use std::time::Instant;

use alloy::providers::Provider;
use eyre::{WrapErr as _, bail, eyre};
use firebreak_node::Detector;
use firebreak_plan::{Endpoint, Plan};

use crate::{Outcome, args::ReplayArgs, cmd::alerts::print_alert, output};

pub(crate) fn run(args: &ReplayArgs) -> eyre::Result<Outcome> {
    let Some(plan) = super::valid_plan(&args.plan)? else { return Ok(Outcome::Invalid) };
    if args.to.is_some_and(|to| to < args.from) {
        output::error("error: --to is before --from");
        return Ok(Outcome::Invalid);
    }
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    runtime.block_on(replay(&plan, args))
}

/// The plan's first HTTP(S) endpoint of `chain`, secrets resolved.
pub(crate) fn http_endpoint(plan: &Plan, chain: &str) -> eyre::Result<String> {
    let c = plan.chains.get(chain).ok_or_else(|| {
        eyre!(
            "the plan has no chain `{chain}` (chains: {})",
            plan.chains.keys().cloned().collect::<Vec<_>>().join(", ")
        )
    })?;
    for e in &c.rpc {
        let url = match e {
            Endpoint::Url(u) => u.clone(),
            Endpoint::Secret(s) => match firebreak_plan::resolve_secret(s, &plan.base_dir) {
                Ok(v) => secrecy::ExposeSecret::expose_secret(&v).to_owned(),
                Err(_) => continue,
            },
        };
        if url.starts_with("http://") || url.starts_with("https://") {
            return Ok(url);
        }
    }
    bail!("chain `{chain}` has no usable http(s) endpoint; pass --rpc URL")
}

async fn replay(plan: &Plan, args: &ReplayArgs) -> eyre::Result<Outcome> {
    let url = match &args.rpc {
        Some(u) => u.clone(),
        None => http_endpoint(plan, &args.chain)?,
    };
    // the same stack as the daemon's (retry on rate limits, per-call timeouts)
    let provider = firebreak_chain::connect(&url).await.wrap_err("cannot connect to --rpc")?;
    let mut detector = Detector::new(plan, &args.chain)?;
    let chain_id = provider.get_chain_id().await.wrap_err("cannot reach the RPC endpoint")?;
    if chain_id != detector.chain_id() {
        bail!(
            "the endpoint serves chain id {chain_id}, but `{}` is chain {} in the plan",
            args.chain,
            detector.chain_id()
        );
    }
    let to = match args.to {
        Some(to) => to,
        None => provider.get_block_number().await?,
    };
    let total = to.saturating_sub(args.from) + 1;
    let bar = crate::output::progress(total, "replay");
    let started = Instant::now();
    let mut alerts = 0usize;
    // 64 blocks (with their probe reads) fetched ahead of the one evaluated
    detector
        .replay(&provider, args.from, to, 64, |number, found, errors| {
            for a in &found {
                bar.suspend(|| print_alert(plan, a, args.json));
            }
            alerts += found.len();
            for e in errors {
                bar.suspend(|| {
                    output::error(&format!(
                        "warning: monitor `{}` block {}: {}",
                        e.monitor, e.block_number, e.message
                    ));
                });
            }
            bar.set_message(format!("{alerts} alert(s)"));
            // blocks without a matching log may be skipped: the position is the block
            bar.set_position(number.saturating_sub(args.from) + 1);
        })
        .await
        .wrap_err("replay stopped")?;
    bar.finish_and_clear();
    let secs = started.elapsed().as_secs_f64();
    output::error(&format!(
        "replayed blocks {}..={to} ({total} blocks, {} monitors) in {secs:.2}s ({:.0} blocks/s): {alerts} alert(s)",
        args.from,
        detector.monitors(),
        total as f64 / secs.max(1e-9)
    ));
    Ok(Outcome::Ok)
}
