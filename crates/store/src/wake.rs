//! Wake-ups between replicas: a decision recorded by one replica's war room
//! (an approval, a signature, an acknowledgement) wakes the replica that
//! acts at once, instead of at its next tick. On PostgreSQL this is
//! `LISTEN`/`NOTIFY`; a notification lost while a connection is down costs
//! only the wait until the next tick. SQLite has one daemon per file: the
//! war room wakes its own executor directly.

use firebreak_primitives::IncidentId;
use futures::{future::BoxFuture, stream::BoxStream};

use crate::Result;

/// The `NOTIFY` channel of drive requests.
pub const DRIVE_CHANNEL: &str = "firebreak_drive";

/// Drive requests between replicas.
pub trait Wakeups: Send + Sync + std::fmt::Debug {
    /// Asks whichever replica acts to drive incident `id` now.
    fn announce_drive(&self, id: IncidentId) -> BoxFuture<'_, Result<()>>;

    /// The drive requests of every replica, from now on; `None` when the
    /// backend serves one daemon only (SQLite).
    fn drive_requests(&self) -> BoxFuture<'_, Result<Option<BoxStream<'static, IncidentId>>>>;
}
