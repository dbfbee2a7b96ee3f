//! The bounded listener on a real socket: the connection cap, the header
//! timeout and the body limit. Nothing here waits on a wall-clock deadline:
//! each test waits for an event (a refused or closed socket, an answer),
//! within a generous limit that only guards against a hang.

use std::{sync::Arc, time::Duration};

use axum::{Router, body::Bytes, routing::post};
use firebreak_server::{ServeLimits, ServeStats, serve};
use tokio::{
    io::{AsyncReadExt as _, AsyncWriteExt as _},
    net::TcpStream,
};

struct Server {
    addr: std::net::SocketAddr,
    stats: Arc<ServeStats>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    task: tokio::task::JoinHandle<std::io::Result<()>>,
}

#[allow(clippy::disallowed_methods)] // the test owns this task and joins it in `stop`
async fn start(limits: ServeLimits) -> Server {
    let app = Router::new()
        .route("/echo", post(|b: Bytes| async move { b.len().to_string() }))
        .route("/ping", axum::routing::get(|| async { "pong" }));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let stats = Arc::new(ServeStats::default());
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn(serve(listener, app, limits, stats.clone(), async move {
        let _ = stopped.await;
    }));
    Server { addr, stats, stop: Some(stop), task }
}

/// One HTTP/1.1 request on a new connection; the status line and body.
async fn request(addr: std::net::SocketAddr, head: &str, body: &[u8]) -> String {
    let mut s = TcpStream::connect(addr).await.unwrap();
    s.write_all(head.as_bytes()).await.unwrap();
    s.write_all(body).await.unwrap();
    let mut out = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(30), s.read_to_end(&mut out)).await;
    String::from_utf8_lossy(&out).into_owned()
}

/// Reads until the peer closes; `true` when it did (guarded against a hang).
async fn closed_by_peer(s: &mut TcpStream) -> bool {
    let mut buf = [0u8; 64];
    matches!(
        tokio::time::timeout(Duration::from_secs(30), s.read(&mut buf)).await,
        Ok(Ok(0) | Err(_))
    )
}

#[tokio::test]
async fn connections_beyond_the_cap_are_closed_and_the_rest_keep_working() {
    let limits = ServeLimits {
        max_connections: 3,
        header_read_timeout: Duration::from_secs(600),
        ..ServeLimits::default()
    };
    let srv = start(limits).await;
    let mut idle = Vec::new();
    for _ in 0..3 {
        idle.push(TcpStream::connect(srv.addr).await.unwrap());
    }
    // wait until the server holds all three
    while srv.stats.open.load(std::sync::atomic::Ordering::Relaxed) < 3 {
        tokio::task::yield_now().await;
    }
    let mut extra = TcpStream::connect(srv.addr).await.unwrap();
    assert!(closed_by_peer(&mut extra).await, "the fourth connection was served");
    assert_eq!(srv.stats.refused.load(std::sync::atomic::Ordering::Relaxed), 1);
    // one idle client leaves: its place serves the next request
    drop(idle.pop());
    let mut answer = String::new();
    for _ in 0..300 {
        answer =
            request(srv.addr, "GET /ping HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n", b"")
                .await;
        if answer.contains("pong") {
            break;
        }
        tokio::task::yield_now().await;
    }
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    stop(srv).await;
}

#[tokio::test]
async fn a_client_that_sends_no_headers_is_closed() {
    let limits =
        ServeLimits { header_read_timeout: Duration::from_millis(100), ..ServeLimits::default() };
    let srv = start(limits).await;
    let mut silent = TcpStream::connect(srv.addr).await.unwrap();
    assert!(closed_by_peer(&mut silent).await, "an idle connection was kept open");
    // half a request line and nothing more: the same
    let mut slow = TcpStream::connect(srv.addr).await.unwrap();
    slow.write_all(b"GET /ping HT").await.unwrap();
    assert!(closed_by_peer(&mut slow).await, "a slow client was kept open");
    stop(srv).await;
}

#[tokio::test]
async fn bodies_over_the_limit_are_413() {
    let limits = ServeLimits { max_body: 1024, ..ServeLimits::default() };
    let srv = start(limits).await;
    let small = request(
        srv.addr,
        "POST /echo HTTP/1.1\r\nhost: x\r\ncontent-length: 10\r\nconnection: close\r\n\r\n",
        &[b'a'; 10],
    )
    .await;
    assert!(small.starts_with("HTTP/1.1 200") && small.ends_with("10"), "{small}");
    let big = request(
        srv.addr,
        "POST /echo HTTP/1.1\r\nhost: x\r\ncontent-length: 4096\r\nconnection: close\r\n\r\n",
        &[b'a'; 4096],
    )
    .await;
    assert!(big.starts_with("HTTP/1.1 413"), "{big}");
    stop(srv).await;
}

async fn stop(mut srv: Server) {
    let _ = srv.stop.take().unwrap().send(());
    srv.task.await.unwrap().unwrap();
}
