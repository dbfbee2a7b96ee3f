//! `firebreak notify test`: one line per channel, delivered or why not.

use std::process::Command;

use firebreak_test_utils::sink;

use crate::stdout;

// multi-threaded: the sink must answer while this thread waits for the command
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn notify_test_reports_each_channel() {
    let s = sink::start().await;
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("whsec"), "whsec").unwrap();
    let starter =
        Command::new(env!("CARGO_BIN_EXE_firebreak")).args(["init", "--stdout"]).output().unwrap();
    let mut plan = String::from_utf8(starter.stdout).unwrap();
    plan.push_str(&format!(
        "\n[channels.hook]\nkind = \"webhook\"\nurl = \"{}/in\"\nsigning_secret = {{ file = \"whsec\" }}\n\n[channels.broken]\nkind = \"command\"\nprogram = \"/nonexistent/notifier\"\n",
        s.url
    ));
    let path = dir.path().join("plan.toml");
    std::fs::write(&path, plan).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_firebreak"))
        .args([
            "notify",
            "test",
            path.to_str().unwrap(),
            "--channel",
            "hook",
            "--channel",
            "broken",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "a failed channel fails the command");
    let text = stdout(&out);
    assert!(text.contains("delivered  hook (webhook)"), "{text}");
    assert!(
        text.contains("FAILED     broken (command): cannot run `/nonexistent/notifier`"),
        "{text}"
    );
    assert!(text.contains("1 of 2 channel(s) delivered"), "{text}");
    let seen = s.seen();
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0].json()["event"], "test");
    assert!(seen[0].header("x-firebreak-signature").starts_with("sha256="));
    let unknown = Command::new(env!("CARGO_BIN_EXE_firebreak"))
        .args(["notify", "test", path.to_str().unwrap(), "--channel", "nope"])
        .output()
        .unwrap();
    assert_eq!(unknown.status.code(), Some(2));
}
