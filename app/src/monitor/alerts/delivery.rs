//! The delivery worker and log: queued alerts are leased (so two probers never
//! send the same one), sent, and retried with growing delays until they go
//! through or run out of attempts.

use std::time::Duration;

use serde::Serialize;
use tokio_util::sync::CancellationToken;
use utoipa::ToSchema;

use super::channels::{self, ChannelError};
use super::{AlertPayload, Sender};
use crate::clock::{new_id, now_ms};
use crate::db::{Database, DbError};
use crate::monitor::metrics::ProberMetrics;

/// Runs delivery rounds until `shutdown`: at once again while a round found
/// work, after 500 ms when it found none, after 2 s when it failed (logged as
/// `failed`). Shared by the alert and the status-page subscriber queues.
pub(crate) async fn run_rounds<F, Fut>(
    shutdown: CancellationToken,
    failed: &'static str,
    mut round: F,
) where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<usize, DbError>>,
{
    while !shutdown.is_cancelled() {
        let pause = match round().await {
            Ok(0) => Duration::from_millis(500),
            Ok(_) => Duration::ZERO,
            Err(err) => {
                tracing::warn!(error = %err, "{failed}");
                Duration::from_secs(2)
            }
        };
        tokio::select! {
            () = shutdown.cancelled() => return,
            () = tokio::time::sleep(pause) => {}
        }
    }
}

/// Attempts before a delivery is given up.
pub const MAX_ATTEMPTS: i64 = 6;

/// One row of the delivery log.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Delivery {
    /// Delivery id.
    pub id: String,
    /// The channel sent to (`/api/alert-channels/{id}`).
    pub channel_id: String,
    /// Monitor, if it still exists.
    pub monitor_id: Option<String>,
    /// `down`, `up`, `degraded` or `test`.
    pub event: String,
    /// `pending`, `sent` or `failed`.
    pub status: String,
    /// Attempts so far.
    pub attempts: i64,
    /// Why the last attempt failed.
    pub last_error: Option<String>,
    /// Queued, ms.
    pub created_at: i64,
    /// Delivered, ms.
    pub sent_at: Option<i64>,
}

type Row = (
    String,
    String,
    Option<String>,
    String,
    String,
    i64,
    Option<String>,
    i64,
    Option<i64>,
);

fn delivery(r: Row) -> Delivery {
    Delivery {
        id: r.0,
        channel_id: r.1,
        monitor_id: r.2,
        event: r.3,
        status: r.4,
        attempts: r.5,
        last_error: r.6,
        created_at: r.7,
        sent_at: r.8,
    }
}

/// The tenant's deliveries, newest first.
pub async fn list(db: &Database, tenant_id: &str, limit: i64) -> Result<Vec<Delivery>, DbError> {
    let rows: Vec<Row> = sqlx::query_as(
        "SELECT id, channel_id, monitor_id, event, status, attempts, last_error, created_at, sent_at \
         FROM alert_deliveries WHERE tenant_id = $1 ORDER BY created_at DESC, id DESC LIMIT $2",
    )
    .bind(tenant_id)
    .bind(limit)
    .fetch_all(db.pool())
    .await?;
    Ok(rows.into_iter().map(delivery).collect())
}

/// Sends a test alert to one channel now and logs it.
pub async fn send_test(
    db: &Database,
    sender: &Sender,
    tenant_id: &str,
    channel_id: &str,
) -> Result<Delivery, ChannelError> {
    let channel = channels::stored(db, tenant_id, channel_id).await?;
    let now = now_ms();
    let payload = AlertPayload {
        event: "test".into(),
        monitor_id: String::new(),
        monitor_name: "Test monitor".into(),
        kind: "http".into(),
        target: "https://example.com/".into(),
        state: "down".into(),
        previous_state: "up".into(),
        reason: Some("this is a test alert".into()),
        incident_id: None,
        at: now,
    };
    let outcome = sender.send(&channel, &payload).await;
    let (status, error, sent_at) = match &outcome {
        Ok(()) => ("sent", None, Some(now_ms())),
        Err(err) => ("failed", Some(err.to_string()), None),
    };
    let row: Row = (
        new_id(),
        channel.id.clone(),
        None,
        "test".into(),
        status.into(),
        1,
        error,
        now,
        sent_at,
    );
    sqlx::query(
        "INSERT INTO alert_deliveries (id, tenant_id, channel_id, event_key, event, payload, status, \
         attempts, next_attempt_at, last_error, created_at, sent_at) \
         VALUES ($1, $2, $3, $4, 'test', $5, $6, 1, $7, $8, $7, $9)",
    )
    .bind(&row.0)
    .bind(tenant_id)
    .bind(&row.1)
    .bind(format!("test:{}", row.0))
    .bind(serde_json::to_string(&payload).unwrap_or_default())
    .bind(status)
    .bind(now)
    .bind(&row.6)
    .bind(row.8)
    .execute(db.pool())
    .await?;
    Ok(delivery(row))
}

