//! The war room's recovery API: attacker decisions by role, message drafts
//! and their approvals, the recovery as recorded and its graph.

use axum::{
    body::Body,
    http::{Request, StatusCode, header},
};
use firebreak_primitives::{Actor, Event, IncidentId, event};
use firebreak_store::prelude::*;
use serde_json::json;

use crate::harness::{room, send};

const ATTACKER: &str = "0x7000000000000000000000000000000000000007";
const KEEPER: &str = "0x8000000000000000000000000000000000000008";

#[tokio::test]
async fn members_confirm_attackers_and_approve_a_message_by_role() {
    let r = room().await;
    let got = r.call("GET", "/api/v1/incidents/1/recovery", Some("erin"), None).await;
    assert_eq!(got.status, StatusCode::OK, "{}", got.text);
    let got = got.json();
    assert_eq!(got["recovery"]["attackers"], json!([]));
    assert_eq!(got["ledger"]["terms"]["bounty_bps"], 1000, "the plan's terms apply");

    // a scribe may not decide; an operator may
    let path = format!("/api/v1/incidents/1/attackers/{ATTACKER}/confirm");
    let no = r.call("POST", &path, Some("erin"), Some(json!({}))).await;
    assert_eq!(no.status, StatusCode::FORBIDDEN, "{}", no.text);
    assert!(no.error().contains("commander or liaison or operator"), "{}", no.text);
    let body = json!({"note": "sent the exploit"});
    let yes = r.call("POST", &path, Some("bob"), Some(body)).await;
    assert_eq!(yes.status, StatusCode::OK, "{}", yes.text);
    let path = format!("/api/v1/incidents/1/attackers/{KEEPER}/reject");
    assert_eq!(r.call("POST", &path, Some("alice"), Some(json!({}))).await.status, StatusCode::OK);
    let bad = r
        .call("POST", "/api/v1/incidents/1/attackers/0x12/confirm", Some("bob"), Some(json!({})))
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", bad.text);

    let got = r.call("GET", "/api/v1/incidents/1/recovery", Some("erin"), None).await.json();
    let attackers = got["recovery"]["attackers"].as_array().unwrap();
    assert_eq!(attackers[0]["state"], "confirmed");
    assert_eq!(attackers[0]["decided_by"], "bob");
    assert_eq!(attackers[1]["state"], "rejected");

    // drafting takes an approving role (liaison or commander)
    let no = r.call("POST", "/api/v1/incidents/1/messages", Some("bob"), Some(json!({}))).await;
    assert_eq!(no.status, StatusCode::FORBIDDEN, "{}", no.text);
    let d = r.call("POST", "/api/v1/incidents/1/messages", Some("dan"), Some(json!({}))).await;
    assert_eq!(d.status, StatusCode::CREATED, "{}", d.text);
    let d = d.json();
    assert_eq!(d["draft"], 1);
    assert_eq!(d["to"], json!([ATTACKER]), "only the confirmed address");
    let text = d["text"].as_str().unwrap();
    assert!(text.contains("0x4000000000000000000000000000000000000004"), "{text}");
    assert!(text.contains("security@fixture.example"), "{text}");

    let a = r.call("POST", "/api/v1/incidents/1/messages/1/approve", Some("dan"), None).await;
    assert_eq!(a.json()["still_needed"], json!(["commander"]), "{}", a.text);
    let again = r.call("POST", "/api/v1/incidents/1/messages/1/approve", Some("dan"), None).await;
    assert_eq!(again.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", again.text);
    let a = r.call("POST", "/api/v1/incidents/1/messages/1/approve", Some("alice"), None).await;
    assert_eq!(a.json()["still_needed"], json!([]), "{}", a.text);
    assert!(a.json()["message"].as_str().unwrap().contains("the daemon sends it"));

    let svg = r.call("GET", "/api/v1/incidents/1/recovery/graph.svg", Some("erin"), None).await;
    assert_eq!(svg.status, StatusCode::OK);
    assert_eq!(svg.headers["content-type"], "image/svg+xml");
    assert!(svg.text.contains("no traced transfers yet"), "{}", svg.text);

    // every decision is on the timeline, by its member
    let t = r.call("GET", "/api/v1/incidents/1/timeline", Some("erin"), None).await.json();
    let kinds: Vec<&str> =
        t["entries"].as_array().unwrap().iter().filter_map(|e| e["kind"].as_str()).collect();
    for k in [
        "attacker_confirmed",
        "attacker_rejected",
        "whitehat_message_drafted",
        "whitehat_message_approved",
    ] {
        assert!(kinds.contains(&k), "{k} missing: {kinds:?}");
    }
}

#[tokio::test]
async fn the_recovery_page_shows_attackers_graph_messages_and_the_update_form() {
    let r = room().await;
    let proposed = event::AttackerProposed {
        chain_id: 31337,
        address: ATTACKER.into(),
        reason: "sent the exploit transaction 0xabab".into(),
        tx_hash: format!("0x{}", "ab".repeat(32)),
    };
    r.store.append(IncidentId(1), Actor::System, Event::AttackerProposed(proposed)).await.unwrap();
    let (cookie, _) = r.login("alice").await;
    let get = |path: &str| {
        Request::get(path).header(header::COOKIE, &cookie).body(Body::empty()).unwrap()
    };
    let incident = send(&r.app, get("/incidents/1")).await;
    assert!(incident.text.contains("href=\"/incidents/1/recovery\""), "linked from the incident");
    let page = send(&r.app, get("/incidents/1/recovery")).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.text);
    for needle in [
        "Incident 1: recovery",
        ATTACKER,
        "sent the exploit transaction 0xabab",
        &format!("data-api=\"/api/v1/incidents/1/attackers/{ATTACKER}/confirm\""),
        "no traced transfers yet",
        "id=\"message-draft\"",
        "id=\"recovery-update-draft\"",
        "id=\"ledger\"",
    ] {
        assert!(page.text.contains(needle), "missing {needle}");
    }
    // strangers are sent to log in
    let anon =
        send(&r.app, Request::get("/incidents/1/recovery").body(Body::empty()).unwrap()).await;
    assert_eq!(anon.status, StatusCode::SEE_OTHER);
}
