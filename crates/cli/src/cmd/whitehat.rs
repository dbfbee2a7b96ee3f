//! `firebreak whitehat …` and `firebreak trace`: fund recovery from the
//! command line, recorded on the incident's timeline like the war room's.

use std::{collections::BTreeMap, sync::Arc};

use eyre::{WrapErr as _, bail};
use firebreak_plan::Plan;
use firebreak_primitives::IncidentId;
use firebreak_recover::{
    book::{AttackerState, RecoveryView, dollars},
    graph::{FlowGraph, csv},
};
use firebreak_respond::Recovery;
use firebreak_store::prelude::*;

use crate::{
    Outcome,
    args::{DecideArgs, RecoveryArgs, TraceArgs, WhitehatCommand},
    cmd::store::{self, incident_id},
    output,
};

/// The plan, the store and the incident's chain key.
struct Ctx {
    plan: Arc<Plan>,
    store: Arc<dyn firebreak_store::IncidentStore>,
    id: IncidentId,
    chain: String,
}

async fn ctx(id: &str, args: &RecoveryArgs) -> eyre::Result<Option<Ctx>> {
    let id = incident_id(id)?;
    let Some(plan) = super::valid_plan(&args.plan)? else { return Ok(None) };
    let store = store::open(&args.db, false).await?;
    let Some(incident) = store.incident(id).await? else {
        bail!(
            "no incident {id} in `{}` (see `firebreak incident list`)",
            store::db_shown(&args.db)
        );
    };
    let chain = plan
        .chains
        .iter()
        .find(|(_, c)| c.id == incident.chain_id)
        .map(|(k, _)| k.clone())
        .ok_or_else(|| {
            eyre::eyre!(
                "incident {id} is on chain id {}, which the plan does not list",
                incident.chain_id
            )
        })?;
    Ok(Some(Ctx { plan: Arc::new(plan), store, id, chain }))
}

impl Ctx {
    /// Recovery without chain access (what the record says).
    fn offline(&self) -> Recovery {
        Recovery::new(self.plan.clone(), self.store.clone(), BTreeMap::new())
    }

    async fn online(&self) -> eyre::Result<Recovery> {
        Recovery::connect(self.plan.clone(), self.store.clone())
            .await
            .wrap_err("cannot reach the plan's chains")
    }

    /// Scans `chain` from `from` to its head; prints what was found.
    async fn scan(&self, r: &Recovery, chain: &str, from: u64) -> eyre::Result<()> {
        let link = firebreak_respond::connect_link(&self.plan, chain).await?;
        let head = link
            .read("eth_blockNumber", |p| async move {
                use alloy::providers::Provider as _;
                p.get_block_number().await
            })
            .await?;
        if from > head {
            bail!("--from {from} is beyond the head of `{chain}` ({head})");
        }
        let bar = output::progress(head - from + 1, "scanning blocks");
        let mut total = firebreak_respond::recovery::Scanned::default();
        let mut at = from;
        while at <= head {
            let to = (at + 99).min(head);
            let s = r.scan(self.id, chain, at, to).await?;
            total.blocks += s.blocks;
            total.moved += s.moved;
            total.exits += s.exits;
            total.returned += s.returned;
            total.messages += s.messages;
            bar.inc(to - at + 1);
            at = to + 1;
        }
        bar.finish_and_clear();
        output::error(&format!(
            "scanned {} blocks of `{chain}` ({from}–{head}): {} traced transfer(s) ({} into bridges, mixers or exchanges), {} return(s), {} message(s)",
            total.blocks, total.moved, total.exits, total.returned, total.messages
        ));
        Ok(())
    }
}

fn address(text: &str) -> eyre::Result<alloy::primitives::Address> {
    text.parse().map_err(|e| eyre::eyre!("`{text}` is not an address: {e}"))
}

