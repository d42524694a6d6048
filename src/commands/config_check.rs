//! `statuswatch config check`: print the effective configuration and its problems.

use std::process::ExitCode;

use crate::cli::GlobalArgs;
use crate::settings::{self, Sources};

/// Prints the redacted configuration to stdout and problems to stderr.
pub fn run(global: &GlobalArgs) -> anyhow::Result<ExitCode> {
    let sources = Sources::from_process(global.config.clone(), global.data_dir.clone());
    let loaded = settings::load(&sources)?;
    println!("# environment: {}", loaded.environment);
    println!(
        "# database: {}",
        app::db::redact_url(&loaded.database_url())
    );
    print!("{}", loaded.to_redacted_toml()?);
    match loaded.validated() {
        Ok(_) => {
            eprintln!("configuration is valid");
            Ok(ExitCode::SUCCESS)
        }
        Err(err) => {
            eprintln!("error: {err}");
            Ok(ExitCode::FAILURE)
        }
    }
}
