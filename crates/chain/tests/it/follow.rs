//! Following a chain on anvil: blocks in order, a reorg as one notification
//! with the old and the new branch, a block the consumer could not use
//! delivered again.

use alloy::providers::Provider as _;
use firebreak_chain::{FollowOptions, Follower, Notification, RpcEndpoint};
use firebreak_test_utils::Chain;

/// Every notification of one round.
async fn round(f: &mut Follower) -> Vec<Notification> {
    let mut out = Vec::new();
    while let Some(n) = f.next().await {
        out.push(n);
    }
    out
}

fn committed(ns: &[Notification]) -> Vec<u64> {
    ns.iter()
        .map(|n| match n {
            Notification::Committed(b) => b.number,
            other => panic!("not a committed block: {other:?}"),
        })
        .collect()
}

#[tokio::test]
async fn anvil_a_reorg_is_one_notification_with_the_old_and_the_new_branch() {
    let chain = Chain::spawn().unwrap();
    chain.mine(3).await.unwrap();
    let endpoints = vec![RpcEndpoint::public(chain.http_url())];
    let mut f = Follower::new(31337, endpoints, FollowOptions::default());
    f.start_at(1);
    let first = round(&mut f).await;
    assert_eq!(committed(&first), [1, 2, 3]);
    let old_hashes: Vec<_> = first
        .iter()
        .skip(1)
        .map(|n| match n {
            Notification::Committed(b) => (b.number, b.hash),
            _ => unreachable!(),
        })
        .collect();

    // blocks 2 and 3 are replaced, and the new branch grows to 4
    let _: serde_json::Value = chain
        .provider()
        .raw_request("anvil_reorg".into(), (2u64, Vec::<serde_json::Value>::new()))
        .await
        .unwrap();
    chain.mine(1).await.unwrap();
    let second = round(&mut f).await;
    let [Notification::Reorged { ancestor, old, new, deep }] = second.as_slice() else {
        panic!("not one reorg: {second:?}");
    };
    assert_eq!((*ancestor, *deep), (1, false));
    assert_eq!(old, &old_hashes);
    assert_eq!(new.iter().map(|b| b.number).collect::<Vec<_>>(), [2, 3, 4]);
    assert_ne!(new[0].hash, old[0].1);

    // the consumer could not use block 4: it comes again, after the failure is told
    f.retry_from(4, "a probe read failed");
    let failed = round(&mut f).await;
    assert!(
        matches!(failed.as_slice(), [Notification::EndpointFailed { error, .. }] if error == "a probe read failed"),
        "{failed:?}"
    );
    assert_eq!(committed(&round(&mut f).await), [4]);
    assert!(round(&mut f).await.is_empty(), "caught up");
}
