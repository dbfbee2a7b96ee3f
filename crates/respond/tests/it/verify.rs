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
    let good = w.plan_text(r#"[{ signer = "guardian" }]"#, &["owner-a"]).replace(
        "threshold = 2\n",
        "threshold = 2\nstandby_owners = [\"0x9000000000000000000000000000000000000009\"]\n",
    );
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

mod safe_harbor {
    //! `verify` reads the plan's SEAL Safe Harbor agreement on chain through
    //! registries of each version (stand-ins with SEAL's ABI, deployed on
    //! anvil) and names every field where plan and chain differ.

    use alloy::{
        primitives::{Address, Bytes, U256},
        providers::Provider as _,
        rpc::types::TransactionRequest,
    };
    use alloy_sol_types::{SolCall as _, SolValue as _};
    use firebreak_recover::agreement::{v1, v3};
    use firebreak_respond::verify::Status;
    use firebreak_test_utils::{Pauser, World, deploy_fixture};

    const RECOVERY: &str = "0x4000000000000000000000000000000000000004";

    alloy_sol_types::sol! {
        function adoptSafeHarbor(address agreementAddress) external;
    }

    fn plan_text(w: &World, onchain: &str) -> String {
        let mut text = w.plan_text(r#"[{ signer = "guardian" }]"#, &[]);
        text.push_str(&format!(
            r#"
[safe_harbor]
agreement_uri = "ipfs://bafy-terms"
bounty_percent = 10
bounty_cap_usd = 1_000_000
aggregate_cap_usd = 3_000_000
retainable = false
identity = "pseudonymous"
diligence = "OFAC screening"
recovery = {{ local = "{RECOVERY}" }}
child_contract_scope = "existing_only"
contacts = [{{ name = "Security", contact = "security@test.example" }}]
{onchain}
"#
        ));
        text
    }

    /// SEAL v3 details equal to the plan's terms.
    fn details(plan: &firebreak_plan::Plan) -> v3::AgreementDetails {
        let sh = plan.safe_harbor.as_ref().unwrap();
        let c = &sh.chains[0];
        v3::AgreementDetails {
            protocolName: plan.protocol.name.clone(),
            contactDetails: vec![v3::Contact {
                name: "Security".into(),
                contact: "security@test.example".into(),
            }],
            chains: vec![v3::Chain {
                assetRecoveryAddress: c.recovery.to_string(),
                accounts: c
                    .accounts
                    .iter()
                    .map(|a| v3::Account { accountAddress: a.to_string(), childContractScope: 1 })
                    .collect(),
                caip2ChainId: c.caip2.clone(),
            }],
            bountyTerms: v3::BountyTerms {
                bountyPercentage: U256::from(10),
                bountyCapUSD: U256::from(1_000_000),
                retainable: false,
                identity: 1,
                diligenceRequirements: "OFAC screening".into(),
                aggregateBountyCapUSD: U256::from(3_000_000),
            },
            agreementURI: "ipfs://bafy-terms".into(),
        }
    }

    fn v1_details(d: &v3::AgreementDetails, chain_id: u64) -> v1::AgreementDetailsV1 {
        let t = &d.bountyTerms;
        v1::AgreementDetailsV1 {
            protocolName: d.protocolName.clone(),
            contactDetails: vec![v1::Contact {
                name: "Security".into(),
                contact: "security@test.example".into(),
            }],
            chains: vec![v1::Chain {
                assetRecoveryAddress: d.chains[0].assetRecoveryAddress.parse().unwrap(),
                accounts: d.chains[0]
                    .accounts
                    .iter()
                    .map(|a| v1::Account {
                        accountAddress: a.accountAddress.parse().unwrap(),
                        childContractScope: a.childContractScope,
                        signature: Bytes::new(),
                    })
                    .collect(),
                id: U256::from(chain_id),
            }],
            bountyTerms: v1::BountyTerms {
                bountyPercentage: t.bountyPercentage,
                bountyCapUSD: t.bountyCapUSD,
                retainable: t.retainable,
                identity: t.identity,
                diligenceRequirements: t.diligenceRequirements.clone(),
            },
            agreementURI: d.agreementURI.clone(),
        }
    }

    /// A legacy agreement (`AgreementV1`/`V2`) holding `encoded` details.
    async fn deploy_legacy(w: &World, name: &str, encoded: Vec<u8>) -> Address {
        let args = (Bytes::from(encoded),).abi_encode_params();
        deploy_fixture(&w.chain, name, &args).await.unwrap()
    }

    async fn deploy_agreement(w: &World, d: &v3::AgreementDetails) -> Address {
        let ids: Vec<String> = d.chains.iter().map(|c| c.caip2ChainId.clone()).collect();
        let args = (d.abi_encode().into_iter().collect::<Bytes>(), d.bountyTerms.clone(), ids)
            .abi_encode_params();
        deploy_fixture(&w.chain, "AgreementV3", &args).await.unwrap()
    }

    async fn send(w: &World, to: Address, data: Vec<u8>) {
        let tx = TransactionRequest::default().to(to).input(Bytes::from(data).into());
        let r = w.chain.provider().send_transaction(tx).await.unwrap().get_receipt().await.unwrap();
        assert!(r.status());
    }

    /// The failing `safe-harbor` items, as (field, detail).
    async fn differences(text: &str) -> Vec<(String, String)> {
        let r = super::run(text, None).await;
        let fails: Vec<(String, String)> = r
            .checks
            .iter()
            .filter(|c| c.kind == "safe-harbor" && c.status == Status::Fail)
            .map(|c| (c.subject.rsplit(": ").next().unwrap().to_owned(), c.detail.clone()))
            .collect();
        if fails.is_empty() {
            assert!(
                r.checks.iter().any(|c| c.kind == "safe-harbor" && c.status == Status::Pass),
                "{}",
                r.text()
            );
        }
        fails
    }

    #[tokio::test]
    async fn anvil_verify_reports_where_plan_and_onchain_agreement_differ() {
        let w = World::new(Pauser::Guardian).await.unwrap();
        let adopter = w.chain.dev_address(0);
        let plan = super::plan(&plan_text(&w, ""));
        let same = details(&plan);

        // v3: registry → agreement contract
        let registry = deploy_fixture(&w.chain, "SafeHarborRegistryV3", &[]).await.unwrap();
        let onchain = format!("registry = \"{registry}\"\nadopter = \"{adopter}\"");
        let text = plan_text(&w, &onchain);
        let none = differences(&text).await;
        assert_eq!(none.len(), 1, "{none:?}");
        assert!(none[0].1.contains("has no agreement adopted by"), "{none:?}");

        let agreement = deploy_agreement(&w, &same).await;
        send(&w, registry, adoptSafeHarborCall { agreementAddress: agreement }.abi_encode()).await;
        assert_eq!(differences(&text).await, vec![], "the same terms pass");

        let mut changed = same.clone();
        changed.bountyTerms.bountyCapUSD = U256::from(500_000);
        changed.bountyTerms.retainable = true;
        changed.chains[0].assetRecoveryAddress =
            "0x5000000000000000000000000000000000000005".into();
        changed.chains[0].accounts[0].childContractScope = 2;
        changed.contactDetails[0].contact = "sec@elsewhere.example".into();
        let other = deploy_agreement(&w, &changed).await;
        send(&w, registry, adoptSafeHarborCall { agreementAddress: other }.abi_encode()).await;
        let found = differences(&text).await;
        let fields: Vec<&str> = found.iter().map(|(f, _)| f.as_str()).collect();
        let account = plan.safe_harbor.as_ref().unwrap().chains[0].accounts[0];
        assert_eq!(
            fields,
            [
                "bountyTerms.bountyCapUSD".to_owned(),
                "bountyTerms.retainable".into(),
                "contactDetails".into(),
                "chains[eip155:31337].assetRecoveryAddress".into(),
                format!("chains[eip155:31337].accounts[{account}].childContractScope"),
            ],
            "{found:#?}"
        );
        assert!(
            found[0].1.contains("the plan says `1000000`, the v3 agreement on chain says `500000`"),
            "{found:?}"
        );

        // an agreement contract named directly
        let text = plan_text(&w, &format!("agreement = \"{agreement}\""));
        assert_eq!(differences(&text).await, vec![]);

        // v2 (registry 1.1.0): the same tuple as v3, from an AgreementV2
        let adopt = |r: Address, a: Address| {
            send(&w, r, adoptSafeHarborCall { agreementAddress: a }.abi_encode())
        };
        let v2r = deploy_fixture(&w.chain, "SafeHarborRegistryV2", &[]).await.unwrap();
        let v2a = deploy_legacy(&w, "AgreementV2", same.abi_encode()).await;
        adopt(v2r, v2a).await;
        let text = plan_text(&w, &format!("registry = \"{v2r}\"\nadopter = \"{adopter}\""));
        assert_eq!(differences(&text).await, vec![]);
        let mut d2 = same.clone();
        d2.bountyTerms.aggregateBountyCapUSD = U256::ZERO;
        adopt(v2r, deploy_legacy(&w, "AgreementV2", d2.abi_encode()).await).await;
        let found = differences(&text).await;
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(found[0].0, "bountyTerms.aggregateBountyCapUSD");
        assert!(found[0].1.contains("v2 agreement on chain says `0`"), "{found:?}");

        // v1 (1.0.0): numeric chain ids, addresses as `address`, no aggregate cap
        let chain_id = w.chain.chain_id();
        let v1r = deploy_fixture(&w.chain, "SafeHarborRegistryV1", &[]).await.unwrap();
        let mut d1 = v1_details(&same, chain_id);
        d1.bountyTerms.bountyPercentage = U256::from(15);
        adopt(v1r, deploy_legacy(&w, "AgreementV1", d1.abi_encode()).await).await;
        let text = plan_text(&w, &format!("registry = \"{v1r}\"\nadopter = \"{adopter}\""));
        let found = differences(&text).await;
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(found[0].0, "bountyTerms.bountyPercentage");
        assert!(
            found[0].1.contains("the plan says `10.00`, the v1 agreement on chain says `15.00`"),
            "{found:?}"
        );
    }
}

mod key_compromise {
    //! Readiness for a stolen key: each Safe keeps its threshold with one
    //! owner lost, standby owners are ready, and admin roles are held by a
    //! Safe rather than a single key.

