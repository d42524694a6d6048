//! Incidents: one opens when a monitor goes down and resolves when it
//! recovers; each has a timeline. State changes also queue the alerts here,
//! in the same transaction as the change, so each change alerts exactly once.

use serde::Serialize;
use sqlx::AnyConnection;
use utoipa::ToSchema;

use super::alerts::queue;
use super::maintenance;
use super::state::{Change, State, alert_event};
use crate::clock::new_id;
use crate::db::{Database, DbError};
use crate::events::{IncidentOpenedData, IncidentResolvedData, LiveEvent, NewEvent};

/// An incident as listed.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Incident {
    /// Incident id.
    pub id: String,
    /// The monitor that went down.
    pub monitor_id: String,
    /// `open` or `resolved`.
    pub state: String,
    /// Why the monitor was down.
    pub cause: Option<String>,
    /// Opened, ms.
    pub started_at: i64,
    /// Resolved, ms.
    pub resolved_at: Option<i64>,
    /// What happened, oldest first (only in single-incident answers).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub timeline: Option<Vec<TimelineEvent>>,
}

/// One entry of an incident's timeline.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct TimelineEvent {
    /// When, ms.
    pub at: i64,
    /// `opened`, `resolved`, `alerts_muted`, ….
    pub kind: String,
    /// Details.
    pub message: String,
}

type Row = (String, String, String, Option<String>, i64, Option<i64>);

fn incident((id, monitor_id, state, cause, started_at, resolved_at): Row) -> Incident {
    Incident {
        id,
        monitor_id,
        state,
        cause,
        started_at,
        resolved_at,
        timeline: None,
    }
}

/// Incidents of a tenant, newest first; optionally of one monitor, before a time.
pub async fn list(
    db: &Database,
    tenant_id: &str,
    monitor_id: Option<&str>,
    before: Option<i64>,
    limit: i64,
) -> Result<Vec<Incident>, DbError> {
    let rows: Vec<Row> = sqlx::query_as(
        "SELECT id, monitor_id, state, cause, started_at, resolved_at FROM incidents \
         WHERE tenant_id = $1 AND ($2 = '' OR monitor_id = $2) AND started_at < $3 \
         ORDER BY started_at DESC, id DESC LIMIT $4",
    )
    .bind(tenant_id)
    .bind(monitor_id.unwrap_or_default())
    .bind(before.unwrap_or(i64::MAX))
    .bind(limit)
    .fetch_all(db.pool())
    .await?;
    Ok(rows.into_iter().map(incident).collect())
}

/// One incident with its timeline.
pub async fn get(db: &Database, tenant_id: &str, id: &str) -> Result<Option<Incident>, DbError> {
    let row: Option<Row> = sqlx::query_as(
        "SELECT id, monitor_id, state, cause, started_at, resolved_at FROM incidents \
         WHERE id = $1 AND tenant_id = $2",
    )
    .bind(id)
    .bind(tenant_id)
    .fetch_optional(db.pool())
    .await?;
    let Some(row) = row else { return Ok(None) };
    let events: Vec<(i64, String, String)> = sqlx::query_as(
        "SELECT at, kind, message FROM incident_events WHERE incident_id = $1 AND tenant_id = $2 \
         ORDER BY at, id",
    )
    .bind(id)
    .bind(tenant_id)
    .fetch_all(db.pool())
    .await?;
    let mut found = incident(row);
    found.timeline = Some(
        events
            .into_iter()
            .map(|(at, kind, message)| TimelineEvent { at, kind, message })
            .collect(),
    );
    Ok(Some(found))
}

async fn event(
    conn: &mut AnyConnection,
    tenant_id: &str,
    incident_id: &str,
    at: i64,
    kind: &str,
    message: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO incident_events (id, tenant_id, incident_id, at, kind, message) \
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(new_id())
    .bind(tenant_id)
    .bind(incident_id)
    .bind(at)
    .bind(kind)
    .bind(message)
    .execute(conn)
    .await?;
    Ok(())
}

