//! The `firebreak` binary: runs the CLI and turns its outcome into an exit code.

fn main() -> std::process::ExitCode {
    firebreak_cli::run()
}
