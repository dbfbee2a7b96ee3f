//! Pausing through a Safe: build the SafeTx (one call, or a MultiSendCallOnly
//! batch), check its hash against the Safe's own `getTransactionHash`,
//! collect owner signatures (hot signers, humans, pre-signed), and once the
//! threshold is met hand `execTransaction` to the relayer as an ordinary
//! transaction.

use alloy::{providers::Provider as _, rpc::types::TransactionRequest};
use alloy_primitives::{Address, B256, Bytes, U256};
use alloy_signer_local::PrivateKeySigner;
use firebreak_primitives::{Actor, Event, event};
use firebreak_safe::{OwnerSignature, SafeTx, multisend_calldata, pack_signatures, recover_owner};
use firebreak_store::{ActionRecord, ActionStatus, IncidentStore, SafeSignature};

use crate::{
    ChainLink,
    error::{Error, Result},
    tx::{Progress, TxCtx, advance, simulate},
};

alloy_sol_types::sol! {
    function nonce() external view returns (uint256);
    function getOwners() external view returns (address[]);
    function getThreshold() external view returns (uint256);
    function getTransactionHash(address to, uint256 value, bytes data, uint8 operation, uint256 safeTxGas, uint256 baseGas, uint256 gasPrice, address gasToken, address refundReceiver, uint256 _nonce) external view returns (bytes32);
}

async fn view<C: alloy_sol_types::SolCall>(
    link: &ChainLink,
    safe: Address,
    call: C,
    what: &'static str,
) -> Result<C::Return> {
    let data: Bytes = call.abi_encode().into();
    let out = link
        .read(what, |p| {
            let req = TransactionRequest::default().to(safe).input(data.clone().into());
            async move { p.call(req).await }
        })
        .await?;
    C::abi_decode_returns(&out).map_err(|e| Error::Rpc {
        chain_id: link.chain_id,
        what,
        detail: format!("undecodable answer: {e}"),
        retryable: false,
    })
}

/// The Safe's current nonce.
///
/// # Errors
/// When the chain cannot be read.
pub async fn safe_nonce(link: &ChainLink, safe: Address) -> Result<u64> {
    Ok(view(link, safe, nonceCall {}, "Safe.nonce").await?.saturating_to())
}

/// The Safe's nonce, owners and threshold as on chain.
pub async fn safe_state(link: &ChainLink, safe: Address) -> Result<(u64, Vec<Address>, u64)> {
    let nonce = view(link, safe, nonceCall {}, "Safe.nonce").await?;
    let owners = view(link, safe, getOwnersCall {}, "Safe.getOwners").await?;
    let threshold = view(link, safe, getThresholdCall {}, "Safe.getThreshold").await?;
    Ok((nonce.saturating_to(), owners, threshold.saturating_to()))
}

/// The SafeTx performing `calls` at `nonce`: one call, or a batch.
pub fn build_safe_tx(calls: &[(Address, Bytes)], multisend: Address, nonce: u64) -> SafeTx {
    match calls {
        [(to, data)] => SafeTx::call(*to, data.clone(), U256::from(nonce)),
        _ => SafeTx {
            operation: firebreak_safe::Operation::DelegateCall,
            ..SafeTx::call(multisend, multisend_calldata(calls), U256::from(nonce))
        },
    }
}

/// Asks the Safe for the hash of `tx`.
pub(crate) async fn onchain_hash(link: &ChainLink, safe: Address, tx: &SafeTx) -> Result<B256> {
    let call = getTransactionHashCall {
        to: tx.to,
        value: tx.value,
        data: tx.data.clone(),
        operation: tx.operation.as_u8(),
        safeTxGas: tx.safe_tx_gas,
        baseGas: tx.base_gas,
        gasPrice: tx.gas_price,
        gasToken: tx.gas_token,
        refundReceiver: tx.refund_receiver,
        _nonce: tx.nonce,
    };
    view(link, safe, call, "Safe.getTransactionHash").await
}

/// The valid owner signatures stored for `hash`.
///
/// # Errors
/// When the store fails.
pub async fn valid_signatures(
    store: &dyn IncidentStore,
    hash: B256,
    owners: &[Address],
) -> Result<Vec<OwnerSignature>> {
    let mut out: Vec<OwnerSignature> = Vec::new();
    for s in store.signatures(hash).await? {
        match recover_owner(hash, &s.signature, owners) {
            Ok(sig) if sig.owner == s.signer && !out.iter().any(|o| o.owner == sig.owner) => {
                out.push(sig);
            }
            _ => {}
        }
    }
    Ok(out)
}