    use firebreak_respond::verify::{Readiness, Status};
    use firebreak_test_utils::{ISafe, LendingVault, Pauser, World, exec_safe_tx};

    fn item<'r>(r: &'r Readiness, kind: &str) -> Vec<(&'r str, Status, &'r str)> {
        r.checks
            .iter()
            .filter(|c| c.kind == kind)
            .map(|c| (c.subject.as_str(), c.status, c.detail.as_str()))
            .collect()
    }

    #[tokio::test]
    async fn anvil_verify_reports_owner_loss_standby_owners_and_single_key_admins() {
        let w = World::new(Pauser::Guardian).await.unwrap();
        let mut text = w.plan_text(r#"[{ signer = "guardian" }]"#, &[]);
        text.push_str(
            "\n[playbooks.stolen-key]\nsteps = [{ id = \"revoke\", kind = \"revoke_roles\", contracts = [\"vault\"], via = [{ safe = \"emergency\" }] }]\n",
        );
        let r = super::run(&text, None).await;
        // the Safe is no admin of the vault yet: its revocations would fail
        let revoke = item(&r, "revoke-path");
        assert_eq!(revoke.len(), 1, "{}", r.text());
        assert_eq!(revoke[0].1, Status::Fail, "{}", revoke[0].2);
        assert!(revoke[0].2.contains("cannot revoke roles on `vault`"), "{}", revoke[0].2);
        assert!(revoke[0].2.contains("AccessControlUnauthorizedAccount"), "{}", revoke[0].2);
        // 2 of 3: one owner lost leaves 2
        let res = item(&r, "safe-resilience");
        assert_eq!(res.len(), 1, "{}", r.text());
        assert_eq!(res[0].1, Status::Pass, "{}", res[0].2);
        let standby = item(&r, "standby-owners");
        assert_eq!(standby[0].1, Status::Warn, "{}", r.text());
        // the fixture vault's admin is the deployer's key
        let admin = item(&r, "admin-role");
        assert_eq!(admin.len(), 1, "{}", r.text());
        assert_eq!(admin[0].1, Status::Warn);
        assert!(
            admin[0].2.contains(&format!(
                "{} holds DEFAULT_ADMIN_ROLE: a single key",
                w.chain.dev_address(0)
            )),
            "{}",
            admin[0].2
        );

        // standby owners configured; the admin role moved to the Safe
        let with_standby = text.replace(
            "threshold = 2\n",
            "threshold = 2\nstandby_owners = [\"0x9000000000000000000000000000000000000009\"]\n",
        );
        assert_ne!(with_standby, text);
        let v = LendingVault::new(w.vault.vault, w.chain.provider());
        let admin_role = alloy::primitives::B256::ZERO;
        v.grantRole(admin_role, w.safe).send().await.unwrap().get_receipt().await.unwrap();
        let renounce = alloy_sol_types::SolCall::abi_encode(&renounceRoleCall {
            role: admin_role,
            callerConfirmation: w.chain.dev_address(0),
        });
        let tx = alloy::rpc::types::TransactionRequest::default()
            .to(w.vault.vault)
            .input(alloy::primitives::Bytes::from(renounce).into());
        use alloy::providers::Provider as _;
        w.chain.provider().send_transaction(tx).await.unwrap().get_receipt().await.unwrap();
        let r = super::run(&with_standby, None).await;
        assert_eq!(item(&r, "standby-owners")[0].1, Status::Pass, "{}", r.text());
        assert_eq!(item(&r, "revoke-path")[0].1, Status::Pass, "{}", r.text());
        let admin = item(&r, "admin-role");
        assert_eq!(admin.len(), 1, "the renounced key is gone: {}", r.text());
        assert_eq!(admin[0].1, Status::Pass);
        assert!(
            admin[0].2.contains("(Safe `emergency`) holds DEFAULT_ADMIN_ROLE"),
            "{}",
            admin[0].2
        );

        // threshold 3 of 3: one lost owner locks the Safe
        let safe = ISafe::new(w.safe, w.chain.provider());
        let call = safe.changeThreshold(alloy::primitives::U256::from(3)).calldata().clone();
        exec_safe_tx(&w.chain, w.safe, w.safe, call, &[3, 4], 6).await.unwrap();
        let r = super::run(&with_standby.replace("threshold = 2\n", "threshold = 3\n"), None).await;
        let res = item(&r, "safe-resilience");
        assert_eq!(res[0].1, Status::Warn, "{}", r.text());
        assert!(res[0].2.contains("2 owner(s) cannot reach the threshold 3"), "{}", res[0].2);
    }

    alloy_sol_types::sol! {
        function renounceRole(bytes32 role, address callerConfirmation) external;
    }
}

mod pre_emption {
    //! Whether pre-emption can work on each chain with `pre_empt` monitors.

