//! `[chains.*]`: ids, RPC endpoints, confirmations; references to chains
//! and contracts.

use super::*;

impl<'r, 'a> Validator<'r, 'a> {
    pub(super) fn chains(&mut self) -> BTreeMap<String, Chain> {
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
            let mut builders = Vec::new();
            for (i, endpoint) in chain.builders.iter().enumerate() {
                let span = self.at(at_path!["chains", name, "builders", i]);
                match endpoint {
                    RawEndpoint::Url(url) => {
                        if self.url(url, span, &["https", "http"], "builder endpoint") {
                            builders.push(Endpoint::Url(url.clone()));
                        }
                    }
                    RawEndpoint::Secret(s) => {
                        self.secret(s, span);
                        builders.push(Endpoint::Secret(s.clone()));
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
                    explorer: chain.explorer.as_ref().map(|e| crate::model::Explorer {
                        tx: e.tx.clone(),
                        address: e.address.clone(),
                        block: e.block.clone(),
                    }),
                    confirmations,
                    mempool: chain.mempool.unwrap_or_default(),
                    builders,
                },
            );
        }
        out
    }

    pub(super) fn chain_ref(&mut self, name: &str, p: &[Seg<'_>], context: &str) -> bool {
        let span = self.at(p);
        self.reference("chain", "chains", name, self.raw.chains.keys(), span, context)
    }

    pub(super) fn contract_ref(&mut self, name: &str, span: Span, context: &str) -> bool {
        self.reference("contract", "contracts", name, self.raw.contracts.keys(), span, context)
    }
}
