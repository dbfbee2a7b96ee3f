//! A war room over an in-memory store, with a token per team member.

use std::{collections::BTreeMap, sync::Arc};

use axum::{
    Router,
    body::Body,
    http::{Request, StatusCode, header},
};
use firebreak_primitives::{Alert, ControlMsg, IncidentId};
use firebreak_store::prelude::*;
use firebreak_store::{Grouping, SqliteStore, WarRoomStore};
use http_body_util::BodyExt as _;
use serde_json::Value;
use tower::ServiceExt as _;

pub(crate) const VAULT: &str = "0x00000000000000000000000000000000000000a1";
pub(crate) const SAFE: &str = "0x00000000000000000000000000000000000000f5";

pub(crate) fn plan_text() -> String {
    let fixtures = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../devnet/fixtures");
    let dev = firebreak_plan::ANVIL_DEV_ADDRESSES;
    format!(
        r#"
version = 1
mode = "drill"
[protocol]
name = "Fixture"
[chains.local]
id = 31337
rpc = ["http://127.0.0.1:1"]
explorer = {{ tx = "https://explorer.invalid/tx/{{hash}}", address = "https://explorer.invalid/address/{{address}}" }}
[contracts.vault]
chain = "local"
address = "{VAULT}"
abi = {{ artifact = "{fx}/LendingVault.json" }}
pause = {{ method = "pause", via = [{{ signer = "guardian" }}] }}
unpause = {{ method = "unpause", via = [{{ signer = "guardian" }}] }}
[contracts.usdc]
chain = "local"
address = "0x00000000000000000000000000000000000000a2"
abi = {{ artifact = "{fx}/MockUSDC.json" }}
pausable = false
[signers.guardian]
anvil_account = 1
[signers.messenger]
anvil_account = 2
[safe_harbor]
bounty_percent = 10
bounty_cap_usd = 1_000_000
retainable = false
identity = "pseudonymous"
recovery = {{ local = "0x4000000000000000000000000000000000000004" }}
contacts = [{{ name = "Security", contact = "security@fixture.example" }}]
[recovery]
message_signer = "messenger"
[safes.emergency]
chain = "local"
address = "{SAFE}"
owners = ["{o3}", "{o4}", "{o5}"]
threshold = 2
[team.alice]
name = "Alice"
roles = ["commander"]
timezone = "UTC"
safe_owner = "{o3}"
[team.bob]
name = "Bob"
roles = ["operator"]
timezone = "UTC"
[team.carol]
name = "Carol"
roles = ["operator", "signer"]
timezone = "UTC"
[team.dan]
name = "Dan"
roles = ["comms", "liaison"]
timezone = "UTC"
[team.erin]
name = "Erin"
roles = ["scribe"]
timezone = "UTC"
[war_room]
pause = {{ quorum = 2, roles = ["commander", "operator"] }}
unpause = {{ quorum = 3, roles = ["commander", "operator"] }}
[playbooks.contain]
steps = [
  {{ id = "pause-1", kind = "pause", contracts = ["vault"], approval = {{ quorum = 2, roles = ["commander", "operator"] }} }},
  {{ id = "again", kind = "pause", contracts = ["vault"] }},
]
[status_page]
title = "Fixture status"
[[status_page.components]]
id = "vault"
name = "Lending vault"
[[status_page.components]]
id = "ui"
name = "Web app"
"#,
        fx = fixtures.display(),
        o3 = dev[3],
        o4 = dev[4],
        o5 = dev[5],
    )
}

pub(crate) fn plan() -> firebreak_plan::Plan {
    let text = plan_text();
    let checked = firebreak_plan::check_source(
        "plan.toml",
        &text,
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")),
        &firebreak_plan::CheckOptions::default(),
    );
    checked.plan.unwrap_or_else(|| panic!("invalid test plan:\n{}", checked.report.render()))
}

pub(crate) struct Room {
    pub(crate) app: Router,
    pub(crate) store: Arc<SqliteStore>,
    pub(crate) control: tokio::sync::mpsc::Receiver<ControlMsg>,
    pub(crate) tokens: BTreeMap<&'static str, String>,
}

