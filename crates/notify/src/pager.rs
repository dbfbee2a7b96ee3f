//! Paging: who is on call, and when each escalation level is paged.
//!
//! Pure functions of the plan and the clock, so a restarted daemon computes
//! the same schedule and the outbox's idempotency keys make each page go out
//! once.

use std::time::Duration;

use firebreak_plan::{EscalationLevel, Oncall, Plan, Target};

/// The member on call at `at_ms` (unix ms): an override if one covers that
/// time, else the rotation (shifts of `shift` from `start` at `handoff` in
/// `timezone`). `None` before the rotation starts or when it is empty.
pub fn oncall_member(oncall: &Oncall, at_ms: u64) -> Option<String> {
    let at = jiff::Timestamp::from_millisecond(i64::try_from(at_ms).ok()?).ok()?;
    if let Some(o) = oncall.overrides.iter().find(|o| o.from <= at && at < o.until) {
        return Some(o.member.clone());
    }
    let tz = jiff::tz::TimeZone::get(&oncall.timezone).ok()?;
    let first = oncall.start.to_datetime(oncall.handoff).to_zoned(tz).ok()?.timestamp();
    let since = at.as_millisecond() - first.as_millisecond();
    let shift = i64::try_from(oncall.shift.as_millis()).ok()?.max(1);
    if since < 0 || oncall.rotation.is_empty() {
        return None;
    }
    let n = usize::try_from(since / shift).ok()? % oncall.rotation.len();
    oncall.rotation.get(n).cloned()
}

/// Members a target reaches at `at_ms`.
pub fn resolve(plan: &Plan, target: &Target, at_ms: u64) -> Vec<String> {
    match target {
        Target::Oncall => {
            plan.oncall.as_ref().and_then(|o| oncall_member(o, at_ms)).into_iter().collect()
        }
        Target::Member(m) => vec![m.clone()],
        Target::Role(r) => {
            plan.team.iter().filter(|(_, m)| m.roles.contains(r)).map(|(k, _)| k.clone()).collect()
        }
    }
}

/// One scheduled page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Slot {
    /// Escalation level, from 1.
    pub level: usize,
    /// 0 for the first page of the level, then 1, 2 … for repeats.
    pub repeat: u32,
    /// When (ms after paging started).
    pub after_ms: u64,
}

/// Every page of `levels`, in time order. Level *i* starts `delay` after
/// level *i − 1*; its `repeat` extra pages are spread evenly over the wait
/// before the next level (or over its own delay, or 5 minutes, for the last).
pub fn schedule(levels: &[EscalationLevel]) -> Vec<Slot> {
    let mut out = Vec::new();
    let mut start = Duration::ZERO;
    for (i, level) in levels.iter().enumerate() {
        start += level.delay;
        let span = levels
            .get(i + 1)
            .map(|next| next.delay)
            .filter(|d| !d.is_zero())
            .or(Some(level.delay).filter(|d| !d.is_zero()))
            .unwrap_or(Duration::from_secs(300));
        let gap = span / (level.repeat + 1);
        for k in 0..=level.repeat {
            let at = start + gap * k;
            out.push(Slot {
                level: i + 1,
                repeat: k,
                after_ms: u64::try_from(at.as_millis()).unwrap_or(u64::MAX),
            });
        }
    }
    out
}

/// The slots due `elapsed_ms` after paging started.
pub fn due(levels: &[EscalationLevel], elapsed_ms: u64) -> Vec<Slot> {
    schedule(levels).into_iter().filter(|s| s.after_ms <= elapsed_ms).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn level(targets: Vec<Target>, delay_s: u64, repeat: u32) -> EscalationLevel {
        EscalationLevel { targets, delay: Duration::from_secs(delay_s), repeat }
    }

    #[test]
    fn levels_start_after_their_delays_and_repeats_fill_the_wait() {
        // on-call at once (+2 repeats), the commander after 5 min (+1), signers after 10 more
        let levels = [
            level(vec![Target::Oncall], 0, 2),
            level(vec![Target::Member("alice".into())], 300, 1),
            level(vec![Target::Member("erin".into())], 600, 0),
        ];
        let at: Vec<(usize, u32, u64)> =
            schedule(&levels).iter().map(|s| (s.level, s.repeat, s.after_ms / 1000)).collect();
        assert_eq!(
            at,
            [(1, 0, 0), (1, 1, 100), (1, 2, 200), (2, 0, 300), (2, 1, 600), (3, 0, 900)]
        );
        assert_eq!(due(&levels, 0).len(), 1);
        assert_eq!(due(&levels, 299_999).len(), 3, "level 2 is not paged before its delay");
        assert_eq!(due(&levels, 300_000).last().map(|s| s.level), Some(2));
    }

    #[test]
    fn the_rotation_hands_off_in_its_time_zone_and_overrides_win() {
        let ts = |s: &str| {
            u64::try_from(s.parse::<jiff::Timestamp>().unwrap().as_millisecond()).unwrap()
        };
        let oncall = Oncall {
            rotation: vec!["bob".into(), "carol".into(), "alice".into()],
            shift: Duration::from_secs(7 * 86_400),
            handoff: jiff::civil::time(9, 0, 0, 0),
            timezone: "America/New_York".into(),
            start: jiff::civil::date(2026, 1, 5),
            overrides: vec![firebreak_plan::Override {
                member: "dan".into(),
                from: "2026-01-20T00:00:00Z".parse().unwrap(),
                until: "2026-01-21T00:00:00Z".parse().unwrap(),
            }],
            escalation: vec![],
        };
        // 09:00 in New York is 14:00 UTC in January
        assert_eq!(
            oncall_member(&oncall, ts("2026-01-05T13:59:59Z")),
            None,
            "before the first hand-off"
        );
        assert_eq!(oncall_member(&oncall, ts("2026-01-05T14:00:00Z")).as_deref(), Some("bob"));
        assert_eq!(oncall_member(&oncall, ts("2026-01-12T13:59:00Z")).as_deref(), Some("bob"));
        assert_eq!(oncall_member(&oncall, ts("2026-01-12T14:00:00Z")).as_deref(), Some("carol"));
        assert_eq!(
            oncall_member(&oncall, ts("2026-01-20T12:00:00Z")).as_deref(),
            Some("dan"),
            "override"
        );
        assert_eq!(
            oncall_member(&oncall, ts("2026-01-26T14:00:00Z")).as_deref(),
            Some("bob"),
            "wraps around"
        );
    }
}
