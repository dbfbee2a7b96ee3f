//! Command-line arguments.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};
/// `firebreak --version`: says when the test hooks are compiled in.
const LONG_VERSION: &str = if firebreak_respond::CRASH_POINTS {
    concat!(
        env!("CARGO_PKG_VERSION"),
        " (test build: crash points FIREBREAK_HALT_AT and FIREBREAK_PANIC_TASK are honoured)"
    )
} else {
    env!("CARGO_PKG_VERSION")
};

/// firebreak — emergency response for DeFi protocols.
///
/// Write your emergency response plan as one TOML file; firebreak checks it,
/// proves it against the chain, watches the protocol and executes the plan
/// when an exploit hits.
#[derive(Debug, Parser)]
#[command(name = "firebreak", version, long_version = LONG_VERSION, propagate_version = true, max_term_width = 100)]
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
    /// Run the response daemon: watch, open incidents, execute playbooks.
    ///
    /// Watches every chain with monitors, groups alerts into incidents, and
    /// runs each incident's playbook: pauses through a guardian key or a Safe
    /// (mined in the next block when the plan is right), approval gates,
    /// durable steps that survive a crash. Stops cleanly on Ctrl-C or SIGTERM.
    #[command(
        after_help = "Examples:\n  firebreak run plan.toml\n  firebreak run plan.toml --db /var/lib/firebreak/firebreak.db --json\n  FIREBREAK_LOG=debug firebreak run plan.toml --log-format json"
    )]
    Run(RunArgs),
    /// Which daemons are up: each replica's last heartbeat, readiness, and
    /// per chain the head it sees, the block it processed and the lag.
    #[command(
        after_help = "Examples:\n  firebreak status\n  firebreak status --db /var/lib/firebreak/firebreak.db --json | jq '.replicas[] | select(.silent)'"
    )]
    Status(StatusArgs),
    /// The store itself: migrate it, back it up.
    #[command(subcommand)]
    Store(StoreCommand),
    /// Read incidents from the store: list, show, verify, approve, move along.
    #[command(subcommand)]
    Incident(IncidentCommand),
    /// War-room API tokens: create one per member (shown once), list, revoke.
    #[command(subcommand)]
    Token(TokenCommand),
    /// Messages: send a test message through the plan's channels.
    #[command(subcommand)]
    Notify(NotifyCommand),
    /// Safe signatures: sign a waiting pause, pre-sign the pause batch.
    #[command(subcommand)]
    Safe(SafeCommand),
    /// Prove the plan against the chains: every pause path simulated, Safes, balances.
    ///
    /// Checks each chain id, code at every contract, contracts already paused,
    /// every pause path simulated from the account that would send it (with the
    /// decoded revert), Safe owners, threshold and hot signers against the
    /// chain, pre-signed pauses at the Safe's current nonce, and that every
    /// sender can pay for several pauses at a stress gas price. Exits 1 when
    /// anything blocking fails.
    #[command(
        after_help = "Examples:\n  firebreak verify plan.toml\n  firebreak verify plan.toml --markdown > readiness.md\n  firebreak verify plan.toml --json | jq '.checks[] | select(.status == \"fail\")'"
    )]
    Verify(VerifyArgs),
    /// Rehearse the plan on a fork: play an attack, measure the response.
    ///
    /// Starts anvil forking the plan's chain, impersonates the plan's signers
    /// (no real key needed), runs the daemon in drill mode, plays the
    /// scenario's transactions (setup, then the attack) and measures the
    /// exploit, detection and pause blocks, the time to pause and to
    /// acknowledge, and the funds at risk and saved. Writes a Markdown, HTML
    /// and JSON report; exits 1 when containment misses its target.
    #[command(
        after_help = "Examples:\n  firebreak drill plan.toml --scenario examples/drills/oracle-manipulation.toml\n  firebreak drill plan.toml --scenario s.toml --out reports/drill --json"
    )]
    Drill(DrillArgs),
    /// The whole story on a local chain: deploy, watch, exploit, pause, report.
    ///
    /// Starts anvil, deploys a lending vault holding 1,000,000 USDC (with a
    /// deliberate oracle flaw) guarded by a guardian key and a 2-of-3 Safe,
    /// writes the plan, runs the daemon, then plays the attacker. Prints the
    /// exploit block, the pause block (the next one), the funds saved, and
    /// writes a post-mortem. Keeps the chain and the daemon up until Ctrl-C,
    /// unless --exit.
    #[command(
        after_help = "Examples:\n  firebreak demo\n  firebreak demo --exit --json | jq '.pause_block - .exploit_block'"
    )]
    Demo(DemoArgs),
    /// Fund recovery under SEAL Safe Harbor: attackers, messages, the ledger, bounties.
    #[command(subcommand)]
    Whitehat(WhitehatCommand),
    /// An incident's fund flow: traced transfers as a table, CSV, JSON or an SVG graph.
    ///
    /// Reads what the daemon traced live; with --from it first scans the
    /// chain from that block to the head (past blocks, or a store no daemon
    /// watched).
    #[command(
        after_help = "Examples:\n  firebreak trace 1 --plan plan.toml\n  firebreak trace 1 --plan plan.toml --from 19000000 --svg flow.svg\n  firebreak trace 1 --plan plan.toml --csv > flow.csv"
    )]
    Trace(TraceArgs),
    /// Write an incident's post-mortem: Markdown, self-contained HTML and an SVG timeline.
    #[command(
        after_help = "Examples:\n  firebreak postmortem 1\n  firebreak postmortem 1 --out reports/incident-1 --db /var/lib/firebreak/firebreak.db"
    )]
    Postmortem(PostmortemArgs),
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

