//! `firebreak drill`: a scenario played against a fork of the plan's chain,
//! with the daemon responding as it would in production (impersonating the
//! plan's signers, so no real key is needed), and the response measured.

use std::{
    path::{Path, PathBuf},
    sync::Arc,
    time::{Duration, Instant},
};

use alloy::{
    network::TransactionBuilder as _,
    primitives::{Address, U256},
    providers::Provider as _,
    rpc::types::TransactionRequest,
};
use eyre::WrapErr as _;
use firebreak_devnet::{Chain, IERC20};
use firebreak_node::{DaemonEvent, DaemonOptions, WatchEvent, WatchOptions, run_daemon};
use firebreak_plan::{Endpoint, Plan};
use firebreak_primitives::{Actor, IncidentStatus, StepStatus};
use firebreak_store::{ActionStatus, IncidentFilter, IncidentStore, SqliteStore};
use serde::Serialize;

use firebreak_report::{Impact, PostMortem};

use crate::scenario::{Scenario, address_of, encode};
use firebreak_store::prelude::*;

/// What a drill measured.
#[derive(Debug, Clone, Serialize)]
pub struct DrillReport {
    /// Scenario name.
    pub scenario: String,
    /// Whether containment met its target.
    pub passed: bool,
    /// Why it failed, when it did.
    pub reason: Option<String>,
    /// Block the fork started from.
    pub fork_block: u64,
    /// Block of the exploit transaction.
    pub exploit_block: u64,
    /// Block of the first alert.
    pub detection_block: Option<u64>,
    /// Block in which the pause was mined.
    pub pause_block: Option<u64>,
    /// Target: pause at most this many blocks after the exploit.
    pub target_blocks: u64,
    /// What contains the incident: `pause` (the first transaction
    /// firebreak lands) or the scenario's `until_step`.
    pub contained_by: String,
    /// First malicious transaction seen mined → containment seen done (ms):
    /// the pause mined, or the `until_step` step succeeded.
    pub exploit_to_pause_ms: Option<u64>,
    /// The pause was mined in the first malicious transaction's own block,
    /// ahead of it, and that transaction reverted (pre-emption).
    pub pre_empted: bool,
    /// Incident opened → first page (ms), when the playbook pages.
    pub time_to_page_ms: Option<u64>,
    /// Incident opened → acknowledged (ms), when acknowledgements were scripted.
    pub time_to_acknowledge_ms: Option<u64>,
    /// Funds, when the scenario names them.
    pub impact: Option<Impact>,
    /// Report files.
    pub report_md: String,
    /// Report (HTML).
    pub report_html: String,
}

fn fork_url(plan: &Plan, chain: &str) -> eyre::Result<String> {
    let c = plan.chains.get(chain).ok_or_else(|| eyre::eyre!("no chain `{chain}` in the plan"))?;
    for ep in &c.rpc {
        let url = match ep {
            Endpoint::Url(u) => u.clone(),
            Endpoint::Secret(s) => match firebreak_plan::resolve_secret(s, &plan.base_dir) {
                Ok(v) => secrecy::ExposeSecret::expose_secret(&v).to_owned(),
                Err(_) => continue,
            },
        };
        if url.starts_with("http") {
            return Ok(url);
        }
        if let Some(rest) = url.strip_prefix("ws") {
            return Ok(format!("http{rest}"));
        }
    }
    eyre::bail!("chain `{chain}` has no usable RPC endpoint to fork")
}

async fn balance(chain: &Chain, token: Address, holder: Address) -> eyre::Result<U256> {
    Ok(IERC20::new(token, chain.provider()).balanceOf(holder).call().await?)
}

fn units(v: U256, decimals: u32) -> f64 {
    let scale = U256::from(10u64).pow(U256::from(decimals));
    let whole = u64::try_from(v / scale).unwrap_or(u64::MAX) as f64;
    let frac = u64::try_from(v % scale).unwrap_or(0) as f64 / 10f64.powi(decimals as i32);
    whole + frac
}

