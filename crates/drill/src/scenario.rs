//! Drill scenarios: a TOML list of transactions played against a fork.

use std::{path::Path, time::Duration};

use alloy::primitives::{Address, Bytes, U256};
use alloy_dyn_abi::{DynSolType, JsonAbiExt as _};
use alloy_json_abi::Function;
use firebreak_plan::Plan;
use serde::Deserialize;

/// A scenario file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Scenario {
    /// What it plays.
    pub name: String,
    /// Plan chain key to fork (default: the chain of the plan's monitors).
    #[serde(default)]
    pub chain: Option<String>,
    /// Containment target: the pause is mined at most this many blocks after
    /// the exploit (default 1: the next block).
    #[serde(default = "one")]
    pub target_blocks: u64,
    /// The playbook step whose success contains the incident (e.g.
    /// `revoke` for a stolen admin key); default: the first transaction
    /// firebreak lands (a pause). The report measures the time from the
    /// first malicious transaction to it.
    #[serde(default)]
    pub until_step: Option<String>,
    /// Seconds per block on the fork (default 1).
    #[serde(default = "one")]
    pub block_time: u64,
    /// What is at risk, measured before and after.
    #[serde(default)]
    pub funds: Option<Funds>,
    /// Transactions mined before the daemon starts (e.g. a role revoked).
    #[serde(default)]
    pub setup: Vec<Tx>,
    /// The attack, in order.
    pub steps: Vec<Tx>,
    /// Scripted acknowledgements.
    #[serde(default)]
    pub acks: Vec<Ack>,
}

fn one() -> u64 {
    1
}

/// Funds at risk: an ERC-20 balance.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Funds {
    /// Token: a plan contract key or an address.
    pub token: String,
    /// Holder: a plan contract key or an address.
    pub holder: String,
    /// Symbol shown in reports.
    #[serde(default = "symbol")]
    pub symbol: String,
    /// Token decimals.
    #[serde(default = "decimals")]
    pub decimals: u32,
}

fn symbol() -> String {
    "tokens".into()
}

fn decimals() -> u32 {
    18
}

/// One transaction from an impersonated account.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Tx {
    /// What it does, for the report.
    pub label: String,
    /// Sender (impersonated).
    pub from: String,
    /// Target: a plan contract key or an address.
    pub to: String,
    /// Function signature, e.g. `setPrice(uint256)`.
    #[serde(default)]
    pub call: Option<String>,
    /// Arguments, as text.
    #[serde(default)]
    pub args: Vec<String>,
    /// ETH sent, in wei (decimal).
    #[serde(default)]
    pub value: Option<String>,
    /// This transaction is the exploit: its block is the one measured.
    #[serde(default)]
    pub exploit: bool,
}

/// An acknowledgement by a member, some time after the incident opens.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Ack {
    /// Member handle.
    pub member: String,
    /// Delay after the incident opens.
    #[serde(with = "humantime_serde_compat")]
    pub after: Duration,
}

mod humantime_serde_compat {
    use std::time::Duration;

    use serde::Deserialize as _;

    pub(super) fn deserialize<'de, D: serde::Deserializer<'de>>(
        d: D,
    ) -> Result<Duration, D::Error> {
        let text = String::deserialize(d)?;
        parse(&text).ok_or_else(|| {
            serde::de::Error::custom(format!("`{text}` is not a duration (e.g. 30s, 2m)"))
        })
    }

    fn parse(text: &str) -> Option<Duration> {
        let (num, unit) = text.trim().split_at(text.trim().find(|c: char| !c.is_ascii_digit())?);
        let n: u64 = num.parse().ok()?;
        match unit {
            "ms" => Some(Duration::from_millis(n)),
            "s" => Some(Duration::from_secs(n)),
            "m" => Some(Duration::from_secs(n * 60)),
            "h" => Some(Duration::from_secs(n * 3600)),
            _ => None,
        }
    }
}

/// A transaction ready to send.
#[derive(Debug, Clone)]
pub struct Encoded {
    /// Label.
    pub label: String,
    /// Sender.
    pub from: Address,
    /// Target.
    pub to: Address,
    /// Calldata.
    pub data: Bytes,
    /// Value.
    pub value: U256,
    /// Is the exploit.
    pub exploit: bool,
}

