//! `firebreak run`

use std::sync::Arc;

use firebreak_node::{DaemonEvent, DaemonOptions, WatchEvent, WatchOptions, run_daemon};
use firebreak_plan::{Plan, PlanMode};

use crate::{
    Outcome,
    args::{LogFormat, RunArgs},
    cmd::{alerts::print_alert, store},
    output,
    settings::RunSettings,
};

pub(crate) fn run(args: &RunArgs) -> eyre::Result<Outcome> {
    let settings = crate::settings::run_settings(args)?;
    if args.print_settings {
        output::out(crate::settings::to_toml(&settings).trim_end());
        return Ok(Outcome::Ok);
    }
    let Some(plan) = super::valid_plan(&args.plan)? else { return Ok(Outcome::Invalid) };
    if args.chains.len() != 1 && (args.rpc.is_some() || args.from.is_some()) {
        output::error("error: --rpc and --from need exactly one --chain");
        return Ok(Outcome::Invalid);
    }
    init_logs(settings.log_format);
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build()?;
    rt.block_on(daemon(Arc::new(plan), args, &settings))
}

fn init_logs(format: LogFormat) {
    let filter = tracing_subscriber::EnvFilter::try_from_env("FIREBREAK_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn,firebreak=info"));
    let builder =
        tracing_subscriber::fmt().with_env_filter(filter).with_writer(output::LogLine::new);
    let _ = match format {
        LogFormat::Text => builder.try_init(),
        LogFormat::Json => builder.json().try_init(),
    };
}

async fn daemon(plan: Arc<Plan>, args: &RunArgs, set: &RunSettings) -> eyre::Result<Outcome> {
    let store = store::open(&args.db, true).await?;
    // one daemon per store, held until this function returns
    let _lock = store::lock_for_daemon(&args.db)?;
    let mut opts = DaemonOptions {
        watch: WatchOptions {
            poll_interval: set.poll,
            start: args.from,
            ..WatchOptions::default()
        },
        window: set.window,
        chains: args.chains.clone(),
        rpc_timeout: set.rpc_timeout,
        allow_unready: set.allow_unready,
        lease_ttl: set.lease_time,
        metrics_listen: set.metrics_listen,
        metrics_token: env_secret("FIREBREAK_METRICS_TOKEN"),
        serve: firebreak_server::ServeLimits {
            max_connections: usize::from(set.max_connections),
            ..firebreak_server::ServeLimits::default()
        },
        ..DaemonOptions::default()
    };
    if !set.no_listen {
        opts.listen = Some(set.listen);
        opts.public_url = set.public_url.clone();
        opts.drill_record =
            Some(store::data_dir().join("drills").join(format!("{}.json", plan.hash)));
        opts.behind_proxy = set.behind_proxy;
        if set.secure_cookies {
            opts.secure_cookies = Some(true);
        }
        // a fixed key keeps links valid across restarts
        opts.ack_key = env_secret("FIREBREAK_ACK_KEY");
        opts.pagerduty_webhook_secret = pagerduty_webhook_secret(&plan)?;
    }
    if let (Some(url), [chain]) = (&args.rpc, args.chains.as_slice()) {
        opts.endpoints.insert(chain.clone(), vec![url.clone()]);
    }
    // the signal handlers are in place before anyone is told the daemon
    // runs: a SIGTERM right after start stops it cleanly, never by default
    // action mid-write
    #[cfg(unix)]
    let (mut int, mut term) = {
        use tokio::signal::unix::{SignalKind, signal};
        let handler =
            |kind| eyre::WrapErr::wrap_err(signal(kind), "cannot install a signal handler");
        (handler(SignalKind::interrupt())?, handler(SignalKind::terminate())?)
    };
    let mode = if plan.mode == PlanMode::Drill { " (DRILL)" } else { "" };
    // said once every part is built and the P1 paths are checked: a daemon
    // that refuses to start never claims to protect anything
    let started = format!(
        "firebreak{mode}: protecting {} — store {} (Ctrl-C to stop)",
        plan.protocol.name,
        store::db_shown(&args.db)
    );
    let json = set.json;
    let printer_plan = plan.clone();
    let mut emit = move |e: DaemonEvent| {
        if matches!(e, DaemonEvent::Started) {
            output::error(&started);
        }
        print_event(&printer_plan, &e, json);
    };
    let shutdown = async {
        #[cfg(unix)]
        tokio::select! {
            _ = int.recv() => {}
            _ = term.recv() => {}
        }
        #[cfg(not(unix))]
        let _ = tokio::signal::ctrl_c().await;
    };
    match run_daemon(plan, store, opts, &mut emit, shutdown).await {
        Ok(()) => {
            output::error("stopped");
            Ok(Outcome::Ok)
        }
        // a part of the daemon died: stop loudly with its name and cause, so a
        // supervisor (systemd, Kubernetes) restarts it
        Err(firebreak_node::DaemonError::Task(failure)) => {
            Err(eyre::Report::new(failure).wrap_err("firebreak stopped"))
        }
        Err(e) => Err(eyre::Report::new(e).wrap_err("the daemon could not start")),
    }
}

