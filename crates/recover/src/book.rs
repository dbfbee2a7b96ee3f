//! An incident's recovery, read back from its timeline: the attacker
//! addresses and their state, the fund flow, the returns, the messages, and
//! the ledger with every white hat's bounty.
//!
//! The timeline is the only record: whatever wrote an entry (the scanner of
//! new blocks, a member in the war room, the CLI), this view is computed
//! from the entries alone, so every page and report shows the same ledger.

use std::collections::BTreeMap;

use alloy_primitives::{Address, U256};
use firebreak_primitives::{
    Event,
    event::{FundsMoved, FundsReturned, MessageDraft, OnchainMessage, Transfer},
};
use serde::Serialize;

use crate::{AssetLine, MicroUsd, Rescue, Settlement, Terms, ledger, settle};

/// Where a proposed attacker address stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AttackerState {
    /// Proposed from the evidence; nobody decided yet.
    Proposed,
    /// Confirmed by a member: traced and messaged.
    Confirmed,
    /// Rejected by a member.
    Rejected,
}

/// One attacker address.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Attacker {
    /// The address.
    pub address: Address,
    /// Chain id.
    pub chain_id: u64,
    /// Why it was proposed (one reason per piece of evidence).
    pub reasons: Vec<String>,
    /// Its state.
    pub state: AttackerState,
    /// Who decided, when someone did.
    pub decided_by: Option<String>,
}

/// A drafted message and its approvals.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Draft {
    /// The draft.
    pub draft: MessageDraft,
    /// (member, role) of each approval.
    pub approvals: Vec<(String, firebreak_primitives::Role)>,
    /// Whether it was sent.
    pub sent: bool,
}

impl Draft {
    /// Roles still to approve.
    pub fn missing(&self) -> Vec<firebreak_primitives::Role> {
        self.draft
            .approvers
            .iter()
            .filter(|r| !self.approvals.iter().any(|(_, a)| a == *r))
            .copied()
            .collect()
    }
}

/// An incident's recovery as its timeline records it.
#[derive(Debug, Clone, Default, Serialize)]
pub struct RecoveryView {
    /// Attacker addresses, in the order first proposed.
    pub attackers: Vec<Attacker>,
    /// Transfers out of the protocol in the exploit (hop 0) and traced
    /// transfers (hop 1 …).
    pub moves: Vec<FundsMoved>,
    /// Transfers into the recovery address.
    pub returns: Vec<FundsReturned>,
    /// Drafted messages.
    pub drafts: Vec<Draft>,
    /// Messages sent and received on chain, in order.
    pub messages: Vec<(bool, OnchainMessage)>,
    /// Bounty payments proposed.
    pub bounties: Vec<firebreak_primitives::event::BountyProposed>,
    /// Bounty payments made (by SafeTx hash).
    pub paid: Vec<firebreak_primitives::event::BountyPaid>,
    /// The agreement's clocks (latest state of each).
    pub deadlines: BTreeMap<String, firebreak_primitives::event::RecoveryDeadline>,
}

