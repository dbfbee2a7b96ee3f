//! The daemon's Prometheus metrics: one `prometheus-client` registry per
//! daemon (several daemons run in one test process, and each must count
//! only its own work), served in the OpenMetrics text format.

use std::{collections::BTreeMap, sync::atomic::AtomicU64};

use prometheus_client::{
    encoding::text::encode,
    metrics::{
        counter::Counter,
        family::Family,
        gauge::Gauge,
        histogram::{Histogram, exponential_buckets},
    },
    registry::Registry,
};

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
    (
        "firebreak_acting",
        "gauge",
        "1 while this replica holds the leases and acts (drives playbooks, signs, delivers)",
    ),
    ("firebreak_alerts_total", "counter", "Alerts raised, per chain and severity"),
    ("firebreak_reorgs_total", "counter", "Reorgs handled, per chain"),
    (
        "firebreak_pending_simulated_total",
        "counter",
        "Pending transactions simulated for pre-emption, per chain and whether they touched a watched contract",
    ),
    ("firebreak_rpc_errors_total", "counter", "RPC endpoint failures, per chain"),
    ("firebreak_incidents_opened_total", "counter", "Incidents opened"),
    (
        "firebreak_alerts_notified_total",
        "counter",
        "Alerts of alert-only monitors sent to their channels (no incident)",
    ),
    (
        "firebreak_step_latency_seconds",
        "histogram",
        "Time from an incident's opening to each step finishing, per step and outcome",
    ),
    (
        "firebreak_heartbeats_total",
        "counter",
        "Heartbeats the outside service took, per state (up, fail)",
    ),
    (
        "firebreak_heartbeat_failures_total",
        "counter",
        "Heartbeats that did not reach the outside service",
    ),
    (
        "firebreak_reaction_seconds",
        "histogram",
        "Time from an incident's opening to its first pause transaction signed and sent, per path",
    ),
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

type Labels = Vec<(String, String)>;
type Counters = Family<Labels, Counter<f64, AtomicU64>>;
type Gauges = Family<Labels, Gauge<f64, AtomicU64>>;
type Histograms = Family<Labels, Histogram, fn() -> Histogram>;

/// Latency buckets: 1 ms to about 65 s, doubling.
fn latency_histogram() -> Histogram {
    Histogram::new(exponential_buckets(0.001, 2.0, 17))
}

/// Counters, gauges and histograms keyed by name and label set, in a
/// registry of their own.
pub struct Metrics {
    registry: Registry,
    counters: BTreeMap<&'static str, Counters>,
    gauges: BTreeMap<&'static str, Gauges>,
    histograms: BTreeMap<&'static str, Histograms>,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Metrics").field("families", &FAMILIES.len()).finish()
    }
}

impl Default for Metrics {
    fn default() -> Self {
        let mut registry = Registry::default();
        let (mut counters, mut gauges, mut histograms) =
            (BTreeMap::new(), BTreeMap::new(), BTreeMap::new());
        for &(name, kind, help) in FAMILIES {
            match kind {
                "counter" => {
                    let family = Counters::default();
                    // the registry adds the `_total` suffix of counters itself
                    registry.register(name.trim_end_matches("_total"), help, family.clone());
                    counters.insert(name, family);
                }
                "histogram" => {
                    let family = Histograms::new_with_constructor(latency_histogram);
                    registry.register(name, help, family.clone());
                    histograms.insert(name, family);
                }
                _ => {
                    let family = Gauges::default();
                    registry.register(name, help, family.clone());
                    gauges.insert(name, family);
                }
            }
        }
        Self { registry, counters, gauges, histograms }
    }
}

/// The label set, values escaped for the exposition (the encoder writes
/// them as given): `\\`, `"` and newlines.
fn labels(pairs: &[(&str, &str)]) -> Labels {
    pairs
        .iter()
        .map(|(k, v)| {
            let v = v.replace('\\', "\\\\").replace('"', "\\\"").replace('\n', "\\n");
            ((*k).to_owned(), v)
        })
        .collect()
}

impl Metrics {
    /// Adds `v` to a counter.
    pub fn add(&self, name: &'static str, pairs: &[(&str, &str)], v: f64) {
        if let Some(f) = self.counters.get(name) {
            f.get_or_create(&labels(pairs)).inc_by(v);
        } else {
            tracing::warn!(metric = name, "not a counter of the registry; dropped");
        }
    }