pub(crate) fn run(cmd: WhitehatCommand) -> eyre::Result<Outcome> {
    store::runtime()?.block_on(async move {
        match cmd {
            WhitehatCommand::Show { id, ctx: a, json } => {
                let Some(c) = ctx(&id, &a).await? else { return Ok(Outcome::Invalid) };
                show(&c, json).await
            }
            WhitehatCommand::Propose { id, ctx: a } => {
                let Some(c) = ctx(&id, &a).await? else { return Ok(Outcome::Invalid) };
                let n = c.online().await?.propose(c.id).await?;
                output::out(&format!("{n} attacker address(es) proposed from the evidence of incident {}", c.id));
                show_attackers(&c.offline().view(c.id).await?);
                Ok(Outcome::Ok)
            }
            WhitehatCommand::Confirm(d) => decide(d, true).await,
            WhitehatCommand::Reject(d) => decide(d, false).await,
            WhitehatCommand::Message { id, member, text_file, chain, ctx: a } => {
                let Some(c) = ctx(&id, &a).await? else { return Ok(Outcome::Invalid) };
                let text = match text_file {
                    Some(f) => Some(
                        firebreak_plan::read_text(&f, 64 * 1024)
                            .wrap_err_with(|| format!("cannot read `{}`", f.display()))?
                            .trim()
                            .to_owned(),
                    ),
                    None => None,
                };
                let chain = chain.unwrap_or_else(|| c.chain.clone());
                let d = c.offline().draft(c.id, &member, &chain, text).await?;
                output::out(&format!(
                    "draft #{} to {} (from signer `{}`), exactly as it will be sent:\n\n{}\n\nnothing is sent until {} approve: firebreak whitehat approve {} {} --as MEMBER",
                    d.draft,
                    d.to.join(", "),
                    d.signer,
                    d.text,
                    d.approvers.iter().map(|r| r.as_str()).collect::<Vec<_>>().join(" and "),
                    c.id,
                    d.draft
                ));
                Ok(Outcome::Ok)
            }
            WhitehatCommand::Approve { id, draft, member, ctx: a } => {
                let Some(c) = ctx(&id, &a).await? else { return Ok(Outcome::Invalid) };
                let left = c.offline().approve(c.id, draft, &member).await?;
                if left.is_empty() {
                    output::out(&format!(
                        "draft #{draft} is approved: a running daemon sends it at its next block; without one, send it with `firebreak whitehat send {} {draft}`",
                        c.id
                    ));
                } else {
                    output::out(&format!(
                        "approved by {member}; still needed: {}",
                        left.iter().map(|r| r.as_str()).collect::<Vec<_>>().join(", ")
                    ));
                }
                Ok(Outcome::Ok)
            }
            WhitehatCommand::Send { id, draft, ctx: a } => {
                let Some(c) = ctx(&id, &a).await? else { return Ok(Outcome::Invalid) };
                // one sender: a running daemon sends approved drafts itself
                let replicas = store::open(&a.db, false).await?;
                let live = firebreak_store::ReplicaStore::replicas(&*replicas)
                    .await?
                    .into_iter()
                    .any(|b| firebreak_primitives::now_ms().saturating_sub(b.beat_ms) < 30_000);
                if live {
                    bail!(
                        "a daemon is running on this store: it sends draft #{draft} itself at the next block once every approving role approved (see `firebreak whitehat show {}`)",
                        c.id
                    );
                }
                for m in c.online().await?.send(c.id, draft).await? {
                    output::out(&format!(
                        "sent to {} in {}{}",
                        m.to,
                        m.tx_hash,
                        m.block.map(|b| format!(" (block {b})")).unwrap_or_default()
                    ));
                }
                Ok(Outcome::Ok)
            }
            WhitehatCommand::Ledger { id, from, ctx: a, json } => {
                let Some(c) = ctx(&id, &a).await? else { return Ok(Outcome::Invalid) };
                if let Some(from) = from {
                    let r = c.online().await?;
                    c.scan(&r, &c.chain, from).await?;
                }
                let l = c.offline().ledger(c.id).await?;
                if json {
                    output::out(&serde_json::to_string_pretty(&l)?);
                } else {
                    output::out_raw(&l.text());
                }
                Ok(Outcome::Ok)
            }
            WhitehatCommand::Bounty { id, whitehat, ctx: a, json } => {
                let Some(c) = ctx(&id, &a).await? else { return Ok(Outcome::Invalid) };
                let b = c.online().await?.propose_bounty(c.id, address(&whitehat)?).await?;
                if json {
                    output::out(&serde_json::to_string_pretty(&b)?);
                } else {
                    output::out(&format!(
                        "bounty of ${} for {} proposed from Safe {} at nonce {}: transfer {} base units of `{}`\nSafeTx hash (the Safe's own): {}\nowners sign it: firebreak safe sign … or in the war room",
                        dollars(b.bounty_micro_usd.parse().unwrap_or(0)),
                        b.whitehat,
                        b.safe,
                        b.nonce,
                        b.amount,
                        b.token,
                        b.safe_tx_hash
                    ));
                }
                Ok(Outcome::Ok)
            }
        }
    })
}

async fn decide(d: DecideArgs, confirm: bool) -> eyre::Result<Outcome> {
    let Some(c) = ctx(&d.id, &d.ctx).await? else { return Ok(Outcome::Invalid) };
    let address = address(&d.address)?;
    let member = d.member.as_str();
    c.offline().decide(c.id, address, member, confirm, d.note).await?;
    output::out(&format!(
        "{address} {} as an attacker address of incident {} by {member}",
        if confirm { "confirmed" } else { "rejected" },
        c.id
    ));
    Ok(Outcome::Ok)
}

