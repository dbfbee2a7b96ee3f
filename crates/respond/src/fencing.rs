//! Which signer leases this replica holds, so that each action write carries
//! its fence. The daemon's lease keeper fills it; the executor asks it
//! before every write of an action ([`Fencing::fence`]) and the store checks
//! the fence in the write's own transaction.

use std::collections::HashMap;

use alloy::primitives::Address;
use firebreak_store::{Fence, signer_lease};
use tokio::time::Instant;

/// The leases held, and until when this replica may rely on them (a local
/// deadline a little before the database's expiry: a replica cut off from
/// the database stops acting before another may take over).
#[derive(Debug)]
pub struct Fencing {
    holder: String,
    held: std::sync::RwLock<Held>,
    changes: tokio::sync::watch::Sender<bool>,
}

#[derive(Debug, Default)]
struct Held {
    fences: HashMap<String, Fence>,
    until: Option<Instant>,
}

impl Fencing {
    /// Nothing held yet, for replica `holder`.
    pub fn new(holder: impl Into<String>) -> Self {
        Self {
            holder: holder.into(),
            held: std::sync::RwLock::default(),
            changes: tokio::sync::watch::Sender::new(false),
        }
    }

    /// This replica's name in the lease table.
    pub fn holder(&self) -> &str {
        &self.holder
    }

    /// Every lease is held, at these fences, until `until`.
    pub fn hold(&self, fences: Vec<Fence>, until: Instant) {
        if let Ok(mut held) = self.held.write() {
            held.fences = fences.into_iter().map(|f| (f.name.clone(), f)).collect();
            held.until = Some(until);
        }
        self.changes.send_if_modified(|acting| !std::mem::replace(acting, true));
    }

    /// Nothing is held any more.
    pub fn drop_all(&self) {
        if let Ok(mut held) = self.held.write() {
            *held = Held::default();
        }
        self.changes.send_if_modified(|acting| std::mem::replace(acting, false));
    }

    /// Whether this replica may act now: it holds its leases and their local
    /// deadline has not passed.
    pub fn acting(&self) -> bool {
        self.held
            .read()
            .is_ok_and(|h| !h.fences.is_empty() && h.until.is_some_and(|u| Instant::now() < u))
    }

    /// Moves to `true` when this replica starts acting, to `false` when it
    /// stops (a lease lost or handed over; a local deadline passing is seen
    /// by [`Fencing::acting`]).
    pub fn changes(&self) -> tokio::sync::watch::Receiver<bool> {
        self.changes.subscribe()
    }

    /// The fence for a write of an action sent by `from` on `chain_id`:
    /// `Ok(None)` when no lease covers that sender; an error when one does
    /// and this replica does not hold it now.
    ///
    /// # Errors
    /// [`firebreak_store::Error::Fenced`] when the lease is not held.
    pub fn fence(
        &self,
        chain_id: u64,
        from: Address,
        leased: &[String],
    ) -> Result<Option<Fence>, firebreak_store::Error> {
        let name = signer_lease(chain_id, from);
        if !leased.contains(&name) {
            return Ok(None);
        }
        let acting = self.acting();
        let held = self.held.read().ok().and_then(|h| h.fences.get(&name).cloned());
        match held {
            Some(f) if acting => Ok(Some(f)),
            held => Err(firebreak_store::Error::Fenced {
                lease: name,
                holder: self.holder.clone(),
                epoch: held.map_or(0, |f| f.epoch),
                now: "this replica's hold ran out before it could renew it".into(),
            }),
        }
    }
}
