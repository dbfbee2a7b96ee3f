//! Offline checks that turn a [`RawPlan`] into a typed [`Plan`], collecting
//! every problem as a positioned [`Diagnostic`].
//!
//! One validator walks the plan; this file holds its shared checks
//! (references, addresses, durations, URLs, secrets, ids) and the order of
//! the walk (`Validator::run`); each section of the file has a module of
//! its own: `chains`, `keys` (signers and Safes), `contracts`, `people`
//! (team, channels, on-call, quorums), `playbooks`, `monitors`, `sections`
//! (Safe Harbor, war room, status page).

use std::{
    collections::{BTreeMap, BTreeSet},
    ops::Range,
    path::Path,
    str::FromStr,
    time::Duration,
};

use alloy_primitives::{Address, keccak256};
use firebreak_primitives::{Role, Severity};

use crate::{
    abi::{self, AbiLoadError, ResolveError},
    diagnostic::Diagnostic,
    load::{Seg, SpanIndex, at_path},
    model::*,
    raw::*,
    secret::{SecretRef, looks_like_private_key, valid_env_name},
    suggest::{closest, list},
};

mod chains;
mod contracts;
mod keys;
mod monitors;
mod people;
mod playbooks;
mod recovery;
pub use recovery::parse_labels;
mod sections;

/// Addresses of anvil's ten default dev accounts (mnemonic `test … junk`).
pub const ANVIL_DEV_ADDRESSES: [&str; 10] = [
    "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266",
    "0x70997970C51812dc3A010C7d01b50e0d17dc79C8",
    "0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC",
    "0x90F79bf6EB2c4f870365E785982E1f101E93b906",
    "0x15d34AAf54267DB7D7c367839AAf71A00a2C6A65",
    "0x9965507D1a55bcC2695C58ba16FB37d819B0A4dc",
    "0x976EA74026E726554dB657fA54763abd0C3a0aa9",
    "0x14dC79964da2C08b23698B3D3cc7Ca32193d9955",
    "0x23618e81E3f5cdF7f54C3d65f7FBc0aBf5B21E8f",
    "0xa0Ee7A142d267C1f36714E4a8F75612F20a79720",
];

/// Options of a check.
#[derive(Debug, Clone, Default)]
pub struct CheckOptions {
    /// Also require every secret reference to resolve (env set, file present).
    pub resolve_secrets: bool,
}

pub(crate) struct Validator<'r, 'a> {
    spans: &'r SpanIndex<'a>,
    failed: &'r BTreeSet<String>,
    raw: &'r RawPlan,
    base_dir: &'r Path,
    opts: &'r CheckOptions,
    pub(crate) diagnostics: Vec<Diagnostic>,
    pub(crate) parts: PlanParts,
}

type Span = Option<Range<usize>>;

/// A method, its arguments and who may send it, as written in the plan.
#[derive(Debug, Clone, Copy)]
struct CallSpec<'x> {
    method: &'x str,
    args: &'x [serde_json::Value],
    via: &'x [RawAuthority],
}

impl<'r, 'a> Validator<'r, 'a> {
    pub(crate) fn new(
        spans: &'r SpanIndex<'a>,
        failed: &'r BTreeSet<String>,
        raw: &'r RawPlan,
        base_dir: &'r Path,
        opts: &'r CheckOptions,
    ) -> Self {
        Self {
            spans,
            failed,
            raw,
            base_dir,
            opts,
            diagnostics: Vec::new(),
            parts: PlanParts::default(),
        }
    }