    use firebreak_respond::verify::Status;
    use firebreak_test_utils::{Pauser, World};

    #[tokio::test]
    async fn anvil_verify_says_pre_emption_is_unavailable_on_a_chain_without_a_public_mempool() {
        let w = World::new(Pauser::Guardian).await.unwrap();
        let text = w.plan_text(r#"[{ signer = "guardian" }]"#, &[]).replace(
            "rule = 'event vault.PriceUpdated'",
            "rule = 'event vault.PriceUpdated'\npre_empt = true",
        );
        let pick = |r: &firebreak_respond::verify::Readiness| {
            r.checks
                .iter()
                .filter(|c| c.kind == "pre-emption")
                .map(|c| (c.subject.clone(), c.status, c.detail.clone(), c.fix.clone()))
                .collect::<Vec<_>>()
        };
        // the default: no public mempool
        let r = super::run(&text, None).await;
        let none = pick(&r);
        assert_eq!(none.len(), 1, "{}", r.text());
        assert_eq!(none[0].0, "pre-emption on chain `local` (price)");
        assert_eq!(none[0].1, Status::Warn);
        assert!(none[0].2.starts_with("pre-emption is unavailable on this chain"), "{}", none[0].2);
        assert!(none[0].2.contains("mempool = \"none\""), "{}", none[0].2);
        assert!(r.text().contains("pre-emption is unavailable on this chain"), "{}", r.text());
        // anvil serves its pool: pre-emption works there
        let public =
            text.replacen("confirmations = 1\n", "confirmations = 1\nmempool = \"public\"\n", 1);
        let r = super::run(&public, None).await;
        let ok = pick(&r);
        assert_eq!(ok.len(), 1, "{}", r.text());
        assert_eq!(ok[0].1, Status::Pass, "{}", ok[0].2);
        assert!(ok[0].2.contains("serve pending transactions"), "{}", ok[0].2);
        // a builder whose URL secret does not resolve is named (by where it
        // comes from), the others are listed
        let builders = public.replacen(
            "mempool = \"public\"\n",
            "mempool = \"public\"\nbuilders = [\"http://127.0.0.1:9/\", { env = \"FIREBREAK_TEST_UNSET_BUILDER\" }]\n",
            1,
        );
        let r = super::run(&builders, None).await;
        let both = pick(&r);
        assert_eq!(both.len(), 2, "{}", r.text());
        let (left_out, pass): (Vec<_>, Vec<_>) = both.iter().partition(|c| c.1 == Status::Warn);
        assert!(left_out[0].2.contains("builder(s) left out"), "{}", left_out[0].2);
        assert!(left_out[0].2.contains("<env FIREBREAK_TEST_UNSET_BUILDER>"), "{}", left_out[0].2);
        assert!(left_out[0].3.is_some(), "says how to fix it");
        assert!(pass[0].2.contains("bundles to http://127.0.0.1:9/"), "{}", pass[0].2);
        // no pre_empt monitor: nothing to say
        let plain = w.plan_text(r#"[{ signer = "guardian" }]"#, &[]);
        assert!(pick(&super::run(&plain, None).await).is_empty());
    }
}
