//! Command-line arguments.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

/// firebreak — emergency response for DeFi protocols.
///
/// Write your emergency response plan as one TOML file; firebreak checks it,
/// proves it against the chain, watches the protocol and executes the plan
/// when an exploit hits.
#[derive(Debug, Parser)]
#[command(name = "firebreak", version, propagate_version = true, max_term_width = 100)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// Subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Validate plan files offline and report every problem with its position.
    ///
    /// Exits 0 when every plan is valid, 2 when any has an error (or, with
    /// --strict, a warning).
    #[command(
        after_help = "Examples:\n  firebreak check examples/plans/acme-lending.toml\n  firebreak check --strict --secrets plan.toml\n  firebreak check --json plans/*.toml | jq '.[].errors'"
    )]
    Check(CheckArgs),
    /// Print the plan file's JSON Schema (for editor completion).
    #[command(
        after_help = "Example (VS Code with Even Better TOML):\n  firebreak schema > firebreak-plan.schema.json\n  # then add at the top of the plan:  #:schema ./firebreak-plan.schema.json"
    )]
    Schema(SchemaArgs),
    /// Watch the chains live and print every alert as it happens.
    ///
    /// Follows new heads (WebSocket subscription, or HTTP polling), fails over
    /// between the plan's endpoints in priority order, backfills after any
    /// disconnect, retracts alerts of blocks orphaned by a reorg, and reports a
    /// chain as BLIND when all its endpoints have failed for too long.
    #[command(
        after_help = "Examples:\n  firebreak watch plan.toml\n  firebreak watch plan.toml --chain mainnet --json | jq 'select(.type == \"alert\")'"
    )]
    Watch(WatchArgs),
    /// Evaluate the plan's monitors over past blocks: "would we have caught it?".
    ///
    /// Reads blocks from an RPC endpoint (an archive node, or an anvil fork of
    /// one) and prints every alert the monitors raise, as `watch` would have.
    #[command(
        after_help = "Examples:\n  firebreak replay plan.toml --chain mainnet --from 19000000 --to 19000100\n  firebreak replay plan.toml --chain local --from 1 --to 500 --rpc http://127.0.0.1:8545 --json"
    )]
    Replay(ReplayArgs),
    /// Write a commented starter plan that passes `firebreak check`.
    #[command(
        after_help = "Example:\n  firebreak init my-plan.toml && firebreak check my-plan.toml"
    )]
    Init(InitArgs),
}

/// `firebreak check`
#[derive(Debug, Args)]
pub struct CheckArgs {
    /// Plan files to check.
    #[arg(required = true, value_name = "PLAN")]
    pub plans: Vec<PathBuf>,
    /// Fail on warnings too.
    #[arg(long)]
    pub strict: bool,
    /// Also require every secret reference to resolve (env variables set, files present)
    /// and env keys to match their stated addresses.
    #[arg(long)]
    pub secrets: bool,
    /// Print a JSON array with one report per plan instead of text.
    #[arg(long)]
    pub json: bool,
}

/// `firebreak schema`
#[derive(Debug, Args)]
pub struct SchemaArgs {
    /// Write to this file instead of stdout.
    #[arg(long, short, value_name = "FILE")]
    pub output: Option<PathBuf>,
}

/// `firebreak init`
#[derive(Debug, Args)]
pub struct InitArgs {
    /// Where to write the plan.
    #[arg(default_value = "firebreak-plan.toml", value_name = "PATH")]
    pub path: PathBuf,
    /// Overwrite an existing file.
    #[arg(long)]
    pub force: bool,
    /// Print the plan to stdout instead of writing a file.
    #[arg(long, conflicts_with = "force")]
    pub stdout: bool,
}

/// `firebreak replay`
#[derive(Debug, Args)]
pub struct ReplayArgs {
    /// The plan.
    #[arg(value_name = "PLAN")]
    pub plan: PathBuf,
    /// Chain key in the plan (`[chains.KEY]`).
    #[arg(long)]
    pub chain: String,
    /// First block.
    #[arg(long)]
    pub from: u64,
    /// Last block (inclusive); default: the latest block.
    #[arg(long)]
    pub to: Option<u64>,
    /// RPC URL to read from instead of the plan's first HTTP endpoint.
    #[arg(long, value_name = "URL")]
    pub rpc: Option<String>,
    /// One JSON object per alert per line, instead of text.
    #[arg(long)]
    pub json: bool,
}

/// `firebreak watch`
#[derive(Debug, Args)]
pub struct WatchArgs {
    /// The plan.
    #[arg(value_name = "PLAN")]
    pub plan: PathBuf,
    /// Chains to watch (keys of `[chains]`); default: every chain with monitors.
    #[arg(long = "chain", value_name = "KEY")]
    pub chains: Vec<String>,
    /// First block (with one chain); default: the current head.
    #[arg(long)]
    pub from: Option<u64>,
    /// Stop after this block (with one chain); default: run until Ctrl-C.
    #[arg(long)]
    pub until: Option<u64>,
    /// RPC URL instead of the plan's endpoints (with one chain).
    #[arg(long, value_name = "URL")]
    pub rpc: Option<String>,
    /// Poll interval when no WebSocket subscription is active.
    #[arg(long, default_value = "250ms", value_parser = humantime::parse_duration)]
    pub poll: std::time::Duration,
    /// Report a chain BLIND after its endpoints have all failed this long.
    #[arg(long, default_value = "30s", value_parser = humantime::parse_duration)]
    pub blind_after: std::time::Duration,
    /// SQLite file keeping alerts and the last processed block per chain:
    /// a restart resumes there and never reports an alert twice.
    #[arg(long, value_name = "FILE", default_value = "firebreak.db", conflicts_with = "no_db")]
    pub db: PathBuf,
    /// Keep nothing on disk (alerts may repeat after a restart).
    #[arg(long)]
    pub no_db: bool,
    /// One JSON object per event per line, instead of text.
    #[arg(long)]
    pub json: bool,
}
