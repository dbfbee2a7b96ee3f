//! Offline checks that turn a [`RawPlan`] into a typed [`Plan`], collecting
//! every problem as a positioned [`Diagnostic`].

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
            rules: self.rule_sites(text),
        };
        let safe_harbor = self.safe_harbor();
        self.status_page();
        let war_room = self.war_room();

        if self.diagnostics.iter().any(|d| d.level == crate::Level::Error) {
            return None;
        }
        Some(Plan {
            version: raw.version,
            mode: raw.mode,
            hash: keccak256(text.as_bytes()),
            base_dir: self.base_dir.to_path_buf(),
            protocol: raw.protocol.clone(),
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
            status_page: raw.status_page.clone(),
            war_room,
        })
    }

    fn chains(&mut self) -> BTreeMap<String, Chain> {
        let mut out = BTreeMap::new();
        let mut ids: BTreeMap<u64, &String> = BTreeMap::new();
        if self.raw.chains.is_empty() {
            self.error(
                "missing-key",
                Some(0..0),
                "the plan defines no chains",
                "add a `[chains.NAME]` table with `id` and `rpc`",
            );
        }
        for (name, chain) in &self.raw.chains {
            if chain.id == 0 {
                let span = self.at(at_path!["chains", name, "id"]);
                self.error(
                    "invalid-value",
                    span,
                    format!("chain `{name}` has id 0"),
                    "give its EIP-155 chain id (1 for Ethereum)",
                );
            }
            if let Some(other) = ids.insert(chain.id, name) {
                let span = self.at(at_path!["chains", name, "id"]);
                self.error(
                    "duplicate-chain",
                    span,
                    format!("chains `{other}` and `{name}` share chain id {}", chain.id),
                    "give every chain once, with all its endpoints in `rpc`",
                );
            }
            let mut rpc = Vec::new();
            for (i, endpoint) in chain.rpc.iter().enumerate() {
                let span = self.at(at_path!["chains", name, "rpc", i]);
                match endpoint {
                    RawEndpoint::Url(url) => {
                        if self.url(url, span, &["wss", "ws", "https", "http"], "RPC endpoint") {
                            rpc.push(Endpoint::Url(url.clone()));
                        }
                    }
                    RawEndpoint::Secret(s) => {
                        self.secret(s, span);
                        rpc.push(Endpoint::Secret(s.clone()));
                    }
                }
            }
            match chain.rpc.len() {
                0 => {
                    let span = self.at(at_path!["chains", name, "rpc"]);
                    self.error(
                        "missing-rpc",
                        span,
                        format!("chain `{name}` has no RPC endpoint"),
                        "list at least one `ws://`/`http://` URL in `rpc`",
                    );
                }
                1 => {
                    let span = self.at(at_path!["chains", name, "rpc"]);
                    self.warn(
                        "single-rpc",
                        span,
                        format!("chain `{name}` has only one RPC endpoint"),
                        "add a second provider so an outage does not blind the monitors",
                    );
                }
                _ => {}
            }
            if let Some(explorer) = &chain.explorer {
                for (field, template, placeholder) in [
                    ("tx", Some(&explorer.tx), "{hash}"),
                    ("address", Some(&explorer.address), "{address}"),
                    ("block", explorer.block.as_ref(), "{number}"),
                ] {
                    let Some(template) = template else { continue };
                    let span = self.at(at_path!["chains", name, "explorer", field]);
                    if self.url(template, span.clone(), &["https", "http"], "explorer template")
                        && !template.contains(placeholder)
                    {
                        self.error(
                            "invalid-template",
                            span,
                            format!("explorer `{field}` template has no `{placeholder}`"),
                            format!("e.g. \"https://etherscan.io/{field}/{placeholder}\""),
                        );
                    }
                }
            }
            let confirmations = chain.confirmations.unwrap_or(Chain::DEFAULT_CONFIRMATIONS);
            if !(1..=Chain::MAX_CONFIRMATIONS).contains(&confirmations) {
                let span = self.at(at_path!["chains", name, "confirmations"]);
                self.error(
                    "invalid-confirmations",
                    span,
                    format!("chain `{name}` asks for {confirmations} confirmations"),
                    format!(
                        "use 1 (final when mined) to {} blocks; the default is {}",
                        Chain::MAX_CONFIRMATIONS,
                        Chain::DEFAULT_CONFIRMATIONS
                    ),
                );
            }
            out.insert(
                name.clone(),
                Chain {
                    id: chain.id,
                    name: chain.name.clone().unwrap_or_else(|| name.clone()),
                    rpc,
                    explorer: chain.explorer.clone(),
                    confirmations,
                },
            );
        }
        out
    }

    fn chain_ref(&mut self, name: &str, p: &[Seg<'_>], context: &str) -> bool {
        let span = self.at(p);
        self.reference("chain", "chains", name, self.raw.chains.keys(), span, context)
    }

    fn contract_ref(&mut self, name: &str, span: Span, context: &str) -> bool {
        self.reference("contract", "contracts", name, self.raw.contracts.keys(), span, context)
    }

    fn signers(&mut self) -> BTreeMap<String, Signer> {
        let mut out = BTreeMap::new();
        for (name, s) in &self.raw.signers {
            let ctx = format!("signer `{name}`");
            for (field, present) in
                [("private_key", s.private_key.is_some()), ("key", s.key.is_some())]
            {
                if present {
                    let span = self.key_at(at_path!["signers", name, field]);
                    self.error(
                        "literal-private-key",
                        span,
                        format!("{ctx} holds a key in the plan"),
                        "remove it and use `env = \"NAME\"` or `keystore = \"path\"`; rotate the key if this file was shared",
                    );
                }
            }
            let sources = [s.env.is_some(), s.keystore.is_some(), s.anvil_account.is_some()]
                .into_iter()
                .filter(|x| *x)
                .count();
            let pasted_key = s.private_key.is_some() || s.key.is_some();
            if sources > 1 || (sources == 0 && !pasted_key) {
                let span = self.key_at(at_path!["signers", name]);
                let msg = if sources == 0 {
                    format!("{ctx} has no key source")
                } else {
                    format!("{ctx} has more than one key source")
                };
                self.error(
                    "signer-source",
                    span,
                    msg,
                    "give exactly one of `env`, `keystore` (+ `password`) or `anvil_account`",
                );
            }
            if s.password.is_some() && s.keystore.is_none() {
                let span = self.key_at(at_path!["signers", name, "password"]);
                self.error(
                    "signer-source",
                    span,
                    format!("{ctx} has a password but no keystore"),
                    "add `keystore = \"path\"` or remove `password`",
                );
            }
            let mut address = s.address.as_ref().and_then(|a| {
                let span = self.at(at_path!["signers", name, "address"]);
                self.address(a, span, "signer address")
            });
            let mut source = None;
            if let Some(var) = &s.env {
                let span = self.at(at_path!["signers", name, "env"]);
                if !valid_env_name(var) {
                    if !looks_like_private_key(var) {
                        self.error(
                            "invalid-value",
                            span,
                            format!("`{var}` is not an environment variable name"),
                            "letters, digits and `_`, not starting with a digit",
                        );
                    }
                } else {
                    if self.opts.resolve_secrets {
                        match crate::secret_resolve::key_address(var) {
                            Ok(actual) => {
                                if let Some(expected) = address.filter(|e| *e != actual) {
                                    self.error(
                                        "signer-mismatch",
                                        span,
                                        format!("the key in `{var}` belongs to {actual}, but {ctx} expects {expected}"),
                                        "export the right key or fix `address`",
                                    );
                                }
                            }
                            Err(e) => {
                                self.error("secret-unresolved", span, e.to_string(), e.hint())
                            }
                        }
                    }
                    source = Some(KeySource::Env(var.clone()));
                }
            }
            if let Some(path) = &s.keystore {
                let span = self.at(at_path!["signers", name, "keystore"]);
                match &s.password {
                    None => self.error(
                        "missing-key",
                        span,
                        format!("{ctx} has a keystore but no `password`"),
                        "add `password = { env = \"NAME\" }`",
                    ),
                    Some(password) => {
                        let pspan = self.at(at_path!["signers", name, "password"]);
                        self.secret(password, pspan);
                        if self.opts.resolve_secrets {
                            let full = self.base_dir.join(path);
                            if let Err(e) =
                                crate::bounded::check_regular(&full, crate::KEYSTORE_MAX_BYTES)
                            {
                                let why = if e.kind() == std::io::ErrorKind::NotFound {
                                    "it does not exist".to_owned()
                                } else {
                                    e.to_string()
                                };
                                self.error(
                                    "secret-unresolved",
                                    span,
                                    format!("keystore file `{}` is not usable: {why}", path.display()),
                                    "create it with `cast wallet import` or fix the path (relative to the plan)",
                                );
                            } else if let Ok(pass) =
                                crate::secret_resolve::resolve(password, self.base_dir)
                            {
                                // decrypted as `run` will: a wrong password or a
                                // file that is not a keystore fails here, not at
                                // the exploit
                                match crate::secret_resolve::key_from_keystore(&full, &pass) {
                                    Ok(key) => {
                                        if let Some(expected) =
                                            address.filter(|e| *e != key.address())
                                        {
                                            self.error(
                                                "signer-mismatch",
                                                span,
                                                format!("the keystore `{}` holds {}, but {ctx} expects {expected}", path.display(), key.address()),
                                                "use the right keystore or fix `address`",
                                            );
                                        }
                                    }
                                    Err(e) => self.error(
                                        "secret-unresolved",
                                        span,
                                        format!("{ctx}: {e}"),
                                        e.hint(),
                                    ),
                                }
                            }
                        }
                        source = Some(KeySource::Keystore {
                            path: self.base_dir.join(path),
                            password: password.clone(),
                        });
                    }
                }
            }
            if let Some(index) = s.anvil_account {
                let span = self.at(at_path!["signers", name, "anvil_account"]);
                if self.raw.mode != PlanMode::Drill {
                    self.error(
                        "anvil-key-in-production",
                        span.clone(),
                        format!("{ctx} uses anvil dev account {index}, whose key is public"),
                        "anvil dev keys are only for drills: set `mode = \"drill\"` or reference a real key",
                    );
                }
                match ANVIL_DEV_ADDRESSES.get(index as usize) {
                    None => self.error(
                        "invalid-value",
                        span.clone(),
                        format!("anvil has dev accounts 0-9, not {index}"),
                        "pick an index from 0 to 9",
                    ),
                    Some(dev) => {
                        let dev =
                            Address::from_str(dev).expect("constant table of valid addresses");
                        if let Some(expected) = address.filter(|a| *a != dev) {
                            let aspan = self.at(at_path!["signers", name, "address"]);
                            self.error(
                                "signer-mismatch",
                                aspan,
                                format!("anvil account {index} is {dev}, not {expected}"),
                                "fix `address` or the account index",
                            );
                        }
                        address = Some(dev);
                        source = Some(KeySource::AnvilDev(index));
                    }
                }
            }
            if let Some(source) = source {
                out.insert(name.clone(), Signer { source, address });
            }
        }
        out
    }

    fn safes(&mut self, signers: &BTreeMap<String, Signer>) -> BTreeMap<String, Safe> {
        let mut out = BTreeMap::new();
        for (name, s) in &self.raw.safes {
            let ctx = format!("safe `{name}`");
            self.chain_ref(&s.chain, at_path!["safes", name, "chain"], &ctx);
            let span = self.at(at_path!["safes", name, "address"]);
            let address = self.address(&s.address, span, "Safe address");
            let mut owners = Vec::new();
            let mut seen = BTreeSet::new();
            for (i, o) in s.owners.iter().enumerate() {
                let span = self.at(at_path!["safes", name, "owners", i]);
                if let Some(a) = self.address(o, span.clone(), "owner") {
                    if !seen.insert(a) {
                        self.error(
                            "duplicate-owner",
                            span,
                            format!("owner {a} is listed twice in {ctx}"),
                            "list each owner once",
                        );
                    }
                    owners.push(a);
                }
            }
            let threshold_span = self.at(at_path!["safes", name, "threshold"]);
            if s.owners.is_empty() {
                let span = self.at(at_path!["safes", name, "owners"]);
                self.error(
                    "missing-owners",
                    span,
                    format!("{ctx} lists no owners"),
                    "list the owner addresses as on chain (`getOwners()`)",
                );
            }
            if s.threshold == 0 {
                self.error(
                    "invalid-threshold",
                    threshold_span,
                    format!("{ctx} has threshold 0"),
                    "a Safe needs at least one signature",
                );
            } else if s.threshold as usize > s.owners.len() {
                self.error(
                    "threshold-exceeds-owners",
                    threshold_span,
                    format!(
                        "{ctx} needs {} signatures but lists only {} owner{}",
                        s.threshold,
                        s.owners.len(),
                        if s.owners.len() == 1 { "" } else { "s" }
                    ),
                    format!("lower `threshold` to at most {} or list every owner", s.owners.len()),
                );
            } else if s.threshold == 1 {
                self.warn(
                    "safe-threshold-one",
                    threshold_span,
                    format!("{ctx} has threshold 1: one stolen key controls it"),
                    "raise the threshold; hot signers can still meet it in an emergency",
                );
            }
            for (i, hot) in s.hot_signers.iter().enumerate() {
                let span = self.at(at_path!["safes", name, "hot_signers", i]);
                if !self.reference(
                    "signer",
                    "signers",
                    hot,
                    self.raw.signers.keys(),
                    span.clone(),
                    &ctx,
                ) {
                    continue;
                }
                // a signer that failed its own checks is not in `signers`: already reported
                let Some(signer) = signers.get(hot) else { continue };
                match signer.address {
                    None => self.error(
                        "hot-signer-address",
                        span,
                        format!("hot signer `{hot}` of {ctx} has no known address"),
                        format!("add `address = \"0x…\"` to [signers.{hot}] so the check can prove it is an owner"),
                    ),
                    Some(a) if !owners.contains(&a) => self.error(
                        "hot-signer-not-owner",
                        span,
                        format!("hot signer `{hot}` ({a}) is not an owner of {ctx}"),
                        "add it to `owners` (and on chain) or remove it from `hot_signers`",
                    ),
                    Some(_) => {}
                }
            }
            if let Some(relayer) = &s.relayer {
                let span = self.at(at_path!["safes", name, "relayer"]);
                self.reference("signer", "signers", relayer, self.raw.signers.keys(), span, &ctx);
            }
            let multisend = match &s.multisend {
                None => Some(crate::model::CANONICAL_MULTISEND_CALL_ONLY),
                Some(text) => {
                    let span = self.at(at_path!["safes", name, "multisend"]);
                    self.address(text, span, "multisend")
                }
            };
            if let (Some(address), Some(multisend)) = (address, multisend) {
                out.insert(
                    name.clone(),
                    Safe {
                        chain: s.chain.clone(),
                        address,
                        owners,
                        threshold: s.threshold,
                        hot_signers: s.hot_signers.clone(),
                        relayer: s.relayer.clone(),
                        multisend,
                    },
                );
            }
        }
        out
    }

    fn authorities(
        &mut self,
        via: &[RawAuthority],
        chain: &str,
        base: &[Seg<'_>],
        ctx: &str,
    ) -> Vec<Authority> {
        let mut out = Vec::new();
        if via.is_empty() {
            let span = self.at(base);
            self.error(
                "missing-authority",
                span,
                format!("{ctx} names nobody who may send it"),
                "add `via = [{ signer = \"guardian\" }]` or `[{ safe = \"ops\" }]`",
            );
        }
        for (i, a) in via.iter().enumerate() {
            let mut p: Vec<Seg<'_>> = base.to_vec();
            p.push(Seg::Idx(i));
            let span = self.at(&p);
            match (&a.signer, &a.safe) {
                (Some(signer), None) => {
                    if self.reference(
                        "signer",
                        "signers",
                        signer,
                        self.raw.signers.keys(),
                        span,
                        ctx,
                    ) {
                        out.push(Authority::Signer(signer.clone()));
                    }
                }
                (None, Some(safe)) => {
                    if self.reference(
                        "Safe",
                        "safes",
                        safe,
                        self.raw.safes.keys(),
                        span.clone(),
                        ctx,
                    ) {
                        let safe_chain =
                            self.raw.safes.get(safe).map_or(chain, |s| s.chain.as_str());
                        // a Safe on an undefined chain has its own error
                        if safe_chain != chain && self.raw.chains.contains_key(safe_chain) {
                            self.error(
                                "chain-mismatch",
                                span,
                                format!("{ctx} is on chain `{chain}` but Safe `{safe}` is on `{safe_chain}`"),
                                "use a Safe deployed on the contract's chain",
                            );
                        } else {
                            out.push(Authority::Safe(safe.clone()));
                        }
                    }
                }
                _ => self.error(
                    "invalid-authority",
                    span,
                    format!("{ctx}: an authority is either {{ signer = … }} or {{ safe = … }}"),
                    "give exactly one of `signer` and `safe`",
                ),
            }
        }
        out
    }

    fn control_path(
        &mut self,
        abi: Option<&alloy_json_abi::JsonAbi>,
        spec: CallSpec<'_>,
        chain: &str,
        base: &[Seg<'_>],
        ctx: &str,
    ) -> Option<ControlPath> {
        let CallSpec { method, args, via } = spec;
        let mut via_path = base.to_vec();
        via_path.push(Seg::Key("via"));
        let via = self.authorities(via, chain, &via_path, ctx);
        let abi = abi?;
        let mut method_path = base.to_vec();
        method_path.push(Seg::Key("method"));
        match abi::resolve(abi, method, args) {
            Ok((function, args, calldata)) => Some(ControlPath { function, args, calldata, via }),
            Err(ResolveError::NoSuchFunction { message, hint }) => {
                let span = self.at(&method_path);
                self.error("method-not-in-abi", span, format!("{ctx}: {message}"), hint);
                None
            }
            Err(ResolveError::Arity { message, hint })
            | Err(ResolveError::ReadOnly { message, hint }) => {
                let mut args_path = base.to_vec();
                args_path.push(Seg::Key("args"));
                let span =
                    if args.is_empty() { self.at(&method_path) } else { self.at(&args_path) };
                self.error("method-mismatch", span, format!("{ctx}: {message}"), hint);
                None
            }
            Err(ResolveError::Argument { index, message, hint }) => {
                let mut arg_path = base.to_vec();
                arg_path.push(Seg::Key("args"));
                arg_path.push(Seg::Idx(index));
                let span = self.at(&arg_path);
                self.error("invalid-argument", span, format!("{ctx}: {message}"), hint);
                None
            }
        }
    }

    fn load_abi(&mut self, name: &str, src: &RawAbiSource) -> Option<alloy_json_abi::JsonAbi> {
        let given = [src.file.is_some(), src.artifact.is_some(), src.signatures.is_some()];
        if given.iter().filter(|x| **x).count() != 1 {
            let span = self.at(at_path!["contracts", name, "abi"]);
            self.error(
                "abi-source",
                span,
                format!("contract `{name}` must give exactly one ABI source"),
                "use one of `file`, `artifact` or `signatures`",
            );
            return None;
        }
        let (result, field) = if let Some(f) = &src.file {
            (abi::from_file(&self.base_dir.join(f), f), "file")
        } else if let Some(a) = &src.artifact {
            (abi::from_artifact(&self.base_dir.join(a), a), "artifact")
        } else {
            (abi::from_signatures(src.signatures.as_deref().unwrap_or_default()), "signatures")
        };
        match result {
            Ok(abi) => Some(abi),
            Err(AbiLoadError::Read(msg)) => {
                let span = self.at(at_path!["contracts", name, "abi", field]);
                self.error(
                    "abi-unreadable",
                    span,
                    msg,
                    "paths are relative to the plan file; check the name",
                );
                None
            }
            Err(AbiLoadError::Parse(msg)) => {
                let span = self.at(at_path!["contracts", name, "abi", field]);
                self.error(
                    "abi-invalid",
                    span,
                    msg,
                    "point at a JSON ABI array, or a Foundry artifact under out/",
                );
                None
            }
            Err(AbiLoadError::Signature { index, message }) => {
                let span = self.at(at_path!["contracts", name, "abi", "signatures", index]);
                self.error(
                    "abi-invalid",
                    span,
                    format!("bad signature: {message}"),
                    "write e.g. \"function pause()\" or \"event Paused(address account)\"",
                );
                None
            }
        }
    }

    fn contracts(&mut self) -> BTreeMap<String, Contract> {
        let mut out = BTreeMap::new();
        for (name, c) in &self.raw.contracts {
            let ctx = format!("contract `{name}`");
            self.chain_ref(&c.chain, at_path!["contracts", name, "chain"], &ctx);
            let span = self.at(at_path!["contracts", name, "address"]);
            let address = self.address(&c.address, span, "contract address");
            let abi = self.load_abi(name, &c.abi);
            let pause = c.pause.as_ref().and_then(|p| {
                self.control_path(
                    abi.as_ref(),
                    CallSpec { method: &p.method, args: &p.args, via: &p.via },
                    &c.chain,
                    at_path!["contracts", name, "pause"],
                    &format!("pause path of {ctx}"),
                )
            });
            let unpause = c.unpause.as_ref().and_then(|p| {
                self.control_path(
                    abi.as_ref(),
                    CallSpec { method: &p.method, args: &p.args, via: &p.via },
                    &c.chain,
                    at_path!["contracts", name, "unpause"],
                    &format!("unpause path of {ctx}"),
                )
            });
            if c.pause.is_none() {
                let span = self.key_at(at_path!["contracts", name]);
                match c.pausable {
                    Some(true) => self.error(
                        "pausable-without-pause",
                        span,
                        format!("{ctx} is marked pausable but has no pause path"),
                        format!("add [contracts.{name}.pause] with `method` and `via`"),
                    ),
                    Some(false) => {}
                    None => self.warn(
                        "no-pause-path",
                        span,
                        format!("{ctx} has no pause path: an exploit on it cannot be contained"),
                        format!("add [contracts.{name}.pause], or `pausable = false` to record that it cannot be paused"),
                    ),
                }
            }
            if let (Some(address), Some(abi)) = (address, abi) {
                out.insert(
                    name.clone(),
                    Contract {
                        chain: c.chain.clone(),
                        address,
                        abi,
                        pausable: c.pausable.unwrap_or(c.pause.is_some()),
                        pause,
                        unpause,
                    },
                );
            }
        }
        out
    }

    fn team(&mut self) -> BTreeMap<String, Member> {
        let mut out = BTreeMap::new();
        for (handle, m) in &self.raw.team {
            let ctx = format!("member `{handle}`");
            if m.name.trim().is_empty() {
                let span = self.at(at_path!["team", handle, "name"]);
                self.error(
                    "empty-value",
                    span,
                    format!("{ctx} has an empty name"),
                    "write the person's name",
                );
            }
            let span = self.at(at_path!["team", handle, "timezone"]);
            self.timezone(&m.timezone, span, "time zone");
            for (channel, contact) in &m.contacts {
                let span = self.key_at(at_path!["team", handle, "contacts", channel]);
                if self.reference(
                    "channel",
                    "channels",
                    channel,
                    self.raw.channels.keys(),
                    span.clone(),
                    &format!("a contact of {ctx}"),
                ) && contact.trim().is_empty()
                {
                    self.error(
                        "empty-value",
                        span,
                        format!("{ctx} has an empty contact for `{channel}`"),
                        "write the address, handle or id",
                    );
                }
            }
            let safe_owner = m.safe_owner.as_ref().and_then(|a| {
                let span = self.at(at_path!["team", handle, "safe_owner"]);
                self.address(a, span, "Safe owner address")
            });
            out.insert(
                handle.clone(),
                Member {
                    name: m.name.clone(),
                    roles: m.roles.clone(),
                    timezone: m.timezone.clone(),
                    contacts: m.contacts.clone(),
                    safe_owner,
                },
            );
        }
        out
    }

    fn channels(&mut self) -> BTreeMap<String, RawChannel> {
        let mut out = BTreeMap::new();
        for (name, ch) in &self.raw.channels {
            let (required, optional): (&[&str], &[&str]) = match ch.kind {
                ChannelKind::Slack | ChannelKind::Discord => (&["webhook_url"], &["base_url"]),
                ChannelKind::Telegram => (&["bot_token", "chat_id"], &["base_url"]),
                ChannelKind::Pagerduty => (&["routing_key"], &["base_url", "webhook_secret"]),
                ChannelKind::Webhook => (&["url", "signing_secret"], &["timeout"]),
                ChannelKind::Email => (
                    &["smtp_host", "from", "to"],
                    &["smtp_port", "tls", "username", "password", "timeout"],
                ),
                ChannelKind::Command => (&["program"], &["args", "timeout"]),
            };
            let kind = ch.kind.as_str();
            let present = self.spans.keys(at_path!["channels", name]);
            let mut ok = true;
            for (key, span) in &present {
                let k = key.as_str();
                if k != "kind" && k != "drill" && !required.contains(&k) && !optional.contains(&k) {
                    ok = false;
                    let mut allowed: Vec<&str> = required.iter().chain(optional).copied().collect();
                    allowed.push("drill");
                    self.error(
                        "field-not-for-kind",
                        Some(span.clone()),
                        format!("`{k}` does not apply to a {kind} channel"),
                        format!("{kind} channels take {}", list(&allowed)),
                    );
                }
            }
            for r in required {
                if !present.iter().any(|(k, _)| k == r) {
                    ok = false;
                    let span = self.key_at(at_path!["channels", name]);
                    self.error(
                        "missing-key",
                        span,
                        format!("{kind} channel `{name}` needs `{r}`"),
                        format!("add `{r} = …` to [channels.{name}]"),
                    );
                }
            }
            for (field, secret) in [
                ("webhook_url", &ch.webhook_url),
                ("bot_token", &ch.bot_token),
                ("routing_key", &ch.routing_key),
                ("webhook_secret", &ch.webhook_secret),
                ("signing_secret", &ch.signing_secret),
                ("password", &ch.password),
            ] {
                if let Some(secret) = secret {
                    let span = self.at(at_path!["channels", name, field]);
                    self.secret(secret, span);
                }
            }
            for (field, url) in [("url", &ch.url), ("base_url", &ch.base_url)] {
                if let Some(url) = url {
                    let span = self.at(at_path!["channels", name, field]);
                    ok &= self.url(url, span, &["https", "http"], field);
                }
            }
            if let Some(t) = &ch.timeout {
                let span = self.at(at_path!["channels", name, "timeout"]);
                ok &= self.duration(t, span, "timeout").is_some();
            }
            if ch.kind == ChannelKind::Email {
                let mut addrs: Vec<(Vec<Seg<'_>>, &String)> = Vec::new();
                if let Some(from) = &ch.from {
                    addrs.push((at_path!["channels", name, "from"].to_vec(), from));
                }
                for (i, to) in ch.to.iter().flatten().enumerate() {
                    addrs.push((at_path!["channels", name, "to", i].to_vec(), to));
                }
                for (p, a) in addrs {
                    if !a.contains('@') {
                        ok = false;
                        let span = self.at(&p);
                        self.error(
                            "invalid-email",
                            span,
                            format!("`{a}` is not an e-mail address"),
                            "write user@domain",
                        );
                    }
                }
                if ch.username.is_some() != ch.password.is_some() {
                    ok = false;
                    let span = self.key_at(at_path!["channels", name]);
                    self.error("missing-key", span, format!("email channel `{name}` needs both `username` and `password`, or neither"), "give SMTP credentials as a pair");
                }
            }
            if ok {
                out.insert(name.clone(), ch.clone());
            }
        }
        out
    }

    /// Parses a target (`oncall`, `role:NAME`, member) and expands it to members.
    fn target(&mut self, text: &str, span: Span, ctx: &str) -> Option<(Target, BTreeSet<String>)> {
        if text == "oncall" {
            let Some(oncall) = &self.raw.oncall else {
                self.error(
                    "unknown-reference",
                    span,
                    format!("{ctx} pages `oncall` but the plan has no [oncall] section"),
                    "add [oncall] with a rotation, or name a member",
                );
                return None;
            };
            return Some((Target::Oncall, oncall.rotation.iter().cloned().collect()));
        }
        if let Some(role) = text.strip_prefix("role:") {
            let Some(role) = Role::parse(role) else {
                let names: Vec<&str> = Role::ALL.iter().map(|r| r.as_str()).collect();
                let hint = match closest(role, names.iter().copied()) {
                    Some(best) => format!("did you mean `role:{best}`?"),
                    None => format!("roles are {}", list(&names)),
                };
                self.error("unknown-role", span, format!("{ctx}: `{role}` is not a role"), hint);
                return None;
            };
            let holders: BTreeSet<String> = self
                .raw
                .team
                .iter()
                .filter(|(_, m)| m.roles.contains(&role))
                .map(|(h, _)| h.clone())
                .collect();
            if holders.is_empty() {
                self.error(
                    "unheld-role",
                    span,
                    format!("{ctx} pages role `{role}` but no member holds it"),
                    format!("give the `{role}` role to a member in [team]"),
                );
                return None;
            }
            return Some((Target::Role(role), holders));
        }
        if self.reference("member", "team", text, self.raw.team.keys(), span, ctx) {
            return Some((Target::Member(text.to_owned()), BTreeSet::from([text.to_owned()])));
        }
        None
    }

    fn oncall(&mut self) -> Option<Oncall> {
        let o = self.raw.oncall.as_ref()?;
        let ctx = "the on-call rotation";
        if o.rotation.is_empty() {
            let span = self.at(at_path!["oncall", "rotation"]);
            self.error(
                "empty-rotation",
                span,
                "the on-call rotation is empty",
                "list member handles in `rotation`",
            );
        }
        for (i, m) in o.rotation.iter().enumerate() {
            let span = self.at(at_path!["oncall", "rotation", i]);
            self.reference("member", "team", m, self.raw.team.keys(), span, ctx);
        }
        let span = self.at(at_path!["oncall", "shift"]);
        let shift = self.duration(&o.shift, span.clone(), "shift");
        if shift.is_some_and(|d| d.is_zero()) {
            self.error("invalid-duration", span, "the on-call shift is zero", "use e.g. `7d`");
        }
        let span = self.at(at_path!["oncall", "handoff"]);
        let handoff = jiff::civil::Time::strptime("%H:%M", &o.handoff).ok();
        if handoff.is_none() {
            self.error(
                "invalid-time",
                span,
                format!("hand-off time `{}` is not HH:MM", o.handoff),
                "write a 24-hour time such as \"09:00\"",
            );
        }
        let span = self.at(at_path!["oncall", "timezone"]);
        self.timezone(&o.timezone, span, "time zone");
        let span = self.at(at_path!["oncall", "start"]);
        let start = o.start.parse::<jiff::civil::Date>().ok();
        if start.is_none() {
            self.error(
                "invalid-date",
                span,
                format!("start `{}` is not a date", o.start),
                "write YYYY-MM-DD",
            );
        }
        let mut overrides = Vec::new();
        for (i, ov) in o.overrides.iter().enumerate() {
            let span = self.at(at_path!["oncall", "overrides", i, "member"]);
            self.reference(
                "member",
                "team",
                &ov.member,
                self.raw.team.keys(),
                span,
                "an on-call override",
            );
            let stamp = |field: &'static str, text: &str, this: &mut Self| {
                let span = this.at(at_path!["oncall", "overrides", i, field]);
                let parsed = text.parse::<jiff::Timestamp>().ok();
                if parsed.is_none() {
                    this.error(
                        "invalid-date",
                        span,
                        format!("`{text}` is not an RFC 3339 time"),
                        "write e.g. \"2026-12-24T18:00:00Z\"",
                    );
                }
                parsed
            };
            let from = stamp("from", &ov.from, self);
            let until = stamp("until", &ov.until, self);
            if let (Some(from), Some(until)) = (from, until) {
                if until <= from {
                    let span = self.at(at_path!["oncall", "overrides", i, "until"]);
                    self.error(
                        "invalid-date",
                        span,
                        "override ends before it starts",
                        "make `until` later than `from`",
                    );
                } else {
                    overrides.push(Override { member: ov.member.clone(), from, until });
                }
            }
        }
        let mut escalation = Vec::new();
        let mut reached = BTreeSet::new();
        if o.escalation.is_empty() {
            let span = self.key_at(at_path!["oncall"]);
            self.warn(
                "no-escalation",
                span,
                "no escalation levels: a page nobody acknowledges goes no further",
                "add [[oncall.escalation]] levels",
            );
        }
        for (i, level) in o.escalation.iter().enumerate() {
            let ctx = format!("escalation level {}", i + 1);
            if level.targets.is_empty() {
                let span = self.at(at_path!["oncall", "escalation", i]);
                self.error(
                    "missing-key",
                    span,
                    format!("{ctx} pages nobody"),
                    "add `targets = [\"oncall\"]` or members / `role:NAME`",
                );
            }
            let mut targets = Vec::new();
            for (j, t) in level.targets.iter().enumerate() {
                let span = self.at(at_path!["oncall", "escalation", i, "targets", j]);
                if let Some((target, members)) = self.target(t, span, &ctx) {
                    reached.extend(members);
                    targets.push(target);
                }
            }
            let delay = match &level.delay {
                Some(d) => {
                    let span = self.at(at_path!["oncall", "escalation", i, "delay"]);
                    self.duration(d, span, "delay")
                }
                None => Some(Duration::ZERO),
            };
            escalation.push(EscalationLevel {
                targets,
                delay: delay.unwrap_or_default(),
                repeat: level.repeat,
            });
        }
        if !o.escalation.is_empty() && reached.len() == 1 {
            let span = self.at(at_path!["oncall", "escalation"]);
            let who = reached.iter().next().cloned().unwrap_or_default();
            self.warn(
                "single-person-escalation",
                span,
                format!("escalation only ever reaches `{who}`"),
                "add a level that pages a second person or a role",
            );
        }
        Some(Oncall {
            rotation: o.rotation.clone(),
            shift: shift?,
            handoff: handoff?,
            timezone: o.timezone.clone(),
            start: start?,
            overrides,
            escalation,
        })
    }

    fn approval(&mut self, quorum: u32, roles: &[Role], span: Span, ctx: &str) -> Approval {
        if roles.is_empty() {
            self.error(
                "missing-key",
                span.clone(),
                format!("{ctx}: approval names no roles"),
                "add `roles = [\"commander\", \"operator\"]`",
            );
        }
        let eligible =
            self.raw.team.values().filter(|m| m.roles.iter().any(|r| roles.contains(r))).count();
        if quorum == 0 {
            self.error(
                "invalid-quorum",
                span,
                format!("{ctx}: quorum 0 approves nothing"),
                "use a quorum of at least 1, or remove the approval",
            );
        } else if !roles.is_empty() && quorum as usize > eligible {
            let names: Vec<&str> = roles.iter().map(|r| r.as_str()).collect();
            self.error(
                "quorum-unreachable",
                span,
                format!(
                    "{ctx}: quorum {quorum} but only {eligible} member(s) hold {}",
                    list(&names)
                ),
                format!("lower the quorum to {eligible} or give more members these roles"),
            );
        }
        Approval { quorum, roles: roles.to_vec() }
    }

    fn playbooks(&mut self, contracts: &BTreeMap<String, Contract>) -> BTreeMap<String, Playbook> {
        let mut out = BTreeMap::new();
        for (name, pb) in &self.raw.playbooks {
            if pb.steps.is_empty() {
                let span = self.key_at(at_path!["playbooks", name]);
                self.error(
                    "empty-playbook",
                    span,
                    format!("playbook `{name}` has no steps"),
                    "add [[playbooks.NAME.steps]] entries",
                );
            }
            let mut steps = Vec::new();
            let mut ids = BTreeSet::new();
            for (i, st) in pb.steps.iter().enumerate() {
                let kind = st.kind.as_str();
                let id = st.id.clone().unwrap_or_else(|| format!("{kind}-{}", i + 1));
                let ctx = format!("step `{id}` of playbook `{name}`");
                let base = at_path!["playbooks", name, "steps", i];
                if id == firebreak_primitives::TRIGGER_STEP
                    || id == firebreak_primitives::UNPAUSE_STEP
                {
                    let span = self.at(at_path!["playbooks", name, "steps", i, "id"]);
                    self.error(
                        "reserved-step-id",
                        span,
                        format!("{ctx}: `{id}` is reserved for the war room's own gate"),
                        "rename the step",
                    );
                }
                if !ids.insert(id.clone()) {
                    let span = self.at(at_path!["playbooks", name, "steps", i, "id"]);
                    self.error(
                        "duplicate-step",
                        span,
                        format!("playbook `{name}` has two steps with id `{id}`"),
                        "give every step a unique `id`",
                    );
                }
                let (required, optional): (&[&str], &[&str]) = match st.kind {
                    StepKind::Pause => (&["contracts"], &[]),
                    StepKind::Call => (&["contract", "method", "via"], &["args"]),
                    StepKind::Notify => (&["channels"], &["message"]),
                    StepKind::Page => (&[], &["targets", "message"]),
                    StepKind::WaitApproval => (&["quorum", "roles"], &["timeout"]),
                    StepKind::Announce => (&["status", "message"], &["components"]),
                };
                let present = self.spans.keys(base);
                let mut ok = true;
                for (key, span) in &present {
                    let k = key.as_str();
                    let common = k == "id"
                        || k == "kind"
                        || (k == "approval" && st.kind != StepKind::WaitApproval);
                    if !common && !required.contains(&k) && !optional.contains(&k) {
                        ok = false;
                        let mut allowed = vec!["id", "approval"];
                        allowed.extend(required.iter().chain(optional));
                        self.error(
                            "field-not-for-kind",
                            Some(span.clone()),
                            format!("`{k}` does not apply to a {kind} step"),
                            format!("{kind} steps take {}", list(&allowed)),
                        );
                    }
                }
                for r in required {
                    if !present.iter().any(|(k, _)| k == r) {
                        ok = false;
                        let span = self.at(base);
                        self.error(
                            "missing-key",
                            span,
                            format!("{ctx} needs `{r}`"),
                            format!("add `{r} = …` to this {kind} step"),
                        );
                    }
                }
                let approval = st.approval.as_ref().map(|a| {
                    let span = self.at(at_path!["playbooks", name, "steps", i, "approval"]);
                    self.approval(a.quorum, &a.roles, span, &ctx)
                });
                if !ok {
                    continue;
                }
                let action = match st.kind {
                    StepKind::Pause => {
                        let list_ = st.contracts.clone().unwrap_or_default();
                        if list_.is_empty() {
                            let span =
                                self.at(at_path!["playbooks", name, "steps", i, "contracts"]);
                            self.error(
                                "missing-key",
                                span,
                                format!("{ctx} pauses no contracts"),
                                "list the contracts to pause",
                            );
                        }
                        for (j, c) in list_.iter().enumerate() {
                            let span =
                                self.at(at_path!["playbooks", name, "steps", i, "contracts", j]);
                            if self.contract_ref(c, span.clone(), &ctx)
                                && self.raw.contracts.get(c).is_some_and(|c| c.pause.is_none())
                            {
                                self.error(
                                    "no-pause-path",
                                    span,
                                    format!("{ctx} pauses `{c}`, which has no pause path"),
                                    format!("add [contracts.{c}.pause] or use a `call` step"),
                                );
                            }
                        }
                        StepAction::Pause { contracts: list_ }
                    }
                    StepKind::Call => {
                        let contract = st.contract.clone().unwrap_or_default();
                        let span = self.at(at_path!["playbooks", name, "steps", i, "contract"]);
                        if !self.contract_ref(&contract, span, &ctx) {
                            continue;
                        }
                        let Some(chain) =
                            self.raw.contracts.get(&contract).map(|c| c.chain.clone())
                        else {
                            continue;
                        };
                        let abi = contracts.get(&contract).map(|c| &c.abi);
                        let spec = CallSpec {
                            method: st.method.as_deref().unwrap_or_default(),
                            args: st.args.as_deref().unwrap_or_default(),
                            via: st.via.as_deref().unwrap_or_default(),
                        };
                        let Some(call) = self.control_path(abi, spec, &chain, base, &ctx) else {
                            continue;
                        };
                        StepAction::Call { contract, call }
                    }
                    StepKind::Notify => {
                        let channels = st.channels.clone().unwrap_or_default();
                        for (j, c) in channels.iter().enumerate() {
                            let span =
                                self.at(at_path!["playbooks", name, "steps", i, "channels", j]);
                            self.reference(
                                "channel",
                                "channels",
                                c,
                                self.raw.channels.keys(),
                                span,
                                &ctx,
                            );
                        }
                        StepAction::Notify { channels, message: st.message.clone() }
                    }
                    StepKind::Page => {
                        let targets = st.targets.as_ref().map(|ts| {
                            ts.iter()
                                .enumerate()
                                .filter_map(|(j, t)| {
                                    let span = self.at(at_path![
                                        "playbooks",
                                        name,
                                        "steps",
                                        i,
                                        "targets",
                                        j
                                    ]);
                                    self.target(t, span, &ctx).map(|(t, _)| t)
                                })
                                .collect()
                        });
                        if targets.is_none() && self.raw.oncall.is_none() {
                            let span = self.at(base);
                            self.error(
                                "unknown-reference",
                                span,
                                format!(
                                    "{ctx} pages the escalation policy but the plan has no [oncall]"
                                ),
                                "add [oncall], or give `targets`",
                            );
                        }
                        StepAction::Page { targets }
                    }
                    StepKind::WaitApproval => {
                        let span = self.at(at_path!["playbooks", name, "steps", i, "quorum"]);
                        let approval = self.approval(
                            st.quorum.unwrap_or_default(),
                            st.roles.as_deref().unwrap_or_default(),
                            span,
                            &ctx,
                        );
                        let timeout = st.timeout.as_ref().and_then(|t| {
                            let span = self.at(at_path!["playbooks", name, "steps", i, "timeout"]);
                            self.duration(t, span, "timeout")
                        });
                        StepAction::WaitApproval { approval, timeout }
                    }
                    StepKind::Announce => {
                        let components = st.components.clone().unwrap_or_default();
                        let defined: Vec<String> = self
                            .raw
                            .status_page
                            .iter()
                            .flat_map(|s| s.components.iter().map(|c| c.id.clone()))
                            .collect();
                        if self.raw.status_page.is_none() {
                            let span = self.at(base);
                            self.error(
                                "unknown-reference",
                                span,
                                format!("{ctx} announces but the plan has no [status_page]"),
                                "add [status_page] with a title and components",
                            );
                        }
                        for (j, c) in components.iter().enumerate() {
                            let span =
                                self.at(at_path!["playbooks", name, "steps", i, "components", j]);
                            self.reference(
                                "status-page component",
                                "status_page.components",
                                c,
                                defined.iter(),
                                span,
                                &ctx,
                            );
                        }
                        StepAction::Announce {
                            status: st.status.unwrap_or(AnnounceStatus::Investigating),
                            message: st.message.clone().unwrap_or_default(),
                            components,
                        }
                    }
                };
                steps.push(Step { id, approval, action });
            }
            out.insert(name.clone(), Playbook { description: pb.description.clone(), steps });
        }
        out
    }

    fn monitors(&mut self) -> BTreeMap<String, Monitor> {
        let mut out = BTreeMap::new();
        for (name, m) in &self.raw.monitors {
            let ctx = format!("monitor `{name}`");
            self.chain_ref(&m.chain, at_path!["monitors", name, "chain"], &ctx);
            for (i, c) in m.contracts.iter().enumerate() {
                let span = self.at(at_path!["monitors", name, "contracts", i]);
                if self.contract_ref(c, span.clone(), &ctx)
                    && let Some(chain) = self
                        .raw
                        .contracts
                        .get(c)
                        .map(|c| &c.chain)
                        .filter(|chain| **chain != m.chain)
                {
                    {
                        self.error(
                            "chain-mismatch",
                            span,
                            format!(
                                "{ctx} runs on `{}` but contract `{c}` is on `{chain}`",
                                m.chain
                            ),
                            "watch contracts of the monitor's chain, or add a monitor per chain",
                        );
                    }
                }
            }
            if m.rule.trim().is_empty() {
                let span = self.at(at_path!["monitors", name, "rule"]);
                self.error(
                    "empty-rule",
                    span,
                    format!("{ctx} has an empty rule"),
                    "write the rule expression (see docs/plan.md)",
                );
            }
            let cooldown = m.cooldown.as_ref().and_then(|c| {
                let span = self.at(at_path!["monitors", name, "cooldown"]);
                self.duration(c, span, "cooldown")
            });
            let span = self.at(at_path!["monitors", name, "playbook"]);
            if self.reference(
                "playbook",
                "playbooks",
                &m.playbook,
                self.raw.playbooks.keys(),
                span.clone(),
                &ctx,
            ) && m.severity == Severity::P1
                && m.enabled != Some(false)
                && self
                    .raw
                    .playbooks
                    .get(&m.playbook)
                    .is_some_and(|p| !p.steps.iter().any(|s| s.kind.contains()))
            {
                self.error(
                    "p1-without-containment",
                    span,
                    format!(
                        "P1 {ctx} runs playbook `{}`, which never pauses or calls a contract",
                        m.playbook
                    ),
                    "add a `pause` (or `call`) step to the playbook, or lower the severity",
                );
            }
            let confirmations = m.confirmations.unwrap_or(match m.severity {
                Severity::P1 | Severity::P2 => 0,
                _ => 1,
            });
            out.insert(
                name.clone(),
                Monitor {
                    description: m.description.clone(),
                    severity: m.severity,
                    chain: m.chain.clone(),
                    contracts: m.contracts.clone(),
                    rule: m.rule.clone(),
                    cooldown,
                    confirmations,
                    playbook: m.playbook.clone(),
                    enabled: m.enabled.unwrap_or(true),
                },
            );
        }
        out
    }

    fn lists(&mut self) -> BTreeMap<String, Vec<Address>> {
        let mut out = BTreeMap::new();
        for (name, items) in &self.raw.lists {
            let mut list = Vec::new();
            for (i, a) in items.iter().enumerate() {
                let span = self.at(at_path!["lists", name, i]);
                if let Some(a) = self.address(a, span, "list entry") {
                    list.push(a);
                }
            }
            out.insert(name.clone(), list);
        }
        out
    }

    fn rule_sites(&self, text: &str) -> Vec<RuleSite> {
        self.raw
            .monitors
            .iter()
            .filter_map(|(name, m)| {
                let value_span = self.at(at_path!["monitors", name, "rule"])?;
                Some(RuleSite {
                    monitor: name.clone(),
                    chain: m.chain.clone(),
                    contracts: m.contracts.clone(),
                    text: m.rule.clone(),
                    content_start: content_start(text, &value_span, &m.rule),
                    value_span,
                })
            })
            .collect()
    }

    fn safe_harbor(&mut self) -> Option<SafeHarbor> {
        let sh = self.raw.safe_harbor.as_ref()?;
        let span = self.at(at_path!["safe_harbor", "bounty_percent"]);
        let bps = sh.bounty_percent * 100.0;
        let bounty_bps = if !(sh.bounty_percent > 0.0 && sh.bounty_percent <= 100.0) {
            self.error(
                "invalid-value",
                span,
                format!("bounty_percent {} is outside (0, 100]", sh.bounty_percent),
                "SEAL Safe Harbor bounties are commonly 10",
            );
            None
        } else if (bps - bps.round()).abs() > 1e-6 {
            self.error(
                "invalid-value",
                span,
                format!("bounty_percent {} has more than two decimals", sh.bounty_percent),
                "round it to a hundredth of a percent",
            );
            None
        } else {
            #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
            Some(bps.round() as u32)
        };
        if sh.bounty_cap_usd == 0 {
            let span = self.at(at_path!["safe_harbor", "bounty_cap_usd"]);
            self.error("invalid-value", span, "bounty_cap_usd is 0", "state the cap in US dollars");
        }
        if let Some(agg) = sh.aggregate_cap_usd.filter(|agg| *agg < sh.bounty_cap_usd) {
            let span = self.at(at_path!["safe_harbor", "aggregate_cap_usd"]);
            self.error(
                "invalid-value",
                span,
                format!(
                    "aggregate cap {agg} USD is below the per-white-hat cap {} USD",
                    sh.bounty_cap_usd
                ),
                "raise aggregate_cap_usd or lower bounty_cap_usd",
            );
        }
        let mut recovery = BTreeMap::new();
        for (chain, addr) in &sh.recovery {
            let span = self.key_at(at_path!["safe_harbor", "recovery", chain]);
            if self.reference(
                "chain",
                "chains",
                chain,
                self.raw.chains.keys(),
                span,
                "the Safe Harbor recovery addresses",
            ) {
                let span = self.at(at_path!["safe_harbor", "recovery", chain]);
                if let Some(a) = self.address(addr, span, "recovery address") {
                    recovery.insert(chain.clone(), a);
                }
            }
        }
        let missing: Vec<&String> =
            self.raw.chains.keys().filter(|c| !sh.recovery.contains_key(*c)).collect();
        for chain in missing {
            let span = self.key_at(at_path!["safe_harbor"]);
            self.warn(
                "no-recovery-address",
                span,
                format!("Safe Harbor has no asset recovery address for chain `{chain}`"),
                format!("add `{chain} = \"0x…\"` under [safe_harbor.recovery]"),
            );
        }
        if sh.contacts.is_empty() {
            let span = self.key_at(at_path!["safe_harbor"]);
            self.warn(
                "no-contacts",
                span,
                "Safe Harbor lists no security contacts",
                "add [[safe_harbor.contacts]] so white hats can reach you",
            );
        }
        Some(SafeHarbor {
            agreement_uri: sh.agreement_uri.clone(),
            bounty_bps: bounty_bps?,
            bounty_cap_usd: sh.bounty_cap_usd,
            aggregate_cap_usd: sh.aggregate_cap_usd,
            retainable: sh.retainable,
            identity: sh.identity,
            diligence: sh.diligence.clone(),
            recovery,
            contacts: sh.contacts.clone(),
        })
    }

    fn war_room(&mut self) -> WarRoom {
        let pool = |roles: &[Role]| {
            self.raw.team.values().filter(|m| m.roles.iter().any(|r| roles.contains(r))).count()
        };
        let fit = |want: usize, pool: usize| u32::try_from(want.min(pool).max(1)).unwrap_or(1);
        let staff = [Role::Commander, Role::Operator];
        let wr = self.raw.war_room.clone().unwrap_or_default();
        let pause = match &wr.pause {
            Some(a) => {
                let span = self.at(at_path!["war_room", "pause"]);
                self.approval(a.quorum, &a.roles, span, "war_room.pause")
            }
            None => Approval { quorum: fit(2, pool(&staff)), roles: staff.to_vec() },
        };
        let unpause = match &wr.unpause {
            Some(a) => {
                let span = self.at(at_path!["war_room", "unpause"]);
                let u = self.approval(a.quorum, &a.roles, span.clone(), "war_room.unpause");
                if u.quorum <= pause.quorum {
                    self.error(
                        "unpause-quorum-too-low",
                        span,
                        format!(
                            "war_room.unpause: quorum {} is not higher than the pause quorum {}",
                            u.quorum, pause.quorum
                        ),
                        format!(
                            "unpausing must take more people than pausing: set `quorum = {}` or more",
                            pause.quorum + 1
                        ),
                    );
                }
                u
            }
            None => {
                let quorum = pause.quorum + 1;
                if quorum as usize > pool(&staff) && self.raw.war_room.is_some() {
                    let span = self.at(at_path!["war_room"]);
                    self.warn(
                        "unpause-quorum-unreachable",
                        span,
                        format!(
                            "the default unpause quorum is {quorum}, but only {} member(s) are commanders or operators",
                            pool(&staff)
                        ),
                        "add `unpause = { quorum = N, roles = [...] }` with roles enough members hold",
                    );
                }
                Approval { quorum, roles: staff.to_vec() }
            }
        };
        let announce = match &wr.announce {
            Some(a) => {
                let span = self.at(at_path!["war_room", "announce"]);
                if a.quorum > 1 {
                    self.error(
                        "announce-quorum-unsupported",
                        span.clone(),
                        format!("war_room.announce: quorum {} — an announcement takes one approval in this version", a.quorum),
                        "set `quorum = 1`; the approver is recorded on the timeline",
                    );
                }
                self.approval(a.quorum, &a.roles, span, "war_room.announce")
            }
            None => Approval { quorum: 1, roles: vec![Role::Commander, Role::Comms] },
        };
        WarRoom { pause, unpause, announce }
    }

    fn status_page(&mut self) {
        let Some(sp) = &self.raw.status_page else { return };
        if sp.title.trim().is_empty() {
            let span = self.at(at_path!["status_page", "title"]);
            self.error("empty-value", span, "the status page has no title", "set `title`");
        }
        let mut ids = BTreeSet::new();
        for (i, c) in sp.components.iter().enumerate() {
            if !ids.insert(&c.id) {
                let span = self.at(at_path!["status_page", "components", i, "id"]);
                self.error(
                    "duplicate-component",
                    span,
                    format!("status-page component `{}` is defined twice", c.id),
                    "give each component a unique id",
                );
            }
        }
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
