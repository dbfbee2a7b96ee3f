//! `firebreak postmortem`

use eyre::WrapErr as _;

use crate::{
    Outcome,
    args::PostmortemArgs,
    cmd::store::{self, incident_id},
    output,
};

pub(crate) fn run(args: &PostmortemArgs) -> eyre::Result<Outcome> {
    let id = incident_id(&args.incident)?;
    let out = args.out.clone().unwrap_or_else(|| format!("postmortem-{id}").into());
    store::runtime()?.block_on(async {
        let store = store::open(&args.db, false).await?;
        let pm = firebreak_report::PostMortem::load(&*store, id, None).await?;
        std::fs::create_dir_all(&out)
            .wrap_err_with(|| format!("cannot create `{}`", out.display()))?;
        std::fs::write(out.join("postmortem.md"), pm.markdown())?;
        std::fs::write(out.join("timeline.svg"), pm.svg())?;
        std::fs::write(out.join("postmortem.html"), pm.html())?;
        let flow = pm.has_recovery();
        if flow {
            std::fs::write(out.join("fund-flow.svg"), pm.fund_flow_svg())?;
        }
        output::out(&format!(
            "wrote {0}/postmortem.md, {0}/postmortem.html{2} and {0}/timeline.svg{1}",
            out.display(),
            if pm.timeline_intact {
                ""
            } else {
                " — WARNING: the timeline's hash chain is broken"
            },
            if flow { format!(", {}/fund-flow.svg", out.display()) } else { String::new() }
        ));
        Ok(Outcome::Ok)
    })
}
