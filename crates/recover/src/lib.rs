//! Fund recovery under SEAL Safe Harbor: the terms in force, and the bounty
//! arithmetic of the recovery ledger.
//!
//! SEAL's terms, as this crate applies them:
//! - A white hat's bounty is the agreed percentage of the USD value of what
//!   it rescued (returned to the recovery address, plus what it kept when
//!   the terms are `retainable`), priced at the block before the rescue.
//! - The bounty is capped per white hat (`bounty_cap_usd`).
//! - When the bounties together exceed the aggregate cap, each one shrinks
//!   pro rata. SEAL does not allow an aggregate cap with retainable terms,
//!   and `firebreak check` refuses that plan.
//! - Under retainable terms the white hat keeps its bounty. The ledger
//!   checks what it kept against what the terms allow: an excess is flagged,
//!   a shortfall is owed. Otherwise the protocol pays the bounty after the
//!   return.
//!
//! Amounts are exact: micro-dollars (`u128`) and token base units (`U256`).
//! Every division rounds down, in the protocol's favour by less than one
//! micro-dollar.
//!
//! # Example
//! ```
//! use alloy_primitives::{Address, U256};
//! use firebreak_recover::{Rescue, Terms, settle, usd};
//! let terms = Terms { bounty_bps: 1_000, cap_usd: 1_000_000, aggregate_cap_usd: None, retainable: true };
//! // 1,000,000 USDC rescued: 900,000 returned, 100,000 kept
//! let one = Rescue::returned(Address::repeat_byte(1), "usdc", U256::from(900_000_000_000u64), 6, usd(1));
//! let kept = Rescue::retained(Address::repeat_byte(1), "usdc", U256::from(100_000_000_000u64), 6, usd(1));
//! let s = settle(&terms, &[one, kept]);
//! assert_eq!(s.whitehats[0].bounty, usd(100_000));
//! assert!(s.whitehats[0].satisfied());
//! ```
#![cfg_attr(not(test), warn(unused_crate_dependencies))]

use std::collections::BTreeMap;

use alloy_primitives::{Address, U256};
use serde::Serialize;

pub mod agreement;
pub mod book;
pub mod graph;
pub mod trace;

/// Basis points as a percentage with two decimals (`1250` → `"12.50"`).
pub fn percent(bps: u32) -> String {
    format!("{}.{:02}", bps / 100, bps % 100)
}

/// Base units as a decimal string in JSON (scripts read `"1000000"`, not
/// `"0xf4240"`).
fn decimal<S: serde::Serializer>(v: &U256, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&v.to_string())
}

/// Micro-dollars (1 USD = 1,000,000).
pub type MicroUsd = u128;

/// `n` whole dollars in micro-dollars.
pub const fn usd(n: u64) -> MicroUsd {
    n as u128 * 1_000_000
}

/// The bounty terms in force.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Terms {
    /// Bounty share in basis points (10 % = 1,000).
    pub bounty_bps: u32,
    /// Cap per white hat, whole USD.
    pub cap_usd: u64,
    /// Cap on all bounties of the incident, whole USD.
    pub aggregate_cap_usd: Option<u64>,
    /// Whether the white hat keeps its bounty from what it rescued.
    pub retainable: bool,
}

impl From<&firebreak_plan::SafeHarbor> for Terms {
    fn from(sh: &firebreak_plan::SafeHarbor) -> Self {
        Self {
            bounty_bps: sh.bounty_bps,
            cap_usd: sh.bounty_cap_usd,
            aggregate_cap_usd: sh.aggregate_cap_usd,
            retainable: sh.retainable,
        }
    }
}

impl Terms {
    /// The terms a timeline recorded when its incident opened.
    pub fn from_entry(t: &firebreak_primitives::event::SafeHarborTerms) -> Option<Self> {
        let (int, frac) = t.bounty_percent.split_once('.').unwrap_or((&t.bounty_percent, "0"));
        let frac = format!("{frac:0<2}");
        let bps =
            int.parse::<u32>().ok()?.checked_mul(100)?.checked_add(frac.get(..2)?.parse().ok()?)?;
        Some(Self {
            bounty_bps: bps,
            cap_usd: t.bounty_cap_usd,
            aggregate_cap_usd: t.aggregate_cap_usd,
            retainable: t.retainable,
        })
    }
}

