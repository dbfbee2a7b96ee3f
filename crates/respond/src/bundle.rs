//! Bundles for block builders. A pause sent to pre-empt a pending attack
//! also goes, where the plan names builder endpoints (`[chains.X] builders`),
//! as a bundle `[pause, attack]` with the attack allowed to revert: a builder
//! that includes it puts the pause first whatever the public pool does.
//!
//! The request is `eth_sendBundle` as Flashbots documents it: `txs` (signed
//! raw transactions, in order), `blockNumber` (hex, the block targeted) and
//! `revertingTxHashes`, with an `X-Flashbots-Signature` header
//! (`address:signature`, the EIP-191 signature of the hex Keccak-256 of the
//! body) made with a reputation key that holds nothing: a fresh one per
//! process. Each builder's answer is recorded with the broadcast.

use std::{
    collections::HashMap,
    sync::{Mutex, OnceLock, PoisonError},
    time::Duration,
};

use alloy_primitives::{B256, Bytes, keccak256};
use alloy_signer_local::PrivateKeySigner;
use firebreak_chain::RpcEndpoint;
use firebreak_primitives::{IncidentId, event::EndpointAnswer};
use firebreak_store::TimelineEntry;

/// Evidence key of a pre-emptive alert: the attack's signed raw transaction
/// (hex), kept for bundles (left out above [`MAX_RAW`] bytes).
pub const PENDING_RAW: &str = "pending.raw";
/// Evidence key of a pre-emptive alert: the attacker's pending transactions
/// that the attack needs ahead of it (its sender's lower nonces: say, the
/// deployment of the contract it calls), signed raw, comma-separated in
/// order; left out when together above [`MAX_BEFORE_RAW`] bytes.
pub const PENDING_BEFORE_RAW: &str = "pending.before_raw";
/// Largest total of the attacker's transactions ahead of the attack carried
/// for a bundle (a contract's deployment may be 48 KiB of init code).
pub const MAX_BEFORE_RAW: usize = 128 * 1024;
/// Largest attack transaction carried in the evidence for a bundle.
pub const MAX_RAW: usize = 32 * 1024;
/// Longest wait for a builder's answer.
const BUILDER_TIMEOUT: Duration = Duration::from_secs(2);

/// Where an incident's pauses also go as bundles, and the attack they precede.
#[derive(Debug, Clone)]
pub(crate) struct BundleTarget {
    /// Builder endpoints (`eth_sendBundle`), shown by their labels (a URL
    /// from a secret stays secret).
    pub builders: Vec<RpcEndpoint>,
    /// The attack's hash (allowed to revert).
    pub attack_hash: B256,
    /// The attack's signed transaction, when the alert carried it.
    pub attack_raw: Option<Bytes>,
    /// The attacker's transactions the attack needs ahead of it: their
    /// hashes (allowed to revert too) and, when the alert carried them,
    /// their signed raws.
    pub before: Vec<B256>,
    /// Signed raws of `before` (empty when the alert did not carry them).
    pub before_raw: Vec<Bytes>,
}

/// The bundle target of each incident being driven.
#[derive(Debug, Default)]
pub(crate) struct BundleBook(Mutex<HashMap<IncidentId, BundleTarget>>);

impl BundleBook {
    pub(crate) fn set(&self, id: IncidentId, target: Option<BundleTarget>) {
        let mut m = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        match target {
            Some(t) => m.insert(id, t),
            None => m.remove(&id),
        };
    }

    pub(crate) fn get(&self, id: IncidentId) -> Option<BundleTarget> {
        self.0.lock().unwrap_or_else(PoisonError::into_inner).get(&id).cloned()
    }
}

/// The latest attack a pre-emptive alert of the incident saw, with the
/// chain's builders; `None` without builders or without such an alert.
pub(crate) fn target(builders: &[RpcEndpoint], timeline: &[TimelineEntry]) -> Option<BundleTarget> {
    if builders.is_empty() {
        return None;
    }
    let mut found = None;
    for e in timeline {
        let Some(a) = e.event.alert() else { continue };
        let Some(hash) = a.evidence.get("pending.tx_hash").and_then(|h| h.parse::<B256>().ok())
        else {
            continue;
        };
        let raw = a.evidence.get(PENDING_RAW).and_then(|r| r.parse::<Bytes>().ok());
        let list = |key: &str| -> Option<Vec<String>> {
            a.evidence.get(key).map(|v| v.split(',').map(str::to_owned).collect())
        };
        let before: Vec<B256> = list("pending.before")
            .unwrap_or_default()
            .iter()
            .filter_map(|h| h.parse().ok())
            .collect();
        let before_raw: Vec<Bytes> = list(PENDING_BEFORE_RAW)
            .unwrap_or_default()
            .iter()
            .filter_map(|r| r.parse().ok())
            .collect();
        found = Some(BundleTarget {
            builders: builders.to_vec(),
            attack_hash: hash,
            attack_raw: raw,
            before,
            before_raw,
        });
    }
    found
}

fn reputation() -> &'static PrivateKeySigner {
    static KEY: OnceLock<PrivateKeySigner> = OnceLock::new();
    KEY.get_or_init(PrivateKeySigner::random)
}

