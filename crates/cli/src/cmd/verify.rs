//! `firebreak verify`

use firebreak_respond::verify::{VerifyOptions, verify};

use crate::{Outcome, args::VerifyArgs, cmd::store, output};

pub(crate) fn run(args: &VerifyArgs) -> eyre::Result<Outcome> {
    let Some(plan) = super::valid_plan(&args.plan)? else { return Ok(Outcome::Invalid) };
    let record = store::data_dir().join("drills").join(format!("{}.json", plan.hash));
    let last_drill = std::fs::read_to_string(record).ok().and_then(|t| {
        let v: serde_json::Value = serde_json::from_str(&t).ok()?;
        let age = firebreak_primitives::now_ms().saturating_sub(v["at_ms"].as_u64()?);
        Some((std::time::Duration::from_millis(age), v["passed"].as_bool()?))
    });
    let opts = VerifyOptions {
        pauses: args.pauses,
        stress_gwei: args.stress_gwei,
        last_drill,
        notify: args.notify,
    };
    store::runtime()?.block_on(async {
        let store =
            if store::exists(&args.db) { Some(store::open(&args.db, false).await?) } else { None };
        let report = verify(
            &plan,
            store.as_deref().map(|s| s as &dyn firebreak_store::IncidentStore),
            &opts,
        )
        .await;
        if args.json {
            output::out(&serde_json::to_string_pretty(&report)?);
        } else if args.markdown {
            output::out_raw(&report.markdown());
        } else {
            output::out_raw(&report.text());
        }
        Ok(if report.blocking > 0 { Outcome::Failed } else { Outcome::Ok })
    })
}
