//! Announcements: when a public incident opens, gets an update or is
//! resolved, and when maintenance is scheduled or starts, one notice is
//! written and one delivery queued per confirmed subscriber whose components
//! match (or who chose all; an incident naming no component reaches
//! everyone). The incident functions call `on_created` and `on_update`
//! inside their own transactions, so an incident and its announcement are
//! stored together or not at all; [`MaintenanceStarts`] announces starts as
//! their time comes.

use std::time::Duration;

use serde::{Deserialize, Serialize};
use sqlx::AnyConnection;
use tokio_util::sync::CancellationToken;

use super::PENDING_TTL_MS;
use crate::clock::{new_id, now_ms};
use crate::db::{Database, DbError};

/// What happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Event {
    /// A new incident.
    IncidentCreated,
    /// An update of an open incident.
    IncidentUpdated,
    /// The incident is resolved.
    IncidentResolved,
    /// Maintenance is announced.
    MaintenanceScheduled,
    /// Maintenance has begun (by its time, or an `in_progress` update).
    MaintenanceStarted,
}

impl Event {
    /// The name in payloads and `x-statuswatch-event`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::IncidentCreated => "incident.created",
            Self::IncidentUpdated => "incident.updated",
            Self::IncidentResolved => "incident.resolved",
            Self::MaintenanceScheduled => "maintenance.scheduled",
            Self::MaintenanceStarted => "maintenance.started",
        }
    }
}

/// What every mail and webhook call of one announcement says.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Notice {
    /// `incident.created`, `incident.updated`, `incident.resolved`,
    /// `maintenance.scheduled` or `maintenance.started`.
    pub event: String,
    /// The status page whose subscribers are told.
    pub page_id: String,
    /// That page's title, for the mail's subject.
    pub page_title: String,
    /// The incident or maintenance.
    pub incident_id: String,
    /// `incident` or `maintenance`.
    pub kind: String,
    /// The incident's or maintenance's title.
    pub title: String,
    /// `none`, `maintenance`, `minor`, `major` or `critical`.
    pub impact: String,
    /// Its status after this update (`investigating` … `resolved`, `scheduled` … `completed`).
    pub status: String,
    /// The text of the update announced.
    pub body: String,
    /// Affected components (ids).
    pub component_ids: Vec<String>,
    /// Affected components (names).
    pub component_names: Vec<String>,
    /// Maintenance start, ms.
    pub scheduled_for: Option<i64>,
    /// Maintenance end, ms.
    pub scheduled_until: Option<i64>,
    /// When it was announced, ms.
    pub at: i64,
}

type IncidentRow = (String, String, String, String, Option<i64>, Option<i64>);

