//! The subscriber delivery worker: queued confirmation mails, announcement
//! mails and webhook calls are leased (so two probers never send the same
//! one), sent, and retried with growing delays, as alert deliveries are. The
//! queue is in the database, so what a stopped worker left is sent by the
//! next one.

use tokio_util::sync::CancellationToken;

use super::notify::Notice;
use super::render::{self, Links};
use super::tokens;
use crate::auth::Keys;
use crate::clock::now_ms;
use crate::db::{Database, DbError};
use crate::monitor::alerts::Sender;
use crate::monitor::metrics::{DeliveryLabels, ProberMetrics};

/// Attempts before a delivery is given up.
pub const MAX_ATTEMPTS: i64 = 6;

/// What one attempt came to.
enum Outcome {
    Sent,
    /// Nothing to send any more (unsubscribed, already confirmed, …).
    Skipped(&'static str),
    Failed(String),
}

type Loaded = (
    String,
    String,
    String,
    Option<String>,
    String,
    i64,
    Option<i64>,
    Option<i64>,
    String,
    Option<String>,
);

/// Sends queued subscriber deliveries.
#[derive(Debug, Clone)]
pub struct SubscriberDeliveryWorker {
    db: Database,
    sender: Sender,
    keys: Keys,
    owner: String,
    /// First retry delay, ms; each further one is four times longer (capped at an hour).
    backoff_ms: i64,
    metrics: ProberMetrics,
}

impl SubscriberDeliveryWorker {
    /// A worker leasing deliveries as `owner`; `keys` sign the links in mails.
    pub fn new(
        db: Database,
        sender: Sender,
        keys: Keys,
        owner: String,
        backoff_ms: i64,
        metrics: ProberMetrics,
    ) -> Self {
        Self {
            db,
            sender,
            keys,
            owner,
            backoff_ms,
            metrics,
        }
    }

    /// Sends until `shutdown`.
    pub async fn run(self, shutdown: CancellationToken) {
        let this = &self;
        crate::monitor::alerts::delivery::run_rounds(
            shutdown,
            "subscriber delivery round failed",
            || this.tick(),
        )
        .await;
    }

    /// Leases and sends the due deliveries; returns how many were tried.
    pub async fn tick(&self) -> Result<usize, DbError> {
        let now = now_ms();
        let mut tx = self.db.begin_write().await?;
        let leased: Vec<(String, String, i64)> = sqlx::query_as(&format!(
            "UPDATE status_deliveries SET lease_owner = $1, lease_expires_at = $2 WHERE id IN (\
             SELECT id FROM status_deliveries WHERE status = 'pending' AND next_attempt_at <= $3 \
             AND (lease_owner IS NULL OR lease_expires_at < $3) \
             ORDER BY next_attempt_at LIMIT 20{}) \
             RETURNING id, tenant_id, attempts",
            self.db.dialect().skip_locked()
        ))
        .bind(&self.owner)
        // Longer than the 10 s webhook and 15 s SMTP timeouts, so a live worker keeps its lease.
        .bind(now + 60_000)
        .bind(now)
        .fetch_all(&mut *tx)
        .await?;
        tx.commit().await?;
        for (id, tenant_id, attempts) in &leased {
            let attempts = attempts + 1;
            let outcome = self.attempt(id, tenant_id).await?;
            let label = match &outcome {
                Outcome::Sent => "sent",
                Outcome::Skipped(_) => "skipped",
                Outcome::Failed(_) => "failed",
            };
            self.metrics
                .subscriber_deliveries
                .get_or_create(&DeliveryLabels { outcome: label })
                .inc();
            let (status, error, next, sent_at) = match outcome {
                Outcome::Sent => ("sent", None, now, Some(now_ms())),
                Outcome::Skipped(why) => ("skipped", Some(why.to_owned()), now, None),
                Outcome::Failed(err) => {
                    tracing::warn!(delivery = %id, attempt = attempts, error = %err, "subscriber update not delivered");
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
                    (status, Some(err), now_ms() + delay, None)
                }
            };
            sqlx::query(
                "UPDATE status_deliveries SET status = $1, attempts = $2, last_error = $3, \
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

    /// Renders and sends one delivery.
    async fn attempt(&self, id: &str, tenant_id: &str) -> Result<Outcome, DbError> {
        let row: Option<Loaded> = sqlx::query_as(
            "SELECT d.event, s.id, s.kind, s.secret, s.address, s.token_stamp, s.confirmed_at, \
             s.unsubscribed_at, s.origin, n.payload \
             FROM status_deliveries d JOIN status_subscribers s ON s.id = d.subscriber_id \
             LEFT JOIN status_notices n ON n.id = d.notice_id \
             WHERE d.id = $1 AND d.tenant_id = $2",
        )
        .bind(id)
        .bind(tenant_id)
        .fetch_optional(self.db.pool())
        .await?;
        let Some((
            event,
            subscriber,
            kind,
            secret,
            address,
            stamp,
            confirmed,
            unsubscribed,
            origin,
            payload,
        )) = row
        else {
            return Ok(Outcome::Skipped("subscriber removed"));
        };
        if unsubscribed.is_some() {
            return Ok(Outcome::Skipped("unsubscribed"));
        }
        if event == "subscription.confirm" {
            if confirmed.is_some() {
                return Ok(Outcome::Skipped("confirmed already"));
            }
            let title: Option<String> = sqlx::query_scalar(
                "SELECT p.title FROM status_pages p JOIN status_subscribers s ON s.page_id = p.id \
                 WHERE s.id = $1 AND s.tenant_id = $2",
            )
            .bind(&subscriber)
            .bind(tenant_id)
            .fetch_optional(self.db.pool())
            .await?;
            let token = tokens::confirm_token(&self.keys, &subscriber, stamp);
            let mail = render::confirmation(
                &address,
                title.as_deref().unwrap_or("a status page"),
                &origin,
                &token,
            );
            return Ok(match self.sender.mailer().send(mail).await {
                Ok(()) => Outcome::Sent,
                Err(err) => Outcome::Failed(err.to_string()),
            });
        }
        if confirmed.is_none() {
            return Ok(Outcome::Skipped("not confirmed"));
        }
        let Some(notice) = payload.and_then(|p| serde_json::from_str::<Notice>(&p).ok()) else {
            return Ok(Outcome::Skipped("announcement unreadable"));
        };
        let links = Links {
            origin,
            unsubscribe_token: tokens::unsubscribe_token(&self.keys, &subscriber, stamp),
        };
        let result = if kind == "webhook" {
            self.sender
                .webhook(
                    &address,
                    &notice.event,
                    render::webhook(&notice, &links),
                    secret.as_deref(),
                )
                .await
                .map_err(|e| e.to_string())
        } else {
            let (mail, headers) = render::announcement(&address, &notice, &links);
            self.sender
                .mailer()
                .send_with_headers(mail, &headers)
                .await
                .map_err(|e| e.to_string())
        };
        Ok(match result {
            Ok(()) => Outcome::Sent,
            Err(err) => Outcome::Failed(err),
        })
    }
}
