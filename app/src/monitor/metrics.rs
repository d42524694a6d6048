//! Prometheus metrics of the prober, all prefixed `prober_`.

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;

/// Labels of a finished check; both values come from small fixed sets.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct CheckLabels {
    /// Monitor kind.
    pub kind: &'static str,
    /// `up`, `degraded` or `down`.
    pub outcome: &'static str,
}

/// Labels of a subscriber delivery attempt: one of a small fixed set.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct DeliveryLabels {
    /// `sent`, `failed` (this attempt) or `skipped` (nothing left to send).
    pub outcome: &'static str,
}

/// The prober's metrics.
#[derive(Debug, Clone)]
pub struct ProberMetrics {
    /// `prober_checks_total`: checks finished, by kind and outcome.
    pub checks: Family<CheckLabels, Counter>,
    /// `prober_check_start_lateness_seconds`: how long after its due time a check started.
    pub lateness: Histogram,
    /// `prober_checks_in_flight`: checks leased and not yet written.
    pub in_flight: Gauge,
    /// `prober_results_written_total`: result rows written.
    pub results_written: Counter,
    /// `prober_write_batches_total`: write transactions (one per batch of results).
    pub write_batches: Counter,
    /// `prober_alerts_sent_total`: alert deliveries that succeeded.
    pub alerts_sent: Counter,
    /// `prober_alerts_failed_total`: alert delivery attempts that failed.
    pub alerts_failed: Counter,
    /// `prober_subscriber_deliveries_total`: status-page subscriber mails and
    /// webhook calls attempted, by outcome.
    pub subscriber_deliveries: Family<DeliveryLabels, Counter>,
}

impl Default for ProberMetrics {
    fn default() -> Self {
        Self {
            checks: Family::default(),
            lateness: Histogram::new([
                0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 0.75, 1.0, 1.5, 2.0, 3.0, 5.0, 10.0, 30.0,
            ]),
            in_flight: Gauge::default(),
            results_written: Counter::default(),
            write_batches: Counter::default(),
            alerts_sent: Counter::default(),
            alerts_failed: Counter::default(),
            subscriber_deliveries: Family::default(),
        }
    }
}

impl ProberMetrics {
    /// Creates the metrics and registers them under the `prober_` prefix.
    pub fn register(registry: &mut Registry) -> Self {
        let metrics = Self::default();
        let r = registry.sub_registry_with_prefix("prober");
        r.register(
            "checks",
            "Checks finished, by kind and outcome",
            metrics.checks.clone(),
        );
        r.register(
            "check_start_lateness_seconds",
            "How long after its due time a check started",
            metrics.lateness.clone(),
        );
        r.register(
            "checks_in_flight",
            "Checks leased and not yet written",
            metrics.in_flight.clone(),
        );
        r.register(
            "results_written",
            "Check results written",
            metrics.results_written.clone(),
        );
        r.register(
            "write_batches",
            "Write transactions of check results",
            metrics.write_batches.clone(),
        );
        r.register(
            "alerts_sent",
            "Alert deliveries that succeeded",
            metrics.alerts_sent.clone(),
        );
        r.register(
            "alerts_failed",
            "Alert delivery attempts that failed",
            metrics.alerts_failed.clone(),
        );
        r.register(
            "subscriber_deliveries",
            "Status-page subscriber mails and webhook calls attempted, by outcome",
            metrics.subscriber_deliveries.clone(),
        );
        metrics
    }
}
