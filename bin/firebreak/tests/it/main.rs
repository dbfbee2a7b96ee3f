//! End-to-end tests of the `firebreak` binary, run as a new user would.

#![allow(clippy::unwrap_used)] // test helpers fail loudly by design

mod chaos;
mod check;
mod contain;
mod demo;
mod docs;
mod help;
mod incident;
mod init;
mod notify;
mod readiness;
mod secrets;
mod status;
mod war_room;
mod watch_replay;

use std::{
    path::{Path, PathBuf},
    process::{Command, Output},
};

pub(crate) fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Runs `firebreak ARGS` from the repository root.
pub(crate) fn firebreak(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_firebreak"))
        .args(args)
        .current_dir(repo_root())
        .env_remove("RUST_LOG")
        .output()
        .expect("the firebreak binary runs")
}

pub(crate) fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

pub(crate) fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}
