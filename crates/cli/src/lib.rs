//! The `firebreak` command line.
//!
//! Owns argument parsing (clap), human and `--json` output, and exit codes:
//! 0 success, 1 runtime failure, 2 invalid plan or usage. Results go to
//! stdout, diagnostics and progress to stderr. Also the layered settings of
//! `firebreak run` and the demo's story (`cmd/demo/story.rs`). It never holds
//! domain logic: each command calls the crate that owns the work.
//!
//! # Feature flags
//! None.
//!
//! # Example
//! ```no_run
//! // what `bin/firebreak` does:
//! let code = firebreak_cli::run();
//! # let _ = code;
//! ```
#![cfg_attr(not(test), warn(unused_crate_dependencies))]

mod args;
mod cmd;
mod output;
mod settings;

use std::process::ExitCode;

use clap::Parser;

pub use args::Cli;

/// Exit status of a command.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Everything is fine.
    Ok,
    /// The plan (or the usage) is invalid.
    Invalid,
    /// The command ran but its goal was missed (e.g. a pause later than the next block).
    Failed,
}

/// Parses the process arguments, runs the command and returns the exit code.
pub fn run() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return if e.use_stderr() { ExitCode::from(2) } else { ExitCode::SUCCESS };
        }
    };
    match cmd::dispatch(cli) {
        Ok(Outcome::Ok) => ExitCode::SUCCESS,
        Ok(Outcome::Invalid) => ExitCode::from(2),
        Ok(Outcome::Failed) => ExitCode::from(1),
        Err(err) => {
            // The whole cause chain, without eyre's location and backtrace noise.
            let mut text = format!("error: {err}");
            for cause in err.chain().skip(1) {
                text.push_str(&format!("\n  caused by: {cause}"));
            }
            output::error(&text);
            // a plan path that names no plan file (a directory, a device, a
            // file over the size limit, not text) is a usage error; a missing
            // or unreadable file stays a runtime failure
            let not_a_plan = err.chain().any(|c| {
                matches!(
                    c.downcast_ref::<firebreak_plan::Error>(),
                    Some(firebreak_plan::Error::Read { source, .. })
                        if matches!(source.kind(), std::io::ErrorKind::InvalidInput | std::io::ErrorKind::InvalidData)
                )
            });
            // a daemon that refuses to start because a P1 pause path cannot
            // sign exits 3, so a supervisor can stop restarting it and say so
            let unready = err.chain().any(|c| {
                matches!(
                    c.downcast_ref::<firebreak_node::DaemonError>(),
                    Some(firebreak_node::DaemonError::Unready(_))
                )
            });
            ExitCode::from(if not_a_plan {
                2
            } else if unready {
                3
            } else {
                1
            })
        }
    }
}