    /// Sets a gauge, or brings a counter that mirrors a running total kept
    /// elsewhere (delivery failures, refused connections) up to `v`.
    pub fn set(&self, name: &'static str, pairs: &[(&str, &str)], v: f64) {
        if let Some(f) = self.gauges.get(name) {
            f.get_or_create(&labels(pairs)).set(v);
        } else if let Some(f) = self.counters.get(name) {
            let c = f.get_or_create(&labels(pairs));
            let now = c.get();
            if v > now {
                c.inc_by(v - now);
            }
        } else {
            tracing::warn!(metric = name, "not a metric of the registry; dropped");
        }
    }

    /// Records one observation of a histogram.
    pub fn observe(&self, name: &'static str, pairs: &[(&str, &str)], v: f64) {
        if let Some(f) = self.histograms.get(name) {
            f.get_or_create(&labels(pairs)).observe(v);
        } else {
            tracing::warn!(metric = name, "not a histogram of the registry; dropped");
        }
    }

    /// One counter's or gauge's value (tests, and the readiness poller's
    /// lag arithmetic).
    pub fn get(&self, name: &'static str, pairs: &[(&str, &str)]) -> Option<f64> {
        let l = labels(pairs);
        if let Some(f) = self.counters.get(name) {
            return f.get(&l).map(|c| c.get());
        }
        self.gauges.get(name).and_then(|f| f.get(&l).map(|g| g.get()))
    }

    /// The OpenMetrics text exposition (families with no sample yet are
    /// left out).
    pub fn render(&self) -> String {
        let mut text = String::new();
        // writing to a String cannot fail
        let _ = encode(&mut text, &self.registry);
        // a metric without labels is written `name 1.0`, not `name{} 1.0`
        let mut out = String::with_capacity(text.len());
        for line in text.lines() {
            match line.split_once("{} ") {
                Some((name, value))
                    if name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') =>
                {
                    out.push_str(name);
                    out.push(' ');
                    out.push_str(value);
                }
                _ => out.push_str(line),
            }
            out.push('\n');
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_counters_gauges_and_histograms_with_escaped_labels() {
        let m = Metrics::default();
        m.add("firebreak_alerts_total", &[("chain", "main\"net"), ("severity", "P1")], 1.0);
        m.add("firebreak_alerts_total", &[("chain", "main\"net"), ("severity", "P1")], 2.0);
        m.set("firebreak_chain_lag_blocks", &[("chain", "local")], 4.0);
        for secs in [0.004, 0.006, 2.5] {
            m.observe(
                "firebreak_step_latency_seconds",
                &[("step", "pause-1"), ("status", "succeeded")],
                secs,
            );
        }
        let text = m.render();
        assert!(
            text.contains("firebreak_alerts_total{chain=\"main\\\"net\",severity=\"P1\"} 3.0\n"),
            "{text}"
        );
        assert!(text.contains("# TYPE firebreak_chain_lag_blocks gauge\n"), "{text}");
        assert!(text.contains("firebreak_chain_lag_blocks{chain=\"local\"} 4.0\n"), "{text}");
        assert!(text.contains("# HELP firebreak_chain_lag_blocks Head minus processed"), "{text}");
        // a real histogram: buckets, sum and count
        assert!(text.contains("# TYPE firebreak_step_latency_seconds histogram\n"), "{text}");
        assert!(
            text.contains("firebreak_step_latency_seconds_bucket{le=\"0.008\",step=\"pause-1\",status=\"succeeded\"} 2\n")
                || text.contains("firebreak_step_latency_seconds_bucket{step=\"pause-1\",status=\"succeeded\",le=\"0.008\"} 2\n"),
            "{text}"
        );
        assert!(text.ends_with("# EOF\n"), "{text}");
        assert!(
            text.contains(
                "firebreak_step_latency_seconds_count{step=\"pause-1\",status=\"succeeded\"} 3\n"
            ),
            "{text}"
        );
        assert_eq!(
            m.get("firebreak_alerts_total", &[("chain", "main\"net"), ("severity", "P1")]),
            Some(3.0)
        );
        assert_eq!(m.get("firebreak_ready", &[]), None, "never set");
        m.set("firebreak_ready", &[], 1.0);
        assert!(m.render().contains("\nfirebreak_ready 1.0\n"), "{}", m.render());
        // a counter mirroring a total kept elsewhere follows it up, never down
        m.set("firebreak_http_connections_refused_total", &[], 5.0);
        m.set("firebreak_http_connections_refused_total", &[], 7.0);
        m.set("firebreak_http_connections_refused_total", &[], 6.0);
        assert_eq!(m.get("firebreak_http_connections_refused_total", &[]), Some(7.0));
    }
}
