//! TOML → [`RawPlan`], one section entry at a time, so that one bad entry does
//! not hide the mistakes in the others.

use std::{collections::BTreeMap, ops::Range};

use serde::de::DeserializeOwned;
use toml::{
    Spanned,
    de::{DeTable, DeValue, ValueDeserializer},
};

use crate::{
    diagnostic::Diagnostic,
    raw::RawPlan,
    suggest::{closest, list},
};

/// A step of a path into the TOML tree.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Seg<'p> {
    /// A table key.
    Key(&'p str),
    /// An array index.
    Idx(usize),
}

impl<'p> From<&'p str> for Seg<'p> {
    fn from(k: &'p str) -> Self {
        Self::Key(k)
    }
}

impl<'p> From<&'p String> for Seg<'p> {
    fn from(k: &'p String) -> Self {
        Self::Key(k)
    }
}

impl From<usize> for Seg<'_> {
    fn from(i: usize) -> Self {
        Self::Idx(i)
    }
}

/// Builds a `&[Seg]` path: `at_path!["monitors", id, "playbook"]`.
macro_rules! at_path {
    ($($seg:expr),* $(,)?) => { &[$($crate::load::Seg::from($seg)),*][..] };
}
pub(crate) use at_path;

/// Byte spans of the parsed document, looked up by path.
#[derive(Debug)]
pub(crate) struct SpanIndex<'a> {
    root: Spanned<DeTable<'a>>,
}

