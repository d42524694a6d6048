//! Entry point: parse the command line, run the command, turn errors into exit codes.

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = statuswatch::cli::Cli::parse();
    match statuswatch::commands::run(cli) {
        Ok(code) => code,
        Err(err) => {
            // `{:#}` prints the context chain on one line, never a backtrace.
            eprintln!("error: {err:#}");
            ExitCode::FAILURE
        }
    }
}
