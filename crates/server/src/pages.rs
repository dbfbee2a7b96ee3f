//! The dashboard: login, the incident list with the readiness panel and
//! "pause now", and the incident page (live record, SVG timeline, approval
//! buttons, Safe signature form, announcements, unpause).

use std::fmt::Write as _;

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
use serde::Deserialize;

use crate::{
    api::{ANNOUNCE_STATUSES, gate_of, is_manual, load, unpause_contracts},
    auth::{self, COOKIE, Caller, cookie, hash_token, identify},
    error::{ApiError, ApiResult},
    html::{action_button, badge, esc, page, time},
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
struct Viewer(Caller);

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
    let body = format!(
        "<h1>Sign in</h1><p>Paste your API token. An operator creates one with <code>firebreak token create --member NAME</code>; it is shown once.</p>{}<form method=\"post\" action=\"/login\"><input type=\"hidden\" name=\"next\" value=\"{}\"><p><input id=\"token\" name=\"token\" type=\"password\" size=\"72\" autocomplete=\"off\" placeholder=\"fbk_…\" required></p><p><button id=\"login\">Sign in</button></p></form>",
        if message.is_empty() {
            String::new()
        } else {
            format!("<p id=\"login-error\" style=\"color:#c92a2a\">{}</p>", esc(message))
        },
        esc(next)
    );
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
    if let Err(e) = auth::login_allowed(&s, ip) {
        let mut r = login_page(StatusCode::TOO_MANY_REQUESTS, &next, &e.to_string());
        if let ApiError::TooMany(secs) = e
            && let Ok(v) = secs.to_string().parse()
        {
            r.headers_mut().insert(header::RETRY_AFTER, v);
        }
        return r;
    }
    let found = match s.store.token_by_hash(&hash_token(form.token.trim())).await {
        Ok(f) => f,
        Err(e) => return ApiError::Store(e).into_response(),
    };
    let Some(token) = found.filter(|t| s.plan.team.contains_key(&t.member)) else {
        auth::login_failed(&s, ip);
        tracing::warn!(client = ?ip, "failed dashboard login");
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

fn explorer(plan: &Plan, chain_id: u64, kind: &str, value: &str) -> String {
    let chain = plan.chains.values().find(|c| c.id == chain_id);
    let template = chain.and_then(|c| c.explorer.as_ref()).map(|e| match kind {
        "tx" => e.tx.replace("{hash}", value),
        _ => e.address.replace("{address}", value),
    });
    match template {
        Some(url) if url.starts_with("http") => {
            format!("<a href=\"{}\" rel=\"noreferrer\"><code>{}</code></a>", esc(&url), esc(value))
        }
        _ => format!("<code>{}</code>", esc(value)),
    }
}

async fn index(State(s): State<WarRoom>, Viewer(me): Viewer) -> ApiResult<Html<String>> {
    let incidents = s.store.incidents(&IncidentFilter::default()).await?;
    let mut rows = String::new();
    for i in &incidents {
        let _ = write!(
            rows,
            "<tr><td><a href=\"/incidents/{id}\" class=\"incident-link\">{id}</a></td><td>{}</td><td>{}</td><td>{}</td><td>{}{}</td><td>{}</td></tr>",
            esc(i.severity.as_str()),
            badge(i.status.as_str()),
            i.alert_count,
            esc(&i.title),
            if i.drill { " <span class=\"badge drill\">DRILL</span>" } else { "" },
            time(i.opened_ms),
            id = i.id
        );
    }
    if incidents.is_empty() {
        rows.push_str("<tr><td colspan=\"6\">no incident yet</td></tr>");
    }
    let readiness = readiness_panel(&s).await?;
    let drill = last_drill(&s);
    let gate = &s.plan.war_room.pause;
    let options: String =
        s.plan.playbooks.keys().map(|p| format!("<option>{}</option>", esc(p))).collect();
    let banner = not_ready_banner(&s);
    let body = format!(
        "{banner}<section><h1>Incidents</h1><table id=\"incidents\"><tr><th>id</th><th>severity</th><th>status</th><th>alerts</th><th>title</th><th>opened</th></tr>{rows}</table></section>\
         <section><h2>Readiness</h2>{readiness}</section>\
         <section><h2>Drill results</h2>{}</section>\
         <section><h2>Pause now</h2><p>Starts a playbook by hand. It runs once {} member(s) holding {} approve (you count as the first if you hold the role).</p>\
         <form data-api=\"/api/v1/triggers\" data-reload><select name=\"playbook\" id=\"trigger-playbook\">{options}</select> <input name=\"reason\" id=\"trigger-reason\" size=\"50\" placeholder=\"why\" required> <button id=\"trigger\">Start playbook</button></form></section>",
        drill,
        gate.quorum,
        roles_text(&gate.roles),
    );
    Ok(Html(page("firebreak — incidents", Some(&me.member), me.csrf(), &body)))
}

/// A red banner while the daemon is not ready (a P1 pause path cannot
/// sign, a chain is seen through no endpoint).
fn not_ready_banner(s: &WarRoom) -> String {
    let blocking = s.readiness.blocking();
    if blocking.is_empty() {
        return String::new();
    }
    let items: String = blocking.iter().map(|b| format!("<li>{}</li>", esc(b))).collect();
    format!(
        "<section id=\"not-ready\" class=\"banner-danger\"><h2>NOT READY — firebreak cannot do everything the plan promises</h2><ul>{items}</ul></section>"
    )
}

/// The last drill of this plan, as `firebreak drill` recorded it.
fn last_drill(s: &WarRoom) -> String {
    let none = "<p id=\"drill\" class=\"muted\">no drill of this plan yet — run <code>firebreak drill PLAN --scenario FILE</code> on a fork</p>";
    let Some(path) = &s.drill_record else { return none.into() };
    let Ok(text) = std::fs::read_to_string(path) else { return none.into() };
    let Ok(d) = serde_json::from_str::<serde_json::Value>(&text) else {
        return format!(
            "<p id=\"drill\">the drill record {} is unreadable</p>",
            esc(&path.display().to_string())
        );
    };
    let passed = d["passed"].as_bool().unwrap_or(false);
    format!(
        "<p id=\"drill\">{} scenario <code>{}</code>, {} — exploit block {}, pause block {}{}{}</p>{}",
        badge(if passed { "passed" } else { "failed" }),
        esc(d["scenario"].as_str().unwrap_or("?")),
        time(d["at_ms"].as_u64().unwrap_or(0)),
        d["exploit_block"],
        d["pause_block"].as_u64().map_or("—".into(), |b| b.to_string()),
        d["exploit_to_pause_ms"].as_u64().map(|ms| format!(" ({ms} ms)")).unwrap_or_default(),
        d["reason"].as_str().map(|r| format!(": {}", esc(r))).unwrap_or_default(),
        d["report_html"]
            .as_str()
            .map(|p| format!("<p class=\"muted\">report: <code>{}</code></p>", esc(p)))
            .unwrap_or_default(),
    )
}

fn roles_text(roles: &[firebreak_primitives::Role]) -> String {
    roles.iter().map(|r| r.as_str()).collect::<Vec<_>>().join(" or ")
}

async fn readiness_panel(s: &WarRoom) -> ApiResult<String> {
    let mut items = Vec::new();
    let blocking = s.readiness.blocking();
    for f in &blocking {
        items.push(format!("<li class=\"blocking\">✖ {}</li>", esc(f)));
    }
    let findings = s.readiness.warnings();
    for f in &findings {
        items.push(format!("<li>⚠ {}</li>", esc(f)));
    }
    let tokens = s.store.tokens().await?;
    let without: Vec<&str> = s
        .plan
        .team
        .keys()
        .filter(|m| !tokens.iter().any(|t| &t.member == *m && t.revoked_ms.is_none()))
        .map(String::as_str)
        .collect();
    if !without.is_empty() {
        items.push(format!(
            "<li>⚠ no API token for {} — they cannot act here (<code>firebreak token create --member NAME</code>)</li>",
            esc(&without.join(", "))
        ));
    }
    let staff = s.plan.team.values().filter(|m| s.plan.war_room.pause.counts(m)).count();
    items.push(format!(
        "<li>pause quorum {} of {} eligible · unpause quorum {} · {} Safe(s) · {} contract(s) with a pause path</li>",
        s.plan.war_room.pause.quorum,
        staff,
        s.plan.war_room.unpause.quorum,
        s.plan.safes.len(),
        s.plan.contracts.values().filter(|c| c.pause.is_some()).count(),
    ));
    if findings.is_empty() && blocking.is_empty() {
        items.push("<li>✔ the daemon reports no readiness problem</li>".into());
    }
    Ok(format!("<ul id=\"readiness\">{}</ul>", items.join("")))
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
    let mut forms = String::new();
    if incident.status.is_open() && !acknowledged {
        forms.push_str(&format!(
            "<section>{}</section>",
            action_button(&format!("/api/v1/incidents/{iid}/acknowledge"), "Acknowledge", "ack")
        ));
    }
    // Safe signature forms for transactions waiting for owners
    for a in s.store.actions(iid).await? {
        if a.kind != ActionKind::Safe || a.status.is_final() {
            continue;
        }
        let Some(hash) = a.safe_tx_hash else { continue };
        let tx = a.safe_tx.clone().unwrap_or_default();
        let field = |k: &str| esc(tx[k].to_string().trim_matches('"'));
        let _ = write!(
            forms,
            "<section id=\"sign\"><h2>Sign the Safe transaction</h2><p>Compare this hash with the one your hardware wallet shows before you sign. Sign it with the owner's key (EIP-712 <code>SafeTx</code>).</p>\
             <p class=\"hash\" id=\"safe-tx-hash\">{hash}</p>\
             <table><tr><th>Safe</th><td>{}</td></tr><tr><th>chain id</th><td>{}</td></tr><tr><th>to</th><td><code>{}</code></td></tr><tr><th>value</th><td>{}</td></tr><tr><th>data</th><td><code>{}</code></td></tr><tr><th>operation</th><td>{}</td></tr><tr><th>nonce</th><td>{}</td></tr></table>\
             <form data-api=\"/api/v1/incidents/{iid}/signatures\" data-done=\"signature accepted\"><input type=\"hidden\" name=\"action\" value=\"{}\"><input name=\"signature\" id=\"signature\" size=\"100\" placeholder=\"0x… (65 bytes)\" required> <button id=\"sign-submit\">Add signature</button></form></section>",
            explorer(&s.plan, a.chain_id, "address", &a.to.to_string()),
            a.chain_id,
            field("to"),
            field("value"),
            field("data"),
            field("operation"),
            field("nonce"),
            esc(&a.key.to_string()),
        );
    }
    if incident.status.is_open() {
        let components: String = s
            .plan
            .status_page
            .iter()
            .flat_map(|p| p.components.iter())
            .map(|c| {
                format!(
                    "<label><input type=\"checkbox\" name=\"components\" value=\"{}\"> {}</label> ",
                    esc(&c.id),
                    esc(&c.name)
                )
            })
            .collect();
        let statuses: String =
            ANNOUNCE_STATUSES.iter().map(|st| format!("<option>{st}</option>")).collect();
        let _ = write!(
            forms,
            "<section><h2>Draft an announcement</h2><form data-api=\"/api/v1/incidents/{iid}/announcements\" data-done=\"draft saved\"><p><select name=\"status\" id=\"announce-status\">{statuses}</select> {components}</p><p><textarea name=\"message\" id=\"announce-message\" placeholder=\"What the community should know\" required></textarea></p><button id=\"announce-draft\">Save draft</button></form></section>"
        );
        let unpausable: Vec<&String> =
            s.plan.contracts.iter().filter(|(_, c)| c.unpause.is_some()).map(|(k, _)| k).collect();
        if !unpausable.is_empty() {
            let boxes: String = unpausable
                .iter()
                .map(|c| format!("<label><input type=\"checkbox\" name=\"contracts\" value=\"{0}\"> {0}</label> ", esc(c)))
                .collect();
            let g = &s.plan.war_room.unpause;
            let _ = write!(
                forms,
                "<section><h2>Unpause</h2><p>Needs {} approvals from {} — more than pausing.</p><form data-api=\"/api/v1/incidents/{iid}/unpause\" data-done=\"unpause approval recorded\">{boxes}<input name=\"reason\" placeholder=\"why it is safe\" size=\"40\"> <button id=\"unpause\">Request / approve unpause</button></form></section>",
                g.quorum,
                roles_text(&g.roles)
            );
        }
    }
    let body = format!(
        "<h1 id=\"title\">Incident {iid}: {}</h1><p>{} · chain {} · playbook <code>{}</code> · opened {}{}</p>{forms}<div id=\"live\" data-src=\"/incidents/{iid}/live\">{live}</div>",
        esc(&incident.title),
        esc(incident.severity.as_str()),
        incident.chain_id,
        esc(&incident.playbook),
        time(incident.opened_ms),
        if incident.drill { " <span class=\"badge drill\">DRILL</span>" } else { "" },
    );
    Ok(Html(page(&format!("incident {iid}"), Some(&me.member), me.csrf(), &body)))
}

async fn live(
    State(s): State<WarRoom>,
    Viewer(_me): Viewer,
    Path(id): Path<String>,
) -> ApiResult<Html<String>> {
    let incident = load(&s, &id).await?;
    let timeline = s.store.timeline(incident.id).await?;
    Ok(Html(live_html(&s, &incident, &timeline).await?))
}

/// The part of the incident page that refreshes itself.
async fn live_html(
    s: &WarRoom,
    incident: &Incident,
    timeline: &[firebreak_store::TimelineEntry],
) -> ApiResult<String> {
    let iid = incident.id;
    let store: &dyn IncidentStore = &*s.store;
    let is_manual = is_manual(timeline);
    let approvals = store.approvals(iid).await?;
    let mut out = format!(
        "<section><h2>Status: <span id=\"status\">{}</span></h2>{}</section>",
        esc(incident.status.as_str()),
        firebreak_report::timeline_svg(iid, timeline)
    );
    // steps with their gates and buttons
    let mut rows = String::new();
    for st in store.steps(iid).await? {
        let gate = gate_of(&s.plan, incident, &st.step_id, is_manual);
        let mut cell = String::new();
        if let Some(g) = &gate {
            let yes: Vec<&str> = approvals
                .iter()
                .filter(|d| d.step_id == st.step_id && d.approve)
                .filter(|d| s.plan.team.get(&d.member).is_some_and(|m| g.counts(m)))
                .map(|d| d.member.as_str())
                .collect();
            let _ = write!(
                cell,
                "{} of {} ({}){}",
                yes.len(),
                g.quorum,
                roles_text(&g.roles),
                if yes.is_empty() { String::new() } else { format!(": {}", esc(&yes.join(", "))) }
            );
            if incident.status.is_open()
                && matches!(st.status, StepStatus::AwaitingApproval | StepStatus::Pending)
            {
                let base = format!("/api/v1/incidents/{iid}/steps/{}", st.step_id);
                let _ = write!(
                    cell,
                    " {} {}",
                    action_button(
                        &format!("{base}/approve"),
                        "Approve",
                        &format!("approve-{}", st.step_id)
                    ),
                    action_button(
                        &format!("{base}/reject"),
                        "Reject",
                        &format!("reject-{}", st.step_id)
                    ),
                );
            }
        }
        let _ = write!(
            rows,
            "<tr id=\"step-{id}\"><td><code>{id}</code></td><td>{}</td><td>{}</td><td>{cell}</td></tr>",
            badge(st.status.as_str()),
            esc(st.detail.as_deref().unwrap_or("")),
            id = esc(&st.step_id),
        );
    }
    let _ = write!(
        out,
        "<section><h2>Steps</h2><table id=\"steps\"><tr><th>step</th><th>state</th><th>detail</th><th>approvals</th></tr>{rows}</table></section>"
    );
    // on-chain actions
    let mut rows = String::new();
    for a in store.actions(iid).await? {
        let txs: Vec<String> = a
            .attempts
            .iter()
            .map(|t| explorer(&s.plan, a.chain_id, "tx", &t.hash.to_string()))
            .collect();
        let block = a.receipt.as_ref().and_then(|r| r["block_number"].as_u64());
        let _ = write!(
            rows,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            esc(&a.step_id),
            esc(&format!("{:?}", a.kind).to_lowercase()),
            badge(
                &serde_json::to_value(a.status)
                    .ok()
                    .and_then(|v| v.as_str().map(str::to_owned))
                    .unwrap_or_default()
            ),
            txs.join("<br>"),
            block.map(|b| format!("block {b}")).unwrap_or_default(),
        );
    }
    if !rows.is_empty() {
        let _ = write!(
            out,
            "<section><h2>On-chain actions</h2><table id=\"actions\"><tr><th>step</th><th>path</th><th>state</th><th>transactions</th><th>mined</th></tr>{rows}</table></section>"
        );
    }
    // evidence
    let alerts = store.incident_alerts(iid).await?;
    if !alerts.is_empty() {
        let mut rows = String::new();
        for al in &alerts {
            let _ = write!(
                rows,
                "<tr><td>{}</td><td><code>{}</code></td><td>{}</td><td>{}</td></tr>",
                al.severity,
                esc(&al.monitor),
                al.block_number,
                al.tx_hash
                    .map(|h| explorer(&s.plan, al.chain_id, "tx", &h.to_string()))
                    .unwrap_or_default(),
            );
        }
        let _ = write!(
            out,
            "<section><h2>Evidence</h2><table id=\"evidence\"><tr><th>severity</th><th>monitor</th><th>block</th><th>transaction</th></tr>{rows}</table></section>"
        );
    }
    // announcements
    let ws: &dyn WarRoomStore = &*s.store;
    let list = ws.announcements(Some(iid), false).await?;
    if !list.is_empty() {
        let mut rows = String::new();
        for a in &list {
            let button = match a.state {
                AnnouncementState::Draft => action_button(
                    &format!("/api/v1/announcements/{}/approve", a.id),
                    "Approve",
                    &format!("announcement-approve-{}", a.id),
                ),
                AnnouncementState::Approved => action_button(
                    &format!("/api/v1/announcements/{}/publish", a.id),
                    "Publish",
                    &format!("announcement-publish-{}", a.id),
                ),
                AnnouncementState::Published => String::new(),
            };
            let _ = write!(
                rows,
                "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{button}</td></tr>",
                a.id,
                badge(a.state.as_str()),
                esc(&a.status),
                esc(&a.message),
                esc(&a.author),
            );
        }
        let _ = write!(
            out,
            "<section><h2>Announcements</h2><table id=\"announcements\"><tr><th>#</th><th>state</th><th>status</th><th>message</th><th>by</th><th></th></tr>{rows}</table></section>"
        );
    }
    if let Some(contracts) = unpause_contracts(timeline) {
        let _ = write!(
            out,
            "<p>Unpause requested for {} (step <code>{UNPAUSE_STEP}</code>).</p>",
            esc(&contracts.join(", "))
        );
    }
    if is_manual {
        let _ = write!(
            out,
            "<p class=\"muted\">Started by hand: the playbook waits for step <code>{TRIGGER_STEP}</code>.</p>"
        );
    }
    // the record itself
    let verified = firebreak_store::verify_incident(incident, timeline).is_ok();
    let mut rows = String::new();
    for e in timeline.iter().rev() {
        let _ = write!(
            rows,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td><code>{}</code></td><td>{}</td></tr>",
            e.seq,
            esc(&e.at),
            esc(&e.actor.to_string()),
            esc(e.kind()),
            esc(&firebreak_store::timeline::describe(e)),
        );
    }
    let _ = write!(
        out,
        "<section><h2>Timeline</h2><p>{}</p><table id=\"timeline\"><tr><th>#</th><th>at</th><th>who</th><th>what</th><th>detail</th></tr>{rows}</table></section>",
        if verified {
            "✔ hash chain verified"
        } else {
            "✘ HASH CHAIN BROKEN — the record was altered"
        }
    );
    Ok(out)
}
