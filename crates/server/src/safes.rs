//! The war room's SafeTx allow-list: hashes the team approved for routine
//! operations, each with who and why. A Safe owner approving (`approveHash`)
//! or the Safe executing any other hash is what `!safe_tx.approved` rules
//! catch (a stolen owner key queueing its own transaction).

use axum::{
    Json, Router,
    extract::{Path, State},
    http::StatusCode,
    response::IntoResponse,
    routing::get,
};
use firebreak_primitives::Role;
use firebreak_store::AllowedSafeTx;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::{
    auth::{Caller, require_role},
    error::{ApiError, ApiResult, Body},
    state::WarRoom,
};

/// Roles that may put a SafeTx hash on the allow-list.
const ALLOW: [Role; 3] = [Role::Commander, Role::Operator, Role::Signer];

pub(crate) fn api_routes() -> Router<WarRoom> {
    Router::new().route("/safes/{safe}/allowed", get(list).post(allow))
}

/// A SafeTx hash the team approved.
#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(extend("example" = {"safe_tx_hash": "0x5f1c0e6a2b0a4c1d9e8f7a6b5c4d3e2f1a0b9c8d7e6f5a4b3c2d1e0f9a8b7c6d", "reason": "monthly payroll, ticket OPS-112"}))]
pub(crate) struct AllowBody {
    /// The SafeTx hash (EIP-712), as the signers' hardware wallets show it.
    safe_tx_hash: String,
    /// Why the team approved it.
    reason: String,
}

fn safe_of<'p>(s: &'p WarRoom, safe: &str) -> ApiResult<(&'p firebreak_plan::Safe, u64)> {
    let cfg = s
        .plan
        .safes
        .get(safe)
        .ok_or_else(|| ApiError::NotFound(format!("the plan has no Safe `{safe}`")))?;
    let chain_id = s.plan.chains.get(&cfg.chain).map(|c| c.id).unwrap_or_default();
    Ok((cfg, chain_id))
}

async fn list(
    State(s): State<WarRoom>,
    _caller: Caller,
    Path(safe): Path<String>,
) -> ApiResult<Json<Value>> {
    let (cfg, chain_id) = safe_of(&s, &safe)?;
    let list: Vec<AllowedSafeTx> = s
        .store
        .allowed_safe_txs(chain_id)
        .await?
        .into_iter()
        .filter(|a| a.safe == cfg.address)
        .collect();
    Ok(Json(json!({ "safe": safe, "address": cfg.address, "allowed": list })))
}

async fn allow(
    State(s): State<WarRoom>,
    caller: Caller,
    Path(safe): Path<String>,
    Body(body): Body<AllowBody>,
) -> ApiResult<impl IntoResponse> {
    let (cfg, chain_id) = safe_of(&s, &safe)?;
    let member = caller.of(&s)?;
    require_role(&caller.member, member, &ALLOW, "approve Safe transactions")?;
    let safe_tx_hash = body.safe_tx_hash.trim().parse().map_err(|_| {
        ApiError::Unprocessable(format!(
            "`{}` is not a SafeTx hash: give the 32-byte hash (0x and 64 hex digits)",
            body.safe_tx_hash
        ))
    })?;
    let reason = body.reason.trim();
    if reason.is_empty() {
        return Err(ApiError::Unprocessable(
            "say why the team approved it: `reason` is kept with the hash".into(),
        ));
    }
    let entry = AllowedSafeTx {
        chain_id,
        safe: cfg.address,
        safe_tx_hash,
        member: caller.member.clone(),
        reason: reason.to_owned(),
        at_ms: firebreak_primitives::now_ms(),
    };
    if !s.store.allow_safe_tx(entry.clone()).await? {
        return Err(ApiError::Conflict(format!(
            "SafeTx {safe_tx_hash} is already on Safe `{safe}`'s allow-list"
        )));
    }
    Ok((StatusCode::CREATED, Json(json!({ "allowed": entry }))))
}