/// The JSON-RPC body of a bundle `[pause, attack]` for block `block` (with
/// the attacker's transactions the attack needs ahead of it between the
/// two; the pause alone when not all of them were carried).
pub(crate) fn body(target: &BundleTarget, pause: &Bytes, block: u64) -> serde_json::Value {
    let mut txs = vec![pause.to_string()];
    if let Some(raw) = &target.attack_raw
        && target.before_raw.len() == target.before.len()
    {
        txs.extend(target.before_raw.iter().map(ToString::to_string));
        txs.push(raw.to_string());
    }
    let reverting: Vec<String> =
        target.before.iter().chain([&target.attack_hash]).map(ToString::to_string).collect();
    serde_json::json!({
        "jsonrpc": "2.0",
        "id": 1,
        "method": "eth_sendBundle",
        "params": [{
            "txs": txs,
            "blockNumber": format!("{block:#x}"),
            "revertingTxHashes": reverting,
        }],
    })
}

/// Sends the bundle `[pause, attack]` for the block after `head` to every
/// builder; their answers, for the broadcast's record.
pub(crate) async fn send(target: &BundleTarget, pause: &Bytes, head: u64) -> Vec<EndpointAnswer> {
    use alloy::signers::SignerSync as _;
    let text = body(target, pause, head + 1).to_string();
    let digest = keccak256(text.as_bytes()).to_string();
    let key = reputation();
    let refused_by_all = |why: String| -> Vec<EndpointAnswer> {
        target
            .builders
            .iter()
            .map(|b| EndpointAnswer {
                endpoint: format!("builder {}", b.label()),
                accepted: false,
                error: Some(why.clone()),
            })
            .collect()
    };
    let header = match key.sign_message_sync(digest.as_bytes()) {
        Ok(sig) => format!("{}:{}", key.address(), sig),
        Err(e) => return refused_by_all(format!("cannot sign the bundle request: {e}")),
    };
    let client = match reqwest::Client::builder().timeout(BUILDER_TIMEOUT).build() {
        Ok(c) => c,
        Err(e) => return refused_by_all(format!("no HTTP client: {e}")),
    };
    let sends = target.builders.iter().map(|b| {
        let req = client
            .post(b.url())
            .header("content-type", "application/json")
            .header("X-Flashbots-Signature", header.clone())
            .body(text.clone());
        async move {
            let outcome = match req.send().await {
                Ok(resp) if resp.status().is_success() => {
                    match resp.json::<serde_json::Value>().await {
                        Ok(v) if v.get("error").is_none() && v.get("result").is_some() => Ok(()),
                        Ok(v) => Err(format!("refused: {}", v["error"])),
                        Err(e) => Err(format!("unreadable answer: {}", e.without_url())),
                    }
                }
                Ok(resp) => Err(format!("HTTP {}", resp.status())),
                Err(e) => Err(e.without_url().to_string()),
            };
            EndpointAnswer {
                endpoint: format!("builder {}", b.label()),
                accepted: outcome.is_ok(),
                error: outcome.err().map(|e| b.redact(&e)),
            }
        }
    });
    futures::future::join_all(sends).await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn target(before: usize, raws: usize) -> BundleTarget {
        BundleTarget {
            builders: vec![RpcEndpoint::public("http://127.0.0.1:1")],
            attack_hash: B256::repeat_byte(0xaa),
            attack_raw: Some(Bytes::from_static(b"\xaa")),
            before: (0..before).map(|i| B256::repeat_byte(i as u8 + 1)).collect(),
            before_raw: (0..raws).map(|i| Bytes::from(vec![i as u8 + 1])).collect(),
        }
    }

    fn txs(v: &serde_json::Value) -> Vec<String> {
        serde_json::from_value(v["params"][0]["txs"].clone()).unwrap_or_default()
    }

    #[test]
    fn the_attackers_transactions_ahead_of_the_attack_go_between_the_pause_and_it() {
        let pause = Bytes::from_static(b"\x99");
        let b = body(&target(2, 2), &pause, 0x10);
        assert_eq!(txs(&b), ["0x99", "0x01", "0x02", "0xaa"]);
        let reverting = b["params"][0]["revertingTxHashes"].as_array().cloned().unwrap_or_default();
        let expected: Vec<serde_json::Value> = [1u8, 2, 0xaa]
            .iter()
            .map(|i| serde_json::Value::String(B256::repeat_byte(*i).to_string()))
            .collect();
        assert_eq!(reverting, expected, "all of the attacker's may revert");
        assert_eq!(b["params"][0]["blockNumber"], "0x10");
    }

    #[test]
    fn without_all_the_raws_ahead_of_the_attack_the_pause_goes_alone() {
        let pause = Bytes::from_static(b"\x99");
        // the attack cannot land without the ones ahead of it: a bundle with
        // a gap would be refused whole
        assert_eq!(txs(&body(&target(2, 1), &pause, 1)), ["0x99"]);
        assert_eq!(txs(&body(&target(0, 0), &pause, 1)), ["0x99", "0xaa"]);
        let mut t = target(0, 0);
        t.attack_raw = None;
        assert_eq!(txs(&body(&t, &pause, 1)), ["0x99"]);
    }
}
