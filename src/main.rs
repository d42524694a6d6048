//! Entry point: parse the command line, run the command, turn errors into exit codes.

use std::process::ExitCode;

use clap::Parser;

// The edge allocates small buffers per request; glibc malloc showed up as
// ~16% of CPU time in the proxied-request profile (bench/README.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let cli = statuswatch::cli::Cli::parse();
    // Several TLS stacks are linked in; pick one process-wide provider.
    let _ = rustls::crypto::ring::default_provider().install_default();
    match statuswatch::commands::run(cli) {
        Ok(code) => code,
        Err(err) => {
            // `{:#}` prints the context chain on one line, never a backtrace.
            eprintln!("error: {err:#}");
            ExitCode::FAILURE
        }
    }
}