/// Plays `scenario` on a fork of the plan's chain; writes the report into `out`.
///
/// # Errors
/// When the fork or the daemon cannot start; a missed target is a report
/// with `passed = false`, not an error.
pub async fn run_drill(
    plan: Arc<Plan>,
    scenario: &Scenario,
    out: &Path,
    progress: &mut (dyn FnMut(&str) + Send),
) -> eyre::Result<DrillReport> {
    std::fs::create_dir_all(out).wrap_err_with(|| format!("cannot create `{}`", out.display()))?;
    let chain_key = scenario.chain_key(&plan)?;
    let url = fork_url(&plan, &chain_key)?;
    progress(&format!(
        "[1/5] forking chain `{chain_key}` with anvil ({} s blocks)",
        scenario.block_time
    ));
    let fork = Chain::spawn_with(|a| {
        a.fork(url).block_time(scenario.block_time).arg("--auto-impersonate")
    })
    .wrap_err("cannot start the fork")?;
    let fork_block = fork.block_number().await?;
    let p = fork.provider();
    let send = |t: crate::scenario::Encoded| {
        let req = TransactionRequest::default()
            .with_from(t.from)
            .with_to(t.to)
            .with_input(t.data)
            .with_value(t.value)
            // a fixed gas limit: an attack that the pause makes revert must
            // still be sent and mined, not refused by gas estimation
            .with_gas_limit(3_000_000);
        async move { p.send_transaction(req).await }
    };
    if !scenario.setup.is_empty() {
        progress(&format!("[2/5] setting up: {} transaction(s)", scenario.setup.len()));
    }
    for t in &scenario.setup {
        let e = encode(t, &plan)?;
        let label = e.label.clone();
        let r = send(e).await?.get_receipt().await?;
        progress(&format!(
            "      setup: {label} — block {}{}",
            r.block_number.unwrap_or_default(),
            if r.status() { "" } else { " (REVERTED)" }
        ));
    }
    let funds = match &scenario.funds {
        Some(f) => Some((address_of(&f.token, &plan)?, address_of(&f.holder, &plan)?, f)),
        None => None,
    };
    let before = match funds {
        Some((token, holder, _)) => Some(balance(&fork, token, holder).await?),
        None => None,
    };

    progress("[3/5] starting the daemon on the fork (drill mode: signers impersonated)");
    let db = out.join("drill.db");
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(PathBuf::from(format!("{}{suffix}", db.display())));
    }
    let store = Arc::new(SqliteStore::open(&db).await?);
    let mut opts = DaemonOptions {
        watch: WatchOptions {
            start: Some(fork.block_number().await? + 1),
            poll_interval: Duration::from_millis(100),
            ..WatchOptions::default()
        },
        tick: Duration::from_millis(100),
        chains: vec![chain_key.clone()],
        drill: true,
        ..DaemonOptions::default()
    };
    opts.endpoints.insert(chain_key.clone(), vec![fork.ws_url(), fork.http_url()]);
    let (ready_tx, mut ready) = tokio::sync::watch::channel(false);
    let (line_tx, mut lines) = tokio::sync::mpsc::unbounded_channel::<String>();
    let mut emit = move |e: DaemonEvent| match e {
        DaemonEvent::Watch { event: WatchEvent::Processed { .. } } => {
            let _ = ready_tx.send(true);
        }
        DaemonEvent::Watch { event: WatchEvent::Alert { alert } } => {
            let _ = line_tx.send(format!(
                "      ALERT [{}] `{}` at block {}",
                alert.severity, alert.monitor, alert.block_number
            ));
        }
        DaemonEvent::Step { step, status, detail, .. } => {
            let _ = line_tx.send(format!(
                "      step `{step}`: {status}{}",
                detail.map(|d| format!(" — {d}")).unwrap_or_default()
            ));
        }
        _ => {}
    };
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let play = async {
        let _ = ready.wait_for(|r| *r).await;
        progress(&format!("[4/5] playing `{}`: {} step(s)", scenario.name, scenario.steps.len()));
        let mut exploit_block = 0;
        let mut exploit_seen = Instant::now();
        let mut exploit_reverted = false;
        for t in &scenario.steps {
            let e = encode(t, &plan)?;
            let (label, exploit) = (e.label.clone(), e.exploit);
            let r = match send(e).await {
                Ok(pending) => pending.get_receipt().await?,
                Err(err) if !exploit => {
                    // the node refused it (e.g. the target is already paused)
                    progress(&format!("      {label} — not accepted by the node: {err}"));
                    continue;
                }
                Err(err) => return Err(err.into()),
            };
            let block = r.block_number.unwrap_or_default();
            if exploit && exploit_block == 0 {
                // the first malicious transaction starts the clock
                exploit_block = block;
                exploit_seen = Instant::now();
                exploit_reverted = !r.status();
            }
            progress(&format!(
                "      {}{label} — block {block}{}",
                if exploit { "EXPLOIT: " } else { "" },
                if r.status() { "" } else { " (reverted)" }
            ));
            while let Ok(l) = lines.try_recv() {
                progress(&l);
            }
        }
        // wait for the pause, a failed step, or the deadline
        let deadline = Instant::now()
            + Duration::from_secs(scenario.block_time * (scenario.target_blocks + 10) + 10);
        let mut acked = vec![false; scenario.acks.len()];
        let outcome = loop {
            while let Ok(l) = lines.try_recv() {
                progress(&l);
            }
            let incident = store.incidents(&IncidentFilter::default()).await?.into_iter().last();
            if let Some(i) = &incident {
                for (n, ack) in scenario.acks.iter().enumerate() {
                    let opened = Duration::from_millis(
                        firebreak_primitives::now_ms().saturating_sub(i.opened_ms),
                    );
                    if !acked[n] && opened >= ack.after {
                        acked[n] = true;
                        acknowledge(&*store, i.id, &ack.member).await?;
                        progress(&format!("      acknowledged by {}", ack.member));
                    }
                }
                let actions = store.actions(i.id).await?;
                let steps = store.steps(i.id).await?;
                let mined_block = |a: &firebreak_store::ActionRecord| {
                    a.receipt.as_ref().and_then(|r| r["block_number"].as_u64())
                };
                match &scenario.until_step {
                    None => {
                        if let Some(a) = actions.iter().find(|a| a.status == ActionStatus::Mined) {
                            break Ok((i.id, mined_block(a), exploit_seen.elapsed()));
                        }
                    }
                    Some(step) => {
                        let done = steps
                            .iter()
                            .any(|s| &s.step_id == step && s.status == StepStatus::Succeeded);
                        if done {
                            // the block of the step's last transaction
                            let block = actions
                                .iter()
                                .filter(|a| &a.step_id == step && a.status == ActionStatus::Mined)
                                .filter_map(mined_block)
                                .max();
                            break Ok((i.id, block, exploit_seen.elapsed()));
                        }
                    }
                }
                if let Some(failed) = steps.iter().find(|s| s.status == StepStatus::Failed) {
                    break Err(format!(
                        "step `{}` failed: {}",
                        failed.step_id,
                        failed.detail.clone().unwrap_or_default()
                    ));
                }
            }
            if Instant::now() > deadline {
                break Err(match incident {
                    None => "no monitor fired: the exploit went unnoticed".to_owned(),
                    Some(i) => match &scenario.until_step {
                        None => format!("incident {} opened but nothing was paused in time", i.id),
                        Some(step) => {
                            format!(
                                "incident {} opened but step `{step}` did not finish in time",
                                i.id
                            )
                        }
                    },
                });
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        };
        let waiting_acks = scenario.acks.len() > acked.iter().filter(|a| **a).count();
        if waiting_acks {
            // give the remaining scripted acknowledgements their time
            let longest = scenario.acks.iter().map(|a| a.after).max().unwrap_or_default();
            tokio::time::sleep(longest.min(Duration::from_secs(60))).await;
            if let Some(i) = store.incidents(&IncidentFilter::default()).await?.into_iter().last() {
                for (n, ack) in scenario.acks.iter().enumerate() {
                    if !acked[n] {
                        acknowledge(&*store, i.id, &ack.member).await?;
                    }
                }
            }
        }
        while let Ok(l) = lines.try_recv() {
            progress(&l);
        }
        eyre::Ok((exploit_block, exploit_reverted, outcome))
    };
    let daemon = run_daemon(plan.clone(), store.clone(), opts, &mut emit, async move {
        let _ = stop_rx.await;
    });
    tokio::pin!(daemon);
    let played = tokio::select! {
        r = play => r,
        r = &mut daemon => {
            r.wrap_err("the daemon stopped")?;
            eyre::bail!("the daemon stopped before the drill ended");
        }
    };
    let _ = stop_tx.send(());
    daemon.await?;
    let (exploit_block, exploit_reverted, outcome) = played?;

    progress("[5/5] measuring and writing the report");
    let after = match funds {
        Some((token, holder, _)) => Some(balance(&fork, token, holder).await?),
        None => None,
    };
    let impact = match (funds, before, after) {
        (Some((_, _, f)), Some(b), Some(a)) => Some(Impact {
            asset: f.symbol.clone(),
            at_risk: units(b, f.decimals),
            lost: units(b.saturating_sub(a), f.decimals),
            saved: units(a.min(b), f.decimals),
        }),
        _ => None,
    };
    let incident = store.incidents(&IncidentFilter::default()).await?.into_iter().last();
    let (pause_block, elapsed, reason) = match &outcome {
        Ok((_, block, elapsed)) => (*block, Some(*elapsed), None),
        Err(why) => (None, None, Some(why.clone())),
    };
    let mut passed = false;
    let mut reason = reason;
    if let Some(pb) = pause_block {
        if pb <= exploit_block + scenario.target_blocks {
            passed = true;
        } else {
            reason = Some(format!(
                "the pause was mined in block {pb}, {} block(s) after the exploit; the target is {}",
                pb - exploit_block,
                scenario.target_blocks
            ));
        }
    }
    let mut report = DrillReport {
        scenario: scenario.name.clone(),
        contained_by: scenario
            .until_step
            .as_ref()
            .map_or_else(|| "pause".to_owned(), |s| format!("step `{s}`")),
        passed,
        reason,
        fork_block,
        exploit_block,
        detection_block: None,
        pause_block,
        target_blocks: scenario.target_blocks,
        exploit_to_pause_ms: elapsed.map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX)),
        pre_empted: pause_block == Some(exploit_block) && exploit_reverted,
        time_to_page_ms: None,
        time_to_acknowledge_ms: None,
        impact: impact.clone(),
        report_md: String::new(),
        report_html: String::new(),
    };
    let header = drill_header(&report);
    let (md, html) = match incident {
        Some(i) => {
            let pm = PostMortem::load(&*store, i.id, impact).await?;
            report.detection_block = pm.metrics.alert_block;
            report.time_to_acknowledge_ms = pm.metrics.to_acknowledge_ms;
            report.time_to_page_ms = pm.metrics.to_page_ms;
            std::fs::write(out.join("timeline.svg"), pm.svg())?;
            let header = drill_header(&report);
            (
                format!("{header}\n{}", pm.markdown()),
                pm.html().replacen(
                    "<body>\n",
                    &format!("<body>\n{}", markdown_to_html_header(&report)),
                    1,
                ),
            )
        }
        None => (
            header.clone(),
            format!(
                "<!doctype html><html><body>{}</body></html>",
                markdown_to_html_header(&report)
            ),
        ),
    };
    let md_path = out.join("drill-report.md");
    let html_path = out.join("drill-report.html");
    std::fs::write(&md_path, md)?;
    std::fs::write(&html_path, html)?;
    std::fs::write(out.join("drill-report.json"), serde_json::to_string_pretty(&report)?)?;
    report.report_md = md_path.display().to_string();
    report.report_html = html_path.display().to_string();
    Ok(report)
}

