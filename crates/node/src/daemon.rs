//! `firebreak run`: watchers, incidents and the executor in one process.
//!
//! Every part runs as its own supervised task (see `tasks`): one watcher per
//! chain, the executor, one courier per channel, the war room and a
//! readiness poller. Watchers feed alerts over a bounded channel to the
//! executor, which opens incidents and drives each incident in a task of
//! its own, so incidents move at once and a slow chain holds up only its
//! own. Each new block of an incident's chain drives it (transactions to
//! follow, containment to re-check), a war-room decision drives it, and a
//! slow fallback tick catches timers (escalations) and changes other
//! processes made (approvals and signatures given with the CLI). At
//! start-up the executor first links alerts stored before a crash and
//! resumes every open incident, so a restart continues exactly where the
//! record stops. Events go out on a broadcast channel.

use std::{
    collections::{BTreeMap, BTreeSet},
    sync::Arc,
    time::Duration,
};

use firebreak_plan::Plan;
use firebreak_primitives::now_ms;
use firebreak_primitives::{IncidentId, StepStatus};
use firebreak_respond::{Executor, FeePolicy, IncidentManager, halt_point};
use firebreak_store::{AlertStore, IncidentFilter, IncidentStore};
use tokio::{
    sync::{broadcast, mpsc},
    task::JoinSet,
};

use crate::{
    metrics::Metrics,
    tasks::{Stop, TaskFailure, TaskManager},
    watch::{WatchEvent, WatchOptions, Watcher},
};

/// Daemon settings.
#[derive(Debug, Clone)]
pub struct DaemonOptions {
    /// How long a replica's leases last without renewal; `None`: two blocks
    /// of the fastest chain, between 2 and 30 seconds.
    pub lease_ttl: Option<Duration>,
    /// Watcher settings (shared by every chain).
    pub watch: WatchOptions,
    /// Pre-emption settings (chains with `mempool = "public"` and
    /// `pre_empt` monitors).
    pub pre_empt: crate::PreEmptOptions,
    /// How often incidents with work in flight are driven when nothing
    /// wakes them: each new block of an incident's chain, and each decision
    /// taken in the war room, drive it at once; this fallback catches timers
    /// (escalations) and changes made by other processes (the CLI).
    pub tick: Duration,
    /// Alert grouping window.
    pub window: Duration,
    /// Fee policy override (default: by incident severity).
    pub fee_policy: Option<FeePolicy>,
    /// Chains to watch (default: those of the enabled monitors).
    pub chains: Vec<String>,
    /// Endpoint overrides per chain key.
    pub endpoints: BTreeMap<String, Vec<String>>,
    /// A drill on an anvil fork: incidents are marked DRILL and signers
    /// without a key send as impersonated accounts.
    pub drill: bool,
    /// Message delivery.
    pub courier: firebreak_notify::CourierOptions,
    /// Serve acknowledgement links here (e.g. 127.0.0.1:8787); `None`: no listener.
    pub listen: Option<std::net::SocketAddr>,
    /// Base URL of the links (default `http://LISTEN`), e.g. behind a proxy.
    pub public_url: Option<String>,
    /// Key signing the links (default: random per start, so links die with
    /// the daemon; set one to keep them valid across restarts).
    pub ack_key: Option<secrecy::SecretString>,
    /// Signing secret of a PagerDuty V3 webhook subscription pointed at
    /// `/hooks/pagerduty` (acknowledging in PagerDuty acknowledges here).
    pub pagerduty_webhook_secret: Option<secrecy::SecretString>,
    /// Mark war-room session cookies `Secure` (default: when `public_url`
    /// is `https://…`).
    pub secure_cookies: Option<bool>,
    /// The war room is behind a reverse proxy that appends the client's
    /// address to `X-Forwarded-For` (used for the login rate limit).
    pub behind_proxy: bool,
    /// Where `firebreak drill` records the plan's last drill (shown in the war room).
    pub drill_record: Option<std::path::PathBuf>,
    /// Counters and gauges served at `/metrics` (shared, so callers can read them).
    pub metrics: Arc<Metrics>,
    /// Bounds of the war room's listener (connections, header and request
    /// timeouts, body size).
    pub serve: firebreak_server::ServeLimits,
    /// Longest wait for one endpoint's answer to the executor before the
    /// next endpoint is tried.
    pub rpc_timeout: Duration,
    /// Start even when a P1 pause path cannot sign: a P1 readiness incident
    /// pages the on-call, the dashboard shows a red banner and `/readyz`
    /// answers 503 (default: refuse to start).
    pub allow_unready: bool,
    /// A bearer token that may read `/metrics` on the war room's listener
    /// (members' API tokens may too).
    pub metrics_token: Option<secrecy::SecretString>,
    /// Serve `/metrics` alone, without authentication, on this address of
    /// its own (one only the monitoring system reaches).
    pub metrics_listen: Option<std::net::SocketAddr>,
}

impl Default for DaemonOptions {
    fn default() -> Self {
        Self {
            watch: WatchOptions::default(),
            pre_empt: crate::PreEmptOptions::default(),
            tick: Duration::from_secs(1),
            lease_ttl: None,
            window: IncidentManager::DEFAULT_WINDOW,
            fee_policy: None,
            chains: Vec::new(),
            endpoints: BTreeMap::new(),
            drill: false,
            courier: firebreak_notify::CourierOptions::default(),
            listen: None,
            public_url: None,
            ack_key: None,
            pagerduty_webhook_secret: None,
            secure_cookies: None,
            drill_record: None,
            behind_proxy: false,
            metrics: Arc::default(),
            serve: firebreak_server::ServeLimits::default(),
            rpc_timeout: firebreak_respond::ChainLink::DEFAULT_TIMEOUT,
            allow_unready: false,
            metrics_token: None,
            metrics_listen: None,
        }
    }
}

/// What the daemon reports.
#[derive(Debug, Clone, serde::Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum DaemonEvent {
    /// From a watcher.
    Watch {
        /// The event.
        event: WatchEvent,
    },
    /// An alert opened an incident.
    IncidentOpened {
        /// Incident.
        incident: IncidentId,
        /// Monitor that fired.
        monitor: String,
        /// Severity.
        severity: String,
        /// Block of the alert.
        block: u64,
    },
    /// A playbook step changed state.
    Step {
        /// Incident.
        incident: IncidentId,
        /// Step id.
        step: String,
        /// New state.
        status: StepStatus,
        /// Detail.
        detail: Option<String>,
    },
    /// The war room is served: dashboard at `url`, API at `url/api/v1`,
    /// status page at `url/status`.
    Serving {
        /// Base URL.
        url: String,
    },
    /// Something stops the plan from working as written (e.g. a pre-signed
    /// pause no longer valid).
    Readiness {
        /// What is wrong and how to fix it.
        message: String,
    },
    /// Every part is built and ready to run (keys loaded, P1 paths checked,
    /// listeners bound): the daemon protects the plan from now on.
    Started,
    /// This replica started or stopped acting (holding the leases).
    Replica {
        /// What changed.
        message: String,
    },
    /// Fund recovery found something (attackers proposed, funds traced to
    /// an exit, funds returned, a message on chain).
    Recovery {
        /// Incident.
        incident: firebreak_primitives::IncidentId,
        /// What, in words.
        message: String,
    },
    /// A round failed; it is retried on the next tick.
    Error {
        /// What failed (the cause chain; never a secret).
        error: String,
    },
}

