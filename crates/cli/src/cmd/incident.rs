//! `firebreak incident …`: one function per subcommand.

use std::path::PathBuf;

use eyre::bail;
use firebreak_primitives::{Actor, Event, IncidentStatus, event};
use firebreak_store::{IncidentFilter, timeline::describe, verify_incident};
use serde_json::json;

use crate::{
    Outcome,
    args::{DbArgs, IncidentCommand},
    cmd::store::{self, incident_id, time},
    output,
};
use firebreak_store::prelude::*;

pub(crate) fn run(cmd: IncidentCommand) -> eyre::Result<Outcome> {
    store::runtime()?.block_on(async move {
        match cmd {
            IncidentCommand::List { db, status, limit, json } => {
                list(db, status, limit, json).await
            }
            IncidentCommand::Show { id, db, json } => show(id, db, json).await,
            IncidentCommand::Verify { id, db, json } => verify(id, db, json).await,
            IncidentCommand::Approve { id, step, member, plan, reject, db } => {
                approve(id, step, member, plan, reject, db).await
            }
            IncidentCommand::Ack { id, member, plan, db } => ack(id, member, plan, db).await,
            IncidentCommand::Status { id, to, member, plan, note, db } => {
                status(id, to, member, plan, note, db).await
            }
        }
    })
}

/// `incident list`: the incidents, newest first.
async fn list(db: DbArgs, status: Vec<String>, limit: u64, json: bool) -> eyre::Result<Outcome> {
    let statuses = status
        .iter()
        .map(|s| s.parse::<IncidentStatus>().map_err(|e| eyre::eyre!("--status: {e}")))
        .collect::<eyre::Result<Vec<_>>>()?;
    let store = store::open(&db, false).await?;
    let list = store.incidents(&IncidentFilter { statuses, limit }).await?;
    if json {
        output::out(&serde_json::to_string_pretty(&list)?);
    } else if list.is_empty() {
        output::error("no incidents");
    } else {
        output::out(&format!(
            "{:>4}  {:<3} {:<13} {:<20} {:>6}  TITLE",
            "ID", "SEV", "STATUS", "OPENED", "ALERTS"
        ));
        for i in &list {
            output::out(&format!(
                "{:>4}  {:<3} {:<13} {:<20} {:>6}  {}{}",
                i.id,
                i.severity,
                i.status,
                time(i.opened_ms).trim_end_matches(" UTC"),
                i.alert_count,
                i.title,
                if i.drill { " [DRILL]" } else { "" }
            ));
        }
    }
    Ok(Outcome::Ok)
}

/// `incident show`: one incident in full.
async fn show(id: String, db: DbArgs, json: bool) -> eyre::Result<Outcome> {
    let id = incident_id(&id)?;
    let store = store::open(&db, false).await?;
    let Some(incident) = store.incident(id).await? else {
        bail!("no incident {id} in `{}` (see `firebreak incident list`)", store::db_shown(&db));
    };
    let alerts = store.incident_alerts(id).await?;
    let steps = store.steps(id).await?;
    let actions = store.actions(id).await?;
    let approvals = store.approvals(id).await?;
    let timeline = store.timeline(id).await?;
    if json {
        let doc = json!({
            "incident": incident, "alerts": alerts, "steps": steps,
            "actions": actions, "approvals": approvals, "timeline": timeline,
            "timeline_intact": verify_incident(&incident, &timeline).is_ok(),
        });
        output::out(&serde_json::to_string_pretty(&doc)?);
        return Ok(Outcome::Ok);
    }
    output::out(&format!(
        "incident {} — {}  [{} · {}{}]",
        incident.id,
        incident.title,
        incident.severity,
        incident.status,
        if incident.drill { " · DRILL" } else { "" }
    ));
    output::out(&format!(
        "  chain {} · playbook `{}` · opened {} · {} alert(s) · plan {}",
        incident.chain_id,
        incident.playbook,
        time(incident.opened_ms),
        incident.alert_count,
        incident.plan_hash
    ));
    output::out("\nalerts");
    for a in alerts.iter().take(20) {
        output::out(&format!(
            "  [{}] {} block {}{}",
            a.severity,
            a.monitor,
            a.block_number,
            a.tx_hash.map(|h| format!(" tx {h}")).unwrap_or_default()
        ));
    }
    if alerts.len() > 20 {
        output::out(&format!("  … and {} more", alerts.len() - 20));
    }
    output::out("\nsteps");
    for s in &steps {
        output::out(&format!(
            "  {}. {:<16} {:<18}{}",
            s.index + 1,
            s.step_id,
            s.status,
            s.detail.as_deref().unwrap_or_default()
        ));
    }
    if !actions.is_empty() {
        output::out("\non-chain actions");
    }
    for a in &actions {
        let status = serde_json::to_value(a.status)?.as_str().unwrap_or_default().to_owned();
        output::out(&format!(
            "  {}  {status}  from {} to {}{}  ({} transaction(s))",
            a.key,
            a.from,
            a.to,
            a.nonce.map(|n| format!(" nonce {n}")).unwrap_or_default(),
            a.attempts.len()
        ));
        for (i, t) in a.attempts.iter().enumerate() {
            output::out(&format!(
                "      #{} {}  tip {} gwei, max {} gwei",
                i + 1,
                t.hash,
                gwei(t.priority_fee),
                gwei(t.max_fee)
            ));
        }
        if let Some(r) = &a.receipt {
            output::out(&format!(
                "      mined in block {} ({})",
                r["block_number"],
                r["tx_hash"].as_str().unwrap_or("")
            ));
        }
        if let Some(e) = &a.error {
            output::out(&format!("      {e}"));
        }
    }
    if !approvals.is_empty() {
        output::out("\napprovals");
    }
    for a in &approvals {
        output::out(&format!(
            "  {} {} step `{}` at {}",
            a.member,
            if a.approve { "approved" } else { "rejected" },
            a.step_id,
            time(a.at_ms)
        ));
    }
    output::out("\ntimeline");
    for e in &timeline {
        output::out(&format!(
            "  {:>3} {} {:<16} {:<20} {}",
            e.seq,
            e.at.get(11..23).unwrap_or(&e.at),
            e.actor.to_string(),
            e.kind(),
            describe(e)
        ));
    }
    match verify_incident(&incident, &timeline) {
        Ok(()) => output::out(&format!("\ntimeline intact ({} entries)", timeline.len())),
        Err(b) => output::out(&format!("\nTIMELINE BROKEN: {b}")),
    }
    Ok(Outcome::Ok)
}