/// Sends queued alerts.
#[derive(Debug, Clone)]
pub struct DeliveryWorker {
    db: Database,
    sender: Sender,
    owner: String,
    /// First retry delay, ms; each further one is four times longer (capped at an hour).
    backoff_ms: i64,
    metrics: ProberMetrics,
}

impl DeliveryWorker {
    /// A worker leasing deliveries as `owner`.
    pub fn new(
        db: Database,
        sender: Sender,
        owner: String,
        backoff_ms: i64,
        metrics: ProberMetrics,
    ) -> Self {
        Self {
            db,
            sender,
            owner,
            backoff_ms,
            metrics,
        }
    }

    /// Sends until `shutdown`.
    pub async fn run(self, shutdown: CancellationToken) {
        let this = &self;
        run_rounds(shutdown, "alert delivery round failed", || this.tick()).await;
    }

    /// Leases and sends the due deliveries; returns how many were tried.
    pub async fn tick(&self) -> Result<usize, DbError> {
        let now = now_ms();
        let dialect = self.db.dialect();
        let mut tx = self.db.begin_write().await?;
        let leased: Vec<(String, String, String, String, i64)> = sqlx::query_as(&format!(
            "UPDATE alert_deliveries SET lease_owner = $1, lease_expires_at = $2 WHERE id IN (\
             SELECT id FROM alert_deliveries WHERE status = 'pending' AND next_attempt_at <= $3 \
             AND (lease_owner IS NULL OR lease_expires_at < $3) \
             ORDER BY next_attempt_at LIMIT 20{}) \
             RETURNING id, tenant_id, channel_id, payload, attempts",
            dialect.skip_locked()
        ))
        .bind(&self.owner)
        // Longer than the 10 s send timeout, so a live worker keeps its lease.
        .bind(now + 60_000)
        .bind(now)
        .fetch_all(&mut *tx)
        .await?;
        tx.commit().await?;
        for (id, tenant_id, channel_id, payload, attempts) in &leased {
            let attempts = attempts + 1;
            let result = match (
                channels::stored(&self.db, tenant_id, channel_id).await,
                serde_json::from_str::<AlertPayload>(payload),
            ) {
                (Ok(channel), Ok(payload)) => self.sender.send(&channel, &payload).await,
                (Err(err), _) => Err(super::SendError::Config(err.to_string())),
                (_, Err(err)) => Err(super::SendError::Config(err.to_string())),
            };
            let (status, error, next, sent_at) = match result {
                Ok(()) => {
                    self.metrics.alerts_sent.inc();
                    ("sent", None, now, Some(now_ms()))
                }
                Err(err) => {
                    self.metrics.alerts_failed.inc();
                    tracing::warn!(delivery = %id, attempt = attempts, error = %err, "alert not delivered");
                    let status = if attempts >= MAX_ATTEMPTS {
                        "failed"
                    } else {
                        "pending"
                    };
                    let exp = u32::try_from(attempts - 1).unwrap_or(0).min(10);
                    let delay = self
                        .backoff_ms
                        .saturating_mul(4_i64.saturating_pow(exp))
                        .min(3_600_000);
                    (status, Some(err.to_string()), now_ms() + delay, None)
                }
            };
            sqlx::query(
                "UPDATE alert_deliveries SET status = $1, attempts = $2, last_error = $3, \
                 next_attempt_at = $4, sent_at = $5, lease_owner = NULL, lease_expires_at = NULL \
                 WHERE id = $6 AND lease_owner = $7",
            )
            .bind(status)
            .bind(attempts)
            .bind(error)
            .bind(next)
            .bind(sent_at)
            .bind(id)
            .bind(&self.owner)
            .execute(self.db.pool())
            .await?;
        }
        Ok(leased.len())
    }
}
