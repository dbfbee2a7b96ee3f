//! Supervised tasks: every part of the daemon runs as its own task, and
//! none of them may end or panic quietly.
//!
//! A critical task that returns (with or without an error) or panics while
//! the daemon is not stopping stops every other task and makes the daemon
//! end with [`TaskFailure`] naming the task and its cause: a daemon that
//! keeps running without its watcher, executor, courier or war room would
//! look up while unable to act. Shutdown asks every task to stop and waits
//! (bounded) for them to drain what they have in flight.

use std::{collections::HashMap, future::Future, time::Duration};

use tokio::{sync::watch, task::JoinSet};

/// A critical task ended while the daemon was running.
#[derive(Debug, Clone, thiserror::Error)]
#[error("task `{task}` {cause}")]
pub struct TaskFailure {
    /// The task's name (e.g. `executor`, `watch:mainnet`, `courier:slack`).
    pub task: String,
    /// What happened: `panicked: …`, `failed: …` or `ended unexpectedly`.
    pub cause: String,
}

/// Told to every task when the daemon stops.
#[derive(Debug, Clone)]
pub(crate) struct Stop(watch::Receiver<bool>);

impl Stop {
    /// Completes once the daemon is stopping.
    pub(crate) async fn wait(mut self) {
        let _ = self.0.wait_for(|s| *s).await;
    }
}

/// Spawns and supervises the daemon's tasks.
#[derive(Debug)]
pub(crate) struct TaskManager {
    set: JoinSet<Result<(), String>>,
    names: HashMap<tokio::task::Id, String>,
    stop: watch::Sender<bool>,
    grace: Duration,
}

impl TaskManager {
    /// A manager whose shutdown waits at most `grace` for tasks to drain.
    pub(crate) fn new(grace: Duration) -> Self {
        let (stop, _) = watch::channel(false);
        Self { set: JoinSet::new(), names: HashMap::new(), stop, grace }
    }

    /// The stop signal, for a task to select on.
    pub(crate) fn stop_signal(&self) -> Stop {
        Stop(self.stop.subscribe())
    }

    /// Spawns a task the daemon cannot run without.
    pub(crate) fn spawn_critical<F>(&mut self, name: impl Into<String>, task: F)
    where
        F: Future<Output = Result<(), String>> + Send + 'static,
    {
        let name = name.into();
        let hook = name.clone();
        let handle = self.set.spawn(async move {
            panic_point(&hook);
            task.await
        });
        self.names.insert(handle.id(), name);
        tracing::debug!(task = %self.names[&handle.id()], "task started");
    }

    /// Runs until `shutdown` completes (`Ok`) or a critical task ends or
    /// panics (`Err` with the task and its cause); either way every task is
    /// asked to stop and given the grace period to finish.
    pub(crate) async fn run_until(
        mut self,
        shutdown: impl Future<Output = ()>,
    ) -> Result<(), TaskFailure> {
        tokio::pin!(shutdown);
        let failure = tokio::select! {
            () = &mut shutdown => None,
            ended = self.set.join_next_with_id() => ended.map(|e| self.describe(e)),
        };
        if let Some(f) = &failure {
            tracing::error!(task = %f.task, cause = %f.cause, "a critical task stopped; stopping the daemon");
        }
        let _ = self.stop.send(true);
        let grace = self.grace;
        let drain = async {
            while let Some(ended) = self.set.join_next_with_id().await {
                let f = self.describe(ended);
                if f.cause != "stopped" {
                    tracing::warn!(task = %f.task, cause = %f.cause, "task ended badly while stopping");
                }
            }
        };
        if tokio::time::timeout(grace, drain).await.is_err() {
            let left: Vec<&String> = self.names.values().collect();
            tracing::warn!(tasks = ?left, ?grace, "tasks still busy after the grace period; aborted");
            self.set.abort_all();
            while self.set.join_next().await.is_some() {}
        }
        failure.map_or(Ok(()), Err)
    }

