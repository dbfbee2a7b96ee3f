//! The dashboard: login and sessions, CSRF, rate limits, the pages.

use axum::{
    body::Body,
    http::{Request, StatusCode, header},
};
use firebreak_store::WarRoomStore as _;
use serde_json::json;

use crate::harness::{room, room_with, send};
use firebreak_store::prelude::*;

fn form(uri: &str, body: String, cookie: Option<&str>) -> Request<Body> {
    let mut req =
        Request::post(uri).header(header::CONTENT_TYPE, "application/x-www-form-urlencoded");
    if let Some(c) = cookie {
        req = req.header(header::COOKIE, c);
    }
    req.body(Body::from(body)).unwrap()
}

fn json_post(uri: &str, cookie: &str, csrf: Option<&str>) -> Request<Body> {
    let mut req = Request::post(uri)
        .header(header::COOKIE, cookie)
        .header(header::CONTENT_TYPE, "application/json");
    if let Some(c) = csrf {
        req = req.header("x-csrf-token", c);
    }
    req.body(Body::from("{}")).unwrap()
}

#[tokio::test]
async fn pages_send_strangers_to_the_login_page() {
    let r = room().await;
    for path in ["/", "/incidents/1", "/incidents/1/live"] {
        let reply = send(&r.app, Request::get(path).body(Body::empty()).unwrap()).await;
        assert_eq!(reply.status, StatusCode::SEE_OTHER, "{path}");
        assert_eq!(reply.headers[header::LOCATION], format!("/login?next={path}"));
    }
    let login =
        send(&r.app, Request::get("/login?next=/incidents/1").body(Body::empty()).unwrap()).await;
    assert_eq!(login.status, StatusCode::OK);
    assert!(login.text.contains("firebreak token create --member NAME"));
    assert!(login.text.contains("value=\"/incidents/1\""));
    // no open redirect through `next`
    let evil =
        send(&r.app, Request::get("/login?next=//evil.example").body(Body::empty()).unwrap()).await;
    assert!(evil.text.contains("name=\"next\" value=\"/\""), "{}", evil.text);
    for next in
        ["%2F%09%2Fevil.example", "%2F%0a", "https%3A%2F%2Fevil.example", "%2F%5Cevil.example"]
    {
        let body = format!("token={}&next={next}", r.tokens["bob"]);
        let reply = send(&r.app, form("/login", body, None)).await;
        assert_eq!(reply.status, StatusCode::SEE_OTHER, "{next}");
        assert_eq!(reply.headers[header::LOCATION], "/", "{next}");
    }
}

