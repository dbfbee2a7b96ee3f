//! `firebreak run`: watchers, incidents and the executor in one process.
//!
//! Watchers of every chain feed alerts into one loop that opens incidents and
//! drives their playbooks at once; a tick drives every incident with work in
//! flight (transactions to follow, approvals and signatures awaited). At
//! start-up it first links alerts stored before a crash and resumes every
//! open incident, so a restart continues exactly where the record stops.

use std::{
    collections::{BTreeMap, BTreeSet},
    sync::Arc,
    time::Duration,
};

use firebreak_plan::Plan;
use firebreak_primitives::{IncidentId, StepStatus};
use firebreak_respond::{Executor, FeePolicy, IncidentManager, halt_point};
use firebreak_store::{AlertStore, IncidentFilter, IncidentStore, now_ms};
use tokio::sync::mpsc;

use crate::{
    metrics::Metrics,
    watch::{WatchEvent, WatchOptions, Watcher},
};

/// Daemon settings.
#[derive(Debug, Clone)]
pub struct DaemonOptions {
    /// Watcher settings (shared by every chain).
    pub watch: WatchOptions,
    /// How often incidents with work in flight are driven.
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
}

impl Default for DaemonOptions {
    fn default() -> Self {
        Self {
            watch: WatchOptions::default(),
            tick: Duration::from_millis(250),
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
    /// Nothing to watch.
    #[error("the plan has no enabled monitors: nothing to watch")]
    NothingToWatch,
}

/// Runs the daemon until `shutdown` completes.
///
/// # Errors
/// When it cannot start; once running, failures become [`DaemonEvent::Error`]
/// and are retried.
pub async fn run_daemon<S>(
    plan: Arc<Plan>,
    store: Arc<S>,
    opts: DaemonOptions,
    emit: &mut (dyn FnMut(DaemonEvent) + Send),
    shutdown: impl std::future::Future<Output = ()>,
) -> Result<(), DaemonError>
where
    S: AlertStore + IncidentStore + firebreak_store::WarRoomStore + 'static,
{
    // boxed: the daemon's state is large, and its callers' futures stay small
    Box::pin(daemon(plan, store, opts, emit, shutdown)).await
}

async fn daemon<S>(
    plan: Arc<Plan>,
    store: Arc<S>,
    opts: DaemonOptions,
    emit: &mut (dyn FnMut(DaemonEvent) + Send),
    shutdown: impl std::future::Future<Output = ()>,
) -> Result<(), DaemonError>
where
    S: AlertStore + IncidentStore + firebreak_store::WarRoomStore + 'static,
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
    for chain in &chains {
        let mut w = Watcher::new(&plan, chain, opts.watch.clone())
            .map_err(|source| DaemonError::Watch { chain: chain.clone(), source })?
            .with_store(store.clone() as Arc<dyn AlertStore>);
        if let Some(urls) = opts.endpoints.get(chain) {
            w = w.with_endpoints(urls.clone());
        }
        watchers.push(w);
    }
    let incidents: Arc<dyn IncidentStore> = store.clone();
    let mut links = std::collections::HashMap::new();
    for key in plan.chains.keys() {
        let link = match opts.endpoints.get(key) {
            Some(urls) => {
                let chain_id = plan.chains[key].id;
                let pairs = urls.iter().map(|u| (u.clone(), u.clone())).collect();
                firebreak_respond::ChainLink::from_urls(key, chain_id, pairs).await?
            }
            None => firebreak_respond::ChainLink::connect(&plan, key).await?,
        };
        links.insert(key.clone(), link);
    }
    let mut executor = Executor::with_links(plan.clone(), incidents.clone(), links)
        .with_announcements(store.clone() as Arc<dyn firebreak_store::WarRoomStore>);
    let metrics = opts.metrics.clone();
    let (control_tx, mut control_rx) =
        mpsc::unbounded_channel::<firebreak_primitives::ControlMsg>();
    let ready = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let readiness: Arc<std::sync::Mutex<Vec<String>>> = Arc::default();
    if let Some(p) = opts.fee_policy {
        executor = executor.with_fee_policy(p);
    }
    if opts.drill {
        executor = executor.impersonating();
    }
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
            emit(DaemonEvent::Serving { url: format!("http://{bound}") });
            executor = executor.with_ack_links(
                base,
                key.clone(),
                std::time::Duration::from_secs(24 * 3600),
            );
            Some((l, key))
        }
        None => None,
    };
    let manager = IncidentManager::new(plan.clone(), incidents.clone())
        .with_window(opts.window)
        .with_drill(opts.drill);

    let (channels, unusable) = firebreak_notify::plan_channels(&plan);
    for e in unusable {
        emit(DaemonEvent::Readiness {
            message: format!("{e}; its messages wait in the outbox until it is fixed"),
        });
    }
    let courier = firebreak_notify::Courier::new(incidents.clone(), channels, opts.courier.clone());
    let delivery_failures = courier.failures();
    let (tx, mut rx) = mpsc::unbounded_channel::<WatchEvent>();
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let watch_all = futures::future::join_all(watchers.iter_mut().map(|w| {
        let tx = tx.clone();
        let mut stop = stop_rx.clone();
        async move {
            let mut send = |e: WatchEvent| {
                let _ = tx.send(e);
            };
            w.run(&mut send, async move {
                let _ = stop.wait_for(|s| *s).await;
            })
            .await;
        }
    }));
    drop(tx);

    let respond = async {
        let mut seen: BTreeMap<(IncidentId, String), (StepStatus, Option<String>)> =
            BTreeMap::new();
        let mut active: BTreeSet<IncidentId> = BTreeSet::new();
        // resume: alerts stored but never grouped, then every open incident
        match manager.recover_unlinked().await {
            Ok(ids) => active.extend(ids),
            Err(e) => emit(DaemonEvent::Error { error: firebreak_primitives::error_chain(&e) }),
        }
        match incidents.incidents(&IncidentFilter::default()).await {
            Ok(list) => active.extend(list.iter().filter(|i| i.status.is_open()).map(|i| i.id)),
            Err(e) => emit(DaemonEvent::Error { error: firebreak_primitives::error_chain(&e) }),
        }
        let mut tick = tokio::time::interval(opts.tick);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut readiness_at = 0u64;
        let mut heads_at = 0u64;
        let mut warned: BTreeSet<String> = BTreeSet::new();
        // incidents whose last rounds failed: (failures in a row, next try in ms)
        let mut backoff: BTreeMap<IncidentId, (u32, u64)> = BTreeMap::new();
        ready.store(true, std::sync::atomic::Ordering::Relaxed);
        tokio::pin!(shutdown);
        loop {
            let mut drive_now = Vec::new();
            tokio::select! {
                () = &mut shutdown => break,
                Some(msg) = control_rx.recv() => {
                    if let firebreak_primitives::ControlMsg::Drive(id) = msg {
                        drive_now.push(id);
                    }
                }
                event = rx.recv() => {
                    let Some(event) = event else { break };
                    let alert = match &event {
                        WatchEvent::Alert { alert } => Some(alert.clone()),
                        _ => None,
                    };
                    count(&metrics, &plan, &event);
                    emit(DaemonEvent::Watch { event });
                    if let Some(alert) = &alert {
                        halt_point("after-alert").await;
                        match manager.on_alert(alert).await {
                            Ok(o) => {
                                if o.opened {
                                    metrics.add("firebreak_incidents_opened_total", &[], 1.0);
                                    emit(DaemonEvent::IncidentOpened {
                                        incident: o.incident,
                                        monitor: alert.monitor.clone(),
                                        severity: alert.severity.clone(),
                                        block: alert.block_number,
                                    });
                                }
                                if o.new {
                                    drive_now.push(o.incident);
                                }
                            }
                            Err(e) => emit(DaemonEvent::Error { error: firebreak_primitives::error_chain(&e) }),
                        }
                    }
                }
                _ = tick.tick() => {
                    let now = now_ms();
                    drive_now.extend(
                        active.iter().copied().filter(|id| backoff.get(id).is_none_or(|(_, at)| *at <= now)),
                    );
                    if now_ms() >= heads_at {
                        heads_at = now_ms() + 5_000;
                        for (key, chain) in &plan.chains {
                            let Some(link) = executor.link(key) else { continue };
                            use alloy::providers::Provider as _;
                            if let Ok(head) = link.read("head", |p| async move { p.get_block_number().await }).await {
                                let _ = chain;
                                metrics.set("firebreak_chain_head_block", &[("chain", key)], head as f64);
                                if let Some(done) = metrics.get("firebreak_chain_processed_block", &[("chain", key)]) {
                                    metrics.set("firebreak_chain_lag_blocks", &[("chain", key)], (head as f64 - done).max(0.0));
                                }
                            }
                        }
                        if let Ok(f) = delivery_failures.lock() {
                            for (channel, n) in f.iter() {
                                metrics.set("firebreak_delivery_failures_total", &[("channel", channel)], *n as f64);
                            }
                        }
                    }
                    if now_ms() >= readiness_at {
                        readiness_at = now_ms() + 60_000;
                        for message in presign_readiness(&plan, &executor, &*incidents).await {
                            if warned.insert(message.clone()) {
                                if let Ok(mut r) = readiness.lock() {
                                    r.push(message.clone());
                                }
                                tracing::warn!(%message, "readiness");
                                emit(DaemonEvent::Readiness { message });
                            }
                        }
                    }
                }
            }
            drive_now.sort_unstable();
            drive_now.dedup();
            for id in drive_now {
                let result = executor.drive(id).await;
                if result.is_ok() {
                    backoff.remove(&id);
                }
                match result {
                    Ok(true) => {
                        active.insert(id);
                    }
                    Ok(false) => {
                        // a contained incident is still driven every tick: each new
                        // block checks that it stays contained (reorgs, unpauses)
                        let contained = matches!(
                            incidents.incident(id).await,
                            Ok(Some(i)) if i.status == firebreak_primitives::IncidentStatus::Contained
                        );
                        if contained {
                            active.insert(id);
                        } else {
                            active.remove(&id);
                        }
                    }
                    Err(e) => {
                        active.insert(id);
                        // bounded backoff: the tick doubled per failure in a row, at most 30 s
                        let failures = backoff.get(&id).map_or(1, |(n, _)| n.saturating_add(1));
                        let delay = opts
                            .tick
                            .saturating_mul(1 << failures.min(8))
                            .min(Duration::from_secs(30));
                        backoff.insert(
                            id,
                            (
                                failures,
                                now_ms() + u64::try_from(delay.as_millis()).unwrap_or(30_000),
                            ),
                        );
                        metrics.add("firebreak_round_errors_total", &[], 1.0);
                        tracing::error!(incident = %id, error = %firebreak_primitives::error_chain(&e), retryable = e.is_retryable(), failures, "round failed; retrying with backoff");
                        emit(DaemonEvent::Error {
                            error: format!(
                                "incident {id}: {}",
                                firebreak_primitives::error_chain(&e)
                            ),
                        });
                    }
                }
                if let Ok(steps) = incidents.steps(id).await {
                    for s in steps {
                        let now = (s.status, s.detail.clone());
                        if seen.get(&(id, s.step_id.clone())) != Some(&now) {
                            seen.insert((id, s.step_id.clone()), now);
                            if s.status.is_final()
                                && let Ok(Some(i)) = incidents.incident(id).await
                            {
                                let secs = s.updated_ms.saturating_sub(i.opened_ms) as f64 / 1000.0;
                                let pairs =
                                    [("step", s.step_id.as_str()), ("status", s.status.as_str())];
                                metrics.add("firebreak_step_latency_seconds_sum", &pairs, secs);
                                metrics.add("firebreak_step_latency_seconds_count", &pairs, 1.0);
                            }
                            emit(DaemonEvent::Step {
                                incident: id,
                                step: s.step_id,
                                status: s.status,
                                detail: s.detail,
                            });
                        }
                    }
                }
            }
        }
        let _ = stop_tx.send(true);
    };
    let mut server_stop = stop_rx.clone();
    let server_plan = plan.clone();
    let server_store = incidents.clone();
    let pd_secret = opts.pagerduty_webhook_secret.clone();
    let secure = opts
        .secure_cookies
        .unwrap_or_else(|| opts.public_url.as_deref().is_some_and(|u| u.starts_with("https://")));
    let render_metrics = opts.metrics.clone();
    let war_room = firebreak_server::WarRoom::new(
        plan.clone(),
        store.clone() as Arc<dyn firebreak_server::Backend>,
        control_tx,
    )
    .with_secure_cookies(secure)
    .behind_proxy(opts.behind_proxy)
    .with_ready_flag(ready.clone())
    .with_readiness(readiness.clone())
    .with_metrics(Arc::new(move || render_metrics.render()));
    let war_room = match opts.drill_record.clone() {
        Some(path) => war_room.with_drill_record(path),
        None => war_room,
    };
    let serve = async move {
        let Some((listener, key)) = listener else { return };
        let app = firebreak_server::with_security_headers(
            crate::ack_server::router(server_plan, server_store, key, pd_secret)
                .merge(firebreak_server::router(war_room)),
        );
        let shutdown = async move {
            let _ = server_stop.wait_for(|s| *s).await;
        };
        let app = app.into_make_service_with_connect_info::<std::net::SocketAddr>();
        if let Err(e) = axum::serve(listener, app).with_graceful_shutdown(shutdown).await {
            tracing::error!(error = %e, "the war room listener stopped");
        }
    };
    let mut courier_stop = stop_rx.clone();
    let deliver = courier.run(async move {
        let _ = courier_stop.wait_for(|s| *s).await;
    });
    futures::future::join4(
        Box::pin(watch_all),
        Box::pin(respond),
        Box::pin(deliver),
        Box::pin(serve),
    )
    .await;
    Ok(())
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
                &[("chain", &key), ("severity", &alert.severity)],
                1.0,
            );
        }
        WatchEvent::Reorg { chain_id, .. } => {
            metrics.add("firebreak_reorgs_total", &[("chain", &key_of(*chain_id))], 1.0);
        }
        WatchEvent::EndpointFailed { chain, .. } => {
            metrics.add("firebreak_rpc_errors_total", &[("chain", chain)], 1.0);
        }
        _ => {}
    }
}