/// Where the store lives.
#[derive(Debug, Args, Clone)]
pub struct DbArgs {
    /// The store: a SQLite file (default: firebreak.db in the data directory:
    /// $FIREBREAK_DATA_DIR, else $XDG_DATA_HOME/firebreak, else ~/.local/share/firebreak),
    /// or a PostgreSQL database that replicas share (postgres://USER@HOST:PORT/DB;
    /// give the password in $PGPASSWORD or ~/.pgpass rather than the URL).
    #[arg(long, value_name = "FILE|URL", env = "FIREBREAK_DB")]
    pub db: Option<PathBuf>,
}

/// The plan and the store of a recovery command.
#[derive(Debug, Clone, Args)]
pub struct RecoveryArgs {
    /// The plan (its terms, team and chains).
    #[arg(long, value_name = "PLAN", env = "FIREBREAK_PLAN")]
    pub plan: PathBuf,
    /// Store.
    #[command(flatten)]
    pub db: DbArgs,
}

/// `firebreak trace`
#[derive(Debug, Args)]
pub struct TraceArgs {
    /// Incident id.
    pub id: String,
    /// Plan and store.
    #[command(flatten)]
    pub ctx: RecoveryArgs,
    /// First scan the chain from this block to the head.
    #[arg(long, value_name = "BLOCK")]
    pub from: Option<u64>,
    /// Chain key to scan (default: the incident's chain).
    #[arg(long, value_name = "CHAIN")]
    pub chain: Option<String>,
    /// Write the fund-flow graph as SVG to this file.
    #[arg(long, value_name = "FILE")]
    pub svg: Option<PathBuf>,
    /// CSV on standard output.
    #[arg(long, conflicts_with = "json")]
    pub csv: bool,
    /// JSON on standard output.
    #[arg(long)]
    pub json: bool,
}

/// A decision on an attacker address.
#[derive(Debug, Args)]
pub struct DecideArgs {
    /// Incident id.
    pub id: String,
    /// The address.
    pub address: String,
    /// Your handle in the plan's [team].
    #[arg(long = "as", value_name = "MEMBER")]
    pub member: String,
    /// Why.
    #[arg(long)]
    pub note: Option<String>,
    /// Plan and store.
    #[command(flatten)]
    pub ctx: RecoveryArgs,
}

