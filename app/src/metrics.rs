//! Prometheus metrics of the app, all prefixed `app_`.

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;

/// Labels of one HTTP request; `route` is the matched route template, so the set stays bounded.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RequestLabels {
    /// Route template such as `/health/ready/`, or `unmatched`.
    pub route: String,
    /// HTTP method.
    pub method: String,
    /// Response status code.
    pub status: u16,
}

/// Labels of a latency observation.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RouteLabels {
    /// Route template, or `unmatched`.
    pub route: String,
}

fn latency_histogram() -> Histogram {
    Histogram::new([
        0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0,
    ])
}

/// The app's metrics, registered once and cloned into handlers.
#[derive(Debug, Clone)]
pub struct AppMetrics {
    /// `app_http_requests_total`: requests answered, by route, method and status.
    pub http_requests: Family<RequestLabels, Counter>,
    /// `app_http_request_duration_seconds`: time to answer, by route.
    pub http_duration: Family<RouteLabels, Histogram, fn() -> Histogram>,
    /// `app_database_ready`: 1 when the last readiness check found the database usable.
    pub database_ready: Gauge,
}

impl AppMetrics {
    /// Creates the metrics and registers them under the `app_` prefix.
    pub fn register(registry: &mut Registry) -> Self {
        let metrics = Self {
            http_requests: Family::default(),
            http_duration: Family::new_with_constructor(latency_histogram),
            database_ready: Gauge::default(),
        };
        let app = registry.sub_registry_with_prefix("app");
        app.register(
            "http_requests",
            "HTTP requests answered, by route template, method and status",
            metrics.http_requests.clone(),
        );
        app.register(
            "http_request_duration_seconds",
            "Time to answer an HTTP request, by route template",
            metrics.http_duration.clone(),
        );
        app.register(
            "database_ready",
            "1 when the last readiness check reached the database with a current schema",
            metrics.database_ready.clone(),
        );
        metrics
    }
}
