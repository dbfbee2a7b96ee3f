use std::{fmt, str::FromStr};

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// Incident severity on the SEAL 911 scale, `P1` (critical, funds at immediate
/// risk) to `P5` (informational).
///
/// Ordering follows urgency: `P1` is the *greatest* severity, so
/// `Severity::P1 > Severity::P2`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
pub enum Severity {
    /// Critical: active exploit or funds at immediate risk.
    P1,
    /// High: likely exploit or severe degradation.
    P2,
    /// Medium: suspicious activity that needs a human today.
    P3,
    /// Low: anomaly worth a look.
    P4,
    /// Informational.
    P5,
}

impl Severity {
    /// All severities, most urgent first.
    pub const ALL: [Self; 5] = [Self::P1, Self::P2, Self::P3, Self::P4, Self::P5];

    /// `true` for `P1`, the level at which a plan must contain the damage.
    pub const fn is_critical(self) -> bool {
        matches!(self, Self::P1)
    }

    /// The level as a number, 1 (critical) to 5.
    pub const fn level(self) -> u8 {
        match self {
            Self::P1 => 1,
            Self::P2 => 2,
            Self::P3 => 3,
            Self::P4 => 4,
            Self::P5 => 5,
        }
    }

    /// The label, `"P1"` … `"P5"`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::P1 => "P1",
            Self::P2 => "P2",
            Self::P3 => "P3",
            Self::P4 => "P4",
            Self::P5 => "P5",
        }
    }
}

impl PartialOrd for Severity {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Severity {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        other.level().cmp(&self.level())
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.as_str())
    }
}

/// Error returned when a string is not one of `P1` … `P5`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseSeverityError(String);

impl fmt::Display for ParseSeverityError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "unknown severity `{}`, expected one of P1, P2, P3, P4, P5", self.0)
    }
}

impl std::error::Error for ParseSeverityError {}

impl FromStr for Severity {
    type Err = ParseSeverityError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|sev| sev.as_str().eq_ignore_ascii_case(s))
            .ok_or_else(|| ParseSeverityError(s.to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_and_order() {
        for (text, sev) in [("P1", Severity::P1), ("p2", Severity::P2), ("P5", Severity::P5)] {
            assert_eq!(text.parse::<Severity>().unwrap(), sev);
        }
        assert!("P6".parse::<Severity>().is_err());
        assert!("".parse::<Severity>().is_err());
        assert!(Severity::P1 > Severity::P2);
        assert_eq!(Severity::ALL.iter().max(), Some(&Severity::P1));
    }
}
