//! The dashboard: login, the incident list with the readiness panel and
//! "pause now", and the incident page (live record, SVG timeline, approval
//! buttons, Safe signature form, announcements, unpause).

use axum::{
    Form, Router,
    extract::{FromRequestParts, Path, Query, State},
    http::{HeaderMap, StatusCode, header, request::Parts},
    response::{Html, IntoResponse, Redirect, Response},
    routing::get,
};
use firebreak_plan::Plan;
use firebreak_primitives::{Event, StepStatus, TRIGGER_STEP, UNPAUSE_STEP};
use firebreak_store::{
    ActionKind, AnnouncementState, Incident, IncidentFilter, IncidentStore, Session, WarRoomStore,
};
use maud::{Markup, PreEscaped, html};
use serde::Deserialize;

use crate::{
    api::{ANNOUNCE_STATUSES, gate_of, is_manual, load, unpause_contracts},
    auth::{self, COOKIE, Caller, cookie, hash_token, identify},
    error::{ApiError, ApiResult},
    html::{action_button, badge, drill_badge, page, time},
    state::WarRoom,
};

pub(crate) fn routes() -> Router<WarRoom> {
    Router::new()
        .route("/", get(index))
        .route("/login", get(login_form).post(login))
        .route("/logout", axum::routing::post(logout))
        .route("/incidents/{id}", get(incident_page))
        .route("/incidents/{id}/live", get(live))
        .route(
            "/assets/war-room.css",
            get(|| async {
                ([(header::CONTENT_TYPE, "text/css; charset=utf-8")], crate::html::STYLE)
            }),
        )
        .route(
            "/assets/war-room.js",
            get(|| async {
                ([(header::CONTENT_TYPE, "text/javascript; charset=utf-8")], crate::html::SCRIPT)
            }),
        )
}

/// A dashboard visitor with a session; others are sent to the login page.
pub(crate) struct Viewer(pub(crate) Caller);

impl FromRequestParts<WarRoom> for Viewer {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &WarRoom) -> Result<Self, Response> {
        match identify(state, parts).await {
            Ok(Some(c)) if state.plan.team.contains_key(&c.member) => Ok(Self(c)),
            Ok(_) | Err(ApiError::Unauthorized(_)) => {
                let next = parts.uri.path().to_owned();
                Err(Redirect::to(&format!("/login?next={}", urlencode(&next))).into_response())
            }
            Err(e) => Err(e.into_response()),
        }
    }
}

fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'/' | b'-' | b'_' | b'.' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// Only local paths are followed after login (no open redirect).
fn safe_next(next: Option<&str>) -> String {
    let plain = |c: char| c.is_ascii_alphanumeric() || "/_.-?=&%".contains(c);
    match next {
        Some(n) if n.starts_with('/') && !n.starts_with("//") && n.chars().all(plain) => {
            n.to_owned()
        }
        _ => "/".to_owned(),
    }
}

#[derive(Debug, Deserialize)]
struct NextQuery {
    next: Option<String>,
}

