//! `firebreak run` as a process on a real anvil: a pause in the next block,
//! `incident list/show/verify` (and tampering caught), `safe sign` by a
//! second owner, and crash safety — the daemon killed with SIGKILL at each
//! crash point and restarted leaves exactly one pause on chain and a
//! complete, verifying timeline.

use std::{
    io::{BufRead as _, BufReader},
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    sync::{Arc, Mutex},
    time::Duration,
};

use firebreak_test_utils::{Pauser, World};

use crate::{firebreak, stderr, stdout};

pub(crate) struct Daemon {
    child: Child,
    lines: Arc<Mutex<Vec<String>>>,
}

/// A test that fails leaves no daemon behind (it would run on, using a
/// core, after the suite).
impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Daemon {
    pub(crate) fn start(plan: &Path, db: &Path, extra: &[&str], env: &[(&str, &str)]) -> Self {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_firebreak"));
        cmd.arg("run").arg(plan).arg("--db").arg(db).args(["--json", "--poll", "100ms"]);
        cmd.args(["--listen", "127.0.0.1:0"]);
        cmd.args(extra).env_remove("FIREBREAK_HALT_AT").env_remove("FIREBREAK_PANIC_TASK");
        for (k, v) in env {
            cmd.env(k, v);
        }
        let mut child = cmd.stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
        let lines = Arc::new(Mutex::new(Vec::new()));
        for stream in [
            Box::new(child.stdout.take().unwrap()) as Box<dyn std::io::Read + Send>,
            Box::new(child.stderr.take().unwrap()),
        ] {
            let lines = lines.clone();
            std::thread::spawn(move || {
                for line in BufReader::new(stream).lines().map_while(Result::ok) {
                    lines.lock().unwrap().push(line);
                }
            });
        }
        Self { child, lines }
    }

    pub(crate) fn output(&self) -> String {
        self.lines.lock().unwrap().join("\n")
    }

    /// Waits for the war room (`--json` output) and returns its base URL.
    pub(crate) async fn war_room_url(&self) -> String {
        self.wait_for("\"type\":\"serving\"").await;
        self.output()
            .lines()
            .find_map(|l| {
                serde_json::from_str::<serde_json::Value>(l).ok().filter(|v| v["type"] == "serving")
            })
            .and_then(|v| v["url"].as_str().map(str::to_owned))
            .expect("a serving event with its URL")
    }

    pub(crate) async fn wait_for(&self, text: &str) {
        for _ in 0..300 {
            if self.lines.lock().unwrap().iter().any(|l| l.contains(text)) {
                return;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("the daemon never printed `{text}`:\n{}", self.output());
    }

    /// SIGKILL: no cleanup of any kind.
    fn kill9(mut self) {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
    }

    /// Waits for the daemon to end on its own; its exit status and output.
    pub(crate) async fn wait_exit(mut self) -> (Option<i32>, String) {
        for _ in 0..300 {
            if let Some(status) = self.child.try_wait().unwrap() {
                // the reader threads catch up with the last lines
                tokio::time::sleep(Duration::from_millis(200)).await;
                return (status.code(), self.output());
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        self.child.kill().unwrap();
        panic!("the daemon did not stop by itself:\n{}", self.output());
    }

    /// SIGTERM, then the exit status.
    pub(crate) async fn terminate(mut self) -> (Option<i32>, String) {
        let pid = self.child.id().to_string();
        Command::new("kill").args(["-TERM", &pid]).status().unwrap();
        for _ in 0..100 {
            if let Some(status) = self.child.try_wait().unwrap() {
                tokio::time::sleep(Duration::from_millis(100)).await;
                return (status.code(), self.output());
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        self.child.kill().unwrap();
        panic!("the daemon did not stop on SIGTERM:\n{}", self.output());
    }
}

struct Setup {
    world: World,
    dir: tempfile::TempDir,
    plan: PathBuf,
    db: PathBuf,
    from: u64,
}

async fn setup(pauser: Pauser, via: &str, hot: &[&str]) -> Setup {
    setup_on(World::new(pauser).await.unwrap(), via, hot).await
}

async fn setup_on(world: World, via: &str, hot: &[&str]) -> Setup {
    let dir = tempfile::tempdir().unwrap();
    let plan = dir.path().join("plan.toml");
    std::fs::write(&plan, world.plan_text(via, hot)).unwrap();
    let db = dir.path().join("firebreak.db");
    let from = world.chain.block_number().await.unwrap() + 1;
    Setup { world, dir, plan, db, from }
}

fn db_args(s: &Setup) -> Vec<String> {
    vec!["--db".into(), s.db.display().to_string()]
}

fn cli(s: &Setup, args: &[&str]) -> std::process::Output {
    let mut all: Vec<String> = args.iter().map(|a| (*a).to_owned()).collect();
    all.extend(db_args(s));
    let refs: Vec<&str> = all.iter().map(String::as_str).collect();
    firebreak(&refs)
}

async fn wait_paused(w: &World, context: impl Fn() -> String) {
    for _ in 0..300 {
        if w.paused().await.unwrap() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the vault was never paused:\n{}", context());
}

/// Waits until the store holds the mined pause and the incident it contains
/// (the receipt, the step and the status are written one after the other).
async fn wait_recorded(s: &Setup, daemon: &Daemon) -> serde_json::Value {
    for _ in 0..100 {
        let out = cli(s, &["incident", "show", "1", "--json"]);
        if out.status.success() {
            let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
            if doc["actions"].as_array().unwrap().iter().any(|a| a["status"] == "mined")
                && doc["incident"]["status"] == "contained"
            {
                return doc;
            }
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("no mined action recorded:\n{}", daemon.output());
}

#[tokio::test]
async fn anvil_run_pauses_in_the_next_block_and_verify_catches_tampering() {
    // the chain mines only when the test says so: the next block holds the
    // pause however busy the machine is
    let world = World::manual(Pauser::Guardian).await.unwrap();
    let s = setup_on(world, r#"[{ signer = "guardian" }]"#, &[]).await;
    let from = s.from.to_string();
    let d = Daemon::start(&s.plan, &s.db, &["--chain", "local", "--from", &from], &[]);
    d.wait_for("protecting").await;
    let n = s.world.exploit().await.unwrap();
    let next = s.world.mine_when_pending(Duration::from_secs(30)).await.unwrap();
    assert_eq!(next, n + 1);
    wait_paused(&s.world, || d.output()).await;
    let doc = wait_recorded(&s, &d).await;
    let (code, output) = d.terminate().await;
    assert_eq!(code, Some(0), "{output}");
    assert!(output.contains("\"type\":\"incident_opened\""), "{output}");

    let pauses = s.world.pause_transactions(s.from).await.unwrap();
    assert_eq!(pauses, [(n + 1, s.world.chain.dev_address(1))], "exploit in block {n}");
    assert_eq!(doc["incident"]["status"], "contained");
    assert_eq!(doc["steps"][0]["status"], "succeeded");
    assert_eq!(doc["timeline_intact"], true);

    let list = cli(&s, &["incident", "list"]);
    assert!(stdout(&list).contains("contained"), "{}", stdout(&list));
    let show = cli(&s, &["incident", "show", "1"]);
    let text = stdout(&show);
    for want in ["incident 1", "steps", "on-chain actions", "tx_mined", "timeline intact"] {
        assert!(text.contains(want), "no `{want}` in:\n{text}");
    }
    let ok = cli(&s, &["incident", "verify", "1"]);
    assert_eq!(ok.status.code(), Some(0), "{}", stderr(&ok));
    assert!(stdout(&ok).contains("timeline intact"), "{}", stdout(&ok));

    // someone edits the record behind firebreak's back
    tamper(&s.db, "UPDATE timeline SET body = replace(body, 'guardian', 'someone') WHERE kind = 'action_planned'").await;
    let bad = cli(&s, &["incident", "verify", "1"]);
    assert_eq!(bad.status.code(), Some(1));
    assert!(stdout(&bad).contains("TIMELINE BROKEN"), "{}", stdout(&bad));
    assert!(stderr(&bad).contains("was altered"), "{}", stderr(&bad));
    drop(s.dir);
}

async fn tamper(db: &Path, sql: &'static str) {
    use sqlx::ConnectOptions as _;
    let mut conn = sqlx::sqlite::SqliteConnectOptions::new().filename(db).connect().await.unwrap();
    let done = sqlx::query(sql).execute(&mut conn).await.unwrap();
    assert_eq!(done.rows_affected(), 1);
}

#[tokio::test]
async fn anvil_safe_sign_by_a_second_owner_completes_the_pause() {
    let s = setup(Pauser::Safe, r#"[{ safe = "emergency" }]"#, &["owner-a"]).await;
    let from = s.from.to_string();
    let d = Daemon::start(&s.plan, &s.db, &["--chain", "local", "--from", &from], &[]);
    d.wait_for("protecting").await;
    tokio::time::sleep(Duration::from_secs(1)).await;
    s.world.exploit().await.unwrap();
    d.wait_for("firebreak safe sign").await;
    assert!(!s.world.paused().await.unwrap());

    // the second owner's key, in an encrypted keystore as a human would hold it
    let owner = firebreak_plan::anvil_dev_key(5).unwrap();
    let _ = alloy::signers::local::PrivateKeySigner::encrypt_keystore(
        s.dir.path(),
        &mut rand::thread_rng(),
        owner.credential().to_bytes(),
        "owner password",
        Some("carol.json"),
    )
    .unwrap();
    let keystore = s.dir.path().join("carol.json").display().to_string();
    let plan = s.plan.display().to_string();
    let db = s.db.display().to_string();
    let args = [
        "safe",
        "sign",
        "1",
        "--plan",
        &plan,
        "--keystore",
        &keystore,
        "--password-env",
        "OWNER_PW",
        "--as",
        "carol",
        "--yes",
        "--db",
        &db,
    ];
    let out = Command::new(env!("CARGO_BIN_EXE_firebreak"))
        .args(args)
        .env("OWNER_PW", "owner password")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let text = stdout(&out);
    // what a hardware wallet shows, and the call decoded from the plan's ABI
    for shown in ["domain hash   0x", "message hash  0x", "SafeTx hash   0x", "vault.pause()"] {
        assert!(text.contains(shown), "{shown} not shown:\n{text}");
    }
    assert!(text.contains("signature recorded: 2 of 2"), "{text}");
    let all = format!("{}{}", stdout(&out), stderr(&out));
    assert!(!all.contains("owner password"), "the password leaked");
    wait_paused(&s.world, || d.output()).await;
    wait_recorded(&s, &d).await;
    let (code, output) = d.terminate().await;
    assert_eq!(code, Some(0), "{output}");
    let show = stdout(&cli(&s, &["incident", "show", "1"]));
    assert!(show.contains("member:carol") && show.contains("safe_signature"), "{show}");
    assert_eq!(s.world.pause_transactions(s.from).await.unwrap().len(), 1);
}

/// `firebreak safe sign` refuses a SafeTx that DELEGATECALLs a contract
/// outside the plan's allow-list (Bybit's takeover), and signs it only on a
/// commander's override, which goes on the timeline.
#[tokio::test]
async fn anvil_safe_sign_refuses_a_foreign_delegatecall_unless_a_commander_overrides() {
    use firebreak_test_utils::WorldExt as _;
    let world = World::new(Pauser::Safe).await.unwrap();
    let mut text = world.plan_text(r#"[{ safe = "emergency" }]"#, &[]);
    text.push_str(&firebreak_test_utils::fixture_team(&[
        ("alice", &["commander", "signer"]),
        ("carol", &["operator", "signer"]),
    ]));
    let s = setup_on(world, "", &[]).await;
    std::fs::write(&s.plan, &text).unwrap();
    let plan = std::sync::Arc::new(s.world.load_plan(&text).unwrap());
    let store = std::sync::Arc::new(firebreak_store::SqliteStore::open(&s.db).await.unwrap());
    let manager = firebreak_respond::IncidentManager::new(plan, store.clone());
    let id = manager.on_alert(&s.world.alert("P1", "bybit")).await.unwrap().incident;
    // a queued SafeTx that would DELEGATECALL an unknown contract
    let evil = alloy::primitives::Address::repeat_byte(0xee);
    let mut tx = firebreak_safe::SafeTx::call(
        evil,
        alloy::primitives::Bytes::from(vec![0xa9, 0x05, 0x9c, 0xbb]),
        alloy::primitives::U256::ZERO,
    );
    tx.operation = firebreak_safe::Operation::DelegateCall;
    let hash = tx.hash(s.world.chain.chain_id(), s.world.safe);
    let action = firebreak_store::ActionRecord {
        key: format!("{}/pause-1/safe:emergency/vault", id.0).parse().unwrap(),
        incident: id,
        step_id: "pause-1".into(),
        chain_id: s.world.chain.chain_id(),
        kind: firebreak_store::ActionKind::Safe,
        from: alloy::primitives::Address::ZERO,
        to: s.world.safe,
        calldata: Default::default(),
        value: Default::default(),
        nonce: None,
        status: firebreak_store::ActionStatus::AwaitingSignatures,
        attempts: Vec::new(),
        receipt: None,
        safe_tx: Some(serde_json::to_value(&tx).unwrap()),
        safe_tx_hash: Some(hash),
        error: None,
        created_ms: 0,
        updated_ms: 0,
    };
    firebreak_store::ActionStore::put_action(&*store, action, None).await.unwrap();
    drop(manager);
    drop(store);
    let owner = format!(
        "0x{}",
        alloy::primitives::hex::encode(
            firebreak_plan::anvil_dev_key(3).unwrap().credential().to_bytes()
        )
    );
    let plan_arg = s.plan.display().to_string();
    let sign = |extra: &[&str]| {
        let mut args =
            vec!["safe", "sign", "1", "--plan", &plan_arg, "--key-env", "OWNER_KEY", "--yes"];
        args.extend_from_slice(extra);
        let mut all: Vec<String> = args.iter().map(|a| (*a).to_owned()).collect();
        all.extend(db_args(&s));
        Command::new(env!("CARGO_BIN_EXE_firebreak"))
            .args(&all)
            .env("OWNER_KEY", &owner)
            .output()
            .unwrap()
    };
    let refused = sign(&[]);
    assert_eq!(refused.status.code(), Some(1), "{}", stderr(&refused));
    assert!(
        stdout(&refused).contains(&format!("operation     DELEGATECALL {evil}")),
        "{}",
        stdout(&refused)
    );
    assert!(
        stderr(&refused)
            .contains(&format!("refusing to sign: the SafeTx makes a DELEGATECALL to {evil}")),
        "{}",
        stderr(&refused)
    );
    // an operator cannot override
    let operator = sign(&["--as", "carol", "--override", "trust me"]);
    assert_eq!(operator.status.code(), Some(1), "{}", stderr(&operator));
    let commander = sign(&["--as", "alice", "--override", "the audited migration module"]);
    assert_eq!(commander.status.code(), Some(0), "{}", stderr(&commander));
    assert!(stdout(&commander).contains("signature recorded: 1 of 2"), "{}", stdout(&commander));
    let show = stdout(&cli(&s, &["incident", "show", "1"]));
    assert!(
        show.contains("delegatecall_override") && show.contains("the audited migration module"),
        "{show}"
    );
}

/// Kills the daemon with SIGKILL at `point`, restarts it, and checks that
/// exactly one pause reached the chain and the record is complete.
#[tokio::test]
async fn anvil_a_task_that_panics_stops_the_daemon_naming_the_task() {
    needs_crash_points();
    let s = setup(Pauser::Guardian, r#"[{ signer = "guardian" }]"#, &[]).await;
    for task in ["executor", "watch:local"] {
        let d =
            Daemon::start(&s.plan, &s.db, &["--chain", "local"], &[("FIREBREAK_PANIC_TASK", task)]);
        let (code, output) = d.wait_exit().await;
        assert_eq!(code, Some(1), "{output}");
        assert!(
            output.contains(&format!(
                "error: firebreak stopped\n  caused by: task `{task}` panicked: FIREBREAK_PANIC_TASK={task} (test hook)"
            )),
            "{output}"
        );
    }
    // without the hook the same plan and store run and stop cleanly
    let d = Daemon::start(&s.plan, &s.db, &["--chain", "local"], &[]);
    d.wait_for("protecting").await;
    let (code, output) = d.terminate().await;
    assert_eq!(code, Some(0), "{output}");
}

/// Recovery reads what attackers put on chain; a round that panics is
/// reported and retried, and the daemon still pauses and stops cleanly.
#[tokio::test]
async fn anvil_a_panicking_recovery_round_never_stops_the_pause() {
    needs_crash_points();
    let s = setup(Pauser::Guardian, r#"[{ signer = "guardian" }]"#, &[]).await;
    let mut text = std::fs::read_to_string(&s.plan).unwrap();
    text.push_str(&firebreak_test_utils::fixture_safe_harbor("retainable = false", None));
    std::fs::write(&s.plan, text).unwrap();
    let d =
        Daemon::start(&s.plan, &s.db, &["--chain", "local"], &[("FIREBREAK_PANIC_RECOVERY", "1")]);
    d.wait_for("protecting").await;
    s.world.exploit().await.unwrap();
    wait_paused(&s.world, || d.output()).await;
    d.wait_for("recovery: panicked: FIREBREAK_PANIC_RECOVERY=1 (test hook)").await;
    let (code, output) = d.terminate().await;
    assert_eq!(code, Some(0), "the daemon ran on and stopped cleanly: {output}");
}

#[tokio::test]
async fn anvil_a_second_daemon_on_the_same_store_refuses_to_start() {
    let s = setup(Pauser::Guardian, r#"[{ signer = "guardian" }]"#, &[]).await;
    let first = Daemon::start(&s.plan, &s.db, &["--chain", "local"], &[]);
    first.wait_for("protecting").await;
    let second = Daemon::start(&s.plan, &s.db, &["--chain", "local"], &[]);
    let (code, output) = second.wait_exit().await;
    assert_eq!(code, Some(1), "{output}");
    assert!(output.contains("another firebreak daemon is running on the store"), "{output}");
    let (code, output) = first.terminate().await;
    assert_eq!(code, Some(0), "{output}");
    // once the first is gone, the store is free again
    let third = Daemon::start(&s.plan, &s.db, &["--chain", "local"], &[]);
    third.wait_for("protecting").await;
    let (code, output) = third.terminate().await;
    assert_eq!(code, Some(0), "{output}");
}

/// The crash points and task hooks exist only in a build with the
/// `crash-points` feature (the test command's `--all-features`): fail
/// loudly, never skip, when the binary lacks them.
fn needs_crash_points() {
    let v = stdout(&firebreak(&["--version"]));
    assert!(
        v.contains("crash points"),
        "this test needs the test hooks: run it with `--all-features` (as ./scripts/test.sh does); the binary says: {v}"
    );
}

async fn crash_and_restart(point: &str) {
    needs_crash_points();
    let s = setup(Pauser::Guardian, r#"[{ signer = "guardian" }]"#, &[]).await;
    let from = s.from.to_string();
    let first = Daemon::start(
        &s.plan,
        &s.db,
        &["--chain", "local", "--from", &from],
        &[("FIREBREAK_HALT_AT", point)],
    );
    first.wait_for("protecting").await;
    tokio::time::sleep(Duration::from_secs(1)).await;
    s.world.exploit().await.unwrap();
    first.wait_for(&format!("halted at {point}")).await;
    first.kill9();
    if point != "after-sign" && point != "after-alert" {
        // it was broadcast before the crash: it lands without the daemon
        wait_paused(&s.world, || "(no daemon running)".to_owned()).await;
    }
    // the restart resumes from the store's checkpoint
    let second = Daemon::start(&s.plan, &s.db, &["--chain", "local"], &[]);
    wait_paused(&s.world, || second.output()).await;
    let doc = wait_recorded(&s, &second).await;
    // a few more blocks: nothing else may be sent
    tokio::time::sleep(Duration::from_secs(3)).await;
    let (code, output) = second.terminate().await;
    assert_eq!(code, Some(0), "{output}");

    let pauses = s.world.pause_transactions(s.from).await.unwrap();
    assert_eq!(pauses.len(), 1, "crash at {point}: {pauses:?}");
    let actions = doc["actions"].as_array().unwrap();
    assert_eq!(actions.len(), 1, "{actions:?}");
    assert_eq!(actions[0]["attempts"].as_array().unwrap().len(), 1, "one signed transaction");
    let verify = cli(&s, &["incident", "verify", "1"]);
    assert_eq!(verify.status.code(), Some(0), "{}", stdout(&verify));
    let kinds: Vec<String> = cli_timeline(&s);
    for k in ["incident_opened", "action_planned", "tx_signed", "tx_mined", "status"] {
        assert!(kinds.iter().any(|x| x == k), "crash at {point}: no `{k}` in {kinds:?}");
    }
}

fn cli_timeline(s: &Setup) -> Vec<String> {
    let out = cli(s, &["incident", "show", "1", "--json"]);
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    doc["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn anvil_crash_after_the_alert_then_restart_pauses_once() {
    crash_and_restart("after-alert").await;
}

#[tokio::test]
async fn anvil_crash_after_signing_then_restart_pauses_once() {
    crash_and_restart("after-sign").await;
}

#[tokio::test]
async fn anvil_crash_after_broadcast_then_restart_pauses_once() {
    crash_and_restart("after-broadcast").await;
}

#[tokio::test]
async fn anvil_crash_before_the_receipt_then_restart_pauses_once() {
    crash_and_restart("before-receipt").await;
}

/// `firebreak safe allow`: a hash the team approved goes on the allow-list
/// with who and why; a malformed hash, a member who may not approve and a
/// missing reason are refused, saying how to fix them.
#[test]
fn safe_allow_keeps_the_hashes_the_team_approved_with_who_and_why() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("f.db").display().to_string();
    let plan = "examples/plans/acme-lending.toml";
    let hash = format!("0x{}", "ab".repeat(32));
    let base = ["safe", "allow", plan, "--safe", "emergency", "--db", &db];
    let run = |extra: &[&str]| {
        let mut args = base.to_vec();
        args.extend_from_slice(extra);
        crate::firebreak(&args)
    };
    let bad = run(&["0x1234", "--as", "alice", "--reason", "x"]);
    assert_eq!(bad.status.code(), Some(1));
    assert!(crate::stderr(&bad).contains("is not a SafeTx hash"), "{}", crate::stderr(&bad));
    let comms = run(&[&hash, "--as", "erin", "--reason", "x"]);
    assert!(crate::stderr(&comms).contains("is not a commander, operator or signer"));
    let why = run(&[&hash, "--as", "alice"]);
    assert!(crate::stderr(&why).contains("--reason TEXT"), "{}", crate::stderr(&why));

    let ok = run(&[&hash, "--as", "alice", "--reason", "monthly payroll, OPS-112"]);
    assert_eq!(ok.status.code(), Some(0), "{}", crate::stderr(&ok));
    assert!(crate::stdout(&ok).starts_with(&format!("allowed SafeTx {hash} on Safe `emergency`")));
    let again = run(&[&hash, "--as", "bob", "--reason", "again"]);
    assert!(crate::stdout(&again).contains("was already on the allow-list"));
    let list = run(&["--json"]);
    let list: serde_json::Value = serde_json::from_slice(&list.stdout).unwrap();
    assert_eq!(list.as_array().unwrap().len(), 1);
    assert_eq!(list[0]["member"], "alice");
    assert_eq!(list[0]["reason"], "monthly payroll, OPS-112");
    assert_eq!(list[0]["safe_tx_hash"], hash);
}
