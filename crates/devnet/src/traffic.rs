//! Ordinary traffic on the vault fixture, for false-positive tests and the
//! simulation benchmark: deposits, withdrawals, transfers, oracle updates
//! within ±4 % and modest borrows, from three users.

use alloy::primitives::{Address, B256, U256};

use super::{IERC20, LendingVault, MockUSDC, World};

fn usdc(n: u64) -> U256 {
    U256::from(n) * U256::from(1_000_000u64)
}

/// Dev accounts 2, 5 and 6, each holding 1,000,000 USDC, the vault
/// approved, and 100,000 USDC deposited (mined: the chain mines on demand).
///
/// # Errors
/// On RPC failure.
pub async fn traffic_users(w: &World) -> eyre::Result<[Address; 3]> {
    let p = w.chain.provider();
    let users = [w.chain.dev_address(2), w.chain.dev_address(5), w.chain.dev_address(6)];
    let token = IERC20::new(w.vault.asset, p);
    let vault = LendingVault::new(w.vault.vault, p);
    for u in users {
        let minter = MockUSDC::new(w.vault.asset, p);
        let _ = minter
            .mint(u, usdc(1_000_000))
            .from(w.chain.dev_address(0))
            .gas(100_000)
            .send()
            .await?;
        let _ = token.approve(w.vault.vault, U256::MAX).from(u).gas(100_000).send().await?;
        w.mine().await?;
        let _ = vault.deposit(usdc(100_000)).from(u).gas(200_000).send().await?;
        w.mine().await?;
    }
    Ok(users)
}

/// Sends transactions `range` of the traffic to the pool (nothing is mined);
/// each is valid on its own against the state [`traffic_users`] left. Their
/// hashes, in order.
///
/// # Errors
/// On RPC failure.
pub async fn ordinary_traffic(
    w: &World,
    users: &[Address; 3],
    range: std::ops::Range<u64>,
) -> eyre::Result<Vec<B256>> {
    let p = w.chain.provider();
    let token = IERC20::new(w.vault.asset, p);
    let vault = LendingVault::new(w.vault.vault, p);
    let mut hashes = Vec::new();
    for n in range {
        let u = users[usize::try_from(n % 3)?];
        let amount = usdc(100 + (n * 37) % 5_000);
        let sent = match n % 5 {
            0 => vault.deposit(amount).from(u).gas(200_000).send().await?,
            1 => vault.withdraw(amount).from(u).gas(200_000).send().await?,
            2 => {
                let to = users[usize::try_from((n + 1) % 3)?];
                token.transfer(to, amount).from(u).gas(100_000).send().await?
            }
            // an oracle update within ±4 % of 2,000 USDC per ETH
            3 => {
                let price = if n % 2 == 0 { 2_080_000_000u64 } else { 1_920_000_000 };
                vault
                    .setPrice(U256::from(price))
                    .from(w.chain.dev_address(0))
                    .gas(100_000)
                    .send()
                    .await?
            }
            // a modest borrow against 1 ETH (1,000 USDC of a 1,600 limit)
            _ => {
                vault
                    .borrow(usdc(1_000))
                    .from(u)
                    .value(U256::from(10u64).pow(U256::from(18u64)))
                    .gas(200_000)
                    .send()
                    .await?
            }
        };
        hashes.push(*sent.tx_hash());
    }
    Ok(hashes)
}
