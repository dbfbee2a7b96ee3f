//! The war room end to end: `firebreak run` on a real anvil, an exploit,
//! and headless Chromium (Debian's `chromium`, driven by playwright-core from
//! `tools/`) signing in as two members who approve a quorum-gated pause,
//! seeing it mined, and publishing an update checked on `/status`.
//! Screenshots are kept in `target/browser-artifacts/`.

use std::{path::PathBuf, process::Command, time::Duration};

use firebreak_test_utils::{Pauser, World};
use serde_json::Value;

use crate::{contain::Daemon, firebreak, repo_root, stderr, stdout};

const MESSAGE: &str = "We paused the lending vault after an oracle attack. Funds are safe.";

fn gated_plan(world: &World) -> String {
    let text = world.plan_text(r#"[{ signer = "guardian" }]"#, &[]);
    let old = r#"steps = [{ kind = "pause", contracts = ["vault"] }]"#;
    assert!(text.contains(old), "the fixture plan changed");
    let gated = r#"steps = [{ id = "pause-1", kind = "pause", contracts = ["vault"], approval = { quorum = 2, roles = ["commander", "operator"] } }]"#;
    let mut text = text.replace(old, gated);
    text.push_str(&firebreak_test_utils::fixture_team(&[
        ("alice", &["commander"]),
        ("bob", &["operator", "comms"]),
        ("erin", &["scribe"]),
    ]));
    text.push_str(
        r#"
[status_page]
title = "Fixture status"
[[status_page.components]]
id = "vault"
name = "Lending vault"
"#,
    );
    text
}

pub(crate) fn token(plan: &std::path::Path, db: &std::path::Path, member: &str) -> String {
    let o = firebreak(&[
        "token",
        "create",
        "--member",
        member,
        "--plan",
        &plan.display().to_string(),
        "--db",
        &db.display().to_string(),
        "--json",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let doc: Value = serde_json::from_str(&stdout(&o)).unwrap();
    doc["token"].as_str().unwrap().to_owned()
}

async fn get(http: &reqwest::Client, url: &str, token: &str) -> Value {
    let r = http.get(url).bearer_auth(token).send().await.unwrap();
    assert!(r.status().is_success(), "{url}: {}", r.status());
    r.json().await.unwrap()
}

fn artifacts() -> PathBuf {
    let dir = repo_root().join("target/browser-artifacts");
    std::fs::create_dir_all(&dir).unwrap();
    for f in ["incident-awaiting-approval.png", "incident.png", "status.png", "failure.png"] {
        let _ = std::fs::remove_file(dir.join(f));
    }
    dir
}

#[tokio::test(flavor = "multi_thread")]
async fn anvil_browser_war_room_two_members_approve_the_pause_and_publish_an_update() {
    let world = World::new(Pauser::Guardian).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let plan = dir.path().join("plan.toml");
    std::fs::write(&plan, gated_plan(&world)).unwrap();
    let db = dir.path().join("firebreak.db");
    let alice = token(&plan, &db, "alice");
    let bob = token(&plan, &db, "bob");
    let erin = token(&plan, &db, "erin");

    let from = (world.chain.block_number().await.unwrap() + 1).to_string();
    let d = Daemon::start(&plan, &db, &["--chain", "local", "--from", &from], &[]);
    let url = d.war_room_url().await;
    let http = reqwest::Client::new();
    for _ in 0..100 {
        if http.get(format!("{url}/readyz")).send().await.is_ok_and(|r| r.status().is_success()) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    let exploit = world.exploit().await.unwrap();
    d.wait_for("\"type\":\"incident_opened\"").await;
    let list = get(&http, &format!("{url}/api/v1/incidents"), &alice).await;
    let id = list["incidents"][0]["id"].as_u64().unwrap();
    d.wait_for("awaiting_approval").await;
    assert!(!world.paused().await.unwrap(), "the pause waits for the quorum");

    // a member without the role is refused by the API, with the reason
    let r = http
        .post(format!("{url}/api/v1/incidents/{id}/steps/pause-1/approve"))
        .bearer_auth(&erin)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    let why: Value = r.json().await.unwrap();
    assert!(why["error"].as_str().unwrap().contains("commander or operator"), "{why}");

    let shots = artifacts();
    let browser = Command::new("node")
        .arg(repo_root().join("bin/firebreak/tests/browser/war-room.cjs"))
        .env("PLAYWRIGHT_CORE", repo_root().join("tools/node_modules/playwright-core"))
        .env("BASE", &url)
        .env("INCIDENT", id.to_string())
        .env("ARTIFACTS", &shots)
        .env("MESSAGE", MESSAGE)
        .env("TOKEN_ALICE", &alice)
        .env("TOKEN_BOB", &bob)
        .output()
        .expect("node runs (npm ci --prefix tools installs playwright-core; Debian's chromium must be installed)");
    let log = format!("{}{}", stdout(&browser), stderr(&browser));
    assert!(
        browser.status.success(),
        "the browser run failed:\n{log}\n--- daemon:\n{}",
        d.output()
    );
    assert!(log.contains("browser: the status page shows the announcement"), "{log}");
    println!("{log}screenshots: {}", shots.display());

    // what the browser saw is what the chain and the record say
    assert!(world.paused().await.unwrap(), "the vault is paused on chain");
    let tl = get(&http, &format!("{url}/api/v1/incidents/{id}/timeline"), &bob).await;
    assert_eq!(tl["verified"], true);
    let entries = tl["entries"].as_array().unwrap();
    let approvers: Vec<&str> = entries
        .iter()
        .filter(|e| e["kind"] == "approved")
        .map(|e| e["actor"]["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        approvers,
        ["alice", "bob"],
        "one approval each; alice's second click is not recorded"
    );
    let mined = entries.iter().find(|e| e["kind"] == "tx_mined").expect("the pause is mined");
    assert!(mined["body"]["block_number"].as_u64().unwrap() > exploit);
    let published: Vec<&str> = entries
        .iter()
        .filter(|e| e["kind"] == "announcement_published")
        .map(|e| e["actor"]["name"].as_str().unwrap())
        .collect();
    assert_eq!(published, ["alice"]);
    let status: Value =
        http.get(format!("{url}/status.json")).send().await.unwrap().json().await.unwrap();
    assert_eq!(status["announcements"][0]["message"], MESSAGE);
    assert_eq!(status["components"][0]["status"], "identified");

    for shot in ["incident-awaiting-approval.png", "incident.png", "status.png"] {
        let bytes = std::fs::read(shots.join(shot)).unwrap_or_else(|e| panic!("{shot}: {e}"));
        assert!(
            bytes.starts_with(b"\x89PNG") && bytes.len() > 10_000,
            "{shot} is not a real screenshot"
        );
    }
    let (code, _) = d.terminate().await;
    assert_eq!(code, Some(0));
}
