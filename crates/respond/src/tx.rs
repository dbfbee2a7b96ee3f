//! Landing one transaction: simulate, choose the nonce, sign, record, then
//! broadcast; follow it block by block, replacing it with a higher fee until
//! it is mined. Every signed transaction is written to the store before it
//! is broadcast, so a restart rebroadcasts the same bytes instead of signing
//! anew.

use std::collections::HashMap;

use alloy::{
    consensus::{SignableTransaction as _, TxEip1559, TxEnvelope},
    eips::eip2718::Encodable2718 as _,
    network::TxSignerSync as _,
    primitives::TxKind,
    providers::Provider as _,
    rpc::types::TransactionRequest,
};
use alloy_json_abi::JsonAbi;
use alloy_primitives::{Address, B256, Bytes};
use alloy_signer_local::PrivateKeySigner;
use firebreak_primitives::now_ms;
use firebreak_primitives::{Event, event};
use firebreak_store::{ActionRecord, ActionStatus, IncidentStore, TxAttempt};
use serde_json::json;
use tokio::sync::Mutex;

use crate::{
    ChainLink,
    error::{Error, Result},
    fees::FeePolicy,
    halt::halt_point,
    revert::decode_revert,
};

/// Where an action or step stands after one round.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Progress {
    /// Finished successfully.
    Done(String),
    /// In flight or waiting for people; try again next round.
    Waiting(String),
    /// Gave up, with the reason.
    Failed(String),
}

/// Who sends a transaction.
#[derive(Debug, Clone)]
pub enum Sender {
    /// A key the daemon holds: transactions are signed here.
    Key(PrivateKeySigner),
    /// An account the node impersonates (drills on an anvil fork): the node
    /// accepts `eth_sendTransaction` from it without a signature.
    Impersonated(Address),
}

impl Sender {
    /// The sending address.
    pub fn address(&self) -> Address {
        match self {
            Self::Key(k) => k.address(),
            Self::Impersonated(a) => *a,
        }
    }

    /// The key, when there is one.
    pub const fn key(&self) -> Option<&PrivateKeySigner> {
        match self {
            Self::Key(k) => Some(k),
            Self::Impersonated(_) => None,
        }
    }
}

/// What a transaction needs.
#[derive(Debug)]
pub(crate) struct TxCtx<'a> {
    pub link: &'a ChainLink,
    pub store: &'a dyn IncidentStore,
    pub key: &'a Sender,
    pub policy: FeePolicy,
    pub abis: Vec<&'a JsonAbi>,
    /// Head block at the last broadcast of each action in this process.
    pub sent_at: &'a Mutex<HashMap<firebreak_primitives::ActionKey, u64>>,
    /// Blocks (the transaction's own included) before a mined transaction
    /// counts as final on this chain.
    pub confirmations: u64,
    /// The one owner of each sender's nonces.
    pub nonces: &'a NonceBook,
    /// The signer leases held and their names, when replicas share the store.
    pub fencing: Option<(&'a crate::Fencing, &'a [String])>,
    /// Incidents whose transactions also go to block builders as bundles.
    pub bundles: &'a crate::bundle::BundleBook,
}

impl TxCtx<'_> {
    /// Writes an action (and its timeline entry), fenced by the sender's
    /// lease when replicas share the store.
    pub(crate) async fn record(&self, action: ActionRecord, event: Option<Event>) -> Result<()> {
        record(self.store, self.fencing, action, event).await
    }
}

/// Writes `action`: with the fence of its sender's lease when `fencing` has
/// one for it (refused when this replica does not hold it), plainly otherwise.
pub(crate) async fn record(
    store: &dyn IncidentStore,
    fencing: Option<(&crate::Fencing, &[String])>,
    action: ActionRecord,
    event: Option<Event>,
) -> Result<()> {
    let fence = match fencing {
        Some((f, leased)) => f.fence(action.chain_id, action.from, leased)?,
        None => None,
    };
    match fence {
        Some(fence) => store.put_action_fenced(action, event, &fence).await?,
        None => store.put_action(action, event).await?,
    }
    Ok(())
}

/// One owner per (chain, sender) of the nonce space: incidents driven at
/// once never sign two transactions with one nonce.
///
/// Choosing a nonce, signing, recording and broadcasting happen under the
/// sender's lock, and the next nonce is the larger of the node's pending
/// count and the one after the last this process handed out, so a node that
/// has not yet seen the previous transaction (another endpoint, a slow
/// pool) cannot hand the same nonce out twice.
#[derive(Debug, Default)]
pub(crate) struct NonceBook {
    owners: std::sync::Mutex<HashMap<(u64, Address), NextNonce>>,
}

