//! `verify` passes a correct plan and names the failing item of each of
//! eight deliberate misconfigurations.

use std::sync::Arc;

use alloy::{primitives::U256, providers::Provider as _};
use firebreak_respond::verify::{Readiness, Status, VerifyOptions, verify};
use firebreak_store::{IncidentStore, SqliteStore};
use firebreak_test_utils::{LendingVault, Pauser, World, exec_safe_tx, repo_root};

fn plan(text: &str) -> firebreak_plan::Plan {
    let checked = firebreak_detect::check_source("v.toml", text, &repo_root(), &Default::default());
    assert_eq!(checked.report.errors(), 0, "{}", checked.report.render());
    checked.plan.unwrap()
}

async fn run(text: &str, store: Option<&dyn IncidentStore>) -> Readiness {
    verify(&plan(text), store, &VerifyOptions::default()).await
}

/// The single failing item, by kind and subject, with its detail.
fn failure(r: &Readiness) -> (&'static str, String, String) {
    let fails: Vec<_> = r.checks.iter().filter(|c| c.status == Status::Fail).collect();
    assert!(!fails.is_empty(), "expected a failure:\n{}", r.text());
    let f = fails[0];
    assert!(f.fix.is_some(), "every failure says how to fix it: {f:?}");
    (f.kind, f.subject.clone(), f.detail.clone())
}

