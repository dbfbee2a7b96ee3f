//! Prints what following a chain delivers: each canonical block, each reorg
//! with its old and new branch, and endpoint health.
//!
//! ```sh
//! anvil &                       # or any node; several URLs fail over in order
//! cargo run -p firebreak-chain --example follow -- http://127.0.0.1:8545
//! ```
//!
//! Mine blocks (`cast rpc anvil_mine 3`) or replace some
//! (`cast rpc anvil_reorg 2 '[]'`) and watch the notifications.
#![allow(clippy::print_stdout, clippy::print_stderr)]

use alloy::providers::Provider as _;
use firebreak_chain::{FollowOptions, Follower, Notification, RpcEndpoint};

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let urls: Vec<String> = std::env::args().skip(1).collect();
    if urls.is_empty() {
        eprintln!("usage: follow URL [URL…]");
        std::process::exit(2);
    }
    let chain_id = match firebreak_chain::connect(&urls[0]).await {
        Ok(p) => p.get_chain_id().await.unwrap_or_default(),
        Err(e) => {
            eprintln!("error: cannot reach {}: {e}", urls[0]);
            std::process::exit(1);
        }
    };
    let endpoints = urls.into_iter().map(RpcEndpoint::public).collect();
    let mut follower = Follower::new(chain_id, endpoints, FollowOptions::default());
    loop {
        while let Some(n) = follower.next().await {
            match n {
                Notification::Committed(b) => {
                    println!("block {} {} ({} txs)", b.number, b.hash, b.txs.len());
                }
                Notification::Reorged { ancestor, old, new, deep } => {
                    println!(
                        "reorg above {ancestor}{}: {} block(s) orphaned, new branch {:?}",
                        if deep { " (deeper than remembered)" } else { "" },
                        old.len(),
                        new.iter().map(|b| b.number).collect::<Vec<_>>()
                    );
                }
                Notification::EndpointFailed { endpoint, error } => {
                    println!("endpoint {endpoint} failed: {error}");
                }
                Notification::Blind { for_secs } => println!("blind for {for_secs} s"),
                Notification::Recovered => println!("recovered"),
            }
        }
        follower.wait().await;
    }
}
