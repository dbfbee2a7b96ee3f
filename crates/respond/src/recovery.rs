//! Fund recovery during an incident: attacker addresses proposed from the
//! evidence and decided by members, funds traced and returns attributed
//! block by block, on-chain messages drafted, approved and sent, bounty
//! payments proposed as SafeTxs, and the agreement's clocks.
//!
//! Everything is recorded on the incident's timeline; the recovery page,
//! the CLI and the post-mortem read it back with
//! [`firebreak_recover::book::RecoveryView`].

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use alloy::{
    consensus::{SignableTransaction as _, TxEip1559, TxEnvelope},
    eips::Encodable2718 as _,
    network::TxSignerSync as _,
    primitives::{Address, B256, Bytes, TxKind, U256},
    providers::Provider as _,
    rpc::types::TransactionRequest,
};
use alloy_sol_types::SolCall as _;
use firebreak_plan::{Plan, Price};
use firebreak_primitives::{Actor, BlockData, Event, IncidentId, Role, Severity, event, now_ms};
use firebreak_recover::{
    MicroUsd, Terms,
    book::{AttackerState, RecoveryView},
    trace::{Asset, Found, Watch, erc20_transfer},
};
use firebreak_safe::SafeTx;
use firebreak_store::IncidentStore;
use tokio::sync::Mutex;

use crate::{
    ChainLink,
    error::{Error, Result},
};

alloy_sol_types::sol! {
    function decimals() external view returns (uint8);
    function transfer(address to, uint256 amount) external returns (bool);
    function latestRoundData() external view returns (uint80 roundId, int256 answer, uint256 startedAt, uint256 updatedAt, uint80 answeredInRound);
}

/// The agreement's clocks, from SEAL Safe Harbor.
pub const CLOCKS: [(&str, u64, &str); 2] = [
    (
        "return",
        6 * 3_600_000,
        "white hats return rescued funds within 6 hours of the rescue where possible",
    ),
    (
        "return_retrospective",
        72 * 3_600_000,
        "retrospective and arbitrage white hats return within 72 hours",
    ),
];
/// Days the protocol has to pay a bounty, and a white hat to dispute one.
pub const PAYMENT_DAYS: u64 = 15;

/// What one scan found and recorded.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Scanned {
    /// Blocks read.
    pub blocks: u64,
    /// Traced transfers recorded.
    pub moved: usize,
    /// Of which reached a bridge, mixer, exchange or sanctioned address.
    pub exits: usize,
    /// Returns recorded.
    pub returned: usize,
    /// Incoming messages recorded.
    pub messages: usize,
}

/// Recovery for the incidents of one plan.
#[derive(Debug)]
pub struct Recovery {
    plan: Arc<Plan>,
    store: Arc<dyn IncidentStore>,
    links: BTreeMap<String, ChainLink>,
    decimals: Mutex<BTreeMap<(u64, Address), u8>>,
}

fn refused(what: impl Into<String>, fix: impl Into<String>) -> Error {
    Error::Refused { what: what.into(), fix: fix.into() }
}

impl Recovery {
    /// Recovery over already connected chain links (by plan chain key).
    pub fn new(
        plan: Arc<Plan>,
        store: Arc<dyn IncidentStore>,
        links: BTreeMap<String, ChainLink>,
    ) -> Self {
        Self { plan, store, links, decimals: Mutex::new(BTreeMap::new()) }
    }

    /// Connects to every chain of the plan.
    ///
    /// # Errors
    /// When a chain has no endpoint that answers.
    pub async fn connect(plan: Arc<Plan>, store: Arc<dyn IncidentStore>) -> Result<Self> {
        let mut links = BTreeMap::new();
        for key in plan.chains.keys() {
            links.insert(key.clone(), crate::connect_link(&plan, key).await?);
        }
        Ok(Self::new(plan, store, links))
    }

    fn link_of(&self, chain_id: u64) -> Option<(&str, &ChainLink)> {
        let key = self.plan.chains.iter().find(|(_, c)| c.id == chain_id)?.0;
        Some((key.as_str(), self.links.get(key)?))
    }

    /// The incident's recovery as recorded.
    ///
    /// # Errors
    /// When the store fails.
    pub async fn view(&self, id: IncidentId) -> Result<RecoveryView> {
        let t = self.store.timeline(id).await?;
        Ok(RecoveryView::from_events(t.iter().map(|e| &e.event)))
    }

    async fn append(&self, id: IncidentId, actor: Actor, event: Event) -> Result<()> {
        self.store.append(id, actor, event).await?;
        Ok(())
    }

