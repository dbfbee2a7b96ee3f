//! A protected protocol on anvil for containment tests: the vault fixture,
//! a real SafeL2 2-of-3 of dev accounts 3, 4 and 5, and a plan around them.

use alloy::{
    primitives::{Address, U256},
    providers::Provider,
};

use super::{
    Chain, DeployedVault, LendingVault, SafeInfra, deploy_safe, deploy_vault, fixture_monitor,
    fixture_plan,
};

/// Who holds the vault's PAUSER_ROLE.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pauser {
    /// Dev account 1 (the plan's `guardian`).
    Guardian,
    /// The Safe.
    Safe,
}

/// anvil with the protocol deployed, mining one block per second
/// ([`World::new`]) or only when told to ([`World::manual`]).
#[derive(Debug)]
pub struct World {
    /// Blocks are mined only by [`World::mine`] (and by [`World::exploit`]).
    pub manual: bool,
    /// The chain.
    pub chain: Chain,
    /// The vault and its asset.
    pub vault: DeployedVault,
    /// Safe singletons (MultiSendCallOnly included).
    pub infra: SafeInfra,
    /// The 2-of-3 Safe.
    pub safe: Address,
}

impl World {
    /// Deploys everything with automine, then switches anvil to one block
    /// per second.
    ///
    /// # Errors
    /// When anvil or a deployment fails.
    pub async fn new(pauser: Pauser) -> eyre::Result<Self> {
        Self::with_chain(Chain::spawn()?, pauser).await
    }

    /// As [`Self::new`] on a chain spawned by the caller.
    ///
    /// # Errors
    /// When a deployment fails.
    pub async fn with_chain(chain: Chain, pauser: Pauser) -> eyre::Result<Self> {
        let owners = [chain.dev_address(3), chain.dev_address(4), chain.dev_address(5)];
        let (infra, safe) = deploy_safe(&chain, &owners, 2).await?;
        let who = match pauser {
            Pauser::Guardian => chain.dev_address(1),
            Pauser::Safe => safe,
        };
        let vault = deploy_vault(&chain, chain.dev_address(0), who).await?;
        let _: serde_json::Value =
            chain.provider().raw_request("evm_setIntervalMining".into(), (1,)).await?;
        Ok(Self { manual: false, chain, vault, infra, safe })
    }

    /// As [`Self::new`], but the chain mines only on demand ([`Self::mine`],
    /// [`Self::mine_when_pending`]): a test controls which block holds what,
    /// so "the pause lands in the block after the exploit" does not depend
    /// on how fast a busy machine runs.
    ///
    /// # Errors
    /// When anvil or a deployment fails.
    pub async fn manual(pauser: Pauser) -> eyre::Result<Self> {
        Self::manual_on(Chain::spawn()?, pauser).await
    }

    /// As [`Self::manual`] on a chain spawned by the caller (e.g. with its
    /// own chain id, for a plan with two chains).
    ///
    /// # Errors
    /// When a deployment fails.
    pub async fn manual_on(chain: Chain, pauser: Pauser) -> eyre::Result<Self> {
        let mut w = Self::with_chain(chain, pauser).await?;
        let _: serde_json::Value =
            w.chain.provider().raw_request("evm_setIntervalMining".into(), (0,)).await?;
        let _: serde_json::Value =
            w.chain.provider().raw_request("evm_setAutomine".into(), (false,)).await?;
        w.manual = true;
        Ok(w)
    }

    /// Mines one block; returns its number.
    ///
    /// # Errors
    /// On RPC failure.
    pub async fn mine(&self) -> eyre::Result<u64> {
        let _: serde_json::Value = self.chain.provider().raw_request("evm_mine".into(), ()).await?;
        self.chain.block_number().await
    }

    /// Transactions waiting in the node's pool.
    ///
    /// # Errors
    /// On RPC failure.
    pub async fn pending(&self) -> eyre::Result<u64> {
        let status: serde_json::Value =
            self.chain.provider().raw_request("txpool_status".into(), ()).await?;
        let n = |v: &serde_json::Value| match v {
            serde_json::Value::String(s) => {
                u64::from_str_radix(s.trim_start_matches("0x"), 16).unwrap_or(0)
            }
            other => other.as_u64().unwrap_or(0),
        };
        Ok(n(&status["pending"]))
    }