/// `firebreak whitehat …`
#[derive(Debug, Subcommand)]
pub enum WhitehatCommand {
    /// Everything recovery knows of an incident: attackers, messages, ledger, clocks.
    #[command(after_help = "Example:\n  firebreak whitehat show 1 --plan plan.toml")]
    Show {
        /// Incident id.
        id: String,
        /// Plan and store.
        #[command(flatten)]
        ctx: RecoveryArgs,
        /// JSON instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Propose attacker addresses from the incident's exploit transactions.
    #[command(after_help = "Example:\n  firebreak whitehat propose 1 --plan plan.toml")]
    Propose {
        /// Incident id.
        id: String,
        /// Plan and store.
        #[command(flatten)]
        ctx: RecoveryArgs,
    },
    /// Confirm an attacker address: it is traced and messages go to it.
    #[command(
        after_help = "Example:\n  firebreak whitehat confirm 1 0xA77ac… --as alice --plan plan.toml --note \"drained the vault\""
    )]
    Confirm(DecideArgs),
    /// Reject a proposed attacker address.
    #[command(
        after_help = "Example:\n  firebreak whitehat reject 1 0xB0b… --as alice --plan plan.toml --note \"the protocol's keeper\""
    )]
    Reject(DecideArgs),
    /// Draft an on-chain message to the confirmed attackers and show it for review.
    ///
    /// The default text states the bounty terms, the recovery address, the
    /// deadline from the agreement's clocks and the contact. Nothing is sent
    /// until the plan's approvers approve (`whitehat approve`) and someone
    /// sends it (`whitehat send`).
    #[command(
        after_help = "Examples:\n  firebreak whitehat message 1 --as alice --plan plan.toml\n  firebreak whitehat message 1 --as alice --plan plan.toml --text-file offer.txt"
    )]
    Message {
        /// Incident id.
        id: String,
        /// Your handle in the plan's [team].
        #[arg(long = "as", value_name = "MEMBER")]
        member: String,
        /// The text instead of the default offer.
        #[arg(long, value_name = "FILE")]
        text_file: Option<PathBuf>,
        /// Chain key (default: the incident's chain).
        #[arg(long, value_name = "CHAIN")]
        chain: Option<String>,
        /// Plan and store.
        #[command(flatten)]
        ctx: RecoveryArgs,
    },
    /// Approve a drafted message in one of your roles.
    #[command(after_help = "Example:\n  firebreak whitehat approve 1 1 --as bob --plan plan.toml")]
    Approve {
        /// Incident id.
        id: String,
        /// Draft number.
        draft: u32,
        /// Your handle in the plan's [team].
        #[arg(long = "as", value_name = "MEMBER")]
        member: String,
        /// Plan and store.
        #[command(flatten)]
        ctx: RecoveryArgs,
    },
    /// Send an approved message on chain, from the plan's message signer.
    #[command(after_help = "Example:\n  firebreak whitehat send 1 1 --plan plan.toml")]
    Send {
        /// Incident id.
        id: String,
        /// Draft number.
        draft: u32,
        /// Plan and store.
        #[command(flatten)]
        ctx: RecoveryArgs,
    },
    /// The recovery ledger: per asset lost, returned, kept and net loss; each white hat's bounty.
    #[command(
        after_help = "Examples:\n  firebreak whitehat ledger 1 --plan plan.toml\n  firebreak whitehat ledger 1 --plan plan.toml --from 19000000"
    )]
    Ledger {
        /// Incident id.
        id: String,
        /// First scan the chain from this block to the head.
        #[arg(long, value_name = "BLOCK")]
        from: Option<u64>,
        /// Plan and store.
        #[command(flatten)]
        ctx: RecoveryArgs,
        /// JSON instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Propose a white hat's bounty as a SafeTx of the plan's bounty Safe.
    #[command(after_help = "Example:\n  firebreak whitehat bounty 1 0xWh1te… --plan plan.toml")]
    Bounty {
        /// Incident id.
        id: String,
        /// The white hat (the sender of the returned funds).
        whitehat: String,
        /// Plan and store.
        #[command(flatten)]
        ctx: RecoveryArgs,
        /// JSON instead of text.
        #[arg(long)]
        json: bool,
    },
}

