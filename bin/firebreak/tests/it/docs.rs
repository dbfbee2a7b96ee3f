//! The documentation's map of the code matches the code.

use crate::repo_root;

/// `docs/architecture.md`'s crate table lists exactly the workspace's
/// packages, as `cargo metadata` reports them.
#[test]
fn the_architecture_crate_table_matches_cargo_metadata() {
    let out = std::process::Command::new(env!("CARGO"))
        .args(["metadata", "--no-deps", "--format-version", "1", "--offline"])
        .current_dir(repo_root())
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let meta: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let mut packages: Vec<String> = meta["packages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            let name = p["name"].as_str().unwrap();
            // the binary's package is listed by its path
            if name == "firebreak" { "bin/firebreak".to_owned() } else { name.to_owned() }
        })
        .collect();
    packages.sort();
    let doc = std::fs::read_to_string(repo_root().join("docs/architecture.md")).unwrap();
    let table = doc
        .split("## Crates (today)")
        .nth(1)
        .expect("a `## Crates (today)` section")
        .split("\n\n")
        .find(|block| block.trim_start().starts_with("| crate"))
        .expect("the crate table");
    let mut listed: Vec<String> = table
        .lines()
        .filter_map(|l| l.strip_prefix("| `"))
        .filter_map(|l| l.split_once('`').map(|(name, _)| name.to_owned()))
        .collect();
    listed.sort();
    assert_eq!(listed, packages, "docs/architecture.md's crate table vs cargo metadata");
}