/// The nonce after the last one a sender's owner handed out, behind its lock.
type NextNonce = std::sync::Arc<Mutex<u64>>;

impl NonceBook {
    fn owner(&self, chain_id: u64, sender: Address) -> NextNonce {
        let mut owners = self.owners.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        owners.entry((chain_id, sender)).or_default().clone()
    }
}

fn rpc<'a>(
    link: &'a ChainLink,
    what: &'static str,
) -> impl FnOnce(alloy::transports::TransportError) -> Error + 'a {
    move |e| Error::Rpc {
        chain_id: link.chain_id,
        what,
        detail: link.redact(&e.to_string()),
        retryable: firebreak_chain::is_retryable(&e),
    }
}

/// Simulates `data` from `from` to `to` with `eth_call`; `Some(reason)`
/// (decoded with `abis`) when it reverts.
///
/// # Errors
/// When the node cannot be reached.
pub async fn simulate(
    link: &ChainLink,
    from: Address,
    to: Address,
    data: &Bytes,
    abis: &[&JsonAbi],
) -> Result<Option<String>> {
    simulate_value(link, from, (to, alloy_primitives::U256::ZERO), data, abis).await
}

/// As [`simulate`], the call carrying `value` wei.
///
/// # Errors
/// As [`simulate`].
pub(crate) async fn simulate_value(
    link: &ChainLink,
    from: Address,
    (to, value): (Address, alloy_primitives::U256),
    data: &Bytes,
    abis: &[&JsonAbi],
) -> Result<Option<String>> {
    let req =
        TransactionRequest::default().from(from).to(to).value(value).input(data.clone().into());
    let answer = tokio::time::timeout(link.timeout(), link.primary().call(req)).await;
    let Ok(answer) = answer else {
        return Err(Error::Rpc {
            chain_id: link.chain_id,
            what: "eth_call",
            detail: format!("no answer within {:?}", link.timeout()),
            retryable: true,
        });
    };
    match answer {
        Ok(_) => Ok(None),
        Err(e) => {
            if let Some(payload) = e.as_error_resp() {
                let data = payload.as_revert_data().unwrap_or_default();
                if payload.message.to_lowercase().contains("revert") || !data.is_empty() {
                    return Ok(Some(decode_revert(&data, abis)));
                }
                return Ok(Some(payload.message.to_string()));
            }
            Err(rpc(link, "eth_call")(e))
        }
    }
}

/// Advances `action` by one round.
pub(crate) async fn advance(ctx: &TxCtx<'_>, action: &mut ActionRecord) -> Result<Progress> {
    match action.status {
        ActionStatus::Mined => confirm(ctx, action).await,
        ActionStatus::Reverted | ActionStatus::Failed => {
            Ok(Progress::Failed(action.error.clone().unwrap_or_else(|| "failed".into())))
        }
        ActionStatus::AwaitingSignatures => Ok(Progress::Waiting("waiting for signatures".into())),
        ActionStatus::Planned => start(ctx, action).await,
        ActionStatus::Sent => follow(ctx, action).await,
    }
}

fn mined_text(action: &ActionRecord) -> String {
    let block = action.receipt.as_ref().and_then(|r| r["block_number"].as_u64()).unwrap_or(0);
    let hash = action.receipt.as_ref().and_then(|r| r["tx_hash"].as_str()).unwrap_or("?");
    format!("mined in block {block} ({hash})")
}

