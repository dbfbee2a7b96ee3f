//! `[recovery]`: tracing depth, dust, prices, labels, the message signer,
//! the message approvers and the bounty payer.

use super::*;

/// Most hops a trace may follow.
const MAX_HOPS: u32 = 10;
/// Largest label file read.
const LABELS_MAX_BYTES: u64 = 16 * 1024 * 1024;

impl Validator<'_, '_> {
    pub(super) fn recovery(
        &mut self,
        contracts: &BTreeMap<String, Contract>,
        safes: &BTreeMap<String, Safe>,
        lists: &BTreeMap<String, Vec<Address>>,
        playbooks: &BTreeMap<String, Playbook>,
    ) -> Recovery {
        let raw = self.raw.recovery.clone().unwrap_or_default();
        let trace_hops = raw.trace_hops.unwrap_or(3);
        if !(1..=MAX_HOPS).contains(&trace_hops) {
            let span = self.at(at_path!["recovery", "trace_hops"]);
            self.error(
                "invalid-value",
                span,
                format!("trace_hops {trace_hops} is outside 1–{MAX_HOPS}"),
                "follow 1 to 10 hops (3 is the default)",
            );
        }
        let mut prices = BTreeMap::new();
        for (asset, price) in &raw.prices {
            let key_span = self.key_at(at_path!["recovery", "prices", asset]);
            if asset != "eth"
                && !self.reference(
                    "contract",
                    "contracts",
                    asset,
                    contracts.keys(),
                    key_span,
                    "the recovery prices (or `eth` for the native coin)",
                )
            {
                continue;
            }
            let span = self.at(at_path!["recovery", "prices", asset]);
            match price {
                RawPrice::Fixed(usd) if usd.is_finite() && *usd > 0.0 && *usd < 1e15 => {
                    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
                    prices.insert(asset.clone(), Price::Fixed((usd * 1e6).round() as u128));
                }
                RawPrice::Fixed(usd) => self.error(
                    "invalid-value",
                    span,
                    format!("price {usd} of `{asset}` is not a positive number of USD"),
                    "give the USD price of one whole unit (e.g. 1 for a dollar stablecoin)",
                ),
                RawPrice::Feed { feed } => {
                    let span = self.at(at_path!["recovery", "prices", asset, "feed"]);
                    if let Some(a) = self.address(feed, span, "price feed") {
                        prices.insert(asset.clone(), Price::Feed(a));
                    }
                }
            }
        }
        let mut labels = BTreeMap::new();
        for (key, c) in contracts {
            let label =
                AddressLabel { label: format!("contract `{key}`"), kind: LabelKind::Protocol };
            labels.insert(c.address, label);
        }
        for (key, s) in safes {
            let label = AddressLabel { label: format!("Safe `{key}`"), kind: LabelKind::Protocol };
            labels.insert(s.address, label);
        }
        for (name, items) in lists {
            let kind = list_kind(name);
            for a in items {
                labels
                    .entry(*a)
                    .or_insert_with(|| AddressLabel { label: format!("list `{name}`"), kind });
            }
        }
        for (i, file) in raw.label_files.iter().enumerate() {
            let span = self.at(at_path!["recovery", "label_files", i]);
            let path = self.base_dir.join(file);
            match crate::bounded::read_text(&path, LABELS_MAX_BYTES) {
                Ok(text) => match parse_labels(&text) {
                    Ok(found) => labels.extend(found),
                    Err((line, why)) => self.error(
                        "label-file",
                        span,
                        format!("{file}:{line}: {why}"),
                        "write one `address,label,kind` per line (kinds: bridge, mixer, exchange, sanctioned, protocol, whitehat, other)",
                    ),
                },
                Err(e) => self.error(
                    "label-file",
                    span,
                    format!("cannot read label file `{file}`: {e}"),
                    "give a CSV file's path relative to the plan",
                ),
            }
        }
        for (i, l) in raw.labels.iter().enumerate() {
            let span = self.at(at_path!["recovery", "labels", i, "address"]);
            if let Some(a) = self.address(&l.address, span, "labelled address") {
                labels.insert(a, AddressLabel { label: l.label.clone(), kind: l.kind });
            }
        }
        let message_signer = raw.message_signer.as_ref().and_then(|id| {
            let span = self.at(at_path!["recovery", "message_signer"]);
            if !self.reference("signer", "signers", id, self.raw.signers.keys(), span.clone(), "on-chain messages") {
                return None;
            }
            let pauses = contracts.iter().find(|(_, c)| {
                c.pause.as_ref().is_some_and(|p| {
                    p.via.iter().any(|v| matches!(v, Authority::Signer(s) if s == id))
                })
            });
            if let Some((key, _)) = pauses {
                self.error(
                    "message-signer-pauses",
                    span,
                    format!("signer `{id}` pauses `{key}`: a message it sends could hold up a pause's nonce"),
                    "name a signer of its own for on-chain messages",
                );
                return None;
            }
            Some(id.clone())
        });
        let message_approvers =
            raw.message_approvers.clone().unwrap_or(vec![Role::Liaison, Role::Commander]);
        // approvers matter once the plan can send messages
        let sends = message_signer.is_some();
        for role in message_approvers.iter().filter(|_| sends) {
            if !self.raw.team.values().any(|m| m.roles.contains(role)) {
                let span = self.at(at_path!["recovery", "message_approvers"]);
                self.warn(
                    "no-approver",
                    span.or_else(|| self.key_at(at_path!["recovery"])),
                    format!(
                        "no team member holds role `{}`, which approves messages to attackers",
                        role.as_str()
                    ),
                    format!(
                        "give a member the `{}` role, or set [recovery] message_approvers",
                        role.as_str()
                    ),
                );
            }
        }
        let bounty_safe = raw.bounty_safe.as_ref().and_then(|id| {
            let span = self.at(at_path!["recovery", "bounty_safe"]);
            self.reference("Safe", "safes", id, safes.keys(), span, "bounty payments")
                .then(|| id.clone())
        });
        let bounty_token = raw.bounty_token.as_ref().and_then(|id| {
            let span = self.at(at_path!["recovery", "bounty_token"]);
            if !self.reference(
                "contract",
                "contracts",
                id,
                contracts.keys(),
                span.clone(),
                "bounty payments",
            ) {
                return None;
            }
            if !prices.contains_key(id) {
                self.error(
                    "no-price",
                    span,
                    format!(
                        "bounty_token `{id}` has no price: a USD bounty cannot be converted into it"
                    ),
                    format!("add `{id} = <USD per token>` under [recovery.prices]"),
                );
            }
            Some(id.clone())
        });
        let channels = if let Some(list) = &raw.channels {
            let mut out = Vec::new();
            for (i, c) in list.iter().enumerate() {
                let span = self.at(at_path!["recovery", "channels", i]);
                if self.reference(
                    "channel",
                    "channels",
                    c,
                    self.raw.channels.keys(),
                    span,
                    "recovery",
                ) {
                    out.push(c.clone());
                }
            }
            out
        } else {
            let mut out: Vec<String> = playbooks
                .values()
                .flat_map(|p| &p.steps)
                .filter_map(|s| match &s.action {
                    StepAction::Notify { channels, .. } => Some(channels.clone()),
                    _ => None,
                })
                .flatten()
                .collect();
            out.sort();
            out.dedup();
            out
        };
        Recovery {
            channels,
            trace_hops: trace_hops.clamp(1, MAX_HOPS),
            dust_micro_usd: u128::from(raw.dust_usd.unwrap_or(100)) * 1_000_000,
            prices,
            labels,
            message_signer,
            message_approvers,
            bounty_safe,
            bounty_token,
        }
    }
}