impl<'a> SpanIndex<'a> {
    /// Span of the value at `path`, or of the deepest existing parent when the
    /// path does not exist (a missing field points at its table).
    pub(crate) fn value(&self, path: &[Seg<'_>]) -> Option<Range<usize>> {
        let mut span = None;
        let mut table: Option<&DeTable<'a>> = Some(self.root.get_ref());
        let mut array = None;
        for seg in path {
            let next = match (seg, table, array) {
                (Seg::Key(k), Some(t), _) => t.get(*k),
                (Seg::Idx(i), _, Some(a)) => crate::load::array_get(a, *i),
                _ => None,
            };
            let Some(next) = next else { break };
            span = Some(next.span());
            (table, array) = match next.get_ref() {
                DeValue::Table(t) => (Some(t), None),
                DeValue::Array(a) => (None, Some(a)),
                _ => (None, None),
            };
        }
        span.or(Some(0..0))
    }

    /// Span of the key that ends `path` (for "unknown" or "duplicate" names).
    pub(crate) fn key(&self, path: &[Seg<'_>]) -> Option<Range<usize>> {
        let (last, parent) = path.split_last()?;
        let Seg::Key(name) = last else { return self.value(path) };
        let mut table: &DeTable<'a> = self.root.get_ref();
        let mut array: Option<&toml::de::DeArray<'a>> = None;
        for seg in parent {
            let next = match (seg, array) {
                (Seg::Key(k), None) => table.get(*k),
                (Seg::Idx(i), Some(a)) => array_get(a, *i),
                _ => None,
            };
            let Some(next) = next else { return self.value(path) };
            match next.get_ref() {
                DeValue::Table(t) => {
                    table = t;
                    array = None;
                }
                DeValue::Array(a) => array = Some(a),
                _ => return self.value(path),
            }
        }
        table.get_key_value(*name).map(|(k, _)| k.span()).or_else(|| self.value(path))
    }

    /// Keys present in the table at `path`, with their spans.
    pub(crate) fn keys(&self, path: &[Seg<'_>]) -> Vec<(String, Range<usize>)> {
        let mut table: &DeTable<'a> = self.root.get_ref();
        let mut array: Option<&toml::de::DeArray<'a>> = None;
        for seg in path {
            let next = match (seg, array) {
                (Seg::Key(k), None) => table.get(*k),
                (Seg::Idx(i), Some(a)) => array_get(a, *i),
                _ => None,
            };
            let Some(next) = next else { return Vec::new() };
            match next.get_ref() {
                DeValue::Table(t) => {
                    table = t;
                    array = None;
                }
                DeValue::Array(a) => array = Some(a),
                _ => return Vec::new(),
            }
        }
        if array.is_some() {
            return Vec::new();
        }
        table.iter().map(|(k, _)| (k.get_ref().to_string(), k.span())).collect()
    }

    /// Every string value in the document with its key path, for secret scans.
    pub(crate) fn strings(&self) -> Vec<(Vec<String>, String, Range<usize>)> {
        let mut out = Vec::new();
        walk_strings(self.root.get_ref(), &mut Vec::new(), &mut out);
        out
    }
}

pub(crate) fn array_get<'x, 'a>(
    a: &'x toml::de::DeArray<'a>,
    i: usize,
) -> Option<&'x Spanned<DeValue<'a>>> {
    a.get(i)
}

fn walk_strings(
    table: &DeTable<'_>,
    prefix: &mut Vec<String>,
    out: &mut Vec<(Vec<String>, String, Range<usize>)>,
) {
    for (k, v) in table {
        prefix.push(k.get_ref().to_string());
        walk_value(v, prefix, out);
        prefix.pop();
    }
}

fn walk_value(
    v: &Spanned<DeValue<'_>>,
    prefix: &mut Vec<String>,
    out: &mut Vec<(Vec<String>, String, Range<usize>)>,
) {
    match v.get_ref() {
        DeValue::String(s) => out.push((prefix.clone(), s.to_string(), v.span())),
        DeValue::Table(t) => walk_strings(t, prefix, out),
        DeValue::Array(a) => {
            for (i, item) in a.iter().enumerate() {
                prefix.push(i.to_string());
                walk_value(item, prefix, out);
                prefix.pop();
            }
        }
        _ => {}
    }
}

/// The result of loading: the raw plan (with bad entries left out), the span
/// index, and what went wrong.
#[derive(Debug)]
pub(crate) struct Loaded<'a> {
    pub(crate) raw: Option<RawPlan>,
    /// Top-level sections (or `section.entry`) that failed to deserialize:
    /// their problems are already reported, so checks that depend on them are skipped.
    pub(crate) failed: std::collections::BTreeSet<String>,
    pub(crate) spans: SpanIndex<'a>,
    pub(crate) diagnostics: Vec<Diagnostic>,
}

const TOP_KEYS: &[&str] = &[
    "version",
    "mode",
    "protocol",
    "chains",
    "contracts",
    "signers",
    "safes",
    "team",
    "channels",
    "oncall",
    "lists",
    "monitors",
    "playbooks",
    "safe_harbor",
    "recovery",
    "status_page",
    "war_room",
    "heartbeat",
];

/// Parses and deserializes `text`, collecting every syntax and shape error.
pub(crate) fn load(text: &str) -> Loaded<'_> {
    let (root, errors) = DeTable::parse_recoverable(text);
    let mut diagnostics: Vec<Diagnostic> = errors.into_iter().map(syntax_error).collect();
    let spans = SpanIndex { root };
    if !diagnostics.is_empty() {
        // A document that does not parse would only produce follow-on noise.
        return Loaded { raw: None, failed: Default::default(), spans, diagnostics };
    }
    let mut raw = RawPlan::default();
    let mut seen_version = false;
    let mut seen_protocol = false;
    let mut failed = std::collections::BTreeSet::new();
    for (key, value) in spans.root.get_ref() {
        let name: &str = key.get_ref();
        let value = value.clone();
        let before = diagnostics.len();
        match name {
            "version" => {
                if let Some(v) = one(value, &mut diagnostics) {
                    raw.version = v;
                    seen_version = true;
                }
            }
            "mode" => {
                if let Some(v) = one(value, &mut diagnostics) {
                    raw.mode = v;
                }
            }
            "protocol" => {
                seen_protocol = true;
                if let Some(v) = one(value, &mut diagnostics) {
                    raw.protocol = v;
                }
            }
            "oncall" => raw.oncall = one(value, &mut diagnostics),
            "safe_harbor" => raw.safe_harbor = one(value, &mut diagnostics),
            "recovery" => raw.recovery = one(value, &mut diagnostics),
            "status_page" => raw.status_page = one(value, &mut diagnostics),
            "war_room" => raw.war_room = one(value, &mut diagnostics),
            "heartbeat" => raw.heartbeat = one(value, &mut diagnostics),
            "chains" => raw.chains = map(value, &mut diagnostics),
            "contracts" => raw.contracts = map(value, &mut diagnostics),
            "signers" => raw.signers = map(value, &mut diagnostics),
            "safes" => raw.safes = map(value, &mut diagnostics),
            "team" => raw.team = map(value, &mut diagnostics),
            "channels" => raw.channels = map(value, &mut diagnostics),
            "monitors" => raw.monitors = map(value, &mut diagnostics),
            "lists" => raw.lists = map(value, &mut diagnostics),
            "playbooks" => raw.playbooks = map(value, &mut diagnostics),
            other => {
                let mut d =
                    Diagnostic::error("unknown-key", format!("unknown top-level key `{other}`"))
                        .with_span(Some(key.span()));
                d = match closest(other, TOP_KEYS.iter().copied()) {
                    Some(best) => d.with_hint(format!("did you mean `{best}`?")),
                    None => d.with_hint(format!("top-level keys are {}", list(TOP_KEYS))),
                };
                diagnostics.push(d);
            }
        }
        if diagnostics.len() > before {
            failed.insert(name.to_owned());
        }
    }
    if !seen_version {
        diagnostics.push(
            Diagnostic::error("missing-key", "the plan has no `version`")
                .with_span(Some(0..0))
                .with_hint("add `version = 1` at the top of the file"),
        );
    }
    if !seen_protocol {
        diagnostics.push(
            Diagnostic::error("missing-key", "the plan has no `[protocol]` section")
                .with_span(Some(0..0))
                .with_hint("add `[protocol]` with at least `name = \"…\"`"),
        );
    }
    Loaded { raw: Some(raw), failed, spans, diagnostics }
}

fn one<T: DeserializeOwned>(
    value: Spanned<DeValue<'_>>,
    diagnostics: &mut Vec<Diagnostic>,
) -> Option<T> {
    let span = value.span();
    T::deserialize(ValueDeserializer::from(value))
        .map_err(|e| diagnostics.push(shape_error(&e, span)))
        .ok()
}

fn map<T: DeserializeOwned>(
    value: Spanned<DeValue<'_>>,
    diagnostics: &mut Vec<Diagnostic>,
) -> BTreeMap<String, T> {
    let span = value.span();
    let DeValue::Table(table) = value.into_inner() else {
        diagnostics.push(
            Diagnostic::error("invalid-value", "expected a table of named entries")
                .with_span(Some(span))
                .with_hint("write each entry as its own `[section.name]` table"),
        );
        return BTreeMap::new();
    };
    let mut out = BTreeMap::new();
    for (key, value) in table {
        if let Some(v) = one(value, diagnostics) {
            out.insert(key.into_inner().into_owned(), v);
        }
    }
    out
}

fn syntax_error(e: toml::de::Error) -> Diagnostic {
    let message = e.message().trim().to_owned();
    let first = message.lines().next().unwrap_or("invalid TOML").to_owned();
    let hint = message
        .lines()
        .skip(1)
        .map(str::trim)
        .find(|l| !l.is_empty())
        .map(str::to_owned)
        .unwrap_or_else(|| {
            if first.contains("string") {
                "close the string with a matching quote on the same line (use ''' for multi-line text)"
            } else if first.contains("duplicate key") {
                "each key may appear once per table: remove or rename one of them"
            } else {
                "fix the TOML syntax at this position"
            }
            .to_owned()
        });
    Diagnostic::error("syntax", format!("TOML syntax: {first}")).with_span(e.span()).with_hint(hint)
}

/// Turns a serde error into a diagnostic, with a "did you mean" for unknown keys.
fn shape_error(e: &toml::de::Error, fallback: Range<usize>) -> Diagnostic {
    let message = e.message().trim().to_owned();
    let span = e.span().or(Some(fallback));
    if let Some(rest) = message.strip_prefix("unknown field `") {
        let (field, expected) = rest.split_once('`').unwrap_or((rest, ""));
        let candidates: Vec<&str> = expected.split('`').skip(1).step_by(2).collect();
        let msg = format!("unknown key `{field}`");
        let d = Diagnostic::error("unknown-key", msg).with_span(span.clone());
        if field == "private_key" || field == "key" || field == "mnemonic" {
            return Diagnostic::error(
                "literal-private-key",
                "a plan must never hold a private key or mnemonic",
            )
            .with_span(span)
            .with_hint("reference the key instead: `env = \"NAME\"` or `keystore = \"path\"`");
        }
        return match closest(field, candidates.iter().copied()) {
            Some(best) => d.with_hint(format!("did you mean `{best}`?")),
            None if candidates.is_empty() => d.with_hint("remove this key"),
            None => d.with_hint(format!("expected one of {}", list(&candidates))),
        };
    }
    if let Some(rest) = message.strip_prefix("missing field `") {
        let field = rest.split('`').next().unwrap_or(rest);
        return Diagnostic::error("missing-key", format!("missing required key `{field}`"))
            .with_span(span)
            .with_hint(format!("add `{field} = …` to this table (see docs/plan.md)"));
    }
    if message.starts_with("literal private key") {
        return Diagnostic::error("literal-private-key", "literal private key in the plan")
            .with_span(span)
            .with_hint("remove it and reference it: `{ env = \"NAME\" }`; rotate the key if it was committed");
    }
    if message.starts_with("secrets must be references") {
        return Diagnostic::error("literal-secret", "a secret is written in the plan in clear")
            .with_span(span)
            .with_hint("move the value to an environment variable and write `{ env = \"NAME\" }` (or `{ file = \"path\" }`)");
    }
    if let Some(rest) = message.strip_prefix("unknown variant `") {
        let (value, expected) = rest.split_once('`').unwrap_or((rest, ""));
        let candidates: Vec<&str> = expected.split('`').skip(1).step_by(2).collect();
        let d =
            Diagnostic::error("invalid-value", format!("unknown value `{value}`")).with_span(span);
        return match closest(value, candidates.iter().copied()) {
            Some(best) => d.with_hint(format!("did you mean `{best}`?")),
            None => d.with_hint(format!("expected one of {}", list(&candidates))),
        };
    }
    let first = message.lines().next().unwrap_or("invalid value").to_owned();
    let hint = if first.contains("expected u") || first.contains("expected i") {
        "write a whole number without quotes".to_owned()
    } else if first.contains("expected a boolean") {
        "write `true` or `false`".to_owned()
    } else if first.contains("expected a sequence") {
        "write a list in brackets: `[\"a\", \"b\"]`".to_owned()
    } else {
        "see docs/plan.md for the expected form of this key".to_owned()
    };
    Diagnostic::error("invalid-value", first).with_span(span).with_hint(hint)
}
