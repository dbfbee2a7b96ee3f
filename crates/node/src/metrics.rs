//! The daemon's Prometheus metrics. A small registry of its own rather than
//! the global `metrics` recorder: several daemons run in one test process,
//! and each must count only its own work.

use std::{collections::BTreeMap, fmt::Write as _, sync::Mutex};

/// (name, kind, help) of every metric, in exposition order.
const FAMILIES: &[(&str, &str, &str)] = &[
    ("firebreak_blocks_processed_total", "counter", "Blocks whose monitors ran, per chain"),
    ("firebreak_chain_head_block", "gauge", "Newest block number the node reports, per chain"),
    ("firebreak_chain_processed_block", "gauge", "Newest block processed, per chain"),
    ("firebreak_chain_lag_blocks", "gauge", "Head minus processed block, per chain"),
    (
        "firebreak_chain_blind",
        "gauge",
        "1 while every RPC endpoint of the chain fails (nothing is seen), per chain",
    ),
    (
        "firebreak_ready",
        "gauge",
        "1 when the daemon runs, every P1 pause path can sign and no chain is blind",
    ),
    ("firebreak_alerts_total", "counter", "Alerts raised, per chain and severity"),
    ("firebreak_reorgs_total", "counter", "Reorgs handled, per chain"),
    ("firebreak_rpc_errors_total", "counter", "RPC endpoint failures, per chain"),
    ("firebreak_incidents_opened_total", "counter", "Incidents opened"),
    (
        "firebreak_step_latency_seconds_sum",
        "counter",
        "Sum of the time from an incident's opening to each step finishing, per step outcome",
    ),
    ("firebreak_step_latency_seconds_count", "counter", "Steps finished, per outcome"),
    (
        "firebreak_delivery_failures_total",
        "counter",
        "Failed message delivery attempts, per channel",
    ),
    ("firebreak_round_errors_total", "counter", "Playbook rounds that failed and were retried"),
    ("firebreak_http_connections_open", "gauge", "War-room connections open"),
    (
        "firebreak_http_connections_refused_total",
        "counter",
        "War-room connections closed at once because the connection cap was reached",
    ),
    (
        "firebreak_http_accept_errors_total",
        "counter",
        "War-room accepts that failed (e.g. out of file descriptors)",
    ),
];

/// Counters and gauges keyed by name and label set.
#[derive(Debug, Default)]
pub struct Metrics {
    values: Mutex<BTreeMap<(&'static str, String), f64>>,
}

fn labels(pairs: &[(&str, &str)]) -> String {
    let inner: Vec<String> = pairs
        .iter()
        .map(|(k, v)| {
            format!("{k}=\"{}\"", v.replace('\\', "\\\\").replace('"', "\\\"").replace('\n', "\\n"))
        })
        .collect();
    if inner.is_empty() { String::new() } else { format!("{{{}}}", inner.join(",")) }
}

impl Metrics {
    /// Adds `v` to a counter.
    pub fn add(&self, name: &'static str, pairs: &[(&str, &str)], v: f64) {
        let mut m = self.values.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        *m.entry((name, labels(pairs))).or_default() += v;
    }

    /// Sets a gauge.
    pub fn set(&self, name: &'static str, pairs: &[(&str, &str)], v: f64) {
        let mut m = self.values.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        m.insert((name, labels(pairs)), v);
    }

    /// One value (tests).
    pub fn get(&self, name: &'static str, pairs: &[(&str, &str)]) -> Option<f64> {
        let m = self.values.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        m.get(&(name, labels(pairs))).copied()
    }

    /// The Prometheus text exposition (version 0.0.4).
    pub fn render(&self) -> String {
        let m = self.values.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let mut out = String::new();
        for (name, kind, help) in FAMILIES {
            let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} {kind}");
            for ((n, l), v) in m.iter() {
                if n == name {
                    let _ = writeln!(out, "{name}{l} {v}");
                }
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_counters_and_gauges_with_escaped_labels() {
        let m = Metrics::default();
        m.add("firebreak_alerts_total", &[("chain", "main\"net"), ("severity", "P1")], 1.0);
        m.add("firebreak_alerts_total", &[("chain", "main\"net"), ("severity", "P1")], 2.0);
        m.set("firebreak_chain_lag_blocks", &[("chain", "local")], 4.0);
        let text = m.render();
        assert!(
            text.contains("firebreak_alerts_total{chain=\"main\\\"net\",severity=\"P1\"} 3\n"),
            "{text}"
        );
        assert!(text.contains("# TYPE firebreak_chain_lag_blocks gauge\nfirebreak_chain_lag_blocks{chain=\"local\"} 4\n"), "{text}");
        assert!(text.contains("# HELP firebreak_delivery_failures_total"));
    }
}