/// The terms as the timeline records them when an incident opens.
pub fn terms_entry(sh: &firebreak_plan::SafeHarbor) -> firebreak_primitives::Event {
    use firebreak_primitives::event::{SafeHarborChainTerms, SafeHarborTerms};
    let scope = |s: firebreak_plan::ChildContractScope| match s {
        firebreak_plan::ChildContractScope::None => "none",
        firebreak_plan::ChildContractScope::ExistingOnly => "existing_only",
        firebreak_plan::ChildContractScope::All => "all",
        firebreak_plan::ChildContractScope::FutureOnly => "future_only",
    };
    let identity = match sh.identity {
        firebreak_plan::IdentityRequirement::Anonymous => "anonymous",
        firebreak_plan::IdentityRequirement::Pseudonymous => "pseudonymous",
        firebreak_plan::IdentityRequirement::Named => "named",
    };
    firebreak_primitives::Event::SafeHarborTerms(SafeHarborTerms {
        agreement_uri: sh.agreement_uri.clone(),
        bounty_percent: percent(sh.bounty_bps),
        bounty_cap_usd: sh.bounty_cap_usd,
        aggregate_cap_usd: sh.aggregate_cap_usd,
        retainable: sh.retainable,
        identity: identity.to_owned(),
        diligence: sh.diligence.clone(),
        chains: sh
            .chains
            .iter()
            .map(|c| SafeHarborChainTerms {
                caip2: c.caip2.clone(),
                recovery: c.recovery.to_string(),
                accounts: c.accounts.iter().map(ToString::to_string).collect(),
                child_contract_scope: scope(c.child_contract_scope).to_owned(),
            })
            .collect(),
        contacts: sh.contacts.iter().map(|c| format!("{}: {}", c.name, c.contact)).collect(),
    })
}

/// What happened to rescued funds: sent to the recovery address, or kept by
/// the white hat as its bounty.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Fate {
    /// Sent to the recovery address.
    Returned,
    /// Kept by the white hat (retainable terms).
    Retained,
}

/// One transfer of rescued funds, priced at the block before the rescue.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Rescue {
    /// The white hat.
    pub whitehat: Address,
    /// The asset (the plan's token key, or `ETH`).
    pub asset: String,
    /// Amount in the asset's base units.
    #[serde(serialize_with = "decimal")]
    pub amount: U256,
    /// The asset's decimals.
    pub decimals: u8,
    /// Price of one whole unit, micro-dollars.
    pub price: MicroUsd,
    /// Returned or kept.
    pub fate: Fate,
}

impl Rescue {
    /// Funds returned to the recovery address.
    pub fn returned(
        whitehat: Address,
        asset: &str,
        amount: U256,
        decimals: u8,
        price: MicroUsd,
    ) -> Self {
        Self { whitehat, asset: asset.into(), amount, decimals, price, fate: Fate::Returned }
    }

    /// Funds the white hat kept as its bounty.
    pub fn retained(
        whitehat: Address,
        asset: &str,
        amount: U256,
        decimals: u8,
        price: MicroUsd,
    ) -> Self {
        Self { whitehat, asset: asset.into(), amount, decimals, price, fate: Fate::Retained }
    }

    /// Its value in micro-dollars (saturating: no real amount comes near).
    pub fn value(&self) -> MicroUsd {
        let scale = U256::from(10u8).pow(U256::from(self.decimals));
        let v = self.amount.saturating_mul(U256::from(self.price)) / scale;
        u128::try_from(v).unwrap_or(u128::MAX)
    }
}

/// One white hat's bounty.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct WhitehatBounty {
    /// The white hat.
    pub whitehat: Address,
    /// Value it returned.
    pub returned: MicroUsd,
    /// Value it kept.
    pub retained: MicroUsd,
    /// The percentage of what it rescued (returned + kept).
    pub uncapped: MicroUsd,
    /// After the per-white-hat cap.
    pub capped: MicroUsd,
    /// After the aggregate cap: the bounty.
    pub bounty: MicroUsd,
    /// What the protocol still owes it (bounty minus what it kept).
    pub owed: MicroUsd,
    /// What it kept beyond its bounty (to be returned, or disputed).
    pub excess: MicroUsd,
}

impl WhitehatBounty {
    /// Whether what it kept matches its bounty, or no bounty is owed
    /// beyond what the protocol pays.
    pub fn satisfied(&self) -> bool {
        self.excess == 0 && (self.owed == 0 || self.retained == 0)
    }
}

/// The bounties of an incident.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Settlement {
    /// Each white hat, in address order.
    pub whitehats: Vec<WhitehatBounty>,
    /// All bounties together.
    pub total: MicroUsd,
    /// The factor every bounty was scaled by under the aggregate cap, as
    /// (numerator, denominator); `None` when the cap did not bind.
    pub pro_rata: Option<(MicroUsd, MicroUsd)>,
}

