//! A loopback HTTP sink that records every request and answers from a
//! script: the stand-in for Slack, Discord, Telegram, PagerDuty and webhooks.

use std::{
    collections::VecDeque,
    sync::{Arc, Mutex},
    time::Duration,
};

use axum::{
    Router,
    body::Bytes,
    http::{HeaderMap, Method, StatusCode, Uri},
    response::{IntoResponse, Response},
};

/// One recorded request.
#[derive(Debug, Clone)]
pub struct Seen {
    /// Method.
    pub method: Method,
    /// Path.
    pub path: String,
    /// Headers.
    pub headers: HeaderMap,
    /// Body.
    pub body: Vec<u8>,
    /// The status the sink answered.
    pub status: u16,
    /// When the request had arrived whole (before any scripted wait).
    pub at: std::time::Instant,
}

impl Seen {
    /// The body as JSON.
    ///
    /// # Panics
    /// When it is not JSON.
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).expect("the request body is JSON")
    }
    /// A header's value ("" when absent).
    pub fn header(&self, name: &str) -> String {
        self.headers.get(name).and_then(|v| v.to_str().ok()).map(str::to_owned).unwrap_or_default()
    }
}

/// What the sink answers next.
#[derive(Debug, Clone)]
pub enum Answer {
    /// This status.
    Status(u16),
    /// 429 with `Retry-After: N`.
    RetryAfter(u64),
    /// Wait this long, then 200.
    Hang(Duration),
    /// This status, with a body that echoes the request line (the whole
    /// URL, query included) and the request body, as some gateways do.
    Echo(u16),
}

/// What the sink saw and will answer.
#[derive(Debug, Default)]
pub struct State {
    /// Requests so far.
    pub seen: Vec<Seen>,
    /// Answers to give, in order.
    pub script: VecDeque<Answer>,
    /// Answer when the script is empty (default 200).
    pub otherwise: Option<Answer>,
}

/// A running sink.
#[derive(Debug, Clone)]
pub struct Sink {
    /// `http://127.0.0.1:PORT`.
    pub url: String,
    /// Shared state.
    pub state: Arc<Mutex<State>>,
    /// How many requests were recorded so far.
    arrivals: tokio::sync::watch::Receiver<usize>,
}

impl Sink {
    /// Requests so far.
    pub fn seen(&self) -> Vec<Seen> {
        self.state.lock().expect("the sink state lock is never poisoned").seen.clone()
    }
    /// Queues answers.
    pub fn script(&self, answers: impl IntoIterator<Item = Answer>) {
        self.state.lock().expect("the sink state lock is never poisoned").script.extend(answers);
    }
    /// Waits until `n` requests have been recorded.
    pub async fn wait_for(&self, n: usize) {
        let mut arrivals = self.arrivals.clone();
        let _ = arrivals.wait_for(|seen| *seen >= n).await;
    }
    /// The answer once the script is used up (`None`: 200).
    pub fn otherwise(&self, a: Option<Answer>) {
        self.state.lock().expect("the sink state lock is never poisoned").otherwise = a;
    }
}

/// Starts a sink on a free loopback port.
///
/// # Panics
/// When no port can be bound.
#[allow(clippy::disallowed_methods, clippy::unwrap_used)] // the sink lives as long as the test's runtime
pub async fn start() -> Sink {
    let state = Arc::new(Mutex::new(State::default()));
    let s = state.clone();
    let (count, arrivals) = tokio::sync::watch::channel(0usize);
    let count = Arc::new(count);
    let app =
        Router::new().fallback(move |method: Method, uri: Uri, headers: HeaderMap, body: Bytes| {
            let s = s.clone();
            let count = count.clone();
            async move {
                let at = std::time::Instant::now();
                let answer = {
                    let mut st = s.lock().unwrap();
                    st.script
                        .pop_front()
                        .or_else(|| st.otherwise.clone())
                        .unwrap_or(Answer::Status(200))
                };
                if let Answer::Hang(d) = &answer {
                    tokio::time::sleep(*d).await;
                }
                let status = match answer {
                    Answer::Status(c) | Answer::Echo(c) => c,
                    Answer::RetryAfter(_) => 429,
                    Answer::Hang(_) => 200,
                };
                let echo = format!(
                    "no route for {method} {uri}\nrequest body: {}",
                    String::from_utf8_lossy(&body)
                );
                let n = {
                    let mut st = s.lock().unwrap();
                    st.seen.push(Seen {
                        method,
                        path: uri.path().to_owned(),
                        headers,
                        body: body.to_vec(),
                        status,
                        at,
                    });
                    st.seen.len()
                };
                count.send_replace(n);
                let text = if matches!(answer, Answer::Echo(_)) {
                    echo
                } else {
                    "{\"ok\":true}".to_owned()
                };
                let mut resp: Response =
                    (StatusCode::from_u16(status).unwrap(), text).into_response();
                if let Answer::RetryAfter(secs) = answer {
                    resp.headers_mut().insert("retry-after", secs.to_string().parse().unwrap());
                }
                resp
            }
        });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    Sink { url, state, arrivals }
}