fn login_page(status: StatusCode, next: &str, message: &str) -> Response {
    let body = html! {
        h1 { "Sign in" }
        p {
            "Paste your API token. An operator creates one with "
            code { "firebreak token create --member NAME" } "; it is shown once."
        }
        @if !message.is_empty() {
            p #login-error style="color:#c92a2a" { (message) }
        }
        form method="post" action="/login" {
            input type="hidden" name="next" value=(next);
            p { input #token name="token" type="password" size="72" autocomplete="off" placeholder="fbk_…" required; }
            p { button #login { "Sign in" } }
        }
    };
    (status, Html(page("firebreak — sign in", None, "", &body))).into_response()
}

async fn login_form(Query(q): Query<NextQuery>) -> Response {
    login_page(StatusCode::OK, &safe_next(q.next.as_deref()), "")
}

#[derive(Debug, Deserialize)]
struct LoginForm {
    token: String,
    next: Option<String>,
}

async fn login(State(s): State<WarRoom>, parts: Parts, Form(form): Form<LoginForm>) -> Response {
    let ip = auth::client(&s, &parts);
    let next = safe_next(form.next.as_deref());
    let limited = |e: ApiError| {
        let mut r = login_page(StatusCode::TOO_MANY_REQUESTS, &next, &e.to_string());
        if let ApiError::TooMany(secs) = e
            && let Ok(v) = secs.to_string().parse()
        {
            r.headers_mut().insert(header::RETRY_AFTER, v);
        }
        r
    };
    if let Err(e) = auth::login_allowed(&s, ip) {
        return limited(e);
    }
    let found = match s.store.token_by_hash(&hash_token(form.token.trim())).await {
        Ok(f) => f,
        Err(e) => return ApiError::Store(e).into_response(),
    };
    let Some(token) = found.filter(|t| s.plan.team.contains_key(&t.member)) else {
        tracing::warn!(client = ?ip, "failed dashboard login");
        if let Err(e) = auth::login_failed(&s, ip) {
            return limited(e);
        }
        return login_page(StatusCode::UNAUTHORIZED, &next, "unknown or revoked token");
    };
    let value = auth::random_hex();
    let session = Session {
        token_id: token.id,
        member: token.member.clone(),
        csrf: auth::random_hex(),
        expires_ms: firebreak_primitives::now_ms() + auth::SESSION_MS,
    };
    if let Err(e) = s.store.create_session(&hash_token(&value), &session).await {
        return ApiError::Store(e).into_response();
    }
    tracing::info!(member = %token.member, "dashboard login");
    let mut r = Redirect::to(&next).into_response();
    if let Ok(v) = auth::session_cookie(&value, s.secure_cookies).parse() {
        r.headers_mut().insert(header::SET_COOKIE, v);
    }
    r
}

#[derive(Debug, Deserialize)]
struct LogoutForm {
    csrf: Option<String>,
}

async fn logout(
    State(s): State<WarRoom>,
    headers: HeaderMap,
    Form(f): Form<LogoutForm>,
) -> Response {
    if let Some(id) = cookie(&headers, COOKIE) {
        let hash = hash_token(id);
        let session = s.store.session(&hash, firebreak_primitives::now_ms()).await.ok().flatten();
        let Some(session) = session else { return Redirect::to("/login").into_response() };
        if !f.csrf.as_deref().is_some_and(|c| auth::constant_eq(c, &session.csrf)) {
            return ApiError::Forbidden("missing or wrong CSRF token; reload the page".into())
                .into_response();
        }
        if let Err(e) = s.store.end_session(&hash).await {
            return ApiError::Store(e).into_response();
        }
    }
    let mut r = Redirect::to("/login").into_response();
    if let Ok(v) = auth::clear_cookie(s.secure_cookies).parse() {
        r.headers_mut().insert(header::SET_COOKIE, v);
    }
    r
}

fn explorer(plan: &Plan, chain_id: u64, kind: &str, value: &str) -> Markup {
    let chain = plan.chains.values().find(|c| c.id == chain_id);
    let template = chain.and_then(|c| c.explorer.as_ref()).map(|e| match kind {
        "tx" => e.tx.replace("{hash}", value),
        _ => e.address.replace("{address}", value),
    });
    html! {
        @match template {
            Some(url) if url.starts_with("http") => a href=(url) rel="noreferrer" { code { (value) } },
            _ => code { (value) },
        }
    }
}

async fn index(State(s): State<WarRoom>, Viewer(me): Viewer) -> ApiResult<Html<String>> {
    let incidents = s.store.incidents(&IncidentFilter::default()).await?;
    let readiness = readiness_panel(&s).await?;
    let gate = &s.plan.war_room.pause;
    let body = html! {
        (not_ready_banner(&s))
        section {
            h1 { "Incidents" }
            table #incidents {
                tr { th { "id" } th { "severity" } th { "status" } th { "alerts" } th { "title" } th { "opened" } }
                @for i in &incidents {
                    tr {
                        td { a.incident-link href={ "/incidents/" (i.id) } { (i.id) } }
                        td { (i.severity.as_str()) }
                        td { (badge(i.status.as_str())) }
                        td { (i.alert_count) }
                        td { (i.title) @if i.drill { (drill_badge()) } }
                        td { (time(i.opened_ms)) }
                    }
                }
                @if incidents.is_empty() {
                    tr { td colspan="6" { "no incident yet" } }
                }
            }
        }
        section { h2 { "Readiness" } (readiness) }
        section { h2 { "Drill results" } (last_drill(&s)) }
        section {
            h2 { "Pause now" }
            p {
                "Starts a playbook by hand. It runs once " (gate.quorum) " member(s) holding "
                (roles_text(&gate.roles)) " approve (you count as the first if you hold the role)."
            }
            form data-api="/api/v1/triggers" data-reload {
                select name="playbook" #trigger-playbook {
                    @for p in s.plan.playbooks.keys() { option { (p) } }
                }
                " "
                input name="reason" #trigger-reason size="50" placeholder="why" required;
                " "
                button #trigger { "Start playbook" }
            }
        }
    };
    Ok(Html(page("firebreak — incidents", Some(&me.member), me.csrf(), &body)))
}

