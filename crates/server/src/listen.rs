//! Serving the war room with bounds, so that no number of clients can take
//! the daemon's file descriptors, memory or attention from the response.
//!
//! - at most [`ServeLimits::max_connections`] connections at once; one more
//!   is accepted and closed at once (counted in [`ServeStats::refused`]);
//! - a client must send its request headers within
//!   [`ServeLimits::header_read_timeout`] (idle and slow-loris connections
//!   are closed);
//! - a request body is at most [`ServeLimits::max_body`] bytes (413) and a
//!   request takes at most [`ServeLimits::request_timeout`] (408);
//! - when accepting fails (out of file descriptors), the error is counted
//!   and logged, the listener waits a moment and goes on: it never panics.

use std::{
    convert::Infallible,
    sync::{
        Arc,
        atomic::{AtomicU64, Ordering},
    },
    time::Duration,
};

use axum::{Router, extract::ConnectInfo};
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::{net::TcpListener, sync::Semaphore, task::JoinSet};
use tower::ServiceExt as _;

/// Bounds of the war room's listener.
#[derive(Debug, Clone)]
pub struct ServeLimits {
    /// Connections served at once; more are closed as soon as accepted.
    pub max_connections: usize,
    /// Longest wait for a request's headers (also between requests on a
    /// kept-alive connection).
    pub header_read_timeout: Duration,
    /// Longest time one request may take.
    pub request_timeout: Duration,
    /// Largest request body, in bytes.
    pub max_body: usize,
}

impl Default for ServeLimits {
    fn default() -> Self {
        Self {
            max_connections: 512,
            header_read_timeout: Duration::from_secs(10),
            request_timeout: Duration::from_secs(30),
            max_body: 256 * 1024,
        }
    }
}

/// What the listener counted (for metrics).
#[derive(Debug, Default)]
pub struct ServeStats {
    /// Connections closed at once because `max_connections` were open.
    pub refused: AtomicU64,
    /// Failed accepts (e.g. out of file descriptors).
    pub accept_errors: AtomicU64,
    /// Connections open now.
    pub open: AtomicU64,
}

/// Serves `app` on `listener` within `limits` until `shutdown` completes,
/// then lets open connections finish their requests.
///
/// Handlers can read the client's address with `ConnectInfo<SocketAddr>`.
///
/// # Errors
/// Never at present: accept failures are counted and retried. The `Result`
/// leaves room for a listener that cannot go on.
pub async fn serve(
    listener: TcpListener,
    app: Router,
    limits: ServeLimits,
    stats: Arc<ServeStats>,
    shutdown: impl std::future::Future<Output = ()>,
) -> std::io::Result<()> {
    // every body extractor of the war room honours this limit (413 beyond it)
    let app = app.layer(axum::extract::DefaultBodyLimit::max(limits.max_body)).layer(
        tower_http::timeout::TimeoutLayer::with_status_code(
            axum::http::StatusCode::REQUEST_TIMEOUT,
            limits.request_timeout,
        ),
    );
    let permits = Arc::new(Semaphore::new(limits.max_connections));
    let (closing_tx, closing) = tokio::sync::watch::channel(false);
    let mut conns = JoinSet::new();
    tokio::pin!(shutdown);
    loop {
        let accepted = tokio::select! {
            () = &mut shutdown => break,
            // finished connections are reaped as they end
            Some(_) = conns.join_next(), if !conns.is_empty() => continue,
            a = listener.accept() => a,
        };
        let (stream, addr) = match accepted {
            Ok(a) => a,
            Err(e) => {
                stats.accept_errors.fetch_add(1, Ordering::Relaxed);
                if !is_connection_error(&e) {
                    // e.g. EMFILE: wait for descriptors to come back
                    tracing::error!(error = %e, "war room cannot accept a connection; retrying");
                    tokio::time::sleep(Duration::from_millis(250)).await;
                }
                continue;
            }
        };
        let Ok(permit) = permits.clone().try_acquire_owned() else {
            stats.refused.fetch_add(1, Ordering::Relaxed);
            tracing::debug!(%addr, max = limits.max_connections, "connection refused: too many open");
            drop(stream);
            continue;
        };
        let _ = stream.set_nodelay(true);
        let app = app.clone();
        let header_timeout = limits.header_read_timeout;
        let mut closing = closing.clone();
        let stats = stats.clone();
        stats.open.fetch_add(1, Ordering::Relaxed);
        conns.spawn(async move {
            let service = hyper::service::service_fn(move |mut req: hyper::Request<_>| {
                req.extensions_mut().insert(ConnectInfo(addr));
                let app = app.clone();
                async move {
                    let req = req.map(axum::body::Body::new);
                    Ok::<_, Infallible>(app.oneshot(req).await.unwrap_or_else(|e| match e {}))
                }
            });
            let mut builder = hyper::server::conn::http1::Builder::new();
            builder.timer(TokioTimer::new()).header_read_timeout(header_timeout);
            let conn = builder.serve_connection(TokioIo::new(stream), service).with_upgrades();
            tokio::pin!(conn);
            let closed = async move {
                let _ = closing.wait_for(|c| *c).await;
            };
            tokio::select! {
                r = conn.as_mut() => {
                    if let Err(e) = r {
                        tracing::trace!(%addr, error = %e, "connection ended");
                    }
                }
                () = closed => {
                    conn.as_mut().graceful_shutdown();
                    let _ = conn.await;
                }
            }
            stats.open.fetch_sub(1, Ordering::Relaxed);
            drop(permit);
        });
    }
    drop(listener);
    let _ = closing_tx.send(true);
    while conns.join_next().await.is_some() {}
    Ok(())
}

/// Errors of one connection, not of the listener.
fn is_connection_error(e: &std::io::Error) -> bool {
    matches!(
        e.kind(),
        std::io::ErrorKind::ConnectionRefused
            | std::io::ErrorKind::ConnectionAborted
            | std::io::ErrorKind::ConnectionReset
    )
}
