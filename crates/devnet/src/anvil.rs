//! A real anvil node on a free loopback port.

use std::path::{Path, PathBuf};

use alloy::{
    network::EthereumWallet,
    node_bindings::{Anvil, AnvilInstance},
    primitives::Address,
    providers::{DynProvider, Provider, ProviderBuilder},
    signers::local::PrivateKeySigner,
};
use eyre::{WrapErr as _, bail};

/// The command that installs the pinned test tools (anvil, cast, solc, contracts).
pub const INSTALL_HINT: &str = "install the pinned tools with `npm ci --prefix tools` \
     (or run the README's test command), or set ANVIL_BIN to an anvil binary";

/// The repository root (two levels above this crate).
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The folder holding the pinned npm tools: `FIREBREAK_TOOLS_DIR` or `<repo>/tools`.
pub fn tools_dir() -> PathBuf {
    std::env::var_os("FIREBREAK_TOOLS_DIR").map_or_else(|| repo_root().join("tools"), PathBuf::from)
}

/// Finds the native anvil binary: `ANVIL_BIN`, then the repository's tools
/// folder, then `PATH`.
///
/// # Errors
/// When none exists, with the command that installs it.
pub fn anvil_binary() -> eyre::Result<PathBuf> {
    if let Some(bin) = std::env::var_os("ANVIL_BIN") {
        let bin = PathBuf::from(bin);
        if bin.is_file() {
            return Ok(bin);
        }
        bail!("ANVIL_BIN points at `{}`, which does not exist; {INSTALL_HINT}", bin.display());
    }
    let local = tools_dir().join("node_modules/@foundry-rs/anvil-linux-amd64/bin/anvil");
    if local.is_file() {
        return Ok(local);
    }
    if let Some(path) = std::env::var_os("PATH") {
        for dir in std::env::split_paths(&path) {
            let candidate = dir.join("anvil");
            // npm's launcher in node_modules/.bin exits 0 even when anvil fails; skip it.
            if candidate.is_file() && !dir.ends_with("node_modules/.bin") {
                return Ok(candidate);
            }
        }
    }
    bail!("anvil not found (looked at ANVIL_BIN, {}, PATH); {INSTALL_HINT}", local.display())
}

/// A running anvil with a provider that signs with its dev accounts.
#[derive(Debug)]
pub struct Chain {
    anvil: AnvilInstance,
    provider: DynProvider,
}

impl Chain {
    /// Spawns anvil on 127.0.0.1 and a free port.
    ///
    /// # Errors
    /// When anvil is missing or does not start.
    pub fn spawn() -> eyre::Result<Self> {
        Self::spawn_with(|a| a)
    }

    /// Spawns anvil with extra configuration (block time, fork, arguments).
    ///
    /// # Errors
    /// When anvil is missing or does not start.
    pub fn spawn_with(configure: impl FnOnce(Anvil) -> Anvil) -> eyre::Result<Self> {
        let bin = anvil_binary()?;
        let anvil = configure(Anvil::at(&bin).host("127.0.0.1").port(0u16))
            .try_spawn()
            .wrap_err_with(|| format!("failed to start anvil at `{}`", bin.display()))?;
        let mut wallet = EthereumWallet::default();
        for key in anvil.keys() {
            wallet.register_signer(PrivateKeySigner::from(key.clone()));
        }
        if let Some(first) = anvil.keys().first() {
            wallet.register_default_signer(PrivateKeySigner::from(first.clone()));
        }
        let provider =
            ProviderBuilder::new().wallet(wallet).connect_http(anvil.endpoint_url()).erased();
        Ok(Self { anvil, provider })
    }

    /// A provider that signs with any dev account (default: account 0).
    pub fn provider(&self) -> &DynProvider {
        &self.provider
    }

    /// HTTP endpoint.
    pub fn http_url(&self) -> String {
        self.anvil.endpoint()
    }

    /// WebSocket endpoint.
    pub fn ws_url(&self) -> String {
        self.anvil.ws_endpoint()
    }

    /// Chain id.
    pub fn chain_id(&self) -> u64 {
        self.anvil.chain_id()
    }

    /// Address of dev account `i`.
    ///
    /// # Panics
    /// When `i` is beyond anvil's accounts (10 by default).
    pub fn dev_address(&self, i: usize) -> Address {
        self.anvil.addresses()[i]
    }

    /// Signer of dev account `i`.
    ///
    /// # Panics
    /// When `i` is beyond anvil's accounts (10 by default).
    pub fn dev_signer(&self, i: usize) -> PrivateKeySigner {
        PrivateKeySigner::from(self.anvil.keys()[i].clone())
    }

    /// All dev addresses.
    pub fn dev_addresses(&self) -> &[Address] {
        self.anvil.addresses()
    }

    /// Reads the latest block number.
    ///
    /// # Errors
    /// On RPC failure.
    pub async fn block_number(&self) -> eyre::Result<u64> {
        Ok(self.provider.get_block_number().await?)
    }

    /// Mines `blocks` empty blocks at once (`anvil_mine`).
    ///
    /// # Errors
    /// On RPC failure.
    pub async fn mine(&self, blocks: u64) -> eyre::Result<()> {
        let _: serde_json::Value = self
            .provider
            .raw_request("anvil_mine".into(), (alloy::primitives::U256::from(blocks),))
            .await?;
        Ok(())
    }
}
