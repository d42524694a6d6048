//! One module per command; each returns the process exit code.

mod certs;
mod config_check;
mod doctor;
mod import_rows;
mod logs;
mod migrate;
mod ops;
mod prober;
mod rename_suffix;
mod roles;
mod tenants;

use std::process::ExitCode;

use anyhow::Context;

use crate::cli::{CertsCommand, Cli, Command, ConfigCommand, GlobalArgs};

use crate::settings::{self, Loaded, Sources};

/// Runs the parsed command line.
pub fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    // One worker needs no work stealing: a current-thread scheduler does the
    // same job with less synchronisation (the edge bench pins one core).
    let single = std::env::var("TOKIO_WORKER_THREADS").is_ok_and(|n| n.trim() == "1");
    let mut builder = if single {
        tokio::runtime::Builder::new_current_thread()
    } else {
        tokio::runtime::Builder::new_multi_thread()
    };
    let runtime = builder
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    let result = runtime.block_on(async move {
        match cli.command {
            Command::Config(ConfigCommand::Check) => config_check::run(&cli.global),
            Command::Migrate => migrate::run(load_valid(&cli.global)?).await,
            Command::Serve(args) => roles::serve(load_valid(&cli.global)?, args).await,
            Command::App(args) => roles::app(load_valid(&cli.global)?, args).await,
            Command::Tenants(command) => tenants::run(load_valid(&cli.global)?, command).await,
            Command::Users(command) => tenants::users(load_valid(&cli.global)?, command).await,
            Command::Edge(args) => roles::edge(load_valid(&cli.global)?, args).await,
            Command::Certs(CertsCommand::ExportCa) => {
                let loaded = load_valid(&cli.global)?;
                let ca = crate::local_ca::load_or_create(&loaded.settings.data_dir)?;
                print!("{}", ca.root_pem());
                Ok(ExitCode::SUCCESS)
            }
            Command::Certs(command) => certs::run(load_valid(&cli.global)?, command).await,
            Command::Prober => roles::prober(load_valid(&cli.global)?).await,
            Command::Doctor { quick, json, edge } => {
                doctor::run(load_valid(&cli.global)?, quick, json, edge).await
            }
            Command::Logs {
                errors,
                follow,
                since,
            } => {
                let sources =
                    Sources::from_process(cli.global.config.clone(), cli.global.data_dir.clone());
                // Reading logs must not append to them: no subscriber here.
                let loaded = settings::load(&sources)?.validated()?;
                logs::run(&loaded, errors, since.as_deref(), follow)
            }
            Command::Probe { url } => doctor::probe_url(&url).await,
            Command::DbCheck { json } => ops::db_check(load_valid(&cli.global)?, json).await,
            Command::Backup { file } => ops::backup(load_valid(&cli.global)?, &file).await,
        }
    });
    // A command that fails is an error report too (main prints it).
    if let Err(err) = &result {
        crate::telemetry::report_failure(err);
    }
    // Error reports queued by this run go out before the process exits.
    crate::telemetry::flush();
    result
}

/// Loads and validates configuration, or fails with every problem listed.
fn load_valid(global: &GlobalArgs) -> anyhow::Result<Loaded> {
    let sources = Sources::from_process(global.config.clone(), global.data_dir.clone());
    let loaded = settings::load(&sources)?.validated()?;
    crate::telemetry::init(
        &loaded.settings.log,
        &loaded.settings.telemetry,
        &loaded.environment.to_string(),
    );
    Ok(loaded)
}
