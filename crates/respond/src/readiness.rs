//! Whether every P1 pause path can sign today.
//!
//! "Ready" means every pause path a P1 playbook may take can sign and land
//! its transaction now: each guardian key loads (the variable is set, the
//! keystore decrypts, the key is the address the plan states), and each
//! Safe path has a key to submit `execTransaction` and its hot signers load.
//! A path that cannot is a readiness problem: `firebreak run` refuses to
//! start on one, or (with `--allow-unready`) opens a P1 readiness incident
//! that pages, and `/readyz` answers 503 until it is fixed.

use std::collections::BTreeSet;

use firebreak_plan::{Authority, Plan, StepAction};
use firebreak_primitives::Severity;

/// The monitor id (and playbook) of readiness incidents.
pub const READINESS_MONITOR: &str = "firebreak.readiness";

pub use firebreak_primitives::PathProblem;

/// Contracts paused by playbooks that P1 monitors start, each with those playbooks.
pub(crate) fn p1_pause_targets(plan: &Plan) -> Vec<(String, Vec<String>)> {
    let playbooks: BTreeSet<&str> = plan
        .monitors
        .values()
        .filter(|m| m.enabled && m.severity == Severity::P1)
        .filter_map(|m| m.playbook.as_deref())
        .collect();
    let mut out: Vec<(String, Vec<String>)> = Vec::new();
    for name in playbooks {
        let Some(playbook) = plan.playbooks.get(name) else { continue };
        for step in &playbook.steps {
            let StepAction::Pause { contracts, .. } = &step.action else { continue };
            for c in contracts {
                match out.iter_mut().find(|(k, _)| k == c) {
                    Some((_, list)) if !list.iter().any(|p| p == name) => list.push(name.into()),
                    Some(_) => {}
                    None => out.push((c.clone(), vec![name.to_owned()])),
                }
            }
        }
    }
    out
}

/// Every P1 pause path that cannot sign, given why each signer cannot
/// (`None`: it can).
pub fn p1_path_problems(
    plan: &Plan,
    signer_error: impl Fn(&str) -> Option<String>,
) -> Vec<PathProblem> {
    let mut out = Vec::new();
    for (contract, playbooks) in p1_pause_targets(plan) {
        let Some(path) = plan.contracts.get(&contract).and_then(|c| c.pause.as_ref()) else {
            continue;
        };
        for authority in &path.via {
            let mut problem = |path: String, signer: &str, reason: String| {
                out.push(PathProblem {
                    contract: contract.clone(),
                    path,
                    signer: signer.to_owned(),
                    reason,
                    playbooks: playbooks.clone(),
                    live: false,
                });
            };
            match authority {
                Authority::Signer(s) => {
                    if let Some(reason) = signer_error(s) {
                        problem(format!("signer `{s}`"), s, reason);
                    }
                }
                Authority::Safe(name) => {
                    let Some(safe) = plan.safes.get(name) else { continue };
                    let label = format!("Safe `{name}`");
                    let submitter = safe.relayer.as_ref().or_else(|| safe.hot_signers.first());
                    if submitter.is_none() {
                        problem(
                            label.clone(),
                            name,
                            "no relayer and no hot signer to submit execTransaction; set `relayer` in [safes.NAME]".into(),
                        );
                    }
                    let mut signers: Vec<&String> = safe.hot_signers.iter().collect();
                    signers.extend(safe.relayer.as_ref());
                    signers.sort();
                    signers.dedup();
                    for s in signers {
                        if let Some(reason) = signer_error(s) {
                            problem(label.clone(), s, reason);
                        }
                    }
                }
            }
        }
    }
    out.sort();
    out.dedup();
    out
}
