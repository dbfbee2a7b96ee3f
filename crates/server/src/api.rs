//! `/api/v1`: incidents and everything recorded about them, and the actions
//! a member may take. Every action checks the member's roles against the
//! plan, lands on the timeline under the member's name, and wakes the daemon.

use std::collections::BTreeSet;

use axum::{
    Json, Router,
    extract::{Path, Query, State},
    http::StatusCode,
    response::IntoResponse,
    routing::{get, post},
};
use firebreak_plan::{Approval, Plan, StepAction};
use firebreak_primitives::{
    Actor, Event, IncidentId, IncidentStatus, Severity, TRIGGER_STEP, UNPAUSE_STEP, event,
};
use firebreak_store::{
    ActionKind, AnnouncementState, Incident, IncidentFilter, IncidentStore, ManualIncident,
    NewAnnouncement, SafeSignature,
};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::{
    auth::{Caller, require_role},
    error::{ApiError, ApiResult, Body},
    state::WarRoom,
};

/// Announcement status words, in the order of an incident.
pub(crate) const ANNOUNCE_STATUSES: [&str; 4] =
    ["investigating", "identified", "monitoring", "resolved"];

pub(crate) fn routes() -> Router<WarRoom> {
    Router::new()
        .route("/openapi.json", get(|| async { Json(crate::openapi::document()) }))
        .route("/me", get(me))
        .route("/incidents", get(list_incidents))
        .route("/incidents/{id}", get(get_incident))
        .route("/incidents/{id}/timeline", get(timeline))
        .route("/incidents/{id}/alerts", get(alerts))
        .route("/incidents/{id}/steps", get(steps))
        .route("/incidents/{id}/actions", get(actions))
        .route("/incidents/{id}/approvals", get(approvals))
        .route("/incidents/{id}/steps/{step}/approve", post(approve))
        .route("/incidents/{id}/steps/{step}/reject", post(reject))
        .route("/incidents/{id}/acknowledge", post(acknowledge))
        .route("/incidents/{id}/unpause", post(unpause))
        .route("/incidents/{id}/signatures", post(sign))
        .route("/incidents/{id}/announcements", get(incident_announcements).post(draft))
        .route("/announcements", get(all_announcements))
        .route("/announcements/{id}/approve", post(approve_announcement))
        .route("/announcements/{id}/publish", post(publish_announcement))
        .route("/triggers", post(trigger))
}

/// Parses an id from the path; anything else is a 404.
pub(crate) fn parse_id(text: &str, what: &str) -> ApiResult<u64> {
    text.parse::<u64>()
        .ok()
        .filter(|n| i64::try_from(*n).is_ok())
        .ok_or_else(|| ApiError::NotFound(format!("no {what} `{text}`")))
}

pub(crate) async fn load(state: &WarRoom, text: &str) -> ApiResult<Incident> {
    let id = IncidentId(parse_id(text, "incident")?);
    state.store.incident(id).await?.ok_or_else(|| ApiError::NotFound(format!("no incident {id}")))
}

fn open(incident: &Incident) -> ApiResult<()> {
    if incident.status.is_open() {
        return Ok(());
    }
    Err(ApiError::Conflict(format!(
        "incident {} is {}; nothing more can be done",
        incident.id, incident.status
    )))
}

async fn me(State(s): State<WarRoom>, caller: Caller) -> ApiResult<Json<Value>> {
    let m = caller.of(&s)?;
    Ok(Json(json!({
        "member": caller.member,
        "name": m.name,
        "roles": m.roles,
        "safe_owner": m.safe_owner,
    })))
}

#[derive(Debug, Deserialize)]
struct ListQuery {
    status: Option<String>,
    limit: Option<String>,
}

async fn list_incidents(
    State(s): State<WarRoom>,
    _caller: Caller,
    Query(q): Query<ListQuery>,
) -> ApiResult<Json<Value>> {
    let mut filter = IncidentFilter::default();
    if let Some(list) = q.status.as_deref().filter(|t| !t.is_empty()) {
        for part in list.split(',') {
            let status = part
                .trim()
                .parse::<IncidentStatus>()
                .map_err(|e| ApiError::Unprocessable(format!("query `status`: {e}")))?;
            filter.statuses.push(status);
        }
    }
    if let Some(limit) = q.limit.as_deref() {
        filter.limit = limit.parse::<u16>().map(u64::from).map_err(|_| {
            ApiError::Unprocessable(format!(
                "query `limit`: `{limit}` is not a number from 0 to 65535"
            ))
        })?;
    }
    let list = s.store.incidents(&filter).await?;
    Ok(Json(json!({"incidents": list})))
}

