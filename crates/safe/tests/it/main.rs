//! The SafeTx hash and signature packing against the real Safe 1.5.0 on anvil.

#![allow(clippy::unwrap_used)] // test helpers fail loudly by design

use alloy::{
    primitives::{Address, Bytes, U256},
    signers::SignerSync as _,
    sol_types::SolCall,
};
use firebreak_safe::{OwnerSignature, SafeTx, SignatureError, pack_signatures, recover_owner};
use firebreak_test_utils::{Chain, ISafe, LendingVault, deploy_safe, deploy_vault};
use proptest::prelude::*;

#[tokio::test]
async fn anvil_hash_matches_the_safe_and_packed_signatures_execute_the_pause() {
    let chain = Chain::spawn().unwrap();
    let owners = [chain.dev_address(1), chain.dev_address(2), chain.dev_address(3)];
    let (_, safe) = deploy_safe(&chain, &owners, 2).await.unwrap();
    let v = deploy_vault(&chain, chain.dev_address(0), safe).await.unwrap();
    let s = ISafe::new(safe, chain.provider());
    let pause: Bytes = LendingVault::pauseCall {}.abi_encode().into();

    // the offline hash equals the Safe's own, for several nonces and payloads
    for (data, nonce) in
        [(pause.clone(), 0u64), (Bytes::from(vec![1, 2, 3]), 7), (Bytes::new(), 1_000_000)]
    {
        let tx = SafeTx::call(v.vault, data.clone(), U256::from(nonce));
        let onchain = s
            .getTransactionHash(
                v.vault,
                U256::ZERO,
                data,
                0,
                U256::ZERO,
                U256::ZERO,
                U256::ZERO,
                Address::ZERO,
                Address::ZERO,
                U256::from(nonce),
            )
            .call()
            .await
            .unwrap();
        assert_eq!(tx.hash(chain.chain_id(), safe), onchain);
    }

    let tx = SafeTx::call(v.vault, pause.clone(), s.nonce().call().await.unwrap());
    let hash = tx.hash(chain.chain_id(), safe);
    let sign = |i: usize| chain.dev_signer(i).sign_hash_sync(&hash).unwrap().as_bytes();
    // signed in descending owner order on purpose: packing sorts them
    let mut sigs = vec![
        recover_owner(hash, &sign(3), &owners).unwrap(),
        recover_owner(hash, &sign(1), &owners).unwrap(),
    ];
    sigs.reverse();
    // a stranger's signature is refused before it reaches the chain
    assert_eq!(
        recover_owner(hash, &sign(5), &owners),
        Err(SignatureError::NotOwner { signer: chain.dev_address(5) })
    );

    let exec = |signatures: Bytes| {
        s.execTransaction(
            v.vault,
            U256::ZERO,
            pause.clone(),
            0,
            U256::ZERO,
            U256::ZERO,
            U256::ZERO,
            Address::ZERO,
            Address::ZERO,
            signatures,
        )
        .from(chain.dev_address(9))
    };
    // one signature is below the threshold: the Safe reverts with GS020
    let one = pack_signatures(vec![sigs[0].clone()]).unwrap();
    let err = exec(one).call().await.unwrap_err();
    assert!(err.to_string().contains("GS020"), "{err}");

    let packed = pack_signatures(sigs).unwrap();
    let receipt = exec(packed).send().await.unwrap().get_receipt().await.unwrap();
    assert!(receipt.status());
    assert!(LendingVault::new(v.vault, chain.provider()).paused().call().await.unwrap());
    assert_eq!(s.nonce().call().await.unwrap(), U256::from(1));
}

proptest! {
    #[test]
    fn packing_sorts_by_owner_whatever_the_input_order(
        owners in proptest::collection::btree_set(any::<[u8; 20]>(), 1..8),
        seed in any::<u64>(),
    ) {
        let sigs: Vec<OwnerSignature> = owners
            .iter()
            .map(|o| OwnerSignature { owner: Address::from(*o), bytes: [o[0]; 65] })
            .collect();
        let mut shuffled = sigs.clone();
        // a deterministic shuffle driven by the seed
        let n = shuffled.len();
        for i in 0..n {
            let j = (seed as usize).wrapping_mul(31).wrapping_add(i * 17) % n;
            shuffled.swap(i, j);
        }
        let a = pack_signatures(sigs).unwrap();
        let b = pack_signatures(shuffled).unwrap();
        prop_assert_eq!(&a, &b);
        prop_assert_eq!(a.len(), 65 * n);
        let chunks: Vec<u8> = a.chunks(65).map(|c| c[0]).collect();
        let expected: Vec<u8> = owners.iter().map(|o| o[0]).collect(); // BTreeSet order = ascending
        prop_assert_eq!(chunks, expected);
    }

    #[test]
    fn duplicate_owners_are_refused(owner in any::<[u8; 20]>()) {
        let s = OwnerSignature { owner: Address::from(owner), bytes: [0; 65] };
        prop_assert_eq!(pack_signatures(vec![s.clone(), s]), Err(SignatureError::Duplicate(Address::from(owner))));
    }
}