    /// Proposes attacker addresses from the incident's alert transactions:
    /// the sender, a contract the transaction created or called (not the
    /// protocol's), and receivers of tokens that left protocol contracts.
    /// Those transfers are recorded as what was lost (hop 0). Idempotent.
    ///
    /// # Errors
    /// When the chain or the store fails.
    pub async fn propose(&self, id: IncidentId) -> Result<usize> {
        let view = self.view(id).await?;
        let alerts = self.store.incident_alerts(id).await?;
        let mut seen: BTreeSet<(u64, B256)> = BTreeSet::new();
        let mut proposed = 0;
        for alert in alerts {
            let Some(hash) = alert.tx_hash else { continue };
            if !seen.insert((alert.chain_id, hash)) {
                continue;
            }
            let Some((key, link)) = self.link_of(alert.chain_id) else { continue };
            let protocol = self.protocol(key);
            let block =
                firebreak_chain::fetch_block(link.primary(), alert.chain_id, alert.block_number)
                    .await?;
            let Some(tx) = block.txs.iter().find(|t| t.hash == hash) else { continue };
            let mut proposals: Vec<(Address, String)> =
                vec![(tx.from, format!("sent the exploit transaction {hash}"))];
            if let Some(to) = tx.to.filter(|t| !protocol.contains(t)) {
                let code = link
                    .read("eth_getCode", |p| async move { p.get_code_at(to).await })
                    .await
                    .unwrap_or_default();
                if !code.is_empty() {
                    proposals
                        .push((to, format!("contract called by the exploit transaction {hash}")));
                }
            }
            let receipt = link
                .read("eth_getTransactionReceipt", |p| async move {
                    p.get_transaction_receipt(hash).await
                })
                .await?;
            if let Some(created) = receipt.and_then(|r| r.contract_address) {
                proposals.push((created, format!("created by the exploit transaction {hash}")));
            }
            let assets = self
                .assets(alert.chain_id, link, &block, tx.logs.iter().map(|l| l.address).collect())
                .await;
            let mut lost = Watch {
                chain_id: alert.chain_id,
                recovery: None,
                protocol: BTreeSet::new(),
                attackers: BTreeSet::new(),
                traced: protocol.iter().map(|a| (*a, 0)).collect(),
                max_hops: 1,
                dust: 0,
                labels: BTreeMap::new(),
                ours: BTreeSet::new(),
            };
            let single = BlockData { txs: vec![tx.clone()], ..block.clone() };
            for found in lost.scan(&single, &assets) {
                let Found::Moved(mut m) = found else { continue };
                m.hop = 0;
                let Ok(to) = m.transfer.to.parse::<Address>() else { continue };
                if protocol.contains(&to) || view.has_move(&m.transfer) {
                    continue;
                }
                proposals.push((
                    to,
                    format!(
                        "received {} {} from the protocol in {hash}",
                        m.transfer.amount, m.transfer.asset
                    ),
                ));
                self.append(id, Actor::System, Event::FundsMoved(m)).await?;
            }
            for (address, reason) in proposals {
                let known = view
                    .attackers
                    .iter()
                    .any(|a| a.address == address && a.reasons.contains(&reason));
                if known || protocol.contains(&address) {
                    continue;
                }
                self.append(
                    id,
                    Actor::System,
                    Event::AttackerProposed(event::AttackerProposed {
                        chain_id: alert.chain_id,
                        address: address.to_string(),
                        reason,
                        tx_hash: hash.to_string(),
                    }),
                )
                .await?;
                proposed += 1;
            }
        }
        Ok(proposed)
    }

    /// A member confirms (or rejects) an attacker address.
    ///
    /// # Errors
    /// When `member` is not on the team, or the store fails.
    pub async fn decide(
        &self,
        id: IncidentId,
        address: Address,
        member: &str,
        confirm: bool,
        note: Option<String>,
    ) -> Result<()> {
        if !self.plan.team.contains_key(member) {
            return Err(refused(
                format!("`{member}` is not on the plan's team"),
                "decide as a member of [team]",
            ));
        }
        let d = event::AttackerDecision {
            address: address.to_string(),
            member: member.to_owned(),
            note,
        };
        let e = if confirm { Event::AttackerConfirmed(d) } else { Event::AttackerRejected(d) };
        self.append(id, Actor::Member(member.to_owned()), e).await
    }

    /// The plan's addresses on chain `key`.
    fn protocol(&self, key: &str) -> BTreeSet<Address> {
        let contracts = self.plan.contracts.values().filter(|c| c.chain == key).map(|c| c.address);
        let safes = self.plan.safes.values().filter(|s| s.chain == key).map(|s| s.address);
        contracts.chain(safes).collect()
    }

    /// The trace's state on chain `key`, from the record.
    fn watch(&self, key: &str, view: &RecoveryView) -> Watch {
        let chain_id = self.plan.chains.get(key).map_or(0, |c| c.id);
        let r = &self.plan.recovery;
        let recovery = self.plan.safe_harbor.as_ref().and_then(|sh| sh.recovery.get(key).copied());
        let mut traced: BTreeMap<Address, u32> =
            view.confirmed().into_iter().map(|a| (a, 0)).collect();
        let mut w = Watch {
            chain_id,
            recovery,
            protocol: self.protocol(key),
            attackers: view
                .attackers
                .iter()
                .filter(|a| a.state != AttackerState::Rejected)
                .map(|a| a.address)
                .collect(),
            traced: BTreeMap::new(),
            max_hops: r.trace_hops,
            dust: r.dust_micro_usd,
            labels: r.labels.clone(),
            ours: r
                .message_signer
                .iter()
                .filter_map(|s| self.plan.signers.get(s).and_then(|x| x.address))
                .collect(),
        };
        // receivers already traced keep being followed
        for m in view.moves.iter().filter(|m| m.hop > 0 && m.transfer.chain_id == chain_id) {
            let Ok(from) = m.transfer.from.parse::<Address>() else { continue };
            let Ok(to) = m.transfer.to.parse::<Address>() else { continue };
            if !traced.contains_key(&from) {
                continue;
            }
            let exit = m.kind.as_deref().is_some_and(|k| {
                firebreak_plan::LabelKind::parse(k)
                    .is_some_and(|k| k.is_exit() || k == firebreak_plan::LabelKind::Protocol)
            });
            if m.hop < r.trace_hops && !exit && Some(to) != recovery && !w.protocol.contains(&to) {
                let e = traced.entry(to).or_insert(m.hop);
                *e = (*e).min(m.hop);
            }
        }
        w.traced = traced;
        w
    }

