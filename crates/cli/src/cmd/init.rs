//! `firebreak init`

use std::io::Write as _;

use eyre::WrapErr as _;
use firebreak_plan::STARTER_PLAN;

use crate::{Outcome, args::InitArgs, output};

pub(crate) fn run(args: &InitArgs) -> eyre::Result<Outcome> {
    if args.stdout {
        output::out_raw(STARTER_PLAN);
        return Ok(Outcome::Ok);
    }
    let path = &args.path;
    let mut options = std::fs::OpenOptions::new();
    options.write(true);
    if args.force {
        options.create(true).truncate(true);
    } else {
        options.create_new(true);
    }
    let mut file = match options.open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            output::error(&format!(
                "error: `{}` already exists; pass --force to overwrite it or give another path",
                path.display()
            ));
            return Ok(Outcome::Invalid);
        }
        Err(e) => return Err(e).wrap_err_with(|| format!("cannot create `{}`", path.display())),
    };
    file.write_all(STARTER_PLAN.as_bytes())
        .wrap_err_with(|| format!("cannot write `{}`", path.display()))?;
    output::out(&format!("wrote a starter plan to {}", path.display()));
    output::error(&format!(
        "next: replace the example addresses and names, then run `firebreak check {}`",
        path.display()
    ));
    Ok(Outcome::Ok)
}
