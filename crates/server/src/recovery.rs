//! The war room's recovery: the API (attackers confirmed or rejected,
//! messages drafted and approved, the recovery as recorded, the fund-flow
//! graph) and the recovery page. The acting daemon sends a message once
//! every approving role has approved it.

use std::collections::BTreeMap;

use axum::{
    Json, Router,
    extract::{Path, State},
    http::{StatusCode, header},
    response::{Html, IntoResponse},
    routing::{get, post},
};
use firebreak_primitives::{IncidentId, Role};
use firebreak_recover::{
    book::{AttackerState, RecoveryView, dollars, whole},
    graph::FlowGraph,
};
use firebreak_respond::Recovery;
use maud::{PreEscaped, html};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::{
    api::load,
    auth::{Caller, require_role},
    error::{ApiError, ApiResult, Body},
    html::{action_button, badge, page},
    state::WarRoom,
};

/// Roles that may confirm or reject attacker addresses.
pub(crate) const DECIDE: [Role; 3] = [Role::Commander, Role::Liaison, Role::Operator];

pub(crate) fn api_routes() -> Router<WarRoom> {
    Router::new()
        .route("/incidents/{id}/recovery", get(recovery))
        .route("/incidents/{id}/recovery/graph.svg", get(graph))
        .route("/incidents/{id}/attackers/{address}/confirm", post(confirm))
        .route("/incidents/{id}/attackers/{address}/reject", post(reject))
        .route("/incidents/{id}/messages", post(draft))
        .route("/incidents/{id}/messages/{draft}/approve", post(approve))
        .route("/incidents/{id}/bounties/{hash}/signatures", post(sign_bounty))
}

pub(crate) fn page_routes() -> Router<WarRoom> {
    Router::new().route("/incidents/{id}/recovery", get(recovery_page))
}

fn recovery_of(s: &WarRoom) -> Recovery {
    Recovery::new(s.plan.clone(), s.store.clone(), BTreeMap::new())
}

fn refused(e: firebreak_respond::Error) -> ApiError {
    match e {
        firebreak_respond::Error::Store(e) => ApiError::Store(e),
        other => ApiError::Unprocessable(other.to_string()),
    }
}

/// A decision's note.
#[derive(Debug, Default, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(extend("example" = {"note": "drained the vault in the exploit transaction"}))]
pub(crate) struct DecideBody {
    /// Why.
    #[serde(default)]
    note: Option<String>,
}

/// A message to draft.
#[derive(Debug, Default, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(extend("example" = {}))]
pub(crate) struct MessageBody {
    /// The text; the default offer from the Safe Harbor terms when absent.
    #[serde(default)]
    text: Option<String>,
    /// Chain key (default: the incident's chain).
    #[serde(default)]
    chain: Option<String>,
}

/// An owner's signature over a bounty's SafeTx hash.
#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(extend("example" = {"signature": "0x…"}))]
pub(crate) struct BountySignBody {
    /// The 65-byte signature the owner's wallet returned, hex.
    signature: String,
}

async fn sign_bounty(
    State(s): State<WarRoom>,
    caller: Caller,
    Path((id, hash)): Path<(String, String)>,
    Body(body): Body<BountySignBody>,
) -> ApiResult<Json<Value>> {
    let incident = load(&s, &id).await?;
    caller.of(&s)?;
    let hash: alloy_primitives::B256 = hash
        .parse()
        .map_err(|_| ApiError::Unprocessable(format!("`{hash}` is not a SafeTx hash")))?;
    let bytes = alloy_primitives::hex::decode(body.signature.trim()).map_err(|_| {
        ApiError::Unprocessable(
            "`signature` is not hex: paste the 0x… signature the wallet returned".into(),
        )
    })?;
    let (have, threshold) = recovery_of(&s)
        .sign_bounty(incident.id, hash, &bytes, &caller.member)
        .await
        .map_err(refused)?;
    s.wake(incident.id);
    Ok(Json(json!({
        "safe_tx_hash": hash,
        "signatures": have,
        "threshold": threshold,
        "message": if have as u64 >= u64::from(threshold) {
            "enough signatures: the daemon executes the bounty at the next block".to_owned()
        } else {
            format!("{have} of {threshold} signatures")
        },
    })))
}