/// Records a state change: opens or resolves the incident, notes the
/// timeline, and queues one alert per enabled channel unless muted by a
/// maintenance window or flapping. Returns the incident's live events, for
/// the caller to append in the same transaction.
pub async fn record_change(
    conn: &mut AnyConnection,
    change: &Change<'_>,
) -> Result<Vec<NewEvent>, sqlx::Error> {
    let mut events = Vec::new();
    let Change {
        tenant_id,
        monitor_id,
        before,
        after,
        at,
        ..
    } = *change;
    let reason = change.reason.unwrap_or("no details");
    let mut incident_id: Option<String> = None;
    if after == State::Down {
        let id = new_id();
        sqlx::query(
            "INSERT INTO incidents (id, tenant_id, monitor_id, state, cause, started_at) \
             VALUES ($1, $2, $3, 'open', $4, $5)",
        )
        .bind(&id)
        .bind(tenant_id)
        .bind(monitor_id)
        .bind(reason)
        .bind(at)
        .execute(&mut *conn)
        .await?;
        event(
            conn,
            tenant_id,
            &id,
            at,
            "opened",
            &format!("Down: {reason}"),
        )
        .await?;
        events.push(NewEvent::new(
            tenant_id,
            &LiveEvent::IncidentOpened(IncidentOpenedData {
                incident_id: id.clone(),
                monitor_id: monitor_id.to_owned(),
                started_at: at,
                cause: Some(reason.to_owned()),
            }),
        ));
        incident_id = Some(id);
    } else if before == State::Down {
        let open: Option<String> = sqlx::query_scalar(
            "SELECT id FROM incidents WHERE monitor_id = $1 AND tenant_id = $2 AND state = 'open' \
             ORDER BY started_at DESC LIMIT 1",
        )
        .bind(monitor_id)
        .bind(tenant_id)
        .fetch_optional(&mut *conn)
        .await?;
        if let Some(id) = open {
            sqlx::query("UPDATE incidents SET state = 'resolved', resolved_at = $1 WHERE id = $2")
                .bind(at)
                .bind(&id)
                .execute(&mut *conn)
                .await?;
            event(
                conn,
                tenant_id,
                &id,
                at,
                "resolved",
                &format!("Recovered: {}", after.as_str()),
            )
            .await?;
            events.push(NewEvent::new(
                tenant_id,
                &LiveEvent::IncidentResolved(IncidentResolvedData {
                    incident_id: id.clone(),
                    monitor_id: monitor_id.to_owned(),
                    resolved_at: at,
                }),
            ));
            incident_id = Some(id);
        }
    }
    let Some(alert) = alert_event(before, after) else {
        return Ok(events);
    };
    let muted = if maintenance::covers(conn, tenant_id, monitor_id, at).await? {
        Some("in a maintenance window")
    } else if is_flapping(conn, tenant_id, monitor_id, at, change.flap_threshold).await? {
        Some("flapping: too many state changes in the last hour")
    } else {
        None
    };
    if let Some(why) = muted {
        if let Some(id) = &incident_id {
            event(
                conn,
                tenant_id,
                id,
                at,
                "alerts_muted",
                &format!("No alert sent: {why}"),
            )
            .await?;
        }
        return Ok(events);
    }
    // One key per change (a monitor changes state at most once per check
    // start): a replayed transition finds its deliveries queued already.
    let key = format!("{monitor_id}:{at}:{alert}");
    let queued = queue(conn, change, alert, &key, incident_id.as_deref()).await?;
    if let Some(id) = &incident_id
        && queued > 0
    {
        event(
            conn,
            tenant_id,
            id,
            at,
            "alerted",
            &format!("{alert} alert queued for {queued} channel(s)"),
        )
        .await?;
    }
    Ok(events)
}

/// Incidents opened in the hour before `at`: each is two state changes.
async fn is_flapping(
    conn: &mut AnyConnection,
    tenant_id: &str,
    monitor_id: &str,
    at: i64,
    threshold: u64,
) -> Result<bool, sqlx::Error> {
    let opened: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM incidents WHERE monitor_id = $1 AND tenant_id = $2 AND started_at > $3",
    )
    .bind(monitor_id)
    .bind(tenant_id)
    .bind(at - 3_600_000)
    .fetch_one(conn)
    .await?;
    Ok(u64::try_from(opened * 2).unwrap_or(0) > threshold)
}