/// A red banner while the daemon is not ready (a P1 pause path cannot
/// sign, a chain is seen through no endpoint).
fn not_ready_banner(s: &WarRoom) -> Markup {
    let blocking = s.readiness.blocking();
    html! {
        @if !blocking.is_empty() {
            section #not-ready.banner-danger {
                h2 { "NOT READY — firebreak cannot do everything the plan promises" }
                ul { @for b in &blocking { li { (b) } } }
            }
        }
    }
}

/// The last drill of this plan, as `firebreak drill` recorded it.
fn last_drill(s: &WarRoom) -> Markup {
    let none = html! {
        p #drill.muted {
            "no drill of this plan yet — run " code { "firebreak drill PLAN --scenario FILE" } " on a fork"
        }
    };
    let Some(path) = &s.drill_record else { return none };
    let Ok(text) = std::fs::read_to_string(path) else { return none };
    let Ok(d) = serde_json::from_str::<serde_json::Value>(&text) else {
        return html! { p #drill { "the drill record " (path.display()) " is unreadable" } };
    };
    let passed = d["passed"].as_bool().unwrap_or(false);
    html! {
        p #drill {
            (badge(if passed { "passed" } else { "failed" }))
            " scenario " code { (d["scenario"].as_str().unwrap_or("?")) } ", "
            (time(d["at_ms"].as_u64().unwrap_or(0)))
            " — exploit block " (d["exploit_block"])
            ", pause block " (d["pause_block"].as_u64().map_or("—".into(), |b| b.to_string()))
            @if let Some(ms) = d["exploit_to_pause_ms"].as_u64() { " (" (ms) " ms)" }
            @if let Some(r) = d["reason"].as_str() { ": " (r) }
        }
        @if let Some(p) = d["report_html"].as_str() {
            p.muted { "report: " code { (p) } }
        }
    }
}

fn roles_text(roles: &[firebreak_primitives::Role]) -> String {
    roles.iter().map(|r| r.as_str()).collect::<Vec<_>>().join(" or ")
}

async fn readiness_panel(s: &WarRoom) -> ApiResult<Markup> {
    let blocking = s.readiness.blocking();
    let findings = s.readiness.warnings();
    let tokens = s.store.tokens().await?;
    let without: Vec<&str> = s
        .plan
        .team
        .keys()
        .filter(|m| !tokens.iter().any(|t| &t.member == *m && t.revoked_ms.is_none()))
        .map(String::as_str)
        .collect();
    let staff = s.plan.team.values().filter(|m| s.plan.war_room.pause.counts(m)).count();
    Ok(html! {
        ul #readiness {
            @for f in &blocking { li.blocking { "✖ " (f) } }
            @for f in &findings { li { "⚠ " (f) } }
            @if !without.is_empty() {
                li {
                    "⚠ no API token for " (without.join(", ")) " — they cannot act here ("
                    code { "firebreak token create --member NAME" } ")"
                }
            }
            li {
                "pause quorum " (s.plan.war_room.pause.quorum) " of " (staff) " eligible · unpause quorum "
                (s.plan.war_room.unpause.quorum) " · " (s.plan.safes.len()) " Safe(s) · "
                (s.plan.contracts.values().filter(|c| c.pause.is_some()).count())
                " contract(s) with a pause path"
            }
            @if findings.is_empty() && blocking.is_empty() {
                li { "✔ the daemon reports no readiness problem" }
            }
        }
    })
}

