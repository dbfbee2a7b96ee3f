//! What every handler shares.

use std::sync::{
    Arc, Mutex,
    atomic::{AtomicBool, Ordering},
};

use firebreak_plan::Plan;
use firebreak_primitives::{ControlMsg, IncidentId};
use firebreak_store::{AlertStore, IncidentStore, WarRoomStore};
use tokio::sync::mpsc::Sender;

/// The store the war room needs: incidents, its own records, and the
/// SafeTx allow-list (kept beside the alerts the watcher reads it for).
pub trait Backend: IncidentStore + WarRoomStore + AlertStore {}
impl<T: IncidentStore + WarRoomStore + AlertStore> Backend for T {}

/// Renders the Prometheus text exposition.
pub type MetricsRender = Arc<dyn Fn() -> String + Send + Sync>;

/// Shared state of the war room's handlers.
#[derive(Clone)]
pub struct WarRoom {
    pub(crate) plan: Arc<Plan>,
    pub(crate) store: Arc<dyn Backend>,
    control: Sender<ControlMsg>,
    pub(crate) secure_cookies: bool,
    pub(crate) logins: Arc<crate::auth::Failures>,
    /// Requests with an unknown bearer token, per client.
    pub(crate) bad_tokens: Arc<crate::auth::Failures>,
    pub(crate) metrics: Option<MetricsRender>,
    pub(crate) metrics_token: Option<secrecy::SecretString>,
    pub(crate) ready: Arc<AtomicBool>,
    pub(crate) readiness: Arc<Readiness>,
    pub(crate) drill_record: Option<std::path::PathBuf>,
    pub(crate) behind_proxy: bool,
}

impl std::fmt::Debug for WarRoom {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WarRoom").field("secure_cookies", &self.secure_cookies).finish()
    }
}

impl WarRoom {
    /// State for `plan` over `store`; decisions wake the daemon on `control`.
    pub fn new(plan: Arc<Plan>, store: Arc<dyn Backend>, control: Sender<ControlMsg>) -> Self {
        Self {
            plan,
            store,
            control,
            secure_cookies: false,
            logins: Arc::new(crate::auth::Failures::per_minute(
                crate::auth::LOGIN_FAILURES_PER_MINUTE,
            )),
            bad_tokens: Arc::new(crate::auth::Failures::per_minute(
                crate::auth::BAD_TOKENS_PER_MINUTE,
            )),
            metrics: None,
            metrics_token: None,
            ready: Arc::new(AtomicBool::new(true)),
            readiness: Arc::default(),
            drill_record: None,
            behind_proxy: false,
        }
    }

    /// Marks session cookies `Secure` (serve behind TLS).
    #[must_use]
    pub const fn with_secure_cookies(mut self, secure: bool) -> Self {
        self.secure_cookies = secure;
        self
    }

    /// Behind a reverse proxy that appends the client's address to
    /// `X-Forwarded-For`: login limits then count per client, not per proxy.
    #[must_use]
    pub const fn behind_proxy(mut self, yes: bool) -> Self {
        self.behind_proxy = yes;
        self
    }

    /// Serves `/metrics` from this renderer.
    #[must_use]
    pub fn with_metrics(mut self, render: MetricsRender) -> Self {
        self.metrics = Some(render);
        self
    }

    /// A bearer token that may read `/metrics` (besides members' API tokens).
    #[must_use]
    pub fn with_metrics_token(mut self, token: Option<secrecy::SecretString>) -> Self {
        self.metrics_token = token;
        self
    }

    /// `/readyz` answers 200 only while this flag is set.
    #[must_use]
    pub fn with_ready_flag(mut self, ready: Arc<AtomicBool>) -> Self {
        self.ready = ready;
        self
    }

    /// Readiness findings shown on the dashboard and answered by `/readyz`
    /// (kept up to date by the daemon).
    #[must_use]
    pub fn with_readiness(mut self, readiness: Arc<Readiness>) -> Self {
        self.readiness = readiness;
        self
    }

    /// Where `firebreak drill` records the last drill of this plan (shown
    /// on the dashboard).
    #[must_use]
    pub fn with_drill_record(mut self, path: std::path::PathBuf) -> Self {
        self.drill_record = Some(path);
        self
    }

    pub(crate) fn wake(&self, id: IncidentId) {
        // the decision is stored either way: when the daemon is gone (shutting
        // down) or its queue is full (a drive is due anyway), the next round
        // picks it up
        let _ = self.control.try_send(ControlMsg::Drive(id));
    }

    pub(crate) fn is_ready(&self) -> bool {
        self.ready.load(Ordering::Relaxed)
    }
}

/// What the daemon knows about its readiness: warnings for the dashboard,
/// and blocking problems (a P1 pause path that cannot sign, a chain seen
/// through no endpoint) that make `/readyz` answer 503 and put a red banner
/// on the dashboard until they clear.
#[derive(Debug, Default)]
pub struct Readiness {
    inner: Mutex<ReadinessInner>,
}

#[derive(Debug, Default)]
struct ReadinessInner {
    warnings: Vec<String>,
    blocking: std::collections::BTreeMap<String, String>,
}

impl Readiness {
    fn with<T>(&self, f: impl FnOnce(&mut ReadinessInner) -> T) -> T {
        // a panic elsewhere while holding it leaves plain data behind: use it
        let mut inner = self.inner.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        f(&mut inner)
    }

    /// Adds a warning; `false` when it was there already.
    pub fn warn(&self, message: impl Into<String>) -> bool {
        let message = message.into();
        self.with(|r| {
            if r.warnings.contains(&message) {
                return false;
            }
            r.warnings.push(message);
            true
        })
    }

    /// Sets blocking problem `key`; `false` when it was there already with
    /// the same words.
    pub fn block(&self, key: impl Into<String>, message: impl Into<String>) -> bool {
        let message = message.into();
        self.with(|r| r.blocking.insert(key.into(), message.clone()).as_ref() != Some(&message))
    }

    /// Clears blocking problem `key`; `false` when it was not set.
    pub fn clear(&self, key: &str) -> bool {
        self.with(|r| r.blocking.remove(key).is_some())
    }

    /// The warnings, oldest first.
    pub fn warnings(&self) -> Vec<String> {
        self.with(|r| r.warnings.clone())
    }

    /// The blocking problems, by key.
    pub fn blocking(&self) -> Vec<String> {
        self.with(|r| r.blocking.values().cloned().collect())
    }

    /// No blocking problem.
    pub fn is_clear(&self) -> bool {
        self.with(|r| r.blocking.is_empty())
    }
}