#[tokio::test]
async fn anvil_verify_passes_a_correct_plan_and_names_each_misconfiguration() {
    let w = World::new(Pauser::Guardian).await.unwrap();
    let good = w.plan_text(r#"[{ signer = "guardian" }]"#, &["owner-a"]);
    let r = run(&good, None).await;
    assert_eq!(r.blocking, 0, "{}", r.text());
    for kind in
        ["chain-id", "code", "pause-path", "safe-owners", "safe-threshold", "hot-signer", "balance"]
    {
        assert!(
            r.checks.iter().any(|c| c.kind == kind && c.status == Status::Pass),
            "no passing {kind}:\n{}",
            r.text()
        );
    }
    assert!(r.score >= 90, "{}", r.text());

    // 1. wrong chain id
    let text = good.replace(&format!("id = {}", w.chain.chain_id()), "id = 1");
    assert_ne!(text, good);
    let (kind, _, detail) = failure(&run(&text, None).await);
    assert_eq!(kind, "chain-id");
    assert!(detail.contains("answer chain id 31337, the plan says 1"), "{detail}");

    // 2. no code at an address
    let text =
        good.replace(&w.vault.asset.to_string(), "0x000000000000000000000000000000000000dEaD");
    assert_ne!(text, good);
    let (kind, subject, detail) = failure(&run(&text, None).await);
    assert_eq!((kind, subject.as_str()), ("code", "contract `usdc`"));
    assert!(detail.contains("no code at 0x000000000000000000000000000000000000dEaD"), "{detail}");

    // 3. the Safe's threshold differs from the plan
    let text = good.replace("threshold = 2", "threshold = 3");
    let (kind, _, detail) = failure(&run(&text, None).await);
    assert_eq!(kind, "safe-threshold");
    assert_eq!(detail, "threshold on chain is 2, the plan says 3");

    // 4. a hot signer that is not an owner on chain (the plan believes it is)
    let stranger = w.chain.dev_address(8);
    let text = good
        .replace(&w.chain.dev_address(3).to_string(), &stranger.to_string())
        .replace("[signers.owner-a]\nanvil_account = 3", "[signers.owner-a]\nanvil_account = 8");
    let r = run(&text, None).await;
    let hot = r.checks.iter().find(|c| c.kind == "hot-signer").unwrap();
    assert_eq!(hot.status, Status::Fail, "{}", r.text());
    assert!(hot.detail.contains(&format!("{stranger} is not an owner")), "{}", hot.detail);

    // 5. the guardian lacks the role (the Safe is the pauser in this plan's view)
    let text =
        good.replace(r#"via = [{ signer = "guardian" }]"#, r#"via = [{ safe = "emergency" }]"#);
    let (kind, subject, detail) = failure(&run(&text, None).await);
    assert_eq!((kind, subject.as_str()), ("pause-path", "pause `vault` via safe:emergency"));
    assert!(detail.contains("AccessControlUnauthorizedAccount"), "{detail}");

    // 6. the guardian has no ETH
    let guardian = w.chain.dev_address(1);
    let p = w.chain.provider();
    let rich = p.get_balance(guardian).await.unwrap();
    let _: serde_json::Value =
        p.raw_request("anvil_setBalance".into(), (guardian, U256::ZERO)).await.unwrap();
    let (kind, subject, detail) = failure(&run(&good, None).await);
    assert_eq!((kind, subject.as_str()), ("balance", "gas money of signer `guardian`"));
    assert!(detail.contains("holds 0.000 ETH"), "{detail}");
    let _: serde_json::Value =
        p.raw_request("anvil_setBalance".into(), (guardian, rich)).await.unwrap();

    // 7. a stale pre-signed pause: signed at nonce 0, then the Safe moved on
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(SqliteStore::open(&dir.path().join("t.db")).await.unwrap());
    let via_safe = good.replace(
        r#"via = [{ signer = "guardian" }]"#,
        r#"via = [{ signer = "guardian" }, { safe = "emergency" }]"#,
    );
    let link = firebreak_respond::ChainLink::from_urls(
        "local",
        w.chain.chain_id(),
        vec![("anvil".into(), w.chain.http_url())],
    )
    .await
    .unwrap();
    let (a, b) =
        (firebreak_plan::anvil_dev_key(3).unwrap(), firebreak_plan::anvil_dev_key(4).unwrap());
    firebreak_respond::presign(
        &plan(&via_safe),
        &link,
        &*store,
        "emergency",
        &[("a".into(), &a), ("b".into(), &b)],
    )
    .await
    .unwrap();
    let r = run(&via_safe, Some(&*store)).await;
    let pre = r.checks.iter().find(|c| c.kind == "presigned").unwrap();
    assert_eq!(pre.status, Status::Pass, "{}", r.text());
    let change =
        alloy::sol_types::SolCall::abi_encode(&firebreak_test_utils::ISafe::changeThresholdCall {
            _threshold: U256::from(2),
        });
    exec_safe_tx(&w.chain, w.safe, w.safe, change.into(), &[3, 4], 6).await.unwrap();
    let r = run(&via_safe, Some(&*store)).await;
    let pre = r.checks.iter().find(|c| c.kind == "presigned").unwrap();
    assert_eq!(pre.status, Status::Fail, "{}", r.text());
    assert_eq!(pre.detail, "signed at nonce 0, the Safe is at nonce 1: the signatures are stale");

    // 8. the contract is already paused
    let v = LendingVault::new(w.vault.vault, p);
    v.pause().from(guardian).send().await.unwrap().get_receipt().await.unwrap();
    let (kind, subject, detail) = failure(&run(&good, None).await);
    assert_eq!((kind, subject.as_str()), ("paused", "contract `vault`"));
    assert!(detail.starts_with("already paused"), "{detail}");

    // --notify: a test message through each channel
    let hook = firebreak_test_utils::sink::start().await;
    std::fs::write(dir.path().join("whsec"), "whsec").unwrap();
    let with_channels = format!(
        "{good}\n[channels.hook]\nkind = \"webhook\"\nurl = \"{}/in\"\nsigning_secret = {{ file = \"{}\" }}\n[channels.broken]\nkind = \"command\"\nprogram = \"/nonexistent/notifier\"\n",
        hook.url,
        dir.path().join("whsec").display()
    );
    let opts = VerifyOptions { notify: true, ..VerifyOptions::default() };
    let r = verify(&plan(&with_channels), None, &opts).await;
    let channel = |name: &str| {
        r.checks
            .iter()
            .find(|c| c.kind == "channel" && c.subject == format!("channel `{name}`"))
            .unwrap()
            .status
    };
    assert_eq!(channel("hook"), Status::Pass, "{}", r.text());
    assert_eq!(channel("broken"), Status::Fail, "{}", r.text());
    assert_eq!(hook.seen()[0].json()["event"], "test");

    // the three renderings
    let r = run(&good, None).await;
    assert!(r.text().contains("FAIL  contract `vault`"), "{}", r.text());
    assert!(r.markdown().contains("| ❌ fail | contract `vault` |"), "{}", r.markdown());
    let json = serde_json::to_value(&r).unwrap();
    assert_eq!(json["blocking"], 1);
}
