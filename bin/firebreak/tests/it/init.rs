use crate::{firebreak, stderr, stdout};

#[test]
fn init_writes_a_plan_that_passes_check() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("plan.toml");
    let p = path.to_str().unwrap();
    let out = firebreak(&["init", p]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(stdout(&out).contains("wrote a starter plan"));
    let out = firebreak(&["check", "--strict", p]);
    assert_eq!(out.status.code(), Some(0), "{}{}", stdout(&out), stderr(&out));
}

#[test]
fn init_never_overwrites_without_force() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("plan.toml");
    std::fs::write(&path, "precious").unwrap();
    let p = path.to_str().unwrap();
    let out = firebreak(&["init", p]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("already exists; pass --force"), "{}", stderr(&out));
    assert_eq!(std::fs::read_to_string(&path).unwrap(), "precious");
    let out = firebreak(&["init", "--force", p]);
    assert_eq!(out.status.code(), Some(0));
    assert!(
        std::fs::read_to_string(&path).unwrap().starts_with("# firebreak emergency response plan")
    );
}

#[test]
fn schema_is_json_with_every_section() {
    let out = firebreak(&["schema"]);
    assert_eq!(out.status.code(), Some(0));
    let v: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    let props = v["properties"].as_object().unwrap();
    for section in [
        "version",
        "mode",
        "protocol",
        "chains",
        "contracts",
        "signers",
        "safes",
        "team",
        "channels",
        "oncall",
        "monitors",
        "playbooks",
        "safe_harbor",
        "status_page",
    ] {
        assert!(props.contains_key(section), "schema lacks {section}");
    }
}