async fn get_incident(
    State(s): State<WarRoom>,
    _caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<Incident>> {
    Ok(Json(load(&s, &id).await?))
}

#[derive(Debug, Deserialize)]
struct TimelineQuery {
    after: Option<String>,
}

async fn timeline(
    State(s): State<WarRoom>,
    _caller: Caller,
    Path(id): Path<String>,
    Query(q): Query<TimelineQuery>,
) -> ApiResult<Json<Value>> {
    let incident = load(&s, &id).await?;
    let after = match q.after.as_deref() {
        None | Some("") => 0,
        Some(t) => t.parse::<u64>().map_err(|_| {
            ApiError::Unprocessable(format!("query `after`: `{t}` is not a sequence number"))
        })?,
    };
    let entries = s.store.timeline(incident.id).await?;
    let verified = firebreak_store::verify_incident(&incident, &entries).is_ok();
    let entries: Vec<Value> = entries
        .into_iter()
        .filter(|e| e.seq > after)
        .map(|e| {
            let text = firebreak_store::timeline::describe(&e);
            let mut v = serde_json::to_value(&e).unwrap_or(Value::Null);
            v["text"] = Value::String(text);
            v
        })
        .collect();
    Ok(Json(json!({"incident": incident.id, "verified": verified, "entries": entries})))
}

async fn alerts(
    State(s): State<WarRoom>,
    _caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    let incident = load(&s, &id).await?;
    Ok(Json(json!({"alerts": s.store.incident_alerts(incident.id).await?})))
}

async fn steps(
    State(s): State<WarRoom>,
    _caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    let incident = load(&s, &id).await?;
    let steps = s.store.steps(incident.id).await?;
    let out: Vec<Value> = steps
        .into_iter()
        .map(|st| {
            let gate = gate_of(&s.plan, &incident, &st.step_id, true);
            let mut v = serde_json::to_value(&st).unwrap_or(Value::Null);
            v["approval"] =
                gate.map_or(Value::Null, |g| json!({"quorum": g.quorum, "roles": g.roles}));
            v
        })
        .collect();
    Ok(Json(json!({"steps": out})))
}

async fn actions(
    State(s): State<WarRoom>,
    _caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    let incident = load(&s, &id).await?;
    Ok(Json(json!({"actions": s.store.actions(incident.id).await?})))
}

async fn approvals(
    State(s): State<WarRoom>,
    _caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    let incident = load(&s, &id).await?;
    Ok(Json(json!({"approvals": s.store.approvals(incident.id).await?})))
}

/// Whether this timeline starts with a hand-opened incident.
pub fn is_manual(timeline: &[firebreak_store::TimelineEntry]) -> bool {
    timeline
        .first()
        .is_some_and(|e| matches!(&e.event, Event::IncidentOpened(o) if o.manual.is_some()))
}

/// The approval gate of `step` in `incident`, if it has one. `trigger` (of
/// a hand-opened incident, `manual_known`) and `unpause` are the war room's
/// own gates.
pub fn gate_of(
    plan: &Plan,
    incident: &Incident,
    step: &str,
    manual_known: bool,
) -> Option<Approval> {
    match step {
        TRIGGER_STEP if manual_known => return Some(plan.war_room.pause.clone()),
        UNPAUSE_STEP => return Some(plan.war_room.unpause.clone()),
        _ => {}
    }
    let playbook = plan.playbooks.get(&incident.playbook)?;
    let st = playbook.steps.iter().find(|s| s.id == step)?;
    match &st.action {
        StepAction::WaitApproval { approval, .. } => Some(approval.clone()),
        _ => st.approval.clone(),
    }
}

fn step_exists(plan: &Plan, incident: &Incident, step: &str) -> bool {
    step == TRIGGER_STEP
        || step == UNPAUSE_STEP
        || plan
            .playbooks
            .get(&incident.playbook)
            .is_some_and(|p| p.steps.iter().any(|s| s.id == step))
}

async fn decide(
    s: &WarRoom,
    caller: &Caller,
    id: &str,
    step: &str,
    approve: bool,
) -> ApiResult<Json<Value>> {
    let incident = load(s, id).await?;
    let member = caller.of(s)?;
    let states = s.store.steps(incident.id).await?;
    let state = states.iter().find(|st| st.step_id == step);
    if state.is_none() && !step_exists(&s.plan, &incident, step) {
        return Err(ApiError::NotFound(format!("incident {} has no step `{step}`", incident.id)));
    }
    let timeline = s.store.timeline(incident.id).await?;
    let is_manual = is_manual(&timeline);
    if step == TRIGGER_STEP && !is_manual {
        return Err(ApiError::NotFound(format!("incident {} has no step `{step}`", incident.id)));
    }
    if step == UNPAUSE_STEP && unpause_contracts(&timeline).is_none() {
        return Err(ApiError::Unprocessable(format!(
            "nobody asked to unpause in incident {}; request it with POST /incidents/{}/unpause",
            incident.id, incident.id
        )));
    }
    let Some(gate) = gate_of(&s.plan, &incident, step, is_manual) else {
        return Err(ApiError::Unprocessable(format!(
            "step `{step}` has no approval gate; it runs on its own"
        )));
    };
    open(&incident)?;
    let verb = if approve { "approve" } else { "reject" };
    require_role(&caller.member, member, &gate.roles, &format!("{verb} step `{step}`"))?;
    if let Some(st) = state
        && st.status.is_final()
    {
        return Err(ApiError::Conflict(format!("step `{step}` is already {}", st.status)));
    }
    let new = s.store.decide(incident.id, step, &caller.member, approve).await?;
    if !new {
        return Err(ApiError::Conflict(format!(
            "`{}` already decided on step `{step}`; each member counts once toward the quorum",
            caller.member
        )));
    }
    s.wake(incident.id);
    let decisions = s.store.approvals(incident.id).await?;
    let yes: Vec<&str> = decisions
        .iter()
        .filter(|d| d.step_id == step && d.approve)
        .filter(|d| s.plan.team.get(&d.member).is_some_and(|m| gate.counts(m)))
        .map(|d| d.member.as_str())
        .collect();
    Ok(Json(json!({
        "recorded": if approve { "approve" } else { "reject" },
        "step": step,
        "approvals": yes.len(),
        "quorum": gate.quorum,
        "approved_by": yes,
        "quorum_met": yes.len() >= gate.quorum as usize,
    })))
}

async fn approve(
    State(s): State<WarRoom>,
    caller: Caller,
    Path((id, step)): Path<(String, String)>,
) -> ApiResult<Json<Value>> {
    decide(&s, &caller, &id, &step, true).await
}

async fn reject(
    State(s): State<WarRoom>,
    caller: Caller,
    Path((id, step)): Path<(String, String)>,
) -> ApiResult<Json<Value>> {
    decide(&s, &caller, &id, &step, false).await
}

/// Records an acknowledgement unless there is one; the text to show. Used
/// by the API, the signed links of pages and PagerDuty's webhooks.
///
/// # Errors
/// Store failures.
pub async fn acknowledge_incident(
    store: &dyn IncidentStore,
    id: IncidentId,
    actor: Actor,
    member: &str,
    how: &str,
) -> Result<(bool, String), firebreak_store::Error> {
    if store.incident(id).await?.is_none() {
        return Ok((false, format!("There is no incident {id}.")));
    }
    let ack =
        Event::Acknowledged(event::Acknowledged { member: member.to_owned(), how: how.to_owned() });
    // one transaction decides: of people pressing at once, one is recorded
    let (new, first) = store.append_once(id, actor.clone(), ack).await?;
    if !new {
        let who = match &first.event {
            Event::Acknowledged(a) => a.member.clone(),
            _ => "someone".to_owned(),
        };
        return Ok((false, format!("Incident {id} was already acknowledged by {who}.")));
    }
    store.transition(id, IncidentStatus::Acknowledged, actor, None).await?;
    Ok((true, format!("Incident {id} is acknowledged by {member}. Paging stops.")))
}

async fn acknowledge(
    State(s): State<WarRoom>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    let incident = load(&s, &id).await?;
    caller.of(&s)?;
    open(&incident)?;
    let (new, text) =
        acknowledge_incident(&*s.store, incident.id, caller.actor(), &caller.member, "war room")
            .await?;
    if !new {
        return Err(ApiError::Conflict(text));
    }
    s.wake(incident.id);
    Ok(Json(json!({"acknowledged": true, "message": text})))
}

/// The contracts of the incident's unpause request, if there is one.
pub(crate) async fn unpause_request(
    store: &dyn IncidentStore,
    id: IncidentId,
) -> ApiResult<Option<Vec<String>>> {
    Ok(unpause_contracts(&store.timeline(id).await?))
}

/// The contracts of the unpause request in this timeline, if there is one.
pub(crate) fn unpause_contracts(
    timeline: &[firebreak_store::TimelineEntry],
) -> Option<Vec<String>> {
    timeline.iter().find_map(|e| match &e.event {
        Event::UnpauseRequested(u) => Some(u.contracts.clone()),
        _ => None,
    })
}

#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(extend("example" = {"contracts": ["vault"], "reason": "the oracle is fixed and verified"}))]
pub(crate) struct UnpauseBody {
    /// Contract ids of the plan to unpause.
    contracts: Vec<String>,
    /// Why it is safe.
    #[serde(default)]
    reason: Option<String>,
}

async fn unpause(
    State(s): State<WarRoom>,
    caller: Caller,
    Path(id): Path<String>,
    Body(body): Body<UnpauseBody>,
) -> ApiResult<impl IntoResponse> {
    let incident = load(&s, &id).await?;
    let member = caller.of(&s)?;
    let gate = s.plan.war_room.unpause.clone();
    require_role(&caller.member, member, &gate.roles, "unpause contracts")?;
    open(&incident)?;
    if incident.status < IncidentStatus::Contained {
        return Err(ApiError::Conflict(format!(
            "incident {} is {}: nothing is contained yet, so there is nothing to unpause",
            incident.id, incident.status
        )));
    }
    if body.contracts.is_empty() {
        return Err(ApiError::Unprocessable(
            "`contracts` is empty: name the contracts to unpause".into(),
        ));
    }
    for c in &body.contracts {
        let Some(contract) = s.plan.contracts.get(c) else {
            return Err(ApiError::Unprocessable(format!("the plan has no contract `{c}`")));
        };
        if contract.unpause.is_none() {
            return Err(ApiError::Unprocessable(format!(
                "contract `{c}` has no unpause path in the plan; add `unpause` to it"
            )));
        }
        if s.plan.chains.get(&contract.chain).map(|ch| ch.id) != Some(incident.chain_id) {
            return Err(ApiError::Unprocessable(format!(
                "contract `{c}` is not on chain {} of incident {}",
                incident.chain_id, incident.id
            )));
        }
    }
    let wanted: BTreeSet<&String> = body.contracts.iter().collect();
    match unpause_request(&*s.store, incident.id).await? {
        Some(existing) => {
            let have: BTreeSet<&String> = existing.iter().collect();
            if have != wanted {
                return Err(ApiError::Conflict(format!(
                    "an unpause of {} is already requested; approve that one",
                    existing.join(", ")
                )));
            }
        }
        None => {
            let e = Event::UnpauseRequested(event::UnpauseRequested {
                contracts: wanted.iter().map(|c| (*c).clone()).collect(),
                reason: body.reason.unwrap_or_default(),
                quorum: gate.quorum,
                roles: gate.roles.clone(),
            });
            s.store.append(incident.id, caller.actor(), e).await?;
            // two requests at once: the first on the timeline is the request
            let first = unpause_request(&*s.store, incident.id).await?.unwrap_or_default();
            if first.iter().collect::<BTreeSet<_>>() != wanted {
                return Err(ApiError::Conflict(format!(
                    "an unpause of {} was requested at the same moment; approve that one",
                    first.join(", ")
                )));
            }
        }
    }
    decide(&s, &caller, &id, UNPAUSE_STEP, true).await.map(|j| (StatusCode::ACCEPTED, j))
}

#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct SignBody {
    /// 0x-prefixed 65-byte r,s,v
    signature: String,
    /// Action key, when several wait.
    #[serde(default)]
    action: Option<String>,
    /// Sign a DELEGATECALL outside the plan's allow-list anyway
    /// (commanders only); the reason goes on the timeline.
    #[serde(default)]
    override_reason: Option<String>,
}

