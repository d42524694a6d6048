//! Long-running roles: `serve` (everything, embedded default) and the single-role commands.

use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use acme::{AcmeIssuer, AcmeOptions, CertManager, CertStore, Issuer, ManagerOptions, Sealer};
use anyhow::{Context, bail};
use app::certs::{DbCertStore, DbDomainPolicy};
use app::db::{Database, Dialect, PoolSettings, redact_url};
use app::mail::Mailer;
use app::metrics::AppMetrics;
use app::{App, AppSettings};
use prometheus_client::registry::Registry;
use proxy::metrics::EdgeMetrics;
use secrecy::ExposeSecret;
use tokio_util::sync::CancellationToken;

use crate::cli::RoleArgs;
use crate::listeners;
use crate::settings::{self, Environment, Loaded, Sources, ensure_data_dir};

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

fn require_postgres(loaded: &Loaded, role: &str) -> anyhow::Result<()> {
    if loaded.settings.database.dialect() != Some(Dialect::Postgres) {
        bail!(
            "`statuswatch {role}` runs one role of a multi-node deployment and needs PostgreSQL \
             (set database.url to postgres://…); use `statuswatch serve` for the embedded SQLite default"
        );
    }
    Ok(())
}

/// `statuswatch serve`: the whole product in one process.
pub async fn serve(loaded: Loaded, args: RoleArgs) -> anyhow::Result<ExitCode> {
    run_roles(loaded, Roles::ALL, args.upgrade).await
}

/// `statuswatch app`: the API alone, one of several nodes on PostgreSQL.
pub async fn app(loaded: Loaded, args: RoleArgs) -> anyhow::Result<ExitCode> {
    require_postgres(&loaded, "app")?;
    run_roles(loaded, Roles::APP, args.upgrade).await
}

/// `statuswatch edge`: the edge alone, one of several nodes on PostgreSQL.
pub async fn edge(loaded: Loaded, args: RoleArgs) -> anyhow::Result<ExitCode> {
    require_postgres(&loaded, "edge")?;
    run_roles(loaded, Roles::EDGE, args.upgrade).await
}

/// `statuswatch prober`: the prober alone, one of several on PostgreSQL.
pub async fn prober(loaded: Loaded) -> anyhow::Result<ExitCode> {
    require_postgres(&loaded, "prober")?;
    run_roles(loaded, Roles::PROBER, false).await
}

/// Which roles a process runs.
#[derive(Debug, Clone, Copy)]
struct Roles {
    app: bool,
    edge: bool,
    prober: bool,
}

impl Roles {
    const ALL: Self = Self {
        app: true,
        edge: true,
        prober: true,
    };
    const APP: Self = Self {
        app: true,
        edge: false,
        prober: false,
    };
    const EDGE: Self = Self {
        app: false,
        edge: true,
        prober: false,
    };
    const PROBER: Self = Self {
        app: false,
        edge: false,
        prober: true,
    };
}

/// Where a successor waits for this process's sockets.
fn upgrade_socket(loaded: &Loaded) -> std::path::PathBuf {
    let settings = &loaded.settings;
    settings
        .edge
        .upgrade_socket
        .clone()
        .unwrap_or_else(|| settings.data_dir.join("upgrade.sock"))
}

