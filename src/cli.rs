//! Command-line interface.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

/// StatusWatch: uptime monitoring and status pages, with its own on-demand-TLS edge.
///
/// Configuration layers (later wins): built-in defaults, the STATUSWATCH_ENV
/// layer (development or production), --config FILE, STATUSWATCH__SECTION__KEY
/// environment variables, then flags. See docs/configuration.md.
#[derive(Debug, Parser)]
#[command(name = "statuswatch", version, propagate_version = true)]
pub struct Cli {
    /// Options every command shares.
    #[command(flatten)]
    pub global: GlobalArgs,
    /// What to run.
    #[command(subcommand)]
    pub command: Command,
}

/// Options every command shares.
#[derive(Debug, Clone, Args)]
pub struct GlobalArgs {
    /// Extra TOML configuration file, layered over the built-in defaults.
    #[arg(long, global = true, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Directory of the embedded SQLite database and the local CA [default: ./data].
    #[arg(long, global = true, value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
}

/// The commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run everything in one process (app, and the edge and prober as they land) on the embedded default.
    Serve,
    /// Run only the edge proxy (multi-node deployments on PostgreSQL).
    Edge,
    /// Run only the API app (multi-node deployments on PostgreSQL).
    App,
    /// Run only the prober (multi-node deployments on PostgreSQL).
    Prober,
    /// Apply pending database migrations; running it again changes nothing.
    Migrate,
    /// Inspect configuration.
    #[command(subcommand)]
    Config(ConfigCommand),
}

/// `statuswatch config …`
#[derive(Debug, Subcommand)]
pub enum ConfigCommand {
    /// Print the effective configuration (secrets redacted); exit non-zero when it is invalid.
    Check,
}