/// What a Safe action needs beyond a transaction's.
#[derive(Debug)]
pub(crate) struct SafeCtx<'a> {
    pub tx: TxCtx<'a>,
    pub safe_id: &'a str,
    pub safe: Address,
    pub multisend: Address,
    pub hot: Vec<(&'a str, &'a PrivateKeySigner)>,
    /// Inner calls: (target, calldata).
    pub calls: Vec<(Address, Bytes)>,
    /// Owners whose signatures never count (a compromised account): the
    /// threshold is met by the others.
    pub avoid: &'a [Address],
}

/// Advances a Safe action by one round.
pub(crate) async fn advance_safe(ctx: &SafeCtx<'_>, action: &mut ActionRecord) -> Result<Progress> {
    if !matches!(action.status, ActionStatus::Planned | ActionStatus::AwaitingSignatures)
        || !action.attempts.is_empty()
    {
        return advance(&ctx.tx, action).await;
    }
    let link = ctx.tx.link;
    let store = ctx.tx.store;
    let (nonce, owners, threshold) = safe_state(link, ctx.safe).await?;
    let current: Option<SafeTx> =
        action.safe_tx.as_ref().and_then(|v| serde_json::from_value(v.clone()).ok());
    let stale = current.as_ref().is_some_and(|t| t.nonce != U256::from(nonce));
    if current.is_none() || stale {
        for (to, data) in &ctx.calls {
            if let Some(reason) = simulate(link, ctx.safe, *to, data, &ctx.tx.abis).await? {
                action.status = ActionStatus::Failed;
                action.error =
                    Some(format!("simulation from Safe {} reverted: {reason}", ctx.safe));
                let e = Event::SimulationReverted(event::SimulationReverted {
                    action: action.key.to_string(),
                    from: ctx.safe.to_string(),
                    to: to.to_string(),
                    reason,
                });
                ctx.tx.record(action.clone(), Some(e)).await?;
                return Ok(Progress::Failed(action.error.clone().unwrap_or_default()));
            }
        }
        let tx = build_safe_tx(&ctx.calls, ctx.multisend, nonce);
        let hash = tx.hash(link.chain_id, ctx.safe);
        let theirs = onchain_hash(link, ctx.safe, &tx).await?;
        if theirs != hash {
            action.status = ActionStatus::Failed;
            action.error = Some(format!(
                "SafeTx hash {hash} differs from the Safe's own {theirs}; not signing"
            ));
            ctx.tx
                .record(
                    action.clone(),
                    Some(Event::SafeHashMismatch(event::SafeHashMismatch {
                        ours: hash.to_string(),
                        safe: theirs.to_string(),
                    })),
                )
                .await?;
            return Ok(Progress::Failed(action.error.clone().unwrap_or_default()));
        }
        let kind = if stale { Event::SafeNonceMoved } else { Event::SafeTxBuilt };
        action.safe_tx = Some(
            serde_json::to_value(&tx)
                .map_err(|e| Error::Sign { signer: ctx.safe_id.into(), detail: e.to_string() })?,
        );
        action.safe_tx_hash = Some(hash);
        action.status = ActionStatus::AwaitingSignatures;
        let body = event::SafeTxBuilt {
            action: action.key.to_string(),
            safe: ctx.safe.to_string(),
            safe_tx_hash: hash.to_string(),
            nonce,
            to: tx.to.to_string(),
            operation: match tx.operation {
                firebreak_safe::Operation::Call => "call",
                firebreak_safe::Operation::DelegateCall => "delegate_call",
            }
            .to_owned(),
            calls: ctx.calls.len(),
            threshold,
        };
        ctx.tx.record(action.clone(), Some(kind(body))).await?;
    }
    let Some(hash) = action.safe_tx_hash else {
        return Ok(Progress::Failed("Safe action without a SafeTx hash".into()));
    };
    for (id, key) in &ctx.hot {
        if !owners.contains(&key.address()) {
            continue;
        }
        let have = store.signatures(hash).await?.iter().any(|s| s.signer == key.address());
        if have {
            continue;
        }
        let sig = alloy::signers::SignerSync::sign_hash_sync(*key, &hash)
            .map_err(|e| Error::Sign { signer: (*id).to_owned(), detail: e.to_string() })?;
        let s = SafeSignature {
            safe_tx_hash: hash,
            signer: key.address(),
            signature: Bytes::from(sig.as_bytes().to_vec()),
            source: format!("hot:{id}"),
        };
        store.add_signature(s, Some((action.incident, Actor::System))).await?;
    }
    let mut sigs = valid_signatures(store, hash, &owners).await?;
    sigs.retain(|s| !ctx.avoid.contains(&s.owner));
    if (sigs.len() as u64) < threshold {
        let mut detail = format!(
            "Safe `{}` has {} of {} signatures for SafeTx {hash}; another owner runs `firebreak safe sign {} --keystore FILE`",
            ctx.safe_id,
            sigs.len(),
            threshold,
            action.incident
        );
        if !ctx.avoid.is_empty() {
            // say who can still sign, and who never counts
            let can: Vec<String> = owners
                .iter()
                .filter(|o| !ctx.avoid.contains(o) && !sigs.iter().any(|s| s.owner == **o))
                .map(ToString::to_string)
                .collect();
            let never: Vec<String> = ctx.avoid.iter().map(ToString::to_string).collect();
            detail.push_str(&format!(
                " (uncompromised owners who have not signed: {}; never {}, the compromised account)",
                if can.is_empty() { "none".to_owned() } else { can.join(", ") },
                never.join(", ")
            ));
        }
        if action.error.as_deref() != Some(detail.as_str()) {
            action.error = Some(detail.clone());
            ctx.tx.record(action.clone(), None).await?;
        }
        return Ok(Progress::Waiting(detail));
    }
    let Some(tx) =
        action.safe_tx.as_ref().and_then(|v| serde_json::from_value::<SafeTx>(v.clone()).ok())
    else {
        return Ok(Progress::Failed("stored SafeTx does not decode".into()));
    };
    let mut chosen = sigs;
    chosen.sort_by_key(|s| s.owner);
    chosen.truncate(threshold as usize);
    let signers: Vec<String> = chosen.iter().map(|s| s.owner.to_string()).collect();
    let packed = pack_signatures(chosen)
        .map_err(|e| Error::Sign { signer: ctx.safe_id.into(), detail: e.to_string() })?;
    action.calldata = tx.exec_calldata(packed);
    action.status = ActionStatus::Planned;
    action.error = None;
    let e = Event::SafeThresholdMet(event::SafeThresholdMet {
        action: action.key.to_string(),
        safe_tx_hash: hash.to_string(),
        signers,
        relayer: ctx.tx.key.address().to_string(),
    });
    ctx.tx.record(action.clone(), Some(e)).await?;
    advance(&ctx.tx, action).await
}