/// Where a mined transaction stands now: still in the canonical chain and
/// deep enough (done), not yet deep enough (waiting), or gone from the
/// canonical chain by a reorg — then it goes back to `sent` and is followed
/// again: the recorded bytes are broadcast while their nonce is free, and a
/// new transaction is signed if another one took the nonce.
async fn confirm(ctx: &TxCtx<'_>, action: &mut ActionRecord) -> Result<Progress> {
    let receipt = action.receipt.as_ref();
    let (Some(hash), Some(block_hash)) = (
        receipt.and_then(|r| r["tx_hash"].as_str()).and_then(|h| h.parse::<B256>().ok()),
        receipt.and_then(|r| r["block_hash"].as_str()).and_then(|h| h.parse::<B256>().ok()),
    ) else {
        return Ok(Progress::Done(mined_text(action)));
    };
    // the receipt and the head from one endpoint: one node's view
    let (now, head) = ctx
        .link
        .read("eth_getTransactionReceipt", |p| async move {
            let r = p.get_transaction_receipt(hash).await?;
            let head = p.get_block_number().await?;
            Ok((r, head))
        })
        .await?;
    match now {
        Some(r) if r.block_hash == Some(block_hash) => {
            Ok(depth_progress(ctx, action, r.block_number.unwrap_or(head), head))
        }
        moved => {
            let old_block = receipt.and_then(|r| r["block_number"].as_u64());
            let detail = match &moved {
                Some(r) => format!(
                    "the block holding it was replaced by a reorg; it is now in block {}",
                    r.block_number.unwrap_or_default()
                ),
                None => "the block holding it was replaced by a reorg; following it again (the same signed bytes while the nonce is free)".to_owned(),
            };
            tracing::warn!(action = %action.key, tx = %hash, ?old_block, "mined transaction left the canonical chain");
            let e = Event::TxReorged(event::TxReorged {
                action: action.key.to_string(),
                tx_hash: hash.to_string(),
                block_number: old_block,
                block_hash: block_hash.to_string(),
                detail,
            });
            action.status = ActionStatus::Sent;
            action.receipt = None;
            // rebroadcast the recorded bytes at once: the node may have dropped them
            ctx.sent_at.lock().await.remove(&action.key);
            ctx.record(action.clone(), Some(e)).await?;
            follow(ctx, action).await
        }
    }
}

/// Done once the transaction is `confirmations` deep, else waiting with the count.
fn depth_progress(ctx: &TxCtx<'_>, action: &ActionRecord, block: u64, head: u64) -> Progress {
    let depth = head.saturating_add(1).saturating_sub(block);
    if depth >= ctx.confirmations {
        Progress::Done(mined_text(action))
    } else {
        Progress::Waiting(format!(
            "{}; {depth} of {} confirmations",
            mined_text(action),
            ctx.confirmations
        ))
    }
}

async fn fees(ctx: &TxCtx<'_>) -> Result<(u128, u128)> {
    latest_fees(ctx.link).await
}

/// The latest block's base fee and the node's suggested tip, in wei.
///
/// # Errors
/// When the chain cannot be read.
pub(crate) async fn latest_fees(link: &ChainLink) -> Result<(u128, u128)> {
    let block = link
        .read("eth_getBlockByNumber", |p| async move {
            p.get_block_by_number(alloy::eips::BlockNumberOrTag::Latest).await
        })
        .await?;
    let base = block.and_then(|b| b.header.base_fee_per_gas).map_or(0, u128::from);
    let tip = link
        .read("eth_maxPriorityFeePerGas", |p| async move { p.get_max_priority_fee_per_gas().await })
        .await
        .unwrap_or(0);
    Ok((base, tip))
}

async fn start(ctx: &TxCtx<'_>, action: &mut ActionRecord) -> Result<Progress> {
    let link = ctx.link;
    let from = ctx.key.address();
    // a call to an address without code "succeeds" and changes nothing: a
    // pause that would be reported done while nothing is paused. Read before
    // the simulation, not beside it: two requests at once on one WebSocket
    // can wait for a delayed ACK (see `firebreak_chain::fetch_block_in_turn`),
    // which costs more than the round trip saved.
    let to = action.to;
    let code = link.read("eth_getCode", |p| async move { p.get_code_at(to).await }).await;
    let simulated =
        simulate_value(link, from, (action.to, action.value), &action.calldata, &ctx.abis).await;
    // a plain ETH transfer (a sweep to a cold address) needs no code
    let plain_transfer = action.calldata.is_empty() && !action.value.is_zero();
    if code?.is_empty() && !plain_transfer {
        action.status = ActionStatus::Failed;
        action.error = Some(format!(
            "there is no contract code at {to} on chain {}: check the address in the plan (`firebreak verify` proves it)",
            link.chain_id
        ));
        let e = Event::ActionFailed(event::ActionFailed {
            action: action.key.to_string(),
            to: Some(to.to_string()),
            reason: action.error.clone(),
        });
        ctx.record(action.clone(), Some(e)).await?;
        return Ok(Progress::Failed(action.error.clone().unwrap_or_default()));
    }
    if let Some(reason) = simulated? {
        action.status = ActionStatus::Failed;
        action.error = Some(format!("simulation from {from} reverted: {reason}"));
        let e = Event::SimulationReverted(event::SimulationReverted {
            action: action.key.to_string(),
            from: from.to_string(),
            to: action.to.to_string(),
            reason,
        });
        ctx.record(action.clone(), Some(e)).await?;
        return Ok(Progress::Failed(action.error.clone().unwrap_or_default()));
    }
    let req = TransactionRequest::default()
        .from(from)
        .to(action.to)
        .value(action.value)
        .input(action.calldata.clone().into());
    let estimate = link
        .read("eth_estimateGas", |p| {
            let req = req.clone();
            async move { p.estimate_gas(req).await }
        })
        .await?;
    let gas_limit = estimate.saturating_mul(5) / 4 + 20_000;
    let (base, suggested) = fees(ctx).await?;
    let (max_fee, tip) = ctx.policy.initial(base, suggested);
    let owner = ctx.nonces.owner(link.chain_id, from);
    let mut next = owner.lock().await;
    // the lock is held until the transaction is recorded and broadcast
    let pending = link
        .read("eth_getTransactionCount", |p| async move {
            p.get_transaction_count(from).pending().await
        })
        .await?;
    let nonce = pending.max(*next);
    sign_and_send(ctx, action, (nonce, Some(&mut *next)), gas_limit, max_fee, tip, Event::TxSigned)
        .await
}

