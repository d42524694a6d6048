//! Prometheus metrics of the edge, all prefixed `edge_`.

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;

/// Labels of an answered request: route class and status (bounded sets).
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RequestLabels {
    /// `app`, `static` or `refused`.
    pub route: &'static str,
    /// HTTP status.
    pub status: u16,
}

/// Labels of a latency observation.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RouteLabels {
    /// Route class.
    pub route: &'static str,
}

/// Labels of a cache outcome.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct CacheLabels {
    /// `hit`, `miss`, `stale` (served stale: while revalidating or on an app
    /// error), `revalidated` (304 from the app) or `bypass` (not cacheable).
    pub result: &'static str,
}

/// Every cache outcome label, in the order the admin API lists them.
pub const CACHE_RESULTS: [&str; 5] = ["hit", "miss", "stale", "revalidated", "bypass"];

/// Labels of a TLS handshake.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct HandshakeLabels {
    /// `ok`, `unknown_name`, `malformed`, `timeout`, `issue_failed`, `failed`.
    pub outcome: &'static str,
}

/// Labels of a refused connection.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RefusedLabels {
    /// `max_connections` (the edge is full) or `per_address` (that client
    /// address has its share open).
    pub reason: &'static str,
}

/// Labels of an upstream's health.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct UpstreamLabels {
    /// `host:port` of an app node (operator-configured, so bounded).
    pub upstream: String,
}

fn latency() -> Histogram {
    Histogram::new([
        0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0,
    ])
}

/// The edge's metrics.
#[derive(Debug, Clone)]
pub struct EdgeMetrics {
    /// `edge_requests_total`: answers by route class and status.
    pub requests: Family<RequestLabels, Counter>,
    /// `edge_request_duration_seconds`: time to answer, by route class.
    pub duration: Family<RouteLabels, Histogram, fn() -> Histogram>,
    /// `edge_tls_handshakes_total`: handshakes by outcome.
    pub handshakes: Family<HandshakeLabels, Counter>,
    /// `edge_connections_open`: client connections now open.
    pub connections: Gauge,
    /// `edge_connections_refused_total`: connections closed at once, by reason.
    pub refused: Family<RefusedLabels, Counter>,
    /// `edge_upstream_healthy`: 1 when an app node passes its health check.
    pub upstream_healthy: Family<UpstreamLabels, Gauge>,
    /// `edge_certificates`: names held, by state (set when scraped).
    pub certificates: Family<CertLabels, Gauge>,
    /// `edge_cert_policy_queries`: domain-policy queries made (the negative cache keeps it low).
    pub policy_queries: Gauge,
    /// `edge_acme_orders`: certificate orders this node placed.
    pub acme_orders: Gauge,
    /// `edge_cache_requests_total`: app-bound requests by cache outcome.
    pub cache: Family<CacheLabels, Counter>,
    /// `edge_cache_entries`: answers stored (set when scraped).
    pub cache_entries: Gauge,
    /// `edge_cache_bytes`: bytes the stored answers hold (set when scraped).
    pub cache_bytes: Gauge,
}

/// Labels of the certificate count.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct CertLabels {
    /// `ready` or `refused`.
    pub state: &'static str,
}

impl EdgeMetrics {
    /// Creates and registers the metrics under `edge_`.
    pub fn register(registry: &mut Registry) -> Self {
        let metrics = Self {
            requests: Family::default(),
            duration: Family::new_with_constructor(latency),
            handshakes: Family::default(),
            connections: Gauge::default(),
            refused: Family::default(),
            upstream_healthy: Family::default(),
            certificates: Family::default(),
            policy_queries: Gauge::default(),
            acme_orders: Gauge::default(),
            cache: Family::default(),
            cache_entries: Gauge::default(),
            cache_bytes: Gauge::default(),
        };
        let edge = registry.sub_registry_with_prefix("edge");
        edge.register(
            "requests",
            "Answers by route class and status",
            metrics.requests.clone(),
        );
        edge.register(
            "request_duration_seconds",
            "Time to answer, by route class",
            metrics.duration.clone(),
        );
        edge.register(
            "tls_handshakes",
            "TLS handshakes by outcome",
            metrics.handshakes.clone(),
        );
        edge.register(
            "connections_open",
            "Client connections now open",
            metrics.connections.clone(),
        );
        edge.register(
            "connections_refused",
            "Connections closed at once: the edge full, or the client address at its share",
            metrics.refused.clone(),
        );
        edge.register(
            "upstream_healthy",
            "1 when an app node passes its health check",
            metrics.upstream_healthy.clone(),
        );
        edge.register(
            "certificates",
            "Names held by the certificate manager, by state",
            metrics.certificates.clone(),
        );
        edge.register(
            "cert_policy_queries",
            "Domain-policy queries made so far",
            metrics.policy_queries.clone(),
        );
        edge.register(
            "acme_orders",
            "Certificate orders this node placed",
            metrics.acme_orders.clone(),
        );
        edge.register(
            "cache_requests",
            "App-bound requests by cache outcome (hit, miss, stale, revalidated, bypass)",
            metrics.cache.clone(),
        );
        edge.register(
            "cache_entries",
            "Answers in the cache",
            metrics.cache_entries.clone(),
        );
        edge.register(
            "cache_bytes",
            "Bytes the cached answers hold",
            metrics.cache_bytes.clone(),
        );
        metrics
    }

    /// Counts one cache outcome (one of [`CACHE_RESULTS`]).
    pub fn observe_cache(&self, result: &'static str) {
        self.cache.get_or_create(&CacheLabels { result }).inc();
    }

    /// How many requests had `result` so far.
    pub fn cache_count(&self, result: &'static str) -> u64 {
        self.cache.get_or_create(&CacheLabels { result }).get()
    }

    /// Records one answered request.
    pub fn observe_request(&self, route: &'static str, status: u16, seconds: f64) {
        self.requests
            .get_or_create(&RequestLabels { route, status })
            .inc();
        self.duration
            .get_or_create(&RouteLabels { route })
            .observe(seconds);
    }
}
