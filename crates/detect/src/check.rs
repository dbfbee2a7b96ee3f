//! Rule checks wired into `firebreak check`, and monitors built from a plan.

use std::{collections::BTreeMap, path::Path};

use alloy_primitives::Address;
use firebreak_plan::{CheckOptions, Checked, Contract, Diagnostic, NamedAccounts, Plan, RuleSite};

use crate::{
    compile::{ContractRef, RuleContext, compile_ast},
    engine::MonitorSpec,
    syntax::parse,
};

/// The compile context of one monitor.
pub fn rule_context<'a>(
    contracts: &'a BTreeMap<String, Contract>,
    lists: &BTreeMap<String, Vec<Address>>,
    accounts: &NamedAccounts,
    chain: &str,
    monitor_contracts: &[String],
) -> RuleContext<'a> {
    let mut lists = lists.clone();
    let values = |m: &BTreeMap<String, Address>| m.values().copied().collect::<Vec<_>>();
    let mut authorities = values(&accounts.signers);
    authorities.extend(values(&accounts.safes));
    lists.insert("plan.signers".into(), values(&accounts.signers));
    lists.insert("plan.safes".into(), values(&accounts.safes));
    lists.insert("plan.authorities".into(), authorities);
    lists.insert("plan.team".into(), values(&accounts.team));
    lists.insert("plan.contracts".into(), contracts.values().map(|c| c.address).collect());
    lists.insert("plan.delegatecall_allow".into(), accounts.delegatecall_allow.clone());
    let mut named = BTreeMap::new();
    for m in [&accounts.team, &accounts.safes, &accounts.signers] {
        named.extend(m.iter().map(|(k, a)| (k.clone(), *a)));
    }
    let safes = accounts
        .safes
        .iter()
        .filter_map(|(k, a)| Some((k.clone(), (accounts.safe_chains.get(k)?.clone(), *a))))
        .collect();
    RuleContext {
        accounts: named,
        safes,
        contracts: contracts
            .iter()
            .map(|(k, c)| {
                (k.clone(), ContractRef { chain: &c.chain, address: c.address, abi: &c.abi })
            })
            .collect(),
        lists,
        chain: chain.to_owned(),
        monitor_contracts: monitor_contracts.to_vec(),
        expected_pausers: Vec::new(),
    }
}

/// Addresses of every signer and Safe named in a pause or unpause path.
fn expected_pausers(plan: &Plan) -> Vec<Address> {
    let mut out = Vec::new();
    for c in plan.contracts.values() {
        for path in [&c.pause, &c.unpause].into_iter().flatten() {
            for via in &path.via {
                let a = match via {
                    firebreak_plan::Authority::Signer(s) => {
                        plan.signers.get(s).and_then(|s| s.address)
                    }
                    firebreak_plan::Authority::Safe(s) => plan.safes.get(s).map(|s| s.address),
                };
                out.extend(a);
            }
        }
    }
    out.sort();
    out.dedup();
    out
}

fn locate(site: &RuleSite, span: &std::ops::Range<usize>) -> std::ops::Range<usize> {
    match site.content_start {
        Some(start) => {
            let end = site.value_span.end;
            (start + span.start).min(end)..(start + span.end).min(end)
        }
        None => site.value_span.clone(),
    }
}

/// Compiles every monitor rule of a checked plan and adds positioned
/// diagnostics for those that do not parse or do not fit the plan.
pub fn check_rules(checked: &mut Checked) {
    let mut found = Vec::new();
    for site in &checked.parts.rules {
        if site.text.trim().is_empty() {
            continue; // reported by the plan checks
        }
        let ctx = rule_context(
            &checked.parts.contracts,
            &checked.parts.lists,
            &checked.parts.accounts,
            &site.chain,
            &site.contracts,
        );
        let (code, err) = match parse(&site.text) {
            Err(err) => ("rule-syntax", err),
            Ok(ast) => match compile_ast(&ast, &site.text, &ctx) {
                Ok(_) => continue,
                Err(err) => ("rule-invalid", err),
            },
        };
        // A rule naming a contract that failed to load has that error already.
        if err.message.starts_with("no contract `") {
            let name = err.message.split('`').nth(1).unwrap_or_default();
            if checked.report.file.text().contains(&format!("[contracts.{name}")) {
                continue;
            }
        }
        found.push(
            Diagnostic::error(code, format!("monitor `{}`: {}", site.monitor, err.message))
                .with_span(Some(locate(site, &err.span)))
                .with_hint(err.hint),
        );
    }
    checked.extend(found);
}

/// `firebreak check`: the plan checks plus every rule compiled.
///
/// # Errors
/// When the file cannot be read.
pub fn check_file(path: &Path, opts: &CheckOptions) -> firebreak_plan::Result<Checked> {
    let mut checked = firebreak_plan::check_file(path, opts)?;
    check_rules(&mut checked);
    Ok(checked)
}

/// [`check_file`] for text in memory.
pub fn check_source(name: &str, text: &str, base_dir: &Path, opts: &CheckOptions) -> Checked {
    let mut checked = firebreak_plan::check_source(name, text, base_dir, opts);
    check_rules(&mut checked);
    checked
}

/// Builds the runnable monitors of a valid plan (enabled ones only).
///
/// # Errors
/// `(monitor, message)` for a rule that does not compile; [`check_file`]
/// reports the same problems with positions.
pub fn monitor_specs(plan: &Plan) -> Result<Vec<MonitorSpec>, (String, String)> {
    let mut out = Vec::new();
    for (id, m) in &plan.monitors {
        if !m.enabled {
            continue;
        }
        let mut ctx = rule_context(
            &plan.contracts,
            &plan.lists,
            &plan.named_accounts(),
            &m.chain,
            &m.contracts,
        );
        ctx.expected_pausers = expected_pausers(plan);
        let rule = crate::compile::compile(&m.rule, &ctx).map_err(|e| (id.clone(), e.message))?;
        let chain_id = plan
            .chains
            .get(&m.chain)
            .map(|c| c.id)
            .ok_or_else(|| (id.clone(), format!("unknown chain `{}`", m.chain)))?;
        out.push(MonitorSpec {
            id: id.clone(),
            severity: m.severity,
            chain_id,
            rule,
            cooldown_secs: m.cooldown.map_or(0, |d| d.as_secs()),
            // none for an alert-only monitor: its alerts open no incident
            playbook: m.playbook.clone(),
            confirmations: m.confirmations,
        });
    }
    Ok(out)
}
