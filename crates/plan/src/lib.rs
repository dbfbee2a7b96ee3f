//! The firebreak emergency response plan.
//!
//! This crate owns the plan file: its TOML format (version 1), loading with
//! every mistake reported at once as a positioned [`Diagnostic`], the offline
//! checks, the typed [`Plan`] the rest of firebreak runs on, secret references
//! and the plan's JSON Schema. It never touches the network or a database;
//! proving the plan against a live chain belongs to `firebreak verify`.
//!
//! The path is parse → validate → typed: [`RawPlan`] mirrors the file,
//! [`check_source`] turns it into a [`Plan`] or a [`Report`] of diagnostics.
//!
//! # Feature flags
//! None.
//!
//! # Example
//! ```
//! use firebreak_plan::{CheckOptions, check_source};
//!
//! let text = r#"
//! version = 1
//! [protocol]
//! name = "Demo"
//! [chains.local]
//! id = 31337
//! rpc = ["ws://127.0.0.1:8545"]
//! "#;
//! let checked = check_source("demo.toml", text, ".".as_ref(), &CheckOptions::default());
//! assert_eq!(checked.report.errors(), 0);
//! // one warning: a single RPC endpoint
//! assert_eq!(checked.report.warnings(), 1);
//! let plan = checked.plan.unwrap();
//! assert_eq!(plan.chains["local"].id, 31337);
//! ```
#![cfg_attr(not(test), warn(unused_crate_dependencies))]

mod abi;
mod bounded;
mod diagnostic;
mod load;
mod model;
mod raw;
mod secret;
mod secret_resolve;
mod suggest;
mod validate;

use std::path::{Path, PathBuf};

pub use bounded::{
    ABI_MAX_BYTES, KEYSTORE_MAX_BYTES, PLAN_MAX_BYTES, SECRET_MAX_BYTES, check_regular, read_text,
};
pub use diagnostic::{Diagnostic, Level, Position, Report, SourceFile};
pub use model::*;
pub use raw::*;
pub use secret::SecretRef;
pub use secret_resolve::{
    SecretError, anvil_dev_key, key_from_env, key_from_keystore, load_signer,
    resolve as resolve_secret,
};
pub use validate::{ANVIL_DEV_ADDRESSES, CheckOptions, parse_labels};

/// A commented starter plan that passes `firebreak check` (written by `firebreak init`).
pub const STARTER_PLAN: &str = include_str!("starter.toml");

/// Errors of loading a plan.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The file could not be read.
    #[error("cannot read plan file `{path}`")]
    Read {
        /// The path given.
        path: PathBuf,
        /// Cause.
        #[source]
        source: std::io::Error,
    },
    /// The plan has errors; the report holds every diagnostic.
    #[error("plan `{}` is invalid ({} error(s))", .0.file.name(), .0.errors())]
    Invalid(Box<Report>),
}

/// Result alias of this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// The outcome of checking one plan.
#[derive(Debug)]
pub struct Checked {
    /// Every diagnostic, sorted by position.
    pub report: Report,
    /// The typed plan when there are no errors (warnings allowed).
    pub plan: Option<Plan>,
    /// What could be built even with errors (for rule checks).
    pub parts: PlanParts,
}

impl Checked {
    /// Adds diagnostics found by a later stage (e.g. rule compilation),
    /// keeping them sorted; any error invalidates the plan.
    pub fn extend(&mut self, diagnostics: impl IntoIterator<Item = Diagnostic>) {
        self.report.diagnostics.extend(diagnostics);
        self.report
            .diagnostics
            .sort_by_key(|d| (d.span.as_ref().map(|s| s.start), d.level, d.code));
        if self.report.errors() > 0 {
            self.plan = None;
        }
    }
}

/// Checks plan text. `name` is shown in diagnostics; relative paths in the
/// plan (ABI files, keystores) start at `base_dir`.
///
/// Never panics, whatever the input.
pub fn check_source(name: &str, text: &str, base_dir: &Path, opts: &CheckOptions) -> Checked {
    let loaded = load::load(text);
    let mut diagnostics = loaded.diagnostics;
    let mut plan = None;
    let mut parts = PlanParts::default();
    if let Some(raw) = &loaded.raw {
        let mut v = validate::Validator::new(&loaded.spans, &loaded.failed, raw, base_dir, opts);
        plan = v.run(text);
        diagnostics.append(&mut v.diagnostics);
        parts = v.parts;
    }
    diagnostics.sort_by_key(|d| (d.span.as_ref().map(|s| s.start), d.level, d.code));
    diagnostics.dedup_by(|a, b| a.span == b.span && a.code == b.code);
    if diagnostics.iter().any(|d| d.level == Level::Error) {
        plan = None;
    }
    Checked { report: Report { file: SourceFile::new(name, text), diagnostics }, plan, parts }
}

/// Reads and checks a plan file.
///
/// # Errors
/// [`Error::Read`] when the file cannot be read.
pub fn check_file(path: &Path, opts: &CheckOptions) -> Result<Checked> {
    let text = bounded::read_text(path, PLAN_MAX_BYTES)
        .map_err(|source| Error::Read { path: path.to_owned(), source })?;
    let base_dir = path.parent().map_or_else(|| PathBuf::from("."), Path::to_path_buf);
    let base_dir = if base_dir.as_os_str().is_empty() { PathBuf::from(".") } else { base_dir };
    Ok(check_source(&path.display().to_string(), &text, &base_dir, opts))
}

/// Loads a plan for running: any error makes it fail.
///
/// # Errors
/// [`Error::Read`] or [`Error::Invalid`] with the full report.
pub fn load_plan(path: &Path, opts: &CheckOptions) -> Result<Plan> {
    let checked = check_file(path, opts)?;
    checked.plan.ok_or_else(|| Error::Invalid(Box::new(checked.report)))
}

/// Parses a duration as the plan writes it (`500ms`, `30s`, `5m`, `2h`,
/// `7d`, `2min`): the one parser of the plan's durations, used by `check`
/// and by everything that reads them later.
///
/// # Errors
/// The text is not a duration.
pub fn parse_duration(text: &str) -> std::result::Result<std::time::Duration, String> {
    humantime::parse_duration(text.trim()).map_err(|e| e.to_string())
}

/// The JSON Schema of the plan file, for editor completion.
pub fn json_schema() -> serde_json::Value {
    let schema = schemars::schema_for!(RawPlan);
    serde_json::to_value(&schema).unwrap_or_default()
}
