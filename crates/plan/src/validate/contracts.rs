//! `[contracts.*]`: addresses, ABIs, and pause and unpause paths encoded
//! to calldata.

use super::*;

impl<'r, 'a> Validator<'r, 'a> {
    pub(super) fn control_path(
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

    pub(super) fn load_abi(
        &mut self,
        name: &str,
        src: &RawAbiSource,
    ) -> Option<alloy_json_abi::JsonAbi> {
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

    pub(super) fn contracts(&mut self) -> BTreeMap<String, Contract> {
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
}
