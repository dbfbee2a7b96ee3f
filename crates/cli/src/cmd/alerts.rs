//! Printing alerts for people (one line plus evidence) and scripts (JSON lines).

use firebreak_detect::Alert;
use firebreak_plan::Plan;

use crate::output;

/// Prints one alert: a JSON object per line with `json`, else a readable block.
pub(crate) fn print_alert(plan: &Plan, a: &Alert, json: bool) {
    if json {
        if let Ok(line) = serde_json::to_string(a) {
            output::out(&line);
        }
        return;
    }
    let explorer =
        plan.chains.values().find(|c| c.id == a.chain_id).and_then(|c| c.explorer.as_ref());
    let mut text = format!(
        "[{}] {}  chain {} block {}  {}",
        a.severity,
        a.monitor,
        a.chain_id,
        a.block_number,
        a.playbook.as_ref().map_or_else(|| "alert only".to_owned(), |p| format!("playbook {p}"))
    );
    match (a.tx_hash, explorer) {
        (Some(tx), Some(e)) => {
            text.push_str(&format!("\n    tx {}", e.tx.replace("{hash}", &tx.to_string())))
        }
        (Some(tx), None) => text.push_str(&format!("\n    tx {tx}")),
        (None, _) => {}
    }
    for (k, v) in &a.evidence {
        text.push_str(&format!("\n    {k} = {v}"));
    }
    for (k, v) in &a.probes {
        text.push_str(&format!("\n    {k} = {v}"));
    }
    output::out(&text);
}