/// A plan list's kind, by its name (`bridges`, `cex_deposits` …).
fn list_kind(name: &str) -> LabelKind {
    let n = name.to_ascii_lowercase();
    if n.contains("bridge") {
        LabelKind::Bridge
    } else if n.contains("mixer") || n.contains("tornado") {
        LabelKind::Mixer
    } else if n.contains("exchange") || n.contains("cex") {
        LabelKind::Exchange
    } else if n.contains("sanction") || n.contains("ofac") {
        LabelKind::Sanctioned
    } else {
        LabelKind::Other
    }
}

/// Parses a label file: `address,label,kind` per line; blank lines, `#`
/// comments and a header line are skipped.
///
/// # Errors
/// The first bad line (1-based) and why.
pub fn parse_labels(text: &str) -> Result<BTreeMap<Address, AddressLabel>, (usize, String)> {
    let mut out = BTreeMap::new();
    for (i, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let fields: Vec<&str> = line.split(',').map(str::trim).collect();
        if i == 0 && fields.first().is_some_and(|f| f.eq_ignore_ascii_case("address")) {
            continue;
        }
        let [address, label, kind] = fields[..] else {
            return Err((
                i + 1,
                format!("{} fields, expected 3 (address,label,kind)", fields.len()),
            ));
        };
        let address: Address =
            address.parse().map_err(|e| (i + 1, format!("`{address}` is not an address: {e}")))?;
        let kind =
            LabelKind::parse(kind).ok_or_else(|| (i + 1, format!("unknown kind `{kind}`")))?;
        out.insert(address, AddressLabel { label: label.to_owned(), kind });
    }
    Ok(out)
}
