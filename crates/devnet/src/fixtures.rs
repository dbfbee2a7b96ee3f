//! firebreak's own fixture contracts, compiled by `tools/compile-fixtures.mjs`.

use alloy::{
    network::TransactionBuilder,
    primitives::{Address, B256, Bytes, U256},
    providers::Provider,
    rpc::types::TransactionRequest,
    sol,
    sol_types::SolConstructor,
};
use eyre::{OptionExt as _, WrapErr as _};

use super::anvil::Chain;

sol! {
    /// The fixture lending vault (see `contracts/LendingVault.sol`).
    #[sol(rpc)]
    #[derive(Debug)]
    contract LendingVault {
        constructor(address asset_, address admin, address pauser, uint256 price);
        function asset() external view returns (address);
        function ethPrice() external view returns (uint256);
        function totalAssets() external view returns (uint256);
        function paused() external view returns (bool);
        function hasRole(bytes32 role, address account) external view returns (bool);
        function PAUSER_ROLE() external view returns (bytes32);
        function deposit(uint256 amount) external;
        function withdraw(uint256 amount) external;
        function borrow(uint256 amount) external payable;
        function setPrice(uint256 price) external;
        function pause() external;
        function unpause() external;
        function grantRole(bytes32 role, address account) external;
        function repay(uint256 amount) external;
        event Deposit(address indexed account, uint256 amount);
        event Withdraw(address indexed account, uint256 amount);
        event Borrow(address indexed account, uint256 amount, uint256 collateral);
        event PriceUpdated(address indexed by, uint256 oldPrice, uint256 newPrice);
        event Paused(address account);
        event Unpaused(address account);
        error EnforcedPause();
        error InsufficientCollateral(uint256 limit, uint256 requested);
        error AccessControlUnauthorizedAccount(address account, bytes32 neededRole);
    }

    /// The fixture stablecoin (6 decimals, owner-mintable).
    #[sol(rpc)]
    #[derive(Debug)]
    contract MockUSDC {
        constructor(address owner_);
        function mint(address to, uint256 amount) external;
        function transferOwnership(address newOwner) external;
    }

    /// The UUPS-upgradeable treasury behind its proxy (see
    /// `contracts/UpgradeableTreasury.sol`).
    #[sol(rpc)]
    #[derive(Debug)]
    contract UpgradeableTreasury {
        function initialize(address admin) external;
        function version() external view returns (uint256);
        function UPGRADER_ROLE() external view returns (bytes32);
        function grantRole(bytes32 role, address account) external;
        function hasRole(bytes32 role, address account) external view returns (bool);
        function upgradeToAndCall(address newImplementation, bytes data) external payable;
    }

    /// The fixture attacker contract: drains the vault in one transaction
    /// (see `contracts/Drainer.sol`); deployed by the attacker.
    #[sol(rpc)]
    #[derive(Debug)]
    contract Drainer {
        function drain(address vault) external payable;
    }

    /// ERC-20 subset used by tests.
    #[sol(rpc)]
    #[derive(Debug)]
    interface IERC20 {
        function balanceOf(address account) external view returns (uint256);
        function approve(address spender, uint256 amount) external returns (bool);
        function transfer(address to, uint256 amount) external returns (bool);
        function decimals() external view returns (uint8);
        event Transfer(address indexed from, address indexed to, uint256 value);
    }
}

/// Creation bytecode of a fixture (`MockUSDC`, `LendingVault`, the SEAL
/// Safe Harbor stand-ins `AgreementV1`/`V2`/`V3` and
/// `SafeHarborRegistryV1`/`V2`/`V3`, `MockPriceFeed`, and the upgradeable
/// treasury: `UpgradeableTreasury`, `MaliciousTreasury`, `TreasuryProxy`;
/// the one-transaction attacker contract `Drainer`).
///
/// # Errors
/// When the committed fixture file is missing or malformed.
pub fn fixture_bytecode(name: &str) -> eyre::Result<Bytes> {
    let text = match name {
        "MockUSDC" => include_str!("../fixtures/MockUSDC.json"),
        "LendingVault" => include_str!("../fixtures/LendingVault.json"),
        "AgreementV3" => include_str!("../fixtures/AgreementV3.json"),
        "SafeHarborRegistryV3" => include_str!("../fixtures/SafeHarborRegistryV3.json"),
        "AgreementV2" => include_str!("../fixtures/AgreementV2.json"),
        "SafeHarborRegistryV2" => include_str!("../fixtures/SafeHarborRegistryV2.json"),
        "AgreementV1" => include_str!("../fixtures/AgreementV1.json"),
        "MockPriceFeed" => include_str!("../fixtures/MockPriceFeed.json"),
        "UpgradeableTreasury" => include_str!("../fixtures/UpgradeableTreasury.json"),
        "MaliciousTreasury" => include_str!("../fixtures/MaliciousTreasury.json"),
        "TreasuryProxy" => include_str!("../fixtures/TreasuryProxy.json"),
        "Drainer" => include_str!("../fixtures/Drainer.json"),
        "SafeHarborRegistryV1" => include_str!("../fixtures/SafeHarborRegistryV1.json"),
        other => eyre::bail!("no fixture named `{other}`"),
    };
    let json: serde_json::Value = serde_json::from_str(text)?;
    let hex = json["bytecode"].as_str().ok_or_eyre("fixture without bytecode")?;
    Ok(hex.parse()?)
}