    /// The assets a block touches: ETH and `tokens`, with decimals and the
    /// price at the block before.
    async fn assets(
        &self,
        chain_id: u64,
        link: &ChainLink,
        block: &BlockData,
        tokens: BTreeSet<Address>,
    ) -> BTreeMap<Address, Asset> {
        let key = self.plan.chains.iter().find(|(_, c)| c.id == chain_id).map(|(k, _)| k.clone());
        let before = block.number.saturating_sub(1);
        let mut out = BTreeMap::new();
        let eth_price = match self.plan.recovery.prices.get("eth") {
            Some(p) => self.price(link, *p, before).await,
            None => None,
        };
        out.insert(
            Address::ZERO,
            Asset { name: "ETH".into(), decimals: 18, price: eth_price, listed: true },
        );
        for token in tokens {
            let named = self
                .plan
                .contracts
                .iter()
                .find(|(_, c)| c.address == token && Some(&c.chain) == key.as_ref())
                .map(|(k, _)| k.clone());
            let decimals = self.token_decimals(chain_id, link, token).await;
            let price = match named.as_ref().and_then(|n| self.plan.recovery.prices.get(n)) {
                Some(p) => self.price(link, *p, before).await,
                None => None,
            };
            out.insert(
                token,
                Asset {
                    listed: named.is_some(),
                    name: named.unwrap_or_else(|| token.to_string()),
                    decimals,
                    price,
                },
            );
        }
        out
    }

    async fn token_decimals(&self, chain_id: u64, link: &ChainLink, token: Address) -> u8 {
        if let Some(d) = self.decimals.lock().await.get(&(chain_id, token)) {
            return *d;
        }
        let data: Bytes = decimalsCall {}.abi_encode().into();
        let d = link
            .read("decimals", |p| {
                let req = TransactionRequest::default().to(token).input(data.clone().into());
                async move { p.call(req).await }
            })
            .await
            .ok()
            .and_then(|out| decimalsCall::abi_decode_returns(&out).ok())
            .unwrap_or(18);
        self.decimals.lock().await.insert((chain_id, token), d);
        d
    }

    /// A price at `block`: fixed, or the feed's answer then.
    async fn price(&self, link: &ChainLink, price: Price, block: u64) -> Option<MicroUsd> {
        match price {
            Price::Fixed(p) => Some(p),
            Price::Feed(feed) => {
                let call = |data: Vec<u8>| {
                    let data = Bytes::from(data);
                    async move {
                        link.read("price feed", |p| {
                            let req =
                                TransactionRequest::default().to(feed).input(data.clone().into());
                            async move { p.call(req).block(block.into()).await }
                        })
                        .await
                        .ok()
                    }
                };
                let round = call(latestRoundDataCall {}.abi_encode()).await?;
                let answer = latestRoundDataCall::abi_decode_returns(&round).ok()?.answer;
                let decimals = call(decimalsCall {}.abi_encode()).await?;
                let decimals = decimalsCall::abi_decode_returns(&decimals).ok()?;
                let answer = u128::try_from(answer).ok()?;
                Some(answer.saturating_mul(1_000_000) / 10u128.checked_pow(u32::from(decimals))?)
            }
        }
    }

    /// Scans blocks `from..=to` of chain `key` for the incident: traced
    /// transfers, returns to the recovery address, incoming messages.
    /// Each is recorded once (a rescan records nothing twice) and told to
    /// the recovery channels; funds reaching a bridge, mixer, exchange or
    /// sanctioned address are P1.
    ///
    /// # Errors
    /// When the chain or the store fails; what was recorded stays.
    pub async fn scan(&self, id: IncidentId, key: &str, from: u64, to: u64) -> Result<Scanned> {
        let link =
            self.links.get(key).ok_or_else(|| Error::Plan { what: "chain", id: key.into() })?;
        let mut view = self.view(id).await?;
        let mut w = self.watch(key, &view);
        let mut out = Scanned::default();
        for n in from..=to {
            let block = firebreak_chain::fetch_block(link.primary(), link.chain_id, n).await?;
            out.blocks += 1;
            let Some(tokens) = w.touched_tokens(&block) else { continue };
            let assets = self.assets(link.chain_id, link, &block, tokens).await;
            for found in w.scan(&block, &assets) {
                match found {
                    Found::Moved(m) if !view.has_move(&m.transfer) => {
                        let exit = m.kind.as_deref().is_some_and(|k| {
                            firebreak_plan::LabelKind::parse(k)
                                .is_some_and(firebreak_plan::LabelKind::is_exit)
                        });
                        out.moved += 1;
                        out.exits += usize::from(exit);
                        let severity = if exit { Severity::P1 } else { Severity::P2 };
                        let headline = if exit {
                            format!("traced funds reached a {}", m.kind.as_deref().unwrap_or("?"))
                        } else {
                            format!("traced funds moved (hop {})", m.hop)
                        };
                        let e = Event::FundsMoved(m);
                        self.tell(id, severity, &headline, &e).await?;
                        self.append(id, Actor::System, e.clone()).await?;
                        if let Event::FundsMoved(m) = e {
                            view.moves.push(m);
                        }
                    }
                    Found::Returned(r) if !view.has_return(&r.transfer) => {
                        out.returned += 1;
                        let e = Event::FundsReturned(r);
                        self.tell(id, Severity::P3, "funds returned to the recovery address", &e)
                            .await?;
                        self.append(id, Actor::External(e_from(&e)), e.clone()).await?;
                        if let Event::FundsReturned(r) = e {
                            view.returns.push(r);
                        }
                    }
                    Found::Message(m)
                        if !view.messages.iter().any(|(_, x)| x.tx_hash == m.tx_hash) =>
                    {
                        out.messages += 1;
                        let e = Event::WhitehatMessageReceived(m);
                        self.tell(id, Severity::P2, "a message came in on chain", &e).await?;
                        self.append(id, Actor::External(e_from(&e)), e.clone()).await?;
                        if let Event::WhitehatMessageReceived(m) = e {
                            view.messages.push((false, m));
                        }
                    }
                    _ => {}
                }
            }
        }
        Ok(out)
    }

