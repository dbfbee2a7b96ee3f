//! Channels against local sinks that check each service's documented request,
//! and the courier's delivery guarantees against a sink that fails.

#![allow(clippy::unwrap_used)] // test helpers fail loudly by design

mod courier;
mod smtp;
mod wire;

use firebreak_test_utils::sink;