/// Why the daemon could not start.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DaemonError {
    /// A watcher could not be built.
    #[error("cannot watch chain `{chain}`")]
    Watch {
        /// Chain key.
        chain: String,
        /// Cause.
        #[source]
        source: crate::watch::WatchError,
    },
    /// The executor could not start.
    #[error("cannot start the executor")]
    Respond(#[from] firebreak_respond::Error),
    /// The acknowledgement listener could not bind.
    #[error("cannot listen on {addr}")]
    Listen {
        /// Address.
        addr: std::net::SocketAddr,
        /// Cause.
        #[source]
        source: std::io::Error,
    },
    /// The store's connections for the war room could not be opened.
    #[error("cannot open the store for the war room")]
    Store(#[source] firebreak_store::Error),
    /// Nothing to watch.
    #[error("the plan has no enabled monitors: nothing to watch")]
    NothingToWatch,
    /// The plan's `[heartbeat]` cannot be used (a secret URL not set).
    #[error("{0}")]
    Heartbeat(String),
    /// A P1 pause path cannot sign, and the daemon was not told to run anyway.
    #[error("not ready: {}\n  fix the keys, or start with --allow-unready to run anyway (a P1 readiness incident pages the on-call and /readyz answers 503 until it is fixed)", .0.iter().map(ToString::to_string).collect::<Vec<_>>().join("\n  "))]
    Unready(Vec<firebreak_respond::PathProblem>),
    /// A task the daemon cannot run without panicked or stopped; every
    /// other task was stopped.
    #[error(transparent)]
    Task(#[from] TaskFailure),
}

/// What the daemon needs of its store: alerts, incidents, the war room's
/// records, and connections of its own for the war room.
pub trait DaemonStore:
    AlertStore
    + IncidentStore
    + firebreak_store::LeaseStore
    + firebreak_store::Wakeups
    + firebreak_store::WarRoomStore
    + firebreak_store::ReplicaStore
    + firebreak_store::OwnPool
    + 'static
{
}
impl<T> DaemonStore for T where
    T: AlertStore
        + IncidentStore
        + firebreak_store::LeaseStore
        + firebreak_store::Wakeups
        + firebreak_store::WarRoomStore
        + firebreak_store::ReplicaStore
        + firebreak_store::OwnPool
        + 'static
{
}

/// How many events the daemon's broadcast channel holds for a slow listener.
pub const EVENT_CAPACITY: usize = 4096;

/// Runs the daemon until `shutdown` completes, handing every event to
/// `emit` (on the caller's task; the daemon's own tasks only broadcast).
///
/// # Errors
/// When it cannot start, or when one of its tasks panics or stops
/// ([`DaemonError::Task`], naming the task and why); failures of a round
/// become [`DaemonEvent::Error`] and are retried.
pub async fn run_daemon<S>(
    plan: Arc<Plan>,
    store: Arc<S>,
    opts: DaemonOptions,
    emit: &mut (dyn FnMut(DaemonEvent) + Send),
    shutdown: impl std::future::Future<Output = ()>,
) -> Result<(), DaemonError>
where
    S: DaemonStore,
{
    let (events, mut rx) = broadcast::channel(EVENT_CAPACITY);
    let daemon = run_daemon_with(plan, store, opts, events, shutdown);
    let consume = async {
        loop {
            match rx.recv().await {
                Ok(e) => emit(e),
                Err(broadcast::error::RecvError::Lagged(n)) => {
                    tracing::warn!(skipped = n, "event listener too slow; events skipped");
                }
                Err(broadcast::error::RecvError::Closed) => break,
            }
        }
    };
    let (result, ()) = tokio::join!(daemon, consume);
    result
}

/// Runs the daemon until `shutdown` completes, publishing its events on
/// `events` (subscribe before calling to miss none).
///
/// # Errors
/// As [`run_daemon`].
pub async fn run_daemon_with<S>(
    plan: Arc<Plan>,
    store: Arc<S>,
    opts: DaemonOptions,
    events: broadcast::Sender<DaemonEvent>,
    shutdown: impl std::future::Future<Output = ()>,
) -> Result<(), DaemonError>
where
    S: DaemonStore,
{
    // boxed: the daemon's state is large, and its callers' futures stay small
    Box::pin(daemon(plan, store, opts, events, shutdown)).await
}

/// Sends an event; nobody listening is not an error.
pub(crate) fn publish(events: &broadcast::Sender<DaemonEvent>, event: DaemonEvent) {
    let _ = events.send(event);
}

#[allow(clippy::too_many_lines)] // the composition root: one place wires every task
async fn daemon<S>(
    plan: Arc<Plan>,
    store: Arc<S>,
    opts: DaemonOptions,
    events: broadcast::Sender<DaemonEvent>,
    shutdown: impl std::future::Future<Output = ()>,
) -> Result<(), DaemonError>
where
    S: DaemonStore,
{
    let chains: Vec<String> = if opts.chains.is_empty() {
        let set: BTreeSet<String> =
            plan.monitors.values().filter(|m| m.enabled).map(|m| m.chain.clone()).collect();
        set.into_iter().collect()
    } else {
        opts.chains.clone()
    };
    if chains.is_empty() {
        return Err(DaemonError::NothingToWatch);
    }
    let mut watchers = Vec::new();
    let mut pre_emptors = Vec::new();
    for chain in &chains {
        let mut w = Watcher::new(&plan, chain, opts.watch.clone())
            .map_err(|source| DaemonError::Watch { chain: chain.clone(), source })?
            .with_store(store.clone() as Arc<dyn AlertStore>);
        if let Some(urls) = opts.endpoints.get(chain) {
            w = w.with_endpoints(urls.clone());
        }
        // pending transactions, evaluated on the watcher's latest state
        let (feed, base) = tokio::sync::watch::channel(None);
        if let Some(mut p) = crate::PreEmptor::new(&plan, chain, base, opts.pre_empt.clone())
            .map_err(|source| DaemonError::Watch { chain: chain.clone(), source })?
        {
            if let Some(urls) = opts.endpoints.get(chain) {
                p = p.with_endpoints(urls.clone());
            }
            w = w.with_state_feed(feed);
            pre_emptors.push((chain.clone(), p));
        }
        watchers.push((chain.clone(), w));
    }
    let incidents: Arc<dyn IncidentStore> = store.clone();
    let mut links = std::collections::HashMap::new();
    for key in plan.chains.keys() {
        let link = match opts.endpoints.get(key) {
            Some(urls) => {
                let chain_id = plan.chains[key].id;
                let endpoints = urls.iter().map(firebreak_respond::RpcEndpoint::public).collect();
                firebreak_respond::ChainLink::connect(key, chain_id, endpoints, opts.rpc_timeout)
                    .await
                    .map_err(firebreak_respond::Error::from)?
            }
            None => firebreak_respond::connect_link_with(&plan, key, opts.rpc_timeout).await?,
        };
        links.insert(key.clone(), link);
    }
    let mut executor = Executor::with_links(plan.clone(), incidents.clone(), links)
        .with_announcements(store.clone() as Arc<dyn firebreak_store::WarRoomStore>);
    let metrics = opts.metrics.clone();
    // wake-ups from the war room; a full queue loses nothing (the tick drives anyway)
    let (control_tx, control_rx) = mpsc::channel::<firebreak_primitives::ControlMsg>(256);
    let ready = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let readiness: Arc<firebreak_server::Readiness> = Arc::default();
    if let Some(p) = opts.fee_policy {
        executor = executor.with_fee_policy(p);
    }
    if opts.drill {
        executor = executor.impersonating();
    }
    // ready means every P1 pause path can sign today: refuse to start
    // otherwise, or (when told to run anyway) say so loudly until fixed
    let problems = executor.containment_problems();
    if !problems.is_empty() {
        if !opts.allow_unready {
            return Err(DaemonError::Unready(problems));
        }
        for p in &problems {
            tracing::error!(problem = %p, "not ready");
            readiness.block(format!("path:{}:{}:{}", p.contract, p.path, p.signer), p.to_string());
            publish(&events, DaemonEvent::Readiness { message: format!("NOT READY: {p}") });
        }
        executor.raise_readiness(&problems, opts.drill).await?;
    }
    opts.metrics.set("firebreak_ready", &[], 0.0);
    let listener = match opts.listen {
        Some(addr) => {
            let l = tokio::net::TcpListener::bind(addr)
                .await
                .map_err(|source| DaemonError::Listen { addr, source })?;
            let bound = l.local_addr().map_err(|source| DaemonError::Listen { addr, source })?;
            let key = opts.ack_key.clone().unwrap_or_else(|| {
                secrecy::SecretString::from(alloy::primitives::hex::encode(
                    rand::random::<[u8; 32]>(),
                ))
            });
            let base = opts.public_url.clone().unwrap_or_else(|| format!("http://{bound}"));
            tracing::info!(%bound, %base, "war room served");
            publish(&events, DaemonEvent::Serving { url: format!("http://{bound}") });
            executor = executor.with_ack_links(
                base,
                key.clone(),
                std::time::Duration::from_secs(24 * 3600),
            );
            Some((l, key))
        }
        None => None,
    };
    let replica = firebreak_store::ReplicaBeat {
        replica: format!("{}:{}:{:04x}", host_name(), std::process::id(), rand::random::<u16>()),
        host: host_name(),
        pid: std::process::id(),
        started_ms: now_ms(),
        beat_ms: now_ms(),
        ready: false,
        chains: Vec::new(),
    };
    // of replicas sharing the store, the one holding the leases acts
    let fencing = Arc::new(firebreak_respond::Fencing::new(replica.replica.clone()));
    let executor = executor.with_fencing(fencing.clone());
    let mut lease_names = vec![crate::lease::EXECUTOR_LEASE.to_owned()];
    lease_names.extend(executor.signer_leases());
    let lease_ttl = match opts.lease_ttl {
        Some(t) => t,
        None => {
            let mut times = Vec::new();
            for key in plan.chains.keys() {
                if let Some(t) = match executor.link(key) {
                    Some(link) => crate::lease::block_time(link).await,
                    None => None,
                } {
                    times.push(t);
                }
            }
            crate::lease::lease_time(&times)
        }
    };
    let executor = Arc::new(executor);
    let manager = IncidentManager::new(plan.clone(), incidents.clone())
        .with_window(opts.window)
        .with_drill(opts.drill);

    let (channels, unusable) = firebreak_notify::plan_channels(&plan);
    for e in unusable {
        publish(
            &events,
            DaemonEvent::Readiness {
                message: format!("{e}; its messages wait in the outbox until it is fixed"),
            },
        );
    }
    let acting = fencing.clone();
    let courier = firebreak_notify::Courier::new(incidents.clone(), channels, opts.courier.clone())
        .with_gate(firebreak_notify::Gate(Arc::new(move || acting.acting())));
    // replicas sharing the outbox claim each message; one daemon per file
    // (SQLite) has one courier, and a claim would cost a write per message
    let courier = Arc::new(if firebreak_store::LeaseStore::exclusive(&*store) {
        courier
    } else {
        courier.with_claims(fencing.holder(), lease_ttl)
    });

    let mut tasks = TaskManager::new(Duration::from_secs(10));
    let keeper = crate::lease::LeaseKeeper {
        store: store.clone() as Arc<dyn firebreak_store::LeaseStore>,
        fencing: fencing.clone(),
        names: lease_names.clone(),
        ttl: lease_ttl,
        events: events.clone(),
        metrics: metrics.clone(),
    };
    tasks.spawn_critical("leases", keeper.run(tasks.stop_signal()));
    // alerts wait here for the executor; a full queue holds the watchers back
    let (alerts_tx, alerts_rx) = mpsc::channel::<firebreak_primitives::Alert>(1024);
    // new blocks wake the executor; a full queue loses nothing (it is busy
    // driving already, and the fallback tick drives anyway)
    let (blocks_tx, blocks_rx) = mpsc::channel::<u64>(256);
    let forwarder = Forward {
        alerts: alerts_tx.clone(),
        blocks: blocks_tx.clone(),
        events: events.clone(),
        metrics: metrics.clone(),
        plan: plan.clone(),
        readiness: readiness.clone(),
    };
    for (chain, mut w) in watchers {
        let stop = tasks.stop_signal();
        let forwarder = forwarder.clone();
        tasks.spawn_critical(format!("watch:{chain}"), async move {
            let (tx, rx) = mpsc::channel::<WatchEvent>(256);
            tokio::join!(w.run_into(tx, stop.wait()), forwarder.run(rx));
            Ok(())
        });
    }
    for (chain, p) in pre_emptors {
        let stop = tasks.stop_signal();
        let forwarder = forwarder.clone();
        tracing::info!(%chain, monitors = ?p.monitors(), "pre-emption on");
        tasks.spawn_critical(format!("pre-empt:{chain}"), async move {
            let (tx, rx) = mpsc::channel::<WatchEvent>(1024);
            tokio::join!(p.run_into(tx, stop.wait()), forwarder.run(rx));
            Ok(())
        });
    }
    drop(forwarder);
    drop(alerts_tx);
    drop(blocks_tx);
    let respond = Respond {
        executor: executor.clone(),
        incidents: incidents.clone(),
        manager,
        metrics: metrics.clone(),
        events: events.clone(),
        tick: opts.tick,
        fencing: fencing.clone(),
        wakeups: store.clone() as Arc<dyn firebreak_store::Wakeups>,
    };
    let stop = tasks.stop_signal();
    let ready_flag = ready.clone();
    let wake = Wake { alerts: alerts_rx, control: control_rx, blocks: blocks_rx };
    tasks.spawn_critical("executor", respond.run(wake, ready_flag, stop));
    let serve_stats = Arc::new(firebreak_server::ServeStats::default());
    let poller = ReadinessPoller {
        replica,
        leases: store.clone() as Arc<dyn firebreak_store::LeaseStore>,
        lease_names,
        lease_grace: tokio::time::Instant::now() + lease_ttl,
        replicas: store.clone() as Arc<dyn firebreak_store::ReplicaStore>,
        plan: plan.clone(),
        executor: executor.clone(),
        incidents: incidents.clone(),
        metrics: metrics.clone(),
        delivery_failures: courier.failures(),
        serve_stats: serve_stats.clone(),
        readiness: readiness.clone(),
        ready: ready.clone(),
        events: events.clone(),
        // a drill's impersonated signers hold what the fork gives them
        live_checks: !opts.drill,
    };
    tasks.spawn_critical("readiness", poller.run(tasks.stop_signal()));
    if let Some(hb) = &plan.heartbeat {
        let (url, fail_url) =
            crate::heartbeat::Heartbeat::resolve(&plan, hb).map_err(DaemonError::Heartbeat)?;
        let heartbeat = crate::heartbeat::Heartbeat {
            url,
            fail_url,
            interval: hb.interval,
            ready: ready.clone(),
            readiness: readiness.clone(),
            metrics: metrics.clone(),
        };
        tasks.spawn_critical("heartbeat", heartbeat.run(tasks.stop_signal()));
    }
    let names: Vec<String> = courier.channel_names().map(str::to_owned).collect();
    for ch in names {
        let courier = courier.clone();
        let stop = tasks.stop_signal();
        tasks.spawn_critical(format!("courier:{ch}"), async move {
            courier.run_channel(&ch, stop.wait()).await;
            Ok(())
        });
    }
    if let Some((listener, key)) = listener {
        let secure = opts.secure_cookies.unwrap_or_else(|| {
            opts.public_url.as_deref().is_some_and(|u| u.starts_with("https://"))
        });
        let render_metrics = opts.metrics.clone();
        // the war room's queries run on connections of their own: a flood
        // of dashboard requests never makes the executor wait for one
        let war_store = Arc::new(store.own_pool().await.map_err(DaemonError::Store)?);
        let war_room = firebreak_server::WarRoom::new(
            plan.clone(),
            war_store.clone() as Arc<dyn firebreak_server::Backend>,
            control_tx,
        )
        .with_secure_cookies(secure)
        .behind_proxy(opts.behind_proxy)
        .with_ready_flag(ready.clone())
        .with_readiness(readiness.clone())
        .with_metrics(Arc::new(move || render_metrics.render()))
        .with_metrics_token(opts.metrics_token.clone());
        let war_room = match opts.drill_record.clone() {
            Some(path) => war_room.with_drill_record(path),
            None => war_room,
        };
        let app = firebreak_server::with_security_headers(
            firebreak_server::ack_router(
                plan.clone(),
                war_store as Arc<dyn IncidentStore>,
                key,
                opts.pagerduty_webhook_secret.clone(),
            )
            .merge(firebreak_server::router(war_room)),
        );
        let stop = tasks.stop_signal();
        let limits = opts.serve.clone();
        let stats = serve_stats.clone();
        tasks.spawn_critical("war-room", async move {
            firebreak_server::serve(listener, app, limits, stats, stop.wait())
                .await
                .map_err(|e| format!("the war room listener stopped: {e}"))
        });
    } else {
        drop(control_tx);
    }
    if let Some(addr) = opts.metrics_listen {
        let l = tokio::net::TcpListener::bind(addr)
            .await
            .map_err(|source| DaemonError::Listen { addr, source })?;
        let render = opts.metrics.clone();
        let app = firebreak_server::metrics_router(Arc::new(move || render.render()));
        let stop = tasks.stop_signal();
        let limits = opts.serve.clone();
        let stats = Arc::new(firebreak_server::ServeStats::default());
        tracing::info!(%addr, "metrics served");
        tasks.spawn_critical("metrics", async move {
            firebreak_server::serve(l, app, limits, stats, stop.wait())
                .await
                .map_err(|e| format!("the metrics listener stopped: {e}"))
        });
    }
    // fund recovery runs under the plan's Safe Harbor terms
    if plan.safe_harbor.is_some() {
        let recovery = crate::recovery::RecoveryTask {
            plan: plan.clone(),
            store: incidents.clone(),
            fencing: fencing.clone(),
            events: events.clone(),
        };
        tasks.spawn_critical("recovery", recovery.run(tasks.stop_signal()));
    }
    publish(&events, DaemonEvent::Started);
    tasks.run_until(shutdown).await?;
    Ok(())
}

/// Hands a watcher's (or pre-emptor's) events on: alerts to the executor,
/// new blocks as wake-ups, everything to metrics and subscribers.
#[derive(Clone)]
struct Forward {
    alerts: mpsc::Sender<firebreak_primitives::Alert>,
    blocks: mpsc::Sender<u64>,
    events: broadcast::Sender<DaemonEvent>,
    metrics: Arc<Metrics>,
    plan: Arc<Plan>,
    readiness: Arc<firebreak_server::Readiness>,
}

impl Forward {
    async fn run(self, mut rx: mpsc::Receiver<WatchEvent>) {
        while let Some(event) = rx.recv().await {
            count(&self.metrics, &self.plan, &event);
            blindness(&self.readiness, &self.metrics, &event);
            if let WatchEvent::Alert { alert } = &event
                && self.alerts.send(alert.clone()).await.is_err()
            {
                return;
            }
            if let WatchEvent::Processed { chain_id, .. } = &event {
                let _ = self.blocks.try_send(*chain_id);
            }
            publish(&self.events, DaemonEvent::Watch { event });
        }
    }
}

/// The executor task: opens incidents from alerts and drives every incident
/// with work in flight, each in its own task, so one slow chain or incident
/// holds up no other.
struct Respond {
    executor: Arc<Executor>,
    incidents: Arc<dyn IncidentStore>,
    manager: IncidentManager,
    metrics: Arc<Metrics>,
    events: broadcast::Sender<DaemonEvent>,
    tick: Duration,
    /// Whether this replica acts (holds the leases): only then it drives.
    fencing: Arc<firebreak_respond::Fencing>,
    /// Drive requests between replicas (PostgreSQL `LISTEN`/`NOTIFY`).
    wakeups: Arc<dyn firebreak_store::Wakeups>,
}

/// What wakes the executor task.
struct Wake {
    /// New alerts from the watchers.
    alerts: mpsc::Receiver<firebreak_primitives::Alert>,
    /// Decisions taken in the war room.
    control: mpsc::Receiver<firebreak_primitives::ControlMsg>,
    /// A block processed on a chain (its id).
    blocks: mpsc::Receiver<u64>,
}

/// What the executor task keeps between rounds.
#[derive(Default)]
struct Book {
    /// Incidents with work in flight, or contained and watched.
    active: BTreeSet<IncidentId>,
    /// The chain of each active incident, once known.
    chain: BTreeMap<IncidentId, u64>,
    /// Incidents being driven right now.
    running: BTreeSet<IncidentId>,
    /// Incidents asked for while being driven: driven again at once after.
    again: BTreeSet<IncidentId>,
    /// Incidents whose last rounds failed: (failures in a row, next try in ms).
    backoff: BTreeMap<IncidentId, (u32, u64)>,
    /// Each step's last reported state.
    seen: BTreeMap<(IncidentId, String), (StepStatus, Option<String>)>,
    /// Actions whose reaction time is recorded.
    reacted: BTreeSet<firebreak_primitives::ActionKey>,
}

impl Respond {
    async fn run(
        self,
        wake: Wake,
        ready: Arc<std::sync::atomic::AtomicBool>,
        stop: Stop,
    ) -> Result<(), String> {
        let Wake { mut alerts, mut control, mut blocks } = wake;
        let mut book = Book::default();
        // resume: alerts stored but never grouped, then every open incident
        match self.manager.recover_unlinked().await {
            Ok(ids) => book.active.extend(ids),
            Err(e) => self.error(firebreak_primitives::error_chain(&e)),
        }
        self.adopt_open(&mut book).await;
        let mut drives: JoinSet<(IncidentId, firebreak_respond::Result<bool>)> = JoinSet::new();
        let mut tick = tokio::time::interval(self.tick);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        ready.store(true, std::sync::atomic::Ordering::Relaxed);
        let stopping = stop.clone().wait();
        tokio::pin!(stopping);
        let (mut control_open, mut blocks_open) = (true, true);
        let mut acting = self.fencing.changes();
        // decisions recorded by another replica's war room
        let mut requests = match self.wakeups.drive_requests().await {
            Ok(r) => r,
            Err(e) => {
                self.error(firebreak_primitives::error_chain(&e));
                None
            }
        };
        loop {
            tokio::select! {
                () = &mut stopping => break,
                changed = acting.changed() => {
                    // this replica took the leases over: every open incident
                    // is its to drive now, recorded transactions first
                    if changed.is_ok() && *acting.borrow_and_update() {
                        self.adopt_open(&mut book).await;
                        self.drive_due(&mut book, &mut drives, None);
                    }
                }
                requested = async {
                    match &mut requests {
                        Some(r) => futures::StreamExt::next(r).await,
                        None => std::future::pending().await,
                    }
                } => match requested {
                    Some(id) => {
                        book.active.insert(id);
                        self.request(&mut book, &mut drives, id);
                    }
                    // the listener ended: the tick still drives
                    None => requests = None,
                },
                msg = control.recv(), if control_open => match msg {
                    Some(firebreak_primitives::ControlMsg::Drive(id)) => {
                        if self.fencing.acting() {
                            self.request(&mut book, &mut drives, id);
                        } else if let Err(e) = self.wakeups.announce_drive(id).await {
                            // the acting replica's tick drives it anyway
                            self.error(firebreak_primitives::error_chain(&e));
                        }
                    }
                    Some(_) => {}
                    None => control_open = false,
                },
                alert = alerts.recv() => {
                    // every watcher gone: the supervisor reports which one and why
                    let Some(alert) = alert else { return Ok(()) };
                    self.on_alert(&mut book, &mut drives, &alert).await;
                }
                block = blocks.recv(), if blocks_open => match block {
                    // a new block: transactions to follow, containment to check
                    Some(chain_id) => self.drive_due(&mut book, &mut drives, Some(chain_id)),
                    None => blocks_open = false,
                },
                _ = tick.tick() => {
                    // incidents another replica opened (its watcher saw the
                    // alert first) are driven by whoever acts
                    if self.fencing.acting() {
                        self.adopt_open(&mut book).await;
                    }
                    self.drive_due(&mut book, &mut drives, None);
                }
                Some(done) = drives.join_next(), if !drives.is_empty() => {
                    let (id, result) = match done {
                        Ok(r) => r,
                        // a panic while driving is the executor's panic: the supervisor names it
                        Err(e) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
                        Err(e) => return Err(format!("a drive was cancelled: {e}")),
                    };
                    book.running.remove(&id);
                    self.finished(&mut book, id, result).await;
                    if book.again.remove(&id) {
                        self.request(&mut book, &mut drives, id);
                    }
                }
            }
        }
        // drain: rounds in flight finish (each leaves the record consistent
        // at every await, so the supervisor's grace period may cut one short)
        while let Some(done) = drives.join_next().await {
            if let Ok((id, result)) = done {
                self.finished(&mut book, id, result).await;
            }
        }
        Ok(())
    }

    fn error(&self, error: String) {
        publish(&self.events, DaemonEvent::Error { error });
    }

    /// Books every open incident in the store as active.
    async fn adopt_open(&self, book: &mut Book) {
        match self.incidents.incidents(&IncidentFilter::default()).await {
            Ok(list) => {
                for i in list.iter().filter(|i| i.status.is_open()) {
                    book.active.insert(i.id);
                    book.chain.insert(i.id, i.chain_id);
                }
            }
            Err(e) => self.error(firebreak_primitives::error_chain(&e)),
        }
    }

    /// Drives every active incident (of chain `chain_id` when given) that
    /// is not waiting out a backoff.
    fn drive_due(
        &self,
        book: &mut Book,
        drives: &mut JoinSet<(IncidentId, firebreak_respond::Result<bool>)>,
        chain_id: Option<u64>,
    ) {
        let now = now_ms();
        let due: Vec<IncidentId> = book
            .active
            .iter()
            .copied()
            .filter(|id| book.backoff.get(id).is_none_or(|(_, at)| *at <= now))
            .filter(|id| {
                chain_id.is_none_or(|c| book.chain.get(id).is_none_or(|known| *known == c))
            })
            .collect();
        for id in due {
            self.request(book, drives, id);
        }
    }

    /// Drives `id` now, or right after the round in flight.
    fn request(
        &self,
        book: &mut Book,
        drives: &mut JoinSet<(IncidentId, firebreak_respond::Result<bool>)>,
        id: IncidentId,
    ) {
        // a standby replica drives nothing: the one acting does
        if !self.fencing.acting() {
            return;
        }
        if !book.running.insert(id) {
            book.again.insert(id);
            return;
        }
        let executor = self.executor.clone();
        drives.spawn(async move { (id, executor.drive(id).await) });
    }

    async fn on_alert(
        &self,
        book: &mut Book,
        drives: &mut JoinSet<(IncidentId, firebreak_respond::Result<bool>)>,
        alert: &firebreak_primitives::Alert,
    ) {
        halt_point("after-alert").await;
        match self.manager.handle(alert).await {
            Ok(firebreak_respond::Handled::Notified { channels }) => {
                self.metrics.add("firebreak_alerts_notified_total", &[], 1.0);
                tracing::debug!(monitor = %alert.monitor, ?channels, "alert-only monitor: no incident");
            }
            Ok(firebreak_respond::Handled::Incident(o)) => {
                if o.opened {
                    self.metrics.add("firebreak_incidents_opened_total", &[], 1.0);
                    publish(
                        &self.events,
                        DaemonEvent::IncidentOpened {
                            incident: o.incident,
                            monitor: alert.monitor.clone(),
                            severity: alert.severity.to_string(),
                            block: alert.block_number,
                        },
                    );
                }
                // another replica may have recorded this alert first: its
                // incident is driven by whichever replica acts
                let known = book.active.contains(&o.incident);
                if o.new || !known {
                    book.active.insert(o.incident);
                    book.chain.insert(o.incident, alert.chain_id);
                    self.request(book, drives, o.incident);
                }
            }
            Err(e) => self.error(firebreak_primitives::error_chain(&e)),
        }
    }

    /// Books the outcome of one round of `id` and reports its steps' changes.
    async fn finished(
        &self,
        book: &mut Book,
        id: IncidentId,
        result: firebreak_respond::Result<bool>,
    ) {
        if result.is_ok() {
            book.backoff.remove(&id);
        }
        match result {
            Ok(true) => {
                book.active.insert(id);
            }
            Ok(false) => {
                // a contained incident is still driven every tick: each new
                // block checks that it stays contained (reorgs, unpauses)
                let contained = matches!(
                    self.incidents.incident(id).await,
                    Ok(Some(i)) if i.status == firebreak_primitives::IncidentStatus::Contained
                );
                if contained {
                    book.active.insert(id);
                } else {
                    book.active.remove(&id);
                    book.chain.remove(&id);
                }
            }
            Err(e) => {
                book.active.insert(id);
                // bounded backoff: the tick doubled per failure in a row, at most 30 s
                let failures = book.backoff.get(&id).map_or(1, |(n, _)| n.saturating_add(1));
                let delay = {
                    use backon::BackoffBuilder as _;
                    backon::ExponentialBuilder::default()
                        .with_min_delay(self.tick)
                        .with_max_delay(Duration::from_secs(30))
                        .with_factor(2.0)
                        .without_max_times()
                        .build()
                        .nth(usize::try_from(failures.min(8)).unwrap_or(8))
                        .unwrap_or(Duration::from_secs(30))
                };
                book.backoff.insert(
                    id,
                    (failures, now_ms() + u64::try_from(delay.as_millis()).unwrap_or(30_000)),
                );
                self.metrics.add("firebreak_round_errors_total", &[], 1.0);
                let error = firebreak_primitives::error_chain(&e);
                tracing::error!(incident = %id, %error, retryable = e.is_retryable(), failures, "round failed; retrying with backoff");
                self.error(format!("incident {id}: {error}"));
            }
        }
        self.record_reactions(id, book).await;
        let Ok(steps) = self.incidents.steps(id).await else { return };
        for s in steps {
            let now = (s.status, s.detail.clone());
            if book.seen.get(&(id, s.step_id.clone())) == Some(&now) {
                continue;
            }
            book.seen.insert((id, s.step_id.clone()), now);
            if s.status.is_final()
                && let Ok(Some(i)) = self.incidents.incident(id).await
            {
                let secs = s.updated_ms.saturating_sub(i.opened_ms) as f64 / 1000.0;
                let pairs = [("step", s.step_id.as_str()), ("status", s.status.as_str())];
                self.metrics.observe("firebreak_step_latency_seconds", &pairs, secs);
            }
            publish(
                &self.events,
                DaemonEvent::Step {
                    incident: id,
                    step: s.step_id,
                    status: s.status,
                    detail: s.detail,
                },
            );
        }
    }

    /// The reaction time of each on-chain action, once: from the incident's
    /// opening to its first transaction signed (broadcast follows at once),
    /// by path (`guardian`, `safe`).
    async fn record_reactions(&self, id: IncidentId, book: &mut Book) {
        let Ok(actions) = self.incidents.actions(id).await else { return };
        if actions.iter().all(|a| a.attempts.is_empty() || book.reacted.contains(&a.key)) {
            return;
        }
        let Ok(Some(incident)) = self.incidents.incident(id).await else { return };
        for a in actions {
            let Some(first) = a.attempts.first() else { continue };
            if !book.reacted.insert(a.key.clone()) {
                continue;
            }
            let secs = first.at_ms.saturating_sub(incident.opened_ms) as f64 / 1000.0;
            let path = match a.kind {
                firebreak_store::ActionKind::Guardian => "guardian",
                firebreak_store::ActionKind::Safe => "safe",
            };
            self.metrics.observe("firebreak_reaction_seconds", &[("path", path)], secs);
        }
    }
}

/// Readiness and chain heads, away from the executor: every 5 s the head of
/// each chain (lag gauge), the delivery failures and the war room's
/// connection counts, every minute the Safe nonces against the pre-signed
/// pauses.
struct ReadinessPoller {
    /// This process, as `firebreak status` lists it.
    replica: firebreak_store::ReplicaBeat,
    replicas: Arc<dyn firebreak_store::ReplicaStore>,
    /// The leases someone must hold for the plan to be acted on.
    leases: Arc<dyn firebreak_store::LeaseStore>,
    lease_names: Vec<String>,
    /// Until then a lease nobody holds is not an alarm: the replicas are
    /// starting and taking them.
    lease_grace: tokio::time::Instant,
    plan: Arc<Plan>,
    executor: Arc<Executor>,
    incidents: Arc<dyn IncidentStore>,
    metrics: Arc<Metrics>,
    delivery_failures: Arc<std::sync::Mutex<BTreeMap<String, u64>>>,
    serve_stats: Arc<firebreak_server::ServeStats>,
    readiness: Arc<firebreak_server::Readiness>,
    /// Set once the executor runs.
    ready: Arc<std::sync::atomic::AtomicBool>,
    events: broadcast::Sender<DaemonEvent>,
    /// Whether each round checks the P1 pause paths on chain (gas money,
    /// simulation, Safe owners and threshold).
    live_checks: bool,
}

impl ReadinessPoller {
    async fn run(self, stop: Stop) -> Result<(), String> {
        let mut warned: BTreeSet<String> = BTreeSet::new();
        let mut live: BTreeSet<String> = BTreeSet::new();
        let mut beat = tokio::time::interval(Duration::from_secs(5));
        beat.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut round = 0u64;
        let stopping = stop.wait();
        tokio::pin!(stopping);
        // the cheap on-chain checks run at every processed block as well
        let mut events = self.events.subscribe();
        let mut events_open = true;
        loop {
            tokio::select! {
                () = &mut stopping => return Ok(()),
                e = events.recv(), if events_open && self.live_checks => {
                    match e {
                        Ok(DaemonEvent::Watch { event: WatchEvent::Processed { .. } }) => {
                            self.live(&mut live).await;
                        }
                        Err(broadcast::error::RecvError::Closed) => events_open = false,
                        Ok(_) | Err(broadcast::error::RecvError::Lagged(_)) => {}
                    }
                    continue;
                }
                _ = beat.tick() => {}
            }
            self.heads().await;
            if self.live_checks {
                self.live(&mut live).await;
            }
            self.counters();
            self.beat().await;
            if round.is_multiple_of(12) {
                for message in presign_readiness(&self.plan, &self.executor, &*self.incidents).await
                {
                    if warned.insert(message.clone()) {
                        self.readiness.warn(message.clone());
                        tracing::warn!(%message, "readiness");
                        publish(&self.events, DaemonEvent::Readiness { message });
                    }
                }
            }
            round += 1;
        }
    }

    /// The P1 pause paths as the chain sees them now: each new problem
    /// blocks readiness (`/readyz` 503, the red banner) and, through the P1
    /// readiness incident, pages the on-call once per set of problems; a
    /// problem that is gone clears.
    async fn live(&self, shown: &mut BTreeSet<String>) {
        let problems = self.executor.live_problems().await;
        let now: BTreeSet<String> = problems
            .iter()
            .map(|p| format!("live:{}:{}:{}", p.contract, p.path, p.signer))
            .collect();
        for key in shown.difference(&now) {
            self.readiness.clear(key);
            tracing::info!(problem = %key, "readiness problem cleared");
        }
        let mut new = false;
        for p in &problems {
            let key = format!("live:{}:{}:{}", p.contract, p.path, p.signer);
            if !shown.contains(&key) {
                new = true;
                tracing::error!(problem = %p, "not ready");
                self.readiness.block(key, p.to_string());
                publish(
                    &self.events,
                    DaemonEvent::Readiness { message: format!("NOT READY: {p}") },
                );
            }
        }
        if new && let Err(e) = self.executor.raise_readiness(&problems, false).await {
            tracing::error!(error = %firebreak_primitives::error_chain(&e), "cannot record the readiness problem");
        }
        *shown = now;
    }

    /// Records this replica's heartbeat: readiness and each chain's head
    /// and processed block (`firebreak status`).
    async fn beat(&self) {
        let mut beat = self.replica.clone();
        beat.beat_ms = now_ms();
        beat.ready =
            self.ready.load(std::sync::atomic::Ordering::Relaxed) && self.readiness.is_clear();
        let block = |name: &'static str, key: &str| {
            // gauges hold block numbers, exact below 2^53
            self.metrics.get(name, &[("chain", key)]).map(|v| v as u64)
        };
        beat.chains = self
            .plan
            .chains
            .keys()
            .filter(|key| self.executor.link(key).is_some())
            .map(|key| firebreak_store::ChainBeat {
                chain: key.clone(),
                head: block("firebreak_chain_head_block", key),
                processed: block("firebreak_chain_processed_block", key),
            })
            .collect();
        self.leases_and_lag(&beat.chains).await;
        // a store that takes no write is a daemon that cannot record an
        // incident: not ready (`/readyz` 503, the outbound heartbeat fails)
        // until a beat is written again
        match self.replicas.beat(&beat).await {
            Ok(()) => {
                if self.readiness.clear(STORE_PROBLEM) {
                    tracing::info!("the store takes writes again");
                }
            }
            Err(e) => {
                let error = firebreak_primitives::error_chain(&e);
                let message = format!(
                    "NOT READY: the store takes no write ({error}): incidents and actions cannot be recorded"
                );
                if self.readiness.block(STORE_PROBLEM, message.clone()) {
                    tracing::error!(%error, "the store takes no write");
                    publish(&self.events, DaemonEvent::Readiness { message });
                }
            }
        }
    }

    /// Raises "no replica holds the lease" for each lease nobody holds
    /// now (every replica dead, hung or cut off from the database), and
    /// "lags" for a chain this replica has fallen behind on.
    async fn leases_and_lag(&self, chains: &[firebreak_store::ChainBeat]) {
        let starting = tokio::time::Instant::now() < self.lease_grace;
        if !starting && let Ok(table) = self.leases.leases().await {
            for name in &self.lease_names {
                let key = format!("lease:{name}");
                let held =
                    table.leases.iter().any(|l| &l.name == name && l.expires_ms >= table.now_ms);
                if held {
                    self.readiness.clear(&key);
                } else {
                    let message = format!(
                        "NOT READY: no replica holds the lease `{name}`: nothing can act for it until one takes it (is every replica down or cut off from the database?)"
                    );
                    if self.readiness.block(key, message.clone()) {
                        tracing::error!(lease = %name, "no replica holds the lease");
                        publish(&self.events, DaemonEvent::Readiness { message });
                    }
                }
            }
        }
        for c in chains {
            let key = format!("lag:{}", c.chain);
            match c.lag() {
                Some(lag) if lag > LAG_LIMIT => {
                    let message = format!(
                        "NOT READY: this replica is more than {LAG_LIMIT} blocks behind chain `{}`",
                        c.chain
                    );
                    if self.readiness.block(key, message.clone()) {
                        publish(&self.events, DaemonEvent::Readiness { message });
                    }
                }
                _ => {
                    self.readiness.clear(&key);
                }
            }
        }
    }

    /// Each chain's head, each on its own: a dead endpoint delays only its own gauge.
    async fn heads(&self) {
        let links = self.plan.chains.keys().filter_map(|key| self.executor.link(key));
        let heads = links.map(|link| async move {
            use alloy::providers::Provider as _;
            let head = link.read("head", |p| async move { p.get_block_number().await }).await;
            (link.key.clone(), head)
        });
        for (key, head) in futures::future::join_all(heads).await {
            let Ok(head) = head else { continue };
            let labels = [("chain", key.as_str())];
            self.metrics.set("firebreak_chain_head_block", &labels, head as f64);
            if let Some(done) = self.metrics.get("firebreak_chain_processed_block", &labels) {
                self.metrics.set(
                    "firebreak_chain_lag_blocks",
                    &labels,
                    (head as f64 - done).max(0.0),
                );
            }
        }
    }

    fn counters(&self) {
        let ready =
            self.ready.load(std::sync::atomic::Ordering::Relaxed) && self.readiness.is_clear();
        self.metrics.set("firebreak_ready", &[], if ready { 1.0 } else { 0.0 });
        if let Ok(f) = self.delivery_failures.lock() {
            for (channel, n) in f.iter() {
                self.metrics.set(
                    "firebreak_delivery_failures_total",
                    &[("channel", channel)],
                    *n as f64,
                );
            }
        }
        use std::sync::atomic::Ordering::Relaxed;
        let s = &self.serve_stats;
        self.metrics.set("firebreak_http_connections_open", &[], s.open.load(Relaxed) as f64);
        self.metrics.set(
            "firebreak_http_connections_refused_total",
            &[],
            s.refused.load(Relaxed) as f64,
        );
        self.metrics.set(
            "firebreak_http_accept_errors_total",
            &[],
            s.accept_errors.load(Relaxed) as f64,
        );
    }
}

/// Pre-signed pauses whose Safe nonce has moved past them.
async fn presign_readiness(
    plan: &Plan,
    executor: &Executor,
    store: &dyn IncidentStore,
) -> Vec<String> {
    let mut out = Vec::new();
    for (name, safe) in &plan.safes {
        let Some(link) = executor.link(&safe.chain) else { continue };
        let Ok(list) = store.presigned(link.chain_id, safe.address).await else { continue };
        let Some(newest) = list.first() else { continue };
        let Ok(nonce) = firebreak_respond::safe_nonce(link, safe.address).await else { continue };
        if newest.nonce < nonce {
            out.push(format!(
                "pre-signed pause invalidated — re-sign: Safe `{name}` is at nonce {nonce}, its pre-signed pause was signed at nonce {}; run `firebreak safe presign PLAN --safe {name}`",
                newest.nonce
            ));
        }
    }
    out
}

/// A chain seen through no endpoint blocks readiness (and shows in the
/// `firebreak_chain_blind` gauge) until it is seen again.
fn blindness(readiness: &firebreak_server::Readiness, metrics: &Metrics, event: &WatchEvent) {
    match event {
        WatchEvent::Blind { chain, for_secs } => {
            readiness.block(
                format!("chain:{chain}"),
                format!("chain `{chain}` is BLIND: every RPC endpoint has failed for {for_secs} s; alerts and pauses on it wait until one answers"),
            );
            metrics.set("firebreak_chain_blind", &[("chain", chain)], 1.0);
        }
        WatchEvent::Recovered { chain } => {
            readiness.clear(&format!("chain:{chain}"));
            metrics.set("firebreak_chain_blind", &[("chain", chain)], 0.0);
        }
        _ => {}
    }
}

/// Counts what a watcher reports.
fn count(metrics: &Metrics, plan: &Plan, event: &WatchEvent) {
    let key_of = |id: u64| {
        plan.chains
            .iter()
            .find(|(_, c)| c.id == id)
            .map_or_else(|| id.to_string(), |(k, _)| k.clone())
    };
    match event {
        WatchEvent::Processed { chain_id, number } => {
            let key = key_of(*chain_id);
            metrics.add("firebreak_blocks_processed_total", &[("chain", &key)], 1.0);
            metrics.set("firebreak_chain_processed_block", &[("chain", &key)], *number as f64);
            // the head is polled every few seconds; a processed block proves it is at least here
            let head = metrics.get("firebreak_chain_head_block", &[("chain", &key)]).unwrap_or(0.0);
            if head < *number as f64 {
                metrics.set("firebreak_chain_head_block", &[("chain", &key)], *number as f64);
            }
        }
        WatchEvent::Alert { alert } => {
            let key = key_of(alert.chain_id);
            metrics.add(
                "firebreak_alerts_total",
                &[("chain", &key), ("severity", alert.severity.as_str())],
                1.0,
            );
        }
        WatchEvent::Reorg { chain_id, .. } => {
            metrics.add("firebreak_reorgs_total", &[("chain", &key_of(*chain_id))], 1.0);
        }
        WatchEvent::Simulated { chain_id, watched, .. } => {
            metrics.add(
                "firebreak_pending_simulated_total",
                &[
                    ("chain", &key_of(*chain_id)),
                    ("watched", if *watched { "true" } else { "false" }),
                ],
                1.0,
            );
        }
        WatchEvent::EndpointFailed { chain, .. } => {
            metrics.add("firebreak_rpc_errors_total", &[("chain", chain)], 1.0);
        }
        _ => {}
    }
}

/// The readiness key of a store that takes no write.
/// Blocks behind a chain's head before a replica is not ready.
const LAG_LIMIT: u64 = 10;

const STORE_PROBLEM: &str = "store";

/// This machine's name, for the replica list.
fn host_name() -> String {
    std::fs::read_to_string("/etc/hostname")
        .ok()
        .map(|h| h.trim().to_owned())
        .filter(|h| !h.is_empty())
        .or_else(|| std::env::var("HOSTNAME").ok())
        .unwrap_or_else(|| "localhost".to_owned())
}