/// `firebreak store …`
#[derive(Debug, Subcommand)]
pub enum StoreCommand {
    /// Create the store or bring its schema up to this version (every
    /// command does this on open; run it on its own before an upgrade
    /// rolls out to replicas one at a time).
    #[command(
        after_help = "Examples:\n  firebreak store migrate --db /var/lib/firebreak/firebreak.db\n  PGPASSWORD=… firebreak store migrate --db postgres://firebreak@127.0.0.1:5432/firebreak"
    )]
    Migrate {
        /// Store.
        #[command(flatten)]
        db: DbArgs,
        /// One JSON document instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Write a consistent copy of a SQLite store while the daemon runs
    /// (PostgreSQL: use pg_dump, see docs/operations.md).
    #[command(
        after_help = "Example:\n  firebreak store backup --to /backups/firebreak-$(date +%F).db"
    )]
    Backup {
        /// Store.
        #[command(flatten)]
        db: DbArgs,
        /// The new file to write (must not exist).
        #[arg(long, value_name = "FILE")]
        to: PathBuf,
    },
}

/// `firebreak status`
#[derive(Debug, Args)]
pub struct StatusArgs {
    /// Store.
    #[command(flatten)]
    pub db: DbArgs,
    /// One JSON document instead of text.
    #[arg(long)]
    pub json: bool,
}