/// The upgradeable treasury: its proxy (the address everyone uses), its
/// implementation, and the malicious implementation an attacker upgrades to.
#[derive(Debug, Clone, Copy)]
pub struct DeployedTreasury {
    /// The ERC-1967 proxy.
    pub proxy: Address,
    /// Version 1.
    pub implementation: Address,
    /// Version 666, deployed for the attacker.
    pub malicious: Address,
}

/// Deploys the upgradeable treasury behind its proxy with `admin` holding
/// DEFAULT_ADMIN_ROLE, and the malicious implementation beside it.
///
/// # Errors
/// When a deployment fails.
pub async fn deploy_treasury(chain: &Chain, admin: Address) -> eyre::Result<DeployedTreasury> {
    use alloy::sol_types::{SolCall as _, SolValue as _};
    let implementation = deploy_fixture(chain, "UpgradeableTreasury", &[]).await?;
    let malicious = deploy_fixture(chain, "MaliciousTreasury", &[]).await?;
    let init: Bytes = UpgradeableTreasury::initializeCall { admin }.abi_encode().into();
    let args = (implementation, init).abi_encode_params();
    let proxy = deploy_fixture(chain, "TreasuryProxy", &args).await?;
    Ok(DeployedTreasury { proxy, implementation, malicious })
}

/// Deploys the fixture `name` with ABI-encoded constructor `args` from dev
/// account 0.
///
/// # Errors
/// When the fixture is unknown or the deployment fails.
pub async fn deploy_fixture(chain: &Chain, name: &str, args: &[u8]) -> eyre::Result<Address> {
    let mut code = fixture_bytecode(name)?.to_vec();
    code.extend_from_slice(args);
    deploy_code(chain, code.into(), name).await
}

/// Deploys the one-transaction attacker contract from `attacker` (a dev
/// account): only `attacker` may call its `drain(vault)`, and the loot goes
/// to it.
///
/// # Errors
/// When the deployment fails.
pub async fn deploy_drainer(chain: &Chain, attacker: Address) -> eyre::Result<Address> {
    let tx = drainer_deployment(attacker)?;
    let receipt = chain
        .provider()
        .send_transaction(tx)
        .await
        .wrap_err("failed to send the deployment of Drainer")?
        .get_receipt()
        .await?;
    eyre::ensure!(receipt.status(), "deployment of Drainer reverted");
    receipt.contract_address.ok_or_eyre("deployment receipt without contract address")
}

/// Sends the deployment of the attacker contract `Drainer` from `attacker`
/// to the pool (at `nonce`, or the account's next) and returns at once: the
/// deployment's hash, and the address the contract will have once it is
/// mined (an attack can then call it while both wait in the pool).
///
/// # Errors
/// When the node refuses the transaction.
pub async fn send_drainer_deployment(
    chain: &Chain,
    attacker: Address,
    nonce: Option<u64>,
) -> eyre::Result<(B256, Address)> {
    let nonce = match nonce {
        Some(n) => n,
        None => chain.provider().get_transaction_count(attacker).pending().await?,
    };
    let tx = drainer_deployment(attacker)?.nonce(nonce).gas_limit(1_000_000);
    let pending = chain
        .provider()
        .send_transaction(tx)
        .await
        .wrap_err("failed to send the deployment of Drainer")?;
    Ok((*pending.tx_hash(), attacker.create(nonce)))
}

fn drainer_deployment(attacker: Address) -> eyre::Result<TransactionRequest> {
    Ok(TransactionRequest::default().from(attacker).with_deploy_code(fixture_bytecode("Drainer")?))
}

/// Deploys creation code (with encoded constructor args) from dev account 0.
pub(crate) async fn deploy_code(chain: &Chain, code: Bytes, what: &str) -> eyre::Result<Address> {
    let tx = TransactionRequest::default().with_deploy_code(code);
    let receipt = chain
        .provider()
        .send_transaction(tx)
        .await
        .wrap_err_with(|| format!("failed to send the deployment of {what}"))?
        .get_receipt()
        .await?;
    eyre::ensure!(receipt.status(), "deployment of {what} reverted");
    receipt.contract_address.ok_or_eyre("deployment receipt without contract address")
}

/// A deployed vault and its asset.
#[derive(Debug, Clone, Copy)]
pub struct DeployedVault {
    /// The vault.
    pub vault: Address,
    /// Its asset (MockUSDC).
    pub asset: Address,
}

