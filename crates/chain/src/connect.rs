//! Connecting to a node: one place that builds every provider firebreak
//! uses (the watcher, the executor, `verify`, drills), as one stack of
//! alloy's layers per endpoint:
//!
//! 1. [`RetryBackoffLayer`]: a rate limit or a "try again" answer from the
//!    node (HTTP 429 / 503, JSON-RPC rate-limit errors) is retried on the
//!    same endpoint, at most [`StackOptions::retries`] times with backoff
//!    (or the wait the node asks for);
//! 2. [`TimeoutLayer`]: every single call gives up after
//!    [`StackOptions::timeout`], so a black-holed endpoint costs one timeout,
//!    never a hang; the error is not retried here, the caller fails over
//!    ([`crate::ChainLink`] tries the next endpoint);
//! 3. the transport: HTTP, or a WebSocket with Nagle's algorithm off.
//!
//! WebSocket connections are made with Nagle's algorithm off. alloy's own
//! WebSocket connector leaves it on, and then a request written while the
//! previous one is still unacknowledged waits for the node's delayed ACK:
//! 40 ms on Linux, paid on a share of the blocks the watcher fetches (the
//! daemon benchmark measured block mined → page delivered at p90 41 ms with
//! it on, see the README).

use std::{
    task::{Context, Poll},
    time::Duration,
};

use alloy::{
    providers::{DynProvider, Provider as _, ProviderBuilder},
    pubsub::{ConnectionHandle, PubSubConnect},
    rpc::{
        client::ClientBuilder,
        json_rpc::{RequestPacket, ResponsePacket},
    },
    transports::{
        TransportError, TransportErrorKind, TransportFut, TransportResult,
        layers::RetryBackoffLayer, ws::WsBackend,
    },
};

use crate::RpcEndpoint;

/// Keepalive ping interval of WebSocket connections.
const KEEPALIVE: Duration = Duration::from_secs(10);

/// How the provider stack of an endpoint behaves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StackOptions {
    /// Longest wait for one call's answer.
    pub timeout: Duration,
    /// Retries of a rate-limited call on the same endpoint.
    pub retries: u32,
    /// Base wait before such a retry, unless the node says how long.
    pub backoff: Duration,
}

impl Default for StackOptions {
    fn default() -> Self {
        Self { timeout: Duration::from_secs(10), retries: 2, backoff: Duration::from_millis(100) }
    }
}

/// A provider for `url` (written out, not secret) with the default stack.
///
/// # Errors
/// As [`connect_endpoint`].
pub async fn connect(url: &str) -> Result<DynProvider, TransportError> {
    connect_endpoint(&RpcEndpoint::public(url), StackOptions::default()).await
}

/// A provider for one endpoint: `ws://` / `wss://` (with subscriptions) or
/// `http://` / `https://`, behind the layers described in this module.
/// Errors never quote a secret URL.
///
/// # Errors
/// When the URL is not one of those, or a WebSocket does not connect.
pub async fn connect_endpoint(
    endpoint: &RpcEndpoint,
    opts: StackOptions,
) -> Result<DynProvider, TransportError> {
    let layers = ClientBuilder::default()
        .layer(RetryBackoffLayer::new(
            opts.retries,
            u64::try_from(opts.backoff.as_millis()).unwrap_or(u64::MAX),
            // no compute-unit budget of our own: the node's answers pace us
            u64::MAX,
        ))
        .layer(TimeoutLayer { limit: opts.timeout });
    let client = if endpoint.is_websocket() {
        let connect = NoDelayWs { url: endpoint.url().to_owned() };
        match tokio::time::timeout(opts.timeout, layers.pubsub(connect)).await {
            Ok(client) => client.map_err(|e| redacted(endpoint, &e))?,
            Err(_) => return Err(TimedOut(opts.timeout).into()),
        }
    } else {
        let url = endpoint.url().parse().map_err(|_| {
            TransportErrorKind::custom_str(&format!(
                "{}: not an http(s):// or ws(s):// URL",
                endpoint.label()
            ))
        })?;
        // built fallibly: `reqwest::Client::new()` panics when it cannot be
        // set up (a process out of file descriptors cannot read the
        // resolver's configuration), which would kill the daemon on a reconnect
        let http = reqwest::Client::builder().build().map_err(|e| {
            TransportErrorKind::custom_str(&format!(
                "{}: cannot set up an HTTP client: {}",
                endpoint.label(),
                endpoint.redact(&e.to_string())
            ))
        })?;
        layers.http_with_client(http, url)
    };
    Ok(ProviderBuilder::new().disable_recommended_fillers().connect_client(client).erased())
}

fn redacted(endpoint: &RpcEndpoint, e: &TransportError) -> TransportError {
    TransportErrorKind::custom_str(&endpoint.redact(&e.to_string()))
}

/// A call that got no answer in time.
#[derive(Debug, Clone, Copy, thiserror::Error)]
#[error("no answer within {0:?}")]
pub struct TimedOut(pub Duration);

impl From<TimedOut> for TransportError {
    fn from(t: TimedOut) -> Self {
        TransportErrorKind::custom(t)
    }
}

/// Gives every call at most `limit` to answer (a tower layer for alloy
/// transports).
#[derive(Debug, Clone, Copy)]
pub struct TimeoutLayer {
    /// Longest wait for one call.
    pub limit: Duration,
}

impl<S> tower::Layer<S> for TimeoutLayer {
    type Service = TimeoutService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        TimeoutService { inner, limit: self.limit }
    }
}

/// The service of [`TimeoutLayer`].
#[derive(Debug, Clone)]
pub struct TimeoutService<S> {
    inner: S,
    limit: Duration,
}

impl<S> tower::Service<RequestPacket> for TimeoutService<S>
where
    S: tower::Service<
            RequestPacket,
            Response = ResponsePacket,
            Error = TransportError,
            Future = TransportFut<'static>,
        > + Send
        + 'static,
{
    type Response = ResponsePacket;
    type Error = TransportError;
    type Future = TransportFut<'static>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: RequestPacket) -> Self::Future {
        let limit = self.limit;
        let answer = self.inner.call(req);
        Box::pin(async move {
            tokio::time::timeout(limit, answer)
                .await
                .unwrap_or_else(|_| Err(TimedOut(limit).into()))
        })
    }
}

/// A WebSocket connector that turns Nagle's algorithm off.
#[derive(Debug, Clone)]
struct NoDelayWs {
    url: String,
}

impl PubSubConnect for NoDelayWs {
    fn is_local(&self) -> bool {
        alloy::transports::utils::guess_local_url(&self.url)
    }

    async fn connect(&self) -> TransportResult<ConnectionHandle> {
        let (socket, _) =
            tokio_tungstenite::connect_async_with_config(self.url.as_str(), None, true)
                .await
                .map_err(TransportErrorKind::custom)?;
        let (handle, interface) = ConnectionHandle::new();
        WsBackend::from_socket(socket, interface, KEEPALIVE).spawn();
        Ok(handle)
    }
}