/// `firebreak run`. Settings come in layers, each overriding the one
/// before: built-in defaults, the settings file (`--config`), `FIREBREAK_*`
/// environment variables (`FIREBREAK_LISTEN`, `FIREBREAK_POLL` …), then
/// these flags.
#[derive(Debug, Args)]
pub struct RunArgs {
    /// The plan.
    #[arg(value_name = "PLAN")]
    pub plan: PathBuf,
    /// Settings file (TOML) with any of: listen, no_listen, public_url,
    /// secure_cookies, behind_proxy, max_connections, rpc_timeout, poll,
    /// window, log_format, json, allow_unready, metrics_listen.
    #[arg(long, value_name = "FILE", env = "FIREBREAK_CONFIG")]
    pub config: Option<PathBuf>,
    /// Print the settings in force (after every layer) as TOML and exit.
    #[arg(long)]
    pub print_settings: bool,
    /// Store.
    #[command(flatten)]
    pub db: DbArgs,
    /// Chains to watch (keys of `[chains]`); default: every chain with monitors.
    #[arg(long = "chain", value_name = "KEY")]
    pub chains: Vec<String>,
    /// RPC URL instead of the plan's endpoints (with one --chain).
    #[arg(long, value_name = "URL", requires = "chains")]
    pub rpc: Option<String>,
    /// First block to watch (with one --chain); default: where the store
    /// stopped, else the current head.
    #[arg(long, requires = "chains")]
    pub from: Option<u64>,
    /// Poll interval when no WebSocket subscription is active [default: 250ms].
    #[arg(long, value_name = "DURATION", value_parser = humantime::parse_duration)]
    pub poll: Option<std::time::Duration>,
    /// Alerts of the same playbook within this window join one incident
    /// [default: 1h].
    #[arg(long, value_name = "DURATION", value_parser = humantime::parse_duration)]
    pub window: Option<std::time::Duration>,
    /// One JSON object per event per line on stdout, instead of text.
    #[arg(long)]
    pub json: bool,
    /// Log format on stderr (level from FIREBREAK_LOG, e.g. `debug`) [default: text].
    #[arg(long, value_enum)]
    pub log_format: Option<LogFormat>,
    /// Serve the war room here: dashboard (`/`), API (`/api/v1`), public
    /// status page (`/status`), `/healthz`, `/readyz`, `/metrics`, and the
    /// acknowledgement links of pages [default: 127.0.0.1:8787, loopback].
    #[arg(long, value_name = "ADDR", conflicts_with = "no_listen")]
    pub listen: Option<std::net::SocketAddr>,
    /// Serve nothing (pages then say `firebreak incident ack`).
    #[arg(long)]
    pub no_listen: bool,
    /// Base URL of the links as people reach it (e.g. behind a reverse proxy).
    /// With `https://`, session cookies are marked Secure.
    #[arg(long, value_name = "URL")]
    pub public_url: Option<String>,
    /// Mark session cookies Secure even without an https public URL (TLS
    /// terminated by a proxy that does not rewrite the URL).
    #[arg(long)]
    pub secure_cookies: bool,
    /// The war room is behind a reverse proxy that appends the client's
    /// address to X-Forwarded-For: failed logins are then limited per client
    /// instead of per proxy. Do not set it without such a proxy.
    #[arg(long)]
    pub behind_proxy: bool,
    /// Most war-room connections served at once; more are closed as soon
    /// as they are accepted, so clients can never take the descriptors the
    /// response needs. Keep it well under `ulimit -n`.
    /// [default: 512]
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..))]
    pub max_connections: Option<u16>,
    /// Longest wait for one RPC endpoint's answer to the executor before
    /// the next endpoint of the chain is tried [default: 10s].
    #[arg(long, value_name = "DURATION", value_parser = positive_duration)]
    pub rpc_timeout: Option<std::time::Duration>,
    /// How long a replica's leases last unless renewed: when the replica
    /// acting dies, another takes over this long after its last renewal
    /// [default: two blocks of the fastest chain, between 2s and 30s].
    #[arg(long, value_name = "DURATION", value_parser = positive_duration)]
    pub lease_time: Option<std::time::Duration>,
    /// Start even when a P1 pause path cannot sign (a key that does not
    /// load, decrypt or match its address). Without it `run` refuses to
    /// start. With it, a P1 readiness incident pages the on-call, the
    /// dashboard shows a red banner and /readyz answers 503 until fixed.
    #[arg(long)]
    pub allow_unready: bool,
    /// Serve /metrics alone, without a token, on this address (one only
    /// your monitoring reaches, e.g. 127.0.0.1:9464). On the war room's
    /// listener /metrics needs `Authorization: Bearer` with
    /// $FIREBREAK_METRICS_TOKEN or a member's API token.
    #[arg(long, value_name = "ADDR")]
    pub metrics_listen: Option<std::net::SocketAddr>,
}

/// A duration above zero (`500ms`, `10s`, `2m`).
fn positive_duration(text: &str) -> Result<std::time::Duration, String> {
    match humantime::parse_duration(text) {
        Ok(d) if d.is_zero() => Err("must be above zero".to_owned()),
        Ok(d) => Ok(d),
        Err(e) => Err(format!("{e} (e.g. `500ms`, `10s`, `2m`)")),
    }
}

/// Log formats.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// Human lines.
    Text,
    /// One JSON object per line.
    Json,
}