    fn describe(
        &mut self,
        ended: Result<(tokio::task::Id, Result<(), String>), tokio::task::JoinError>,
    ) -> TaskFailure {
        let stopping = *self.stop.borrow();
        let (id, cause) = match ended {
            Ok((id, Ok(()))) if stopping => (id, "stopped".to_owned()),
            Ok((id, Ok(()))) => (id, "ended unexpectedly".to_owned()),
            Ok((id, Err(e))) => (id, format!("failed: {e}")),
            Err(e) => {
                let id = e.id();
                let cause = if e.is_panic() {
                    let payload = e.into_panic();
                    let text = payload
                        .downcast_ref::<&str>()
                        .map(|s| (*s).to_owned())
                        .or_else(|| payload.downcast_ref::<String>().cloned())
                        .unwrap_or_else(|| "(no message)".to_owned());
                    format!("panicked: {text}")
                } else {
                    "was cancelled".to_owned()
                };
                (id, cause)
            }
        };
        let task = self.names.remove(&id).unwrap_or_else(|| format!("{id}"));
        TaskFailure { task, cause }
    }
}

/// A test hook in product code (only with the `crash-points` feature), like
/// the crash points: with
/// `FIREBREAK_PANIC_TASK=<task>` in its environment, that task panics as it
/// starts, so a test can check that the daemon stops and names it. Unset,
/// this is one environment lookup per task start.
#[cfg(feature = "crash-points")]
fn panic_point(task: &str) {
    if std::env::var("FIREBREAK_PANIC_TASK").is_ok_and(|t| t == task) {
        panic!("FIREBREAK_PANIC_TASK={task} (test hook)");
    }
}

/// Without the `crash-points` feature: nothing (a release binary ignores
/// `FIREBREAK_PANIC_TASK`).
#[cfg(not(feature = "crash-points"))]
const fn panic_point(_task: &str) {}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_panicking_task_stops_the_others_and_is_named() {
        let mut tm = TaskManager::new(Duration::from_secs(5));
        let stop = tm.stop_signal();
        let (drained_tx, drained_rx) = tokio::sync::oneshot::channel();
        tm.spawn_critical("patient", async move {
            stop.wait().await;
            let _ = drained_tx.send(());
            Ok(())
        });
        let (go_tx, go_rx) = tokio::sync::oneshot::channel::<()>();
        tm.spawn_critical("fragile", async move {
            let _ = go_rx.await;
            panic!("boom");
        });
        let _ = go_tx.send(());
        let failure = tm.run_until(std::future::pending()).await.expect_err("a task panicked");
        assert_eq!(failure.task, "fragile");
        assert_eq!(failure.cause, "panicked: boom");
        assert_eq!(failure.to_string(), "task `fragile` panicked: boom");
        drained_rx.await.expect("the other task was told to stop and finished");
    }

    #[tokio::test]
    async fn a_task_that_ends_or_fails_is_a_failure() {
        let mut tm = TaskManager::new(Duration::from_secs(5));
        tm.spawn_critical("quitter", async { Ok(()) });
        let f = tm.run_until(std::future::pending()).await.expect_err("ended");
        assert_eq!(f.to_string(), "task `quitter` ended unexpectedly");
        let mut tm = TaskManager::new(Duration::from_secs(5));
        tm.spawn_critical("broken", async { Err("cannot bind".to_owned()) });
        let f = tm.run_until(std::future::pending()).await.expect_err("failed");
        assert_eq!(f.to_string(), "task `broken` failed: cannot bind");
    }

    #[tokio::test]
    async fn shutdown_drains_and_aborts_what_will_not_stop() {
        let mut tm = TaskManager::new(Duration::from_millis(50));
        let stop = tm.stop_signal();
        let (tx, rx) = tokio::sync::oneshot::channel();
        tm.spawn_critical("polite", async move {
            stop.wait().await;
            let _ = tx.send(());
            Ok(())
        });
        tm.spawn_critical("stubborn", std::future::pending());
        tm.run_until(async {}).await.expect("a requested shutdown is not a failure");
        rx.await.expect("the polite task drained");
    }
}