/// A human owner's signature, accepted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Submitted {
    /// SafeTx hash signed.
    pub safe_tx_hash: B256,
    /// The owner.
    pub owner: Address,
    /// Valid signatures now held (this one included).
    pub have: usize,
    /// Signatures the Safe needs.
    pub threshold: u64,
    /// `false` when this owner had already signed.
    pub new: bool,
}

/// Signs the SafeTx of Safe `action` with `key` after checking that the
/// Safe computes the same hash and that `key` is one of its owners, and
/// records the signature (the daemon executes once the threshold is met).
///
/// # Errors
/// [`Error::NotOwner`], [`Error::HashMismatch`], RPC and store failures.
pub async fn submit_signature(
    store: &dyn IncidentStore,
    link: &ChainLink,
    action: &ActionRecord,
    key: &PrivateKeySigner,
    actor: Actor,
) -> Result<Submitted> {
    let (Some(hash), Some(tx)) = (
        action.safe_tx_hash,
        action.safe_tx.as_ref().and_then(|v| serde_json::from_value::<SafeTx>(v.clone()).ok()),
    ) else {
        return Err(Error::Plan { what: "SafeTx for action", id: action.key.to_string() });
    };
    let safe = action.to;
    let theirs = onchain_hash(link, safe, &tx).await?;
    if theirs != hash || tx.hash(link.chain_id, safe) != hash {
        return Err(Error::HashMismatch { ours: hash, theirs });
    }
    let (_, owners, threshold) = safe_state(link, safe).await?;
    if !owners.contains(&key.address()) {
        return Err(Error::NotOwner { signer: key.address(), safe });
    }
    let sig = alloy::signers::SignerSync::sign_hash_sync(key, &hash)
        .map_err(|e| Error::Sign { signer: key.address().to_string(), detail: e.to_string() })?;
    // the same check the Safe makes: the signature recovers to an owner
    recover_owner(hash, &sig.as_bytes(), &owners)
        .map_err(|_| Error::NotOwner { signer: key.address(), safe })?;
    let source = match &actor {
        Actor::Member(m) => format!("member:{m}"),
        other => other.to_string(),
    };
    let s = SafeSignature {
        safe_tx_hash: hash,
        signer: key.address(),
        signature: Bytes::from(sig.as_bytes().to_vec()),
        source,
    };
    let new = store.add_signature(s, Some((action.incident, actor))).await?;
    let have = valid_signatures(store, hash, &owners).await?.len();
    Ok(Submitted { safe_tx_hash: hash, owner: key.address(), have, threshold, new })
}

