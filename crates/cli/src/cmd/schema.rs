//! `firebreak schema`

use eyre::WrapErr as _;

use crate::{Outcome, args::SchemaArgs, output};

pub(crate) fn run(args: &SchemaArgs) -> eyre::Result<Outcome> {
    let text = serde_json::to_string_pretty(&firebreak_plan::json_schema())?;
    match &args.output {
        Some(path) => {
            std::fs::write(path, format!("{text}\n"))
                .wrap_err_with(|| format!("cannot write `{}`", path.display()))?;
            output::error(&format!("wrote the plan schema to {}", path.display()));
        }
        None => output::out(&text),
    }
    Ok(Outcome::Ok)
}
