//! `firebreak demo --exit --json` end to end, then `firebreak postmortem` on
//! the incident it left behind.

use std::process::Command;

use crate::{firebreak, stderr, stdout};

/// `demo --pre-empt`: where the pause and the drain landed, for each attack.
/// Whether an attack is pre-empted depends on when in the block interval it
/// reaches the pool (about 4 in 100 come too late, see docs/pre-empt.md), so
/// this checks that the report tells the truth either way; the mechanism
/// itself is pinned, blocks mined by the test, in firebreak-node's
/// `preempt::` tests.
#[test]
fn anvil_demo_pre_empt_reports_where_the_pause_and_the_drain_landed() {
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_firebreak"))
        .args(["demo", "--pre-empt", "--runs", "2", "--exit", "--json", "--dir"])
        .arg(dir.path())
        .output()
        .unwrap();
    let report: serde_json::Value =
        serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", stderr(&out)));
    assert_eq!(report["runs"], 2, "{report:#}");
    let each = report["each"].as_array().unwrap();
    assert_eq!(each.len(), 2);
    let mut pre_empted = 0;
    for r in each {
        let exploit = r["exploit_block"].as_u64().unwrap();
        let status = r["exploit_status"].as_str().unwrap();
        assert!(matches!(status, "reverted" | "succeeded"), "{r:#}");
        if r["pre_empted"] == true {
            pre_empted += 1;
            assert_eq!(r["pause_block"].as_u64(), Some(exploit), "{r:#}");
            assert!(r["pause_index"].as_u64().unwrap() < r["exploit_index"].as_u64().unwrap());
            assert_eq!(status, "reverted");
            assert!(r["seen_to_pause_accepted_ms"].as_u64().is_some(), "{r:#}");
        } else {
            assert!(r["reason"].as_str().is_some_and(|w| !w.is_empty()), "{r:#}");
        }
    }
    assert_eq!(report["pre_empted"], pre_empted);
    assert_eq!(report["not_pre_empted"].as_array().unwrap().len(), 2 - pre_empted as usize);
    // the first run's figures at the top, as scripts read them
    for key in ["exploit_block", "pause_block", "exploit_index", "pause_index", "exploit_status"] {
        assert_eq!(report[key], each[0][key], "{key}");
    }
    // passes only when at least 95 % were pre-empted
    assert_eq!(out.status.code(), Some(if pre_empted == 2 { 0 } else { 1 }), "{}", stderr(&out));
    assert!(stderr(&out).contains("run 1/2:"), "progress goes to stderr: {}", stderr(&out));
    assert!(dir.path().join("pre-empt-plan.toml").is_file());
}

#[test]
fn anvil_demo_pauses_in_the_block_after_the_exploit_and_postmortem_reports_it() {
    let dir = tempfile::tempdir().unwrap();
    let demo_dir = dir.path().join("demo");
    let out = Command::new(env!("CARGO_BIN_EXE_firebreak"))
        .args(["demo", "--exit", "--json", "--listen", "127.0.0.1:0", "--dir"])
        .arg(&demo_dir)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let exploit = report["exploit_block"].as_u64().unwrap();
    assert_eq!(report["pause_block"].as_u64().unwrap(), exploit + 1, "{report:#}");
    assert_eq!(report["detection_block"].as_u64().unwrap(), exploit);
    // the monitor is one a team would ship: an honest update raised nothing
    assert!(report["honest_update_block"].as_u64().unwrap() < exploit, "{report:#}");
    assert_eq!(report["alerts_before_attack"], 0, "{report:#}");
    assert_eq!(report["drain_reverted"], true, "the pause lands before the drain");
    assert_eq!(report["funds_lost"].as_f64(), Some(0.0));
    assert_eq!(report["funds_saved"].as_f64(), Some(1_000_000.0));
    assert!(report["dashboard"].as_str().unwrap().starts_with("http://127.0.0.1:"));
    assert!(stderr(&out).contains("ATTACK 1/2"), "progress goes to stderr: {}", stderr(&out));
    for file in ["demo-plan.toml", "demo.db", "postmortem.md", "postmortem.html", "timeline.svg"] {
        assert!(demo_dir.join(file).is_file(), "no {file}");
    }
    // the plan the demo wrote is a valid plan
    let plan = demo_dir.join("demo-plan.toml");
    let check = firebreak(&["check", plan.to_str().unwrap()]);
    assert_eq!(check.status.code(), Some(0), "{}", stderr(&check));

    // a post-mortem of the same incident, from the store alone
    let pm_dir = dir.path().join("pm");
    let db = demo_dir.join("demo.db");
    let pm = firebreak(&[
        "postmortem",
        "1",
        "--db",
        db.to_str().unwrap(),
        "--out",
        pm_dir.to_str().unwrap(),
    ]);
    assert_eq!(pm.status.code(), Some(0), "{}", stderr(&pm));
    assert!(stdout(&pm).contains("postmortem.html"), "{}", stdout(&pm));
    let md = std::fs::read_to_string(pm_dir.join("postmortem.md")).unwrap();
    for section in [
        "## Summary",
        "## Impact",
        "## Metrics",
        "## Timeline",
        "## Actions and approvals",
        "## Communications",
        "## Root cause",
        "## Five whys",
        "## What went well",
        "## Where we got lucky",
        "## Follow-ups",
    ] {
        assert!(md.contains(section), "no `{section}` in the post-mortem");
    }
    assert!(md.contains(&format!("| block of the pause | {} |", exploit + 1)), "{md}");
    assert!(md.contains("Hash chain: intact"));
    let html = std::fs::read_to_string(pm_dir.join("postmortem.html")).unwrap();
    assert!(
        html.starts_with("<!doctype html>") && html.contains("<svg") && html.contains("</html>")
    );
    assert!(!html.contains("<script"), "self-contained and static");
    let svg = std::fs::read_to_string(pm_dir.join("timeline.svg")).unwrap();
    assert!(svg.starts_with("<svg") && svg.ends_with("</svg>"));
    let show = firebreak(&["incident", "show", "1", "--json", "--db", db.to_str().unwrap()]);
    let doc: serde_json::Value = serde_json::from_slice(&show.stdout).unwrap();
    let entries = doc["timeline"].as_array().unwrap().len();
    assert_eq!(svg.matches("<circle").count(), entries, "one dot per timeline entry");
    let missing = firebreak(&["postmortem", "9", "--db", db.to_str().unwrap()]);
    assert_eq!(missing.status.code(), Some(1));
    assert!(stderr(&missing).contains("no incident 9"), "{}", stderr(&missing));
}