    /// Queues a recovery message for the recovery channels.
    async fn tell(
        &self,
        id: IncidentId,
        severity: Severity,
        headline: &str,
        e: &Event,
    ) -> Result<()> {
        let to: Vec<(String, Option<String>)> =
            self.plan.recovery.channels.iter().map(|c| (c.clone(), None)).collect();
        self.tell_to(id, severity, headline, e, &to).await
    }

    /// Queues a recovery message for each (channel, recipient): a channel's
    /// audience, or one person's contact on it.
    async fn tell_to(
        &self,
        id: IncidentId,
        severity: Severity,
        headline: &str,
        e: &Event,
        to: &[(String, Option<String>)],
    ) -> Result<()> {
        let (kind, body) =
            e.to_stored().map_err(|x| refused(x.to_string(), "report this as a bug"))?;
        let detail = e.describe(&body);
        let ctx = serde_json::json!({
            "protocol": self.plan.protocol.name,
            "incident": id.0,
            "severity": severity.to_string(),
            "headline": headline,
            "detail": detail,
        });
        let Ok((title, text)) = firebreak_notify::Renderer::default().render(
            firebreak_notify::EventKind::Recovery,
            &ctx,
            None,
        ) else {
            return Ok(());
        };
        let key = format!(
            "recovery:{}:{kind}:{}",
            id.0,
            alloy::primitives::keccak256(body.to_string().as_bytes())
        );
        for (channel, recipient) in to {
            let m = firebreak_notify::Message {
                event: firebreak_notify::EventKind::Recovery,
                incident: Some(id.0),
                severity: severity.to_string(),
                chain_id: None,
                protocol: self.plan.protocol.name.clone(),
                title: title.clone(),
                text: text.clone(),
                links: Vec::new(),
                drill: self.plan.mode == firebreak_plan::PlanMode::Drill,
                key: match recipient {
                    Some(r) => format!("{key}:{channel}:{r}"),
                    None => format!("{key}:{channel}"),
                },
                at: firebreak_primitives::rfc3339_now(),
                recipient: recipient.clone(),
            };
            self.store
                .enqueue(firebreak_store::OutboxMessage {
                    id: 0,
                    key: m.key.clone(),
                    incident: Some(id),
                    channel: channel.clone(),
                    body: serde_json::to_value(&m).unwrap_or_default(),
                    status: "pending".into(),
                    attempts: 0,
                    next_at_ms: now_ms(),
                    last_error: None,
                    created_ms: now_ms(),
                })
                .await?;
        }
        Ok(())
    }

    /// Each liaison's contacts, as (channel, contact).
    fn liaisons(&self) -> Vec<(String, Option<String>)> {
        self.plan
            .team
            .values()
            .filter(|m| m.roles.contains(&Role::Liaison))
            .flat_map(|m| m.contacts.iter().map(|(c, to)| (c.clone(), Some(to.clone()))))
            .collect()
    }

    /// The default offer to attackers, from the terms in force.
    pub fn offer_text(&self, id: IncidentId, opened_ms: u64, chain_key: &str) -> Option<String> {
        let sh = self.plan.safe_harbor.as_ref()?;
        let recovery = sh.recovery.get(chain_key)?;
        let deadline = opened_ms + CLOCKS[0].1;
        let contact = sh.contacts.first().map(|c| c.contact.clone()).unwrap_or_default();
        let cap = firebreak_recover::book::dollars(firebreak_recover::usd(sh.bounty_cap_usd));
        Some(format!(
            "To the account that took funds from {protocol} (incident {incident}): return them to {recovery} by {deadline} UTC and keep {pct} % as a white-hat bounty (up to ${cap}){retain}, under the SEAL Safe Harbor agreement{uri}. After that we will pursue every legal avenue. Contact: {contact}",
            protocol = self.plan.protocol.name,
            incident = id.0,
            deadline = firebreak_primitives::rfc3339(deadline)
                .replace('T', " ")
                .trim_end_matches('Z')
                .split('.')
                .next()
                .unwrap_or_default(),
            pct = firebreak_recover::percent(sh.bounty_bps),
            retain = if sh.retainable {
                "; you may keep it from what you return"
            } else {
                "; we pay it after the return"
            },
            uri = sh.agreement_uri.as_ref().map(|u| format!(" ({u})")).unwrap_or_default(),
        ))
    }

    /// Drafts an on-chain message to the confirmed attackers on chain
    /// `chain_key` (the default text unless `text` is given).
    ///
    /// # Errors
    /// Without a message signer, confirmed attackers or terms; store errors.
    pub async fn draft(
        &self,
        id: IncidentId,
        member: &str,
        chain_key: &str,
        text: Option<String>,
    ) -> Result<event::MessageDraft> {
        let signer = self.plan.recovery.message_signer.clone().ok_or_else(|| {
            refused(
                "the plan names no message signer",
                "set [recovery] message_signer to a signer of its own",
            )
        })?;
        if !self.plan.team.contains_key(member) {
            return Err(refused(
                format!("`{member}` is not on the plan's team"),
                "draft as a member of [team]",
            ));
        }
        let chain_id = self
            .plan
            .chains
            .get(chain_key)
            .map(|c| c.id)
            .ok_or(Error::Plan { what: "chain", id: chain_key.into() })?;
        let incident = self.store.incident(id).await?.ok_or_else(|| {
            refused(
                format!("no incident {}", id.0),
                "list incidents with `firebreak incident list`",
            )
        })?;
        let view = self.view(id).await?;
        let to: Vec<String> = view
            .attackers
            .iter()
            .filter(|a| {
                a.state == AttackerState::Confirmed && (a.chain_id == chain_id || a.chain_id == 0)
            })
            .map(|a| a.address.to_string())
            .collect();
        if to.is_empty() {
            return Err(refused(
                "no confirmed attacker address to write to",
                "confirm one first (`firebreak whitehat confirm INCIDENT ADDRESS`)",
            ));
        }
        let text = match text {
            Some(t) => t,
            None => self.offer_text(id, incident.opened_ms, chain_key).ok_or_else(|| {
                refused(
                    "the plan has no Safe Harbor terms for this chain",
                    "write the text yourself (--text)",
                )
            })?,
        };
        if firebreak_recover::trace::utf8_message(text.as_bytes()).as_deref() != Some(text.trim()) {
            return Err(refused(
                "the text would not read as a message on chain",
                "write plain text (no control characters)",
            ));
        }
        let d = event::MessageDraft {
            draft: u32::try_from(view.drafts.len() + 1).unwrap_or(u32::MAX),
            text,
            to,
            chain_id,
            signer,
            approvers: self.plan.recovery.message_approvers.clone(),
            member: member.to_owned(),
        };
        self.append(id, Actor::Member(member.to_owned()), Event::WhitehatMessageDrafted(d.clone()))
            .await?;
        Ok(d)
    }

