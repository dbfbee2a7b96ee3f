//! `[signers.*]` and `[safes.*]`: key sources (resolved with
//! `--secrets`), addresses, owners and thresholds, and who may send a
//! control call.

use super::*;

impl<'r, 'a> Validator<'r, 'a> {
    pub(super) fn signers(&mut self) -> BTreeMap<String, Signer> {
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

    pub(super) fn safes(&mut self, signers: &BTreeMap<String, Signer>) -> BTreeMap<String, Safe> {
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
            let mut delegatecall_allow = Vec::new();
            for (i, text) in s.delegatecall_allow.iter().enumerate() {
                let span = self.at(at_path!["safes", name, "delegatecall_allow", i]);
                if let Some(a) = self.address(text, span, "delegatecall target") {
                    delegatecall_allow.push(a);
                }
            }
            let mut standby_owners = Vec::new();
            for (i, text) in s.standby_owners.iter().enumerate() {
                let span = self.at(at_path!["safes", name, "standby_owners", i]);
                if let Some(a) = self.address(text, span.clone(), "standby owner") {
                    if owners.contains(&a) {
                        self.error(
                            "standby-is-owner",
                            span,
                            format!("standby owner {a} is already an owner of Safe `{name}`"),
                            "a standby owner replaces a lost one: give an address that is not an owner today",
                        );
                    } else {
                        standby_owners.push(a);
                    }
                }
            }
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
                        delegatecall_allow,
                        standby_owners,
                    },
                );
            }
        }
        out
    }

    pub(super) fn authorities(
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
}