/// The example drill scenario, as the docs run it: against the chain a
/// lingering `firebreak demo` keeps up.
#[tokio::test]
async fn anvil_example_drill_scenario_passes_against_the_demo_chain() {
    use std::io::{BufRead as _, BufReader};
    let dir = tempfile::tempdir().unwrap();
    let demo_dir = dir.path().join("demo");
    let mut demo = Command::new(env!("CARGO_BIN_EXE_firebreak"))
        .args(["demo", "--listen", "127.0.0.1:0", "--dir"])
        .arg(&demo_dir)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let stderr_lines = BufReader::new(demo.stderr.take().unwrap());
    // wait until the demo says it keeps running
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in stderr_lines.lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    let mut seen = String::new();
    loop {
        let line = rx
            .recv_timeout(std::time::Duration::from_secs(60))
            .expect("the demo never said it keeps running");
        seen.push_str(&line);
        seen.push('\n');
        if line.contains("dashboard: ") {
            break;
        }
    }
    // the war room shows the incident with its timeline chart to a signed-in member
    let url = seen.lines().find_map(|l| l.trim().strip_prefix("dashboard: ")).unwrap().to_owned();
    loop {
        let line = rx.recv_timeout(std::time::Duration::from_secs(10)).unwrap();
        seen.push_str(&line);
        seen.push('\n');
        if line.contains("status page: ") {
            break;
        }
    }
    let token =
        seen.lines().find_map(|l| l.trim().strip_prefix("sign in as alice: ")).unwrap().to_owned();
    let http = reqwest::Client::new();
    let stranger = http.get(&url).send().await.unwrap();
    assert!(stranger.url().path().starts_with("/login"), "strangers are sent to the login page");
    let page = http.get(&url).bearer_auth(&token).send().await.unwrap().text().await.unwrap();
    assert!(
        page.contains("Incident 1:") && page.contains("<svg") && page.contains("DRILL"),
        "{page}"
    );
    assert!(page.contains("announcement-approve-1"), "the drafted update waits for review: {page}");
    let list = http.get(url.replace("/incidents/1", "/")).bearer_auth(&token).send().await.unwrap();
    let list = list.text().await.unwrap();
    assert!(list.contains("href=\"/incidents/1\"") && list.contains("DRILL"), "{list}");
    let status = reqwest::get(url.replace("/incidents/1", "/status.json")).await.unwrap();
    let status: serde_json::Value = status.json().await.unwrap();
    assert_eq!(status["announcements"], serde_json::json!([]), "nothing public before review");
    let plan = demo_dir.join("demo-plan.toml");
    let out = dir.path().join("report");
    let scenario = crate::repo_root().join("examples/drills/oracle-manipulation.toml");
    let drill = Command::new(env!("CARGO_BIN_EXE_firebreak"))
        .args(["drill", plan.to_str().unwrap(), "--scenario", scenario.to_str().unwrap()])
        .args(["--out", out.to_str().unwrap(), "--json"])
        .env("FIREBREAK_DATA_DIR", dir.path()) // the drill record stays in the temp dir
        .output()
        .unwrap();
    // the key-compromise drill, on another fork of the same chain
    let stolen_out = dir.path().join("stolen");
    let scenario = crate::repo_root().join("examples/drills/stolen-admin-key.toml");
    let stolen = Command::new(env!("CARGO_BIN_EXE_firebreak"))
        .args(["drill", plan.to_str().unwrap(), "--scenario", scenario.to_str().unwrap()])
        .args(["--out", stolen_out.to_str().unwrap(), "--json"])
        .env("FIREBREAK_DATA_DIR", dir.path())
        .output()
        .unwrap();
    let owner_out = dir.path().join("owner");
    let scenario = crate::repo_root().join("examples/drills/stolen-safe-owner.toml");
    let owner = Command::new(env!("CARGO_BIN_EXE_firebreak"))
        .args(["drill", plan.to_str().unwrap(), "--scenario", scenario.to_str().unwrap()])
        .args(["--out", owner_out.to_str().unwrap(), "--json"])
        .env("FIREBREAK_DATA_DIR", dir.path())
        .output()
        .unwrap();
    let pid = demo.id().to_string();
    Command::new("kill").args(["-INT", &pid]).status().unwrap();
    let status = demo.wait().unwrap();
    assert_eq!(drill.status.code(), Some(0), "{}\n{}", stderr(&drill), stdout(&drill));
    let report: serde_json::Value = serde_json::from_slice(&drill.stdout).unwrap();
    if report["passed"] != true {
        // the drill's own record says why
        let db = out.join("drill.db").display().to_string();
        let show = firebreak(&["incident", "show", "1", "--db", &db]);
        panic!("{report:#}\n{}\n{}", stderr(&drill), stdout(&show));
    }
    assert_eq!(
        report["pause_block"].as_u64().unwrap(),
        report["exploit_block"].as_u64().unwrap() + 1
    );
    assert_eq!(report["impact"]["saved"].as_f64(), Some(1_000_000.0), "{report:#}");
    assert!(report["time_to_acknowledge_ms"].as_u64().is_some());
    for f in ["drill-report.md", "drill-report.html", "drill-report.json", "timeline.svg"] {
        assert!(out.join(f).is_file(), "no {f}");
    }
    assert!(status.success(), "the demo stops cleanly on SIGINT");
    assert_eq!(stolen.status.code(), Some(0), "{}\n{}", stderr(&stolen), stdout(&stolen));
    let stolen: serde_json::Value = serde_json::from_slice(&stolen.stdout).unwrap();
    assert_eq!(stolen["passed"], true, "{stolen:#}");
    assert_eq!(stolen["contained_by"], "step `revoke`");
    assert_eq!(stolen["detection_block"], stolen["exploit_block"], "{stolen:#}");
    assert!(stolen["exploit_to_pause_ms"].as_u64().is_some(), "{stolen:#}");
    // both contracts' roles of the stolen key, revoked in one Safe transaction
    let db = stolen_out.join("drill.db").display().to_string();
    let show = firebreak(&["incident", "show", "1", "--db", &db, "--json"]);
    let show: serde_json::Value = serde_json::from_slice(&show.stdout).unwrap();
    let revoked: Vec<&str> = show["actions"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|a| a["key"].as_str().unwrap().rsplit('/').next().unwrap().split(','))
        .collect();
    assert!(
        revoked.iter().any(|l| l.starts_with("treasury:0x189ab7a9"))
            && revoked.iter().any(|l| l.starts_with("treasury:0x00000000"))
            && revoked.iter().any(|l| l.starts_with("vault:0x00000000")),
        "{show:#}"
    );
    let md = std::fs::read_to_string(stolen_out.join("drill-report.md")).unwrap();
    assert!(md.contains("| first malicious transaction → step `revoke` done |"), "{md}");
    assert_eq!(owner.status.code(), Some(0), "{}\n{}", stderr(&owner), stdout(&owner));
    let owner: serde_json::Value = serde_json::from_slice(&owner.stdout).unwrap();
    assert_eq!(owner["passed"], true, "{owner:#}");
    assert_eq!(owner["contained_by"], "step `rotate`");
    assert_eq!(owner["detection_block"], owner["exploit_block"], "{owner:#}");
    let db = owner_out.join("drill.db").display().to_string();
    let show = firebreak(&["incident", "show", "1", "--db", &db, "--json"]);
    let show: serde_json::Value = serde_json::from_slice(&show.stdout).unwrap();
    let steps = show["steps"].as_array().unwrap();
    assert_eq!(steps.len(), 2, "{show:#}");
    assert!(steps.iter().all(|s| s["status"] == "succeeded"), "{show:#}");
    let records: Vec<_> = std::fs::read_dir(dir.path().join("drills")).unwrap().collect();
    assert_eq!(records.len(), 1, "the plan's latest drill is recorded for `verify`");
}