/// Deploys MockUSDC and a LendingVault (price 2,000 USDC per ETH) with `admin`
/// holding DEFAULT_ADMIN_ROLE and `pauser` holding PAUSER_ROLE, and seeds the
/// vault with 1,000,000 USDC of deposits from dev account 0.
///
/// # Errors
/// On any failed deployment or transaction.
pub async fn deploy_vault(
    chain: &Chain,
    admin: Address,
    pauser: Address,
) -> eyre::Result<DeployedVault> {
    let deployer = chain.dev_address(0);
    let mut code = fixture_bytecode("MockUSDC")?.to_vec();
    code.extend(MockUSDC::constructorCall { owner_: deployer }.abi_encode());
    let asset = deploy_code(chain, code.into(), "MockUSDC").await?;

    let price = U256::from(2_000_000_000u64); // 2,000 USDC (6 decimals) per ETH
    let mut code = fixture_bytecode("LendingVault")?.to_vec();
    code.extend(LendingVault::constructorCall { asset_: asset, admin, pauser, price }.abi_encode());
    let vault = deploy_code(chain, code.into(), "LendingVault").await?;

    let seed = U256::from(1_000_000_000_000u64); // 1,000,000 USDC
    let usdc = MockUSDC::new(asset, chain.provider());
    usdc.mint(deployer, seed).send().await?.get_receipt().await?;
    let erc20 = IERC20::new(asset, chain.provider());
    erc20.approve(vault, seed).send().await?.get_receipt().await?;
    let v = LendingVault::new(vault, chain.provider());
    let receipt = v.deposit(seed).send().await?.get_receipt().await?;
    eyre::ensure!(receipt.status(), "seeding the vault reverted");
    Ok(DeployedVault { vault, asset })
}

/// A drill plan (TOML text) for an anvil chain holding the vault fixture, its
/// asset and a Safe, with `monitors` appended (TOML `[monitors.*]` tables). The
/// plan's contracts are `vault`, `usdc` and `safe`; its playbook `contain`
/// pauses the vault through dev account 1.
pub fn fixture_plan(chain: &Chain, v: &DeployedVault, safe: Address, monitors: &str) -> String {
    let fixtures = super::anvil::repo_root().join("crates/devnet/fixtures");
    format!(
        r#"
version = 1
mode = "drill"
[protocol]
name = "Fixture"
[chains.local]
id = {chain_id}
rpc = ["{ws}", "{http}"]
confirmations = 1
[contracts.vault]
chain = "local"
address = "{vault}"
abi = {{ artifact = "{fixtures}/LendingVault.json" }}
pause = {{ method = "pause", via = [{{ signer = "guardian" }}] }}
[contracts.usdc]
chain = "local"
address = "{usdc}"
abi = {{ artifact = "{fixtures}/MockUSDC.json" }}
pausable = false
[contracts.safe]
chain = "local"
address = "{safe}"
abi = {{ signatures = ["event ChangedThreshold(uint256 threshold)"] }}
pausable = false
[signers.guardian]
anvil_account = 1
[playbooks.contain]
steps = [{{ kind = "pause", contracts = ["vault"] }}]
{monitors}
"#,
        chain_id = chain.chain_id(),
        ws = chain.ws_url(),
        http = chain.http_url(),
        vault = v.vault,
        usdc = v.asset,
        fixtures = fixtures.display(),
    )
}

/// A `[monitors.ID]` table on chain `local` watching the vault, running `contain`.
pub fn fixture_monitor(id: &str, severity: &str, rule: &str, extra: &str) -> String {
    format!(
        "[monitors.{id}]\nseverity = \"{severity}\"\nchain = \"local\"\ncontracts = [\"vault\"]\nrule = '{rule}'\nplaybook = \"contain\"\n{extra}\n"
    )
}

/// The recovery address of [`fixture_safe_harbor`].
pub const FIXTURE_RECOVERY: &str = "0x4000000000000000000000000000000000000004";

/// A `[safe_harbor]` table on chain `local` (10 %, 1,000,000 USD per white
/// hat, recovery at [`FIXTURE_RECOVERY`]) with `terms` added (e.g.
/// `retainable = true`), and a `[recovery]` table of `recovery` when given.
pub fn fixture_safe_harbor(terms: &str, recovery: Option<&str>) -> String {
    let mut out = format!(
        "\n[safe_harbor]\nbounty_percent = 10\nbounty_cap_usd = 1_000_000\nidentity = \"pseudonymous\"\nrecovery = {{ local = \"{FIXTURE_RECOVERY}\" }}\ncontacts = [{{ name = \"Security\", contact = \"security@test.example\" }}]\n{terms}\n"
    );
    if let Some(r) = recovery {
        out.push_str(&format!("[recovery]\n{r}\n"));
    }
    out
}

/// `[team.HANDLE]` tables (UTC, no contacts) for `(handle, roles)` pairs.
pub fn fixture_team(members: &[(&str, &[&str])]) -> String {
    let mut out = String::new();
    for (handle, roles) in members {
        let roles: Vec<String> = roles.iter().map(|r| format!("\"{r}\"")).collect();
        let mut name = handle.to_string();
        if let Some(first) = name.get_mut(0..1) {
            first.make_ascii_uppercase();
        }
        out.push_str(&format!(
            "\n[team.{handle}]\nname = \"{name}\"\nroles = [{}]\ntimezone = \"UTC\"\n",
            roles.join(", ")
        ));
    }
    out
}
