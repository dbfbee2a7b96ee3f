//! Bad rules give positioned diagnostics from `firebreak check`; the parser
//! never panics.

use firebreak_detect::check_source;
use firebreak_plan::CheckOptions;
use proptest::prelude::*;

use crate::base_with_rule;

/// (name, rule, expected code, expected column of the caret on line 72)
const CASES: &[(&str, &str, &str, usize)] = &[
    ("unknown-event", "event pool.Borow where amount > 1", "rule-invalid", 20),
    ("unknown-argument", "event pool.Borrow where amont > 1", "rule-invalid", 33),
    ("unknown-contract", "event vault.Borrow", "rule-invalid", 15),
    ("unknown-function", "call pool.borow", "rule-invalid", 19),
    ("unknown-list", "tx where tx.from in attackers", "rule-invalid", 29),
    ("type-mismatch", "event pool.Borrow where amount > true", "rule-invalid", 42),
    ("not-boolean", "event pool.Borrow where amount + 1", "rule-invalid", 33),
    ("window-missing", "event pool.Borrow where sum(amount) > 1", "rule-invalid", 33),
    ("prev-of-argument", "event pool.Borrow where prev(amount) > 1", "rule-invalid", 38),
    ("view-call-unknown", "block where call(pool.totalAsets()) > 0", "rule-invalid", 26),
    (
        "builtin-wrong-source",
        "block where tx.from == 0x0000000000000000000000000000000000000001",
        "rule-invalid",
        21,
    ),
    ("unknown-preset", "preset admin_chages", "rule-invalid", 16),
    ("short-bytes32", "event pool.RoleGranted where role == 0x00", "rule-invalid", 46),
    ("single-equals", "event pool.Borrow where amount = 1", "rule-syntax", 40),
    ("missing-where", "event pool.Borrow amount > 1", "rule-syntax", 27),
    ("dangling-operator", "event pool.Borrow where amount >", "rule-syntax", 41),
    ("unclosed-paren", "event pool.Borrow where (amount > 1", "rule-syntax", 44),
    ("chained-comparison", "event pool.Borrow where 1 < amount < 5", "rule-syntax", 44),
    ("bad-unit", "event pool.Borrow where amount > 5eth", "rule-syntax", 42),
    ("no-source", "amount > 5", "rule-syntax", 9),
    ("firebreak-outside-tx-from", "tx where !tx.firebreak", "rule-invalid", 19),
    ("tx-from-unknown-account", "tx from gardian where !tx.firebreak", "rule-invalid", 17),
    (
        "approved-outside-safe-preset",
        "event pool.Borrow where safe_tx.approved",
        "rule-invalid",
        33,
    ),
    ("approved-on-another-preset", "preset roles(pool) where safe_tx.approved", "rule-invalid", 34),
];

#[test]
fn bad_rules_give_positioned_diagnostics() {
    assert!(CASES.len() >= 10);
    let mut wrong = Vec::new();
    for (name, rule, code, column) in CASES {
        let (text, dir) = base_with_rule(rule);
        let checked = check_source("plan.toml", &text, &dir, &CheckOptions::default());
        let report = &checked.report;
        assert!(checked.plan.is_none(), "{name}: must be invalid");
        assert_eq!(report.errors(), 1, "{name}:\n{}", report.render());
        let d = &report.diagnostics[0];
        let pos = report.file.position(d.span.clone().unwrap().start);
        if (d.code, pos.line, pos.column) != (*code, 72, *column) {
            wrong.push(format!("{name}: got {} at 72:{} — {}", d.code, pos.column, d.message));
            continue;
        }
        insta::with_settings!({ snapshot_suffix => (*name).to_owned(), prepend_module_to_snapshot => false }, {
            insta::assert_snapshot!("rule", report.render());
        });
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

#[test]
fn good_rules_compile() {
    for rule in [
        "event pool.Borrow",
        "event pool.Borrow where amount > 100_000e6 && !(tx.from == pool)",
        "event pool.Borrow where sum(amount, 10 blocks) > 25% * prev(call(pool.totalAssets()))",
        "event pool.PriceUpdated where abs(pct_change(newPrice, oldPrice)) > 20%",
        "event pool.Deposit where count(5m) >= 3 && max(amount, 1h) > 1 ether",
        "call pool.setPrice where price < 1_000e6 || !tx.success",
        "tx where tx.value > 10 ether",
        "block where balance(ETH, pool) < 1 ether",
        "preset admin_changes",
        "preset roles(pool) where event.name == \"RoleGranted\"",
        "preset roles(pool) where event.name == \"RoleGranted\" && !(account in plan.authorities)",
        "preset ownership(pool) where !(newOwner in plan.safes)",
        "block where min(call(pool.ethPrice()), 5) >= 0 && block.number % 100 == 0",
        "preset safe_changes(emergency)",
        "tx from plan.signers where !tx.firebreak",
        "tx from guardian, emergency where !tx.firebreak && tx.nonce > 0",
        "preset safe_transactions(emergency) where event.name == \"ApproveHash\" && !safe_tx.approved",
        "preset safe_transactions(emergency) where operation == 1 && !(to in plan.delegatecall_allow)",
        "block where balance(ETH, pool) < 80% * max(balance(ETH, pool), 100 blocks)",
        "event pool.Transfer where sum(value, from == pool, 10 blocks) > 1_000e6",
        "event pool.Borrow where max(amount, account != pool, 1h) > 5 * avg(amount, 1h)",
        // the plan's own accounts by id, and as lists
        "tx where tx.from == guardian || tx.to == emergency",
        "event pool.RoleGranted where !(account in plan.authorities) && !(sender in plan.team)",
        "event pool.Transfer where to in plan.contracts || from in plan.signers || from in plan.safes",
    ] {
        let (text, dir) = base_with_rule(rule);
        let checked = check_source("plan.toml", &text, &dir, &CheckOptions::default());
        assert_eq!(checked.report.errors(), 0, "{rule}:\n{}", checked.report.render());
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

    #[test]
    fn parser_never_panics_on_any_text(text in "\\PC{0,80}") {
        let _ = firebreak_detect::parse(&text);
    }

    #[test]
    fn parser_never_panics_on_rule_like_text(
        parts in proptest::collection::vec(prop_oneof![
            Just("event"), Just("pool"), Just("."), Just("Borrow"), Just("where"), Just("amount"),
            Just(">"), Just("<="), Just("=="), Just("&&"), Just("||"), Just("!"), Just("("), Just(")"),
            Just(","), Just("sum"), Just("10 blocks"), Just("5m"), Just("1_000e6"), Just("5 ether"),
            Just("10%"), Just("0x00"), Just("\""), Just("-"), Just("*"), Just("/"), Just("%"),
            Just("prev"), Just("balance"), Just("call"), Just("in"), Just("9999999999999999999999999999999999999999999999999999999999999999999999999999999e70"),
        ], 0..24)
    ) {
        let text = parts.join(" ");
        if let Ok(ast) = firebreak_detect::parse(&text) {
            // compiling against an empty context must not panic either
            let _ = firebreak_detect::compile_ast(&ast, &text, &firebreak_detect::RuleContext::default());
        }
    }
}
