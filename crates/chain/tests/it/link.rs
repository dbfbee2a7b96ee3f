//! A chain's endpoints as one client: a black-holed endpoint costs one
//! timeout, then it is tried after the healthy one until it has rested.

use std::time::Duration;

use alloy::providers::Provider as _;
use firebreak_chain::{ChainLink, RpcEndpoint};
use firebreak_test_utils::{Chain, proxy::Proxy};

#[tokio::test]
async fn anvil_a_black_holed_endpoint_is_demoted_after_one_timeout() {
    let chain = Chain::spawn().unwrap();
    let target = chain.http_url().trim_start_matches("http://").parse().unwrap();
    let proxy = Proxy::start(target).await;
    let endpoints = vec![
        // first in priority: the one that will go dark; it carries a
        // secret in its path, as a provider's API key would
        RpcEndpoint::secret(
            "<env MAIN_RPC>",
            format!("{}/?apikey=key-123", proxy.http_url()).into(),
        ),
        RpcEndpoint::public(chain.http_url()),
    ];
    let link =
        ChainLink::connect("local", 31337, endpoints, Duration::from_millis(300)).await.unwrap();
    let head = || link.read("eth_blockNumber", |p| async move { p.get_block_number().await });
    head().await.unwrap();

    proxy.black_hole(true);
    // the first read runs on the next endpoint too after a moment, which answers
    head().await.unwrap();
    let health = link.health();
    assert_eq!((health[0].failures, health[0].demoted), (1, true), "{health:?}");
    assert!(!health[1].demoted, "{health:?}");
    // from now on the healthy endpoint goes first: the dark one is not tried
    for _ in 0..3 {
        head().await.unwrap();
    }
    assert_eq!(link.health()[0].failures, 1, "the demoted endpoint was tried again");

    // with every endpoint dark the read fails as retryable, naming no secret
    let only_dark = ChainLink::connect(
        "local",
        31337,
        vec![RpcEndpoint::secret(
            "<env MAIN_RPC>",
            format!("{}/?apikey=key-123", proxy.http_url()).into(),
        )],
        Duration::from_millis(300),
    )
    .await
    .unwrap();
    let err = only_dark
        .read("eth_blockNumber", |p| async move { p.get_block_number().await })
        .await
        .unwrap_err();
    assert!(err.is_retryable(), "{err}");
    let text = format!("{err} {err:?} {only_dark:?}");
    assert!(!text.contains("key-123"), "{text}");
    assert!(text.contains("<env MAIN_RPC>"), "{text}");
}

#[tokio::test]
async fn anvil_reads_at_one_block_see_that_block() {
    let chain = Chain::spawn().unwrap();
    let link = ChainLink::from_urls("local", 31337, vec![(chain.http_url(), chain.http_url())])
        .await
        .unwrap();
    for _ in 0..3 {
        chain.provider().raw_request::<_, String>("evm_mine".into(), ()).await.unwrap();
    }
    let (at, block) = link
        .read_at("eth_getBlockByNumber", |p, at| async move {
            let block = p.get_block_by_number(at.number.into()).await?;
            Ok((at, block))
        })
        .await
        .unwrap();
    assert_eq!(at.number, 3);
    assert_eq!(block.map(|b| b.header.hash), Some(at.hash));
}

#[tokio::test]
async fn anvil_a_read_is_not_held_by_an_endpoint_that_never_answers() {
    let chain = Chain::spawn().unwrap();
    let target = chain.http_url().trim_start_matches("http://").parse().unwrap();
    let proxy = Proxy::start(target).await;
    proxy.black_hole(true);
    // an hour per call: only running the read on the next endpoint as well
    // lets this test finish
    let endpoints =
        vec![RpcEndpoint::public(proxy.http_url()), RpcEndpoint::public(chain.http_url())];
    let link =
        ChainLink::connect("local", 31337, endpoints, Duration::from_secs(3600)).await.unwrap();
    let head = link.read("eth_blockNumber", |p| async move { p.get_block_number().await });
    assert_eq!(head.await.unwrap(), 0);
    // the endpoint that did not answer is tried after the other from now on
    let health = link.health();
    assert!(health[0].demoted && !health[1].demoted, "{health:?}");
}