async fn incident_page(
    State(s): State<WarRoom>,
    Viewer(me): Viewer,
    Path(id): Path<String>,
) -> ApiResult<Html<String>> {
    let incident = load(&s, &id).await?;
    let iid = incident.id;
    let timeline = s.store.timeline(iid).await?;
    let live = live_html(&s, &incident, &timeline).await?;
    let acknowledged = timeline.iter().any(|e| matches!(e.event, Event::Acknowledged(_)));
    // Safe transactions waiting for owners
    let waiting: Vec<_> = s
        .store
        .actions(iid)
        .await?
        .into_iter()
        .filter(|a| a.kind == ActionKind::Safe && !a.status.is_final())
        .filter_map(|a| a.safe_tx_hash.map(|h| (h, a)))
        .collect();
    let open = incident.status.is_open();
    let unpausable: Vec<&String> =
        s.plan.contracts.iter().filter(|(_, c)| c.unpause.is_some()).map(|(k, _)| k).collect();
    let body = html! {
        h1 #title { "Incident " (iid) ": " (incident.title) }
        p {
            (incident.severity.as_str()) " · chain " (incident.chain_id) " · playbook "
            code { (incident.playbook) } " · opened " (time(incident.opened_ms))
            @if incident.drill { (drill_badge()) }
        }
        @if open && !acknowledged {
            section { (action_button(&format!("/api/v1/incidents/{iid}/acknowledge"), "Acknowledge", "ack")) }
        }
        @if s.plan.safe_harbor.is_some() {
            p { a #recovery-link href={ "/incidents/" (iid) "/recovery" } { "Recovery: attackers, fund flow, messages, ledger →" } }
        }
        @for (hash, a) in &waiting {
            @let tx = a.safe_tx.clone().unwrap_or_default();
            @let field = |k: &str| tx[k].to_string().trim_matches('"').to_owned();
            section #sign {
                h2 { "Sign the Safe transaction" }
                p {
                    "Compare this hash with the one your hardware wallet shows before you sign. Sign it with the owner's key (EIP-712 "
                    code { "SafeTx" } ")."
                }
                p.hash #safe-tx-hash { (hash) }
                @let review = serde_json::from_value::<firebreak_safe::SafeTx>(tx.clone()).ok().map(|t| {
                    firebreak_safe::review(&t, a.chain_id, a.to, &|to, data| s.plan.describe_call(a.chain_id, to, data))
                });
                table {
                    tr { th { "Safe" } td { (explorer(&s.plan, a.chain_id, "address", &a.to.to_string())) } }
                    tr { th { "chain id" } td { (a.chain_id) } }
                    tr { th { "to" } td { code { (field("to")) } } }
                    tr { th { "value" } td { (field("value")) } }
                    tr { th { "data" } td { code { (field("data")) } } }
                    tr { th { "operation" } td { (field("operation")) } }
                    tr { th { "nonce" } td { (field("nonce")) } }
                    @if let Some(r) = &review {
                        @for (i, c) in r.calls.iter().enumerate() {
                            tr {
                                th { @if r.batch { "call " (i + 1) "/" (r.calls.len()) } @else { "call" } }
                                td {
                                    @if c.operation == firebreak_safe::Operation::DelegateCall {
                                        strong.delegatecall style="color:#c92a2a" { "DELEGATECALL " (c.to) }
                                    } @else { "CALL " code { (c.to) } }
                                    " " (c.decoded.clone().unwrap_or_else(|| "(not decoded)".to_owned()))
                                }
                            }
                        }
                        tr { th { "domain hash" } td { code #domain-hash { (r.domain_hash) } } }
                        tr { th { "message hash" } td { code #message-hash { (r.message_hash) } } }
                    }
                }
                form data-api={ "/api/v1/incidents/" (iid) "/signatures" } data-done="signature accepted" {
                    input type="hidden" name="action" value=(a.key);
                    input name="signature" #signature size="100" placeholder="0x… (65 bytes)" required;
                    " "
                    button #sign-submit { "Add signature" }
                }
            }
        }
        @if open {
            section {
                h2 { "Draft an announcement" }
                form data-api={ "/api/v1/incidents/" (iid) "/announcements" } data-done="draft saved" {
                    p {
                        select name="status" #announce-status {
                            @for st in ANNOUNCE_STATUSES { option { (st) } }
                        }
                        " "
                        @for c in s.plan.status_page.iter().flat_map(|p| p.components.iter()) {
                            label { input type="checkbox" name="components" value=(c.id); " " (c.name) } " "
                        }
                    }
                    p { textarea name="message" #announce-message placeholder="What the community should know" required {} }
                    button #announce-draft { "Save draft" }
                }
            }
            @if !unpausable.is_empty() {
                @let g = &s.plan.war_room.unpause;
                section {
                    h2 { "Unpause" }
                    p { "Needs " (g.quorum) " approvals from " (roles_text(&g.roles)) " — more than pausing." }
                    form data-api={ "/api/v1/incidents/" (iid) "/unpause" } data-done="unpause approval recorded" {
                        @for c in &unpausable {
                            label { input type="checkbox" name="contracts" value=(c); " " (c) } " "
                        }
                        input name="reason" placeholder="why it is safe" size="40";
                        " "
                        button #unpause { "Request / approve unpause" }
                    }
                }
            }
        }
        div #live data-src={ "/incidents/" (iid) "/live" } { (live) }
    };
    Ok(Html(page(&format!("incident {iid}"), Some(&me.member), me.csrf(), &body)))
}

async fn live(
    State(s): State<WarRoom>,
    Viewer(_me): Viewer,
    Path(id): Path<String>,
) -> ApiResult<Html<String>> {
    let incident = load(&s, &id).await?;
    let timeline = s.store.timeline(incident.id).await?;
    Ok(Html(live_html(&s, &incident, &timeline).await?.into_string()))
}

/// The part of the incident page that refreshes itself.
async fn live_html(
    s: &WarRoom,
    incident: &Incident,
    timeline: &[firebreak_store::TimelineEntry],
) -> ApiResult<Markup> {
    let iid = incident.id;
    let store: &dyn IncidentStore = &*s.store;
    let is_manual = is_manual(timeline);
    let approvals = store.approvals(iid).await?;
    let steps = store.steps(iid).await?;
    let actions = store.actions(iid).await?;
    let alerts = store.incident_alerts(iid).await?;
    let ws: &dyn WarRoomStore = &*s.store;
    let announcements = ws.announcements(Some(iid), false).await?;
    let verified = firebreak_store::verify_incident(incident, timeline).is_ok();
    let step_row = |st: &firebreak_store::StepState| {
        let gate = gate_of(&s.plan, incident, &st.step_id, is_manual);
        let id = &st.step_id;
        html! {
            tr id={ "step-" (id) } {
                td { code { (id) } }
                td { (badge(st.status.as_str())) }
                td { (st.detail.as_deref().unwrap_or("")) }
                td {
                    @if let Some(g) = &gate {
                        @let yes: Vec<&str> = approvals
                            .iter()
                            .filter(|d| d.step_id == st.step_id && d.approve)
                            .filter(|d| s.plan.team.get(&d.member).is_some_and(|m| g.counts(m)))
                            .map(|d| d.member.as_str())
                            .collect();
                        (yes.len()) " of " (g.quorum) " (" (roles_text(&g.roles)) ")"
                        @if !yes.is_empty() { ": " (yes.join(", ")) }
                        @if incident.status.is_open()
                            && matches!(st.status, StepStatus::AwaitingApproval | StepStatus::Pending) {
                            @let base = format!("/api/v1/incidents/{iid}/steps/{id}");
                            " " (action_button(&format!("{base}/approve"), "Approve", &format!("approve-{id}")))
                            " " (action_button(&format!("{base}/reject"), "Reject", &format!("reject-{id}")))
                        }
                    }
                }
            }
        }
    };
    Ok(html! {
        section {
            h2 { "Status: " span #status { (incident.status.as_str()) } }
            // the report crate's SVG: every value in it is escaped there
            (PreEscaped(firebreak_report::timeline_svg(iid, timeline)))
        }
        section {
            h2 { "Steps" }
            table #steps {
                tr { th { "step" } th { "state" } th { "detail" } th { "approvals" } }
                @for st in &steps { (step_row(st)) }
            }
        }
        @if !actions.is_empty() {
            section {
                h2 { "On-chain actions" }
                table #actions {
                    tr { th { "step" } th { "path" } th { "state" } th { "transactions" } th { "mined" } }
                    @for a in &actions {
                        tr {
                            td { (a.step_id) }
                            td { (format!("{:?}", a.kind).to_lowercase()) }
                            td { (badge(&serde_json::to_value(a.status).ok().and_then(|v| v.as_str().map(str::to_owned)).unwrap_or_default())) }
                            td {
                                @for (n, t) in a.attempts.iter().enumerate() {
                                    @if n > 0 { br; }
                                    (explorer(&s.plan, a.chain_id, "tx", &t.hash.to_string()))
                                }
                            }
                            td {
                                @if let Some(b) = a.receipt.as_ref().and_then(|r| r["block_number"].as_u64()) {
                                    "block " (b)
                                }
                            }
                        }
                    }
                }
            }
        }
        @if !alerts.is_empty() {
            section {
                h2 { "Evidence" }
                table #evidence {
                    tr { th { "severity" } th { "monitor" } th { "block" } th { "transaction" } }
                    @for al in &alerts {
                        tr {
                            td { (al.severity) }
                            td { code { (al.monitor) } }
                            td { (al.block_number) }
                            td { @if let Some(h) = al.tx_hash { (explorer(&s.plan, al.chain_id, "tx", &h.to_string())) } }
                        }
                    }
                }
            }
        }
        @if !announcements.is_empty() {
            section {
                h2 { "Announcements" }
                table #announcements {
                    tr { th { "#" } th { "state" } th { "status" } th { "message" } th { "by" } th {} }
                    @for a in &announcements {
                        tr {
                            td { (a.id) }
                            td { (badge(a.state.as_str())) }
                            td { (a.status) }
                            td { (a.message) }
                            td { (a.author) }
                            td {
                                @match a.state {
                                    AnnouncementState::Draft => (action_button(
                                        &format!("/api/v1/announcements/{}/approve", a.id),
                                        "Approve",
                                        &format!("announcement-approve-{}", a.id),
                                    )),
                                    AnnouncementState::Approved => (action_button(
                                        &format!("/api/v1/announcements/{}/publish", a.id),
                                        "Publish",
                                        &format!("announcement-publish-{}", a.id),
                                    )),
                                    AnnouncementState::Published => {},
                                }
                            }
                        }
                    }
                }
            }
        }
        @if let Some(contracts) = unpause_contracts(timeline) {
            p { "Unpause requested for " (contracts.join(", ")) " (step " code { (UNPAUSE_STEP) } ")." }
        }
        @if is_manual {
            p.muted { "Started by hand: the playbook waits for step " code { (TRIGGER_STEP) } "." }
        }
        section {
            h2 { "Timeline" }
            p { @if verified { "✔ hash chain verified" } @else { "✘ HASH CHAIN BROKEN — the record was altered" } }
            table #timeline {
                tr { th { "#" } th { "at" } th { "who" } th { "what" } th { "detail" } }
                @for e in timeline.iter().rev() {
                    tr {
                        td { (e.seq) }
                        td { (e.at) }
                        td { (e.actor) }
                        td { code { (e.kind()) } }
                        td { (firebreak_store::timeline::describe(e)) }
                    }
                }
            }
        }
    })
}
