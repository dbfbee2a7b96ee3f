//! A plan chain's RPC endpoints, with secret URLs resolved and kept secret.

use firebreak_chain::{ChainLink, RpcEndpoint};
use firebreak_plan::{Endpoint, Plan};

use crate::error::{Error, Result};

/// The endpoints of plan chain `key`, in the plan's order, and for each one
/// left out because its secret did not resolve, why (safe to print).
///
/// # Errors
/// When the plan has no such chain.
pub fn plan_endpoints(plan: &Plan, key: &str) -> Result<(Vec<RpcEndpoint>, Vec<String>)> {
    let chain = plan.chains.get(key).ok_or(Error::Plan { what: "chain", id: key.into() })?;
    Ok(resolve(plan, &chain.rpc))
}

/// The block builders of chain `key` (`[chains.X] builders`), secrets
/// resolved, and those skipped (a secret that does not resolve), as
/// [`plan_endpoints`].
///
/// # Errors
/// When the plan has no chain `key`.
pub fn plan_builders(plan: &Plan, key: &str) -> Result<(Vec<RpcEndpoint>, Vec<String>)> {
    let chain = plan.chains.get(key).ok_or(Error::Plan { what: "chain", id: key.into() })?;
    Ok(resolve(plan, &chain.builders))
}

fn resolve(plan: &Plan, list: &[Endpoint]) -> (Vec<RpcEndpoint>, Vec<String>) {
    let mut endpoints = Vec::new();
    let mut skipped = Vec::new();
    for ep in list {
        match ep {
            Endpoint::Url(u) => endpoints.push(RpcEndpoint::public(u.clone())),
            Endpoint::Secret(s) => match firebreak_plan::resolve_secret(s, &plan.base_dir) {
                Ok(url) => endpoints.push(RpcEndpoint::secret(ep.describe(), url)),
                Err(e) => skipped.push(format!("{}: {e} ({})", ep.describe(), e.hint())),
            },
        }
    }
    (endpoints, skipped)
}

/// Connects to every endpoint of plan chain `key` that answers, with the
/// default timeout per call; endpoints that fail are left out with a warning.
///
/// # Errors
/// When the chain is unknown or no endpoint connects.
pub async fn connect_link(plan: &Plan, key: &str) -> Result<ChainLink> {
    connect_link_with(plan, key, ChainLink::DEFAULT_TIMEOUT).await
}

/// As [`connect_link`], with `timeout` per call.
///
/// # Errors
/// As [`connect_link`].
pub async fn connect_link_with(
    plan: &Plan,
    key: &str,
    timeout: std::time::Duration,
) -> Result<ChainLink> {
    let (endpoints, skipped) = plan_endpoints(plan, key)?;
    for why in skipped {
        tracing::warn!(chain = key, %why, "endpoint skipped");
    }
    let chain_id = plan.chains.get(key).map_or(0, |c| c.id);
    Ok(ChainLink::connect(key, chain_id, endpoints, timeout).await?)
}