impl RecoveryView {
    /// Reads the recovery entries of a timeline, in order.
    pub fn from_events<'e>(events: impl IntoIterator<Item = &'e Event>) -> Self {
        let mut v = Self::default();
        for e in events {
            match e {
                Event::AttackerProposed(p) => {
                    let Ok(address) = p.address.parse::<Address>() else { continue };
                    if let Some(a) = v.attackers.iter_mut().find(|a| a.address == address) {
                        if !a.reasons.contains(&p.reason) {
                            a.reasons.push(p.reason.clone());
                        }
                    } else {
                        v.attackers.push(Attacker {
                            address,
                            chain_id: p.chain_id,
                            reasons: vec![p.reason.clone()],
                            state: AttackerState::Proposed,
                            decided_by: None,
                        });
                    }
                }
                Event::AttackerConfirmed(d) | Event::AttackerRejected(d) => {
                    let Ok(address) = d.address.parse::<Address>() else { continue };
                    let state = if matches!(e, Event::AttackerConfirmed(_)) {
                        AttackerState::Confirmed
                    } else {
                        AttackerState::Rejected
                    };
                    if let Some(a) = v.attackers.iter_mut().find(|a| a.address == address) {
                        a.state = state;
                        a.decided_by = Some(d.member.clone());
                    } else {
                        // confirmed by hand without a proposal
                        v.attackers.push(Attacker {
                            address,
                            chain_id: 0,
                            reasons: vec![format!("named by {}", d.member)],
                            state,
                            decided_by: Some(d.member.clone()),
                        });
                    }
                }
                Event::FundsMoved(m) => v.moves.push(m.clone()),
                Event::FundsReturned(r) => v.returns.push(r.clone()),
                Event::WhitehatMessageDrafted(d) => {
                    v.drafts.push(Draft { draft: d.clone(), approvals: Vec::new(), sent: false });
                }
                Event::WhitehatMessageApproved(a) => {
                    if let Some(d) = v.drafts.iter_mut().find(|d| d.draft.draft == a.draft) {
                        d.approvals.push((a.member.clone(), a.role));
                    }
                }
                Event::WhitehatMessageSent(m) => {
                    if let Some(d) = v.drafts.iter_mut().find(|d| Some(d.draft.draft) == m.draft) {
                        d.sent = true;
                    }
                    v.messages.push((true, m.clone()));
                }
                Event::WhitehatMessageReceived(m) => v.messages.push((false, m.clone())),
                Event::BountyProposed(b) => v.bounties.push(b.clone()),
                Event::BountyPaid(b) => v.paid.push(b.clone()),
                Event::RecoveryDeadline(d) => {
                    v.deadlines.insert(d.clock.clone(), d.clone());
                }
                _ => {}
            }
        }
        v
    }

    /// Proposed bounties not paid yet.
    pub fn unpaid(&self) -> Vec<&firebreak_primitives::event::BountyProposed> {
        self.bounties
            .iter()
            .filter(|b| !self.paid.iter().any(|p| p.safe_tx_hash == b.safe_tx_hash))
            .collect()
    }

    /// The confirmed attacker addresses.
    pub fn confirmed(&self) -> Vec<Address> {
        self.attackers
            .iter()
            .filter(|a| a.state == AttackerState::Confirmed)
            .map(|a| a.address)
            .collect()
    }

    /// Whether a transfer (by transaction and log) is recorded already.
    pub fn has_move(&self, t: &Transfer) -> bool {
        self.moves.iter().any(|m| same(&m.transfer, t))
    }

    /// Whether a return (by transaction and log) is recorded already.
    pub fn has_return(&self, t: &Transfer) -> bool {
        self.returns.iter().any(|r| same(&r.transfer, t))
    }

    /// The ledger under `terms`.
    pub fn ledger(&self, terms: &Terms) -> Ledger {
        let rescues = self.rescues(terms);
        let mut lost: BTreeMap<String, U256> = BTreeMap::new();
        for m in self.moves.iter().filter(|m| m.hop == 0) {
            let e = lost.entry(m.transfer.asset.clone()).or_default();
            *e = e.saturating_add(amount(&m.transfer));
        }
        let mut decimals = BTreeMap::new();
        for t in
            self.moves.iter().map(|m| &m.transfer).chain(self.returns.iter().map(|r| &r.transfer))
        {
            decimals.insert(t.asset.clone(), t.decimals);
        }
        Ledger {
            terms: *terms,
            assets: ledger(&lost, &rescues),
            settlement: settle(terms, &rescues),
            decimals,
            unpriced: self.returns.iter().filter(|r| r.price_micro_usd.is_none()).count(),
        }
    }

    /// Every return as a rescue; under retainable terms, what each white hat
    /// took from the protocol in the exploit and has not returned counts as
    /// kept, priced as its latest return of that asset.
    pub fn rescues(&self, terms: &Terms) -> Vec<Rescue> {
        let mut out = Vec::new();
        let mut returned: BTreeMap<(Address, String), (U256, u8, MicroUsd)> = BTreeMap::new();
        for r in &self.returns {
            let Ok(whitehat) = r.transfer.from.parse::<Address>() else { continue };
            let price = r.price_micro_usd.as_deref().and_then(|p| p.parse().ok()).unwrap_or(0);
            let a = amount(&r.transfer);
            out.push(Rescue::returned(whitehat, &r.transfer.asset, a, r.transfer.decimals, price));
            let e = returned.entry((whitehat, r.transfer.asset.clone())).or_insert((
                U256::ZERO,
                r.transfer.decimals,
                price,
            ));
            e.0 = e.0.saturating_add(a);
            e.2 = price;
        }
        if terms.retainable {
            for ((whitehat, asset), (back, decimals, price)) in returned {
                let taken: U256 = self
                    .moves
                    .iter()
                    .filter(|m| m.hop == 0 && m.transfer.asset == asset)
                    .filter(|m| m.transfer.to.parse::<Address>().is_ok_and(|t| t == whitehat))
                    .map(|m| amount(&m.transfer))
                    .fold(U256::ZERO, U256::saturating_add);
                let kept = taken.saturating_sub(back);
                if !kept.is_zero() {
                    out.push(Rescue::retained(whitehat, &asset, kept, decimals, price));
                }
            }
        }
        out
    }
}