#[tokio::test]
async fn login_sets_a_strict_http_only_cookie_and_forms_need_the_csrf_token() {
    let r = room().await;
    let body = format!("token={}&next=%2Fincidents%2F1", r.tokens["alice"]);
    let reply = send(&r.app, form("/login", body, None)).await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER);
    assert_eq!(reply.headers[header::LOCATION], "/incidents/1");
    let set = reply.headers[header::SET_COOKIE].to_str().unwrap();
    for attr in ["firebreak_session=", "HttpOnly", "SameSite=Strict", "Path=/"] {
        assert!(set.contains(attr), "{set}");
    }
    assert!(!set.contains("Secure"), "plain-HTTP loopback: {set}");
    assert!(!set.contains(&r.tokens["alice"]), "the cookie is not the token");

    let (cookie, csrf) = r.login("alice").await;
    let url = "/api/v1/incidents/1/steps/pause-1/approve";
    let missing = send(&r.app, json_post(url, &cookie, None)).await;
    assert_eq!(missing.status, StatusCode::FORBIDDEN);
    assert!(missing.error().contains("CSRF"), "{}", missing.text);
    let wrong = send(&r.app, json_post(url, &cookie, Some("0000"))).await;
    assert_eq!(wrong.status, StatusCode::FORBIDDEN);
    assert!(r.store.approvals(firebreak_primitives::IncidentId(1)).await.unwrap().is_empty());
    let right = send(&r.app, json_post(url, &cookie, Some(&csrf))).await;
    assert_eq!(right.status, StatusCode::OK, "{}", right.text);
    assert_eq!(right.json()["approved_by"], json!(["alice"]));
    // reads with the session need no CSRF token
    let me = send(
        &r.app,
        Request::get("/api/v1/me").header(header::COOKIE, &cookie).body(Body::empty()).unwrap(),
    )
    .await;
    assert_eq!(me.json()["member"], "alice");

    // logging out needs the token too, then the session is gone
    let refused = send(&r.app, form("/logout", "csrf=nope".into(), Some(&cookie))).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    let out = send(&r.app, form("/logout", format!("csrf={csrf}"), Some(&cookie))).await;
    assert_eq!(out.status, StatusCode::SEE_OTHER);
    assert!(out.headers[header::SET_COOKIE].to_str().unwrap().contains("Max-Age=0"));
    let after = send(
        &r.app,
        Request::get("/").header(header::COOKIE, &cookie).body(Body::empty()).unwrap(),
    )
    .await;
    assert_eq!(after.status, StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn secure_cookies_under_tls() {
    let r = room_with(|s| s.with_secure_cookies(true)).await;
    let reply = send(&r.app, form("/login", format!("token={}", r.tokens["bob"]), None)).await;
    assert!(reply.headers[header::SET_COOKIE].to_str().unwrap().contains("; Secure"));
}

#[tokio::test]
async fn failed_logins_are_rate_limited() {
    let r = room().await;
    for _ in 0..5 {
        let reply = send(&r.app, form("/login", "token=fbk_guess".into(), None)).await;
        assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
        assert!(reply.text.contains("unknown or revoked token"));
    }
    let limited = send(&r.app, form("/login", "token=fbk_guess".into(), None)).await;
    assert_eq!(limited.status, StatusCode::TOO_MANY_REQUESTS);
    assert!(limited.headers.contains_key(header::RETRY_AFTER));
    // even the right token waits out the limit from that address
    let right = send(&r.app, form("/login", format!("token={}", r.tokens["bob"]), None)).await;
    assert_eq!(right.status, StatusCode::TOO_MANY_REQUESTS);
}

#[tokio::test]
async fn the_incident_page_shows_the_record_and_the_buttons() {
    let r = room().await;
    let (cookie, csrf) = r.login("alice").await;
    let get = |path: &str| {
        Request::get(path).header(header::COOKIE, &cookie).body(Body::empty()).unwrap()
    };
    let index = send(&r.app, get("/")).await;
    assert!(index.text.contains("href=\"/incidents/1\""), "{}", index.text);
    assert!(index.text.contains("id=\"readiness\""));
    assert!(index.text.contains("pause quorum 2 of 3 eligible"), "{}", index.text);
    assert!(index.text.contains(&format!("content=\"{csrf}\"")));

    let page = send(&r.app, get("/incidents/1")).await;
    assert_eq!(page.status, StatusCode::OK);
    for needle in [
        "Incident 1: price set to 10^30",
        "id=\"approve-pause-1\"",
        "data-api=\"/api/v1/incidents/1/steps/pause-1/approve\"",
        "id=\"timeline-svg\"",
        "hash chain verified",
        "https://explorer.invalid/tx/0xabab",
        "id=\"announce-draft\"",
        "id=\"unpause\"",
        "id=\"ack\"",
    ] {
        assert!(page.text.contains(needle), "missing {needle}");
    }
    let live = send(&r.app, get("/incidents/1/live")).await;
    assert!(live.text.starts_with("<section>"), "a fragment, not a page");
    assert_eq!(send(&r.app, get("/incidents/42")).await.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn html_in_recorded_text_is_escaped() {
    let r = room().await;
    let (cookie, _) = r.login("dan").await;
    let reply = r
        .call(
            "POST",
            "/api/v1/incidents/1/announcements",
            Some("dan"),
            Some(json!({"status": "investigating", "message": "<script>alert(1)</script>"})),
        )
        .await;
    assert_eq!(reply.status, StatusCode::CREATED);
    let page = send(
        &r.app,
        Request::get("/incidents/1").header(header::COOKIE, &cookie).body(Body::empty()).unwrap(),
    )
    .await;
    assert!(page.text.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
    assert!(!page.text.contains("<script>alert(1)"));
}

#[tokio::test]
async fn the_safe_signature_form_shows_the_hash_to_compare() {
    let r = room().await;
    let hash = crate::api::waiting_safe_tx(&r).await;
    let (cookie, _) = r.login("alice").await;
    let page = send(
        &r.app,
        Request::get("/incidents/1").header(header::COOKIE, &cookie).body(Body::empty()).unwrap(),
    )
    .await;
    assert!(page.text.contains(&format!("id=\"safe-tx-hash\">{hash}<")), "{}", page.text);
    assert!(page.text.contains("data-api=\"/api/v1/incidents/1/signatures\""));
    assert!(
        page.text.contains("https://explorer.invalid/address/0x"),
        "the Safe links to the explorer"
    );
    assert!(
        page.text.contains("<td><code>0x00000000000000000000000000000000000000a1</code></td>"),
        "the SafeTx target is shown"
    );
}

#[tokio::test]
async fn every_response_forbids_framing_and_inline_script() {
    let r = room().await;
    for path in ["/login", "/status", "/api/v1/openapi.json", "/assets/war-room.js"] {
        let reply = send(&r.app, Request::get(path).body(Body::empty()).unwrap()).await;
        assert_eq!(reply.status, StatusCode::OK, "{path}");
        assert_eq!(reply.headers["x-frame-options"], "DENY", "{path}");
        let csp = reply.headers["content-security-policy"].to_str().unwrap();
        assert!(
            csp.contains("frame-ancestors 'none'") && csp.contains("script-src 'self'"),
            "{csp}"
        );
        assert!(!csp.contains("script-src 'self' 'unsafe-inline'"), "{csp}");
        assert_eq!(reply.headers["referrer-policy"], "no-referrer");
    }
    let js = send(&r.app, Request::get("/assets/war-room.js").body(Body::empty()).unwrap()).await;
    assert!(js.headers["content-type"].to_str().unwrap().starts_with("text/javascript"));
    assert!(js.text.contains("X-CSRF-Token"));
    let login = send(&r.app, Request::get("/login").body(Body::empty()).unwrap()).await;
    assert!(!login.text.contains("<script>"), "no inline script for the CSP to block");
}

#[tokio::test]
async fn revoking_a_token_ends_the_sessions_opened_with_it() {
    let r = room().await;
    let (cookie, csrf) = r.login("bob").await;
    let id = r.store.tokens().await.unwrap().into_iter().find(|t| t.member == "bob").unwrap().id;
    assert!(r.store.revoke_token(id).await.unwrap());
    let page = send(
        &r.app,
        Request::get("/").header(header::COOKIE, &cookie).body(Body::empty()).unwrap(),
    )
    .await;
    assert_eq!(page.status, StatusCode::SEE_OTHER, "back to the login page");
    let act =
        send(&r.app, json_post("/api/v1/incidents/1/steps/pause-1/approve", &cookie, Some(&csrf)))
            .await;
    assert_eq!(act.status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn the_index_shows_the_plans_last_drill() {
    let dir = tempfile::tempdir().unwrap();
    let record = dir.path().join("drill.json");
    let r = room_with({
        let record = record.clone();
        move |s| s.with_drill_record(record)
    })
    .await;
    let (cookie, _) = r.login("erin").await;
    let index = || Request::get("/").header(header::COOKIE, &cookie).body(Body::empty()).unwrap();
    let before = send(&r.app, index()).await;
    assert!(before.text.contains("no drill of this plan yet"), "{}", before.text);
    std::fs::write(
        &record,
        json!({"at_ms": 1_790_000_000_000_u64, "scenario": "oracle-manipulation", "passed": true,
               "exploit_block": 19, "pause_block": 20, "exploit_to_pause_ms": 1012,
               "report_html": "/tmp/report/drill.html"})
        .to_string(),
    )
    .unwrap();
    let after = send(&r.app, index()).await;
    for needle in [
        "oracle-manipulation",
        "exploit block 19, pause block 20 (1012 ms)",
        "s-passed",
        "/tmp/report/drill.html",
    ] {
        assert!(after.text.contains(needle), "missing {needle}: {}", after.text);
    }
}

#[tokio::test]
async fn behind_a_proxy_failed_logins_count_per_forwarded_client() {
    let r = room_with(|s| s.behind_proxy(true)).await;
    let attempt = |forwarded: &str, token: &str| {
        Request::post("/login")
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            // the client may send its own header; the proxy appends the real address
            .header("x-forwarded-for", format!("6.6.6.6, {forwarded}"))
            .body(Body::from(format!("token={token}")))
            .unwrap()
    };
    for _ in 0..5 {
        assert_eq!(
            send(&r.app, attempt("203.0.113.7", "fbk_guess")).await.status,
            StatusCode::UNAUTHORIZED
        );
    }
    assert_eq!(
        send(&r.app, attempt("203.0.113.7", "fbk_guess")).await.status,
        StatusCode::TOO_MANY_REQUESTS
    );
    // another member behind the same proxy still gets in
    let other = send(&r.app, attempt("198.51.100.2", &r.tokens["bob"])).await;
    assert_eq!(other.status, StatusCode::SEE_OTHER);
}
