//! Incident vocabulary: ids, lifecycle states, step states and actors.

use std::{fmt, str::FromStr};

use serde::{Deserialize, Serialize};

/// An incident's number in the store (1, 2, …).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct IncidentId(pub u64);

impl fmt::Display for IncidentId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

impl FromStr for IncidentId {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let digits = s.trim().trim_start_matches('#');
        digits
            .parse::<u64>()
            .map(Self)
            .map_err(|_| format!("`{s}` is not an incident id (a number, e.g. 12)"))
    }
}

macro_rules! text_enum {
    ($(#[$meta:meta])* $name:ident { $($(#[$vmeta:meta])* $variant:ident = $text:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, schemars::JsonSchema)]
        #[serde(rename_all = "snake_case")]
        pub enum $name { $($(#[$vmeta])* $variant),+ }

        impl $name {
            /// Every value, in order.
            pub const ALL: &'static [Self] = &[$(Self::$variant),+];
            /// The stored and printed name.
            pub const fn as_str(self) -> &'static str {
                match self { $(Self::$variant => $text),+ }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.pad(self.as_str())
            }
        }

        impl FromStr for $name {
            type Err = String;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                match s {
                    $($text => Ok(Self::$variant),)+
                    other => Err(format!(
                        "`{other}` is not one of: {}",
                        [$($text),+].join(", ")
                    )),
                }
            }
        }
    };
}

text_enum! {
    /// Where an incident is in its life. States move forward, with one
    /// exception: containment lost (a reorg dropped the pause, or a contract
    /// was unpaused outside the plan) moves `contained` back to `containing`.
    IncidentStatus {
        /// An alert opened it.
        Detected = "detected",
        /// A member took it.
        Acknowledged = "acknowledged",
        /// A pause is under way (sent, awaiting signatures or confirmations),
        /// or was lost and is being restored.
        Containing = "containing",
        /// The damage is stopped: every contract the playbook paused is paused
        /// on the canonical chain, past the chain's confirmation depth.
        Contained = "contained",
        /// Funds and service are being restored.
        Recovering = "recovering",
        /// Over.
        Resolved = "resolved",
        /// The post-mortem is written.
        Reviewed = "reviewed",
    }
}

impl IncidentStatus {
    /// Whether the incident still takes alerts and runs steps.
    pub const fn is_open(self) -> bool {
        !matches!(self, Self::Resolved | Self::Reviewed)
    }
}

text_enum! {
    /// State of one playbook step of an incident.
    StepStatus {
        /// Not started.
        Pending = "pending",
        /// Acting now (or resuming after a restart).
        Running = "running",
        /// Waiting for member approvals or Safe signatures.
        AwaitingApproval = "awaiting_approval",
        /// Done.
        Succeeded = "succeeded",
        /// Gave up (see the timeline for why).
        Failed = "failed",
        /// Not run (not applicable, or handled elsewhere).
        Skipped = "skipped",
    }
}

impl StepStatus {
    /// Whether the step will not change any more.
    pub const fn is_final(self) -> bool {
        matches!(self, Self::Succeeded | Self::Failed | Self::Skipped)
    }
}

/// The step id of the quorum gate of a playbook started by hand.
pub const TRIGGER_STEP: &str = "trigger";
/// The step id of an unpause requested in the war room.
pub const UNPAUSE_STEP: &str = "unpause";

/// What the war room asks of the daemon. The server never acts on the chain
/// itself: it records decisions in the store and wakes the daemon up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ControlMsg {
    /// Drive this incident now (an approval, signature or trigger arrived).
    Drive(IncidentId),
}

/// Who did something recorded on an incident's timeline.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "kind", content = "name", rename_all = "snake_case")]
pub enum Actor {
    /// firebreak itself.
    System,
    /// A team member (handle from the plan).
    Member(String),
    /// Someone outside the team (a white hat, a service).
    External(String),
}

impl fmt::Display for Actor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::System => f.write_str("system"),
            Self::Member(m) => write!(f, "member:{m}"),
            Self::External(e) => write!(f, "external:{e}"),
        }
    }
}

impl FromStr for Actor {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.split_once(':') {
            None if s == "system" => Ok(Self::System),
            Some(("member", m)) if !m.is_empty() => Ok(Self::Member(m.to_owned())),
            Some(("external", e)) if !e.is_empty() => Ok(Self::External(e.to_owned())),
            _ => Err(format!("`{s}` is not an actor (system, member:NAME or external:NAME)")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for s in IncidentStatus::ALL {
            assert_eq!(s.as_str().parse::<IncidentStatus>(), Ok(*s));
        }
        for s in StepStatus::ALL {
            assert_eq!(s.as_str().parse::<StepStatus>(), Ok(*s));
        }
        for a in [Actor::System, Actor::Member("ana".into()), Actor::External("pd".into())] {
            assert_eq!(a.to_string().parse::<Actor>(), Ok(a));
        }
        assert!("member:".parse::<Actor>().is_err());
        assert_eq!("#12".parse::<IncidentId>(), Ok(IncidentId(12)));
        assert!("x".parse::<IncidentId>().is_err());
    }

    #[test]
    fn lifecycle_is_ordered() {
        assert!(IncidentStatus::Detected < IncidentStatus::Contained);
        assert!(IncidentStatus::Resolved < IncidentStatus::Reviewed);
        assert!(!IncidentStatus::Resolved.is_open());
    }

    #[test]
    fn display_honours_width_for_tables() {
        assert_eq!(format!("{:>4}|{:<9}|", IncidentId(7), StepStatus::Pending), "   7|pending  |");
    }
}
