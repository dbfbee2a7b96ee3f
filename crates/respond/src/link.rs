//! The executor's connection to a chain: every endpoint of the plan, reads
//! with failover, broadcasts to all.

use alloy::providers::{DynProvider, Provider};
use alloy_primitives::Bytes;
use firebreak_plan::{Endpoint, Plan};

use crate::error::{Error, Result};

/// All endpoints of one chain.
#[derive(Debug, Clone)]
pub struct ChainLink {
    /// Chain key in the plan.
    pub key: String,
    /// Chain id.
    pub chain_id: u64,
    endpoints: Vec<(String, DynProvider)>,
    /// (url, label) of endpoints whose URL came from a secret: never shown.
    secret_urls: Vec<(String, String)>,
    /// Longest wait for one endpoint's answer before the next is tried.
    timeout: std::time::Duration,
}

impl ChainLink {
    /// Connects to every endpoint of plan chain `key` that answers; endpoints
    /// that fail are left out with a warning.
    ///
    /// # Errors
    /// When the chain is unknown or no endpoint connects.
    pub async fn connect(plan: &Plan, key: &str) -> Result<Self> {
        let chain = plan.chains.get(key).ok_or(Error::Plan { what: "chain", id: key.into() })?;
        let mut urls = Vec::new();
        for ep in &chain.rpc {
            match ep {
                Endpoint::Url(u) => urls.push((u.clone(), u.clone())),
                Endpoint::Secret(s) => match firebreak_plan::resolve_secret(s, &plan.base_dir) {
                    Ok(v) => urls
                        .push((ep.describe(), secrecy::ExposeSecret::expose_secret(&v).to_owned())),
                    Err(e) => {
                        tracing::warn!(chain = key, endpoint = %ep.describe(), error = %e, "endpoint skipped")
                    }
                },
            }
        }
        Self::from_urls(key, chain.id, urls).await
    }

    /// Connects to `(label, url)` endpoints.
    ///
    /// # Errors
    /// When none connects.
    pub async fn from_urls(key: &str, chain_id: u64, urls: Vec<(String, String)>) -> Result<Self> {
        let mut endpoints = Vec::new();
        let secret_urls: Vec<(String, String)> =
            urls.iter().filter(|(l, u)| l != u).map(|(l, u)| (u.clone(), l.clone())).collect();
        for (label, url) in urls {
            let provider = match firebreak_chain::connect(&url).await {
                Ok(p) => p,
                Err(e) => {
                    let error = e.to_string().replace(url.trim_end_matches('/'), &label);
                    tracing::warn!(chain = key, endpoint = %label, %error, "endpoint skipped");
                    continue;
                }
            };
            endpoints.push((label, provider));
        }
        if endpoints.is_empty() {
            return Err(Error::NoEndpoint { chain: key.to_owned() });
        }
        Ok(Self {
            key: key.to_owned(),
            chain_id,
            endpoints,
            secret_urls,
            timeout: Self::DEFAULT_TIMEOUT,
        })
    }

    /// How long one endpoint may take to answer a read by default.
    pub const DEFAULT_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);

    /// Sets how long one endpoint may take to answer before the next is
    /// tried (and, for the last, before the read fails as retryable).
    #[must_use]
    pub const fn with_timeout(mut self, timeout: std::time::Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// How long one endpoint may take to answer.
    pub const fn timeout(&self) -> std::time::Duration {
        self.timeout
    }

    /// `text` with every secret endpoint URL replaced by its label.
    pub fn redact(&self, text: &str) -> String {
        let mut out = text.to_owned();
        for (url, label) in &self.secret_urls {
            out = out.replace(url.trim_end_matches('/'), label);
        }
        out
    }

    /// The first endpoint (simulations run here so that a revert is a revert).
    pub fn primary(&self) -> &DynProvider {
        &self.endpoints[0].1
    }

    /// Runs a read on each endpoint in turn until one answers. Everything
    /// `f` reads comes from one endpoint, so a decision that takes several
    /// reads (a receipt and a nonce, say) never mixes two nodes' views.
    ///
    /// A node's error answer (a revert, an invalid argument) ends the read at
    /// once, as a permanent error: another node would answer the same.
    /// Transport failures and timeouts move on to the next endpoint, and are
    /// retryable when every endpoint fails.
    ///
    /// # Errors
    /// [`Error::Rpc`] with the last endpoint's error.
    pub async fn read<T, F, Fut>(&self, what: &'static str, f: F) -> Result<T>
    where
        F: Fn(DynProvider) -> Fut,
        Fut: std::future::Future<Output = Result<T, alloy::transports::TransportError>>,
    {
        let mut last = String::new();
        for (label, p) in &self.endpoints {
            match tokio::time::timeout(self.timeout, f(p.clone())).await {
                Ok(Ok(v)) => return Ok(v),
                Ok(Err(e)) if !is_retryable(&e) => {
                    return Err(Error::Rpc {
                        chain_id: self.chain_id,
                        what,
                        detail: self.redact(&e.to_string()),
                        retryable: false,
                    });
                }
                Ok(Err(e)) => last = e.to_string(),
                Err(_) => last = format!("{label}: no answer within {:?}", self.timeout),
            }
        }
        Err(Error::Rpc {
            chain_id: self.chain_id,
            what,
            detail: self.redact(&last),
            retryable: true,
        })
    }

    /// Sends a signed transaction to every endpoint at once; returns each
    /// endpoint's answer. "Already known" counts as accepted.
    pub async fn broadcast(&self, raw: &Bytes) -> Vec<(String, Result<(), String>)> {
        let sends = self.endpoints.iter().map(|(label, p)| async move {
            let answer = tokio::time::timeout(
                std::time::Duration::from_secs(5),
                p.send_raw_transaction(raw),
            )
            .await;
            let outcome = match answer {
                Ok(Ok(_)) => Ok(()),
                Ok(Err(e)) => {
                    let text = self.redact(&e.to_string());
                    let lower = text.to_lowercase();
                    if lower.contains("already known") || lower.contains("already imported") {
                        Ok(())
                    } else {
                        Err(text)
                    }
                }
                Err(_) => Err("no answer within 5s".to_owned()),
            };
            (label.clone(), outcome)
        });
        futures::future::join_all(sends).await
    }
}

/// Whether a failed call may succeed later or elsewhere: everything but a
/// node's error answer that is not a rate limit (alloy's `is_retry_err`).
pub(crate) fn is_retryable(e: &alloy::transports::TransportError) -> bool {
    match e {
        alloy::transports::RpcError::ErrorResp(payload) => payload.is_retry_err(),
        _ => true,
    }
}
