//! A JSON-RPC proxy over HTTP that can answer `eth_getTransactionReceipt`
//! with `null` for a while: a node whose head runs ahead of its receipts (a
//! load-balanced provider, or anvil under load between mining a block and
//! storing its receipts). A real node shows this only by chance; the proxy
//! shows it on demand. Everything else is forwarded unchanged.

use std::sync::{
    Arc,
    atomic::{AtomicUsize, Ordering},
};

use axum::{Json, Router, extract::State, routing::post};
use serde_json::{Value, json};

/// A proxy to one JSON-RPC endpoint; stops when dropped.
#[derive(Debug)]
pub struct RpcProxy {
    url: String,
    hidden: Arc<AtomicUsize>,
    task: tokio::task::JoinHandle<()>,
}

#[derive(Clone)]
struct Fwd {
    target: String,
    client: reqwest::Client,
    hidden: Arc<AtomicUsize>,
}

impl RpcProxy {
    /// Starts a proxy to `target` (an `http://` JSON-RPC URL).
    ///
    /// # Panics
    /// When no loopback port can be bound.
    #[allow(clippy::disallowed_methods, clippy::unwrap_used)] // lives as long as the test's runtime
    pub async fn start(target: &str) -> Self {
        let hidden = Arc::new(AtomicUsize::new(0));
        let fwd = Fwd {
            target: target.to_owned(),
            client: reqwest::Client::new(),
            hidden: hidden.clone(),
        };
        let app = Router::new().route("/", post(forward)).with_state(fwd);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Self { url, hidden, task }
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
    let answer = f.client.post(&f.target).json(&req).send().await;
    match answer {
        Ok(r) => Json(r.json().await.unwrap_or_else(|e| error(&req, &e.to_string()))),
        Err(e) => Json(error(&req, &e.to_string())),
    }
}

fn error(req: &Value, message: &str) -> Value {
    json!({"jsonrpc": "2.0", "id": req["id"], "error": {"code": -32000, "message": message}})
}