fn same(a: &Transfer, b: &Transfer) -> bool {
    a.chain_id == b.chain_id
        && a.tx_hash.eq_ignore_ascii_case(&b.tx_hash)
        && a.log_index == b.log_index
        && a.to.eq_ignore_ascii_case(&b.to)
}

/// A transfer's amount in base units.
pub fn amount(t: &Transfer) -> U256 {
    t.amount.parse().unwrap_or_default()
}

/// The recovery ledger.
#[derive(Debug, Clone, Serialize)]
pub struct Ledger {
    /// The terms applied.
    pub terms: Terms,
    /// Per asset: lost, returned, kept, missing, net loss.
    pub assets: Vec<AssetLine>,
    /// The bounties.
    pub settlement: Settlement,
    /// Decimals per asset, for display.
    pub decimals: BTreeMap<String, u8>,
    /// Returns without a price (valued at 0 until priced).
    pub unpriced: usize,
}

/// Base units as a decimal number of whole units (`1234500000`, 6 → `1234.5`).
pub fn whole(amount: U256, decimals: u8) -> String {
    let scale = U256::from(10u8).pow(U256::from(decimals));
    let int = amount / scale;
    let frac = amount % scale;
    if frac.is_zero() {
        return int.to_string();
    }
    let frac = format!("{:0>width$}", frac.to_string(), width = usize::from(decimals));
    format!("{int}.{}", frac.trim_end_matches('0'))
}

/// Micro-dollars as dollars with cents (`1234560000` → `1,234.56`).
pub fn dollars(m: MicroUsd) -> String {
    let cents = m / 10_000;
    let int = (cents / 100).to_string();
    let mut grouped = String::new();
    for (i, c) in int.chars().enumerate() {
        if i > 0 && (int.len() - i).is_multiple_of(3) {
            grouped.push(',');
        }
        grouped.push(c);
    }
    format!("{grouped}.{:02}", cents % 100)
}

impl Ledger {
    /// The ledger as plain text (CLI and reports).
    pub fn text(&self) -> String {
        use std::fmt::Write as _;
        let mut out = String::new();
        let _ = writeln!(
            out,
            "{:<10} {:>18} {:>18} {:>18} {:>18}",
            "asset", "lost", "returned", "kept as bounty", "net loss"
        );
        for a in &self.assets {
            let d = self.decimals.get(&a.asset).copied().unwrap_or(18);
            let _ = writeln!(
                out,
                "{:<10} {:>18} {:>18} {:>18} {:>18}",
                a.asset,
                whole(a.lost, d),
                whole(a.returned, d),
                whole(a.retained, d),
                whole(a.net_loss, d)
            );
        }
        for w in &self.settlement.whitehats {
            let _ = writeln!(
                out,
                "white hat {}: returned ${}, kept ${}, bounty ${}{}",
                w.whitehat,
                dollars(w.returned),
                dollars(w.retained),
                dollars(w.bounty),
                if w.excess > 0 {
                    format!(", KEPT ${} BEYOND ITS BOUNTY", dollars(w.excess))
                } else if w.owed > 0 {
                    format!(", owed ${}", dollars(w.owed))
                } else {
                    ", settled".to_owned()
                }
            );
        }
        if let Some((num, den)) = self.settlement.pro_rata {
            let _ = writeln!(
                out,
                "aggregate cap binds: every bounty scaled by ${} / ${}",
                dollars(num),
                dollars(den)
            );
        }
        if self.unpriced > 0 {
            let _ = writeln!(
                out,
                "{} return(s) have no price: add it under [recovery.prices]",
                self.unpriced
            );
        }
        out
    }
}