/// Applies the terms to every rescue of an incident.
pub fn settle(terms: &Terms, rescues: &[Rescue]) -> Settlement {
    let mut by: BTreeMap<Address, (MicroUsd, MicroUsd)> = BTreeMap::new();
    for r in rescues {
        let e = by.entry(r.whitehat).or_default();
        match r.fate {
            Fate::Returned => e.0 = e.0.saturating_add(r.value()),
            Fate::Retained => e.1 = e.1.saturating_add(r.value()),
        }
    }
    let cap = usd(terms.cap_usd);
    let mut whitehats: Vec<WhitehatBounty> = by
        .into_iter()
        .map(|(whitehat, (returned, retained))| {
            let rescued = returned.saturating_add(retained);
            let uncapped = rescued.saturating_mul(u128::from(terms.bounty_bps)) / 10_000;
            let capped = uncapped.min(cap);
            WhitehatBounty {
                whitehat,
                returned,
                retained,
                uncapped,
                capped,
                bounty: capped,
                owed: 0,
                excess: 0,
            }
        })
        .collect();
    let sum: MicroUsd = whitehats.iter().map(|w| w.capped).sum();
    let pro_rata = terms.aggregate_cap_usd.map(usd).filter(|agg| sum > *agg).map(|agg| (agg, sum));
    for w in &mut whitehats {
        if let Some((num, den)) = pro_rata {
            w.bounty = w.capped.saturating_mul(num) / den;
        }
        w.owed = w.bounty.saturating_sub(w.retained);
        w.excess = w.retained.saturating_sub(w.bounty);
    }
    let total = whitehats.iter().map(|w| w.bounty).sum();
    Settlement { whitehats, total, pro_rata }
}

/// One asset of the ledger.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AssetLine {
    /// The asset.
    pub asset: String,
    /// Lost in the exploit, base units.
    #[serde(serialize_with = "decimal")]
    pub lost: U256,
    /// Returned to the recovery address.
    #[serde(serialize_with = "decimal")]
    pub returned: U256,
    /// Kept by white hats as their bounty.
    #[serde(serialize_with = "decimal")]
    pub retained: U256,
    /// Still missing: lost minus returned minus kept (never below zero).
    #[serde(serialize_with = "decimal")]
    pub missing: U256,
    /// The protocol's loss: lost minus returned.
    #[serde(serialize_with = "decimal")]
    pub net_loss: U256,
}