    /// A member approves a draft in one of the roles it still needs.
    ///
    /// # Errors
    /// When the draft is unknown or sent, or the member holds none of the
    /// roles still needed.
    pub async fn approve(&self, id: IncidentId, draft: u32, member: &str) -> Result<Vec<Role>> {
        let view = self.view(id).await?;
        let d = view.drafts.iter().find(|d| d.draft.draft == draft).ok_or_else(|| {
            refused(
                format!("incident {} has no message draft #{draft}", id.0),
                "see the drafts with `firebreak whitehat show INCIDENT`",
            )
        })?;
        if d.sent {
            return Err(refused(format!("draft #{draft} was sent already"), "draft a new message"));
        }
        if d.approvals.iter().any(|(m, _)| m == member) {
            return Err(refused(
                format!("{member} approved draft #{draft} already"),
                "another member approves in the other role",
            ));
        }
        let roles = self.plan.team.get(member).map(|m| m.roles.clone()).unwrap_or_default();
        let missing = d.missing();
        let role = missing.iter().find(|r| roles.contains(r)).copied().ok_or_else(|| {
            refused(
                format!(
                    "`{member}` holds none of the roles draft #{draft} still needs ({})",
                    missing.iter().map(|r| r.as_str()).collect::<Vec<_>>().join(", ")
                ),
                "ask a member who holds one",
            )
        })?;
        self.append(
            id,
            Actor::Member(member.to_owned()),
            Event::WhitehatMessageApproved(event::MessageApproval {
                draft,
                member: member.to_owned(),
                role,
            }),
        )
        .await?;
        Ok(missing.into_iter().filter(|r| *r != role).collect())
    }

    /// Sends an approved draft: one transaction per recipient, its input
    /// exactly the draft's text, from the message signer. Waits for each
    /// receipt and records it.
    ///
    /// # Errors
    /// When approvals are missing, the key does not load, or the chain fails.
    pub async fn send(&self, id: IncidentId, draft: u32) -> Result<Vec<event::OnchainMessage>> {
        let view = self.view(id).await?;
        let d = view.drafts.iter().find(|d| d.draft.draft == draft).ok_or_else(|| {
            refused(format!("incident {} has no message draft #{draft}", id.0), "draft one first")
        })?;
        if d.sent {
            return Err(refused(format!("draft #{draft} was sent already"), "draft a new message"));
        }
        let missing = d.missing();
        if !missing.is_empty() {
            return Err(refused(
                format!(
                    "draft #{draft} still needs approval by {}",
                    missing.iter().map(|r| r.as_str()).collect::<Vec<_>>().join(" and ")
                ),
                "`firebreak whitehat approve INCIDENT DRAFT --as MEMBER`",
            ));
        }
        let (_, link) = self
            .link_of(d.draft.chain_id)
            .ok_or(Error::Plan { what: "chain", id: d.draft.chain_id.to_string() })?;
        let s = self
            .plan
            .signers
            .get(&d.draft.signer)
            .ok_or(Error::Plan { what: "signer", id: d.draft.signer.clone() })?;
        let key = firebreak_plan::load_signer(&d.draft.signer, s, &self.plan.base_dir)
            .map_err(|source| Error::Signer { signer: d.draft.signer.clone(), source })?;
        let mut sent = Vec::new();
        let from = key.address();
        for to in &d.draft.to {
            let to: Address = to.parse().map_err(|_| {
                refused(format!("`{to}` is not an address"), "confirm a valid address")
            })?;
            let input = Bytes::from(d.draft.text.clone().into_bytes());
            let (hash, block) = send_tx(link, &key, to, input).await?;
            let m = event::OnchainMessage {
                chain_id: link.chain_id,
                from: from.to_string(),
                to: to.to_string(),
                tx_hash: hash.to_string(),
                block,
                text: d.draft.text.clone(),
                draft: Some(draft),
            };
            self.append(id, Actor::System, Event::WhitehatMessageSent(m.clone())).await?;
            sent.push(m);
        }
        Ok(sent)
    }

    /// The ledger under the terms in force.
    ///
    /// # Errors
    /// Without Safe Harbor terms; store errors.
    pub async fn ledger(&self, id: IncidentId) -> Result<firebreak_recover::book::Ledger> {
        let sh = self
            .plan
            .safe_harbor
            .as_ref()
            .ok_or_else(|| refused("the plan has no [safe_harbor] terms", "add them"))?;
        Ok(self.view(id).await?.ledger(&Terms::from(sh)))
    }

