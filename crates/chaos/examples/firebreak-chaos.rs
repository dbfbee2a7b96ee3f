//! `firebreak-chaos`: three replicas on one PostgreSQL and anvil, killed at
//! random moments of a response. Prints the summary table (Markdown, as in
//! the README) or, with `--json`, every trial; exits 1 when anything did
//! not hold.
//!
//! ```text
//! cargo build -p firebreak
//! cargo run -p firebreak-chaos --example firebreak-chaos -- --trials 50
//! ```

use std::{path::PathBuf, process::ExitCode, time::Duration};

use clap::Parser;

/// Kill replicas at random moments of a response and check the record.
#[derive(Debug, Parser)]
#[command(
    name = "firebreak-chaos",
    version,
    after_help = "Examples:\n  firebreak-chaos --trials 50\n  firebreak-chaos --trials 5 --seed 7 --json > chaos.json"
)]
struct Args {
    /// Trials, each with a random replica killed at a random moment.
    #[arg(long, default_value_t = 50)]
    trials: u32,
    /// Seed of the random victims and moments [default: the clock].
    #[arg(long)]
    seed: Option<u64>,
    /// The replicas' lease time.
    #[arg(long, default_value = "2s", value_parser = humantime::parse_duration)]
    lease_time: Duration,
    /// The firebreak binary [default: `firebreak` in this build's target
    /// directory].
    #[arg(long, value_name = "FILE")]
    firebreak: Option<PathBuf>,
    /// Every trial as JSON instead of the table.
    #[arg(long)]
    json: bool,
}

#[tokio::main]
#[allow(clippy::print_stdout, clippy::print_stderr)] // a command-line tool's output
async fn main() -> ExitCode {
    let args = Args::parse();
    // an example lives in target/PROFILE/examples, the binary in target/PROFILE
    let firebreak = args.firebreak.unwrap_or_else(|| {
        let exe = std::env::current_exe().unwrap_or_default();
        exe.ancestors()
            .skip(1)
            .take(2)
            .map(|d| d.join("firebreak"))
            .find(|p| p.is_file())
            .unwrap_or_else(|| PathBuf::from("firebreak"))
    });
    if !firebreak.is_file() {
        eprintln!(
            "error: no firebreak binary at {}: build it first (cargo build -p firebreak) or pass --firebreak FILE",
            firebreak.display()
        );
        return ExitCode::from(2);
    }
    let seed = args.seed.unwrap_or_else(firebreak_primitives::now_ms);
    let opts = firebreak_chaos::Options {
        firebreak,
        trials: args.trials,
        seed,
        lease: args.lease_time,
        progress: true,
    };
    match firebreak_chaos::run(&opts).await {
        Ok(report) => {
            if args.json {
                println!("{}", serde_json::to_string_pretty(&report).unwrap_or_default());
            } else {
                println!("{}", report.markdown());
                println!("seed {seed}; lease time {:?}", args.lease_time);
            }
            if report.ok() { ExitCode::SUCCESS } else { ExitCode::FAILURE }
        }
        Err(e) => {
            eprintln!("error: {}", firebreak_primitives::error_chain(&*e));
            ExitCode::from(2)
        }
    }
}
