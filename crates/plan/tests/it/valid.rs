//! Plans that must pass: the example, the test base, the starter.

use firebreak_plan::{Authority, CheckOptions, StepAction, check_file, check_source};

use crate::{plans_dir, repo_root};

#[test]
fn example_plan_is_valid_without_warnings() {
    let checked =
        check_file(&repo_root().join("examples/plans/acme-lending.toml"), &CheckOptions::default())
            .unwrap();
    assert_eq!(checked.report.diagnostics, vec![], "{}", checked.report.render());
    let plan = checked.plan.unwrap();
    // every section is present
    assert_eq!(plan.chains.len(), 2);
    assert!(plan.oncall.is_some() && plan.safe_harbor.is_some() && plan.status_page.is_some());
    let pool = &plan.contracts["pool"];
    let pause = pool.pause.as_ref().unwrap();
    assert_eq!(pause.function.signature(), "pause()");
    assert_eq!(pause.calldata.as_ref(), &[0x84, 0x56, 0xcb, 0x59], "selector of pause()");
    assert_eq!(
        pause.via,
        vec![Authority::Signer("guardian".into()), Authority::Safe("emergency".into())]
    );
    // the call step resolved its arguments against the Foundry artifact ABI
    let freeze = &plan.playbooks["oracle-freeze"].steps[2];
    let StepAction::Call { call, .. } = &freeze.action else { panic!("call step") };
    assert_eq!(call.function.signature(), "setCircuitBreaker(bool,uint16)");
    assert_eq!(call.calldata.len(), 4 + 32 * 2);
    let sh = plan.safe_harbor.clone().unwrap();
    assert_eq!(sh.bounty_bps, 1000);
    // the agreement's chains as SEAL lists them: CAIP-2 ids from [chains],
    // the plan's contracts on each chain as its accounts
    let chains: Vec<(&str, &str, usize)> =
        sh.chains.iter().map(|c| (c.chain.as_str(), c.caip2.as_str(), c.accounts.len())).collect();
    let on = |chain: &str| plan.contracts.values().filter(|c| c.chain == chain).count();
    assert_eq!(
        chains,
        vec![("arbitrum", "eip155:42161", on("arbitrum")), ("mainnet", "eip155:1", on("mainnet"))]
    );
    assert!(sh.chains.iter().all(|c| c.recovery == sh.recovery[&c.chain]));
    // kinds of channel: all seven are used
    let kinds: std::collections::BTreeSet<_> =
        plan.channels.values().map(|c| c.kind().as_str()).collect();
    assert_eq!(kinds.len(), 7, "{kinds:?}");
}

#[test]
fn base_plan_is_valid_without_warnings() {
    let checked = check_file(&plans_dir().join("base.toml"), &CheckOptions::default()).unwrap();
    assert_eq!(checked.report.diagnostics, vec![], "{}", checked.report.render());
}