    fn at(&self, p: &[Seg<'_>]) -> Span {
        self.spans.value(p)
    }

    fn key_at(&self, p: &[Seg<'_>]) -> Span {
        self.spans.key(p)
    }

    fn error(
        &mut self,
        code: &'static str,
        span: Span,
        msg: impl Into<String>,
        hint: impl Into<String>,
    ) {
        self.diagnostics.push(Diagnostic::error(code, msg).with_span(span).with_hint(hint));
    }

    fn warn(
        &mut self,
        code: &'static str,
        span: Span,
        msg: impl Into<String>,
        hint: impl Into<String>,
    ) {
        self.diagnostics.push(Diagnostic::warning(code, msg).with_span(span).with_hint(hint));
    }

    /// Checks that `name` is a key of `section`; reports a positioned error if not.
    fn reference<'n, I>(
        &mut self,
        what: &str,
        section: &str,
        name: &str,
        defined: I,
        span: Span,
        context: &str,
    ) -> bool
    where
        I: IntoIterator<Item = &'n String>,
    {
        let mut names: Vec<String> = defined.into_iter().cloned().collect();
        if names.iter().any(|n| n == name) {
            return true;
        }
        // An entry that failed to load is still defined: its own error is reported.
        if self.spans.keys(&[Seg::Key(section)]).iter().any(|(k, _)| k == name) {
            return false;
        }
        names.sort();
        names.dedup();
        let names: Vec<&str> = names.iter().map(String::as_str).collect();
        let hint = match closest(name, names.iter().copied()) {
            Some(best) => format!("did you mean `{best}`?"),
            None if names.is_empty() => format!("define `[{section}.{name}]`"),
            None => format!("define `[{section}.{name}]` or use one of {}", list(&names)),
        };
        self.error(
            "unknown-reference",
            span,
            format!("{context} names {what} `{name}`, which is not defined"),
            hint,
        );
        false
    }

    fn address(&mut self, text: &str, span: Span, what: &str) -> Option<Address> {
        let hex = text.strip_prefix("0x");
        let well_formed =
            hex.is_some_and(|h| h.len() == 40 && h.bytes().all(|b| b.is_ascii_hexdigit()));
        if !well_formed {
            self.error(
                "invalid-address",
                span,
                format!("{what} `{text}` is not an address"),
                "write 0x followed by 40 hex digits",
            );
            return None;
        }
        let parsed = Address::from_str(text).ok()?;
        let lower = text.to_ascii_lowercase() == text;
        let upper = text[2..].to_ascii_uppercase() == text[2..];
        if !lower && !upper && parsed.to_checksum(None) != text {
            self.error(
                "bad-checksum",
                span,
                format!("{what} `{text}` fails its EIP-55 checksum (a typo?)"),
                format!("if the address is right, write it as {}", parsed.to_checksum(None)),
            );
            return None;
        }
        if parsed.is_zero() {
            self.error(
                "invalid-address",
                span,
                format!("{what} is the zero address"),
                "give the real address",
            );
            return None;
        }
        Some(parsed)
    }

    fn duration(&mut self, text: &str, span: Span, what: &str) -> Option<Duration> {
        match crate::parse_duration(text) {
            Ok(d) => Some(d),
            Err(e) => {
                self.error(
                    "invalid-duration",
                    span,
                    format!("{what} `{text}` is not a duration: {e}"),
                    "write a duration such as `30s`, `5m`, `2h` or `7d`",
                );
                None
            }
        }
    }

    fn timezone(&mut self, name: &str, span: Span, what: &str) -> bool {
        if jiff::tz::TimeZone::get(name).is_ok() {
            return true;
        }
        self.error(
            "invalid-timezone",
            span,
            format!("{what} `{name}` is not an IANA time zone"),
            "write a zone such as `UTC`, `Europe/Berlin` or `America/New_York`",
        );
        false
    }

    fn url(&mut self, url: &str, span: Span, schemes: &[&str], what: &str) -> bool {
        let ok = url
            .split_once("://")
            .is_some_and(|(scheme, rest)| schemes.contains(&scheme) && !rest.is_empty());
        if !ok {
            self.error(
                "invalid-url",
                span,
                format!("{what} `{url}` is not a {} URL", schemes.join("/")),
                format!("start it with {}://", schemes.join("://, ")),
            );
        }
        ok
    }

    fn secret(&mut self, secret: &SecretRef, span: Span) {
        if !self.opts.resolve_secrets {
            return;
        }
        if let Err(e) = crate::secret_resolve::resolve(secret, self.base_dir) {
            self.error("secret-unresolved", span, e.to_string(), e.hint());
        }
    }

    fn ids(&mut self) {
        let sections: [(&str, Vec<&String>); 8] = [
            ("chains", self.raw.chains.keys().collect()),
            ("contracts", self.raw.contracts.keys().collect()),
            ("signers", self.raw.signers.keys().collect()),
            ("safes", self.raw.safes.keys().collect()),
            ("team", self.raw.team.keys().collect()),
            ("channels", self.raw.channels.keys().collect()),
            ("monitors", self.raw.monitors.keys().collect()),
            ("playbooks", self.raw.playbooks.keys().collect()),
        ];
        for (section, keys) in sections {
            for key in keys {
                let ok = key.chars().next().is_some_and(|c| c.is_ascii_alphanumeric())
                    && key.chars().all(|c| c.is_ascii_alphanumeric() || "-_".contains(c));
                if !ok {
                    let span = self.key_at(at_path![section, key]);
                    self.error(
                        "invalid-id",
                        span,
                        format!("`{key}` is not a valid id in [{section}]"),
                        "use letters, digits, `-` and `_`, starting with a letter or digit",
                    );
                }
            }
        }
    }

    fn private_key_scan(&mut self) {
        const SECRET_WORDS: [&str; 6] =
            ["key", "secret", "password", "token", "mnemonic", "private"];
        for (keys, value, span) in self.spans.strings() {
            let field = keys.last().map(String::as_str);
            let signer_key_field = keys.first().is_some_and(|k| k == "signers")
                && matches!(field, Some("private_key" | "key"));
            // `signers.*.private_key` / `key` get their own error in `signers()`.
            if !looks_like_private_key(&value) || signer_key_field {
                continue;
            }
            let in_signers = keys.first().is_some_and(|k| k == "signers");
            let secret_key =
                keys.iter().rev().find(|k| k.parse::<usize>().is_err()).is_some_and(|k| {
                    let k = k.to_ascii_lowercase();
                    SECRET_WORDS.iter().any(|w| k.contains(w))
                });
            if in_signers || secret_key {
                self.error(
                    "literal-private-key",
                    Some(span),
                    format!("literal private key at `{}`", keys.join(".")),
                    "reference the key instead (`env = \"NAME\"` or a keystore); rotate it if this file was ever shared",
                );
            }
        }
    }

    pub(crate) fn run(&mut self, text: &str) -> Option<Plan> {
        let raw = self.raw;
        if raw.version != 1 && !self.failed.contains("version") && raw.version != 0 {
            let span = self.at(at_path!["version"]);
            self.error(
                "unsupported-version",
                span,
                format!("plan version {} is not supported", raw.version),
                "this firebreak reads `version = 1`",
            );
        }
        if !self.failed.contains("protocol") && raw.protocol.name.trim().is_empty() {
            let span = self.at(at_path!["protocol", "name"]);
            self.error("empty-value", span, "the protocol has no name", "set `name` in [protocol]");
        }
        for (name, link) in &raw.protocol.links {
            let span = self.at(at_path!["protocol", "links", name]);
            self.url(link, span, &["https", "http"], &format!("link `{name}`"));
        }
        self.ids();
        self.private_key_scan();
        let chains = self.chains();
        let signers = self.signers();
        let safes = self.safes(&signers);
        let contracts = self.contracts();
        let team = self.team();
        let channels = self.channels();
        let oncall = self.oncall();
        let playbooks = self.playbooks(&contracts);
        let monitors = self.monitors();
        let lists = self.lists();
        self.parts = PlanParts {
            contracts: contracts.clone(),
            lists: lists.clone(),
            accounts: named_accounts(&signers, &safes, &team),
            rules: self.rule_sites(text),
        };
        let safe_harbor = self.safe_harbor();
        let recovery = self.recovery(&contracts, &safes, &lists, &playbooks);
        self.status_page();
        let war_room = self.war_room();
        let heartbeat = self.heartbeat();

        if self.diagnostics.iter().any(|d| d.level == crate::Level::Error) {
            return None;
        }
        Some(Plan {
            version: raw.version,
            mode: raw.mode,
            hash: keccak256(text.as_bytes()),
            base_dir: self.base_dir.to_path_buf(),
            protocol: crate::model::Protocol {
                name: raw.protocol.name.clone(),
                description: raw.protocol.description.clone(),
                links: raw.protocol.links.clone(),
            },
            chains,
            contracts,
            signers,
            safes,
            team,
            channels,
            oncall,
            lists,
            monitors,
            playbooks,
            safe_harbor,
            recovery,
            status_page: raw.status_page.as_ref().map(|p| crate::model::StatusPage {
                title: p.title.clone(),
                components: p
                    .components
                    .iter()
                    .map(|c| crate::model::Component {
                        id: c.id.clone(),
                        name: c.name.clone(),
                        description: c.description.clone(),
                    })
                    .collect(),
            }),
            war_room,
            heartbeat,
        })
    }
}

/// Where the content of a TOML string value starts, when the content maps one
/// to one onto the file (literal strings, or basic strings without escapes).
fn content_start(text: &str, span: &Range<usize>, content: &str) -> Option<usize> {
    let raw = text.get(span.clone())?;
    let (open, close) = ["\"\"\"", "'''", "\"", "'"]
        .into_iter()
        .find(|q| raw.starts_with(q) && raw.len() >= 2 * q.len())
        .map(|q| (q.len(), q.len()))?;
    let mut start = span.start + open;
    let mut inner = &raw[open..raw.len() - close];
    // a multi-line string drops the newline right after its opening quotes
    if open == 3 {
        if let Some(rest) = inner.strip_prefix("\r\n") {
            inner = rest;
            start += 2;
        } else if let Some(rest) = inner.strip_prefix('\n') {
            inner = rest;
            start += 1;
        }
    }
    (inner == content).then_some(start)
}