async fn run_roles(loaded: Loaded, roles: Roles, upgrade: bool) -> anyhow::Result<ExitCode> {
    let (with_app, with_edge) = (roles.app, roles.edge);
    let settings = &loaded.settings;
    let socket = upgrade_socket(&loaded);
    let mut inherited = listeners::Inherited::new();
    if upgrade {
        if settings.database.dialect() == Some(Dialect::Sqlite) {
            ensure_data_dir(&settings.data_dir).map_err(anyhow::Error::msg)?;
        }
        tracing::info!(socket = %socket.display(), "waiting for the running process's sockets; send it SIGQUIT");
        let path = socket.clone();
        let received = tokio::task::spawn_blocking(move || {
            crate::upgrade::receive(&path, Duration::from_secs(120))
        })
        .await
        .context("upgrade task failed")??;
        inherited.extend(received);
    }
    // Bind (or adopt) first: a taken port fails before anything is created or migrated.
    let app_listener = match with_app {
        true => Some(
            listeners::bind_or_adopt("app", "app.listen", settings.app.listen, &mut inherited)
                .await?,
        ),
        false => None,
    };
    let edge_listeners = match with_edge {
        true => Some(listeners::edge(&settings.edge, &mut inherited).await?),
        false => None,
    };
    // `statuswatch prober` has no app listener to show its metrics on.
    let metrics_listener = match (roles.prober, settings.prober.metrics_listen) {
        (true, Some(addr)) => Some(
            listeners::bind_or_adopt(
                "prober-metrics",
                "prober.metrics_listen",
                addr,
                &mut inherited,
            )
            .await?,
        ),
        _ => None,
    };
    let mut handover = Vec::new();
    if let Some(listener) = &app_listener {
        handover.push(("app", std::os::fd::AsRawFd::as_raw_fd(listener)));
    }
    if let Some(edge) = &edge_listeners {
        handover.extend(listeners::edge_handover(edge));
    }
    if let Some(listener) = &metrics_listener {
        handover.push(("prober-metrics", std::os::fd::AsRawFd::as_raw_fd(listener)));
    }
    let db = connect(&loaded).await?;
    let migrations = db.migrations();
    if with_app && settings.database.migrate_on_start {
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

    let mut registry = Registry::default();
    let app_metrics = AppMetrics::register(&mut registry);
    let edge_metrics = EdgeMetrics::register(&mut registry);
    let prober_metrics = super::prober::register(&mut registry);
    let registry = Arc::new(registry);
    let shutdown = CancellationToken::new();
    tokio::spawn(stop_on_signal(shutdown.clone(), handover, socket));
    let mut tasks = tokio::task::JoinSet::new();

    if let Some(listener) = app_listener {
        let state = app_state(&loaded, &db, app_metrics, registry.clone())?;
        tracing::info!(address = %listener.local_addr()?, environment = %loaded.environment, "app listening");
        let shutdown = shutdown.clone();
        tasks.spawn(async move {
            app::server::run(listener, state, shutdown)
                .await
                .context("app server failed")
        });
    }
    if let Some(listeners) = edge_listeners {
        let mut parts = edge_parts(&loaded, &db, edge_metrics, registry.clone())?;
        if let Err(err) = parts.certs.free_leases_of(is_gone_local_node).await {
            tracing::warn!(error = %err.report(), "leases of gone processes not freed; they expire on their own");
        }
        dns_responder(&loaded, &parts.certs, &shutdown).await?;
        tokio::spawn(parts.certs.clone().run_background(shutdown.clone()));
        tracing::info!(
            https = %listeners.https.local_addr()?,
            http = %listeners.http.local_addr()?,
            admin = %listeners.admin.local_addr()?,
            "edge listening"
        );
        let shutdown = shutdown.clone();
        tasks.spawn(async move {
            // Compressing the SPA takes a while; connections queue meanwhile.
            parts.site = crate::site_files::load(&parts.config.static_root).await;
            proxy::run(listeners, parts, shutdown)
                .await
                .context("edge failed")
        });
    }
    if let Some(listener) = metrics_listener {
        tracing::info!(address = %listener.local_addr()?, "prober metrics listening");
        let (registry, shutdown) = (registry.clone(), shutdown.clone());
        tasks.spawn(async move {
            app::exposition::serve(listener, registry, shutdown)
                .await
                .context("prober metrics listener failed")
        });
    }
    if roles.prober {
        let (loaded, db, shutdown) = (loaded.clone(), db.clone(), shutdown.clone());
        tasks.spawn(async move { super::prober::run(&loaded, db, prober_metrics, shutdown).await });
    }
    // One role failing stops the others: a half-running node is worse than a restart.
    let mut outcome = Ok(());
    while let Some(joined) = tasks.join_next().await {
        let result = joined.context("role task panicked").and_then(|r| r);
        if result.is_err() && outcome.is_ok() {
            outcome = result;
            shutdown.cancel();
        }
    }
    db.close().await;
    outcome?;
    tracing::info!("stopped");
    Ok(ExitCode::SUCCESS)
}

fn app_state(
    loaded: &Loaded,
    db: &Database,
    metrics: AppMetrics,
    registry: Arc<Registry>,
) -> anyhow::Result<app::AppState> {
    let settings = &loaded.settings;
    let production = loaded.environment == Environment::Production;
    let mailer = Mailer::from_config(&settings.email, production).context("email configuration")?;
    let secret = settings
        .secret_key
        .as_ref()
        .map(|k| k.expose_secret().as_bytes().to_vec())
        .context("secret_key is not set")?;
    Ok(App::build(
        db.clone(),
        metrics,
        registry,
        AppSettings {
            production,
            auth: settings.auth.clone(),
            tenancy: settings.tenancy.clone(),
            prober: settings.prober.clone(),
            billing: settings.billing.clone(),
        },
        &secret,
        mailer,
    ))
}

/// This node's name in issuance leases: host name and process id.
fn node_id() -> String {
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_owned())
        .unwrap_or_else(|_| "node".to_owned());
    format!("{host}-{}", std::process::id())
}

