//! Running the edge: accept loops for :443 and :80, the upstream health
//! checks and the admin API in their own tasks, and a graceful drain on shutdown.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use acme::{CertManager, ChallengeStore};
use pingora_core::apps::ServerApp;
use pingora_core::protocols::Stream;
use pingora_core::server::configuration::ServerConf;
use pingora_proxy::http_proxy;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::registry::Registry;
use tokio::net::TcpListener;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::address_limit::{AddressLimit, AddressPlace};
use crate::cache::EdgeCache;
use crate::config::EdgeConfig;
use crate::edge::{Edge, EdgeProxy, Limits};
use crate::headers::{DEFAULT_CSP, SecurityHeaders};
use crate::metrics::{EdgeMetrics, HandshakeLabels, RefusedLabels};
use crate::plain::PlainProxy;
use crate::site::Site;
use crate::tls::{Outcome, TlsAcceptor};
use crate::upstream::{run_health_checks, upstream_pool};
use crate::{EdgeError, admin};

/// The edge's three listeners, bound (or adopted in an upgrade) by the binary.
#[derive(Debug)]
pub struct Listeners {
    /// :443.
    pub https: TcpListener,
    /// :80.
    pub http: TcpListener,
    /// Admin API.
    pub admin: TcpListener,
}

/// What the edge is built from.
pub struct EdgeParts {
    /// Configuration.
    pub config: EdgeConfig,
    /// Certificates per SNI name.
    pub certs: Arc<CertManager>,
    /// ACME HTTP-01 answers.
    pub challenges: Arc<dyn ChallengeStore>,
    /// App nodes (resolved default: this process's app).
    pub app_upstreams: Vec<String>,
    /// The edge's metrics, registered in `registry`.
    pub metrics: EdgeMetrics,
    /// The process's registry, rendered by the admin API.
    pub registry: Arc<Registry>,
    /// The SPA's files, read by the binary from `edge.static_root`.
    pub site: Site,
    /// Re-reads configuration and the SPA's files on `POST /reload`.
    pub reload: admin::ReloadFn,
    /// Tenants' domain suffix (`tenancy.domain_suffix`): decides which hosts
    /// are tenants' (status page under `/status`) and which custom domains
    /// (status page at `/`).
    pub domain_suffix: String,
}

/// Runs until `shutdown`, then drains open connections for up to `edge.drain_seconds`.
pub async fn run(
    listeners: Listeners,
    parts: EdgeParts,
    shutdown: CancellationToken,
) -> Result<(), EdgeError> {
    let config = parts.config;
    let (metrics, registry) = (parts.metrics, parts.registry);
    let headers = SecurityHeaders::new(
        config.hsts_max_age,
        config.hsts_include_subdomains,
        config.hsts_preload,
        config.csp.as_deref().unwrap_or(DEFAULT_CSP),
    );
    let limits = Limits {
        max_body_bytes: config.max_body_bytes,
        max_header_bytes: config.max_header_bytes,
        read_timeout: Duration::from_secs(config.read_timeout_seconds),
        write_timeout: Duration::from_secs(config.write_timeout_seconds),
        keepalive: Duration::from_secs(config.keepalive_seconds),
    };
    let cache = (config.cache_max_bytes > 0).then(|| {
        EdgeCache::new(
            usize::try_from(config.cache_max_bytes).unwrap_or(usize::MAX),
            usize::try_from(config.cache_max_object_bytes).unwrap_or(usize::MAX),
        )
    });
    let edge = Arc::new(
        Edge::new(
            parts.site,
            upstream_pool(&parts.app_upstreams)?,
            headers,
            limits,
            metrics.clone(),
        )
        .with_routing(&parts.domain_suffix, cache),
    );
    let server_conf = Arc::new(ServerConf::default());
    let https_app = Arc::new(http_proxy(&server_conf, EdgeProxy(edge.clone())));
    let plain_app = Arc::new(http_proxy(
        &server_conf,
        PlainProxy {
            challenges: parts.challenges,
            https_port: listeners
                .https
                .local_addr()
                .map(|a| a.port())
                .unwrap_or(443),
            health_over_http: config.health_over_http,
            edge: EdgeProxy(edge.clone()),
        },
    ));
    let acceptor = Arc::new(
        TlsAcceptor::new(
            parts.certs.clone(),
            Duration::from_secs(config.handshake_timeout_seconds),
            Duration::from_secs(config.read_timeout_seconds),
        )
        .map_err(|e| EdgeError::Tls(e.to_string()))?
        .with_connections(edge.connections.clone()),
    );
    let (drain_tx, drain_rx) = tokio::sync::watch::channel(false);
    let drain_token = CancellationToken::new();
    let tracker = TaskTracker::new();
    let limit = ConnectionLimits {
        total: Arc::new(Semaphore::new(config.max_connections)),
        per_address: AddressLimit::new(config.max_connections_per_address),
        refused: metrics.refused.clone(),
    };

    tracker.spawn(run_health_checks(edge.clone(), shutdown.clone()));
    let admin_state = admin::AdminState {
        token: config.admin_token.clone(),
        registry: registry.clone(),
        certs: parts.certs,
        edge: edge.clone(),
        reload: parts.reload,
    };
    let admin_task = tokio::spawn(admin::serve(listeners.admin, admin_state, shutdown.clone()));

    let metrics_gauge = metrics.connections.clone();
    let https = {
        let (acceptor, app, metrics, tracker, limit, drain, shutdown) = (
            acceptor,
            https_app,
            metrics.clone(),
            tracker.clone(),
            limit.clone(),
            drain_rx.clone(),
            shutdown.clone(),
        );
        let drain_token = drain_token.clone();
        accept_loop(
            listeners.https,
            limit,
            metrics.connections.clone(),
            shutdown,
            tracker,
            move |tcp| {
                let (acceptor, app, metrics, mut drain, drain_token) = (
                    acceptor.clone(),
                    app.clone(),
                    metrics.clone(),
                    drain.clone(),
                    drain_token.clone(),
                );
                async move {
                    // Boxed: the handshake's state (ClientHello reader, rustls
                    // acceptor, resolver) is freed once it ends, instead of
                    // sizing the task an idle connection keeps for its life.
                    let (outcome, connection) =
                        Box::pin(acceptor.accept(tcp, drain_token.clone())).await;
                    metrics
                        .handshakes
                        .get_or_create(&HandshakeLabels {
                            outcome: outcome.as_str(),
                        })
                        .inc();
                    if let (Outcome::Ok, Some(connection)) = (outcome, connection) {
                        serve_connection(&app, Box::new(connection), &mut drain).await;
                    }
                }
            },
        )
    };
    let http = {
        let (app, tracker, limit, drain, shutdown) = (
            plain_app,
            tracker.clone(),
            limit.clone(),
            drain_rx.clone(),
            shutdown.clone(),
        );
        accept_loop(
            listeners.http,
            limit,
            metrics_gauge.clone(),
            shutdown,
            tracker,
            move |tcp| {
                let (app, mut drain) = (app.clone(), drain.clone());
                async move {
                    let stream: pingora_core::protocols::l4::stream::Stream = tcp.into();
                    serve_connection(&app, Box::new(stream), &mut drain).await;
                }
            },
        )
    };
    tracing::info!("edge listening");
    tokio::join!(https, http);
    // Listeners are closed; tell keep-alive connections to finish, then wait.
    edge.draining
        .store(true, std::sync::atomic::Ordering::Relaxed);
    let _ = drain_tx.send(true);
    drain_token.cancel();
    tracker.close();
    let drained =
        tokio::time::timeout(Duration::from_secs(config.drain_seconds), tracker.wait()).await;
    if drained.is_err() {
        tracing::warn!(
            open = metrics_gauge.get(),
            "drain timed out; closing remaining connections"
        );
    }
    let _ = admin_task.await;
    Ok(())
}

