//! The dead-man's switch: every interval, while firebreak watches every
//! chain and every P1 pause path can sign, an HTTP GET to the plan's
//! `[heartbeat] url` (a healthchecks-style service, which pages when the
//! pings stop). While it runs but cannot act (NOT READY, a chain blind), the
//! ping goes to `fail_url` instead, or nowhere. A daemon that is killed,
//! hangs or loses its machine stops pinging: the silence is the alarm.

use std::{
    sync::{Arc, atomic::AtomicBool},
    time::Duration,
};

use secrecy::{ExposeSecret as _, SecretString};

use crate::{metrics::Metrics, tasks::Stop};

/// A resolved `[heartbeat]` and what it reads to know whether firebreak
/// is able to act.
pub(crate) struct Heartbeat {
    pub(crate) url: SecretString,
    pub(crate) fail_url: Option<SecretString>,
    pub(crate) interval: Duration,
    pub(crate) ready: Arc<AtomicBool>,
    pub(crate) readiness: Arc<firebreak_server::Readiness>,
    pub(crate) metrics: Arc<Metrics>,
}

impl Heartbeat {
    /// Resolves the plan's heartbeat URLs (secrets included).
    ///
    /// # Errors
    /// A secret that does not resolve, named (never shown).
    pub(crate) fn resolve(
        plan: &firebreak_plan::Plan,
        hb: &firebreak_plan::Heartbeat,
    ) -> Result<(SecretString, Option<SecretString>), String> {
        let one = |e: &firebreak_plan::Endpoint, what: &str| match e {
            firebreak_plan::Endpoint::Url(u) => Ok(SecretString::from(u.clone())),
            firebreak_plan::Endpoint::Secret(s) => {
                firebreak_plan::resolve_secret(s, &plan.base_dir)
                    .map_err(|e| format!("heartbeat.{what}: {e} ({})", e.hint()))
            }
        };
        Ok((one(&hb.url, "url")?, hb.fail_url.as_ref().map(|f| one(f, "fail_url")).transpose()?))
    }

    fn up(&self) -> bool {
        self.ready.load(std::sync::atomic::Ordering::Relaxed) && self.readiness.is_clear()
    }

    /// Pings every interval until the daemon stops.
    pub(crate) async fn run(self, stop: Stop) -> Result<(), String> {
        let http = reqwest::Client::builder()
            .user_agent(concat!("firebreak/", env!("CARGO_PKG_VERSION")))
            .timeout(self.interval.min(Duration::from_secs(10)))
            .build()
            .map_err(|e| format!("heartbeat client: {e}"))?;
        let mut beat = tokio::time::interval(self.interval);
        beat.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let stopping = stop.wait();
        tokio::pin!(stopping);
        loop {
            tokio::select! {
                () = &mut stopping => return Ok(()),
                _ = beat.tick() => {}
            }
            let up = self.up();
            let state = if up { "up" } else { "fail" };
            let Some(target) = (if up { Some(&self.url) } else { self.fail_url.as_ref() }) else {
                continue;
            };
            // the URL is a secret (ping URLs are capabilities): never logged
            match http.get(target.expose_secret()).send().await {
                Ok(r) if r.status().is_success() => {
                    self.metrics.add("firebreak_heartbeats_total", &[("state", state)], 1.0);
                }
                Ok(r) => {
                    tracing::warn!(status = %r.status(), state, "heartbeat refused");
                    self.metrics.add("firebreak_heartbeat_failures_total", &[], 1.0);
                }
                Err(e) => {
                    let error =
                        firebreak_primitives::redact(&firebreak_primitives::error_chain(&e));
                    tracing::warn!(%error, state, "heartbeat not sent");
                    self.metrics.add("firebreak_heartbeat_failures_total", &[], 1.0);
                }
            }
        }
    }
}
