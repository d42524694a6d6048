//! Long-running roles: `serve` (everything, embedded default) and the single-role commands.

use std::process::ExitCode;
use std::time::Duration;

use anyhow::{Context, bail};
use app::db::{Database, Dialect, PoolSettings, redact_url};
use app::mail::Mailer;
use app::{App, AppSettings};
use prometheus_client::registry::Registry;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

use secrecy::ExposeSecret;

use crate::settings::{Environment, Loaded, ensure_data_dir};

/// Opens the configured database, creating the data directory for SQLite.
pub async fn connect(loaded: &Loaded) -> anyhow::Result<Database> {
    let settings = &loaded.settings;
    let url = loaded.database_url();
    if settings.database.dialect() == Some(Dialect::Sqlite) {
        ensure_data_dir(&settings.data_dir).map_err(anyhow::Error::msg)?;
    }
    let pool = PoolSettings {
        max_connections: settings.database.max_connections,
        connect_timeout: Duration::from_secs(settings.database.connect_timeout_seconds),
    };
    let db = Database::connect(&url, pool).await?;
    tracing::info!(database = %redact_url(&url), dialect = db.dialect().name(), "database connected");
    Ok(db)
}

/// `statuswatch serve`: the whole product in one process.
pub async fn serve(loaded: Loaded) -> anyhow::Result<ExitCode> {
    run_app(loaded).await
}

/// `statuswatch app`: the API alone, one of several nodes on PostgreSQL.
pub async fn app(loaded: Loaded) -> anyhow::Result<ExitCode> {
    if loaded.settings.database.dialect() != Some(Dialect::Postgres) {
        bail!(
            "`statuswatch app` runs one role of a multi-node deployment and needs PostgreSQL \
             (set database.url to postgres://…); use `statuswatch serve` for the embedded SQLite default"
        );
    }
    run_app(loaded).await
}

/// Roles whose capability has not landed yet say so instead of pretending to run.
pub fn not_yet(role: &str, issue: &str) -> anyhow::Result<ExitCode> {
    bail!(
        "the `{role}` role is not built yet; it arrives with {issue}. `statuswatch serve` runs what exists"
    )
}

async fn run_app(loaded: Loaded) -> anyhow::Result<ExitCode> {
    // Bind first: a taken port fails before anything is created or migrated.
    let listen = loaded.settings.app.listen;
    let listener = TcpListener::bind(listen)
        .await
        .with_context(|| format!("cannot listen on app.listen {listen}"))?;
    let db = connect(&loaded).await?;
    let migrations = db.migrations();
    if loaded.settings.database.migrate_on_start {
        migrations
            .run()
            .await
            .context("applying migrations at start")?;
    }
    let status = migrations
        .status()
        .await
        .context("reading migration status")?;
    if status.is_current() {
        tracing::info!(status = %status.describe(), "schema checked");
    } else {
        tracing::warn!(status = %status.describe(), "schema not current; /health/ready/ answers 503");
    }

    let settings = &loaded.settings;
    let production = loaded.environment == Environment::Production;
    let mailer = Mailer::from_config(&settings.email, production).context("email configuration")?;
    let secret = settings
        .secret_key
        .as_ref()
        .map(|k| k.expose_secret().as_bytes().to_vec())
        .context("secret_key is not set")?;
    let state = App::build(
        db.clone(),
        Registry::default(),
        AppSettings {
            production,
            auth: settings.auth.clone(),
            tenancy: settings.tenancy.clone(),
        },
        &secret,
        mailer,
    );

    tracing::info!(address = %listener.local_addr()?, environment = %loaded.environment, "app listening");

    let shutdown = CancellationToken::new();
    tokio::spawn(stop_on_signal(shutdown.clone()));
    app::server::run(listener, state, shutdown)
        .await
        .context("app server failed")?;
    db.close().await;
    tracing::info!("stopped");
    Ok(ExitCode::SUCCESS)
}

/// Cancels `shutdown` on SIGINT or SIGTERM.
async fn stop_on_signal(shutdown: CancellationToken) {
    let interrupt = tokio::signal::ctrl_c();
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(err) => {
                tracing::warn!(error = %err, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = interrupt => {},
        _ = terminate => {},
    }
    tracing::info!("shutdown requested; draining");
    shutdown.cancel();
}
