//! Integration tests of the rule language and the engine.

#![allow(clippy::unwrap_used)] // test helpers fail loudly by design

mod engine;
mod mutation;
mod rules;

use std::path::{Path, PathBuf};

pub(crate) fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The plan crate's valid base plan with its rule replaced.
pub(crate) fn base_with_rule(rule: &str) -> (String, PathBuf) {
    let dir = repo_root().join("crates/plan/tests/plans");
    let base = std::fs::read_to_string(dir.join("base.toml")).expect("base plan");
    let line = r#"rule = "event pool.Borrow where amount > 100_000e6""#;
    assert!(base.contains(line));
    (base.replace(line, &format!("rule = {}", toml_string(rule))), dir)
}

fn toml_string(s: &str) -> String {
    if s.contains('\'') {
        format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""))
    } else {
        format!("'{s}'")
    }
}