/// `incident verify`: the hash chain and its recorded head.
async fn verify(id: String, db: DbArgs, json: bool) -> eyre::Result<Outcome> {
    let id = incident_id(&id)?;
    let store = store::open(&db, false).await?;
    let Some(incident) = store.incident(id).await? else {
        bail!("no incident {id} in `{}`", store::db_shown(&db));
    };
    let timeline = store.timeline(id).await?;
    let result = verify_incident(&incident, &timeline);
    let head = timeline.last().map(|e| e.hash.clone()).unwrap_or_default();
    if json {
        output::out(&serde_json::to_string_pretty(&json!({
            "incident": id, "entries": timeline.len(), "intact": result.is_ok(),
            "head": head, "error": result.as_ref().err().map(ToString::to_string),
        }))?);
    } else {
        match &result {
            Ok(()) => output::out(&format!(
                "incident {id}: timeline intact — {} entries, every hash and link checks out (head {head})",
                timeline.len()
            )),
            Err(b) => output::out(&format!("incident {id}: TIMELINE BROKEN — {b}")),
        }
    }
    if let Err(b) = result {
        bail!(
            "the timeline of incident {id} does not verify: {b}; the store was changed outside firebreak"
        );
    }
    Ok(Outcome::Ok)
}

/// `incident approve`: a member decides on a gated step.
async fn approve(
    id: String,
    step: String,
    member: String,
    plan: PathBuf,
    reject: bool,
    db: DbArgs,
) -> eyre::Result<Outcome> {
    let id = incident_id(&id)?;
    let Some(plan) = super::valid_plan(&plan)? else { return Ok(Outcome::Invalid) };
    let store = store::open(&db, false).await?;
    let Some(incident) = store.incident(id).await? else { bail!("no incident {id}") };
    let m = member_of(&plan, &member)?;
    let steps =
        &plan.playbooks.get(&incident.playbook).map(|p| p.steps.as_slice()).unwrap_or_default();
    // the war room's own gates (`trigger` of a hand-opened
    // incident, `unpause`) are approved like a playbook's steps
    let manual = firebreak_server::is_manual(&store.timeline(id).await?);
    let known_gate = [firebreak_primitives::TRIGGER_STEP, firebreak_primitives::UNPAUSE_STEP]
        .contains(&step.as_str());
    if !known_gate && !steps.iter().any(|s| s.id == step) {
        let mut known: Vec<&str> = steps.iter().map(|s| s.id.as_str()).collect();
        known.push(firebreak_primitives::UNPAUSE_STEP);
        if manual {
            known.push(firebreak_primitives::TRIGGER_STEP);
        }
        bail!("playbook `{}` has no step `{step}` (steps and gates: {known:?})", incident.playbook);
    }
    if step == firebreak_primitives::TRIGGER_STEP && !manual {
        bail!("`trigger` gates incidents opened by hand; incident {id} was opened by an alert");
    }
    let gate = firebreak_server::gate_of(&plan, &incident, &step, manual);
    let Some(gate) = gate else { bail!("step `{step}` needs no approval; it runs on its own") };
    if !gate.roles.is_empty() && !m.roles.iter().any(|r| gate.roles.contains(r)) {
        let roles: Vec<String> = gate.roles.iter().map(ToString::to_string).collect();
        bail!(
            "`{member}` may not approve step `{step}`: it needs one of the roles {}",
            roles.join(", ")
        );
    }
    if store.decide(id, &step, &member, !reject).await? {
        output::out(&format!(
            "{} step `{step}` of incident {id} as {member}",
            if reject { "rejected" } else { "approved" }
        ));
    } else {
        output::out(&format!(
            "{member} had already decided on step `{step}`; the first decision stands"
        ));
    }
    Ok(Outcome::Ok)
}

