//! `firebreak safe …`

use std::io::{BufRead as _, IsTerminal as _};

use alloy_signer_local::PrivateKeySigner;
use eyre::{WrapErr as _, bail};
use firebreak_plan::Plan;
use firebreak_primitives::Actor;
use firebreak_respond::ChainLink;
use firebreak_safe::SafeTx;
use firebreak_store::{ActionKind, ActionStatus};
use secrecy::SecretString;

use crate::{
    Outcome,
    args::{KeyArgs, SafeCommand},
    cmd::store::{self, incident_id},
    output,
};
use firebreak_store::prelude::*;

pub(crate) fn run(cmd: SafeCommand) -> eyre::Result<Outcome> {
    match cmd {
        SafeCommand::Sign { incident, plan, key, member, yes, override_reason, db } => {
            let Some(plan) = super::valid_plan(&plan)? else { return Ok(Outcome::Invalid) };
            let id = incident_id(&incident)?;
            let signer = load_key(&key)?
                .ok_or_else(|| eyre::eyre!("give your key: --keystore FILE or --key-env VAR"))?;
            store::runtime()?.block_on(async move {
                let store = store::open(&db, false).await?;
                let waiting: Vec<_> = store
                    .actions(id)
                    .await?
                    .into_iter()
                    .filter(|a| a.kind == ActionKind::Safe && a.status == ActionStatus::AwaitingSignatures)
                    .collect();
                let Some(action) = waiting.first() else {
                    bail!("incident {id} has no Safe transaction waiting for signatures (see `firebreak incident show {id}`)");
                };
                let link = link_for(&plan, action.chain_id).await?;
                let tx: SafeTx = serde_json::from_value(action.safe_tx.clone().unwrap_or_default())
                    .wrap_err("the stored SafeTx does not decode")?;
                let hash = action.safe_tx_hash.unwrap_or_default();
                // what a hardware wallet shows, and every call decoded
                let review = firebreak_safe::review(&tx, action.chain_id, action.to, &|to, data| plan.describe_call(action.chain_id, to, data));
                if review.safe_tx_hash != hash {
                    bail!("the stored SafeTx hashes to {} but the action records {hash}; do not sign", review.safe_tx_hash);
                }
                for line in review.lines(std::io::stdout().is_terminal()) {
                    output::out(&line);
                }
                output::out(&format!("signer        {}", signer.address()));
                output::out("Compare the domain, message and SafeTx hashes with the ones your hardware wallet shows before you sign.");
                let allowed = plan.safes.values().find(|s| s.address == action.to).map(|s| s.delegatecall_targets()).unwrap_or_default();
                let outside = firebreak_safe::delegatecalls_outside(&review, &allowed);
                if !outside.is_empty() {
                    let targets: Vec<String> = outside.iter().map(ToString::to_string).collect();
                    let commander = member.as_ref().and_then(|m| plan.team.get(m)).is_some_and(|m| m.roles.contains(&firebreak_primitives::Role::Commander));
                    match (&override_reason, commander) {
                        (Some(reason), true) if !reason.trim().is_empty() => {
                            let e = firebreak_primitives::Event::DelegatecallOverride(firebreak_primitives::event::DelegatecallOverride {
                                safe_tx_hash: hash.to_string(),
                                targets: targets.clone(),
                                member: member.clone().unwrap_or_default(),
                                reason: reason.trim().to_owned(),
                            });
                            store.append(id, Actor::Member(member.clone().unwrap_or_default()), e).await?;
                            output::error(&format!("warning: DELEGATECALL to {} outside the plan's allow-list, signed on the commander's override (on the timeline)", targets.join(", ")));
                        }
                        _ => bail!(
                            "refusing to sign: the SafeTx makes a DELEGATECALL to {}, which is not in the plan's allow-list for this Safe (its `multisend` and `delegatecall_allow`). A delegate call runs that contract's code with the Safe's storage and funds. If it is intended, a commander signs with --as NAME --override \"REASON\" (recorded on the timeline)",
                            targets.join(", ")
                        ),
                    }
                }
                if !yes && !confirm("sign it? [y/N] ")? {
                    output::error("not signed");
                    return Ok(Outcome::Ok);
                }
                let actor = member.map_or_else(|| Actor::External(signer.address().to_string()), Actor::Member);
                let s = firebreak_respond::submit_signature(&*store, &link, action, &signer, actor).await?;
                if !s.new {
                    output::out(&format!("{} had already signed; {} of {} signatures", s.owner, s.have, s.threshold));
                } else if s.have as u64 >= s.threshold {
                    output::out(&format!("signature recorded: {} of {} — the daemon executes the pause now", s.have, s.threshold));
                } else {
                    output::out(&format!("signature recorded: {} of {} — {} more owner(s) must sign", s.have, s.threshold, s.threshold - s.have as u64));
                }
                Ok(Outcome::Ok)
            })
        }
        SafeCommand::Allow { plan, safe, hash, member, reason, json, db } => {
            let Some(plan) = super::valid_plan(&plan)? else { return Ok(Outcome::Invalid) };
            allow(&plan, &safe, hash.as_deref(), member.as_deref(), reason.as_deref(), json, &db)
        }
        SafeCommand::Presign { plan, safe, key, hot, json, db } => {
            let Some(plan) = super::valid_plan(&plan)? else { return Ok(Outcome::Invalid) };
            let Some(s) = plan.safes.get(&safe) else {
                let known: Vec<&String> = plan.safes.keys().collect();
                bail!("the plan has no Safe `{safe}` (Safes: {known:?})");
            };
            let mut keys: Vec<(String, PrivateKeySigner)> = Vec::new();
            if let Some(k) = load_key(&key)? {
                keys.push((format!("key:{}", k.address()), k));
            }
            if hot {
                for h in &s.hot_signers {
                    let signer = &plan.signers[h];
                    let k = firebreak_plan::load_signer(h, signer, &plan.base_dir)
                        .map_err(|e| eyre::eyre!("hot signer `{h}`: {e} ({})", e.hint()))?;
                    keys.push((format!("hot:{h}"), k));
                }
            }
            if keys.is_empty() {
                bail!("nothing to sign with: give --keystore FILE, --key-env VAR or --hot");
            }
            let chain_id = plan.chains.get(&s.chain).map(|c| c.id).unwrap_or_default();
            store::runtime()?.block_on(async move {
                let store = store::open(&db, true).await?;
                let link = link_for(&plan, chain_id).await?;
                let refs: Vec<(String, &PrivateKeySigner)> = keys.iter().map(|(n, k)| (n.clone(), k)).collect();
                let out = firebreak_respond::presign(&plan, &link, &*store, &safe, &refs).await?;
                if json {
                    output::out(&serde_json::to_string_pretty(&serde_json::json!({
                        "safe": safe, "nonce": out.nonce, "safe_tx_hash": out.safe_tx_hash.to_string(),
                        "contracts": out.contracts, "signatures": out.have, "threshold": out.threshold,
                    }))?);
                } else {
                    output::out(&format!(
                        "pre-signed the pause of {} through Safe `{safe}` at nonce {}: SafeTx {} — {} of {} signatures{}",
                        out.contracts.join(", "),
                        out.nonce,
                        out.safe_tx_hash,
                        out.have,
                        out.threshold,
                        if (out.have as u64) < out.threshold { " (more owners must run this command)" } else { " — ready" }
                    ));
                }
                Ok(Outcome::Ok)
            })
        }
    }
}

