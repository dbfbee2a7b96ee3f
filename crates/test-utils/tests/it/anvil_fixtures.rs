use alloy::primitives::U256;
use firebreak_test_utils::{Chain, IERC20, ISafe, LendingVault, deploy_safe, deploy_vault};

/// The acceptance test of the harness: the vault fixture and a real 2-of-3 Safe,
/// read back through alloy.
#[tokio::test]
async fn anvil_deploys_vault_and_two_of_three_safe() {
    let chain = Chain::spawn().expect("anvil must be installed: npm ci --prefix tools");
    let owners = [chain.dev_address(1), chain.dev_address(2), chain.dev_address(3)];
    let (_, safe) = deploy_safe(&chain, &owners, 2).await.unwrap();
    let deployed = deploy_vault(&chain, chain.dev_address(0), safe).await.unwrap();

    let s = ISafe::new(safe, chain.provider());
    assert_eq!(s.getOwners().call().await.unwrap(), owners.to_vec());
    assert_eq!(s.getThreshold().call().await.unwrap(), U256::from(2));
    assert_eq!(s.VERSION().call().await.unwrap(), "1.5.0");
    assert_eq!(s.nonce().call().await.unwrap(), U256::ZERO);

    let v = LendingVault::new(deployed.vault, chain.provider());
    assert!(!v.paused().call().await.unwrap());
    let role = v.PAUSER_ROLE().call().await.unwrap();
    assert!(v.hasRole(role, safe).call().await.unwrap(), "the Safe holds PAUSER_ROLE");
    assert!(!v.hasRole(role, chain.dev_address(0)).call().await.unwrap());
    let usdc = IERC20::new(deployed.asset, chain.provider());
    assert_eq!(
        usdc.balanceOf(deployed.vault).call().await.unwrap(),
        U256::from(1_000_000_000_000u64)
    );
    assert_eq!(v.totalAssets().call().await.unwrap(), U256::from(1_000_000_000_000u64));
}

/// The vault's pause really stops it, and only PAUSER_ROLE can pause.
#[tokio::test]
async fn anvil_guardian_pause_blocks_withdrawals() {
    let chain = Chain::spawn().unwrap();
    let guardian = chain.dev_address(5);
    let deployed = deploy_vault(&chain, chain.dev_address(0), guardian).await.unwrap();
    let v = LendingVault::new(deployed.vault, chain.provider());

    // account 0 is admin but not pauser: simulation reverts with the OZ error
    let err = v.pause().from(chain.dev_address(0)).call().await.unwrap_err();
    let decoded = err.as_decoded_interface_error::<LendingVault::LendingVaultErrors>();
    assert!(
        matches!(
            decoded,
            Some(LendingVault::LendingVaultErrors::AccessControlUnauthorizedAccount(_))
        ),
        "{err}"
    );

    let receipt = v.pause().from(guardian).send().await.unwrap().get_receipt().await.unwrap();
    assert!(receipt.status());
    assert!(v.paused().call().await.unwrap());
    let err = v.withdraw(U256::from(1)).call().await.unwrap_err();
    let decoded = err.as_decoded_interface_error::<LendingVault::LendingVaultErrors>();
    assert!(matches!(decoded, Some(LendingVault::LendingVaultErrors::EnforcedPause(_))), "{err}");
}

/// The committed fixture artifacts match their Solidity sources.
#[test]
fn fixtures_are_current() {
    let root = firebreak_test_utils::repo_root();
    let status = std::process::Command::new("node")
        .arg(root.join("tools/compile-fixtures.mjs"))
        .arg("--check")
        .status()
        .expect("node must be installed to check the fixtures");
    assert!(status.success(), "stale fixtures: run `node tools/compile-fixtures.mjs` and commit");
}

/// The plan crate's table of anvil dev addresses (used to check drill plans
/// offline) matches what anvil really uses.
#[test]
fn anvil_dev_address_table_matches_anvil() {
    let chain = Chain::spawn().unwrap();
    let table: Vec<alloy::primitives::Address> =
        firebreak_plan::ANVIL_DEV_ADDRESSES.iter().map(|a| a.parse().unwrap()).collect();
    assert_eq!(chain.dev_addresses(), table.as_slice());
}