/// `incident ack`: a member acknowledges; paging stops.
async fn ack(id: String, member: String, plan: PathBuf, db: DbArgs) -> eyre::Result<Outcome> {
    let id = incident_id(&id)?;
    let Some(plan) = super::valid_plan(&plan)? else { return Ok(Outcome::Invalid) };
    member_of(&plan, &member)?;
    let store = store::open(&db, false).await?;
    let Some(incident) = store.incident(id).await? else { bail!("no incident {id}") };
    let actor = Actor::Member(member.clone());
    let ack = Event::Acknowledged(event::Acknowledged {
        member: member.clone(),
        how: "firebreak incident ack".to_owned(),
    });
    let (new, first) = store.append_once(id, actor.clone(), ack).await?;
    if !new {
        let who = match &first.event {
            Event::Acknowledged(a) => a.member.as_str(),
            _ => "?",
        };
        output::out(&format!("incident {id} was already acknowledged by {who} at {}", first.at));
        return Ok(Outcome::Ok);
    }
    store.transition(id, IncidentStatus::Acknowledged, actor, None).await?;
    let timeline = store.timeline(id).await?;
    let opened = timeline.first().map(|e| e.at.clone()).unwrap_or_default();
    output::out(&format!(
        "incident {id} acknowledged by {member} ({} since it opened at {opened}); paging stops",
        time_since(incident.opened_ms)
    ));
    Ok(Outcome::Ok)
}

/// `incident status`: a member moves the incident forward.
async fn status(
    id: String,
    to: String,
    member: String,
    plan: PathBuf,
    note: Option<String>,
    db: DbArgs,
) -> eyre::Result<Outcome> {
    let id = incident_id(&id)?;
    let Some(plan) = super::valid_plan(&plan)? else { return Ok(Outcome::Invalid) };
    member_of(&plan, &member)?;
    let to: IncidentStatus = to.parse().map_err(|e: String| eyre::eyre!(e))?;
    let store = store::open(&db, false).await?;
    if store.transition(id, to, Actor::Member(member.clone()), note.clone()).await? {
        output::out(&format!("incident {id} is now {to} (by {member})"));
        if to == IncidentStatus::Resolved
            && let Some(incident) = store.incident(id).await?
        {
            let n = firebreak_notify::notify_resolved(&*store, &incident, note.as_deref()).await?;
            if n > 0 {
                output::out(&format!(
                    "queued a `resolved` notice for {n} channel(s); the daemon delivers it"
                ));
            }
        }
    } else {
        let now = store.incident(id).await?.map(|i| i.status.to_string()).unwrap_or_default();
        bail!("incident {id} is already {now}; states only move forward");
    }
    Ok(Outcome::Ok)
}

/// `member` of the plan's team, or an error that lists who is.
fn member_of<'p>(
    plan: &'p firebreak_plan::Plan,
    member: &str,
) -> eyre::Result<&'p firebreak_plan::Member> {
    plan.team.get(member).ok_or_else(|| {
        let known: Vec<&String> = plan.team.keys().collect();
        eyre::eyre!("`{member}` is not in the plan's [team] (members: {known:?})")
    })
}

fn time_since(ms: u64) -> String {
    let secs = firebreak_primitives::now_ms().saturating_sub(ms) / 1000;
    match secs {
        s if s < 120 => format!("{s} s"),
        s if s < 7200 => format!("{} min", s / 60),
        s => format!("{} h", s / 3600),
    }
}

fn gwei(wei: u128) -> String {
    format!("{:.3}", wei as f64 / 1e9)
}