async fn view(s: &WarRoom, id: IncidentId) -> ApiResult<RecoveryView> {
    recovery_of(s).view(id).await.map_err(refused)
}

async fn recovery(
    State(s): State<WarRoom>,
    _caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    let incident = load(&s, &id).await?;
    let v = view(&s, incident.id).await?;
    let ledger = recovery_of(&s).ledger(incident.id).await.ok();
    Ok(Json(json!({ "incident": incident.id.0, "recovery": v, "ledger": ledger })))
}

async fn graph(
    State(s): State<WarRoom>,
    _caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<impl IntoResponse> {
    let incident = load(&s, &id).await?;
    let v = view(&s, incident.id).await?;
    let svg = FlowGraph::new(&v.moves, &v.confirmed())
        .svg(&format!("Fund flow: incident {}", incident.id));
    Ok(([(header::CONTENT_TYPE, "image/svg+xml")], svg))
}

async fn decide(
    s: &WarRoom,
    caller: &Caller,
    id: &str,
    address: &str,
    note: Option<String>,
    confirm: bool,
) -> ApiResult<Json<Value>> {
    let incident = load(s, id).await?;
    let member = caller.of(s)?;
    require_role(&caller.member, member, &DECIDE, "decide on attacker addresses")?;
    let address: alloy_primitives::Address = address
        .parse()
        .map_err(|e| ApiError::Unprocessable(format!("`{address}` is not an address: {e}")))?;
    recovery_of(s)
        .decide(incident.id, address, &caller.member, confirm, note)
        .await
        .map_err(refused)?;
    Ok(Json(json!({
        "address": address.to_string(),
        "state": if confirm { "confirmed" } else { "rejected" },
        "by": caller.member,
    })))
}

async fn confirm(
    State(s): State<WarRoom>,
    caller: Caller,
    Path((id, address)): Path<(String, String)>,
    Body(body): Body<DecideBody>,
) -> ApiResult<Json<Value>> {
    decide(&s, &caller, &id, &address, body.note, true).await
}

async fn reject(
    State(s): State<WarRoom>,
    caller: Caller,
    Path((id, address)): Path<(String, String)>,
    Body(body): Body<DecideBody>,
) -> ApiResult<Json<Value>> {
    decide(&s, &caller, &id, &address, body.note, false).await
}

async fn draft(
    State(s): State<WarRoom>,
    caller: Caller,
    Path(id): Path<String>,
    Body(body): Body<MessageBody>,
) -> ApiResult<impl IntoResponse> {
    let incident = load(&s, &id).await?;
    let member = caller.of(&s)?;
    require_role(
        &caller.member,
        member,
        &s.plan.recovery.message_approvers,
        "draft messages to attackers",
    )?;
    let chain = match body.chain {
        Some(c) => c,
        None => s
            .plan
            .chains
            .iter()
            .find(|(_, c)| c.id == incident.chain_id)
            .map(|(k, _)| k.clone())
            .ok_or_else(|| {
                ApiError::Unprocessable("the incident's chain is not in the plan".into())
            })?,
    };
    let text = body.text.map(|t| t.trim().to_owned()).filter(|t| !t.is_empty());
    let d =
        recovery_of(&s).draft(incident.id, &caller.member, &chain, text).await.map_err(refused)?;
    Ok((StatusCode::CREATED, Json(json!(d))))
}

async fn approve(
    State(s): State<WarRoom>,
    caller: Caller,
    Path((id, draft)): Path<(String, String)>,
) -> ApiResult<Json<Value>> {
    let incident = load(&s, &id).await?;
    caller.of(&s)?;
    let draft: u32 = draft
        .parse()
        .map_err(|_| ApiError::Unprocessable(format!("`{draft}` is not a draft number")))?;
    let left =
        recovery_of(&s).approve(incident.id, draft, &caller.member).await.map_err(refused)?;
    s.wake(incident.id);
    Ok(Json(json!({
        "draft": draft,
        "still_needed": left.iter().map(|r| r.as_str()).collect::<Vec<_>>(),
        "message": if left.is_empty() {
            "approved: the daemon sends it on chain at the next block".to_owned()
        } else {
            format!("approved by {}", caller.member)
        },
    })))
}

/// A status-page update from the ledger: per asset, how much came back.
fn update_text(ledger: Option<&firebreak_recover::book::Ledger>) -> String {
    let Some(l) = ledger else {
        return "We are working to recover the funds taken in the exploit.".to_owned();
    };
    let parts: Vec<String> = l
        .assets
        .iter()
        .filter(|a| !a.lost.is_zero())
        .map(|a| {
            let d = l.decimals.get(&a.asset).copied().unwrap_or(18);
            let back = a.returned.saturating_add(a.retained).min(a.lost);
            format!("{} of {} {}", whole(back, d), whole(a.lost, d), a.asset)
        })
        .collect();
    if parts.is_empty() {
        "We are working to recover the funds taken in the exploit.".to_owned()
    } else {
        format!(
            "Recovery update: {} recovered so far, under our SEAL Safe Harbor terms. We will keep you posted.",
            parts.join(", ")
        )
    }
}

async fn recovery_page(
    State(s): State<WarRoom>,
    crate::pages::Viewer(me): crate::pages::Viewer,
    Path(id): Path<String>,
) -> ApiResult<Html<String>> {
    let incident = load(&s, &id).await?;
    let iid = incident.id;
    let v = view(&s, iid).await?;
    let ledger = recovery_of(&s).ledger(iid).await.ok();
    let graph = FlowGraph::new(&v.moves, &v.confirmed()).svg(&format!("Fund flow: incident {iid}"));
    let open = incident.status.is_open();
    let body = html! {
        h1 #title { "Incident " (iid) ": recovery" }
        p { a href={ "/incidents/" (iid) } { "← the incident" } " · " a href={ "/api/v1/incidents/" (iid) "/recovery/graph.svg" } { "graph (SVG)" } }
        section #attackers {
            h2 { "Attacker addresses" }
            @if v.attackers.is_empty() { p { "None proposed yet: the daemon proposes them from the exploit transactions." } }
            table {
                @for a in &v.attackers {
                    tr {
                        td { code { (a.address) } }
                        td { (badge(match a.state { AttackerState::Proposed => "proposed", AttackerState::Confirmed => "confirmed", AttackerState::Rejected => "rejected" })) }
                        td { (a.reasons.join("; ")) }
                        td {
                            @if open && a.state == AttackerState::Proposed {
                                (action_button(&format!("/api/v1/incidents/{iid}/attackers/{}/confirm", a.address), "Confirm", &format!("confirm-{}", a.address)))
                                " "
                                (action_button(&format!("/api/v1/incidents/{iid}/attackers/{}/reject", a.address), "Reject", &format!("reject-{}", a.address)))
                            }
                        }
                    }
                }
            }
        }
        section #graph { h2 { "Fund flow" } (PreEscaped(graph)) }
        section #messages {
            h2 { "Messages on chain" }
            @for d in &v.drafts {
                @let missing = d.missing();
                div.draft id={ "draft-" (d.draft.draft) } {
                    p { "Draft #" (d.draft.draft) " by " (d.draft.member) " to " (d.draft.to.join(", ")) " — "
                        @if d.sent { (badge("sent")) } @else if missing.is_empty() { (badge("approved")) " sent by the daemon at the next block" }
                        @else { "awaiting " (missing.iter().map(|r| r.as_str()).collect::<Vec<_>>().join(", ")) }
                    }
                    pre { (d.draft.text) }
                    @if open && !d.sent && !missing.is_empty() {
                        (action_button(&format!("/api/v1/incidents/{iid}/messages/{}/approve", d.draft.draft), "Approve", &format!("approve-draft-{}", d.draft.draft)))
                    }
                }
            }
            @for (out, m) in &v.messages {
                p { (if *out { "SENT " } else { "RECEIVED " }) code { (m.from) } " → " code { (m.to) } ": " q { (m.text) } }
            }
            @if open {
                form data-api={ "/api/v1/incidents/" (iid) "/messages" } data-done="draft saved: approvers review it above" {
                    p { textarea name="text" #message-text placeholder="Leave empty for the offer from the Safe Harbor terms" {} }
                    button #message-draft { "Draft a message to the confirmed attackers" }
                }
            }
        }
        @if let Some(l) = &ledger {
            section #ledger {
                h2 { "Ledger" }
                table {
                    tr { th { "asset" } th { "lost" } th { "returned" } th { "kept as bounty" } th { "net loss" } }
                    @for a in &l.assets {
                        @let d = l.decimals.get(&a.asset).copied().unwrap_or(18);
                        tr { td { (a.asset) } td { (whole(a.lost, d)) } td { (whole(a.returned, d)) } td { (whole(a.retained, d)) } td { (whole(a.net_loss, d)) } }
                    }
                }
                table {
                    tr { th { "white hat" } th { "returned" } th { "kept" } th { "bounty" } th { "owed" } th { "kept beyond the bounty" } }
                    @for w in &l.settlement.whitehats {
                        tr { td { code { (w.whitehat) } } td { "$" (dollars(w.returned)) } td { "$" (dollars(w.retained)) } td { "$" (dollars(w.bounty)) } td { "$" (dollars(w.owed)) } td { "$" (dollars(w.excess)) } }
                    }
                }
                @for b in &v.bounties {
                    @let paid = v.paid.iter().find(|p| p.safe_tx_hash == b.safe_tx_hash);
                    div.bounty id={ "bounty-" (b.safe_tx_hash) } {
                        p {
                            "Bounty for " code { (b.whitehat) } ": transfer " (b.amount) " base units of " (b.token)
                            " from Safe " code { (b.safe) } " at nonce " (b.nonce) " — "
                            @if let Some(p) = paid { (badge("paid")) " in " code { (p.tx_hash) } } @else { "awaiting the owners' signatures" }
                        }
                        @if paid.is_none() && open {
                            p { "Compare this SafeTx hash with the one your hardware wallet shows before you sign:" }
                            p.hash { (b.safe_tx_hash) }
                            form data-api={ "/api/v1/incidents/" (iid) "/bounties/" (b.safe_tx_hash) "/signatures" } data-done="signature accepted" {
                                input name="signature" size="100" placeholder="0x… (65 bytes)" required;
                                " "
                                button { "Add signature" }
                            }
                        }
                    }
                }
            }
        }
        @if open && s.plan.status_page.is_some() {
            section #recovery-update {
                h2 { "Recovery update for the status page" }
                p { "Drafted as an announcement: it is published once approved, like any other." }
                form data-api={ "/api/v1/incidents/" (iid) "/announcements" } data-done="draft saved: approve and publish it on the incident page" {
                    input type="hidden" name="status" value="monitoring";
                    p { textarea name="message" #recovery-update-message required { (update_text(ledger.as_ref())) } }
                    button #recovery-update-draft { "Draft the update" }
                }
            }
        }
        @if !v.deadlines.is_empty() {
            section #clocks {
                h2 { "Safe Harbor clocks" }
                ul { @for d in v.deadlines.values() { li { code { (d.clock) } " " (badge(&d.state)) " " (d.detail) } } }
            }
        }
    };
    Ok(Html(page(&format!("incident {iid}: recovery"), Some(&me.member), me.csrf(), &body)))
}
