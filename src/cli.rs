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
    /// Run everything in one process (app and edge; the prober as it lands) on the embedded default.
    Serve(RoleArgs),
    /// Run only the edge proxy (multi-node deployments on PostgreSQL).
    Edge(RoleArgs),
    /// Run only the API app (multi-node deployments on PostgreSQL).
    App(RoleArgs),
    /// Run only the prober (multi-node deployments on PostgreSQL).
    Prober,
    /// Apply pending database migrations; running it again changes nothing.
    Migrate,
    /// Inspect configuration.
    #[command(subcommand)]
    Config(ConfigCommand),
    /// Manage tenants (safe to run while `serve` is running).
    #[command(subcommand)]
    Tenants(TenantsCommand),
    /// Manage user accounts.
    #[command(subcommand)]
    Users(UsersCommand),
    /// Certificates of the edge.
    #[command(subcommand)]
    Certs(CertsCommand),
    /// Health of everything this node can see: database, schema, app and edge
    /// (with the right SNI), disk, memory, certificates, the ACME queue, prober
    /// lag and leases, alert deliveries. Exit 1 on any failure.
    Doctor {
        /// Only the database, schema and health endpoints.
        #[arg(long)]
        quick: bool,
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
        /// The edge's TLS address to check [default: edge.https_listen].
        #[arg(long, value_name = "ADDR")]
        edge: Option<String>,
    },
    /// GET a URL and exit 0 on a 2xx answer, 1 otherwise: the container health
    /// check (the image has no curl).
    Probe {
        /// An http:// URL, e.g. http://127.0.0.1:8000/health/ready/.
        url: String,
    },
    /// Read the log files (`log.file` and its rotations), oldest first.
    Logs {
        /// Only warnings, errors and lines mentioning an error, exception, traceback or panic.
        #[arg(long)]
        errors: bool,
        /// Keep printing new lines, across rotations, until interrupted.
        #[arg(long, short)]
        follow: bool,
        /// Only lines since a duration ago (`15m`, `2h`, `7d`) or a UTC time (`2026-12-01T09:30:00`).
        #[arg(long, value_name = "WHEN")]
        since: Option<String>,
    },
    /// Database report: size, connections, tenants with domains and row counts,
    /// largest tables; on PostgreSQL also dead tuples, lock waits and slow queries.
    DbCheck {
        /// Print JSON instead of tables.
        #[arg(long)]
        json: bool,
    },
    /// Online backup of the embedded SQLite database to a new FILE (checked
    /// before it is kept; PostgreSQL uses pg_dump, see docs/operations.md).
    Backup {
        /// The backup file to create (never overwritten).
        file: PathBuf,
    },
}

/// `statuswatch certs …`
#[derive(Debug, Subcommand)]
pub enum CertsCommand {
    /// Print the local CA's root certificate (PEM) so browsers and curl can trust it.
    ExportCa,
    /// List stored certificates and names queued for issuance.
    List {
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Renew a name's certificate now (the edges pick it up at their next re-check).
    Renew {
        /// The hostname.
        name: String,
    },
    /// Explain which rule allows or refuses a certificate for a name, and what is stored.
    Why {
        /// The hostname.
        name: String,
    },
}

/// `statuswatch tenants …`
#[derive(Debug, Subcommand)]
pub enum TenantsCommand {
    /// Create a tenant; prints its id and domain.
    Create {
        /// Subdomain label (3–40 letters, digits, hyphens).
        #[arg(long)]
        slug: String,
        /// Display name.
        #[arg(long)]
        name: String,
        /// Owner: an existing account, or a new one that gets a link to set its password.
        #[arg(long, value_name = "EMAIL")]
        owner_email: Option<String>,
    },
    /// List tenants.
    List {
        /// One JSON array instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Suspend a tenant: its API refuses work, probes stop, nothing is deleted.
    Suspend {
        /// Tenant slug.
        slug: String,
    },
    /// Resume a suspended tenant.
    Resume {
        /// Tenant slug.
        slug: String,
    },
    /// Create tenants from a CSV file `slug,name,owner_email` (header optional); each row is all-or-nothing.
    Import {
        /// The CSV file.
        file: PathBuf,
    },
    /// Move every tenant subdomain from one suffix to another in one transaction
    /// (idempotent; names that already exist are skipped; new names are queued for certificates).
    RenameSuffix {
        /// The suffix the subdomains are under now.
        #[arg(long, value_name = "OLD")]
        from: String,
        /// The suffix they move to (set `tenancy.domain_suffix` to it as well).
        #[arg(long, value_name = "NEW")]
        to: String,
        /// Report what would change and write nothing.
        #[arg(long)]
        dry_run: bool,
        /// Print JSON instead of lines.
        #[arg(long)]
        json: bool,
    },
}

/// `statuswatch users …`
#[derive(Debug, Subcommand)]
pub enum UsersCommand {
    /// Make an account a platform administrator (or take that away).
    Superuser {
        /// The account's email.
        email: String,
        /// Take the right away instead.
        #[arg(long)]
        revoke: bool,
    },
}

/// Options of the long-running roles.
#[derive(Debug, Clone, Copy, Args)]
pub struct RoleArgs {
    /// Take over the listening sockets of the running process (zero-downtime
    /// upgrade): wait on `edge.upgrade_socket`, then send the old process SIGQUIT.
    #[arg(long)]
    pub upgrade: bool,
}

/// `statuswatch config …`
#[derive(Debug, Subcommand)]
pub enum ConfigCommand {
    /// Print the effective configuration (secrets redacted); exit non-zero when it is invalid.
    Check,
}
