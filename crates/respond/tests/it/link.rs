//! Endpoint URLs that came from secrets never appear in errors.

use firebreak_respond::ChainLink;

#[tokio::test]
async fn secret_endpoint_urls_are_redacted_from_errors() {
    // nothing listens on port 9 of loopback: every call fails with the URL in reqwest's error
    let url = "http://127.0.0.1:9/v3/secret-api-key-123";
    let link =
        ChainLink::from_urls("main", 1, vec![("<env MAIN_RPC>".into(), url.into())]).await.unwrap();
    let err = link
        .read("eth_blockNumber", |p| async move {
            use alloy::providers::Provider as _;
            p.get_block_number().await
        })
        .await
        .unwrap_err()
        .to_string();
    assert!(!err.contains("secret-api-key-123"), "{err}");
    assert!(err.contains("<env MAIN_RPC>"), "{err}");
}