/// A member's acknowledgement: on the timeline always, and as a lifecycle
/// step when the incident is not already further along.
async fn acknowledge(
    store: &dyn IncidentStore,
    id: firebreak_primitives::IncidentId,
    member: &str,
) -> eyre::Result<()> {
    let actor = Actor::Member(member.to_owned());
    let ack =
        firebreak_primitives::Event::Acknowledged(firebreak_primitives::event::Acknowledged {
            member: member.to_owned(),
            how: "scripted acknowledgement (drill)".to_owned(),
        });
    store.append(id, actor.clone(), ack).await?;
    store.transition(id, IncidentStatus::Acknowledged, actor, None).await?;
    Ok(())
}

fn drill_header(r: &DrillReport) -> String {
    let verdict = if r.passed {
        "PASSED".to_owned()
    } else {
        format!("FAILED — {}", r.reason.as_deref().unwrap_or("?"))
    };
    let opt = |v: Option<u64>| v.map_or("—".to_owned(), |v| v.to_string());
    let what = &r.contained_by;
    format!(
        "# Drill: {}\n\n**{verdict}**\n\n| measure | value |\n|---|---|\n| fork block | {} |\n| first malicious transaction's block | {} |\n| detection block | {} |\n| {what} block | {} |\n| target | {what} within {} block(s) |\n| first malicious transaction → {what} done | {} |\n| time to acknowledge | {} |\n| time to page | {} |\n",
        r.scenario,
        r.fork_block,
        r.exploit_block,
        opt(r.detection_block),
        opt(r.pause_block),
        r.target_blocks,
        if r.pre_empted {
            "pre-empted: mined in its block, ahead of it; it reverted".to_owned()
        } else {
            r.exploit_to_pause_ms.map_or("—".to_owned(), |v| format!("{v} ms"))
        },
        r.time_to_acknowledge_ms.map_or("not scripted".to_owned(), |v| format!("{v} ms")),
        r.time_to_page_ms.map_or("the playbook does not page".to_owned(), |v| format!("{v} ms")),
    )
}

fn markdown_to_html_header(r: &DrillReport) -> String {
    let verdict = if r.passed {
        "PASSED".to_owned()
    } else {
        format!("FAILED — {}", r.reason.as_deref().unwrap_or("?"))
    };
    let color = if r.passed { "#2b8a3e" } else { "#c92a2a" };
    format!(
        "<h1>Drill: {}</h1><p style=\"font-weight:bold;color:{color}\">{}</p><table><tr><td>exploit block</td><td>{}</td></tr><tr><td>pause block</td><td>{}</td></tr><tr><td>target</td><td>within {} block(s)</td></tr></table>\n",
        firebreak_report::escape(&r.scenario),
        firebreak_report::escape(&verdict),
        r.exploit_block,
        r.pause_block.map_or("—".into(), |b| b.to_string()),
        r.target_blocks
    )
}