    /// Proposes the bounty still owed to `whitehat` as a SafeTx of the
    /// plan's bounty Safe: `transfer(whitehat, amount)` of the bounty token
    /// at the Safe's current nonce, its hash checked against the Safe's own.
    ///
    /// # Errors
    /// Under retainable terms, without a bounty Safe or price, with nothing
    /// owed, or when the chain disagrees.
    pub async fn propose_bounty(
        &self,
        id: IncidentId,
        whitehat: Address,
    ) -> Result<event::BountyProposed> {
        let sh = self
            .plan
            .safe_harbor
            .as_ref()
            .ok_or_else(|| refused("the plan has no [safe_harbor] terms", "add them"))?;
        let r = &self.plan.recovery;
        let safe_id = r.bounty_safe.as_ref().ok_or_else(|| {
            refused("the plan names no Safe to pay bounties", "set [recovery] bounty_safe")
        })?;
        let safe = self
            .plan
            .safes
            .get(safe_id)
            .ok_or(Error::Plan { what: "Safe", id: safe_id.clone() })?;
        let view = self.view(id).await?;
        let ledger = view.ledger(&Terms::from(sh));
        let w = ledger.settlement.whitehats.iter().find(|w| w.whitehat == whitehat).ok_or_else(
            || {
                refused(
                    format!("{whitehat} returned nothing to the recovery address"),
                    "a bounty follows a return",
                )
            },
        )?;
        let proposed: MicroUsd = view
            .bounties
            .iter()
            .filter(|b| b.whitehat.parse::<Address>().is_ok_and(|a| a == whitehat))
            .filter_map(|b| b.bounty_micro_usd.parse::<MicroUsd>().ok())
            .sum();
        let due = w.owed.saturating_sub(proposed);
        if due == 0 {
            return Err(refused(
                format!(
                    "nothing is owed to {whitehat} beyond what was proposed (bounty ${}, kept ${})",
                    firebreak_recover::book::dollars(w.bounty),
                    firebreak_recover::book::dollars(w.retained)
                ),
                "see the ledger with `firebreak whitehat ledger INCIDENT`",
            ));
        }
        // the token: the plan's, or the asset the white hat returned most value of
        let token_key = match &r.bounty_token {
            Some(t) => t.clone(),
            None => view
                .returns
                .iter()
                .filter(|x| {
                    x.transfer.from.parse::<Address>().is_ok_and(|a| a == whitehat)
                        && x.transfer.token.is_some()
                })
                .max_by_key(|x| {
                    x.transfer
                        .value_micro_usd
                        .as_deref()
                        .and_then(|v| v.parse::<u128>().ok())
                        .unwrap_or(0)
                })
                .map(|x| x.transfer.asset.clone())
                .ok_or_else(|| {
                    refused(
                        "the white hat returned no token to pay in",
                        "set [recovery] bounty_token",
                    )
                })?,
        };
        let contract = self.plan.contracts.get(&token_key).ok_or_else(|| {
            refused(
                format!("`{token_key}` is not a contract of the plan"),
                "set [recovery] bounty_token",
            )
        })?;
        let (_, link) = self
            .link_of(self.plan.chains.get(&safe.chain).map_or(0, |c| c.id))
            .ok_or(Error::Plan { what: "chain", id: safe.chain.clone() })?;
        if contract.chain != safe.chain {
            return Err(refused(
                format!("`{token_key}` is not on the bounty Safe's chain"),
                "pay in a token on the Safe's chain",
            ));
        }
        let head =
            link.read("eth_blockNumber", |p| async move { p.get_block_number().await }).await?;
        let price = match r.prices.get(&token_key) {
            Some(p) => self.price(link, *p, head).await,
            None => None,
        }
        .ok_or_else(|| {
            refused(
                format!("no price for `{token_key}`"),
                format!("add `{token_key}` under [recovery.prices]"),
            )
        })?;
        let decimals = self.token_decimals(link.chain_id, link, contract.address).await;
        let amount =
            U256::from(due) * U256::from(10u8).pow(U256::from(decimals)) / U256::from(price.max(1));
        let nonce = crate::safe_nonce(link, safe.address).await?;
        let data: Bytes = transferCall { to: whitehat, amount }.abi_encode().into();
        let tx = SafeTx::call(contract.address, data, U256::from(nonce));
        let ours = tx.hash(link.chain_id, safe.address);
        let theirs = crate::safe_path::onchain_hash(link, safe.address, &tx).await?;
        if ours != theirs {
            return Err(Error::HashMismatch { ours, theirs });
        }
        let b = event::BountyProposed {
            whitehat: whitehat.to_string(),
            bounty_micro_usd: due.to_string(),
            token: token_key,
            amount: amount.to_string(),
            safe: safe.address.to_string(),
            nonce,
            safe_tx_hash: ours.to_string(),
            chain_id: link.chain_id,
        };
        self.append(id, Actor::System, Event::BountyProposed(b.clone())).await?;
        Ok(b)
    }

    /// A proposed bounty's SafeTx, its Safe (plan id) and chain link, rebuilt
    /// from the record and checked against its recorded hash.
    fn bounty_tx(
        &self,
        b: &event::BountyProposed,
    ) -> Result<(SafeTx, &firebreak_plan::Safe, Option<&ChainLink>)> {
        let safe = self
            .plan
            .safes
            .values()
            .find(|s| s.address.to_string().eq_ignore_ascii_case(&b.safe))
            .ok_or_else(|| {
                refused(format!("Safe {} is not in the plan", b.safe), "propose the bounty again")
            })?;
        let token = self
            .plan
            .contracts
            .get(&b.token)
            .ok_or(Error::Plan { what: "contract", id: b.token.clone() })?;
        let whitehat: Address = b
            .whitehat
            .parse()
            .map_err(|_| refused("the recorded white hat is not an address", "propose again"))?;
        let amount: U256 = b
            .amount
            .parse()
            .map_err(|_| refused("the recorded amount is not a number", "propose again"))?;
        let data: Bytes = transferCall { to: whitehat, amount }.abi_encode().into();
        let tx = SafeTx::call(token.address, data, U256::from(b.nonce));
        if tx.hash(b.chain_id, safe.address).to_string() != b.safe_tx_hash {
            return Err(refused(
                format!("the bounty SafeTx no longer hashes to {}", b.safe_tx_hash),
                "do not sign; propose the bounty again",
            ));
        }
        Ok((tx, safe, self.link_of(b.chain_id).map(|(_, l)| l)))
    }

