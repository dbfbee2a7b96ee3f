//! The workspace's clock: Unix milliseconds and the timeline's time format.

/// Unix milliseconds now.
pub fn now_ms() -> u64 {
    u64::try_from(jiff::Timestamp::now().as_millisecond()).unwrap_or(0)
}

/// `ms` as RFC 3339 with milliseconds, UTC (the timeline's time format).
pub fn rfc3339(ms: u64) -> String {
    let ts = jiff::Timestamp::from_millisecond(i64::try_from(ms).unwrap_or(i64::MAX))
        .unwrap_or(jiff::Timestamp::UNIX_EPOCH);
    ts.strftime("%Y-%m-%dT%H:%M:%S%.3fZ").to_string()
}

/// Now as RFC 3339 with milliseconds, UTC.
pub fn rfc3339_now() -> String {
    rfc3339(now_ms())
}

/// An RFC 3339 time as Unix milliseconds.
pub fn parse_rfc3339_ms(text: &str) -> Option<u64> {
    let ts: jiff::Timestamp = text.parse().ok()?;
    u64::try_from(ts.as_millisecond()).ok()
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_time_format_has_milliseconds_and_z() {
        assert_eq!(super::rfc3339(1_700_000_000_123), "2023-11-14T22:13:20.123Z");
        assert_eq!(super::parse_rfc3339_ms("2023-11-14T22:13:20.123Z"), Some(1_700_000_000_123));
    }
}
