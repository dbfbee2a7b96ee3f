//! Which on-chain action is which: [`ActionKey`], one per incident, step,
//! pause path and batch of contracts.

use std::{fmt, str::FromStr};

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::IncidentId;

/// A pause path, as an action names it: a guardian signer or a Safe of the
/// plan (`signer:guardian`, `safe:emergency`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum PathRef {
    /// A guardian key.
    Signer(String),
    /// A Safe.
    Safe(String),
}

impl fmt::Display for PathRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Signer(s) => write!(f, "signer:{s}"),
            Self::Safe(s) => write!(f, "safe:{s}"),
        }
    }
}

impl FromStr for PathRef {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.split_once(':') {
            Some(("signer", id)) if !id.is_empty() => Ok(Self::Signer(id.to_owned())),
            Some(("safe", id)) if !id.is_empty() => Ok(Self::Safe(id.to_owned())),
            _ => Err(format!("`{s}` is not a pause path (`signer:ID` or `safe:ID`)")),
        }
    }
}

/// `INCIDENT/STEP/PATH/CONTRACT[,CONTRACT…]`: one on-chain action per
/// incident, step, path and batch of contracts. Stored and shown as that
/// text; ids of the plan never hold `/` or `,`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ActionKey {
    /// Incident.
    pub incident: IncidentId,
    /// Step id.
    pub step: String,
    /// The path it takes.
    pub path: PathRef,
    /// The contracts it pauses (one, or a Safe batch).
    pub contracts: Vec<String>,
}

impl ActionKey {
    /// Whether this action (of `incident`'s `step` on `path`) pauses `contract`.
    pub fn covers(&self, incident: IncidentId, step: &str, path: &PathRef, contract: &str) -> bool {
        self.incident == incident
            && self.step == step
            && &self.path == path
            && self.contracts.iter().any(|c| c == contract)
    }
}

impl fmt::Display for ActionKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}/{}/{}", self.incident, self.step, self.path, self.contracts.join(","))
    }
}

impl FromStr for ActionKey {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = || format!("`{s}` is not an action key (INCIDENT/STEP/PATH/CONTRACTS)");
        let mut parts = s.splitn(4, '/');
        let (Some(incident), Some(step), Some(path), Some(contracts)) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(bad());
        };
        if step.is_empty() || contracts.is_empty() || contracts.contains('/') {
            return Err(bad());
        }
        Ok(Self {
            incident: incident.parse().map_err(|_| bad())?,
            step: step.to_owned(),
            path: path.parse()?,
            contracts: contracts.split(',').map(str::to_owned).collect(),
        })
    }
}

impl Serialize for ActionKey {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for ActionKey {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        String::deserialize(d)?.parse().map_err(serde::de::Error::custom)
    }
}

impl schemars::JsonSchema for ActionKey {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "ActionKey".into()
    }
    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "type": "string",
            "description": "INCIDENT/STEP/PATH/CONTRACT[,CONTRACT…], e.g. 1/pause/signer:guardian/vault",
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_reads_back_from_its_text_and_knows_what_it_covers() {
        let text = "12/pause/safe:emergency/vault,pool";
        let k: ActionKey = text.parse().unwrap();
        assert_eq!(k.to_string(), text);
        assert_eq!(k.path, PathRef::Safe("emergency".into()));
        assert!(k.covers(IncidentId(12), "pause", &PathRef::Safe("emergency".into()), "pool"));
        assert!(!k.covers(IncidentId(12), "pause", &PathRef::Signer("emergency".into()), "pool"));
        assert!(!k.covers(IncidentId(1), "pause", &k.path, "pool"));
        for bad in
            ["", "12/pause", "x/pause/signer:g/vault", "12/pause/key:g/vault", "12//signer:g/v"]
        {
            assert!(bad.parse::<ActionKey>().is_err(), "{bad}");
        }
    }
}