    /// A Safe owner's signature over a proposed bounty's SafeTx hash, given
    /// by `member` (who holds the signer role or is the plan's owner
    /// address for it). Returns (valid signatures, the plan's threshold).
    ///
    /// # Errors
    /// When the bounty is unknown or paid, or the signature is not an
    /// owner's over that hash.
    pub async fn sign_bounty(
        &self,
        id: IncidentId,
        hash: B256,
        signature: &[u8],
        member: &str,
    ) -> Result<(usize, u32)> {
        let m = self.plan.team.get(member).ok_or_else(|| {
            refused(format!("`{member}` is not on the plan's team"), "sign as a member of [team]")
        })?;
        if m.safe_owner.is_none() && !m.roles.contains(&Role::Signer) {
            return Err(refused(
                format!("`{member}` may not add Safe signatures"),
                "it takes the role signer or a `safe_owner` address",
            ));
        }
        let view = self.view(id).await?;
        let b = view.unpaid().into_iter().find(|b| b.safe_tx_hash == hash.to_string()).ok_or_else(
            || {
                refused(
                    format!("no unpaid bounty of incident {} has SafeTx {hash}", id.0),
                    "see the ledger",
                )
            },
        )?;
        let (_, safe, _) = self.bounty_tx(b)?;
        let owner = firebreak_safe::recover_owner(hash, signature, &safe.owners).map_err(|e| {
            refused(
                format!("signature rejected: {e}"),
                format!("sign the SafeTx hash {hash} with an owner's key"),
            )
        })?;
        if let Some(mine) = m.safe_owner
            && mine != owner.owner
        {
            return Err(refused(
                format!(
                    "the signature is from {}, but the plan gives `{member}` the owner address {mine}",
                    owner.owner
                ),
                "sign with your own key",
            ));
        }
        let s = firebreak_store::SafeSignature {
            safe_tx_hash: hash,
            signer: owner.owner,
            signature: Bytes::from(owner.bytes.to_vec()),
            source: format!("member:{member}"),
        };
        let new = self.store.add_signature(s, Some((id, Actor::Member(member.to_owned())))).await?;
        if !new {
            return Err(refused(
                format!("owner {} already signed this SafeTx", owner.owner),
                "another owner signs",
            ));
        }
        let have = crate::valid_signatures(&*self.store, hash, &safe.owners).await?.len();
        Ok((have, safe.threshold))
    }

    /// Pays every proposed bounty whose SafeTx has the Safe's threshold of
    /// owner signatures: `execTransaction` from the Safe's relayer, then a
    /// `bounty_paid` entry. A bounty whose nonce the Safe has moved past is
    /// left (propose it again).
    ///
    /// # Errors
    /// When the chain, the relayer key or the store fails.
    pub async fn pay_bounties(&self, id: IncidentId) -> Result<Vec<event::BountyPaid>> {
        let view = self.view(id).await?;
        let mut paid = Vec::new();
        for b in view.unpaid() {
            let (tx, safe, link) = self.bounty_tx(b)?;
            let Some(link) = link else { continue };
            let (nonce, owners, threshold) = crate::safe_state(link, safe.address).await?;
            if nonce != b.nonce {
                continue;
            }
            let hash: B256 = b.safe_tx_hash.parse().unwrap_or_default();
            let sigs = crate::valid_signatures(&*self.store, hash, &owners).await?;
            if u64::try_from(sigs.len()).unwrap_or(0) < threshold {
                continue;
            }
            let packed = firebreak_safe::pack_signatures(sigs)
                .map_err(|e| refused(format!("cannot pack the signatures: {e}"), "sign again"))?;
            let relayer = safe.relayer.as_ref().ok_or_else(|| {
                refused(
                    "the bounty Safe has no relayer to send execTransaction",
                    "set `relayer` on the Safe",
                )
            })?;
            let signer = self
                .plan
                .signers
                .get(relayer)
                .ok_or(Error::Plan { what: "signer", id: relayer.clone() })?;
            let key = firebreak_plan::load_signer(relayer, signer, &self.plan.base_dir)
                .map_err(|source| Error::Signer { signer: relayer.clone(), source })?;
            let (tx_hash, block) =
                send_tx(link, &key, safe.address, tx.exec_calldata(packed)).await?;
            let p = event::BountyPaid {
                whitehat: b.whitehat.clone(),
                safe_tx_hash: b.safe_tx_hash.clone(),
                tx_hash: tx_hash.to_string(),
                block,
                amount: b.amount.clone(),
                token: b.token.clone(),
            };
            self.append(id, Actor::System, Event::BountyPaid(p.clone())).await?;
            paid.push(p);
        }
        Ok(paid)
    }