/// `firebreak incident …`
#[derive(Debug, Subcommand)]
pub enum IncidentCommand {
    /// List incidents, newest first.
    #[command(
        after_help = "Examples:\n  firebreak incident list\n  firebreak incident list --status detected --status contained --json"
    )]
    List {
        /// Store.
        #[command(flatten)]
        db: DbArgs,
        /// Only these states.
        #[arg(long, value_name = "STATUS")]
        status: Vec<String>,
        /// At most this many.
        #[arg(long, default_value_t = 50)]
        limit: u64,
        /// JSON instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Show one incident: alerts, steps, on-chain actions, approvals, timeline.
    #[command(after_help = "Example:\n  firebreak incident show 1")]
    Show {
        /// Incident id.
        id: String,
        /// Store.
        #[command(flatten)]
        db: DbArgs,
        /// JSON instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Re-check the hash chain of an incident's timeline (exit 1 if broken).
    #[command(after_help = "Example:\n  firebreak incident verify 1")]
    Verify {
        /// Incident id.
        id: String,
        /// Store.
        #[command(flatten)]
        db: DbArgs,
        /// JSON instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Approve (or reject) an approval-gated step as a team member.
    #[command(
        after_help = "Example:\n  firebreak incident approve 1 pause --as alice --plan plan.toml"
    )]
    Approve {
        /// Incident id.
        id: String,
        /// Step id.
        step: String,
        /// Your handle in the plan's [team].
        #[arg(long = "as", value_name = "MEMBER")]
        member: String,
        /// The plan (to check the member and the step).
        #[arg(long, value_name = "PLAN")]
        plan: PathBuf,
        /// Reject instead of approve.
        #[arg(long)]
        reject: bool,
        /// Store.
        #[command(flatten)]
        db: DbArgs,
    },
    /// Acknowledge an incident as a team member: paging and escalation stop.
    #[command(
        after_help = "Example:\n  firebreak incident ack 1 --as alice --plan plan.toml\n  FIREBREAK_PLAN=plan.toml firebreak incident ack 1 --as alice"
    )]
    Ack {
        /// Incident id.
        id: String,
        /// Your handle in the plan's [team].
        #[arg(long = "as", value_name = "MEMBER")]
        member: String,
        /// The plan (only its [team] may acknowledge).
        #[arg(long, value_name = "PLAN", env = "FIREBREAK_PLAN")]
        plan: PathBuf,
        /// Store.
        #[command(flatten)]
        db: DbArgs,
    },
    /// Move an incident forward: acknowledged, contained, recovering, resolved, reviewed.
    #[command(
        after_help = "Example:\n  firebreak incident status 1 resolved --as alice --plan plan.toml --note \"funds recovered\""
    )]
    Status {
        /// Incident id.
        id: String,
        /// New state.
        to: String,
        /// Your handle in the plan's [team].
        #[arg(long = "as", value_name = "MEMBER")]
        member: String,
        /// The plan (only its [team] may move an incident).
        #[arg(long, value_name = "PLAN", env = "FIREBREAK_PLAN")]
        plan: PathBuf,
        /// Why.
        #[arg(long)]
        note: Option<String>,
        /// Store.
        #[command(flatten)]
        db: DbArgs,
    },
}

/// Where a human signer's key comes from.
#[derive(Debug, Args, Clone)]
pub struct KeyArgs {
    /// Encrypted JSON keystore of your owner key.
    #[arg(long, value_name = "FILE", conflicts_with = "key_env")]
    pub keystore: Option<PathBuf>,
    /// Environment variable holding the keystore password (default: asked on the terminal).
    #[arg(long, value_name = "VAR", requires = "keystore")]
    pub password_env: Option<String>,
    /// Environment variable holding a hex private key instead of a keystore.
    #[arg(long, value_name = "VAR")]
    pub key_env: Option<String>,
}