/// Writes the notice `key` (once: a second call with the same key does
/// nothing) and queues it for every matching subscriber; returns how many.
async fn announce(
    conn: &mut AnyConnection,
    tenant_id: &str,
    page_id: &str,
    incident_id: &str,
    event: Event,
    key: &str,
    now: i64,
) -> Result<u64, sqlx::Error> {
    let incident: Option<IncidentRow> = sqlx::query_as(
        "SELECT kind, title, impact, status, scheduled_for, scheduled_until FROM status_incidents \
         WHERE id = $1 AND page_id = $2 AND tenant_id = $3",
    )
    .bind(incident_id)
    .bind(page_id)
    .bind(tenant_id)
    .fetch_optional(&mut *conn)
    .await?;
    let Some((kind, title, impact, status, scheduled_for, scheduled_until)) = incident else {
        return Ok(0);
    };
    let page_title: String =
        sqlx::query_scalar("SELECT title FROM status_pages WHERE id = $1 AND tenant_id = $2")
            .bind(page_id)
            .bind(tenant_id)
            .fetch_one(&mut *conn)
            .await?;
    let body: Option<String> = sqlx::query_scalar(
        "SELECT body FROM status_incident_updates WHERE incident_id = $1 AND tenant_id = $2 \
         ORDER BY created_at DESC, id DESC LIMIT 1",
    )
    .bind(incident_id)
    .bind(tenant_id)
    .fetch_optional(&mut *conn)
    .await?;
    let components: Vec<(String, String)> = sqlx::query_as(
        "SELECT c.id, c.name FROM status_incident_components ic \
         JOIN status_components c ON c.id = ic.component_id \
         WHERE ic.incident_id = $1 AND ic.tenant_id = $2 ORDER BY c.position, c.created_at",
    )
    .bind(incident_id)
    .bind(tenant_id)
    .fetch_all(&mut *conn)
    .await?;
    let notice = Notice {
        event: event.as_str().to_owned(),
        page_id: page_id.to_owned(),
        page_title,
        incident_id: incident_id.to_owned(),
        status: if event == Event::MaintenanceStarted {
            "in_progress".to_owned()
        } else {
            status
        },
        kind,
        title,
        impact,
        body: body.unwrap_or_default(),
        component_ids: components.iter().map(|c| c.0.clone()).collect(),
        component_names: components.into_iter().map(|c| c.1).collect(),
        scheduled_for,
        scheduled_until,
        at: now,
    };
    let notice_id = new_id();
    let written = sqlx::query(
        "INSERT INTO status_notices (id, tenant_id, page_id, incident_id, event, event_key, payload, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (event_key) DO NOTHING",
    )
    .bind(&notice_id)
    .bind(tenant_id)
    .bind(page_id)
    .bind(incident_id)
    .bind(event.as_str())
    .bind(key)
    .bind(serde_json::to_string(&notice).unwrap_or_default())
    .bind(now)
    .execute(&mut *conn)
    .await?;
    if written.rows_affected() == 0 {
        return Ok(0);
    }
    let subscribers: Vec<String> = sqlx::query_scalar(
        "SELECT s.id FROM status_subscribers s WHERE s.tenant_id = $1 AND s.page_id = $2 \
         AND s.confirmed_at IS NOT NULL AND s.unsubscribed_at IS NULL \
         AND (s.all_components = 1 \
              OR NOT EXISTS (SELECT 1 FROM status_incident_components ic WHERE ic.incident_id = $3) \
              OR EXISTS (SELECT 1 FROM status_subscriber_components sc \
                         JOIN status_incident_components ic ON ic.component_id = sc.component_id \
                         WHERE sc.subscriber_id = s.id AND ic.incident_id = $3)) \
         ORDER BY s.id",
    )
    .bind(tenant_id)
    .bind(page_id)
    .bind(incident_id)
    .fetch_all(&mut *conn)
    .await?;
    let mut queued = 0;
    for subscriber in subscribers {
        let done = sqlx::query(
            "INSERT INTO status_deliveries (id, tenant_id, subscriber_id, notice_id, event, event_key, \
             status, next_attempt_at, created_at) VALUES ($1, $2, $3, $4, $5, $6, 'pending', $7, $7) \
             ON CONFLICT (subscriber_id, event_key) DO NOTHING",
        )
        .bind(new_id())
        .bind(tenant_id)
        .bind(&subscriber)
        .bind(&notice_id)
        .bind(event.as_str())
        .bind(key)
        .bind(now)
        .execute(&mut *conn)
        .await?;
        queued += done.rows_affected();
    }
    Ok(queued)
}

/// Announces a new incident (unless published already resolved) or a new
/// maintenance (scheduled, or started if created `in_progress`).
pub(crate) async fn on_created(
    conn: &mut AnyConnection,
    tenant_id: &str,
    page_id: &str,
    incident_id: &str,
    now: i64,
) -> Result<u64, sqlx::Error> {
    let row: Option<(String, String)> = sqlx::query_as(
        "SELECT kind, status FROM status_incidents WHERE id = $1 AND tenant_id = $2",
    )
    .bind(incident_id)
    .bind(tenant_id)
    .fetch_optional(&mut *conn)
    .await?;
    let (event, key) = match row.as_ref().map(|(k, s)| (k.as_str(), s.as_str())) {
        Some(("incident", "resolved")) | None => return Ok(0),
        Some(("incident", _)) => (Event::IncidentCreated, "incident.created"),
        Some((_, "scheduled")) => (Event::MaintenanceScheduled, "maintenance.scheduled"),
        Some((_, "in_progress")) => (Event::MaintenanceStarted, "maintenance.started"),
        Some(_) => return Ok(0),
    };
    let key = format!("{key}:{incident_id}");
    announce(conn, tenant_id, page_id, incident_id, event, &key, now).await
}

