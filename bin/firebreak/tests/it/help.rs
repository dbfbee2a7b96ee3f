use crate::{firebreak, stderr, stdout};

#[test]
fn every_command_has_help() {
    for cmd in [
        &["--help"][..],
        &["check", "--help"],
        &["schema", "--help"],
        &["init", "--help"],
        &["watch", "--help"],
        &["replay", "--help"],
        &["run", "--help"],
        &["incident", "--help"],
        &["incident", "list", "--help"],
        &["incident", "show", "--help"],
        &["incident", "verify", "--help"],
        &["incident", "approve", "--help"],
        &["incident", "status", "--help"],
        &["incident", "ack", "--help"],
        &["safe", "--help"],
        &["safe", "sign", "--help"],
        &["safe", "presign", "--help"],
        &["demo", "--help"],
        &["notify", "--help"],
        &["notify", "test", "--help"],
        &["verify", "--help"],
        &["drill", "--help"],
        &["postmortem", "--help"],
        &["token", "--help"],
        &["store", "migrate", "--help"],
        &["store", "backup", "--help"],
        &["token", "create", "--help"],
        &["token", "list", "--help"],
        &["token", "revoke", "--help"],
    ] {
        let out = firebreak(cmd);
        assert_eq!(out.status.code(), Some(0), "{cmd:?}");
        assert!(stdout(&out).contains("Usage: firebreak"), "{cmd:?}: {}", stdout(&out));
    }
    insta::assert_snapshot!(stdout(&firebreak(&["--help"])));
}

#[test]
fn bad_usage_exits_2() {
    let out = firebreak(&["check"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("PLAN"), "{}", stderr(&out));
    let out = firebreak(&["frobnicate"]);
    assert_eq!(out.status.code(), Some(2));
}
