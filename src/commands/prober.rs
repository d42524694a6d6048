//! The prober role: the scheduler that checks monitors, the alert delivery
//! worker, status-page subscriber deliveries (and announcing maintenance as
//! it starts), and roll-ups with retention. `statuswatch prober` runs it alone
//! (several processes share one PostgreSQL through leases); `serve` runs it
//! beside the app and the edge.

use std::time::Duration;

use anyhow::Context;
use app::db::Database;
use app::mail::Mailer;
use app::monitor::alerts::Sender;
use app::monitor::alerts::delivery::DeliveryWorker;
use app::monitor::metrics::ProberMetrics;
use app::monitor::probe::Probes;
use app::monitor::rollup;
use app::monitor::scheduler::Scheduler;
use app::status_page::subscribers::delivery::SubscriberDeliveryWorker;
use app::status_page::subscribers::notify::MaintenanceStarts;
use prometheus_client::registry::Registry;
use secrecy::ExposeSecret;
use tokio_util::sync::CancellationToken;

use crate::settings::{Environment, Loaded};

/// How often roll-ups and retention run.
const ROLLUP_EVERY: Duration = Duration::from_secs(300);
/// First delay before a failed alert is retried, ms (then ×4 each time).
const ALERT_BACKOFF_MS: i64 = 10_000;
/// How often maintenance whose start has come is announced to subscribers.
const MAINTENANCE_STARTS_EVERY: Duration = Duration::from_secs(30);

/// Registers the prober's metrics in the process registry.
pub fn register(registry: &mut Registry) -> ProberMetrics {
    ProberMetrics::register(registry)
}

/// Runs the prober until `shutdown`: checks, alert deliveries, roll-ups and retention.
pub async fn run(
    loaded: &Loaded,
    db: Database,
    metrics: ProberMetrics,
    shutdown: CancellationToken,
) -> anyhow::Result<()> {
    let settings = &loaded.settings;
    // An app node (or `statuswatch migrate`) migrates; until then there is nothing to probe.
    loop {
        let status = db
            .migrations()
            .status()
            .await
            .context("reading migration status")?;
        if status.is_current() {
            break;
        }
        tracing::warn!(status = %status.describe(), "schema not current; the prober waits (run `statuswatch migrate`)");
        tokio::select! {
            () = shutdown.cancelled() => return Ok(()),
            () = tokio::time::sleep(Duration::from_secs(10)) => {}
        }
    }
    let production = loaded.environment == Environment::Production;
    let mailer = Mailer::from_config(&settings.email, production).context("email configuration")?;
    let probes = Probes::new(&settings.prober).context("prober setup")?;
    let sender = Sender::new(
        mailer,
        probes.webhook_client().clone(),
        probes.guard().clone(),
    );
    let scheduler = Scheduler::new(db.clone(), probes, settings.prober.clone(), metrics.clone());
    // Subscriber mails carry signed unsubscribe links, so they need the app's keys.
    let secret = settings
        .secret_key
        .as_ref()
        .map(|k| k.expose_secret().as_bytes().to_vec())
        .context("secret_key is not set")?;
    let subscriber_worker = SubscriberDeliveryWorker::new(
        db.clone(),
        sender.clone(),
        app::auth::Keys::derive(&secret),
        scheduler.owner().to_owned(),
        ALERT_BACKOFF_MS,
        metrics.clone(),
    );
    let worker = DeliveryWorker::new(
        db.clone(),
        sender,
        scheduler.owner().to_owned(),
        ALERT_BACKOFF_MS,
        metrics,
    );
    tracing::info!(
        region = %settings.prober.region,
        allow_private_targets = settings.prober.allow_private_targets,
        "prober running"
    );
    let mut tasks = tokio::task::JoinSet::new();
    tasks.spawn(scheduler.run(shutdown.clone()));
    tasks.spawn(worker.run(shutdown.clone()));
    tasks.spawn(subscriber_worker.run(shutdown.clone()));
    tasks.spawn(MaintenanceStarts::new(db.clone(), MAINTENANCE_STARTS_EVERY).run(shutdown.clone()));
    // Raw results are kept per tenant for its plan's days when billing is on.
    let plans = app::billing::plans::Plans::resolve(&settings.billing, &settings.prober);
    tasks.spawn(rollup::run(
        db,
        settings.prober.clone(),
        plans.enabled().then_some(plans),
        ROLLUP_EVERY,
        shutdown.clone(),
    ));
    while let Some(joined) = tasks.join_next().await {
        joined.context("prober task panicked")?;
    }
    Ok(())
}
