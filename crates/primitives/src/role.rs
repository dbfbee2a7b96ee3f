use std::fmt;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// A role a team member holds during an incident.
///
/// Roles gate what a member may do: approvals name the roles whose holders
/// count toward a quorum, and escalation levels can page a role.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Leads the response and takes the final decisions.
    Commander,
    /// Operates the tooling: pauses, calls, drills.
    Operator,
    /// Talks to the community and the press.
    Comms,
    /// Talks to white hats, exchanges, bridges and law enforcement.
    Liaison,
    /// Keeps the record that becomes the post-mortem.
    Scribe,
    /// Holds a key of a Safe or a guardian.
    Signer,
}

impl Role {
    /// Every role, in declaration order.
    pub const ALL: [Self; 6] =
        [Self::Commander, Self::Operator, Self::Comms, Self::Liaison, Self::Scribe, Self::Signer];

    /// The name used in plan files.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Commander => "commander",
            Self::Operator => "operator",
            Self::Comms => "comms",
            Self::Liaison => "liaison",
            Self::Scribe => "scribe",
            Self::Signer => "signer",
        }
    }

    /// Parses a role name as written in plan files.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|r| r.as_str() == s)
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}
