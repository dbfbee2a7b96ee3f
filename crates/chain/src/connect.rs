//! Connecting to a node: one place that builds every provider firebreak
//! uses (the watcher, the executor, `verify`, drills).
//!
//! WebSocket connections are made with Nagle's algorithm off. alloy's own
//! WebSocket connector leaves it on, and then a request written while the
//! previous one is still unacknowledged waits for the node's delayed ACK:
//! 40 ms on Linux, paid on a share of the blocks the watcher fetches (the
//! daemon benchmark measured block mined → page delivered at p90 41 ms with
//! it on, see the README).

use alloy::{
    providers::{DynProvider, Provider as _, ProviderBuilder},
    pubsub::{ConnectionHandle, PubSubConnect},
    transports::{TransportError, TransportErrorKind, TransportResult, ws::WsBackend},
};

/// Keepalive ping interval of WebSocket connections.
const KEEPALIVE: std::time::Duration = std::time::Duration::from_secs(10);

/// A provider for `url`: `ws://` / `wss://` (with subscriptions) or
/// `http://` / `https://`.
///
/// # Errors
/// When the URL is not one of those, or a WebSocket does not connect.
pub async fn connect(url: &str) -> Result<DynProvider, TransportError> {
    if url.starts_with("ws://") || url.starts_with("wss://") {
        let p = ProviderBuilder::new()
            .disable_recommended_fillers()
            .connect_pubsub_with(NoDelayWs { url: url.to_owned() })
            .await?;
        return Ok(p.erased());
    }
    let parsed = url
        .parse()
        .map_err(|_| TransportErrorKind::custom_str("not an http(s):// or ws(s):// URL"))?;
    Ok(ProviderBuilder::new().disable_recommended_fillers().connect_http(parsed).erased())
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
