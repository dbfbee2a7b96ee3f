//! One module per subcommand.

mod alerts;
mod check;
mod demo;
mod drill;
mod incident;
mod init;
mod notify;
mod postmortem;
mod replay;
mod run;
mod safe;
mod schema;
mod status;
mod store;
mod token;
mod verify;
mod watch;
mod whitehat;

use crate::{
    Outcome,
    args::{Cli, Command},
};

pub(crate) fn dispatch(cli: Cli) -> eyre::Result<Outcome> {
    match cli.command {
        Command::Check(args) => check::run(&args),
        Command::Schema(args) => schema::run(&args),
        Command::Init(args) => init::run(&args),
        Command::Replay(args) => replay::run(&args),
        Command::Watch(args) => watch::run(&args),
        Command::Run(args) => run::run(&args),
        Command::Status(args) => status::run(&args),
        Command::Store(cmd) => store::command(cmd),
        Command::Incident(cmd) => incident::run(cmd),
        Command::Safe(cmd) => safe::run(cmd),
        Command::Notify(cmd) => notify::run(cmd),
        Command::Token(cmd) => token::run(cmd),
        Command::Demo(args) => demo::run(&args),
        Command::Drill(args) => drill::run(&args),
        Command::Verify(args) => verify::run(&args),
        Command::Postmortem(args) => postmortem::run(&args),
        Command::Whitehat(cmd) => whitehat::run(cmd),
        Command::Trace(args) => whitehat::trace(&args),
    }
}

/// Loads a plan that must be valid to run (rules compiled); prints the
/// diagnostics and returns `None` when it is not.
pub(crate) fn valid_plan(path: &std::path::Path) -> eyre::Result<Option<firebreak_plan::Plan>> {
    use eyre::WrapErr as _;
    let checked = firebreak_detect::check_file(path, &firebreak_plan::CheckOptions::default())
        .wrap_err_with(|| format!("cannot read `{}`", path.display()))?;
    if checked.plan.is_none() {
        crate::output::error_raw(&checked.report.render());
        crate::output::error(&format!(
            "error: `{}` is invalid; fix it first (firebreak check)",
            path.display()
        ));
    }
    Ok(checked.plan)
}