/// `firebreak safe …`
#[derive(Debug, Subcommand)]
pub enum SafeCommand {
    /// Sign the Safe pause an incident is waiting for, after showing its hash.
    ///
    /// Shows the SafeTx and its hash (compare it with your hardware wallet),
    /// checks that the Safe computes the same hash and that your key is an
    /// owner, signs, and records the signature: the running daemon executes
    /// the pause as soon as the threshold is met.
    #[command(
        after_help = "Examples:\n  firebreak safe sign 1 --plan plan.toml --keystore ~/keys/owner.json --as carol\n  OWNER_KEY=0x… firebreak safe sign 1 --plan plan.toml --key-env OWNER_KEY --as carol --yes"
    )]
    Sign {
        /// Incident id.
        incident: String,
        /// The plan.
        #[arg(long, value_name = "PLAN")]
        plan: PathBuf,
        /// Key.
        #[command(flatten)]
        key: KeyArgs,
        /// Your handle in the plan's [team] (recorded on the timeline).
        #[arg(long = "as", value_name = "MEMBER")]
        member: Option<String>,
        /// Do not ask for confirmation.
        #[arg(long)]
        yes: bool,
        /// Sign a DELEGATECALL to a target outside the plan's allow-list
        /// anyway (commanders only, with --as): the reason goes on the timeline.
        #[arg(long = "override", value_name = "REASON")]
        override_reason: Option<String>,
        /// Store.
        #[command(flatten)]
        db: DbArgs,
    },
    /// Pre-sign the pause batch of a Safe at its current nonce.
    ///
    /// The executor uses these signatures first, so the pause needs no one
    /// awake. When the Safe's nonce moves past them, the daemon raises a
    /// readiness alert: sign again.
    #[command(
        after_help = "Examples:\n  firebreak safe presign plan.toml --safe emergency --keystore ~/keys/owner.json\n  firebreak safe presign plan.toml --safe emergency --hot"
    )]
    Presign {
        /// The plan.
        #[arg(value_name = "PLAN")]
        plan: PathBuf,
        /// Safe key in the plan.
        #[arg(long)]
        safe: String,
        /// Key.
        #[command(flatten)]
        key: KeyArgs,
        /// Also sign with the plan's hot signers of this Safe.
        #[arg(long)]
        hot: bool,
        /// JSON instead of text.
        #[arg(long)]
        json: bool,
        /// Store.
        #[command(flatten)]
        db: DbArgs,
    },
    /// Put a SafeTx hash the team approved on the allow-list, or list it.
    ///
    /// Monitors with `preset safe_transactions(SAFE) where !safe_tx.approved`
    /// fire when an owner approves (`approveHash`) or the Safe executes a
    /// hash that is neither on this list nor one of firebreak's own: a
    /// stolen owner key queueing its own transaction. Check the hash on your
    /// hardware wallet before you allow it. Without a hash, lists the
    /// allow-list.
    #[command(
        after_help = "Examples:\n  firebreak safe allow plan.toml --safe emergency 0x5f1c…e2 --as alice --reason \"monthly payroll, ticket OPS-112\"\n  firebreak safe allow plan.toml --safe emergency --json"
    )]
    Allow {
        /// The plan.
        #[arg(value_name = "PLAN")]
        plan: PathBuf,
        /// Safe key in the plan.
        #[arg(long)]
        safe: String,
        /// The SafeTx hash (EIP-712, as a hardware wallet shows it).
        #[arg(value_name = "SAFE_TX_HASH")]
        hash: Option<String>,
        /// Your handle in the plan's [team] (commander, operator or signer).
        #[arg(long = "as", value_name = "MEMBER")]
        member: Option<String>,
        /// Why the team approved it (kept with the hash).
        #[arg(long)]
        reason: Option<String>,
        /// JSON instead of text.
        #[arg(long)]
        json: bool,
        /// Store.
        #[command(flatten)]
        db: DbArgs,
    },
}

/// `firebreak demo`
#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Run once and exit instead of keeping the chain and daemon up.
    #[arg(long)]
    pub exit: bool,
    /// Print the summary as JSON (progress goes to stderr).
    #[arg(long)]
    pub json: bool,
    /// Where to write the plan, the store and the post-mortem (default: demo/ in the data directory).
    #[arg(long, value_name = "DIR")]
    pub dir: Option<PathBuf>,
    /// Where the read-only dashboard listens.
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:8788")]
    pub listen: std::net::SocketAddr,
    /// Show pre-emption instead: a one-transaction drain waits in the pool
    /// (anvil ordered by fee, one block per second); the pause is mined
    /// ahead of it in the same block and the drain reverts.
    #[arg(long)]
    pub pre_empt: bool,
    /// With --pre-empt: attacks to make, each against a fresh daemon; the
    /// report lists every one that was not pre-empted, with the reason
    /// (passes when at least 95 % were).
    #[arg(long, requires = "pre_empt", default_value_t = 1, value_name = "N",
          value_parser = clap::value_parser!(u32).range(1..=1000))]
    pub runs: u32,
}