pub(crate) async fn room_with(
    configure: impl FnOnce(firebreak_server::WarRoom) -> firebreak_server::WarRoom,
) -> Room {
    let plan = Arc::new(plan());
    let store = Arc::new(SqliteStore::in_memory().await.unwrap());
    let mut tokens = BTreeMap::new();
    for m in ["alice", "bob", "carol", "dan", "erin"] {
        let t = firebreak_server::new_token();
        store.create_token(m, "test", &firebreak_server::hash_token(&t)).await.unwrap();
        tokens.insert(m, t);
    }
    let alert = Alert {
        monitor: "price".into(),
        severity: firebreak_primitives::Severity::P1,
        playbook: Some("contain".into()),
        chain_id: 31337,
        block_number: 12,
        block_hash: Default::default(),
        tx_hash: Some(alloy_primitives::B256::repeat_byte(0xab)),
        log_index: None,
        evidence: Default::default(),
        probes: Default::default(),
        dedup_key: "a-1".into(),
        confirmations: 0,
    };
    let grouping = Grouping {
        protocol: "Fixture".into(),
        plan_hash: plan.hash,
        window_ms: 3_600_000,
        title: "price set to 10^30".into(),
        drill: true,
        now_ms: firebreak_primitives::now_ms(),
        on_open: Vec::new(),
    };
    let incident = store.record_alert(&alert, &grouping).await.unwrap().incident;
    store
        .set_step(
            incident,
            "pause-1",
            0,
            firebreak_primitives::StepStatus::AwaitingApproval,
            Some("needs 2".into()),
        )
        .await
        .unwrap();
    store
        .set_step(incident, "again", 1, firebreak_primitives::StepStatus::Pending, None)
        .await
        .unwrap();
    let (tx, control) = tokio::sync::mpsc::channel(64);
    let state = configure(firebreak_server::WarRoom::new(plan, store.clone(), tx));
    assert_eq!(incident, IncidentId(1));
    Room { app: firebreak_server::router(state), store, control, tokens }
}

pub(crate) async fn room() -> Room {
    room_with(|s| s).await
}

pub(crate) struct Reply {
    pub(crate) status: StatusCode,
    pub(crate) headers: axum::http::HeaderMap,
    pub(crate) text: String,
}

impl Reply {
    pub(crate) fn json(&self) -> Value {
        serde_json::from_str(&self.text).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.text))
    }

    pub(crate) fn error(&self) -> String {
        self.json()["error"].as_str().unwrap_or_default().to_owned()
    }
}

pub(crate) async fn send(app: &Router, req: Request<Body>) -> Reply {
    let res = app.clone().oneshot(req).await.unwrap();
    let status = res.status();
    let headers = res.headers().clone();
    let bytes = res.into_body().collect().await.unwrap().to_bytes();
    Reply { status, headers, text: String::from_utf8_lossy(&bytes).into_owned() }
}

impl Room {
    /// A request as `member` (a bearer token), with an optional JSON body.
    pub(crate) async fn call(
        &self,
        method: &str,
        uri: &str,
        member: Option<&str>,
        body: Option<Value>,
    ) -> Reply {
        let mut req = Request::builder().method(method).uri(uri);
        if let Some(m) = member {
            req = req.header(header::AUTHORIZATION, format!("Bearer {}", self.tokens[m]));
        }
        let body = match body {
            Some(v) => {
                req = req.header(header::CONTENT_TYPE, "application/json");
                Body::from(v.to_string())
            }
            None => Body::empty(),
        };
        send(&self.app, req.body(body).unwrap()).await
    }

    pub(crate) fn woken(&mut self) -> Vec<IncidentId> {
        let mut out = Vec::new();
        while let Ok(ControlMsg::Drive(id)) = self.control.try_recv() {
            out.push(id);
        }
        out
    }

    /// Signs in on the dashboard; returns the session cookie and its CSRF token.
    pub(crate) async fn login(&self, member: &str) -> (String, String) {
        let body = format!("token={}&next=%2F", self.tokens[member]);
        let req = Request::post("/login")
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(Body::from(body))
            .unwrap();
        let r = send(&self.app, req).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text);
        let set = r.headers[header::SET_COOKIE].to_str().unwrap().to_owned();
        let cookie = set.split(';').next().unwrap().to_owned();
        let page = send(
            &self.app,
            Request::get("/").header(header::COOKIE, &cookie).body(Body::empty()).unwrap(),
        )
        .await;
        assert_eq!(page.status, StatusCode::OK);
        let csrf = page
            .text
            .split("name=\"csrf\" content=\"")
            .nth(1)
            .unwrap()
            .split('"')
            .next()
            .unwrap()
            .to_owned();
        (cookie, csrf)
    }
}