/// Per asset: lost, returned, kept as bounty, missing and net loss.
pub fn ledger(lost: &BTreeMap<String, U256>, rescues: &[Rescue]) -> Vec<AssetLine> {
    let mut lines: BTreeMap<String, AssetLine> = lost
        .iter()
        .map(|(asset, lost)| {
            (
                asset.clone(),
                AssetLine {
                    asset: asset.clone(),
                    lost: *lost,
                    returned: U256::ZERO,
                    retained: U256::ZERO,
                    missing: U256::ZERO,
                    net_loss: U256::ZERO,
                },
            )
        })
        .collect();
    for r in rescues {
        let line = lines.entry(r.asset.clone()).or_insert_with(|| AssetLine {
            asset: r.asset.clone(),
            lost: U256::ZERO,
            returned: U256::ZERO,
            retained: U256::ZERO,
            missing: U256::ZERO,
            net_loss: U256::ZERO,
        });
        match r.fate {
            Fate::Returned => line.returned = line.returned.saturating_add(r.amount),
            Fate::Retained => line.retained = line.retained.saturating_add(r.amount),
        }
    }
    for line in lines.values_mut() {
        line.missing = line.lost.saturating_sub(line.returned).saturating_sub(line.retained);
        line.net_loss = line.lost.saturating_sub(line.returned);
    }
    lines.into_values().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const USDC: u8 = 6;

    fn units(whole: u64) -> U256 {
        U256::from(whole) * U256::from(1_000_000u64)
    }

    fn hat(n: u8) -> Address {
        Address::repeat_byte(n)
    }

    fn terms(cap: u64, aggregate: Option<u64>, retainable: bool) -> Terms {
        Terms { bounty_bps: 1_000, cap_usd: cap, aggregate_cap_usd: aggregate, retainable }
    }

    #[test]
    fn the_terms_read_back_from_the_timeline_entry() {
        let sh = firebreak_primitives::event::SafeHarborTerms {
            agreement_uri: None,
            bounty_percent: "12.50".into(),
            bounty_cap_usd: 2_000_000,
            aggregate_cap_usd: Some(5_000_000),
            retainable: false,
            identity: "named".into(),
            diligence: None,
            chains: Vec::new(),
            contacts: Vec::new(),
        };
        let t = Terms::from_entry(&sh).unwrap();
        assert_eq!(
            t,
            Terms {
                bounty_bps: 1_250,
                cap_usd: 2_000_000,
                aggregate_cap_usd: Some(5_000_000),
                retainable: false
            }
        );
        assert_eq!(percent(t.bounty_bps), "12.50");
    }

    #[test]
    fn returning_ninety_percent_and_keeping_ten_under_retainable_terms_balances() {
        let t = terms(1_000_000, None, true);
        let rescues = [
            Rescue::returned(hat(1), "usdc", units(900_000), USDC, usd(1)),
            Rescue::retained(hat(1), "usdc", units(100_000), USDC, usd(1)),
        ];
        let s = settle(&t, &rescues);
        let w = &s.whitehats[0];
        assert_eq!((w.returned, w.retained), (usd(900_000), usd(100_000)));
        assert_eq!(w.bounty, usd(100_000), "10 % of the 1,000,000 rescued");
        assert_eq!((w.owed, w.excess), (0, 0));
        assert!(w.satisfied());
        let lost = BTreeMap::from([("usdc".to_owned(), units(1_000_000))]);
        let l = &ledger(&lost, &rescues)[0];
        assert_eq!(l.returned + l.retained + l.missing, l.lost, "balanced");
        assert_eq!(l.missing, U256::ZERO);
        assert_eq!(l.net_loss, units(100_000), "the bounty is the protocol's loss");
    }

    #[test]
    fn keeping_more_than_the_terms_allow_is_flagged() {
        let t = terms(1_000_000, None, true);
        let rescues = [
            Rescue::returned(hat(1), "usdc", units(850_000), USDC, usd(1)),
            Rescue::retained(hat(1), "usdc", units(150_000), USDC, usd(1)),
        ];
        let w = &settle(&t, &rescues).whitehats[0];
        assert_eq!(w.excess, usd(50_000));
        assert!(!w.satisfied());
    }

    #[test]
    fn two_installments_from_one_white_hat_are_one_bounty() {
        let t = terms(1_000_000, None, false);
        let rescues = [
            Rescue::returned(hat(1), "usdc", units(300_000), USDC, usd(1)),
            // the second installment in ETH at 2,500 USD
            Rescue::returned(
                hat(1),
                "ETH",
                U256::from(200u64) * U256::from(10u64).pow(U256::from(18u8)),
                18,
                usd(2_500),
            ),
        ];
        let s = settle(&t, &rescues);
        assert_eq!(s.whitehats.len(), 1);
        assert_eq!(s.whitehats[0].returned, usd(800_000));
        assert_eq!(s.whitehats[0].bounty, usd(80_000));
        assert_eq!(s.whitehats[0].owed, usd(80_000), "paid by the protocol");
    }

    #[test]
    fn the_per_white_hat_cap_binds() {
        let t = terms(500_000, None, false);
        let s = settle(&t, &[Rescue::returned(hat(1), "usdc", units(10_000_000), USDC, usd(1))]);
        assert_eq!(s.whitehats[0].uncapped, usd(1_000_000));
        assert_eq!(s.whitehats[0].bounty, usd(500_000));
    }

    #[test]
    fn above_the_aggregate_cap_every_bounty_shrinks_pro_rata() {
        // two white hats, 3,000,000 and 1,000,000 returned: 300,000 + 100,000
        // of bounty against a 200,000 aggregate cap
        let t = terms(1_000_000, Some(200_000), false);
        let s = settle(
            &t,
            &[
                Rescue::returned(hat(1), "usdc", units(3_000_000), USDC, usd(1)),
                Rescue::returned(hat(2), "usdc", units(1_000_000), USDC, usd(1)),
            ],
        );
        assert_eq!(s.pro_rata, Some((usd(200_000), usd(400_000))));
        assert_eq!(s.whitehats[0].bounty, usd(150_000));
        assert_eq!(s.whitehats[1].bounty, usd(50_000));
        assert_eq!(s.total, usd(200_000));
    }

    #[test]
    fn an_aggregate_cap_that_is_not_reached_changes_nothing() {
        let t = terms(1_000_000, Some(3_000_000), false);
        let s = settle(&t, &[Rescue::returned(hat(1), "usdc", units(1_000_000), USDC, usd(1))]);
        assert_eq!((s.pro_rata, s.total), (None, usd(100_000)));
    }

    #[test]
    fn prices_are_exact_to_the_micro_dollar() {
        // 1.5 tokens of 18 decimals at 1,234.567891 USD
        let amount = U256::from(15u64) * U256::from(10u64).pow(U256::from(17u8));
        let r = Rescue::returned(hat(1), "weth", amount, 18, 1_234_567_891);
        assert_eq!(r.value(), 1_851_851_836);
    }
}