/// Whether `holder` (a [`node_id`]) names a process of this host that no
/// longer runs. A reused process id reads as alive: the lease then expires
/// on its own, which is slower but never wrong.
fn is_gone_local_node(holder: &str) -> bool {
    let own = node_id();
    let Some((host, _)) = own.rsplit_once('-') else {
        return false;
    };
    holder
        .strip_prefix(host)
        .and_then(|rest| rest.strip_prefix('-'))
        .and_then(|pid| pid.parse::<u32>().ok())
        .is_some_and(|pid| {
            pid != std::process::id() && !std::path::Path::new(&format!("/proc/{pid}")).exists()
        })
}

/// The certificate manager: ACME when `acme.directory_url` is set, else the
/// local CA; certificates, accounts and challenges in the database.
pub fn cert_manager(loaded: &Loaded, db: &Database) -> anyhow::Result<Arc<CertManager>> {
    let settings = &loaded.settings;
    let acme_config = &settings.acme;
    let secret = settings
        .secret_key
        .as_ref()
        .map(|k| k.expose_secret().as_bytes().to_vec())
        .context("secret_key is not set")?;
    let sealer = Arc::new(Sealer::derive(&secret).context("deriving the key-sealing key")?);
    let store: Arc<dyn CertStore> = Arc::new(DbCertStore::new(db.clone()));
    let issuer: Arc<dyn Issuer> = match &acme_config.directory_url {
        Some(url) => {
            tracing::info!(directory = %url, challenge = ?acme_config.challenge, "certificates from ACME");
            Arc::new(AcmeIssuer::new(
                AcmeOptions {
                    directory_url: url.to_string(),
                    contact_email: acme_config.contact_email.clone(),
                    extra_roots: match &acme_config.extra_root_pem {
                        Some(path) => crate::extra_roots::read(path).map_err(anyhow::Error::msg)?,
                        None => Vec::new(),
                    },
                    challenge: acme_config.challenge,
                    // A fast CA answers in tens of ms: poll early, back off gently.
                    poll_initial: Duration::from_millis(20),
                    order_timeout: Duration::from_secs(90),
                },
                store.clone(),
                store.clone(),
                store.clone(),
                sealer.clone(),
            ))
        }
        None => Arc::new(crate::local_ca::load_or_create(&settings.data_dir)?),
    };
    let suffix = settings.tenancy.normalized_suffix();
    let policy = DbDomainPolicy::new(db.clone(), &suffix);
    let options = ManagerOptions {
        negative_ttl: Duration::from_secs(acme_config.negative_ttl_seconds),
        positive_ttl: Duration::from_secs(acme_config.positive_ttl_seconds),
        issue_timeout: Duration::from_secs(acme_config.issue_timeout_seconds),
        retry_min: Duration::from_secs(acme_config.retry_min_seconds),
        retry_max: Duration::from_secs(acme_config.retry_max_seconds),
        orders_per_hour: acme_config.orders_per_hour,
        tenant_orders_per_day: acme_config.tenant_orders_per_day,
        wildcard_suffix: acme_config.wildcard.then(|| suffix.clone()),
        sweep_interval: Duration::from_secs(acme_config.renew_check_seconds),
        preissue: acme_config.preissue,
        node_id: node_id(),
        ..ManagerOptions::default()
    };
    Ok(CertManager::new(
        Arc::new(policy),
        issuer,
        store,
        sealer,
        options,
    ))
}