async fn sign_and_send(
    ctx: &TxCtx<'_>,
    action: &mut ActionRecord,
    (nonce, next): (u64, Option<&mut u64>),
    gas_limit: u64,
    max_fee: u128,
    tip: u128,
    event: fn(event::TxSigned) -> Event,
) -> Result<Progress> {
    let (hash, raw) = match ctx.key {
        Sender::Key(key) => {
            let mut tx = TxEip1559 {
                chain_id: ctx.link.chain_id,
                nonce,
                gas_limit,
                max_fee_per_gas: max_fee,
                max_priority_fee_per_gas: tip,
                to: TxKind::Call(action.to),
                value: action.value,
                access_list: Default::default(),
                input: action.calldata.clone(),
            };
            let sig = key.sign_transaction_sync(&mut tx).map_err(|e| Error::Sign {
                signer: key.address().to_string(),
                detail: e.to_string(),
            })?;
            let envelope: TxEnvelope = tx.into_signed(sig).into();
            (*envelope.tx_hash(), Bytes::from(envelope.encoded_2718()))
        }
        Sender::Impersonated(from) => {
            // the node signs for the impersonated account: no bytes to store
            // first, but the nonce is recorded as ours before the node sees
            // it, so the watcher never takes the transaction for a foreign
            // use of the key (`tx.firebreak`); a restart signs afresh
            if next.is_some() {
                action.nonce = Some(nonce);
                ctx.record(action.clone(), None).await?;
            }
            let req = TransactionRequest::default()
                .from(*from)
                .to(action.to)
                .value(action.value)
                .input(action.calldata.clone().into())
                .nonce(nonce)
                .gas_limit(gas_limit)
                .max_fee_per_gas(max_fee)
                .max_priority_fee_per_gas(tip);
            let sent =
                tokio::time::timeout(ctx.link.timeout(), ctx.link.primary().send_transaction(req))
                    .await
                    .map_err(|_| Error::Rpc {
                        chain_id: ctx.link.chain_id,
                        what: "eth_sendTransaction",
                        detail: format!("no answer within {:?}", ctx.link.timeout()),
                        retryable: true,
                    })?;
            match sent.map_err(rpc(ctx.link, "eth_sendTransaction")) {
                Ok(pending) => (*pending.tx_hash(), Bytes::new()),
                // a replacement the node refuses (the first offer was mined
                // meanwhile, or a better one holds the nonce) is a refused
                // broadcast, as for signed bytes: the transactions already
                // sent are followed on
                Err(e) if next.is_none() => {
                    refused_replacement(ctx, action, &e).await?;
                    return Ok(in_flight(action));
                }
                Err(e) => return Err(e),
            }
        }
    };
    action.nonce = Some(nonce);
    action.status = ActionStatus::Sent;
    action.attempts.push(TxAttempt {
        hash,
        raw: raw.clone(),
        nonce,
        max_fee,
        priority_fee: tip,
        at_ms: now_ms(),
    });
    let signed = event::TxSigned {
        action: action.key.to_string(),
        tx_hash: hash.to_string(),
        nonce,
        gas_limit,
        max_fee_per_gas: max_fee.to_string(),
        max_priority_fee_per_gas: tip.to_string(),
        attempt: action.attempts.len(),
    };
    // write-ahead: the signed bytes are durable before any node sees them
    ctx.record(action.clone(), Some(event(signed))).await?;
    if let Some(next) = next {
        // recorded, so it reaches the node even if this broadcast fails
        // (following it rebroadcasts): the sender's next transaction takes
        // the nonce after it
        *next = nonce + 1;
    }
    halt_point("after-sign").await;
    broadcast(ctx, action, &raw).await?;
    halt_point("after-broadcast").await;
    Ok(in_flight(action))
}