async fn serve_connection<A: ServerApp + Send + Sync + 'static>(
    app: &Arc<A>,
    mut stream: Stream,
    drain: &mut tokio::sync::watch::Receiver<bool>,
) {
    while let Some(next) = app.process_new(stream, drain).await {
        stream = next;
    }
    tracing::debug!("connection closed");
}

/// The connection limits both listeners share, and the count of refusals.
#[derive(Clone)]
struct ConnectionLimits {
    total: Arc<Semaphore>,
    per_address: Arc<AddressLimit>,
    refused: Family<RefusedLabels, Counter>,
}

impl ConnectionLimits {
    /// Places for a connection from `peer`, or `None` (counted) when the
    /// edge is full or that address has its share open.
    fn admit(&self, peer: SocketAddr) -> Option<(OwnedSemaphorePermit, AddressPlace)> {
        let refuse = |reason| {
            self.refused.get_or_create(&RefusedLabels { reason }).inc();
            None
        };
        let Some(place) = self.per_address.try_take(peer.ip()) else {
            return refuse("per_address");
        };
        match self.total.clone().try_acquire_owned() {
            Ok(permit) => Some((permit, place)),
            Err(_) => refuse("max_connections"),
        }
    }
}

async fn accept_loop<F, Fut>(
    listener: TcpListener,
    limit: ConnectionLimits,
    open: prometheus_client::metrics::gauge::Gauge,
    shutdown: CancellationToken,
    tracker: TaskTracker,
    handle: F,
) where
    F: Fn(tokio::net::TcpStream) -> Fut,
    Fut: std::future::Future<Output = ()> + Send + 'static,
{
    loop {
        let accepted = tokio::select! {
            () = shutdown.cancelled() => return,
            accepted = listener.accept() => accepted,
        };
        let (tcp, peer) = match accepted {
            Ok(accepted) => accepted,
            Err(err) => {
                // Out of file descriptors and the like: back off instead of spinning.
                tracing::warn!(error = %err, "accept failed");
                tokio::time::sleep(Duration::from_millis(20)).await;
                continue;
            }
        };
        let Some(places) = limit.admit(peer) else {
            drop(tcp);
            continue;
        };
        let _ = tcp.set_nodelay(true);
        let work = handle(tcp);
        let open = open.clone();
        tracker.spawn(async move {
            open.inc();
            work.await;
            open.dec();
            drop(places);
        });
    }
}