async fn sign(
    State(s): State<WarRoom>,
    caller: Caller,
    Path(id): Path<String>,
    Body(body): Body<SignBody>,
) -> ApiResult<Json<Value>> {
    let incident = load(&s, &id).await?;
    let member = caller.of(&s)?;
    if member.safe_owner.is_none() && !member.roles.contains(&firebreak_primitives::Role::Signer) {
        return Err(ApiError::Forbidden(format!(
            "`{}` may not add Safe signatures: it takes the role signer or a `safe_owner` address",
            caller.member
        )));
    }
    open(&incident)?;
    let actions = s.store.actions(incident.id).await?;
    let waiting: Vec<_> = actions
        .iter()
        .filter(|a| a.kind == ActionKind::Safe && !a.status.is_final() && a.safe_tx_hash.is_some())
        .filter(|a| body.action.as_ref().is_none_or(|k| a.key.to_string() == *k))
        .collect();
    let [action] = waiting.as_slice() else {
        return Err(ApiError::Unprocessable(if waiting.is_empty() {
            format!("no Safe transaction of incident {} is waiting for signatures", incident.id)
        } else {
            "several Safe transactions wait for signatures; name one with `action`".into()
        }));
    };
    let hash = action.safe_tx_hash.unwrap_or_default();
    let tx: firebreak_safe::SafeTx = action
        .safe_tx
        .clone()
        .and_then(|v| serde_json::from_value(v).ok())
        .ok_or_else(|| ApiError::Unprocessable("the stored SafeTx is unreadable".into()))?;
    if tx.hash(action.chain_id, action.to) != hash {
        return Err(ApiError::Unprocessable(
            "the stored SafeTx does not hash to the recorded SafeTx hash; do not sign".into(),
        ));
    }
    let Some(safe) = s.plan.safes.values().find(|sf| {
        sf.address == action.to
            && s.plan.chains.get(&sf.chain).is_some_and(|c| c.id == action.chain_id)
    }) else {
        return Err(ApiError::Unprocessable(format!("Safe {} is not in the plan", action.to)));
    };
    // a DELEGATECALL outside the allow-list runs foreign code as the Safe
    let review = firebreak_safe::review(&tx, action.chain_id, action.to, &|to, data| {
        s.plan.describe_call(action.chain_id, to, data)
    });
    let outside = firebreak_safe::delegatecalls_outside(&review, &safe.delegatecall_targets());
    if !outside.is_empty() {
        let targets: Vec<String> = outside.iter().map(ToString::to_string).collect();
        let commander = member.roles.contains(&firebreak_primitives::Role::Commander);
        match body.override_reason.as_deref().map(str::trim) {
            Some(reason) if commander && !reason.is_empty() => {
                let e = Event::DelegatecallOverride(event::DelegatecallOverride {
                    safe_tx_hash: hash.to_string(),
                    targets,
                    member: caller.member.clone(),
                    reason: reason.to_owned(),
                });
                s.store.append(incident.id, caller.actor(), e).await?;
            }
            _ => {
                return Err(ApiError::Unprocessable(format!(
                    "refusing the signature: the SafeTx makes a DELEGATECALL to {}, outside the plan's allow-list for this Safe (a delegate call runs that contract's code with the Safe's storage and funds); a commander may sign it with `override_reason`, recorded on the timeline",
                    targets.join(", ")
                )));
            }
        }
    }
    let text = body.signature.trim();
    let bytes = alloy_primitives::hex::decode(text).map_err(|_| {
        ApiError::Unprocessable(
            "`signature` is not hex: paste the 0x… signature the wallet returned".into(),
        )
    })?;
    let owner = firebreak_safe::recover_owner(hash, &bytes, &safe.owners).map_err(|e| {
        ApiError::Unprocessable(format!(
            "signature rejected: {e} (sign the SafeTx hash {hash} with the owner's key)"
        ))
    })?;
    if let Some(mine) = member.safe_owner
        && mine != owner.owner
    {
        return Err(ApiError::Unprocessable(format!(
            "signature rejected: it is from {}, but the plan gives `{}` the owner address {mine}",
            owner.owner, caller.member
        )));
    }
    let signature = SafeSignature {
        safe_tx_hash: hash,
        signer: owner.owner,
        signature: alloy_primitives::Bytes::from(owner.bytes.to_vec()),
        source: format!("member:{}", caller.member),
    };
    let new = s.store.add_signature(signature, Some((incident.id, caller.actor()))).await?;
    if !new {
        return Err(ApiError::Conflict(format!(
            "owner {} already signed this SafeTx",
            owner.owner
        )));
    }
    s.wake(incident.id);
    let have =
        s.store.signatures(hash).await?.iter().filter(|g| safe.owners.contains(&g.signer)).count();
    Ok(Json(json!({
        "safe_tx_hash": hash,
        "owner": owner.owner,
        "signatures": have,
        "threshold": safe.threshold,
    })))
}

