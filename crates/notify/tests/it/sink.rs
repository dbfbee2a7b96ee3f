//! A loopback HTTP sink that records every request and answers from a script.

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
pub(crate) struct Seen {
    pub method: Method,
    pub path: String,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
    /// The status the sink answered.
    pub status: u16,
}

impl Seen {
    pub(crate) fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).unwrap()
    }
    pub(crate) fn header(&self, name: &str) -> String {
        self.headers.get(name).map(|v| v.to_str().unwrap().to_owned()).unwrap_or_default()
    }
}

/// What the sink answers next.
#[derive(Debug, Clone)]
pub(crate) enum Answer {
    Status(u16),
    RetryAfter(u64),
    Hang(Duration),
}

#[derive(Debug, Default)]
pub(crate) struct State {
    pub seen: Vec<Seen>,
    pub script: VecDeque<Answer>,
    /// Answer when the script is empty (default 200).
    pub otherwise: Option<Answer>,
}

#[derive(Debug, Clone)]
pub(crate) struct Sink {
    pub url: String,
    pub state: Arc<Mutex<State>>,
}

impl Sink {
    pub(crate) fn seen(&self) -> Vec<Seen> {
        self.state.lock().unwrap().seen.clone()
    }
    pub(crate) fn script(&self, answers: impl IntoIterator<Item = Answer>) {
        self.state.lock().unwrap().script.extend(answers);
    }
    pub(crate) fn otherwise(&self, a: Option<Answer>) {
        self.state.lock().unwrap().otherwise = a;
    }
}

#[allow(clippy::disallowed_methods)] // the sink lives as long as the test's runtime
pub(crate) async fn start() -> Sink {
    let state = Arc::new(Mutex::new(State::default()));
    let s = state.clone();
    let app = Router::new().fallback(move |method: Method, uri: Uri, headers: HeaderMap, body: Bytes| {
        let s = s.clone();
        async move {
            let answer = {
                let mut st = s.lock().unwrap();
                st.script.pop_front().or_else(|| st.otherwise.clone()).unwrap_or(Answer::Status(200))
            };
            if let Answer::Hang(d) = &answer {
                tokio::time::sleep(*d).await;
            }
            let status = match answer {
                Answer::Status(c) => c,
                Answer::RetryAfter(_) => 429,
                Answer::Hang(_) => 200,
            };
            s.lock().unwrap().seen.push(Seen { method, path: uri.path().to_owned(), headers, body: body.to_vec(), status });
            let mut resp: Response = (StatusCode::from_u16(status).unwrap(), "{\"ok\":true}").into_response();
            if let Answer::RetryAfter(secs) = answer {
                resp.headers_mut().insert("retry-after", secs.to_string().parse().unwrap());
            }
            resp
        }
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    Sink { url, state }
}
