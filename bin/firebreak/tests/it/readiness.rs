//! Ready means every P1 pause path can sign today. A guardian keystore that
//! does not decrypt used to pass every check, `/readyz` said ready, and the
//! pause failed at the exploit. Now `run` refuses to start and names the
//! signer and why; with `--allow-unready` it runs, pages a P1 readiness
//! incident, and `/readyz` answers 503.

use std::time::Duration;

use firebreak_test_utils::{Pauser, World, sink};
use serde_json::Value;

use crate::{contain::Daemon, firebreak, stderr, stdout};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn anvil_an_undecryptable_guardian_keystore_stops_run_or_pages_and_fails_readyz() {
    let world = World::new(Pauser::Guardian).await.unwrap();
    let pager = sink::start().await;
    let dir = tempfile::tempdir().unwrap();
    let key = firebreak_plan::anvil_dev_key(1).unwrap();
    let _ = alloy::signers::local::PrivateKeySigner::encrypt_keystore(
        dir.path(),
        &mut rand::thread_rng(),
        key.credential().to_bytes(),
        "the right password",
        Some("guardian.json"),
    )
    .unwrap();
    let old = "[signers.guardian]\nanvil_account = 1";
    let text = world.plan_text(r#"[{ signer = "guardian" }]"#, &[]);
    assert!(text.contains(old), "the fixture plan changed");
    let mut text = text.replace(
        old,
        &format!(
            "[signers.guardian]\nkeystore = \"guardian.json\"\npassword = {{ env = \"FB_GUARDIAN_PW\" }}\naddress = \"{}\"",
            key.address()
        ),
    );
    std::fs::write(dir.path().join("whsec"), "whsec").unwrap();
    text.push_str(&format!(
        "\n[team.alice]\nname = \"Alice\"\nroles = [\"commander\"]\ntimezone = \"UTC\"\ncontacts = {{ hook = \"@alice\" }}\n[channels.hook]\nkind = \"webhook\"\nurl = \"{}/page\"\nsigning_secret = {{ file = \"whsec\" }}\n",
        pager.url
    ));
    let plan = dir.path().join("plan.toml");
    std::fs::write(&plan, text).unwrap();
    let db = dir.path().join("firebreak.db");
    let from = (world.chain.block_number().await.unwrap() + 1).to_string();
    let args = ["--chain", "local", "--from", &from];
    let wrong = [("FB_GUARDIAN_PW", "a wrong password")];

    // refused, with the signer and the reason
    let d = Daemon::start(&plan, &db, &args, &wrong);
    let (code, out) = d.wait_exit().await;
    assert_eq!(code, Some(3), "not ready has an exit code of its own: {out}");
    assert!(out.contains("the P1 pause of `vault` through signer `guardian` cannot sign"), "{out}");
    assert!(out.contains("cannot decrypt keystore"), "{out}");
    assert!(out.contains("--allow-unready"), "says how to run anyway: {out}");
    assert!(!out.contains("a wrong password"), "the password is never printed: {out}");
    assert!(pager.seen().is_empty(), "nothing runs, nothing is sent");

    // told to run anyway: a P1 readiness incident pages, /readyz answers 503
    let metrics_port =
        std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let metrics_addr = format!("127.0.0.1:{metrics_port}");
    let mut with_flag = args.to_vec();
    with_flag.extend(["--allow-unready", "--metrics-listen", &metrics_addr]);
    let d = Daemon::start(&plan, &db, &with_flag, &wrong);
    let url = d.war_room_url().await;
    pager.wait_for(1).await;
    let page = pager.seen()[0].json();
    assert_eq!(page["severity"], "P1", "{page}");
    assert!(page["title"].as_str().unwrap().contains("NOT READY"), "{page}");
    assert!(page["text"].as_str().unwrap().contains("signer `guardian`"), "{page}");
    let http = reqwest::Client::new();
    let mut answer = None;
    // /readyz is 503 while starting too: wait until the daemon runs
    for _ in 0..100 {
        let r = http.get(format!("{url}/readyz")).send().await.unwrap();
        let status = r.status().as_u16();
        let body = r.text().await.unwrap();
        if body.starts_with("not ready") {
            answer = Some((status, body));
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let (status, body) = answer.expect("/readyz never said why it is not ready");
    assert_eq!(status, 503);
    assert!(body.contains("signer `guardian`") && body.contains("cannot decrypt"), "{body}");
    // the war room's /metrics wants a token; the metrics listener does not
    let r = http.get(format!("{url}/metrics")).send().await.unwrap();
    assert_eq!(r.status().as_u16(), 401);
    let metrics = http
        .get(format!("http://{metrics_addr}/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(metrics.contains("firebreak_ready 0"), "{metrics}");
    // the dashboard shows it in red to every member
    let token = crate::war_room::token(&plan, &db, "alice");
    let page =
        http.get(format!("{url}/")).bearer_auth(&token).send().await.unwrap().text().await.unwrap();
    assert!(page.contains("id=\"not-ready\"") && page.contains("NOT READY"), "{page}");
    assert!(page.contains("signer `guardian`"), "{page}");
    let list = firebreak(&["incident", "list", "--db", &db.display().to_string(), "--json"]);
    assert!(list.status.success(), "{}", stderr(&list));
    let list: Value = serde_json::from_str(&stdout(&list)).unwrap();
    let incident = &list.as_array().map_or(&list["incidents"], |_| &list)[0];
    assert_eq!(incident["severity"], "P1", "{list}");
    assert!(incident["title"].as_str().unwrap().contains("NOT READY"), "{list}");
    let (code, out) = d.terminate().await;
    assert_eq!(code, Some(0), "{out}");
    assert!(!out.contains("a wrong password"), "the password is never printed: {out}");
}
