//! Every file in tests/plans/broken is the valid base plan with one mistake.
//! The rendered diagnostics are pinned by snapshots, and each file must yield
//! its expected diagnostic code at the expected line.

use crate::{check_named, plans_dir};

/// (file stem, expected code, expected 1-based line of that diagnostic)
const EXPECTED: &[(&str, &str, usize)] = &[
    ("syntax-unclosed-string", "syntax", 5),
    ("syntax-duplicate-key", "syntax", 9),
    ("unknown-top-level-key", "unknown-key", 67),
    ("unknown-key", "unknown-key", 13),
    ("missing-version", "missing-key", 1),
    ("unsupported-version", "unsupported-version", 2),
    ("type-mismatch", "invalid-value", 34),
    ("unknown-playbook", "unknown-reference", 73),
    ("unknown-contract", "unknown-reference", 70),
    ("unknown-channel", "unknown-reference", 79),
    ("unknown-signer", "unknown-reference", 16),
    ("unknown-chain", "unknown-reference", 27),
    ("threshold-exceeds-owners", "threshold-exceeds-owners", 34),
    ("literal-private-key", "literal-private-key", 19),
    ("literal-key-in-env-field", "literal-private-key", 23),
    ("literal-webhook-secret", "literal-secret", 51),
    ("pause-method-not-in-abi", "method-not-in-abi", 16),
    ("pause-args-mismatch", "method-mismatch", 16),
    ("pause-method-read-only", "method-mismatch", 16),
    ("pausable-without-pause", "pausable-without-pause", 11),
    ("hot-signer-not-owner", "hot-signer-not-owner", 35),
    ("p1-without-containment", "p1-without-containment", 73),
    ("bad-checksum", "bad-checksum", 28),
    ("invalid-address", "invalid-address", 32),
    ("invalid-timezone", "invalid-timezone", 46),
    ("unknown-role", "unknown-role", 64),
    ("unknown-escalation-member", "unknown-reference", 64),
    ("quorum-unreachable", "quorum-unreachable", 80),
    ("unpause-quorum-too-low", "unpause-quorum-too-low", 97),
    ("announce-quorum-unsupported", "announce-quorum-unsupported", 96),
    ("reserved-step-id", "reserved-step-id", 77),
    ("anvil-key-in-production", "anvil-key-in-production", 19),
    ("unknown-severity", "invalid-value", 68),
    ("field-not-for-kind", "field-not-for-kind", 78),
    ("invalid-duration", "invalid-duration", 72),
    ("duplicate-chain-id", "duplicate-chain", 8),
    ("missing-abi-file", "abi-unreadable", 14),
    ("channel-missing-field", "missing-key", 49),
    ("multiple-mistakes", "unknown-reference", 73),
    ("unknown-step", "unknown-step", 78),
    ("step-cycle", "step-cycle", 79),
    ("via-not-a-pause-path", "via-not-a-pause-path", 77),
    ("monitor-reaches-nobody", "missing-key", 67),
    ("safe-harbor-percent-over-100", "invalid-value", 85),
    ("safe-harbor-aggregate-below-cap", "invalid-value", 87),
    ("safe-harbor-aggregate-with-retainable", "safe-harbor-terms", 87),
    ("safe-harbor-chain-without-recovery", "no-recovery-address", 84),
    ("safe-harbor-registry-without-adopter", "safe-harbor-onchain", 91),
    ("rotate-without-standby", "no-standby", 82),
    ("revoke-roles-bad-account", "invalid-address", 82),
    ("sweep-to-nowhere", "invalid-address", 82),
];

#[test]
fn every_broken_plan_yields_its_diagnostic() {
    let dir = plans_dir().join("broken");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .collect();
    files.sort();
    assert!(files.len() >= 20, "at least 20 broken plans, found {}", files.len());
    assert_eq!(files.len(), EXPECTED.len(), "every broken plan has an expectation");
    for path in files {
        let stem = path.file_stem().unwrap().to_str().unwrap();
        let (_, code, line) = EXPECTED
            .iter()
            .find(|(name, _, _)| *name == stem)
            .unwrap_or_else(|| panic!("no expectation for broken/{stem}.toml"));
        let name = format!("broken/{stem}.toml");
        let checked = check_named(&path, &name);
        let report = &checked.report;
        assert!(checked.plan.is_none(), "{name} must be invalid");
        let found = report.diagnostics.iter().any(|d| {
            d.code == *code
                && d.span.as_ref().is_some_and(|s| report.file.position(s.start).line == *line)
        });
        assert!(found, "{name}: expected `{code}` at line {line}, got:\n{}", report.render());
        // every diagnostic is positioned and carries a fix hint
        for d in &report.diagnostics {
            assert!(d.span.is_some(), "{name}: unpositioned diagnostic {d:?}");
            assert!(d.hint.as_deref().is_some_and(|h| !h.is_empty()), "{name}: no hint in {d:?}");
        }
        let rendered = report.render();
        for secret in [
            "ac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80",
            "59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d",
            "T000/B000/XXXX",
        ] {
            assert!(!rendered.contains(secret), "{name}: a secret is printed:\n{rendered}");
        }
        insta::with_settings!({ snapshot_suffix => stem.to_owned(), prepend_module_to_snapshot => false }, {
            insta::assert_snapshot!("broken", report.render());
        });
    }
}

#[test]
fn all_errors_are_reported_at_once() {
    let path = plans_dir().join("broken/multiple-mistakes.toml");
    let checked = check_named(&path, "broken/multiple-mistakes.toml");
    let codes: Vec<_> = checked.report.diagnostics.iter().map(|d| d.code).collect();
    for code in ["unknown-reference", "threshold-exceeds-owners", "invalid-timezone"] {
        assert!(codes.contains(&code), "missing {code} in {codes:?}");
    }
}

#[test]
fn json_report_carries_positions() {
    let path = plans_dir().join("broken/unknown-playbook.toml");
    let checked = check_named(&path, "broken/unknown-playbook.toml");
    let json = checked.report.to_json();
    assert_eq!(json["errors"], 1);
    let d = &json["diagnostics"][0];
    assert_eq!(d["code"], "unknown-reference");
    assert_eq!(d["line"], 73);
    assert_eq!(d["column"], 12);
    assert_eq!(d["hint"], "did you mean `contain`?");
}
