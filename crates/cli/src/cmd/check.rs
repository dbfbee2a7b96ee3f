//! `firebreak check`

use eyre::WrapErr as _;
use firebreak_detect::check_file;
use firebreak_plan::{CheckOptions, Checked, Plan};

use crate::{Outcome, args::CheckArgs, output};

pub(crate) fn run(args: &CheckArgs) -> eyre::Result<Outcome> {
    let opts = CheckOptions { resolve_secrets: args.secrets };
    let mut failed = false;
    let mut json = Vec::new();
    for path in &args.plans {
        let checked = check_file(path, &opts)
            .wrap_err_with(|| format!("cannot check `{}`", path.display()))?;
        let fails = checked.report.fails(args.strict);
        failed |= fails;
        if args.json {
            let mut value = checked.report.to_json();
            value["valid"] = serde_json::Value::Bool(!fails);
            json.push(value);
        } else {
            output::error_raw(&checked.report.render());
            output::out(&summary(&checked, fails, args.strict));
        }
    }
    if args.json {
        output::out(&serde_json::to_string_pretty(&json)?);
    }
    Ok(if failed { Outcome::Invalid } else { Outcome::Ok })
}

fn plural(n: usize, word: &str) -> String {
    format!("{n} {word}{}", if n == 1 { "" } else { "s" })
}

fn summary(checked: &Checked, fails: bool, strict: bool) -> String {
    let r = &checked.report;
    let counts = format!("{}, {}", plural(r.errors(), "error"), plural(r.warnings(), "warning"));
    match (&checked.plan, fails) {
        (Some(plan), false) => format!("{}: valid ({counts}) — {}", r.file.name(), contents(plan)),
        (_, true) if r.errors() == 0 && strict => {
            format!("{}: invalid under --strict ({counts})", r.file.name())
        }
        _ => format!("{}: invalid ({counts})", r.file.name()),
    }
}

fn contents(plan: &Plan) -> String {
    let pausable = plan.contracts.values().filter(|c| c.pause.is_some()).count();
    let p1 = plan.monitors.values().filter(|m| m.severity.is_critical()).count();
    [
        plural(plan.chains.len(), "chain"),
        format!("{} ({pausable} pausable)", plural(plan.contracts.len(), "contract")),
        plural(plan.signers.len(), "signer"),
        plural(plan.safes.len(), "safe"),
        plural(plan.team.len(), "member"),
        plural(plan.channels.len(), "channel"),
        format!("{} ({p1} P1)", plural(plan.monitors.len(), "monitor")),
        plural(plan.playbooks.len(), "playbook"),
    ]
    .join(", ")
}
