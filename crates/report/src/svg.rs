//! The incident's visual timeline, the one every report draws: a lane per
//! kind of work (detected, steps, transactions, Safe, contained, people),
//! time across from the incident's first entry, a dot per entry with its
//! description on hover, and the milestones (detected, paged, acknowledged,
//! pause sent and mined, a pause undone, NOT READY …) labelled.

use std::fmt::Write as _;

use firebreak_primitives::{Actor, IncidentId, event::Lane};
use firebreak_store::{TimelineEntry, timeline::describe};

use crate::escape;

fn ms(at: &str) -> Option<i64> {
    at.parse::<jiff::Timestamp>().ok().map(|t| t.as_millisecond())
}

/// The SVG of a timeline (`id="timeline-svg"`, scales to its container).
pub fn timeline_svg(incident: IncidentId, entries: &[TimelineEntry]) -> String {
    let drawn: Vec<(i64, Lane, &TimelineEntry)> =
        entries.iter().filter_map(|e| Some((ms(&e.at)?, e.event.lane()?, e))).collect();
    let Some(start) = drawn.iter().map(|d| d.0).min() else {
        return "<p class=\"muted\">no milestones yet</p>".into();
    };
    let end = drawn.iter().map(|d| d.0).max().unwrap_or(start).max(start + 1);
    let (w, left, right, lane_h, top) = (1000.0_f64, 110.0_f64, 230.0_f64, 46.0_f64, 30.0_f64);
    let lanes = Lane::ALL;
    let height = top + lane_h * lanes.len() as f64 + 40.0;
    let x = |t: i64| left + (w - left - right) * (t - start) as f64 / (end - start) as f64;
    let mut svg = format!(
        r#"<svg id="timeline-svg" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {w} {height}" width="100%" font-family="sans-serif" font-size="12" role="img" aria-label="incident timeline">"#
    );
    let _ = write!(svg, r#"<rect width="{w}" height="{height}" fill="white"/>"#);
    let _ = write!(
        svg,
        r#"<text x="{left}" y="18" font-weight="bold">incident {incident}: {} ms from the first entry to the last</text>"#,
        end - start
    );
    for (i, lane) in lanes.iter().enumerate() {
        let (name, colour) = lane.label();
        let y = top + lane_h * i as f64 + lane_h / 2.0;
        let _ = write!(svg, r#"<text x="8" y="{}" fill="{colour}">{name}</text>"#, y + 4.0);
        let _ = write!(
            svg,
            r##"<line x1="{left}" y1="{y}" x2="{}" y2="{y}" stroke="#dee2e6"/>"##,
            w - right
        );
        let mut labels = 0;
        for (t, _, e) in drawn.iter().filter(|d| d.1 == *lane) {
            let cx = x(*t);
            let who = match &e.actor {
                Actor::Member(m) => m.clone(),
                other => other.to_string(),
            };
            let milestone = e.event.milestone(&who);
            let fill = milestone.as_ref().map_or(colour, |m| m.1);
            let _ = write!(
                svg,
                r#"<circle cx="{cx:.1}" cy="{y}" r="{}" fill="{fill}"><title>{} {} — {}</title></circle>"#,
                if milestone.is_some() { 6 } else { 4 },
                escape(&e.at),
                escape(e.kind()),
                escape(&describe(e))
            );
            if let Some((label, mcolour)) = milestone {
                // labels alternate above and below the lane
                let ly = if labels % 2 == 0 { y - 9.0 } else { y + 17.0 };
                labels += 1;
                let _ = write!(
                    svg,
                    r#"<text x="{:.1}" y="{ly}" fill="{mcolour}" font-size="11">+{:.1}s {}</text>"#,
                    cx + 4.0,
                    (*t - start) as f64 / 1000.0,
                    escape(&label)
                );
            }
        }
    }
    let axis_y = top + lane_h * lanes.len() as f64 + 10.0;
    let _ = write!(
        svg,
        r##"<line x1="{left}" y1="{axis_y}" x2="{}" y2="{axis_y}" stroke="#868e96"/>"##,
        w - right
    );
    for k in 0..=4 {
        let t = start + (end - start) * k / 4;
        let _ = write!(
            svg,
            r##"<text x="{:.1}" y="{}" text-anchor="middle" fill="#495057">+{} ms</text>"##,
            x(t),
            axis_y + 18.0,
            t - start
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
        let svg = timeline_svg(
            IncidentId(1),
            &[
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
            ],
        );
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
