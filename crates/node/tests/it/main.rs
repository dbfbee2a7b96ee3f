//! Detection end to end on a real anvil with the vault fixture and a real Safe.

#![allow(clippy::unwrap_used)] // test helpers fail loudly by design

mod contain;
mod containment;
mod cookbook;
mod detect;
mod heartbeat;
mod isolation;
mod keys;
mod playbook;
mod preempt;
mod ready;
mod recovery;
mod replicas;
mod watch;