impl Scenario {
    /// Reads and checks a scenario file against `plan`.
    ///
    /// # Errors
    /// With the file, the position and what is wrong.
    pub fn load(path: &Path, plan: &Plan) -> eyre::Result<Self> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| eyre::eyre!("cannot read scenario `{}`: {e}", path.display()))?;
        let s: Self =
            toml::from_str(&text).map_err(|e| eyre::eyre!("scenario `{}`: {e}", path.display()))?;
        if s.steps.iter().filter(|t| t.exploit).count() != 1 {
            eyre::bail!(
                "scenario `{}`: mark exactly one of [[steps]] with `exploit = true`",
                path.display()
            );
        }
        if let Some(c) = &s.chain
            && !plan.chains.contains_key(c)
        {
            eyre::bail!("scenario `{}`: chain `{c}` is not in the plan", path.display());
        }
        for (i, a) in s.acks.iter().enumerate() {
            if !plan.team.contains_key(&a.member) {
                eyre::bail!(
                    "scenario `{}`: acks[{i}] names `{}`, who is not in the plan's [team]",
                    path.display(),
                    a.member
                );
            }
        }
        for (section, list) in [("setup", &s.setup), ("steps", &s.steps)] {
            for (i, t) in list.iter().enumerate() {
                encode(t, plan).map_err(|e| {
                    eyre::eyre!("scenario `{}`: {section}[{i}] ({}): {e}", path.display(), t.label)
                })?;
            }
        }
        Ok(s)
    }

    /// The chain key this scenario forks.
    ///
    /// # Errors
    /// When the plan watches several chains and the scenario names none.
    pub fn chain_key(&self, plan: &Plan) -> eyre::Result<String> {
        if let Some(c) = &self.chain {
            return Ok(c.clone());
        }
        let chains: std::collections::BTreeSet<&String> =
            plan.monitors.values().map(|m| &m.chain).collect();
        match chains.into_iter().collect::<Vec<_>>().as_slice() {
            [one] => Ok((*one).clone()),
            _ => eyre::bail!(
                "the plan watches several chains: say which with `chain = \"KEY\"` in the scenario"
            ),
        }
    }
}

/// Resolves a plan contract key or an address.
pub fn address_of(text: &str, plan: &Plan) -> eyre::Result<Address> {
    if let Some(c) = plan.contracts.get(text) {
        return Ok(c.address);
    }
    if let Some(s) = plan.safes.get(text) {
        return Ok(s.address);
    }
    text.parse()
        .map_err(|_| eyre::eyre!("`{text}` is neither a contract of the plan nor an address"))
}

/// Encodes one transaction.
pub fn encode(t: &Tx, plan: &Plan) -> eyre::Result<Encoded> {
    let data = match &t.call {
        None => Bytes::new(),
        Some(sig) => {
            let f = Function::parse(sig)
                .map_err(|e| eyre::eyre!("`{sig}` is not a function signature: {e}"))?;
            if f.inputs.len() != t.args.len() {
                eyre::bail!("`{sig}` takes {} argument(s), {} given", f.inputs.len(), t.args.len());
            }
            let mut values = Vec::new();
            for (input, arg) in f.inputs.iter().zip(&t.args) {
                let ty: DynSolType =
                    input.ty.parse().map_err(|e| eyre::eyre!("type `{}`: {e}", input.ty))?;
                values.push(
                    ty.coerce_str(arg)
                        .map_err(|e| eyre::eyre!("argument `{arg}` is not a {}: {e}", input.ty))?,
                );
            }
            f.abi_encode_input(&values)
                .map_err(|e| eyre::eyre!("cannot encode `{sig}`: {e}"))?
                .into()
        }
    };
    let value = match &t.value {
        None => U256::ZERO,
        Some(v) => v.parse().map_err(|_| eyre::eyre!("value `{v}` is not a number of wei"))?,
    };
    Ok(Encoded {
        label: t.label.clone(),
        from: t.from.parse().map_err(|_| eyre::eyre!("from `{}` is not an address", t.from))?,
        to: address_of(&t.to, plan)?,
        data,
        value,
        exploit: t.exploit,
    })
}