/// What each step waits for: by default, pages and notifications nothing,
/// every other step the gate or chain action written before it; `after`
/// replaces that, and a pause step's `via` chooses among its contracts'
/// own paths.
#[test]
fn steps_wait_for_what_the_plan_says() {
    let base = std::fs::read_to_string(plans_dir().join("base.toml")).unwrap();
    let check = |text: &str| {
        let checked = check_source("plan.toml", text, &plans_dir(), &CheckOptions::default());
        assert_eq!(checked.report.errors(), 0, "{}", checked.report.render());
        checked.plan.unwrap()
    };
    let after = |plan: &firebreak_plan::Plan| -> Vec<(String, Vec<String>)> {
        plan.playbooks["contain"].steps.iter().map(|s| (s.id.clone(), s.after.clone())).collect()
    };
    let plan = check(&base);
    let s = |v: &[&str]| v.iter().map(ToString::to_string).collect::<Vec<_>>();
    assert_eq!(
        after(&plan),
        vec![
            ("pause-1".into(), s(&[])),
            ("page-2".into(), s(&[])),
            ("notify-3".into(), s(&[])),
            ("wait_approval-4".into(), s(&["pause-1"])),
        ]
    );
    let StepAction::Pause { via, .. } = &plan.playbooks["contain"].steps[0].action else {
        panic!("a pause step")
    };
    assert_eq!(*via, None, "each contract's own paths");

    let text = base
        .replace(
            r#"{ kind = "pause", contracts = ["pool"] }"#,
            r#"{ kind = "pause", contracts = ["pool"], via = [{ safe = "emergency" }] }"#,
        )
        .replace(r#"{ kind = "page" }"#, r#"{ kind = "page", after = ["pause-1"] }"#)
        .replace(
            r#"roles = ["commander", "operator"] }"#,
            r#"roles = ["commander", "operator"], after = [] }"#,
        );
    let plan = check(&text);
    assert_eq!(
        after(&plan),
        vec![
            ("pause-1".into(), s(&[])),
            ("page-2".into(), s(&["pause-1"])),
            ("notify-3".into(), s(&[])),
            ("wait_approval-4".into(), s(&[])),
        ]
    );
    let StepAction::Pause { via, .. } = &plan.playbooks["contain"].steps[0].action else {
        panic!("a pause step")
    };
    assert_eq!(*via, Some(vec![Authority::Safe("emergency".into())]));
}

#[test]
fn starter_plan_is_valid_without_warnings() {
    let checked = check_source(
        "starter.toml",
        firebreak_plan::STARTER_PLAN,
        ".".as_ref(),
        &CheckOptions::default(),
    );
    assert_eq!(checked.report.diagnostics, vec![], "{}", checked.report.render());
}

#[test]
fn warnings_do_not_fail_unless_strict() {
    let text = std::fs::read_to_string(plans_dir().join("base.toml"))
        .unwrap()
        .replace("threshold = 2", "threshold = 1")
        .replace(
            r#"rpc = ["wss://eth.example/ws", "https://eth.example/rpc"]"#,
            r#"rpc = ["wss://eth.example/ws"]"#,
        );
    let checked = check_source("w.toml", &text, &plans_dir(), &CheckOptions::default());
    let codes: Vec<_> = checked.report.diagnostics.iter().map(|d| d.code).collect();
    assert_eq!(codes, vec!["single-rpc", "safe-threshold-one"]);
    assert!(checked.plan.is_some());
    assert!(!checked.report.fails(false));
    assert!(checked.report.fails(true));
}

#[test]
fn secrets_are_resolved_only_when_asked() {
    let path = plans_dir().join("base.toml");
    let strict = CheckOptions { resolve_secrets: true };
    let checked = check_file(&path, &strict).unwrap();
    let unresolved: Vec<_> = checked
        .report
        .diagnostics
        .iter()
        .filter(|d| d.code == "secret-unresolved")
        .map(|d| d.message.clone())
        .collect();
    assert!(unresolved.iter().any(|m| m.contains("TEST_GUARDIAN_KEY")), "{unresolved:?}");
    assert!(unresolved.iter().any(|m| m.contains("TEST_SLACK_WEBHOOK_URL")), "{unresolved:?}");
}

#[test]
fn schema_file_is_current() {
    let committed = std::fs::read_to_string(repo_root().join("docs/plan.schema.json")).unwrap();
    let fresh = serde_json::to_string_pretty(&firebreak_plan::json_schema()).unwrap() + "\n";
    assert!(
        committed == fresh,
        "docs/plan.schema.json is stale: run `cargo run -- schema -o docs/plan.schema.json`"
    );
}

#[test]
fn a_pre_emptive_monitor_without_a_public_mempool_is_a_warning_naming_the_chain() {
    let base = std::fs::read_to_string(plans_dir().join("base.toml")).unwrap();
    let rule = r#"rule = "event pool.Borrow where amount > 100_000e6""#;
    assert!(base.contains(rule));
    let text = base.replace(rule, &format!("{rule}\npre_empt = true"));
    let checked = check_source("p.toml", &text, &plans_dir(), &CheckOptions::default());
    let d: Vec<_> = checked.report.diagnostics.iter().collect();
    assert_eq!(d.len(), 1, "{}", checked.report.render());
    assert_eq!(d[0].code, "pre-empt-unavailable");
    assert!(d[0].message.contains("chain `mainnet` has no public mempool"), "{}", d[0].message);
    let plan = checked.plan.unwrap();
    assert!(plan.monitors["drain"].pre_empt);
    assert_eq!(plan.chains["mainnet"].mempool, firebreak_plan::Mempool::None);
    // with a public mempool the plan is clean
    let public = text.replacen(
        "[chains.mainnet]\n",
        "[chains.mainnet]\nmempool = \"public\"\nbuilders = [\"https://builder.example/rpc\", { env = \"FIREBREAK_BUILDER_URL\" }]\n",
        1,
    );
    let checked = check_source("p.toml", &public, &plans_dir(), &CheckOptions::default());
    assert_eq!(checked.report.diagnostics, vec![], "{}", checked.report.render());
    let plan = checked.plan.unwrap();
    assert_eq!(plan.chains["mainnet"].mempool, firebreak_plan::Mempool::Public);
    // a builder whose URL embeds a key comes from a secret, as an RPC URL does
    assert_eq!(
        plan.chains["mainnet"].builders,
        vec![
            firebreak_plan::Endpoint::Url("https://builder.example/rpc".to_owned()),
            firebreak_plan::Endpoint::Secret(firebreak_plan::SecretRef::env(
                "FIREBREAK_BUILDER_URL"
            )),
        ]
    );
    // a builder that is not a URL is an error at its place
    let bad = public.replace("https://builder.example/rpc", "builder.example");
    let checked = check_source("p.toml", &bad, &plans_dir(), &CheckOptions::default());
    assert_eq!(checked.report.diagnostics[0].code, "invalid-url");
}
