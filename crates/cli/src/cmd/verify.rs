//! `firebreak verify`

use firebreak_drill::verify::{VerifyOptions, verify};

use crate::{Outcome, args::VerifyArgs, cmd::store, output};

pub(crate) fn run(args: &VerifyArgs) -> eyre::Result<Outcome> {
    let Some(plan) = super::valid_plan(&args.plan)? else { return Ok(Outcome::Invalid) };
    let opts = VerifyOptions { pauses: args.pauses, stress_gwei: args.stress_gwei };
    store::runtime()?.block_on(async {
        let db = store::db_path(&args.db);
        let store = if db.exists() { Some(store::open(&args.db, false).await?) } else { None };
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
