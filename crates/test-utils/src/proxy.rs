//! A loopback TCP proxy that can become a black hole: connections are
//! accepted and bytes read, but nothing is forwarded and nothing answers.
//! It is how a dead RPC endpoint looks from outside (a hung node, a
//! firewall dropping packets), which a real anvil cannot be made to do.

use std::net::SocketAddr;

use tokio::{
    io::{AsyncReadExt as _, AsyncWriteExt as _},
    net::{TcpListener, TcpStream},
    sync::watch,
};

/// A proxy to `target` on a free loopback port; stops when dropped.
#[derive(Debug)]
pub struct Proxy {
    addr: SocketAddr,
    hole: watch::Sender<bool>,
    task: tokio::task::JoinHandle<()>,
}

impl Proxy {
    /// Starts forwarding to `target` (e.g. anvil's `127.0.0.1:PORT`).
    ///
    /// # Panics
    /// When no loopback port can be bound.
    #[allow(clippy::disallowed_methods)] // the proxy lives as long as the test's runtime
    pub async fn start(target: SocketAddr) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind a loopback port");
        let addr = listener.local_addr().expect("a bound listener has an address");
        let (hole, holed) = watch::channel(false);
        let task = tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                tokio::spawn(pipe(client, target, holed.clone()));
            }
        });
        Self { addr, hole, task }
    }

    /// `http://` URL of the proxy.
    pub fn http_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// From now on nothing passes in either direction, on open connections
    /// and new ones alike (`true`), or traffic flows again (`false`).
    pub fn black_hole(&self, on: bool) {
        let _ = self.hole.send(on);
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn pipe(client: TcpStream, target: SocketAddr, holed: watch::Receiver<bool>) {
    let Ok(server) = TcpStream::connect(target).await else { return };
    let (cr, cw) = client.into_split();
    let (sr, sw) = server.into_split();
    tokio::join!(copy(cr, sw, holed.clone()), copy(sr, cw, holed));
}

/// Copies while the hole is closed; while open, holds every byte read.
async fn copy(
    mut from: tokio::net::tcp::OwnedReadHalf,
    mut to: tokio::net::tcp::OwnedWriteHalf,
    mut holed: watch::Receiver<bool>,
) {
    let mut buf = vec![0u8; 16 * 1024];
    loop {
        let n = match from.read(&mut buf).await {
            Ok(0) | Err(_) => return,
            Ok(n) => n,
        };
        if holed.wait_for(|h| !*h).await.is_err() {
            return;
        }
        if to.write_all(&buf[..n]).await.is_err() {
            return;
        }
    }
}