/// `firebreak safe allow`: one hash onto the allow-list, or the list.
fn allow(
    plan: &Plan,
    safe: &str,
    hash: Option<&str>,
    member: Option<&str>,
    reason: Option<&str>,
    json: bool,
    db: &crate::args::DbArgs,
) -> eyre::Result<Outcome> {
    use firebreak_primitives::Role;
    use firebreak_store::AlertStore as _;
    let Some(s) = plan.safes.get(safe) else {
        let known: Vec<&String> = plan.safes.keys().collect();
        bail!("the plan has no Safe `{safe}` (Safes: {known:?})");
    };
    let chain_id = plan.chains.get(&s.chain).map(|c| c.id).unwrap_or_default();
    let entry = match hash {
        None => None,
        Some(text) => {
            let safe_tx_hash: alloy::primitives::B256 = text.parse().map_err(|_| {
                eyre::eyre!("`{text}` is not a SafeTx hash: give the 32-byte hash (0x and 64 hex digits) your hardware wallet shows")
            })?;
            let Some(member) = member else { bail!("say who approved it: --as MEMBER") };
            let Some(m) = plan.team.get(member) else {
                bail!("`{member}` is not in the plan's [team]");
            };
            if !m.roles.iter().any(|r| matches!(r, Role::Commander | Role::Operator | Role::Signer))
            {
                bail!(
                    "`{member}` is not a commander, operator or signer: only they approve Safe transactions"
                );
            }
            let reason = reason.map(str::trim).filter(|r| !r.is_empty()).ok_or_else(|| {
                eyre::eyre!("say why the team approved it: --reason TEXT (kept with the hash)")
            })?;
            Some(firebreak_store::AllowedSafeTx {
                chain_id,
                safe: s.address,
                safe_tx_hash,
                member: member.to_owned(),
                reason: reason.to_owned(),
                at_ms: firebreak_primitives::now_ms(),
            })
        }
    };
    store::runtime()?.block_on(async move {
        let store = store::open(db, entry.is_some()).await?;
        if let Some(entry) = entry {
            let new = store.allow_safe_tx(entry.clone()).await?;
            if json {
                output::out(&serde_json::to_string_pretty(
                    &serde_json::json!({ "allowed": entry, "new": new }),
                )?);
            } else if new {
                output::out(&format!(
                    "allowed SafeTx {} on Safe `{safe}` ({}), by {}: {}",
                    entry.safe_tx_hash, entry.safe, entry.member, entry.reason
                ));
            } else {
                output::out(&format!(
                    "SafeTx {} was already on the allow-list",
                    entry.safe_tx_hash
                ));
            }
            return Ok(Outcome::Ok);
        }
        let list: Vec<_> = store
            .allowed_safe_txs(chain_id)
            .await?
            .into_iter()
            .filter(|a| a.safe == s.address)
            .collect();
        if json {
            output::out(&serde_json::to_string_pretty(&list)?);
        } else if list.is_empty() {
            output::out(&format!("Safe `{safe}` has no SafeTx hash on its allow-list"));
        } else {
            for a in &list {
                output::out(&format!("{}  by {}: {}", a.safe_tx_hash, a.member, a.reason));
            }
        }
        Ok(Outcome::Ok)
    })
}