fn show_attackers(v: &RecoveryView) {
    if v.attackers.is_empty() {
        output::out("no attacker addresses yet (firebreak whitehat propose INCIDENT)");
    }
    for a in &v.attackers {
        let state = match a.state {
            AttackerState::Proposed => "PROPOSED".to_owned(),
            AttackerState::Confirmed => {
                format!("confirmed by {}", a.decided_by.as_deref().unwrap_or("?"))
            }
            AttackerState::Rejected => {
                format!("rejected by {}", a.decided_by.as_deref().unwrap_or("?"))
            }
        };
        output::out(&format!("  {}  {state}: {}", a.address, a.reasons.join("; ")));
    }
}

async fn show(c: &Ctx, json: bool) -> eyre::Result<Outcome> {
    let r = c.offline();
    let v = r.view(c.id).await?;
    let ledger = r.ledger(c.id).await.ok();
    if json {
        output::out(&serde_json::to_string_pretty(&serde_json::json!({
            "incident": c.id.0,
            "recovery": v,
            "ledger": ledger,
        }))?);
        return Ok(Outcome::Ok);
    }
    output::out(&format!("incident {}: recovery", c.id));
    output::out("attackers:");
    show_attackers(&v);
    output::out(&format!(
        "traced transfers: {} (firebreak trace {} for the graph)",
        v.moves.iter().filter(|m| m.hop > 0).count(),
        c.id
    ));
    output::out("messages:");
    for d in &v.drafts {
        let missing = d.missing();
        output::out(&format!(
            "  draft #{} by {}: {}",
            d.draft.draft,
            d.draft.member,
            if d.sent {
                "sent".to_owned()
            } else if missing.is_empty() {
                "approved, not sent".to_owned()
            } else {
                format!(
                    "awaiting {}",
                    missing.iter().map(|r| r.as_str()).collect::<Vec<_>>().join(", ")
                )
            }
        ));
    }
    for (out, m) in &v.messages {
        output::out(&format!(
            "  {} {} → {} ({}): {}",
            if *out { "OUT" } else { "IN " },
            m.from,
            m.to,
            m.tx_hash,
            m.text
        ));
    }
    if let Some(l) = ledger {
        output::out("ledger:");
        output::out_raw(&l.text());
    }
    if !v.deadlines.is_empty() {
        output::out("clocks:");
        for d in v.deadlines.values() {
            output::out(&format!("  {} ({}): {}", d.clock, d.state, d.detail));
        }
    }
    Ok(Outcome::Ok)
}

/// `firebreak trace`.
pub(crate) fn trace(args: &TraceArgs) -> eyre::Result<Outcome> {
    store::runtime()?.block_on(async move {
        let Some(c) = ctx(&args.id, &args.ctx).await? else { return Ok(Outcome::Invalid) };
        if let Some(from) = args.from {
            let chain = args.chain.clone().unwrap_or_else(|| c.chain.clone());
            let r = c.online().await?;
            c.scan(&r, &chain, from).await?;
        }
        let v = c.offline().view(c.id).await?;
        if let Some(path) = &args.svg {
            let svg = FlowGraph::new(&v.moves, &v.confirmed())
                .svg(&format!("{}: fund flow of incident {}", c.plan.protocol.name, c.id));
            std::fs::write(path, svg).wrap_err_with(|| format!("cannot write `{}`", path.display()))?;
            output::error(&format!("wrote the fund-flow graph to {}", path.display()));
        }
        if args.csv {
            output::out_raw(&csv(&v.moves));
        } else if args.json {
            output::out(&serde_json::to_string_pretty(&v.moves)?);
        } else if args.svg.is_none() {
            if v.moves.is_empty() {
                output::out("no traced transfers yet: confirm attackers (firebreak whitehat confirm) and let the daemon run, or scan past blocks with --from BLOCK");
            }
            for m in &v.moves {
                let t = &m.transfer;
                output::out(&format!(
                    "hop {}  block {:>8}  {} → {}  {} {}{}",
                    m.hop,
                    t.block,
                    t.from,
                    t.to,
                    firebreak_recover::book::whole(t.amount.parse().unwrap_or_default(), t.decimals),
                    t.asset,
                    match (&m.label, &m.kind) {
                        (Some(l), Some(k)) => format!("  [{l}, {k}]"),
                        _ => String::new(),
                    }
                ));
            }
        }
        Ok(Outcome::Ok)
    })
}
