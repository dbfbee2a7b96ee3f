//! One module per subcommand.

mod alerts;
mod check;
mod init;
mod replay;
mod schema;
mod watch;

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
    }
}
