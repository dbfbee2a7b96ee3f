//! A loopback stand-in for a block builder's `eth_sendBundle` endpoint. No
//! real builder runs here: the stub checks each request against the bundle
//! API as Flashbots documents it and answers as a builder would, with a
//! `bundleHash` for a well-formed bundle and a JSON-RPC error naming what is
//! wrong otherwise:
//! - a JSON-RPC 2.0 call of `eth_sendBundle` with one parameter object;
//! - `txs`: a non-empty array of signed raw transactions (0x-hex, each an
//!   EIP-2718 envelope whose signature recovers);
//! - `blockNumber`: a 0x-hex quantity;
//! - `revertingTxHashes` (optional): hashes of transactions of `txs`;
//! - the `X-Flashbots-Signature` header: `ADDRESS:SIGNATURE`, the EIP-191
//!   signature of the 0x-hex Keccak-256 of the body, recovering to ADDRESS.

use std::sync::{Arc, Mutex};

use alloy::{
    consensus::TxEnvelope,
    eips::eip2718::Decodable2718 as _,
    primitives::{Address, B256, Bytes, Signature, keccak256},
};
use axum::{Router, body::Bytes as Body, http::HeaderMap, routing::post};

/// A bundle the stub accepted.
#[derive(Debug, Clone)]
pub struct Bundle {
    /// The transactions, in order.
    pub txs: Vec<TxEnvelope>,
    /// Their senders (recovered).
    pub senders: Vec<Address>,
    /// The block targeted.
    pub block: u64,
    /// Hashes allowed to revert.
    pub reverting: Vec<B256>,
    /// The reputation address of the signature header.
    pub signer: Address,
}

/// A running builder stub.
#[derive(Debug, Clone)]
pub struct BuilderStub {
    /// `http://127.0.0.1:PORT`.
    pub url: String,
    accepted: Arc<Mutex<Vec<Bundle>>>,
    refused: Arc<Mutex<Vec<String>>>,
}

impl BuilderStub {
    /// Bundles accepted so far.
    pub fn accepted(&self) -> Vec<Bundle> {
        self.accepted.lock().map(|v| v.clone()).unwrap_or_default()
    }
    /// Why each refused request was refused.
    pub fn refused(&self) -> Vec<String> {
        self.refused.lock().map(|v| v.clone()).unwrap_or_default()
    }
}

fn check(headers: &HeaderMap, body: &[u8]) -> Result<Bundle, String> {
    let v: serde_json::Value =
        serde_json::from_slice(body).map_err(|e| format!("body is not JSON: {e}"))?;
    if v["jsonrpc"] != "2.0" || v.get("id").is_none() {
        return Err("not a JSON-RPC 2.0 request with an id".into());
    }
    if v["method"] != "eth_sendBundle" {
        return Err(format!("method {} is not eth_sendBundle", v["method"]));
    }
    let params = v["params"].as_array().ok_or("params is not an array")?;
    let [p] = params.as_slice() else { return Err("params must hold one object".into()) };
    let txs = p["txs"].as_array().ok_or("txs is not an array")?;
    if txs.is_empty() {
        return Err("txs is empty".into());
    }
    let mut envelopes = Vec::new();
    let mut senders = Vec::new();
    for (i, t) in txs.iter().enumerate() {
        let raw: Bytes = t
            .as_str()
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| format!("txs[{i}] is not 0x-hex"))?;
        let env = TxEnvelope::decode_2718(&mut raw.as_ref())
            .map_err(|e| format!("txs[{i}] is not a signed EIP-2718 transaction: {e}"))?;
        let (sig, hash) = match &env {
            TxEnvelope::Eip1559(t) => (*t.signature(), t.signature_hash()),
            TxEnvelope::Legacy(t) => (*t.signature(), t.signature_hash()),
            TxEnvelope::Eip2930(t) => (*t.signature(), t.signature_hash()),
            other => {
                return Err(format!(
                    "txs[{i}]: type {} is not handled by the stub",
                    other.tx_type()
                ));
            }
        };
        senders.push(
            sig.recover_address_from_prehash(&hash)
                .map_err(|e| format!("txs[{i}]: the signature does not recover: {e}"))?,
        );
        envelopes.push(env);
    }
    let block = p["blockNumber"]
        .as_str()
        .and_then(|s| s.strip_prefix("0x"))
        .and_then(|h| u64::from_str_radix(h, 16).ok())
        .ok_or("blockNumber is not a 0x-hex quantity")?;
    let mut reverting = Vec::new();
    if let Some(r) = p.get("revertingTxHashes") {
        for h in r.as_array().ok_or("revertingTxHashes is not an array")? {
            let h: B256 = h
                .as_str()
                .and_then(|s| s.parse().ok())
                .ok_or("revertingTxHashes holds a non-hash")?;
            if !envelopes.iter().any(|e| *e.tx_hash() == h) {
                return Err(format!("reverting hash {h} is not one of txs"));
            }
            reverting.push(h);
        }
    }
    let header = headers
        .get("x-flashbots-signature")
        .and_then(|v| v.to_str().ok())
        .ok_or("no X-Flashbots-Signature header")?;
    let (addr, sig) =
        header.split_once(':').ok_or("the signature header is not ADDRESS:SIGNATURE")?;
    let signer: Address = addr.parse().map_err(|_| "the header's address does not parse")?;
    let sig: Signature = sig.parse().map_err(|_| "the header's signature does not parse")?;
    let digest = keccak256(body).to_string();
    let recovered = sig
        .recover_address_from_msg(digest.as_bytes())
        .map_err(|e| format!("the header's signature does not recover: {e}"))?;
    if recovered != signer {
        return Err(format!("the header is signed by {recovered}, not {signer}"));
    }
    Ok(Bundle { txs: envelopes, senders, block, reverting, signer })
}

/// Starts a builder stub on a free loopback port.
///
/// # Panics
/// When no port can be bound.
#[allow(clippy::disallowed_methods, clippy::unwrap_used)] // the stub lives as long as the test's runtime
pub async fn start() -> BuilderStub {
    let accepted = Arc::new(Mutex::new(Vec::new()));
    let refused = Arc::new(Mutex::new(Vec::new()));
    let (a, r) = (accepted.clone(), refused.clone());
    let app = Router::new().route(
        "/",
        post(move |headers: HeaderMap, body: Body| {
            let (a, r) = (a.clone(), r.clone());
            async move {
                let answer = match check(&headers, &body) {
                    Ok(b) => {
                        let mut all = Vec::new();
                        for t in &b.txs {
                            all.extend_from_slice(t.tx_hash().as_slice());
                        }
                        a.lock().unwrap().push(b);
                        serde_json::json!({"jsonrpc": "2.0", "id": 1, "result": {"bundleHash": keccak256(all).to_string()}})
                    }
                    Err(why) => {
                        r.lock().unwrap().push(why.clone());
                        serde_json::json!({"jsonrpc": "2.0", "id": 1, "error": {"code": -32602, "message": why}})
                    }
                };
                axum::Json(answer)
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    BuilderStub { url, accepted, refused }
}
