//! firebreak's local chain (devnet): a protected protocol on anvil, on a
//! free loopback port
//! (killed on drop), firebreak's fixture contracts (a lending vault on
//! OpenZeppelin Pausable + AccessControl + ERC20, and a 6-decimals
//! stablecoin), and the real Safe contracts from the npm
//! `@safe-global/safe-smart-account` build artifacts.
//!
//! anvil is the native binary of the pinned npm package
//! `@foundry-rs/anvil-linux-amd64`, found through `ANVIL_BIN`, the repository's
//! `tools/node_modules`, or `PATH`; when it is missing the error names the
//! install command.
//!
//! Owns: spawning anvil, deploying the fixture contracts and the real Safe,
//! the fixture plan text. Never: firebreak's own logic (no plan checking, no
//! store, no HTTP); it depends on alloy alone, so a crate's tests that need
//! a chain build only this. Used by tests (through `firebreak-test-utils`),
//! the demo and drills.
//!
//! # Feature flags
//! None.
#![cfg_attr(not(test), warn(unused_crate_dependencies))]

mod anvil;
mod fixtures;
mod safe;
mod traffic;
mod world;

pub use anvil::{Chain, INSTALL_HINT, anvil_binary, repo_root, tools_dir};
pub use fixtures::{
    DeployedTreasury, DeployedVault, Drainer, FIXTURE_RECOVERY, IERC20, LendingVault, MockUSDC,
    UpgradeableTreasury, deploy_drainer, deploy_fixture, deploy_treasury, deploy_vault,
    fixture_bytecode, fixture_monitor, fixture_plan, fixture_safe_harbor, fixture_team,
    send_drainer_deployment,
};
pub use safe::{
    ISafe, ISafeProxyFactory, SafeInfra, deploy_safe, deploy_safe_infra, exec_safe_tx,
    exec_safe_tx_op, safe_artifact_bytecode,
};
pub use traffic::{ordinary_traffic, traffic_users};
pub use world::{Pauser, World};