async fn incident_announcements(
    State(s): State<WarRoom>,
    _caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    let incident = load(&s, &id).await?;
    Ok(Json(json!({"announcements": s.store.announcements(Some(incident.id), false).await?})))
}

async fn all_announcements(State(s): State<WarRoom>, _caller: Caller) -> ApiResult<Json<Value>> {
    Ok(Json(json!({"announcements": s.store.announcements(None, false).await?})))
}

#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(extend("example" = {"status": "investigating", "message": "We paused the vault while we investigate.", "components": []}))]
pub(crate) struct DraftBody {
    /// The status-page status it announces.
    #[schemars(extend("enum" = ["investigating", "identified", "monitoring", "resolved"]))]
    status: String,
    /// What the community should know.
    message: String,
    /// Status-page components it affects.
    #[serde(default)]
    components: Vec<String>,
}

/// Checks an announcement's fields against the plan.
pub(crate) fn check_announcement(
    plan: &Plan,
    status: &str,
    message: &str,
    components: &[String],
) -> ApiResult<()> {
    if !ANNOUNCE_STATUSES.contains(&status) {
        return Err(ApiError::Unprocessable(format!(
            "`status` must be one of {}; got `{status}`",
            ANNOUNCE_STATUSES.join(", ")
        )));
    }
    if message.trim().is_empty() || message.len() > 5000 {
        return Err(ApiError::Unprocessable("`message` must have 1 to 5000 characters".into()));
    }
    let known: Vec<&str> =
        plan.status_page.iter().flat_map(|p| p.components.iter().map(|c| c.id.as_str())).collect();
    if let Some(c) = components.iter().find(|c| !known.contains(&c.as_str())) {
        return Err(ApiError::Unprocessable(format!(
            "the status page has no component `{c}` (it has: {})",
            if known.is_empty() { "none".to_owned() } else { known.join(", ") }
        )));
    }
    Ok(())
}