async fn link_for(plan: &Plan, chain_id: u64) -> eyre::Result<ChainLink> {
    let Some((key, _)) = plan.chains.iter().find(|(_, c)| c.id == chain_id) else {
        bail!("the plan has no chain with id {chain_id}");
    };
    firebreak_respond::connect_link(plan, key)
        .await
        .wrap_err_with(|| format!("cannot reach chain `{key}`"))
}

fn load_key(k: &KeyArgs) -> eyre::Result<Option<PrivateKeySigner>> {
    if let Some(var) = &k.key_env {
        return firebreak_plan::key_from_env(var)
            .map(Some)
            .map_err(|e| eyre::eyre!("{e} ({})", e.hint()));
    }
    let Some(path) = &k.keystore else { return Ok(None) };
    let password = match &k.password_env {
        Some(var) => SecretString::from(
            std::env::var(var)
                .map_err(|_| eyre::eyre!("environment variable `{var}` is not set"))?,
        ),
        None => {
            if !std::io::stdin().is_terminal() {
                bail!("no terminal to ask the keystore password on: pass --password-env VAR");
            }
            SecretString::from(rpassword::prompt_password("keystore password: ")?)
        }
    };
    firebreak_plan::key_from_keystore(path, &password)
        .map(Some)
        .map_err(|e| eyre::eyre!("{e} ({})", e.hint()))
}

fn confirm(question: &str) -> eyre::Result<bool> {
    output::error_raw(question);
    let mut line = String::new();
    std::io::stdin().lock().read_line(&mut line)?;
    Ok(matches!(line.trim(), "y" | "Y" | "yes"))
}
