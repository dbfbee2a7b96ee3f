//! EIP-1559 fee policy: what to offer first and how to outbid a stuck
//! transaction.

use firebreak_primitives::Severity;

const GWEI: u128 = 1_000_000_000;

/// How much a pause pays for inclusion.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FeePolicy {
    /// The node's suggested priority fee is multiplied by this (percent).
    pub tip_multiplier_pct: u128,
    /// Lowest priority fee offered, in wei.
    pub min_tip: u128,
    /// Each replacement raises both fees by at least this (percent; nodes
    /// require 10 %, we use at least 12.5 %).
    pub bump_pct: u128,
    /// `maxFeePerGas` = base fee × this + tip.
    pub base_fee_multiplier: u128,
    /// Highest `maxFeePerGas` ever offered, in wei (`None`: no cap).
    pub max_fee_cap: Option<u128>,
    /// Fees of a pending transaction the pause must be mined ahead of
    /// (`(max_fee, tip)` of the attack a pre-emptive monitor saw): every
    /// offer pays more than twice both (and at least 1 gwei more tip).
    pub outbid: Option<(u128, u128)>,
}

impl FeePolicy {
    /// Aggressive for P1 (3× the suggested tip, at least 2 gwei, +25 % per
    /// replacement); moderate otherwise (1.2×, at least 1 gwei, +12.5 %).
    pub const fn for_severity(severity: Severity) -> Self {
        if matches!(severity, Severity::P1) {
            Self {
                tip_multiplier_pct: 300,
                min_tip: 2 * GWEI,
                bump_pct: 25,
                base_fee_multiplier: 3,
                max_fee_cap: None,
                outbid: None,
            }
        } else {
            Self {
                tip_multiplier_pct: 120,
                min_tip: GWEI,
                bump_pct: 13,
                base_fee_multiplier: 2,
                max_fee_cap: None,
                outbid: None,
            }
        }
    }

    /// This policy, outbidding a pending transaction with these fees too
    /// (the highest of every attack seen is kept).
    #[must_use]
    pub fn outbidding(mut self, max_fee: u128, tip: u128) -> Self {
        let (m, t) = self.outbid.unwrap_or_default();
        self.outbid = Some((m.max(max_fee), t.max(tip)));
        self
    }

    /// The least `(max_fee, tip)` that outbids the pending transaction of
    /// [`FeePolicy::outbid`]: more than twice its fees, so that ordering by
    /// tip (builders) or by fee cap (a node's pool) both put the pause first.
    pub fn outbid_floor(&self) -> Option<(u128, u128)> {
        self.outbid.map(|(max_fee, tip)| {
            let tip = tip.saturating_mul(2).saturating_add(GWEI);
            (max_fee.saturating_mul(2).saturating_add(tip), tip)
        })
    }

    /// First offer: `(max_fee, tip)`.
    pub fn initial(&self, base_fee: u128, suggested_tip: u128) -> (u128, u128) {
        let (floor_fee, floor_tip) = self.outbid_floor().unwrap_or_default();
        let tip = (suggested_tip.saturating_mul(self.tip_multiplier_pct) / 100)
            .max(self.min_tip)
            .max(floor_tip);
        self.capped(
            base_fee.saturating_mul(self.base_fee_multiplier).saturating_add(tip).max(floor_fee),
            tip,
        )
    }

    /// Whether an offer already in flight pays less than the outbid floor
    /// (the attacker raised its fees): it is replaced at once.
    pub fn outbid_by(&self, offered: (u128, u128)) -> bool {
        self.outbid_floor().is_some_and(|(fee, tip)| offered.0 < fee || offered.1 < tip)
            && self.max_fee_cap.is_none_or(|cap| offered.0 < cap)
    }

    /// Replacement of `(max_fee, tip)`: both raised by at least `bump_pct`
    /// (and at least 12.5 %), and never below a fresh offer.
    pub fn bump(
        &self,
        previous: (u128, u128),
        base_fee: u128,
        suggested_tip: u128,
    ) -> (u128, u128) {
        let pct = self.bump_pct.max(13);
        let raise = |v: u128| v.saturating_mul(100 + pct).div_ceil(100).max(v.saturating_add(1));
        let fresh = self.initial(base_fee, suggested_tip);
        let tip = raise(previous.1).max(fresh.1);
        let max_fee = raise(previous.0).max(fresh.0).max(tip);
        // a cap never stops a replacement from being valid
        (max_fee, tip)
    }

    fn capped(&self, max_fee: u128, tip: u128) -> (u128, u128) {
        match self.max_fee_cap {
            Some(cap) if max_fee > cap => (cap.max(tip), tip.min(cap)),
            _ => (max_fee, tip),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn p1_is_aggressive_and_replacements_raise_both_fees_by_at_least_an_eighth() {
        let p1 = FeePolicy::for_severity(Severity::P1);
        let (max, tip) = p1.initial(10 * GWEI, GWEI);
        assert_eq!((max, tip), (33 * GWEI, 3 * GWEI));
        let low = FeePolicy::for_severity(Severity::P3);
        assert_eq!(low.initial(10 * GWEI, 0), (21 * GWEI, GWEI));
        for policy in [p1, low] {
            let mut fees = policy.initial(GWEI, GWEI);
            for _ in 0..20 {
                let next = policy.bump(fees, GWEI, GWEI);
                assert!(next.0 * 1000 >= fees.0 * 1125, "max fee {next:?} vs {fees:?}");
                assert!(next.1 * 1000 >= fees.1 * 1125, "tip {next:?} vs {fees:?}");
                assert!(next.0 >= next.1);
                fees = next;
            }
        }
        // a base fee jump is followed even when the bump alone is smaller
        let jumped = low.bump((2 * GWEI, GWEI), 100 * GWEI, GWEI);
        assert!(jumped.0 >= 200 * GWEI);
    }

    #[test]
    fn a_pre_emptive_pause_pays_more_than_twice_the_attacks_fees_and_follows_a_raise() {
        let p1 = FeePolicy::for_severity(Severity::P1).outbidding(50 * GWEI, 10 * GWEI);
        let (max, tip) = p1.initial(GWEI, GWEI);
        assert_eq!(tip, 21 * GWEI, "2 × 10 gwei + 1 gwei");
        assert_eq!(max, 121 * GWEI, "2 × 50 gwei + the tip");
        assert!(!p1.outbid_by((max, tip)));
        // the attacker replaces its transaction with higher fees
        let raised = p1.outbidding(80 * GWEI, 30 * GWEI);
        assert!(raised.outbid_by((max, tip)), "the pause in flight is outbid");
        let next = raised.bump((max, tip), GWEI, GWEI);
        assert!(!raised.outbid_by(next), "{next:?}");
        // a lower bid later never lowers the floor
        assert_eq!(raised.outbidding(GWEI, GWEI).outbid, Some((80 * GWEI, 30 * GWEI)));
        // a capped policy cannot outbid above its cap, and does not try
        let capped = FeePolicy { max_fee_cap: Some(40 * GWEI), ..p1 };
        assert_eq!(capped.initial(GWEI, GWEI).0, 40 * GWEI);
        assert!(!capped.outbid_by((40 * GWEI, 21 * GWEI)));
        // without an attack to outbid nothing changes
        let plain = FeePolicy::for_severity(Severity::P1);
        assert_eq!(plain.initial(GWEI, GWEI), (6 * GWEI, 3 * GWEI));
        assert!(!plain.outbid_by((0, 0)));
    }
}