/// The pause batch of Safe `name`: every contract whose pause path goes
/// through it, in plan order, as (contract key, target, calldata).
pub fn pause_batch(plan: &firebreak_plan::Plan, name: &str) -> Vec<(String, Address, Bytes)> {
    plan.contracts
        .iter()
        .filter_map(|(key, c)| {
            let path = c.pause.as_ref()?;
            path.via
                .iter()
                .any(|a| matches!(a, firebreak_plan::Authority::Safe(s) if s == name))
                .then(|| (key.clone(), c.address, path.calldata.clone()))
        })
        .collect()
}

/// What `presign` stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PresignOutcome {
    /// Safe nonce the batch is valid at.
    pub nonce: u64,
    /// SafeTx hash.
    pub safe_tx_hash: B256,
    /// Contracts the batch pauses.
    pub contracts: Vec<String>,
    /// Valid signatures held for it.
    pub have: usize,
    /// Signatures the Safe needs.
    pub threshold: u64,
}

/// Signs the pause batch of Safe `name` at the Safe's current nonce with
/// `keys` (each must be an owner) and stores it, so that the executor can
/// pause with it without waiting for anyone.
///
/// # Errors
/// An unknown Safe, a Safe with nothing to pause, a key that is not an
/// owner, a hash mismatch, RPC and store failures.
pub async fn presign(
    plan: &firebreak_plan::Plan,
    link: &ChainLink,
    store: &dyn IncidentStore,
    name: &str,
    keys: &[(String, &PrivateKeySigner)],
) -> Result<PresignOutcome> {
    let safe = plan.safes.get(name).ok_or(Error::Plan { what: "safe", id: name.into() })?;
    let batch = pause_batch(plan, name);
    if batch.is_empty() {
        return Err(Error::Plan { what: "contract paused through safe", id: name.into() });
    }
    let (nonce, owners, threshold) = safe_state(link, safe.address).await?;
    let calls: Vec<(Address, Bytes)> = batch.iter().map(|(_, a, d)| (*a, d.clone())).collect();
    let tx = build_safe_tx(&calls, safe.multisend, nonce);
    let hash = tx.hash(link.chain_id, safe.address);
    let theirs = onchain_hash(link, safe.address, &tx).await?;
    if theirs != hash {
        return Err(Error::HashMismatch { ours: hash, theirs });
    }
    for (source, key) in keys {
        if !owners.contains(&key.address()) {
            return Err(Error::NotOwner { signer: key.address(), safe: safe.address });
        }
        let sig = alloy::signers::SignerSync::sign_hash_sync(*key, &hash)
            .map_err(|e| Error::Sign { signer: source.clone(), detail: e.to_string() })?;
        let s = SafeSignature {
            safe_tx_hash: hash,
            signer: key.address(),
            signature: Bytes::from(sig.as_bytes().to_vec()),
            source: format!("presigned:{source}"),
        };
        store.add_signature(s, None).await?;
    }
    let contracts: Vec<String> = batch.into_iter().map(|(k, _, _)| k).collect();
    store
        .put_presigned(firebreak_store::Presigned {
            chain_id: link.chain_id,
            safe: safe.address,
            nonce,
            safe_tx_hash: hash,
            safe_tx: serde_json::to_value(&tx)
                .map_err(|e| Error::Sign { signer: name.into(), detail: e.to_string() })?,
            contracts: contracts.clone(),
            created_ms: firebreak_primitives::now_ms(),
        })
        .await?;
    let have = valid_signatures(store, hash, &owners).await?.len();
    Ok(PresignOutcome { nonce, safe_tx_hash: hash, contracts, have, threshold })
}