/// A secret from the environment, registered with the redaction layer.
fn env_secret(var: &str) -> Option<secrecy::SecretString> {
    let value = std::env::var(var).ok().filter(|k| !k.trim().is_empty())?;
    firebreak_primitives::register_secret(&value);
    Some(secrecy::SecretString::from(value))
}

/// The signing secret of PagerDuty's webhooks: the plan's `webhook_secret`
/// on a pagerduty channel, else `FIREBREAK_PAGERDUTY_WEBHOOK_SECRET`.
fn pagerduty_webhook_secret(plan: &Plan) -> eyre::Result<Option<secrecy::SecretString>> {
    let from_plan = plan.channels.iter().find_map(|(id, c)| match &c.service {
        firebreak_plan::ChannelService::Pagerduty { webhook_secret: Some(s), .. } => Some((id, s)),
        _ => None,
    });
    match from_plan {
        Some((id, secret)) => firebreak_plan::resolve_secret(secret, &plan.base_dir)
            .map(Some)
            .map_err(|e| eyre::eyre!("channel `{id}`: `webhook_secret`: {e} ({})", e.hint())),
        None => Ok(env_secret("FIREBREAK_PAGERDUTY_WEBHOOK_SECRET")),
    }
}

fn print_event(plan: &Plan, e: &DaemonEvent, json: bool) {
    if json {
        if !matches!(
            e,
            DaemonEvent::Watch {
                event: WatchEvent::Processed { .. } | WatchEvent::Simulated { watched: false, .. }
            }
        ) && let Ok(line) = serde_json::to_string(e)
        {
            output::out(&line);
        }
        return;
    }
    match e {
        DaemonEvent::Watch { event } => match event {
            WatchEvent::Alert { alert } => print_alert(plan, alert, false),
            WatchEvent::Retracted { alert } => output::out(&format!(
                "RETRACTED [{}] {}  block {} was orphaned by a reorg",
                alert.severity, alert.monitor, alert.block_number
            )),
            WatchEvent::Blind { chain, for_secs } => output::out(&format!(
                "[BLIND] chain `{chain}`: every RPC endpoint has failed for {for_secs}s; check the endpoints"
            )),
            WatchEvent::Recovered { chain } => output::out(&format!("[RECOVERED] chain `{chain}`")),
            WatchEvent::EndpointFailed { chain, endpoint, error } => {
                output::error(&format!("warning: chain `{chain}`: {endpoint}: {error}"));
            }
            WatchEvent::StoreFailed { chain, error } => {
                output::error(&format!(
                    "error: chain `{chain}`: the store did not record a block ({error})"
                ));
            }
            WatchEvent::Simulated { tx_hash, succeeded, after, alerts, watched: true, .. } => {
                let ahead = match after {
                    0 => String::new(),
                    n => format!(" after {n} pending transaction(s) of its sender"),
                };
                output::out(&format!(
                    "pending {tx_hash} touches a watched contract: simulated{ahead} ({}), {alerts} pre-emptive alert(s)",
                    if *succeeded { "succeeds" } else { "reverts" }
                ));
            }
            WatchEvent::PendingIntake { chain, endpoint, how } => output::out(&format!(
                "[PRE-EMPT] chain `{chain}`: reading pending transactions from {endpoint} ({how})"
            )),
            WatchEvent::Reorg { .. }
            | WatchEvent::Processed { .. }
            | WatchEvent::Simulated { watched: false, .. } => {}
        },
        DaemonEvent::IncidentOpened { incident, monitor, severity, block } => {
            output::out(&format!(
                "INCIDENT {incident} opened [{severity}] by `{monitor}` at block {block} — `firebreak incident show {incident}`"
            ))
        }
        DaemonEvent::Step { incident, step, status, detail } => output::out(&format!(
            "  incident {incident} step `{step}`: {status}{}",
            detail.as_ref().map(|d| format!(" — {d}")).unwrap_or_default()
        )),
        DaemonEvent::Serving { url } => output::out(&format!(
            "war room {url}  (dashboard; API {url}/api/v1; status page {url}/status) — sign in with a token from `firebreak token create`"
        )),
        DaemonEvent::Readiness { message } => output::out(&format!("[READINESS] {message}")),
        DaemonEvent::Replica { message } => output::out(&format!("[REPLICA] {message}")),
        DaemonEvent::Recovery { incident, message } => {
            output::out(&format!("[RECOVERY] incident {incident}: {message}"))
        }
        DaemonEvent::Started => {}
        DaemonEvent::Error { error } => output::error(&format!("error: {error} (retrying)")),
    }
}
