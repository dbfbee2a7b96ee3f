//! Crash points for the crash-safety tests, compiled only with the
//! `crash-points` feature (the test command's `--all-features`): a release
//! binary ignores `FIREBREAK_HALT_AT`, so nobody can park a production
//! daemon before its broadcast through its environment.
//!
//! With `FIREBREAK_HALT_AT=<point>` in its environment, the daemon announces
//! `firebreak: halted at <point>` on stderr when it reaches that point and
//! stops there forever, so a test can `kill -9` it at exactly that moment and
//! check what a restart does. Points: `after-alert`, `after-sign`,
//! `after-broadcast`, `before-receipt`. Unset, this costs one env lookup per
//! point and does nothing.

/// Stops here forever when `FIREBREAK_HALT_AT` names `point`.
#[cfg(feature = "crash-points")]
pub async fn halt_point(point: &str) {
    if std::env::var("FIREBREAK_HALT_AT").is_ok_and(|p| p == point) {
        use std::io::Write as _;
        let mut err = std::io::stderr();
        let _ = writeln!(err, "firebreak: halted at {point}");
        let _ = err.flush();
        std::future::pending::<()>().await;
    }
}

/// Without the `crash-points` feature: nothing.
#[cfg(not(feature = "crash-points"))]
#[allow(clippy::unused_async)] // the same signature as the crash point it stands for
pub async fn halt_point(_point: &str) {}

/// Whether this build has the crash points (and `FIREBREAK_PANIC_TASK`).
pub const CRASH_POINTS: bool = cfg!(feature = "crash-points");
