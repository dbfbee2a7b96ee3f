//! `firebreak demo`

mod pre_empt;
mod story;

use crate::{Outcome, args::DemoArgs, cmd::store, output};

pub(crate) fn run(args: &DemoArgs) -> eyre::Result<Outcome> {
    let dir = args.dir.clone().unwrap_or_else(|| store::data_dir().join("demo"));
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build()?;
    let json = args.json;
    let exit = args.exit;
    let listen = args.listen;
    let db = dir.join("demo.db");
    if args.pre_empt {
        return rt.block_on(pre_empt_demo(&dir, args.runs, json, exit));
    }
    rt.block_on(async move {
        let mut progress = move |line: &str| {
            if json {
                output::error(line);
            } else {
                output::out(line);
            }
        };
        let linger = move |report: &story::DemoReport| {
            if json {
                if let Ok(text) = serde_json::to_string_pretty(report) {
                    output::out(&text);
                }
            } else {
                output::out(&format!(
                    "\nRESULT: exploit in block {}, detected in block {}, paused in block {} ({} ms from the incident opening to the pause broadcast); the drain in block {} {}.\n        at risk {:.0} USDC · lost {:.0} · saved {:.0}\n        post-mortem: {}",
                    report.exploit_block,
                    report.detection_block,
                    report.pause_block,
                    report.incident_to_pause_sent_ms,
                    report.drain_block,
                    if report.drain_reverted { "reverted" } else { "SUCCEEDED" },
                    report.funds_at_risk,
                    report.funds_lost,
                    report.funds_saved,
                    report.postmortem_html
                ));
            }
            let hint = (!exit).then(|| {
                let sign_ins: Vec<String> = report
                    .tokens
                    .iter()
                    .map(|(member, token)| format!("  sign in as {member}: {token}"))
                    .collect();
                format!(
                    "\nthe chain ({}), the daemon and the war room keep running — Ctrl-C to stop.\n  dashboard: {}\n{}\n  (alice is the commander, bob the operator, dan runs comms: the drafted status update waits for alice or dan to approve and publish it)\n  status page: {}\n  firebreak incident show {} --db {}\n  firebreak verify {}",
                    report.rpc,
                    report.dashboard,
                    sign_ins.join("\n"),
                    report.status_page,
                    report.incident,
                    db.display(),
                    report.plan
                )
            });
            async move {
                if let Some(hint) = hint {
                    output::error(&hint);
                    let _ = tokio::signal::ctrl_c().await;
                    output::error("stopped");
                }
            }
        };
        let report = Box::pin(story::run_demo(&dir, listen, &mut progress, linger)).await?;
        Ok(if report.pause_block == report.exploit_block + 1 { Outcome::Ok } else { Outcome::Failed })
    })
}

async fn pre_empt_demo(
    dir: &std::path::Path,
    runs: u32,
    json: bool,
    exit: bool,
) -> eyre::Result<Outcome> {
    let mut progress = move |line: &str| {
        if json {
            output::error(line);
        } else {
            output::out(line);
        }
    };
    let (report, world) = pre_empt::run_pre_empt(dir, runs, &mut progress).await?;
    if json {
        output::out(&serde_json::to_string_pretty(&report)?);
    } else {
        let first = &report.each[0];
        output::out(&format!(
            "\nRESULT: the drain waited in the pool; the pause was mined in block {} at index {}, the drain in block {} at index {}: it {}.",
            report.pause_block.map_or_else(|| "—".to_owned(), |b| b.to_string()),
            report.pause_index.map_or_else(|| "—".to_owned(), |i| i.to_string()),
            report.exploit_block,
            report.exploit_index,
            if first.exploit_status == "reverted" { "reverted" } else { "SUCCEEDED" },
        ));
        if runs > 1 {
            output::out(&format!(
                "        pre-empted in {} of {} runs (at least 95 % required)",
                report.pre_empted, report.runs
            ));
            for r in &report.not_pre_empted {
                output::out(&format!(
                    "        run {}: {}",
                    r.run,
                    r.reason.as_deref().unwrap_or("not pre-empted")
                ));
            }
        }
        if let Some(s) = report.seen_to_pause_accepted_ms {
            output::out(&format!(
                "        pending transaction seen → pause accepted by the node: p50 {} ms, p99 {} ms",
                s.p50, s.p99
            ));
        }
        output::out(&format!("        plan: {}", report.plan));
    }
    if !exit {
        output::error(&format!(
            "\nthe chain ({}) keeps running — Ctrl-C to stop.\n  firebreak incident show 1 --db {}\n  firebreak verify {}",
            report.rpc, report.db, report.plan
        ));
        let _ = tokio::signal::ctrl_c().await;
        output::error("stopped");
    }
    drop(world);
    let passed = u64::from(report.pre_empted) * 100 >= u64::from(report.runs) * 95;
    Ok(if passed { Outcome::Ok } else { Outcome::Failed })
}

/// The fixture plan's price monitor with the bound a team would ship: an
/// honest update moves the price a little, a manipulation beyond any
/// plausible bound; `extra` is added to the monitor (TOML lines).
fn bounded_price_rule(text: &str, extra: &str) -> eyre::Result<String> {
    let every_update = "rule = 'event vault.PriceUpdated'";
    eyre::ensure!(text.contains(every_update), "the fixture plan changed");
    Ok(text.replace(
        every_update,
        &format!(
            "rule = 'event vault.PriceUpdated where abs(pct_change(newPrice, oldPrice)) > 20%'\ndescription = \"the collateral price moved more than 20 % in one update\"{extra}"
        ),
    ))
}

/// Writes a demo plan as `dir/name`, then checks it as `firebreak check`
/// would: the plan, or every diagnostic.
fn write_plan(
    dir: &std::path::Path,
    name: &str,
    text: &str,
) -> eyre::Result<(std::path::PathBuf, std::sync::Arc<firebreak_plan::Plan>)> {
    let path = dir.join(name);
    std::fs::write(&path, text)?;
    let checked = firebreak_detect::check_source(
        name,
        text,
        &firebreak_devnet::repo_root(),
        &firebreak_plan::CheckOptions::default(),
    );
    let plan = checked
        .plan
        .ok_or_else(|| eyre::eyre!("the demo plan is invalid:\n{}", checked.report.render()))?;
    Ok((path, std::sync::Arc::new(plan)))
}
