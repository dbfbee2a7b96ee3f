//! `firebreak drill`

use std::sync::Arc;

use firebreak_drill::{exercise::run_drill, scenario::Scenario};

use crate::{Outcome, args::DrillArgs, cmd::store, output};

pub(crate) fn run(args: &DrillArgs) -> eyre::Result<Outcome> {
    let Some(plan) = super::valid_plan(&args.plan)? else { return Ok(Outcome::Invalid) };
    let scenario = match Scenario::load(&args.scenario, &plan) {
        Ok(s) => s,
        Err(e) => {
            output::error(&format!("error: {e}"));
            return Ok(Outcome::Invalid);
        }
    };
    let hash = plan.hash;
    let json = args.json;
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build()?;
    let report = rt.block_on(async {
        let mut progress = |line: &str| if json { output::error(line) } else { output::out(line) };
        Box::pin(run_drill(Arc::new(plan), &scenario, &args.out, &mut progress)).await
    })?;
    // the last drill of this plan, for `firebreak verify`
    let record = store::data_dir().join("drills").join(format!("{hash}.json"));
    if let Some(dir) = record.parent() {
        let _ = std::fs::create_dir_all(dir);
    }
    let _ = std::fs::write(
        &record,
        serde_json::to_string_pretty(&serde_json::json!({
            "at_ms": firebreak_primitives::now_ms(), "scenario": report.scenario, "passed": report.passed,
            "exploit_block": report.exploit_block, "pause_block": report.pause_block,
            "reason": report.reason, "exploit_to_pause_ms": report.exploit_to_pause_ms,
            "pre_empted": report.pre_empted,
            "report_html": report.report_html,
        }))?,
    );
    if json {
        output::out(&serde_json::to_string_pretty(&report)?);
    } else {
        let verdict = if report.passed {
            "PASSED".to_owned()
        } else {
            format!("FAILED: {}", report.reason.as_deref().unwrap_or("?"))
        };
        let what = &report.contained_by;
        output::out(&format!(
            "\nDRILL {verdict}\n  exploit block {} · detection block {} · {what} block {} (target: within {} block(s))",
            report.exploit_block,
            report.detection_block.map_or("—".into(), |b| b.to_string()),
            report.pause_block.map_or("—".into(), |b| b.to_string()),
            report.target_blocks
        ));
        if report.pre_empted {
            output::out(&format!(
                "  pre-empted: the {what} was mined in the first malicious transaction's own block, ahead of it, and that transaction reverted"
            ));
        } else if let Some(ms) = report.exploit_to_pause_ms {
            output::out(&format!("  first malicious transaction → {what} done: {ms} ms"));
        }
        if let Some(i) = &report.impact {
            output::out(&format!(
                "  funds: at risk {:.2} {} · lost {:.2} · saved {:.2}",
                i.at_risk, i.asset, i.lost, i.saved
            ));
        }
        output::out(&format!("  report: {} (and .md, .json)", report.report_html));
    }
    Ok(if report.passed { Outcome::Ok } else { Outcome::Failed })
}
