//! The incident's visual timeline: one lane of milestones (detected, paged,
//! acknowledged, approvals, pause sent, pause mined, announcements) on a
//! time axis from the incident's opening.

use std::fmt::Write as _;

use firebreak_store::TimelineEntry;

use crate::html::esc;

/// A milestone: label, colour.
fn milestone(e: &TimelineEntry) -> Option<(String, &'static str)> {
    let who = match &e.actor {
        firebreak_primitives::Actor::Member(m) => m.clone(),
        other => other.to_string(),
    };
    e.event.milestone(&who)
}

fn ms(at: &str) -> Option<i64> {
    at.parse::<jiff::Timestamp>().ok().map(|t| t.as_millisecond())
}

/// The SVG, or a note when there is nothing to draw yet.
pub(crate) fn timeline_svg(entries: &[TimelineEntry]) -> String {
    let points: Vec<(i64, String, &str)> = entries
        .iter()
        .filter_map(|e| milestone(e).and_then(|(l, c)| ms(&e.at).map(|t| (t, l, c))))
        .collect();
    let Some(start) = points.first().map(|p| p.0) else {
        return "<p class=\"muted\">no milestones yet</p>".into();
    };
    let end = points.iter().map(|p| p.0).max().unwrap_or(start).max(start + 1);
    let (w, left, right) = (1000.0_f64, 30.0_f64, 300.0_f64);
    let row = 22.0;
    let h = 40.0 + row * points.len() as f64;
    let x = |t: i64| left + (w - left - right) * ((t - start) as f64 / (end - start) as f64);
    let mut svg = format!(
        "<svg id=\"timeline-svg\" xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {w} {h}\" width=\"100%\" role=\"img\" aria-label=\"incident timeline\"><line x1=\"{left}\" y1=\"20\" x2=\"{}\" y2=\"20\" stroke=\"#adb5bd\" stroke-width=\"2\"/>",
        w - right
    );
    for (i, (t, label, colour)) in points.iter().enumerate() {
        let (cx, y) = (x(*t), 40.0 + row * i as f64);
        let offset = (*t - start) as f64 / 1000.0;
        let _ = write!(
            svg,
            "<line x1=\"{cx:.1}\" y1=\"20\" x2=\"{cx:.1}\" y2=\"{y:.1}\" stroke=\"{colour}\" stroke-dasharray=\"2,2\"/><circle cx=\"{cx:.1}\" cy=\"20\" r=\"6\" fill=\"{colour}\"/><text x=\"{tx:.1}\" y=\"{ty:.1}\" font-size=\"13\" font-family=\"sans-serif\" fill=\"{colour}\">+{offset:.1}s {}</text>",
            esc(label),
            tx = cx + 4.0,
            ty = y + 4.0,
        );
    }
    svg.push_str("</svg>");
    svg
}

#[cfg(test)]
mod tests {
    use firebreak_primitives::{Actor, Event, IncidentId, event};

    use super::*;

    fn entry(seq: u64, at: &str, kind: &str, body: serde_json::Value) -> TimelineEntry {
        TimelineEntry::from_stored(
            IncidentId(1),
            seq,
            at.into(),
            Actor::System,
            kind,
            body,
            String::new(),
            String::new(),
        )
    }

    fn typed(seq: u64, at: &str, e: &Event) -> TimelineEntry {
        let (kind, body) = e.to_stored().unwrap();
        entry(seq, at, &kind, body)
    }

    /// The milestones are the kinds the code writes; a pause undone by a
    /// reorg and a contract unpaused outside the plan show in red.
    #[test]
    fn the_lane_draws_the_kinds_that_are_written() {
        let receipt = event::Receipt {
            tx_hash: "0x01".into(),
            block_number: Some(14),
            block_hash: None,
            gas_used: 30_000,
            effective_gas_price: "1".into(),
            status: true,
            attempt: Some(1),
        };
        let svg = timeline_svg(&[
            typed(
                1,
                "2026-12-04T01:00:00.000Z",
                &Event::IncidentOpened(event::Opened {
                    title: "t".into(),
                    severity: firebreak_primitives::Severity::P1,
                    protocol: "p".into(),
                    playbook: "b".into(),
                    chain_id: 1,
                    plan_hash: "h".into(),
                    drill: false,
                    alert: None,
                    manual: None,
                }),
            ),
            typed(
                2,
                "2026-12-04T01:00:00.100Z",
                &Event::TxBroadcast(event::TxBroadcast {
                    action: "a".into(),
                    tx_hash: "0x01".into(),
                    accepted_by: 1,
                    endpoints: vec![],
                    head: 13,
                    replacement: None,
                }),
            ),
            typed(
                3,
                "2026-12-04T01:00:01.100Z",
                &Event::TxMined(event::TxOutcome { action: "a".into(), receipt }),
            ),
            typed(
                4,
                "2026-12-04T01:00:02.100Z",
                &Event::TxReorged(event::TxReorged {
                    action: "a".into(),
                    tx_hash: "0x01".into(),
                    block_number: Some(14),
                    block_hash: "0x02".into(),
                    detail: "d".into(),
                }),
            ),
            typed(
                5,
                "2026-12-04T01:00:03.100Z",
                &Event::UnpausedOutsidePlan(event::UnpausedOutsidePlan {
                    step: "pause".into(),
                    contract: "vault".into(),
                    address: "0x03".into(),
                    block: 15,
                    detail: "d".into(),
                }),
            ),
            entry(6, "2026-12-04T01:00:03.200Z", "tx_sent", serde_json::json!({})),
        ]);
        for label in [
            "detected",
            "pause sent",
            "pause mined",
            "pause undone by a reorg",
            "unpaused outside the plan",
        ] {
            assert!(svg.contains(label), "{label} missing: {svg}");
        }
        assert_eq!(svg.matches("<circle").count(), 5, "a kind never written draws nothing: {svg}");
    }
}