    /// Records the agreement's clocks once, and reminders and expiries as
    /// they come (a reminder an hour before each). Returns what was recorded.
    ///
    /// # Errors
    /// When the store fails.
    pub async fn clocks(&self, id: IncidentId, now: u64) -> Result<usize> {
        if self.plan.safe_harbor.is_none() {
            return Ok(0);
        }
        let Some(incident) = self.store.incident(id).await? else { return Ok(0) };
        let view = self.view(id).await?;
        let mut due: Vec<(String, u64, String)> = CLOCKS
            .iter()
            .map(|(c, after, what)| {
                ((*c).to_owned(), incident.opened_ms + after, (*what).to_owned())
            })
            .collect();
        if let Some(last) = view.returns.last() {
            let at = self
                .store
                .timeline(id)
                .await?
                .iter()
                .rev()
                .find(|e| matches!(&e.event, Event::FundsReturned(r) if r.transfer.tx_hash == last.transfer.tx_hash))
                .and_then(|e| firebreak_primitives::parse_rfc3339_ms(&e.at))
                .unwrap_or(now);
            let days = PAYMENT_DAYS * 24 * 3_600_000;
            due.push((
                "bounty_payment".into(),
                at + days,
                "the protocol pays the bounty within 15 days of the return".into(),
            ));
            if self.plan.safe_harbor.as_ref().is_some_and(|s| s.retainable) {
                due.push((
                    "dispute".into(),
                    at + days,
                    "a retained bounty may be disputed within 15 days".into(),
                ));
            }
        }
        let mut recorded = 0;
        for (clock, at, what) in due {
            let state = view.deadlines.get(&clock).map(|d| (d.state.clone(), d.due_ms));
            let next = match state.as_ref() {
                None => Some("set"),
                Some((_, d)) if *d != at => Some("set"),
                Some((s, _)) if s == "set" && now + 3_600_000 >= at && now < at => Some("reminder"),
                Some((s, _)) if s != "passed" && now >= at => Some("passed"),
                _ => None,
            };
            let Some(next) = next else { continue };
            let detail = match next {
                "reminder" => format!(
                    "{what}: due at {} (within the hour)",
                    firebreak_primitives::rfc3339(at)
                ),
                "passed" => format!("{what}: passed at {}", firebreak_primitives::rfc3339(at)),
                _ => format!("{what}: due at {}", firebreak_primitives::rfc3339(at)),
            };
            let e = Event::RecoveryDeadline(event::RecoveryDeadline {
                clock: clock.clone(),
                due_ms: at,
                state: next.into(),
                detail,
            });
            if next != "set" {
                // the channels, and each liaison in person
                let headline = format!("Safe Harbor clock `{clock}`: {next}");
                let mut to: Vec<(String, Option<String>)> =
                    self.plan.recovery.channels.iter().map(|c| (c.clone(), None)).collect();
                to.extend(self.liaisons());
                self.tell_to(id, Severity::P2, &headline, &e, &to).await?;
            }
            self.append(id, Actor::System, e).await?;
            recorded += 1;
        }
        Ok(recorded)
    }
}

/// Signs and sends a plain transaction from `key` to `to` with `input`
/// (EIP-1559, the node's fee estimate, 20 % gas headroom), to every
/// endpoint; waits for its receipt (up to two minutes). Returns its hash
/// and block.
async fn send_tx(
    link: &ChainLink,
    key: &alloy_signer_local::PrivateKeySigner,
    to: Address,
    input: Bytes,
) -> Result<(B256, Option<u64>)> {
    let from = key.address();
    let nonce = link
        .read("eth_getTransactionCount", |p| async move {
            p.get_transaction_count(from).pending().await
        })
        .await?;
    let gas = link
        .read("eth_estimateGas", |p| {
            let req = TransactionRequest::default().from(from).to(to).input(input.clone().into());
            async move { p.estimate_gas(req).await }
        })
        .await?;
    let fees = link
        .read("eth_estimateEip1559Fees", |p| async move { p.estimate_eip1559_fees().await })
        .await?;
    let mut tx = TxEip1559 {
        chain_id: link.chain_id,
        nonce,
        gas_limit: gas.saturating_mul(6) / 5,
        max_fee_per_gas: fees.max_fee_per_gas,
        max_priority_fee_per_gas: fees.max_priority_fee_per_gas,
        to: TxKind::Call(to),
        value: U256::ZERO,
        access_list: Default::default(),
        input,
    };
    let sig = key
        .sign_transaction_sync(&mut tx)
        .map_err(|e| Error::Sign { signer: from.to_string(), detail: e.to_string() })?;
    let envelope: TxEnvelope = tx.into_signed(sig).into();
    let hash = *envelope.tx_hash();
    let raw = Bytes::from(envelope.encoded_2718());
    let results = link.broadcast(&raw).await;
    if results.iter().all(|(_, r)| r.is_err()) {
        let why = results.into_iter().filter_map(|(_, r)| r.err()).collect::<Vec<_>>().join("; ");
        return Err(Error::Rpc {
            chain_id: link.chain_id,
            what: "eth_sendRawTransaction",
            detail: why,
            retryable: true,
        });
    }
    for _ in 0..600 {
        let r =
            link.read("eth_getTransactionReceipt", |p| async move {
                p.get_transaction_receipt(hash).await
            })
            .await?;
        if let Some(r) = r {
            if !r.status() {
                return Err(refused(
                    format!("transaction {hash} reverted in block {}", r.block_number.unwrap_or(0)),
                    "see it in the explorer; nothing else was recorded",
                ));
            }
            return Ok((hash, r.block_number));
        }
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    Ok((hash, None))
}

fn e_from(e: &Event) -> String {
    match e {
        Event::FundsReturned(r) => r.transfer.from.clone(),
        Event::WhitehatMessageReceived(m) => m.from.clone(),
        _ => String::new(),
    }
}

/// Whether a log is an ERC-20 transfer (re-exported for the tracer's callers).
pub fn is_transfer(log: &firebreak_primitives::LogData) -> bool {
    erc20_transfer(log).is_some()
}