/// Records a replacement the node would not take from an impersonated
/// sender; the next look happens a block later.
async fn refused_replacement(ctx: &TxCtx<'_>, action: &ActionRecord, e: &Error) -> Result<()> {
    let head =
        ctx.link.read("eth_blockNumber", |p| async move { p.get_block_number().await }).await?;
    ctx.sent_at.lock().await.insert(action.key.clone(), head);
    let error = firebreak_primitives::error_chain(e);
    tracing::warn!(action = %action.key, %error, head, "replacement refused by the node");
    let hash = action.attempts.last().map(|a| a.hash.to_string()).unwrap_or_default();
    let e = Event::TxBroadcast(event::TxBroadcast {
        action: action.key.to_string(),
        tx_hash: hash,
        accepted_by: 0,
        endpoints: vec![event::EndpointAnswer {
            endpoint: "node (impersonated sender)".to_owned(),
            accepted: false,
            error: Some(error),
        }],
        head,
        replacement: Some(true),
    });
    ctx.store.append(action.incident, firebreak_primitives::Actor::System, e).await?;
    Ok(())
}

async fn broadcast(ctx: &TxCtx<'_>, action: &ActionRecord, raw: &Bytes) -> Result<()> {
    let head =
        ctx.link.read("eth_blockNumber", |p| async move { p.get_block_number().await }).await?;
    let results = if raw.is_empty() {
        // sent by the node itself (impersonated): it has it already
        vec![("node (impersonated sender)".to_owned(), Ok(()))]
    } else {
        ctx.link.broadcast(raw).await
    };
    ctx.sent_at.lock().await.insert(action.key.clone(), head);
    let accepted = results.iter().filter(|(_, r)| r.is_ok()).count();
    let mut endpoints: Vec<event::EndpointAnswer> = results
        .iter()
        .map(|(label, r)| event::EndpointAnswer {
            endpoint: label.clone(),
            accepted: r.is_ok(),
            error: r.as_ref().err().map(ToString::to_string),
        })
        .collect();
    // a pre-emptive pause: also a bundle [pause, attack] to each builder
    if !raw.is_empty()
        && let Some(target) = ctx.bundles.get(action.incident)
    {
        endpoints.extend(crate::bundle::send(&target, raw, head).await);
    }
    let hash = action.attempts.last().map(|a| a.hash.to_string()).unwrap_or_default();
    tracing::info!(action = %action.key, tx = %hash, accepted, head, "broadcast");
    let e = Event::TxBroadcast(event::TxBroadcast {
        action: action.key.to_string(),
        tx_hash: hash,
        accepted_by: accepted,
        endpoints,
        head,
        replacement: None,
    });
    ctx.store.append(action.incident, firebreak_primitives::Actor::System, e).await?;
    Ok(())
}

