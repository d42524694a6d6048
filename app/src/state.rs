//! Shared state handed to every handler.

use std::sync::Arc;

use prometheus_client::registry::Registry;

use crate::auth::Keys;
use crate::auth::rate_limit::RateLimiter;
use crate::config::{AuthConfig, BillingConfig, ProberConfig, TenancyConfig};
use crate::db::Database;
use crate::mail::Mailer;
use crate::metrics::AppMetrics;
use crate::tenancy::dns::DnsChecker;

/// Settings the app reads at request time.
#[derive(Debug, Clone)]
pub struct AppSettings {
    /// Production rules: Secure cookies, no mail bodies in logs.
    pub production: bool,
    /// Sessions, passwords and limits.
    pub auth: AuthConfig,
    /// Tenant hostnames and links.
    pub tenancy: TenancyConfig,
    /// Probing: targets allowed, retention (and the Free plan's older limit keys).
    pub prober: ProberConfig,
    /// Stripe and the plans; with billing off no tenant has limits.
    pub billing: BillingConfig,
}

/// Everything a request may need; built once at start.
#[derive(Debug)]
pub struct App {
    /// The database every role shares.
    pub db: Database,
    /// Request counters and latencies of this crate.
    pub metrics: AppMetrics,
    /// The process's metrics registry, rendered by `/metrics`.
    pub registry: Arc<Registry>,
    /// Request-time settings.
    pub settings: AppSettings,
    /// Keys derived from `secret_key`.
    pub keys: Keys,
    /// Flood guards for signup, login, reset and refresh.
    pub limiter: RateLimiter,
    /// Outgoing mail.
    pub mailer: Mailer,
    /// DNS look-ups for custom-domain verification.
    pub dns: DnsChecker,
    /// This node's fan-out of live events to open streams.
    pub events: crate::events::hub::Hub,
    /// Guarded outbound HTTP (test alerts); `None` when the client could not be built (logged).
    pub probes: Option<crate::monitor::probe::Probes>,
    /// Plans, limits and the Stripe client.
    pub billing: crate::billing::Billing,
}

/// Cheap-to-clone handle on [`App`] for axum's `State`.
#[derive(Debug, Clone)]
pub struct AppState(pub Arc<App>);

impl std::ops::Deref for AppState {
    type Target = App;

    fn deref(&self) -> &App {
        &self.0
    }
}

impl App {
    /// Assembles the app; `metrics` are registered in `registry`, keys derive from `secret_key`.
    pub fn build(
        db: Database,
        metrics: AppMetrics,
        registry: Arc<Registry>,
        settings: AppSettings,
        secret_key: &[u8],
        mailer: Mailer,
    ) -> AppState {
        let dns = DnsChecker::new(settings.tenancy.dns_server);
        let probes = crate::monitor::probe::Probes::new(&settings.prober)
            .inspect_err(|err| tracing::error!(error = %err, "test alerts are unavailable"))
            .ok();
        let billing = crate::billing::Billing::new(&settings.billing, &settings.prober);
        AppState(Arc::new(Self {
            billing,
            events: crate::events::hub::Hub::new(db.clone()),
            db,
            metrics,
            registry,
            keys: Keys::derive(secret_key),
            limiter: RateLimiter::default(),
            mailer,
            dns,
            probes,
            settings,
        }))
    }
}
