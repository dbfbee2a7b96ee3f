//! Integration tests of plan loading and checking.

#![allow(clippy::unwrap_used)] // test helpers fail loudly by design

mod broken;
mod valid;

use std::path::{Path, PathBuf};

use firebreak_plan::{CheckOptions, Checked, check_source};

pub(crate) fn plans_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/plans")
}

pub(crate) fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Checks a file under a stable display name (for snapshots).
pub(crate) fn check_named(path: &Path, name: &str) -> Checked {
    let text = std::fs::read_to_string(path).expect("test plan readable");
    check_source(name, &text, path.parent().expect("plan in a folder"), &CheckOptions::default())
}
