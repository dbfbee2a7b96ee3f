//! The real Safe contracts (npm `@safe-global/safe-smart-account` 1.5.0 artifacts).

use alloy::{
    primitives::{Address, Bytes, U256},
    rpc::types::TransactionReceipt,
    signers::SignerSync as _,
};
use eyre::{OptionExt as _, WrapErr as _};

use super::{anvil::Chain, anvil::tools_dir, fixtures::deploy_code};

// The Safe ABI takes 10 arguments in execTransaction; the generated bindings mirror it.
#[allow(clippy::too_many_arguments)]
mod bindings {
    use alloy::sol;

    sol! {
        /// The Safe (SafeL2) interface used by tests.
        #[sol(rpc)]
        #[derive(Debug)]
        interface ISafe {
            function setup(address[] _owners, uint256 _threshold, address to, bytes data, address fallbackHandler, address paymentToken, uint256 payment, address paymentReceiver) external;
            function getOwners() external view returns (address[]);
            function getThreshold() external view returns (uint256);
            function nonce() external view returns (uint256);
            function VERSION() external view returns (string);
            function domainSeparator() external view returns (bytes32);
            function getTransactionHash(address to, uint256 value, bytes data, uint8 operation, uint256 safeTxGas, uint256 baseGas, uint256 gasPrice, address gasToken, address refundReceiver, uint256 _nonce) external view returns (bytes32);
            function execTransaction(address to, uint256 value, bytes data, uint8 operation, uint256 safeTxGas, uint256 baseGas, uint256 gasPrice, address gasToken, address refundReceiver, bytes signatures) external payable returns (bool success);
        function changeThreshold(uint256 _threshold) external;
        event ChangedThreshold(uint256 threshold);
            event ExecutionSuccess(bytes32 indexed txHash, uint256 payment);
            event ExecutionFailure(bytes32 indexed txHash, uint256 payment);
        }

        /// SafeProxyFactory.
        #[sol(rpc)]
        #[derive(Debug)]
        interface ISafeProxyFactory {
            function createProxyWithNonce(address _singleton, bytes initializer, uint256 saltNonce) external returns (address proxy);
            event ProxyCreation(address indexed proxy, address singleton);
        }
    }
}

pub use bindings::{ISafe, ISafeProxyFactory};

/// Creation bytecode of a Safe artifact, e.g. `SafeL2.sol/SafeL2.json` or
/// `proxies/SafeProxyFactory.sol/SafeProxyFactory.json`.
///
/// # Errors
/// When the npm package is not installed (with the install command).
pub fn safe_artifact_bytecode(relative: &str) -> eyre::Result<Bytes> {
    let path = tools_dir()
        .join("node_modules/@safe-global/safe-smart-account/build/artifacts/contracts")
        .join(relative);
    let text = std::fs::read_to_string(&path).wrap_err_with(|| {
        format!("cannot read Safe artifact `{}`; {}", path.display(), super::anvil::INSTALL_HINT)
    })?;
    let json: serde_json::Value = serde_json::from_str(&text)?;
    let hex = json["bytecode"].as_str().ok_or_eyre("Safe artifact without bytecode")?;
    Ok(hex.parse()?)
}

/// The Safe singletons deployed on a chain.
#[derive(Debug, Clone, Copy)]
pub struct SafeInfra {
    /// SafeL2 singleton.
    pub singleton: Address,
    /// SafeProxyFactory.
    pub factory: Address,
    /// CompatibilityFallbackHandler.
    pub fallback_handler: Address,
    /// MultiSendCallOnly.
    pub multisend: Address,
}

