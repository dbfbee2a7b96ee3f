//! Test harness for firebreak (a dev-only crate: never a normal dependency).
//!
//! Owns: finding and spawning a real anvil on a free loopback port (killed on
//! drop), deploying firebreak's fixture contracts (a lending vault on
//! OpenZeppelin Pausable + AccessControl + ERC20, and a 6-decimals stablecoin),
//! and deploying the real Safe contracts from the npm
//! `@safe-global/safe-smart-account` build artifacts. It holds no product logic.
//!
//! anvil is the native binary of the pinned npm package
//! `@foundry-rs/anvil-linux-amd64`, found through `ANVIL_BIN`, the repository's
//! `tools/node_modules`, or `PATH`. When it is missing the harness returns an
//! error naming the install command; tests never skip silently.
//!
//! # Feature flags
//! A crate's tests build only what they use:
//! - none: the devnet (anvil, fixtures, Safe; alloy only) and the
//!   black-hole TCP [`proxy`];
//! - `http`: the HTTP [`sink`] standing in for chat and paging services, and
//!   the JSON-RPC [`rpc_proxy`] (axum, reqwest);
//! - `postgres`: a throwaway PostgreSQL cluster ([`pg::PgCluster`]) on a
//!   free loopback port;
//! - `world`: [`WorldExt`] on the devnet's `World` (plan checking, the
//!   executor's chain link, hand-built alerts).
//!
//! # Example
//! ```no_run
//! # async fn demo() -> eyre::Result<()> {
//! use firebreak_test_utils::{Chain, deploy_safe, deploy_vault};
//! let chain = Chain::spawn()?;
//! let vault = deploy_vault(&chain, chain.dev_address(0), chain.dev_address(1)).await?;
//! let owners = [chain.dev_address(1), chain.dev_address(2), chain.dev_address(3)];
//! let safe = deploy_safe(&chain, &owners, 2).await?;
//! # let _ = (vault, safe);
//! # Ok(()) }
//! ```
#![cfg_attr(not(test), warn(unused_crate_dependencies))]

pub use firebreak_devnet::*;

#[cfg(feature = "http")]
pub mod builder;
#[cfg(feature = "postgres")]
pub mod pg;
pub mod proxy;
#[cfg(feature = "http")]
pub mod rpc_proxy;
#[cfg(feature = "http")]
pub mod sink;
#[cfg(feature = "world")]
mod world;
#[cfg(feature = "world")]
pub use world::{WorldExt, alert};

/// 22 monitors of every kind on the fixture plan's chain `local` (the
/// benchmarks' load): events on the asset and the vault, calls, txs, balance
/// probes (with `probes`; else 3 more event monitors), windows and a preset.
pub fn monitors_22(probes: bool) -> String {
    let mut m = String::new();
    for i in 0..6 {
        m += &format!(
            "[monitors.transfer{i}]\nseverity = \"P4\"\nchain = \"local\"\ncontracts = [\"usdc\"]\nrule = 'event usdc.Transfer where value > {}e6'\nplaybook = \"contain\"\n",
            1_000_000 + i
        );
    }
    for i in 0..4 {
        m += &fixture_monitor(
            &format!("borrow{i}"),
            "P2",
            &format!("event vault.Borrow where amount > {}e6", 100_000 + i),
            "",
        );
    }
    for i in 0..4 {
        m += &fixture_monitor(
            &format!("window{i}"),
            "P1",
            &format!("event vault.Withdraw where sum(amount, 10 blocks) > {}e6", 300_000 + i),
            "",
        );
    }
    for i in 0..3 {
        m += &fixture_monitor(
            &format!("price{i}"),
            "P1",
            &format!("call vault.setPrice where price > {}e6", 10_000 + i),
            "",
        );
    }
    for i in 0..3 {
        m += &if probes {
            fixture_monitor(
                &format!("balance{i}"),
                "P1",
                &format!(
                    "block where balance(usdc, vault) < {}% * prev(balance(usdc, vault))",
                    70 + i
                ),
                "",
            )
        } else {
            fixture_monitor(
                &format!("deposit{i}"),
                "P3",
                &format!("event vault.Deposit where amount > {}e6", 500_000 + i),
                "",
            )
        };
    }
    m += &fixture_monitor("big-eth", "P3", "tx where tx.value > 100 ether", "");
    m += "[monitors.admin]\nseverity = \"P3\"\nchain = \"local\"\nrule = \"preset admin_changes(vault, usdc)\"\nplaybook = \"contain\"\n";
    m
}