/// Starts the DNS-01 responder when the wildcard is configured with a listen address.
async fn dns_responder(
    loaded: &Loaded,
    certs: &Arc<CertManager>,
    shutdown: &CancellationToken,
) -> anyhow::Result<()> {
    let acme_config = &loaded.settings.acme;
    let (true, Some(addr)) = (acme_config.wildcard, acme_config.dns_listen) else {
        return Ok(());
    };
    let udp = tokio::net::UdpSocket::bind(addr)
        .await
        .with_context(|| format!("acme.dns_listen: cannot bind UDP {addr}"))?;
    let tcp = tokio::net::TcpListener::bind(addr)
        .await
        .with_context(|| format!("acme.dns_listen: cannot bind TCP {addr}"))?;
    let responder = Arc::new(acme::dns::DnsResponder::new(
        &loaded.settings.tenancy.normalized_suffix(),
        certs.clone(),
    ));
    tracing::info!(address = %addr, zone = responder.zone(), "DNS-01 responder listening");
    tokio::spawn(responder.serve(udp, tcp, shutdown.clone()));
    Ok(())
}

fn edge_parts(
    loaded: &Loaded,
    db: &Database,
    metrics: EdgeMetrics,
    registry: Arc<Registry>,
) -> anyhow::Result<proxy::EdgeParts> {
    let settings = &loaded.settings;
    let certs = cert_manager(loaded, db)?;
    let upstreams = app_upstreams(&settings.edge, settings.app.listen);
    let sources = Sources::from_process(None, None);
    let reload_sources = Sources {
        config_file: loaded.config_file.clone(),
        data_dir: Some(settings.data_dir.clone()),
        ..sources
    };
    let reload: proxy::ReloadFn = Arc::new(move || {
        let fresh = settings::load(&reload_sources)
            .and_then(Loaded::validated)
            .map_err(|e| proxy::ReloadError::Config(e.to_string()))?;
        let site = crate::site_files::read(&fresh.settings.edge.static_root)
            .map_err(proxy::ReloadError::StaticRoot)?;
        Ok(proxy::Reloadable {
            site,
            app_upstreams: app_upstreams(&fresh.settings.edge, fresh.settings.app.listen),
        })
    });
    Ok(proxy::EdgeParts {
        config: settings.edge.clone(),
        challenges: certs.clone(),
        certs,
        app_upstreams: upstreams,
        metrics,
        registry,
        // Read in the edge's own task (`run_roles`), so the other roles start meanwhile.
        site: proxy::site::Site::empty(),
        reload,
        domain_suffix: settings.tenancy.normalized_suffix(),
    })
}

/// Configured app nodes, or this process's own app.
fn app_upstreams(edge: &proxy::EdgeConfig, app_listen: std::net::SocketAddr) -> Vec<String> {
    if !edge.app_upstreams.is_empty() {
        return edge.app_upstreams.clone();
    }
    let port = app_listen.port();
    // An app bound to all interfaces is reached on loopback.
    let host = if app_listen.ip().is_unspecified() {
        "127.0.0.1".to_owned()
    } else {
        app_listen.ip().to_string()
    };
    vec![
        if app_listen.is_ipv6() && !app_listen.ip().is_unspecified() {
            format!("[{host}]:{port}")
        } else {
            format!("{host}:{port}")
        },
    ]
}

/// Cancels `shutdown` on SIGINT or SIGTERM; on SIGQUIT first hands the
/// listening sockets to the successor waiting on `socket`.
async fn stop_on_signal(
    shutdown: CancellationToken,
    handover: Vec<(&'static str, std::os::fd::RawFd)>,
    socket: std::path::PathBuf,
) {
    #[cfg(unix)]
    let quit = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::quit()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let quit = std::future::pending::<()>();
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
        () = quit => {
            // The sockets stay open in the successor, so no connection is refused meanwhile.
            match crate::upgrade::send(&socket, &handover) {
                Ok(()) => tracing::info!(socket = %socket.display(), "listening sockets handed to the successor"),
                Err(err) => {
                    tracing::error!(error = %err, "upgrade handover failed; still serving");
                    return Box::pin(stop_on_signal(shutdown, handover, socket)).await;
                }
            }
        }
    }
    tracing::info!("shutdown requested; draining");
    shutdown.cancel();
}