/// Announces the latest update of an incident (resolved or updated), or the
/// start of a maintenance set `in_progress` (once, whoever announces first).
pub(crate) async fn on_update(
    conn: &mut AnyConnection,
    tenant_id: &str,
    page_id: &str,
    incident_id: &str,
    now: i64,
) -> Result<u64, sqlx::Error> {
    let latest: Option<(String, String, String)> = sqlx::query_as(
        "SELECT i.kind, u.status, u.id FROM status_incidents i \
         JOIN status_incident_updates u ON u.incident_id = i.id \
         WHERE i.id = $1 AND i.tenant_id = $2 ORDER BY u.created_at DESC, u.id DESC LIMIT 1",
    )
    .bind(incident_id)
    .bind(tenant_id)
    .fetch_optional(&mut *conn)
    .await?;
    let Some((kind, status, update_id)) = latest else {
        return Ok(0);
    };
    let (event, key) = match (kind.as_str(), status.as_str()) {
        ("incident", "resolved") => (
            Event::IncidentResolved,
            format!("incident.resolved:{update_id}"),
        ),
        ("incident", _) => (
            Event::IncidentUpdated,
            format!("incident.updated:{update_id}"),
        ),
        (_, "in_progress") => (
            Event::MaintenanceStarted,
            format!("maintenance.started:{incident_id}"),
        ),
        _ => return Ok(0),
    };
    announce(conn, tenant_id, page_id, incident_id, event, &key, now).await
}

/// Announces maintenance whose scheduled start has come (across tenants:
/// this is worker code; suspended organizations announce nothing), and
/// forgets subscriptions never confirmed.
#[derive(Debug, Clone)]
pub struct MaintenanceStarts {
    db: Database,
    every: Duration,
}

impl MaintenanceStarts {
    /// Looks every `every`.
    pub fn new(db: Database, every: Duration) -> Self {
        Self { db, every }
    }

    /// Runs until `shutdown`.
    pub async fn run(self, shutdown: CancellationToken) {
        while !shutdown.is_cancelled() {
            if let Err(err) = self.tick(now_ms()).await {
                tracing::warn!(error = %err, "announcing started maintenance failed");
            }
            tokio::select! {
                () = shutdown.cancelled() => return,
                () = tokio::time::sleep(self.every) => {}
            }
        }
    }

    /// One round at `now`; returns how many deliveries were queued.
    pub async fn tick(&self, now: i64) -> Result<u64, DbError> {
        let due: Vec<(String, String, String)> = sqlx::query_as(
            "SELECT i.id, i.tenant_id, i.page_id FROM status_incidents i \
             WHERE i.kind = 'maintenance' AND i.status = 'scheduled' \
             AND i.scheduled_for <= $1 AND i.scheduled_until > $1 \
             AND EXISTS (SELECT 1 FROM tenants t WHERE t.id = i.tenant_id AND t.status = 'active') \
             AND NOT EXISTS (SELECT 1 FROM status_notices n \
                             WHERE n.incident_id = i.id AND n.event = 'maintenance.started') \
             ORDER BY i.scheduled_for LIMIT 100",
        )
        .bind(now)
        .fetch_all(self.db.pool())
        .await?;
        let mut queued = 0;
        for (incident_id, tenant_id, page_id) in due {
            let mut tx = self.db.begin_write().await?;
            queued += announce(
                &mut tx,
                &tenant_id,
                &page_id,
                &incident_id,
                Event::MaintenanceStarted,
                &format!("maintenance.started:{incident_id}"),
                now,
            )
            .await?;
            tx.commit().await?;
        }
        sqlx::query(
            "DELETE FROM status_subscribers WHERE confirmed_at IS NULL AND unsubscribed_at IS NULL \
             AND COALESCE(confirm_sent_at, created_at) < $1",
        )
        .bind(now - PENDING_TTL_MS)
        .execute(self.db.pool())
        .await?;
        Ok(queued)
    }
}
