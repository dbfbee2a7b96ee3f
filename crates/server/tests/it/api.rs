//! `/api/v1`: every endpoint, its happy path and its 401/403/404/409/422.

use axum::http::StatusCode;
use firebreak_primitives::IncidentId;
use firebreak_store::{ActionKind, ActionRecord, ActionStatus, WarRoomStore};
use serde_json::json;

use crate::harness::{SAFE, VAULT, room};
use firebreak_store::prelude::*;

/// Fills `{id}` and `{step}` of a documented path.
fn concrete(path: &str) -> String {
    format!(
        "/api/v1{}",
        path.replace("{id}", "1")
            .replace("{step}", "pause-1")
            .replace("{address}", "0x7000000000000000000000000000000000000007")
            .replace("{draft}", "1")
            .replace(
                "{hash}",
                "0x1111111111111111111111111111111111111111111111111111111111111111"
            )
    )
}

#[tokio::test]
async fn every_documented_operation_is_routed_and_needs_a_token() {
    let r = room().await;
    let doc = r.call("GET", "/api/v1/openapi.json", None, None).await;
    assert_eq!(doc.status, StatusCode::OK);
    let doc = doc.json();
    assert_eq!(doc["openapi"], "3.0.3");
    let ops = firebreak_server::openapi_operations();
    assert!(ops.len() >= 20, "{ops:?}");
    for (method, path) in ops {
        assert!(
            doc["paths"][path][method].is_object(),
            "{method} {path} missing from the document"
        );
        if path == "/openapi.json" {
            continue;
        }
        let reply = r.call(&method.to_uppercase(), &concrete(path), None, Some(json!({}))).await;
        assert_eq!(reply.status, StatusCode::UNAUTHORIZED, "{method} {path}: {}", reply.text);
        assert!(reply.error().contains("Bearer"), "{}", reply.text);
    }
    // a made-up token and a malformed header are both 401, with a way out
    let mut req = axum::http::Request::get("/api/v1/incidents");
    req = req.header("authorization", "Bearer fbk_0000");
    let bad = crate::harness::send(&r.app, req.body(axum::body::Body::empty()).unwrap()).await;
    assert_eq!(bad.status, StatusCode::UNAUTHORIZED);
    assert!(bad.error().contains("firebreak token create"), "{}", bad.text);
    let basic = axum::http::Request::get("/api/v1/incidents").header("authorization", "Basic abc");
    let bad = crate::harness::send(&r.app, basic.body(axum::body::Body::empty()).unwrap()).await;
    assert_eq!(bad.status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn reads_return_the_record_and_unknown_ids_are_404() {
    let r = room().await;
    let me = r.call("GET", "/api/v1/me", Some("carol"), None).await.json();
    assert_eq!(me["member"], "carol");
    assert_eq!(me["roles"], json!(["operator", "signer"]));

    let list = r.call("GET", "/api/v1/incidents", Some("erin"), None).await.json();
    assert_eq!(list["incidents"][0]["id"], 1);
    let filtered = r
        .call("GET", "/api/v1/incidents?status=resolved,reviewed&limit=5", Some("erin"), None)
        .await
        .json();
    assert_eq!(filtered["incidents"], json!([]));
    let one = r.call("GET", "/api/v1/incidents/1", Some("erin"), None).await.json();
    assert_eq!(one["title"], "price set to 10^30");
    assert_eq!(one["status"], "detected");

    let tl = r.call("GET", "/api/v1/incidents/1/timeline", Some("erin"), None).await.json();
    assert_eq!(tl["verified"], true);
    assert_eq!(tl["entries"][0]["kind"], "incident_opened");
    assert!(tl["entries"][0]["text"].as_str().unwrap().contains("price set to 10^30"));
    let n = tl["entries"].as_array().unwrap().len() as u64;
    let after = r
        .call("GET", &format!("/api/v1/incidents/1/timeline?after={}", n - 1), Some("erin"), None)
        .await
        .json();
    assert_eq!(after["entries"].as_array().unwrap().len(), 1);

    let alerts = r.call("GET", "/api/v1/incidents/1/alerts", Some("erin"), None).await.json();
    assert_eq!(alerts["alerts"][0]["monitor"], "price");
    let steps = r.call("GET", "/api/v1/incidents/1/steps", Some("erin"), None).await.json();
    assert_eq!(steps["steps"][0]["step_id"], "pause-1");
    assert_eq!(steps["steps"][0]["approval"]["quorum"], 2);
    assert_eq!(steps["steps"][1]["approval"], json!(null));
    for path in ["actions", "approvals", "announcements"] {
        let reply = r.call("GET", &format!("/api/v1/incidents/1/{path}"), Some("erin"), None).await;
        assert_eq!(reply.status, StatusCode::OK, "{path}");
        assert_eq!(reply.json()[path], json!([]), "{path}");
    }
    assert_eq!(
        r.call("GET", "/api/v1/announcements", Some("erin"), None).await.status,
        StatusCode::OK
    );

    for bad in [
        "/api/v1/incidents/999",
        "/api/v1/incidents/abc",
        "/api/v1/incidents/18446744073709551615/timeline",
        "/api/v1/incidents/0/steps",
    ] {
        let reply = r.call("GET", bad, Some("erin"), None).await;
        assert_eq!(reply.status, StatusCode::NOT_FOUND, "{bad}: {}", reply.text);
        assert!(reply.error().starts_with("no incident"), "{}", reply.text);
    }
    assert_eq!(
        r.call("POST", "/api/v1/announcements/77/approve", Some("dan"), None).await.status,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn bad_queries_and_bodies_are_422_with_the_reason() {
    let r = room().await;
    let reply = r.call("GET", "/api/v1/incidents?status=exploded", Some("erin"), None).await;
    assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(reply.error().contains("`exploded` is not one of"), "{}", reply.text);
    let reply = r.call("GET", "/api/v1/incidents?limit=-3", Some("erin"), None).await;
    assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY);
    let reply = r.call("GET", "/api/v1/incidents/1/timeline?after=x", Some("erin"), None).await;
    assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY);
    // not JSON, wrong shape, unknown field
    let req = axum::http::Request::post("/api/v1/triggers")
        .header("authorization", format!("Bearer {}", r.tokens["bob"]))
        .header("content-type", "application/json")
        .body(axum::body::Body::from("{not json"))
        .unwrap();
    let reply = crate::harness::send(&r.app, req).await;
    assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", reply.text);
    assert!(reply.error().starts_with("request body"), "{}", reply.text);
    let reply = r.call("POST", "/api/v1/triggers", Some("bob"), Some(json!({"playbook": 3}))).await;
    assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY);
    let reply = r
        .call(
            "POST",
            "/api/v1/triggers",
            Some("bob"),
            Some(json!({"playbook": "contain", "reason": "x", "sudo": true})),
        )
        .await;
    assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(reply.error().contains("sudo"), "{}", reply.text);
}

#[tokio::test]
async fn a_quorum_needs_distinct_members_holding_the_role() {
    let mut r = room().await;
    let url = "/api/v1/incidents/1/steps/pause-1/approve";
    let first = r.call("POST", url, Some("alice"), None).await;
    assert_eq!(first.status, StatusCode::OK, "{}", first.text);
    assert_eq!(first.json()["approvals"], 1);
    assert_eq!(first.json()["quorum_met"], false);
    assert_eq!(r.woken(), vec![IncidentId(1)]);

    // the same member again does not count twice
    let again = r.call("POST", url, Some("alice"), None).await;
    assert_eq!(again.status, StatusCode::CONFLICT, "{}", again.text);
    assert!(again.error().contains("each member counts once"), "{}", again.text);
    let approvals = r.store.approvals(IncidentId(1)).await.unwrap();
    assert_eq!(approvals.len(), 1, "{approvals:?}");

    // a scribe may not approve a pause
    let erin = r.call("POST", url, Some("erin"), None).await;
    assert_eq!(erin.status, StatusCode::FORBIDDEN);
    assert!(erin.error().contains("it takes the role commander or operator"), "{}", erin.text);

    let bob = r.call("POST", url, Some("bob"), None).await.json();
    assert_eq!(bob["approvals"], 2);
    assert_eq!(bob["quorum_met"], true);
    assert_eq!(bob["approved_by"], json!(["alice", "bob"]));

    // every decision is on the timeline under the member's name
    let tl = r.store.timeline(IncidentId(1)).await.unwrap();
    let who: Vec<String> =
        tl.iter().filter(|e| e.kind() == "approved").map(|e| e.actor.to_string()).collect();
    assert_eq!(who, ["member:alice", "member:bob"]);

    let unknown = r.call("POST", "/api/v1/incidents/1/steps/nope/approve", Some("bob"), None).await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);
    let ungated =
        r.call("POST", "/api/v1/incidents/1/steps/again/approve", Some("bob"), None).await;
    assert_eq!(ungated.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(ungated.error().contains("no approval gate"), "{}", ungated.text);
    let trigger =
        r.call("POST", "/api/v1/incidents/1/steps/trigger/approve", Some("bob"), None).await;
    assert_eq!(
        trigger.status,
        StatusCode::NOT_FOUND,
        "alert-opened incidents have no trigger gate"
    );

    let dan = r.call("POST", "/api/v1/incidents/1/steps/pause-1/reject", Some("dan"), None).await;
    assert_eq!(dan.status, StatusCode::FORBIDDEN);
    let carol =
        r.call("POST", "/api/v1/incidents/1/steps/pause-1/reject", Some("carol"), None).await;
    assert_eq!(carol.status, StatusCode::OK);
    assert_eq!(carol.json()["recorded"], "reject");
}

#[tokio::test]
async fn acknowledging_once_and_not_on_a_closed_incident() {
    let mut r = room().await;
    let ok = r.call("POST", "/api/v1/incidents/1/acknowledge", Some("erin"), None).await;
    assert_eq!(ok.status, StatusCode::OK, "{}", ok.text);
    assert!(ok.json()["message"].as_str().unwrap().contains("acknowledged by erin"));
    assert_eq!(r.woken(), vec![IncidentId(1)]);
    let twice = r.call("POST", "/api/v1/incidents/1/acknowledge", Some("bob"), None).await;
    assert_eq!(twice.status, StatusCode::CONFLICT);
    assert!(twice.error().contains("already acknowledged by erin"), "{}", twice.text);
    let i = r.store.incident(IncidentId(1)).await.unwrap().unwrap();
    assert_eq!(i.status.as_str(), "acknowledged");
    r.store
        .transition(
            IncidentId(1),
            firebreak_primitives::IncidentStatus::Resolved,
            firebreak_primitives::Actor::System,
            None,
        )
        .await
        .unwrap();
    let closed =
        r.call("POST", "/api/v1/incidents/1/steps/pause-1/approve", Some("bob"), None).await;
    assert_eq!(closed.status, StatusCode::CONFLICT);
    assert!(closed.error().contains("is resolved"), "{}", closed.text);
}

#[tokio::test]
async fn pause_now_opens_an_incident_gated_by_the_war_room_quorum() {
    let mut r = room().await;
    let erin = r
        .call(
            "POST",
            "/api/v1/triggers",
            Some("erin"),
            Some(json!({"playbook": "contain", "reason": "oracle looks wrong"})),
        )
        .await;
    assert_eq!(erin.status, StatusCode::FORBIDDEN);
    let unknown = r
        .call(
            "POST",
            "/api/v1/triggers",
            Some("bob"),
            Some(json!({"playbook": "nuke", "reason": "x"})),
        )
        .await;
    assert_eq!(unknown.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(unknown.error().contains("no playbook `nuke` (it has: contain)"), "{}", unknown.text);
    let empty = r
        .call(
            "POST",
            "/api/v1/triggers",
            Some("bob"),
            Some(json!({"playbook": "contain", "reason": "  "})),
        )
        .await;
    assert_eq!(empty.status, StatusCode::UNPROCESSABLE_ENTITY);
    let sev = r
        .call(
            "POST",
            "/api/v1/triggers",
            Some("bob"),
            Some(json!({"playbook": "contain", "reason": "x", "severity": "P9"})),
        )
        .await;
    assert_eq!(sev.status, StatusCode::UNPROCESSABLE_ENTITY);

    let ok = r
        .call(
            "POST",
            "/api/v1/triggers",
            Some("bob"),
            Some(json!({"playbook": "contain", "reason": "oracle looks wrong"})),
        )
        .await;
    assert_eq!(ok.status, StatusCode::CREATED, "{}", ok.text);
    let id = ok.json()["incident"].as_u64().unwrap();
    assert_eq!(ok.json()["approvals"], 1);
    assert_eq!(r.woken(), vec![IncidentId(id)]);
    let tl = r.store.timeline(IncidentId(id)).await.unwrap();
    assert_eq!(tl[0].actor.to_string(), "member:bob");
    assert_eq!(tl[0].body["manual"]["reason"], "oracle looks wrong");

    let url = format!("/api/v1/incidents/{id}/steps/trigger/approve");
    assert_eq!(r.call("POST", &url, Some("bob"), None).await.status, StatusCode::CONFLICT);
    let alice = r.call("POST", &url, Some("alice"), None).await.json();
    assert_eq!(alice["quorum_met"], true);
}

#[tokio::test]
async fn unpausing_takes_the_higher_quorum() {
    let mut r = room().await;
    let url = "/api/v1/incidents/1/unpause";
    let erin = r.call("POST", url, Some("erin"), Some(json!({"contracts": ["vault"]}))).await;
    assert_eq!(erin.status, StatusCode::FORBIDDEN);
    // nothing is contained yet: nothing to unpause
    let too_soon = r.call("POST", url, Some("bob"), Some(json!({"contracts": ["vault"]}))).await;
    assert_eq!(too_soon.status, StatusCode::CONFLICT);
    assert!(too_soon.error().contains("nothing is contained yet"), "{}", too_soon.text);
    r.store
        .transition(
            IncidentId(1),
            firebreak_primitives::IncidentStatus::Contained,
            firebreak_primitives::Actor::System,
            None,
        )
        .await
        .unwrap();
    let none = r.call("POST", url, Some("bob"), Some(json!({"contracts": []}))).await;
    assert_eq!(none.status, StatusCode::UNPROCESSABLE_ENTITY);
    let no_path = r.call("POST", url, Some("bob"), Some(json!({"contracts": ["usdc"]}))).await;
    assert_eq!(no_path.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(no_path.error().contains("no unpause path"), "{}", no_path.text);
    let ghost = r.call("POST", url, Some("bob"), Some(json!({"contracts": ["ghost"]}))).await;
    assert_eq!(ghost.status, StatusCode::UNPROCESSABLE_ENTITY);
    // approving before anyone asked
    let early =
        r.call("POST", "/api/v1/incidents/1/steps/unpause/approve", Some("bob"), None).await;
    assert_eq!(early.status, StatusCode::UNPROCESSABLE_ENTITY);

    let first = r
        .call("POST", url, Some("bob"), Some(json!({"contracts": ["vault"], "reason": "fixed"})))
        .await;
    assert_eq!(first.status, StatusCode::ACCEPTED, "{}", first.text);
    assert_eq!(first.json()["quorum"], 3);
    assert_eq!(first.json()["approvals"], 1);
    let second = r
        .call("POST", "/api/v1/incidents/1/steps/unpause/approve", Some("alice"), None)
        .await
        .json();
    assert_eq!(second["quorum_met"], false, "two approvals would pause, but do not unpause");
    let third =
        r.call("POST", url, Some("carol"), Some(json!({"contracts": ["vault"]}))).await.json();
    assert_eq!(third["approvals"], 3);
    assert_eq!(third["quorum_met"], true);
    assert!(r.woken().contains(&IncidentId(1)));
    let tl = r.store.timeline(IncidentId(1)).await.unwrap();
    assert_eq!(tl.iter().filter(|e| e.kind() == "unpause_requested").count(), 1);
}

pub(crate) async fn waiting_safe_tx(r: &crate::harness::Room) -> alloy_primitives::B256 {
    let vault: alloy_primitives::Address = VAULT.parse().unwrap();
    let tx = firebreak_safe::SafeTx::call(
        vault,
        alloy_primitives::Bytes::from(vec![0x84, 0x56, 0xcb, 0x59]),
        alloy_primitives::U256::ZERO,
    );
    waiting(r, tx).await
}

/// Stores `tx` as the incident's Safe action waiting for signatures.
async fn waiting(r: &crate::harness::Room, tx: firebreak_safe::SafeTx) -> alloy_primitives::B256 {
    let safe: alloy_primitives::Address = SAFE.parse().unwrap();
    let hash = tx.hash(31337, safe);
    let action = ActionRecord {
        key: "1/pause-1/safe:emergency/vault".parse().unwrap(),
        incident: IncidentId(1),
        step_id: "pause-1".into(),
        chain_id: 31337,
        kind: ActionKind::Safe,
        from: alloy_primitives::Address::ZERO,
        to: safe,
        calldata: Default::default(),
        value: Default::default(),
        nonce: None,
        status: ActionStatus::AwaitingSignatures,
        attempts: Vec::new(),
        receipt: None,
        safe_tx: Some(serde_json::to_value(&tx).unwrap()),
        safe_tx_hash: Some(hash),
        error: None,
        created_ms: 0,
        updated_ms: 0,
    };
    r.store.put_action(action, None).await.unwrap();
    hash
}

fn sign(index: u32, hash: alloy_primitives::B256) -> String {
    let key = firebreak_plan::anvil_dev_key(index).unwrap();
    let sig = alloy_signer::SignerSync::sign_hash_sync(&key, &hash).unwrap();
    alloy_primitives::hex::encode_prefixed(sig.as_bytes())
}

#[tokio::test]
async fn a_delegatecall_outside_the_allow_list_is_refused_unless_a_commander_overrides() {
    let r = room().await;
    let url = "/api/v1/incidents/1/signatures";
    // Bybit-shaped: the Safe would DELEGATECALL a contract the plan does not allow
    let evil = alloy_primitives::Address::repeat_byte(0xee);
    let mut tx = firebreak_safe::SafeTx::call(
        evil,
        alloy_primitives::Bytes::from(vec![0xa9, 0x05, 0x9c, 0xbb]),
        alloy_primitives::U256::ZERO,
    );
    tx.operation = firebreak_safe::Operation::DelegateCall;
    let hash = waiting(&r, tx).await;
    let carol = r.call("POST", url, Some("carol"), Some(json!({"signature": sign(4, hash)}))).await;
    assert_eq!(carol.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", carol.text);
    assert!(carol.error().contains(&format!("DELEGATECALL to {evil}")), "{}", carol.text);
    // an operator's override counts for nothing
    let body = json!({"signature": sign(4, hash), "override_reason": "trust me"});
    assert_eq!(
        r.call("POST", url, Some("carol"), Some(body)).await.status,
        StatusCode::UNPROCESSABLE_ENTITY
    );
    let tl = r.store.timeline(IncidentId(1)).await.unwrap();
    assert!(!tl.iter().any(|e| e.kind() == "delegatecall_override"));
    // the commander overrides with a reason, on the timeline
    let body =
        json!({"signature": sign(3, hash), "override_reason": "the audited migration module"});
    let alice = r.call("POST", url, Some("alice"), Some(body)).await;
    assert_eq!(alice.status, StatusCode::OK, "{}", alice.text);
    let tl = r.store.timeline(IncidentId(1)).await.unwrap();
    let o =
        tl.iter().find(|e| e.kind() == "delegatecall_override").expect("the override is recorded");
    assert_eq!(o.body["reason"], "the audited migration module");
    assert_eq!(o.body["targets"][0], evil.to_string());

    // the page shows the DELEGATECALL and the hashes a wallet shows
    let (cookie, _) = r.login("alice").await;
    let req = axum::http::Request::get("/incidents/1")
        .header(axum::http::header::COOKIE, &cookie)
        .body(axum::body::Body::empty())
        .unwrap();
    let page = crate::harness::send(&r.app, req).await;
    assert!(page.text.contains(&format!("DELEGATECALL {evil}")), "{}", page.text);
    assert!(page.text.contains("id=\"domain-hash\""), "{}", page.text);
}

#[tokio::test]
async fn safe_signatures_are_checked_against_the_hash_and_the_owners() {
    let mut r = room().await;
    let url = "/api/v1/incidents/1/signatures";
    let nothing = r.call("POST", url, Some("alice"), Some(json!({"signature": "0x00"}))).await;
    assert_eq!(nothing.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(nothing.error().contains("no Safe transaction"), "{}", nothing.text);
    let hash = waiting_safe_tx(&r).await;

    let erin = r.call("POST", url, Some("erin"), Some(json!({"signature": sign(3, hash)}))).await;
    assert_eq!(erin.status, StatusCode::FORBIDDEN);
    let not_hex = r.call("POST", url, Some("alice"), Some(json!({"signature": "0xzz"}))).await;
    assert_eq!(not_hex.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(not_hex.error().contains("not hex"), "{}", not_hex.text);
    let short = r.call("POST", url, Some("alice"), Some(json!({"signature": "0x1234"}))).await;
    assert!(short.error().contains("65 bytes"), "{}", short.text);
    // signed by someone who is not an owner
    let stranger =
        r.call("POST", url, Some("carol"), Some(json!({"signature": sign(7, hash)}))).await;
    assert_eq!(stranger.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(stranger.error().contains("not an owner of the Safe"), "{}", stranger.text);
    // an owner's signature over another hash recovers to someone else
    let other = sign(3, alloy_primitives::B256::repeat_byte(7));
    let wrong_hash = r.call("POST", url, Some("alice"), Some(json!({"signature": other}))).await;
    assert_eq!(wrong_hash.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", wrong_hash.text);
    // alice's plan address is owner 3: owner 4's signature is not hers
    let not_hers =
        r.call("POST", url, Some("alice"), Some(json!({"signature": sign(4, hash)}))).await;
    assert!(
        not_hers.error().contains("the plan gives `alice` the owner address"),
        "{}",
        not_hers.text
    );
    assert!(r.store.signatures(hash).await.unwrap().is_empty(), "nothing rejected was stored");

    let ok = r.call("POST", url, Some("alice"), Some(json!({"signature": sign(3, hash)}))).await;
    assert_eq!(ok.status, StatusCode::OK, "{}", ok.text);
    assert_eq!(ok.json()["signatures"], 1);
    assert_eq!(ok.json()["threshold"], 2);
    assert_eq!(r.woken(), vec![IncidentId(1)]);
    let twice = r.call("POST", url, Some("alice"), Some(json!({"signature": sign(3, hash)}))).await;
    assert_eq!(twice.status, StatusCode::CONFLICT);
    let carol = r
        .call(
            "POST",
            url,
            Some("carol"),
            Some(json!({"signature": sign(4, hash), "action": "1/pause-1/safe:emergency/vault"})),
        )
        .await
        .json();
    assert_eq!(carol["signatures"], 2);
    let wrong_action = r
        .call(
            "POST",
            url,
            Some("carol"),
            Some(json!({"signature": sign(5, hash), "action": "nope"})),
        )
        .await;
    assert_eq!(wrong_action.status, StatusCode::UNPROCESSABLE_ENTITY);
}

#[tokio::test]
async fn announcements_go_from_draft_to_approved_to_published() {
    let r = room().await;
    let url = "/api/v1/incidents/1/announcements";
    let body = json!({"status": "investigating", "message": "We paused the vault while we investigate.", "components": ["vault"]});
    assert_eq!(
        r.call("POST", url, Some("erin"), Some(body.clone())).await.status,
        StatusCode::FORBIDDEN
    );
    let bad = r
        .call("POST", url, Some("dan"), Some(json!({"status": "panicking", "message": "x"})))
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        bad.error().contains("investigating, identified, monitoring, resolved"),
        "{}",
        bad.text
    );
    let comp = r
        .call(
            "POST",
            url,
            Some("dan"),
            Some(json!({"status": "identified", "message": "x", "components": ["bridge"]})),
        )
        .await;
    assert!(comp.error().contains("no component `bridge` (it has: vault, ui)"), "{}", comp.text);
    let empty = r
        .call("POST", url, Some("dan"), Some(json!({"status": "identified", "message": " "})))
        .await;
    assert_eq!(empty.status, StatusCode::UNPROCESSABLE_ENTITY);

    let draft = r.call("POST", url, Some("dan"), Some(body)).await;
    assert_eq!(draft.status, StatusCode::CREATED, "{}", draft.text);
    let id = draft.json()["id"].as_u64().unwrap();
    assert_eq!(draft.json()["state"], "draft");
    let early =
        r.call("POST", &format!("/api/v1/announcements/{id}/publish"), Some("dan"), None).await;
    assert_eq!(early.status, StatusCode::CONFLICT);
    assert!(early.error().contains("is draft"), "{}", early.text);
    assert_eq!(
        r.call("POST", &format!("/api/v1/announcements/{id}/approve"), Some("bob"), None)
            .await
            .status,
        StatusCode::FORBIDDEN
    );
    // four eyes: its author cannot approve it, even holding an announce role
    let own =
        r.call("POST", &format!("/api/v1/announcements/{id}/approve"), Some("dan"), None).await;
    assert_eq!(own.status, StatusCode::FORBIDDEN);
    assert!(
        own.error().contains("another member with an announce role approves it"),
        "{}",
        own.text
    );
    let approved = r
        .call("POST", &format!("/api/v1/announcements/{id}/approve"), Some("alice"), None)
        .await
        .json();
    assert_eq!(approved["state"], "approved");
    assert_eq!(approved["approved_by"], "alice");
    let published = r
        .call("POST", &format!("/api/v1/announcements/{id}/publish"), Some("dan"), None)
        .await
        .json();
    assert_eq!(published["state"], "published");
    assert_eq!(
        r.call("POST", &format!("/api/v1/announcements/{id}/publish"), Some("dan"), None)
            .await
            .status,
        StatusCode::CONFLICT
    );
    let kinds: Vec<String> = r
        .store
        .timeline(IncidentId(1))
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.kind().to_owned())
        .collect();
    for k in ["announcement_drafted", "announcement_approved", "announcement_published"] {
        assert!(kinds.iter().any(|x| x == k), "{k} missing from {kinds:?}");
    }
    assert_eq!(r.store.announcements(None, true).await.unwrap().len(), 1);
}

#[tokio::test]
async fn a_revoked_token_or_a_member_gone_from_the_plan_is_refused() {
    let r = room().await;
    let tokens = r.store.tokens().await.unwrap();
    let bob = tokens.iter().find(|t| t.member == "bob").unwrap();
    assert!(r.store.revoke_token(bob.id).await.unwrap());
    assert_eq!(
        r.call("GET", "/api/v1/me", Some("bob"), None).await.status,
        StatusCode::UNAUTHORIZED
    );
    let ghost = firebreak_server::new_token();
    r.store.create_token("mallory", "", &firebreak_server::hash_token(&ghost)).await.unwrap();
    let req =
        axum::http::Request::get("/api/v1/me").header("authorization", format!("Bearer {ghost}"));
    let reply = crate::harness::send(&r.app, req.body(axum::body::Body::empty()).unwrap()).await;
    assert_eq!(reply.status, StatusCode::FORBIDDEN);
    assert!(reply.error().contains("no longer in the plan"), "{}", reply.text);
    // the token is never stored in the clear
    assert!(!tokens.iter().any(|t| serde_json::to_string(t).unwrap().contains("fbk_")));
}

#[tokio::test]
async fn the_safe_tx_allow_list_keeps_who_and_why_and_refuses_others() {
    let r = room().await;
    let url = "/api/v1/safes/emergency/allowed";
    let hash = format!("0x{}", "5f".repeat(32));
    let body = json!({ "safe_tx_hash": hash, "reason": "monthly payroll, OPS-112" });
    // a scribe may not approve Safe transactions
    let erin = r.call("POST", url, Some("erin"), Some(body.clone())).await;
    assert_eq!(erin.status, StatusCode::FORBIDDEN);
    assert!(erin.error().contains("commander or operator or signer"), "{}", erin.text);
    let bad = r
        .call("POST", url, Some("alice"), Some(json!({ "safe_tx_hash": "0x12", "reason": "x" })))
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(bad.error().contains("is not a SafeTx hash"), "{}", bad.text);
    let why = r
        .call("POST", url, Some("alice"), Some(json!({ "safe_tx_hash": hash, "reason": " " })))
        .await;
    assert_eq!(why.status, StatusCode::UNPROCESSABLE_ENTITY);
    let unknown =
        r.call("POST", "/api/v1/safes/nope/allowed", Some("alice"), Some(body.clone())).await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);

    let ok = r.call("POST", url, Some("carol"), Some(body.clone())).await;
    assert_eq!(ok.status, StatusCode::CREATED, "{}", ok.text);
    assert_eq!(ok.json()["allowed"]["member"], "carol");
    let again = r.call("POST", url, Some("alice"), Some(body)).await;
    assert_eq!(again.status, StatusCode::CONFLICT);
    assert!(again.error().contains("already on Safe `emergency`'s allow-list"), "{}", again.text);
    let list = r.call("GET", url, Some("erin"), None).await.json();
    assert_eq!(list["allowed"].as_array().unwrap().len(), 1, "{list}");
    assert_eq!(list["allowed"][0]["safe_tx_hash"], hash);
    assert_eq!(list["allowed"][0]["reason"], "monthly payroll, OPS-112");
    // the watcher reads the same list
    use firebreak_store::AlertStore as _;
    let chain_id = list["allowed"][0]["chain_id"].as_u64().unwrap();
    let approved = r
        .store
        .approved_safe_txs(chain_id, vec![hash.parse().unwrap(), alloy_primitives::B256::ZERO])
        .await
        .unwrap();
    assert_eq!(approved, [true, false]);
}
