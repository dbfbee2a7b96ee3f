//! `[safe_harbor]`, `[war_room]`, `[status_page]` and `[heartbeat]`.

use super::*;

impl<'r, 'a> Validator<'r, 'a> {
    pub(super) fn safe_harbor(&mut self) -> Option<SafeHarbor> {
        let sh = self.raw.safe_harbor.as_ref()?;
        let span = self.at(at_path!["safe_harbor", "bounty_percent"]);
        let bps = sh.bounty_percent * 100.0;
        let bounty_bps = if !(sh.bounty_percent > 0.0 && sh.bounty_percent <= 100.0) {
            self.error(
                "invalid-value",
                span,
                format!("bounty_percent {} is outside (0, 100]", sh.bounty_percent),
                "give the share of the returned funds, above 0 and at most 100 (SEAL Safe Harbor bounties are commonly 10)",
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
        if sh.aggregate_cap_usd.is_some() && sh.retainable {
            let span = self.at(at_path!["safe_harbor", "aggregate_cap_usd"]);
            self.error(
                "safe-harbor-terms",
                span,
                "an aggregate bounty cap and `retainable = true` cannot both be set: a bounty the white hat already kept cannot be scaled down to fit the cap (SEAL Safe Harbor)",
                "remove aggregate_cap_usd, or set retainable = false so that bounties are paid after the funds are returned",
            );
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
            self.error(
                "no-recovery-address",
                span,
                format!(
                    "Safe Harbor has no asset recovery address for chain `{chain}`: white hats who rescue funds there would not know where to send them"
                ),
                format!("add `{chain} = \"0x…\"` under [safe_harbor.recovery] (SEAL: every chain of the agreement has one)"),
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
        let chains = recovery
            .iter()
            .filter_map(|(chain, recovery)| {
                let id = self.raw.chains.get(chain)?.id;
                let mut accounts: Vec<Address> = self
                    .raw
                    .contracts
                    .values()
                    .filter(|c| &c.chain == chain)
                    .filter_map(|c| c.address.parse().ok())
                    .collect();
                accounts.sort();
                accounts.dedup();
                Some(crate::model::SafeHarborChain {
                    chain: chain.clone(),
                    caip2: format!("eip155:{id}"),
                    recovery: *recovery,
                    accounts,
                    child_contract_scope: sh.child_contract_scope,
                })
            })
            .collect();
        let onchain = self.onchain_agreement(sh);
        Some(SafeHarbor {
            onchain,
            chains,
            agreement_uri: sh.agreement_uri.clone(),
            bounty_bps: bounty_bps?,
            bounty_cap_usd: sh.bounty_cap_usd,
            aggregate_cap_usd: sh.aggregate_cap_usd,
            retainable: sh.retainable,
            identity: sh.identity,
            diligence: sh.diligence.clone(),
            recovery,
            contacts: sh
                .contacts
                .iter()
                .map(|c| crate::model::Contact { name: c.name.clone(), contact: c.contact.clone() })
                .collect(),
        })
    }

    /// `registry` + `adopter`, or `agreement`, on `agreement_chain`.
    fn onchain_agreement(
        &mut self,
        sh: &crate::raw::RawSafeHarbor,
    ) -> Option<crate::model::OnchainAgreement> {
        use crate::model::{AgreementAt, OnchainAgreement};
        let addr = |v: &mut Self, key: &str, text: &Option<String>, what: &str| {
            let text = text.as_ref()?;
            let span = v.at(at_path!["safe_harbor", key]);
            v.address(text, span, what)
        };
        let registry = addr(self, "registry", &sh.registry, "registry address");
        let adopter = addr(self, "adopter", &sh.adopter, "adopter address");
        let agreement = addr(self, "agreement", &sh.agreement, "agreement address");
        let at = match (sh.registry.is_some(), sh.adopter.is_some(), sh.agreement.is_some()) {
            (false, false, false) => {
                if sh.agreement_chain.is_some() {
                    let span = self.at(at_path!["safe_harbor", "agreement_chain"]);
                    self.warn(
                        "unused-setting",
                        span,
                        "agreement_chain is set but neither `registry` nor `agreement` is",
                        "add `registry` and `adopter`, or `agreement`, or remove agreement_chain",
                    );
                }
                return None;
            }
            (_, _, true) if sh.registry.is_some() || sh.adopter.is_some() => {
                let span = self.at(at_path!["safe_harbor", "agreement"]);
                self.error(
                    "safe-harbor-onchain",
                    span,
                    "both `agreement` and `registry`/`adopter` are set",
                    "name the agreement contract, or the registry and the adopter, not both",
                );
                return None;
            }
            (_, _, true) => AgreementAt::Agreement(agreement?),
            (true, true, false) => AgreementAt::Registry { registry: registry?, adopter: adopter? },
            (registry_set, _, false) => {
                let (key, missing) =
                    if registry_set { ("registry", "adopter") } else { ("adopter", "registry") };
                let span = self.at(at_path!["safe_harbor", key]);
                self.error(
                    "safe-harbor-onchain",
                    span,
                    format!("`{key}` is set without `{missing}`"),
                    format!(
                        "add `{missing} = \"0x…\"`: the registry is read as getAgreement(adopter)"
                    ),
                );
                return None;
            }
        };
        let chain = if let Some(chain) = &sh.agreement_chain {
            let span = self.at(at_path!["safe_harbor", "agreement_chain"]);
            if !self.reference(
                "chain",
                "chains",
                chain,
                self.raw.chains.keys(),
                span,
                "the on-chain Safe Harbor agreement",
            ) {
                return None;
            }
            chain.clone()
        } else if self.raw.chains.len() == 1 {
            self.raw.chains.keys().next()?.clone()
        } else {
            let key = if sh.agreement.is_some() { "agreement" } else { "registry" };
            let span = self.at(at_path!["safe_harbor", key]);
            self.error(
                "safe-harbor-onchain",
                span,
                "the plan has several chains and does not say which one holds the agreement",
                "add `agreement_chain = \"<chain key>\"` under [safe_harbor]",
            );
            return None;
        };
        Some(OnchainAgreement { chain, at })
    }

    pub(super) fn war_room(&mut self) -> WarRoom {
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

    pub(super) fn heartbeat(&mut self) -> Option<crate::model::Heartbeat> {
        let hb = self.raw.heartbeat.clone()?;
        let mut endpoint = |v: &crate::raw::RawEndpoint, field: &str| {
            let span = self.at(at_path!["heartbeat", field]);
            match v {
                crate::raw::RawEndpoint::Url(url) => self
                    .url(url, span, &["https", "http"], &format!("heartbeat.{field}"))
                    .then(|| crate::model::Endpoint::Url(url.clone())),
                crate::raw::RawEndpoint::Secret(s) => {
                    self.secret(s, span);
                    Some(crate::model::Endpoint::Secret(s.clone()))
                }
            }
        };
        let url = endpoint(&hb.url, "url");
        let fail_url = match &hb.fail_url {
            Some(f) => Some(endpoint(f, "fail_url")?),
            None => None,
        };
        let interval = match &hb.interval {
            None => std::time::Duration::from_secs(60),
            Some(text) => {
                let span = self.at(at_path!["heartbeat", "interval"]);
                let d = self.duration(text, span.clone(), "heartbeat.interval")?;
                if d < std::time::Duration::from_secs(1) {
                    self.error(
                        "invalid-duration",
                        span,
                        format!("heartbeat.interval `{text}` is under one second"),
                        "ping at most once a second, e.g. `1m`",
                    );
                    return None;
                }
                d
            }
        };
        Some(crate::model::Heartbeat { url: url?, fail_url, interval })
    }

    pub(super) fn status_page(&mut self) {
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
