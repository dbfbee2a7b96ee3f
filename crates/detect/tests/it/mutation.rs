//! Random mutations of the example plan never make `firebreak check` (the plan
//! checks and the rule compiler) panic, and every diagnostic they cause points
//! inside the file.

use firebreak_detect::check_source;
use firebreak_plan::CheckOptions;
use proptest::prelude::*;

use crate::repo_root;

#[derive(Debug, Clone)]
enum Mutation {
    DeleteRange(usize, usize),
    Insert(usize, String),
    DuplicateLine(usize),
    SwapLines(usize, usize),
    ReplaceByte(usize, u8),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    let snippet = prop_oneof![
        Just("[".to_owned()),
        Just("]]".to_owned()),
        Just("\"".to_owned()),
        Just(" = ".to_owned()),
        Just("\n[contracts.x]\n".to_owned()),
        Just("0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80".to_owned()),
        Just("{ env = \"\" }".to_owned()),
        Just("é".to_owned()),
        "[a-z_.=\\[\\]{}\"0-9 \n]{1,12}",
    ];
    prop_oneof![
        (any::<usize>(), 0usize..200).prop_map(|(a, n)| Mutation::DeleteRange(a, n)),
        (any::<usize>(), snippet).prop_map(|(a, s)| Mutation::Insert(a, s)),
        any::<usize>().prop_map(Mutation::DuplicateLine),
        (any::<usize>(), any::<usize>()).prop_map(|(a, b)| Mutation::SwapLines(a, b)),
        (any::<usize>(), any::<u8>()).prop_map(|(a, b)| Mutation::ReplaceByte(a, b)),
    ]
}

fn apply(text: &str, m: &Mutation) -> String {
    let floor = |s: &str, mut i: usize| {
        i %= s.len() + 1;
        while !s.is_char_boundary(i) {
            i -= 1;
        }
        i
    };
    match m {
        Mutation::DeleteRange(a, n) => {
            let start = floor(text, *a);
            let end = floor(text, (start + n).min(text.len()));
            format!("{}{}", &text[..start], &text[end.max(start)..])
        }
        Mutation::Insert(a, s) => {
            let at = floor(text, *a);
            format!("{}{}{}", &text[..at], s, &text[at..])
        }
        Mutation::DuplicateLine(a) => {
            let mut lines: Vec<&str> = text.lines().collect();
            let i = a % lines.len();
            lines.insert(i, lines[i]);
            lines.join("\n")
        }
        Mutation::SwapLines(a, b) => {
            let mut lines: Vec<&str> = text.lines().collect();
            let n = lines.len();
            lines.swap(a % n, b % n);
            lines.join("\n")
        }
        Mutation::ReplaceByte(a, b) => {
            let mut bytes = text.as_bytes().to_vec();
            let n = bytes.len();
            bytes[a % n] = *b;
            String::from_utf8_lossy(&bytes).into_owned()
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, ..ProptestConfig::default() })]

    #[test]
    fn mutated_example_never_panics(mutations in proptest::collection::vec(mutation(), 1..4)) {
        let dir = repo_root().join("examples/plans");
        let original = std::fs::read_to_string(dir.join("acme-lending.toml")).unwrap();
        let mut text = original;
        for m in &mutations {
            text = apply(&text, m);
        }
        let checked = check_source("mutated.toml", &text, &dir, &CheckOptions::default());
        // rendering must not panic either, and spans stay inside the file
        let _ = checked.report.render();
        let _ = checked.report.to_json();
        for d in &checked.report.diagnostics {
            if let Some(span) = &d.span {
                prop_assert!(span.end <= text.len(), "{d:?}");
            }
        }
        prop_assert_eq!(checked.plan.is_some(), checked.report.errors() == 0);
    }
}