    /// Waits (polling, up to `within`) until a transaction is in the pool,
    /// then mines one block; returns its number.
    ///
    /// # Errors
    /// When nothing arrives in time, or on RPC failure.
    pub async fn mine_when_pending(&self, within: std::time::Duration) -> eyre::Result<u64> {
        let deadline = tokio::time::Instant::now() + within;
        while self.pending().await? == 0 {
            eyre::ensure!(
                tokio::time::Instant::now() < deadline,
                "no transaction reached the pool within {within:?}"
            );
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
        self.mine().await
    }

    /// The fixture plan with `via` (a TOML array of authorities) as the
    /// vault's pause path, the Safe `emergency` with `hot` as hot signers
    /// (`owner-a` = dev 3, `owner-b` = dev 4), relayer dev 6, and a P1
    /// monitor `price` on every price change.
    pub fn plan_text(&self, via: &str, hot: &[&str]) -> String {
        let monitor = fixture_monitor("price", "P1", "event vault.PriceUpdated", "");
        let text = fixture_plan(&self.chain, &self.vault, self.safe, &monitor);
        let old = r#"pause = { method = "pause", via = [{ signer = "guardian" }] }"#;
        assert!(text.contains(old), "the fixture plan changed");
        let mut text =
            text.replace(old, &format!(r#"pause = {{ method = "pause", via = {via} }}"#));
        let hot_list: Vec<String> = hot.iter().map(|h| format!("\"{h}\"")).collect();
        text.push_str(&format!(
            r#"
[signers.owner-a]
anvil_account = 3
[signers.owner-b]
anvil_account = 4
[signers.relayer]
anvil_account = 6
[safes.emergency]
chain = "local"
address = "{safe}"
owners = ["{o3}", "{o4}", "{o5}"]
threshold = 2
hot_signers = [{hot}]
relayer = "relayer"
multisend = "{multisend}"
"#,
            safe = self.safe,
            o3 = self.chain.dev_address(3),
            o4 = self.chain.dev_address(4),
            o5 = self.chain.dev_address(5),
            hot = hot_list.join(", "),
            multisend = self.infra.multisend,
        ));
        text
    }

    /// Sends the exploit (anyone may set the vault's price); returns its block.
    ///
    /// # Errors
    /// When it is not mined or reverts.
    pub async fn exploit(&self) -> eyre::Result<u64> {
        let v = LendingVault::new(self.vault.vault, self.chain.provider());
        let pending = v.setPrice(U256::from(1)).send().await?;
        if self.manual {
            self.mine().await?;
        }
        let r = pending.get_receipt().await?;
        eyre::ensure!(r.status(), "the exploit reverted");
        r.block_number.ok_or_else(|| eyre::eyre!("receipt without a block"))
    }

    /// Whether the vault is paused.
    ///
    /// # Errors
    /// On RPC failure.
    pub async fn paused(&self) -> eyre::Result<bool> {
        Ok(LendingVault::new(self.vault.vault, self.chain.provider()).paused().call().await?)
    }

    /// Transactions calling `pause()` on the vault, with their blocks, from
    /// block `from` to the head.
    ///
    /// # Errors
    /// On RPC failure.
    pub async fn pause_transactions(&self, from: u64) -> eyre::Result<Vec<(u64, Address)>> {
        let selector = [0x84, 0x56, 0xcb, 0x59]; // pause()
        let head = self.chain.block_number().await?;
        let mut out = Vec::new();
        for n in from..=head {
            let Some(block) = self.chain.provider().get_block_by_number(n.into()).full().await?
            else {
                continue;
            };
            for tx in block.transactions.into_transactions() {
                use alloy::consensus::Transaction as _;
                let input = tx.input();
                let to_vault = tx.to() == Some(self.vault.vault) && input.starts_with(&selector);
                // through the Safe: execTransaction carrying pause() for the vault
                let via_safe = tx.to() == Some(self.safe)
                    && input.windows(4).any(|w| w == selector)
                    && input.windows(20).any(|w| w == self.vault.vault.as_slice());
                if to_vault || via_safe {
                    out.push((n, tx.inner.signer()));
                }
            }
        }
        Ok(out)
    }
}