/// `firebreak postmortem`
#[derive(Debug, Args)]
pub struct PostmortemArgs {
    /// Incident id.
    pub incident: String,
    /// Store.
    #[command(flatten)]
    pub db: DbArgs,
    /// Output directory (default: ./postmortem-ID).
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
}

/// `firebreak verify`
#[derive(Debug, Args)]
pub struct VerifyArgs {
    /// The plan.
    #[arg(value_name = "PLAN")]
    pub plan: PathBuf,
    /// Store with pre-signed pauses (checked when it exists).
    #[command(flatten)]
    pub db: DbArgs,
    /// JSON instead of a table.
    #[arg(long, conflicts_with = "markdown")]
    pub json: bool,
    /// Markdown instead of a table.
    #[arg(long)]
    pub markdown: bool,
    /// Pauses each sender must be able to pay for.
    #[arg(long, default_value_t = 5)]
    pub pauses: u64,
    /// Gas price of the stress scenario, in gwei.
    #[arg(long, default_value_t = 200)]
    pub stress_gwei: u64,
    /// Also send a test message through every channel.
    #[arg(long)]
    pub notify: bool,
}

/// `firebreak drill`
#[derive(Debug, Args)]
pub struct DrillArgs {
    /// The plan.
    #[arg(value_name = "PLAN")]
    pub plan: PathBuf,
    /// The scenario (TOML: setup, steps, funds, acks).
    #[arg(long, value_name = "FILE")]
    pub scenario: PathBuf,
    /// Report directory (default: ./drill-report).
    #[arg(long, value_name = "DIR", default_value = "drill-report")]
    pub out: PathBuf,
    /// Print the result as JSON (progress goes to stderr).
    #[arg(long)]
    pub json: bool,
}

/// `firebreak notify …`
#[derive(Debug, Subcommand)]
pub enum NotifyCommand {
    /// Send a test message through each channel and report, per channel,
    /// delivered or why not (exit 1 if any failed).
    #[command(
        after_help = "Examples:\n  firebreak notify test plan.toml\n  firebreak notify test plan.toml --channel war-room --json"
    )]
    Test {
        /// The plan.
        #[arg(value_name = "PLAN")]
        plan: PathBuf,
        /// Only this channel (repeatable).
        #[arg(long = "channel", value_name = "NAME")]
        channels: Vec<String>,
        /// JSON instead of text.
        #[arg(long)]
        json: bool,
    },
}

/// `firebreak token …`
#[derive(Debug, Subcommand)]
pub enum TokenCommand {
    /// Create an API token for a team member. It is printed once; only its
    /// hash is stored. Use it as `Authorization: Bearer TOKEN` or to sign in
    /// to the dashboard.
    #[command(
        after_help = "Examples:\n  firebreak token create --member alice --plan plan.toml\n  firebreak token create --member bob --plan plan.toml --label laptop --json"
    )]
    Create {
        /// The member's handle in the plan's [team].
        #[arg(long, value_name = "NAME")]
        member: String,
        /// The plan (to check the member).
        #[arg(long, value_name = "PLAN")]
        plan: PathBuf,
        /// A note to tell tokens apart.
        #[arg(long, default_value = "")]
        label: String,
        /// Print JSON (`{"id", "member", "token"}`).
        #[arg(long)]
        json: bool,
        /// Store.
        #[command(flatten)]
        db: DbArgs,
    },
    /// List tokens (never the tokens themselves).
    List {
        /// Print JSON.
        #[arg(long)]
        json: bool,
        /// Store.
        #[command(flatten)]
        db: DbArgs,
    },
    /// Revoke a token by id (see `firebreak token list`); it stops working at once.
    Revoke {
        /// Token id.
        id: u64,
        /// Store.
        #[command(flatten)]
        db: DbArgs,
    },
}
