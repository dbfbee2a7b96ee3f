//! Crash points for the crash-safety tests.
//!
//! With `FIREBREAK_HALT_AT=<point>` in its environment, the daemon announces
//! `firebreak: halted at <point>` on stderr when it reaches that point and
//! stops there forever, so a test can `kill -9` it at exactly that moment and
//! check what a restart does. Points: `after-alert`, `after-sign`,
//! `after-broadcast`, `before-receipt`. Unset, this costs one env lookup per
//! point and does nothing.

/// Stops here forever when `FIREBREAK_HALT_AT` names `point`.
pub async fn halt_point(point: &str) {
    if std::env::var("FIREBREAK_HALT_AT").is_ok_and(|p| p == point) {
        use std::io::Write as _;
        let mut err = std::io::stderr();
        let _ = writeln!(err, "firebreak: halted at {point}");
        let _ = err.flush();
        std::future::pending::<()>().await;
    }
}
