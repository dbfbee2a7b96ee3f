//! A JSON-RPC proxy over HTTP that can answer `eth_getTransactionReceipt`
//! with `null` for a while: a node whose head runs ahead of its receipts (a
//! load-balanced provider, or anvil under load between mining a block and
//! storing its receipts). A real node shows this only by chance; the proxy
//! shows it on demand. It can also reorganise an anvil chain right after it
//! has answered one receipt request: a reorg that lands between two reads
//! of one decision, which a real node produces only by chance. Everything
//! else is forwarded unchanged.

use std::sync::{
    Arc, Mutex, PoisonError,
    atomic::{AtomicUsize, Ordering},
};

use axum::{Json, Router, extract::State, routing::post};
use serde_json::{Value, json};

/// A proxy to one JSON-RPC endpoint; stops when dropped.
#[derive(Debug)]
pub struct RpcProxy {
    url: String,
    hidden: Arc<AtomicUsize>,
    reorg: Arc<Mutex<Option<(String, u64)>>>,
    task: tokio::task::JoinHandle<()>,
}

#[derive(Clone)]
struct Fwd {
    target: String,
    client: reqwest::Client,
    hidden: Arc<AtomicUsize>,
    /// After answering the receipt of this transaction (lower-case hex):
    /// `anvil_reorg` this deep, once.
    reorg: Arc<Mutex<Option<(String, u64)>>>,
}

impl RpcProxy {
    /// Starts a proxy to `target` (an `http://` JSON-RPC URL).
    ///
    /// # Panics
    /// When no loopback port can be bound.
    #[allow(clippy::disallowed_methods, clippy::unwrap_used)] // lives as long as the test's runtime
    pub async fn start(target: &str) -> Self {
        let hidden = Arc::new(AtomicUsize::new(0));
        let reorg = Arc::new(Mutex::new(None));
        let fwd = Fwd {
            target: target.to_owned(),
            client: reqwest::Client::new(),
            hidden: hidden.clone(),
            reorg: reorg.clone(),
        };
        let app = Router::new().route("/", post(forward)).with_state(fwd);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Self { url, hidden, reorg, task }
    }

    /// The next time the receipt of `tx` is asked for, the proxy fetches
    /// it, then replaces the target anvil's last `depth` blocks with empty
    /// ones (`anvil_reorg`), then answers with the receipt it fetched: the
    /// caller holds a receipt of a block that is no longer canonical.
    pub fn reorg_after_receipt(&self, tx: alloy::primitives::B256, depth: u64) {
        *self.reorg.lock().unwrap_or_else(PoisonError::into_inner) =
            Some((tx.to_string().to_lowercase(), depth));
    }

    /// Whether the reorg asked for is still to come.
    pub fn reorg_pending(&self) -> bool {
        self.reorg.lock().unwrap_or_else(PoisonError::into_inner).is_some()
    }

    /// `http://` URL of the proxy.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The next `n` receipt requests are answered `null`.
    pub fn hide_receipts(&self, n: usize) {
        self.hidden.store(n, Ordering::SeqCst);
    }

    /// Receipt requests still to be answered `null`.
    pub fn receipts_still_hidden(&self) -> usize {
        self.hidden.load(Ordering::SeqCst)
    }
}

impl Drop for RpcProxy {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn forward(State(f): State<Fwd>, Json(req): Json<Value>) -> Json<Value> {
    if req["method"] == "eth_getTransactionReceipt"
        && f.hidden.fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1)).is_ok()
    {
        return Json(json!({"jsonrpc": "2.0", "id": req["id"], "result": null}));
    }
    let reorg = if req["method"] == "eth_getTransactionReceipt" {
        let asked = req["params"][0].as_str().map(str::to_lowercase);
        let mut armed = f.reorg.lock().unwrap_or_else(PoisonError::into_inner);
        match &*armed {
            Some((tx, _)) if asked.as_deref() == Some(tx.as_str()) => armed.take().map(|(_, d)| d),
            _ => None,
        }
    } else {
        None
    };
    let answer = f.client.post(&f.target).json(&req).send().await;
    let answer = match answer {
        Ok(r) => r.json().await.unwrap_or_else(|e| error(&req, &e.to_string())),
        Err(e) => error(&req, &e.to_string()),
    };
    if let Some(depth) = reorg {
        let call =
            json!({"jsonrpc": "2.0", "id": 1, "method": "anvil_reorg", "params": [depth, []]});
        if let Err(e) = f.client.post(&f.target).json(&call).send().await {
            return Json(error(&req, &format!("anvil_reorg failed: {e}")));
        }
    }
    Json(answer)
}

fn error(req: &Value, message: &str) -> Value {
    json!({"jsonrpc": "2.0", "id": req["id"], "error": {"code": -32000, "message": message}})
}