async fn follow(ctx: &TxCtx<'_>, action: &mut ActionRecord) -> Result<Progress> {
    let link = ctx.link;
    let from = ctx.key.address();
    let nonce = action.nonce.unwrap_or(0);
    let hashes: Vec<B256> = action.attempts.iter().rev().map(|a| a.hash).collect();
    // receipts and the sender's nonce from one endpoint at one block: a
    // lagging node cannot make a mined transaction look replaced and get a
    // second one signed. The block comes first: a transaction of ours mined
    // at or below it has its receipt on this node by the time it is asked.
    // The fee decision below uses the same block: a pause mined right after
    // these reads is not taken for one left behind.
    let (found, mined_nonce, head) = link
        .read_at("eth_getTransactionReceipt", |p, at| {
            let hashes = hashes.clone();
            async move {
                for h in &hashes {
                    if let Some(r) = p.get_transaction_receipt(*h).await? {
                        return Ok((Some((*h, r)), 0, at.number));
                    }
                }
                let n = p.get_transaction_count(from).number(at.number).await?;
                Ok((None, n, at.number))
            }
        })
        .await?;
    if let Some((hash, r)) = found {
        return record_receipt(ctx, action, hash, &r).await;
    }
    if mined_nonce > nonce {
        // a node may count a block's transactions in the nonce before it
        // serves their receipts (a head a moment ahead of its receipts): look
        // once more before taking the nonce for another transaction's
        let again = link
            .read("eth_getTransactionReceipt", |p| {
                let hashes = hashes.clone();
                async move {
                    for h in &hashes {
                        if let Some(r) = p.get_transaction_receipt(*h).await? {
                            return Ok(Some((*h, r)));
                        }
                    }
                    Ok(None)
                }
            })
            .await?;
        if let Some((hash, r)) = again {
            return record_receipt(ctx, action, hash, &r).await;
        }
        let e = Event::NonceTaken(event::NonceTaken {
            action: action.key.to_string(),
            nonce,
            sender: from.to_string(),
            detail: "another transaction from the same key took this nonce; signing again"
                .to_owned(),
        });
        action.status = ActionStatus::Planned;
        action.nonce = None;
        ctx.record(action.clone(), Some(e)).await?;
        return start(ctx, action).await;
    }
    let sent = ctx.sent_at.lock().await.get(&action.key).copied();
    let Some(last) = action.attempts.last().cloned() else {
        action.status = ActionStatus::Planned;
        return start(ctx, action).await;
    };
    match sent {
        None => {
            // first look after a restart: the node may never have seen it
            broadcast(ctx, action, &last.raw).await?;
            Ok(in_flight(action))
        }
        // a block went by without it; or the attacker a pre-emptive pause
        // must precede raised its fees above the pause's: outbid it now,
        // not a block later
        Some(at) if head > at || ctx.policy.outbid_by((last.max_fee, last.priority_fee)) => {
            let (base, suggested) = fees(ctx).await?;
            let (max_fee, tip) =
                ctx.policy.bump((last.max_fee, last.priority_fee), base, suggested);
            let gas_limit = decode_gas_limit(&last.raw).unwrap_or(500_000);
            sign_and_send(ctx, action, (nonce, None), gas_limit, max_fee, tip, Event::TxReplaced)
                .await
        }
        Some(_) => Ok(in_flight(action)),
    }
}

/// The same words for every round while a transaction waits, so that the
/// step's record changes only when something happens.
fn in_flight(action: &ActionRecord) -> Progress {
    let hash = action.attempts.last().map(|a| a.hash.to_string()).unwrap_or_default();
    let nonce = action.nonce.unwrap_or_default();
    let replacements = action.attempts.len().saturating_sub(1);
    let extra = if replacements > 0 {
        format!(", {replacements} fee replacement(s)")
    } else {
        String::new()
    };
    Progress::Waiting(format!("transaction {hash} (nonce {nonce}{extra}) waiting to be mined"))
}

fn decode_gas_limit(raw: &Bytes) -> Option<u64> {
    use alloy::consensus::Transaction as _;
    use alloy::eips::eip2718::Decodable2718 as _;
    TxEnvelope::decode_2718(&mut raw.as_ref()).ok().map(|t| t.gas_limit())
}

async fn record_receipt(
    ctx: &TxCtx<'_>,
    action: &mut ActionRecord,
    hash: B256,
    r: &alloy::rpc::types::TransactionReceipt,
) -> Result<Progress> {
    halt_point("before-receipt").await;
    let ok = r.status();
    let receipt = event::Receipt {
        tx_hash: hash.to_string(),
        block_number: r.block_number,
        block_hash: r.block_hash.map(|h| h.to_string()),
        gas_used: r.gas_used,
        effective_gas_price: r.effective_gas_price.to_string(),
        status: ok,
        attempt: action.attempts.iter().position(|a| a.hash == hash).map(|i| i + 1),
    };
    action.receipt = Some(json!(receipt));
    let outcome = event::TxOutcome { action: action.key.to_string(), receipt };
    if ok {
        action.status = ActionStatus::Mined;
        ctx.record(action.clone(), Some(Event::TxMined(outcome))).await?;
        if ctx.confirmations <= 1 {
            return Ok(Progress::Done(mined_text(action)));
        }
        let head =
            ctx.link.read("eth_blockNumber", |p| async move { p.get_block_number().await }).await?;
        let block = r.block_number.unwrap_or(head);
        return Ok(depth_progress(ctx, action, block, head));
    }
    action.status = ActionStatus::Reverted;
    action.error = Some(format!("transaction {hash} reverted on chain"));
    ctx.record(action.clone(), Some(Event::TxReverted(outcome))).await?;
    Ok(Progress::Failed(action.error.clone().unwrap_or_default()))
}