async fn draft(
    State(s): State<WarRoom>,
    caller: Caller,
    Path(id): Path<String>,
    Body(body): Body<DraftBody>,
) -> ApiResult<impl IntoResponse> {
    let incident = load(&s, &id).await?;
    let member = caller.of(&s)?;
    require_role(&caller.member, member, &s.plan.war_room.announce.roles, "draft announcements")?;
    check_announcement(&s.plan, &body.status, &body.message, &body.components)?;
    let a = s
        .store
        .draft_announcement(NewAnnouncement {
            incident: Some(incident.id),
            status: body.status,
            message: body.message,
            components: body.components,
            author: caller.actor(),
        })
        .await?;
    Ok((StatusCode::CREATED, Json(a)))
}

async fn advance(
    s: &WarRoom,
    caller: &Caller,
    id: &str,
    from: AnnouncementState,
) -> ApiResult<Json<Value>> {
    let member = caller.of(s)?;
    let verb = if from == AnnouncementState::Draft { "approve" } else { "publish" };
    require_role(
        &caller.member,
        member,
        &s.plan.war_room.announce.roles,
        &format!("{verb} announcements"),
    )?;
    let n = parse_id(id, "announcement")?;
    let Some(current) = s.store.announcement(n).await? else {
        return Err(ApiError::NotFound(format!("no announcement {n}")));
    };
    if current.state != from {
        return Err(ApiError::Conflict(format!(
            "announcement {n} is {}; only a {} one can be {verb}d",
            current.state.as_str(),
            from.as_str()
        )));
    }
    // four eyes: what goes public is approved by someone other than its author
    if from == AnnouncementState::Draft && current.author == caller.member {
        return Err(ApiError::Forbidden(format!(
            "you wrote announcement {n}: another member with an announce role approves it"
        )));
    }
    match s.store.advance_announcement(n, from, &caller.member).await? {
        Some(a) => Ok(Json(serde_json::to_value(a).unwrap_or(Value::Null))),
        None => Err(ApiError::Conflict(format!("announcement {n} changed meanwhile; reload"))),
    }
}

