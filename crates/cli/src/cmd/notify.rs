//! `firebreak notify …`

use crate::{Outcome, args::NotifyCommand, cmd::store, output};

pub(crate) fn run(cmd: NotifyCommand) -> eyre::Result<Outcome> {
    let NotifyCommand::Test { plan, channels, json } = cmd;
    let Some(plan) = super::valid_plan(&plan)? else { return Ok(Outcome::Invalid) };
    for c in &channels {
        if !plan.channels.contains_key(c) {
            let known: Vec<&String> = plan.channels.keys().collect();
            output::error(&format!("error: the plan has no channel `{c}` (channels: {known:?})"));
            return Ok(Outcome::Invalid);
        }
    }
    let http = reqwest::Client::new();
    let results = store::runtime()?.block_on(async {
        let mut results = Vec::new();
        for (id, raw) in &plan.channels {
            if !channels.is_empty() && !channels.contains(id) {
                continue;
            }
            let outcome = firebreak_notify::send_test(&http, &plan, id, "test").await;
            results.push((id.clone(), raw.kind().as_str(), outcome));
        }
        eyre::Ok(results)
    })?;
    let failed = results.iter().filter(|(_, _, r)| r.is_err()).count();
    if json {
        let doc: Vec<serde_json::Value> = results
            .iter()
            .map(|(id, kind, r)| serde_json::json!({"channel": id, "kind": kind, "delivered": r.is_ok(), "error": r.as_ref().err()}))
            .collect();
        output::out(&serde_json::to_string_pretty(&doc)?);
    } else {
        for (id, kind, r) in &results {
            match r {
                Ok(()) => output::out(&format!("delivered  {id} ({kind})")),
                Err(e) => output::out(&format!("FAILED     {id} ({kind}): {e}")),
            }
        }
        output::out(&format!(
            "\n{} of {} channel(s) delivered",
            results.len() - failed,
            results.len()
        ));
    }
    Ok(if failed == 0 { Outcome::Ok } else { Outcome::Failed })
}
