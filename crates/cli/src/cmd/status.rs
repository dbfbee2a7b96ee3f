//! `firebreak status`: which daemons are up, from their heartbeats in the
//! store.

use firebreak_store::{LeaseStore as _, LeaseTable, ReplicaBeat, ReplicaStore as _};

use crate::{Outcome, args::StatusArgs, cmd::store, output};

/// A replica beats every 5 s; one whose last beat is older than this is
/// silent (stopped, killed, hung or cut off from the store).
const SILENT_AFTER_MS: u64 = 30_000;

pub(crate) fn run(args: &StatusArgs) -> eyre::Result<Outcome> {
    let (replicas, leases) = store::runtime()?.block_on(async {
        let store = store::open(&args.db, false).await?;
        eyre::Ok((store.replicas().await?, store.leases().await?))
    })?;
    let now = firebreak_primitives::now_ms();
    let silent = |r: &ReplicaBeat| now.saturating_sub(r.beat_ms) > SILENT_AFTER_MS;
    if args.json {
        let list: Vec<serde_json::Value> = replicas
            .iter()
            .map(|r| {
                let mut v = serde_json::to_value(r).unwrap_or_default();
                v["silent"] = silent(r).into();
                v["beat_age_ms"] = now.saturating_sub(r.beat_ms).into();
                v
            })
            .collect();
        let up = replicas.iter().filter(|r| !silent(r)).count();
        let leases: Vec<serde_json::Value> = leases
            .leases
            .iter()
            .map(|l| {
                let mut v = serde_json::to_value(l).unwrap_or_default();
                v["held"] = (l.expires_ms >= leases.now_ms).into();
                v
            })
            .collect();
        output::out(&serde_json::to_string_pretty(
            &serde_json::json!({"replicas": list, "up": up, "leases": leases}),
        )?);
        return Ok(if up == 0 { Outcome::Failed } else { Outcome::Ok });
    }
    if replicas.is_empty() {
        output::out("no daemon has run on this store yet (start one with `firebreak run PLAN`)");
        return Ok(Outcome::Failed);
    }
    for r in &replicas {
        let age = now.saturating_sub(r.beat_ms) / 1000;
        let state = match (silent(r), r.ready) {
            (true, _) => "SILENT",
            (false, true) => "up, ready",
            (false, false) => "up, NOT READY",
        };
        output::out(&format!(
            "{}  {state}  (host {}, pid {}, last beat {age} s ago)",
            r.replica, r.host, r.pid
        ));
        for c in &r.chains {
            let n = |v: Option<u64>| v.map_or_else(|| "?".to_owned(), |v| v.to_string());
            output::out(&format!(
                "  {}: head {}, processed {}, lag {}",
                c.chain,
                n(c.head),
                n(c.processed),
                c.lag().map_or_else(|| "?".to_owned(), |l| format!("{l} block(s)"))
            ));
        }
    }
    print_leases(&leases);
    let up = replicas.iter().filter(|r| !silent(r)).count();
    if up == 0 {
        output::error("no daemon is up: nothing watches the protocol");
        return Ok(Outcome::Failed);
    }
    Ok(Outcome::Ok)
}

/// Who acts: each lease's holder and epoch, or that nobody holds it.
fn print_leases(table: &LeaseTable) {
    if table.leases.is_empty() {
        return;
    }
    output::out("leases (the replica holding them acts; the others stand by):");
    for l in &table.leases {
        if l.expires_ms >= table.now_ms {
            let left = (l.expires_ms - table.now_ms) as f64 / 1000.0;
            output::out(&format!(
                "  {}  held by {} at epoch {} ({left:.1} s left)",
                l.name, l.holder, l.epoch
            ));
        } else {
            let ago = (table.now_ms - l.expires_ms) / 1000;
            output::out(&format!(
                "  {}  HELD BY NO REPLICA (last {} at epoch {}, ran out {ago} s ago)",
                l.name, l.holder, l.epoch
            ));
        }
    }
}
