//! `firebreak demo`

mod story;

use crate::{Outcome, args::DemoArgs, cmd::store, output};

pub(crate) fn run(args: &DemoArgs) -> eyre::Result<Outcome> {
    let dir = args.dir.clone().unwrap_or_else(|| store::data_dir().join("demo"));
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build()?;
    let json = args.json;
    let exit = args.exit;
    let listen = args.listen;
    let db = dir.join("demo.db");
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
