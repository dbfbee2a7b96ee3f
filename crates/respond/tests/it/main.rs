//! The executor against a real anvil, driven by alerts built in the test.

#![allow(clippy::unwrap_used)] // test helpers fail loudly by design

mod approval;
mod link;
mod paging;
mod replace;