async fn approve_announcement(
    State(s): State<WarRoom>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    advance(&s, &caller, &id, AnnouncementState::Draft).await
}

async fn publish_announcement(
    State(s): State<WarRoom>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    advance(&s, &caller, &id, AnnouncementState::Approved).await
}

#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(extend("example" = {"playbook": "contain", "reason": "the oracle price looks wrong"}))]
pub(crate) struct TriggerBody {
    /// A playbook of the plan.
    playbook: String,
    /// Why.
    reason: String,
    /// Severity of the incident (P1 when none).
    #[serde(default)]
    #[schemars(extend("enum" = ["P1", "P2", "P3", "P4"]))]
    severity: Option<String>,
}

async fn trigger(
    State(s): State<WarRoom>,
    caller: Caller,
    Body(body): Body<TriggerBody>,
) -> ApiResult<impl IntoResponse> {
    let member = caller.of(&s)?;
    let gate = s.plan.war_room.pause.clone();
    require_role(&caller.member, member, &gate.roles, "start a playbook by hand")?;
    let Some(playbook) = s.plan.playbooks.get(&body.playbook) else {
        let names: Vec<&str> = s.plan.playbooks.keys().map(String::as_str).collect();
        return Err(ApiError::Unprocessable(format!(
            "the plan has no playbook `{}` (it has: {})",
            body.playbook,
            names.join(", ")
        )));
    };
    if body.reason.trim().is_empty() || body.reason.len() > 2000 {
        return Err(ApiError::Unprocessable("`reason` must have 1 to 2000 characters".into()));
    }
    let severity = match body.severity.as_deref() {
        None => Severity::P1,
        Some(t) => t.parse::<Severity>().map_err(|_| {
            ApiError::Unprocessable(format!("`severity`: `{t}` is not P1, P2, P3 or P4"))
        })?,
    };
    let chain = chain_of(&s.plan, &body.playbook, playbook)
        .ok_or_else(|| ApiError::Unprocessable("the plan has no chain for this playbook".into()))?;
    let id = s
        .store
        .open_manual(ManualIncident {
            protocol: s.plan.protocol.name.clone(),
            playbook: body.playbook.clone(),
            chain_id: chain,
            severity,
            title: format!("{} started by hand: {}", body.playbook, body.reason.trim()),
            plan_hash: s.plan.hash,
            drill: s.plan.mode == firebreak_plan::PlanMode::Drill,
            by: caller.actor(),
            reason: body.reason.trim().to_owned(),
            now_ms: firebreak_primitives::now_ms(),
        })
        .await?;
    let gate_open = gate.counts(member);
    if gate_open {
        s.store.decide(id, TRIGGER_STEP, &caller.member, true).await?;
    }
    s.wake(id);
    Ok((
        StatusCode::CREATED,
        Json(json!({
            "incident": id,
            "playbook": body.playbook,
            "quorum": gate.quorum,
            "approvals": usize::from(gate_open),
            "next": format!("{} more approval(s) of step `{TRIGGER_STEP}` start the playbook", (gate.quorum as usize).saturating_sub(usize::from(gate_open))),
        })),
    ))
}

/// The chain a playbook acts on: its contracts', else its monitors', else the plan's first.
fn chain_of(plan: &Plan, name: &str, playbook: &firebreak_plan::Playbook) -> Option<u64> {
    let from_contract = playbook.steps.iter().find_map(|st| match &st.action {
        StepAction::Pause { contracts, .. } => {
            contracts.first().and_then(|c| plan.contracts.get(c))
        }
        StepAction::Call { contract, .. } => plan.contracts.get(contract),
        _ => None,
    });
    let key = from_contract
        .map(|c| c.chain.clone())
        .or_else(|| {
            plan.monitors
                .values()
                .find(|m| m.playbook.as_deref() == Some(name))
                .map(|m| m.chain.clone())
        })
        .or_else(|| plan.chains.keys().next().cloned())?;
    plan.chains.get(&key).map(|c| c.id)
}