/// Deploys SafeL2, SafeProxyFactory, CompatibilityFallbackHandler and MultiSendCallOnly.
///
/// # Errors
/// On a missing artifact or a failed deployment.
pub async fn deploy_safe_infra(chain: &Chain) -> eyre::Result<SafeInfra> {
    let mut out = [Address::ZERO; 4];
    for (slot, artifact) in out.iter_mut().zip([
        "SafeL2.sol/SafeL2.json",
        "proxies/SafeProxyFactory.sol/SafeProxyFactory.json",
        "handler/CompatibilityFallbackHandler.sol/CompatibilityFallbackHandler.json",
        "libraries/MultiSendCallOnly.sol/MultiSendCallOnly.json",
    ]) {
        *slot = deploy_code(chain, safe_artifact_bytecode(artifact)?, artifact).await?;
    }
    Ok(SafeInfra {
        singleton: out[0],
        factory: out[1],
        fallback_handler: out[2],
        multisend: out[3],
    })
}

/// Deploys the Safe singletons and an `threshold`-of-`owners` Safe proxy.
///
/// # Errors
/// On a failed deployment.
pub async fn deploy_safe(
    chain: &Chain,
    owners: &[Address],
    threshold: u64,
) -> eyre::Result<(SafeInfra, Address)> {
    let infra = deploy_safe_infra(chain).await?;
    let init = ISafe::setupCall {
        _owners: owners.to_vec(),
        _threshold: U256::from(threshold),
        to: Address::ZERO,
        data: Bytes::new(),
        fallbackHandler: infra.fallback_handler,
        paymentToken: Address::ZERO,
        payment: U256::ZERO,
        paymentReceiver: Address::ZERO,
    };
    let factory = ISafeProxyFactory::new(infra.factory, chain.provider());
    let call = factory.createProxyWithNonce(
        infra.singleton,
        alloy::sol_types::SolCall::abi_encode(&init).into(),
        U256::from(42u64),
    );
    let proxy = call.call().await.wrap_err("simulating the Safe proxy creation failed")?;
    let receipt = call.send().await?.get_receipt().await?;
    eyre::ensure!(receipt.status(), "Safe proxy creation reverted");
    Ok((infra, proxy))
}

/// Executes a call from `safe` through `execTransaction`, signed by the dev
/// accounts `signers` (ECDSA over the SafeTx hash, packed in ascending owner
/// order as the Safe requires) and submitted by dev account `relayer`.
///
/// # Errors
/// On a failed read, signature, or a reverted execution.
pub async fn exec_safe_tx(
    chain: &Chain,
    safe: Address,
    to: Address,
    data: Bytes,
    signers: &[usize],
    relayer: usize,
) -> eyre::Result<TransactionReceipt> {
    exec_safe_tx_op(chain, safe, (to, data, 0), signers, relayer).await
}

/// As [`exec_safe_tx`] with the SafeTx's operation (0 CALL, 1 DELEGATECALL).
///
/// # Errors
/// When a read fails or `execTransaction` reverts.
pub async fn exec_safe_tx_op(
    chain: &Chain,
    safe: Address,
    (to, data, operation): (Address, Bytes, u8),
    signers: &[usize],
    relayer: usize,
) -> eyre::Result<TransactionReceipt> {
    let s = ISafe::new(safe, chain.provider());
    let nonce = s.nonce().call().await?;
    let hash = s
        .getTransactionHash(
            to,
            U256::ZERO,
            data.clone(),
            operation,
            U256::ZERO,
            U256::ZERO,
            U256::ZERO,
            Address::ZERO,
            Address::ZERO,
            nonce,
        )
        .call()
        .await?;
    let mut sigs: Vec<(Address, Vec<u8>)> = Vec::new();
    for &i in signers {
        let signer = chain.dev_signer(i);
        let sig = signer.sign_hash_sync(&hash)?;
        sigs.push((signer.address(), sig.as_bytes().to_vec()));
    }
    sigs.sort_by_key(|(a, _)| *a);
    let packed: Vec<u8> = sigs.into_iter().flat_map(|(_, b)| b).collect();
    let receipt = s
        .execTransaction(
            to,
            U256::ZERO,
            data,
            operation,
            U256::ZERO,
            U256::ZERO,
            U256::ZERO,
            Address::ZERO,
            Address::ZERO,
            packed.into(),
        )
        .from(chain.dev_address(relayer))
        .send()
        .await?
        .get_receipt()
        .await?;
    eyre::ensure!(receipt.status(), "execTransaction reverted");
    Ok(receipt)
}
