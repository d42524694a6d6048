//! Incidents and scheduled maintenance written by people for a status page,
//! with their updates (Statuspage's statuses: `investigating → identified →
//! monitoring → resolved` for incidents, `scheduled → in_progress → verifying
//! → completed` for maintenance); and publishing a monitor's automatic
//! incident as a public one. Each change that subscribers hear of is
//! announced in the same transaction ([`super::subscribers::notify`]).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use sqlx::{AnyConnection, Row};
use utoipa::ToSchema;

use super::model::{Impact, Kind, body_text, required_text};
use super::pages::touch;
use super::{MAX_UPDATES, StatusPageError};
use crate::clock::{new_id, now_ms};
use crate::db::Database;

/// Longest maintenance, ms (30 days), as for maintenance windows.
const MAX_MAINTENANCE_MS: i64 = 30 * 86_400_000;

/// Statuses of both kinds; which are allowed depends on the incident's kind.
fn status_schema() -> utoipa::openapi::Object {
    let mut all = Kind::Incident.statuses().to_vec();
    all.extend(Kind::Maintenance.statuses());
    crate::schema_docs::one_of(&all)
}

/// A public incident or maintenance as the admin API shows it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PublicIncident {
    /// Used in its admin paths and its public page (`/status/incidents/{id}`).
    pub id: String,
    /// The status page it is posted on (`/api/status-pages/{id}`).
    pub page_id: String,
    /// `incident` or `maintenance`.
    pub kind: Kind,
    /// Headline on the page and in notices.
    pub title: String,
    /// `none`, `minor`, `major`, `critical` (or `maintenance`).
    pub impact: Impact,
    /// Status of the latest update.
    pub status: String,
    /// Affected components of the page.
    pub component_ids: Vec<String>,
    /// Maintenance start, ms.
    pub scheduled_for: Option<i64>,
    /// Maintenance end, ms.
    pub scheduled_until: Option<i64>,
    /// The monitor incident it was published from.
    pub monitor_incident_id: Option<String>,
    /// Started, ms.
    pub started_at: i64,
    /// First `monitoring` update, ms.
    pub monitoring_at: Option<i64>,
    /// Resolved or completed, ms.
    pub resolved_at: Option<i64>,
    /// Created, ms.
    pub created_at: i64,
    /// Last changed, ms.
    pub updated_at: i64,
    /// Updates, newest first.
    pub updates: Vec<IncidentUpdate>,
}

/// One update of an incident.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct IncidentUpdate {
    /// Update id.
    pub id: String,
    /// Status it set.
    pub status: String,
    /// What people should know.
    pub body: String,
    /// Posted, ms.
    pub created_at: i64,
}

impl PublicIncident {
    /// Not resolved or completed.
    pub fn is_open(&self) -> bool {
        self.status != self.kind.final_status()
    }
}

/// Body of `POST /api/status-pages/{id}/incidents`.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewIncident {
    /// `incident` (default) or `maintenance`.
    pub kind: Option<Kind>,
    /// Title, 1–200 characters.
    #[schema(min_length = 1, max_length = 200)]
    pub title: Option<String>,
    /// Impact (default `minor`, or `maintenance` for maintenance).
    pub impact: Option<Impact>,
    /// First status (default `investigating`, or `scheduled`): `investigating`,
    /// `identified`, `monitoring` or `resolved` for incidents; `scheduled`,
    /// `in_progress`, `verifying` or `completed` for maintenance.
    #[schema(schema_with = status_schema)]
    pub status: Option<String>,
    /// Text of the first update, 1–5,000 characters.
    #[schema(min_length = 1, max_length = 5000)]
    pub body: Option<String>,
    /// Affected components of this page, at most 100.
    #[schema(max_items = 100)]
    pub component_ids: Option<Vec<String>>,
    /// Maintenance start, ms since the epoch (required for maintenance).
    #[schema(minimum = 0)]
    pub scheduled_for: Option<i64>,
    /// Maintenance end, ms (required for maintenance; at most 30 days after the start).
    #[schema(minimum = 1)]
    pub scheduled_until: Option<i64>,
}

/// Body of `PATCH /api/status-pages/{id}/incidents/{incident_id}`.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct IncidentPatch {
    /// Title, 1–200 characters.
    #[schema(min_length = 1, max_length = 200)]
    pub title: Option<String>,
    /// `none`, `minor`, `major` or `critical` (`maintenance` for maintenance).
    pub impact: Option<Impact>,
    /// Affected components of this page (replaces the list), at most 100.
    #[schema(max_items = 100)]
    pub component_ids: Option<Vec<String>>,
    /// Maintenance start, ms since the epoch.
    #[schema(minimum = 0)]
    pub scheduled_for: Option<i64>,
    /// Maintenance end, ms; at most 30 days after the start.
    #[schema(minimum = 1)]
    pub scheduled_until: Option<i64>,
}

/// Body of `POST …/incidents/{incident_id}/updates`.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewUpdate {
    /// New status, one of the incident's kind (see `NewIncident.status`).
    #[schema(schema_with = status_schema)]
    pub status: Option<String>,
    /// Text, 1–5,000 characters.
    #[schema(min_length = 1, max_length = 5000)]
    pub body: Option<String>,
}

/// Body of `POST /api/status-pages/{id}/incidents/publish`.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PublishMonitorIncident {
    /// The automatic incident (of `/api/incidents`) to publish.
    pub monitor_incident_id: Option<String>,
    /// Title, 1–200 characters (default: the affected components' names and "disruption").
    #[schema(min_length = 1, max_length = 200)]
    pub title: Option<String>,
    /// First update, 1–5,000 characters (default: a neutral "we are investigating").
    #[schema(min_length = 1, max_length = 5000)]
    pub body: Option<String>,
    /// Impact (default `major`).
    pub impact: Option<Impact>,
    /// Affected components, at most 100 (default: those bound to the incident's monitor).
    #[schema(max_items = 100)]
    pub component_ids: Option<Vec<String>>,
}

const COLUMNS: &str = "id, page_id, kind, title, impact, status, scheduled_for, scheduled_until, \
     monitor_incident_id, started_at, monitoring_at, resolved_at, created_at, updated_at";

fn from_row(row: &sqlx::any::AnyRow) -> Result<PublicIncident, sqlx::Error> {
    let kind: String = row.try_get("kind")?;
    let impact: String = row.try_get("impact")?;
    Ok(PublicIncident {
        id: row.try_get("id")?,
        page_id: row.try_get("page_id")?,
        kind: Kind::parse(&kind).unwrap_or(Kind::Incident),
        title: row.try_get("title")?,
        impact: Impact::parse(&impact).unwrap_or(Impact::None),
        status: row.try_get("status")?,
        component_ids: Vec::new(),
        scheduled_for: row.try_get("scheduled_for")?,
        scheduled_until: row.try_get("scheduled_until")?,
        monitor_incident_id: row.try_get("monitor_incident_id")?,
        started_at: row.try_get("started_at")?,
        monitoring_at: row.try_get("monitoring_at")?,
        resolved_at: row.try_get("resolved_at")?,
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
        updates: Vec::new(),
    })
}

/// Fills in components and updates of `incidents` (of one page).
async fn complete(
    db: &Database,
    tenant_id: &str,
    incidents: &mut [PublicIncident],
) -> Result<(), sqlx::Error> {
    if incidents.is_empty() {
        return Ok(());
    }
    // Ids are UUIDs we generated (kept to their alphabet all the same); the
    // list is bounded by the caller's page size.
    let ids = incidents
        .iter()
        .map(|i| {
            let id: String =
                i.id.chars()
                    .filter(|c| c.is_ascii_alphanumeric() || *c == '-')
                    .collect();
            format!("'{id}'")
        })
        .collect::<Vec<_>>()
        .join(",");
    let links: Vec<(String, String)> = sqlx::query_as(&format!(
        "SELECT ic.incident_id, ic.component_id FROM status_incident_components ic \
         JOIN status_components c ON c.id = ic.component_id \
         WHERE ic.tenant_id = $1 AND ic.incident_id IN ({ids}) ORDER BY c.position, c.created_at"
    ))
    .bind(tenant_id)
    .fetch_all(db.pool())
    .await?;
    let updates: Vec<(String, String, String, String, i64)> = sqlx::query_as(&format!(
        "SELECT incident_id, id, status, body, created_at FROM status_incident_updates \
         WHERE tenant_id = $1 AND incident_id IN ({ids}) ORDER BY created_at DESC, id DESC"
    ))
    .bind(tenant_id)
    .fetch_all(db.pool())
    .await?;
    let mut components: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (incident, component) in links {
        components.entry(incident).or_default().push(component);
    }
    let mut by_incident: BTreeMap<String, Vec<IncidentUpdate>> = BTreeMap::new();
    for (incident, id, status, body, created_at) in updates {
        by_incident
            .entry(incident)
            .or_default()
            .push(IncidentUpdate {
                id,
                status,
                body,
                created_at,
            });
    }
    for incident in incidents {
        incident.component_ids = components.remove(&incident.id).unwrap_or_default();
        incident.updates = by_incident.remove(&incident.id).unwrap_or_default();
    }
    Ok(())
}

/// What to list.
#[derive(Debug, Clone, Copy, Default)]
pub struct ListQuery<'a> {
    /// Only this kind.
    pub kind: Option<Kind>,
    /// Only open ones (not resolved or completed).
    pub open_only: bool,
    /// Only those started before this time, ms (paging).
    pub before: Option<i64>,
    /// Page size.
    pub limit: i64,
    /// Skip this many (HTML paging).
    pub offset: i64,
    /// Only this one.
    pub id: Option<&'a str>,
}

/// Incidents of a page, newest first, with components and updates.
pub async fn list(
    db: &Database,
    tenant_id: &str,
    page_id: &str,
    q: ListQuery<'_>,
) -> Result<Vec<PublicIncident>, StatusPageError> {
    let rows = sqlx::query(&format!(
        "SELECT {COLUMNS} FROM status_incidents WHERE tenant_id = $1 AND page_id = $2 \
         AND ($3 = '' OR kind = $3) AND ($4 = 0 OR status NOT IN ('resolved', 'completed')) \
         AND started_at < $5 AND ($6 = '' OR id = $6) \
         ORDER BY started_at DESC, id DESC LIMIT $7 OFFSET $8"
    ))
    .bind(tenant_id)
    .bind(page_id)
    .bind(q.kind.map_or("", Kind::as_str))
    .bind(i64::from(q.open_only))
    .bind(q.before.unwrap_or(i64::MAX))
    .bind(q.id.unwrap_or_default())
    .bind(q.limit)
    .bind(q.offset)
    .fetch_all(db.pool())
    .await?;
    let mut out = rows.iter().map(from_row).collect::<Result<Vec<_>, _>>()?;
    complete(db, tenant_id, &mut out).await?;
    Ok(out)
}

/// Number of incidents of a page of one kind (for paging).
pub async fn count(
    db: &Database,
    tenant_id: &str,
    page_id: &str,
    kind: Kind,
) -> Result<i64, StatusPageError> {
    Ok(sqlx::query_scalar(
        "SELECT COUNT(*) FROM status_incidents WHERE tenant_id = $1 AND page_id = $2 AND kind = $3",
    )
    .bind(tenant_id)
    .bind(page_id)
    .bind(kind.as_str())
    .fetch_one(db.pool())
    .await?)
}

/// One incident of a page.
pub async fn get(
    db: &Database,
    tenant_id: &str,
    page_id: &str,
    id: &str,
) -> Result<PublicIncident, StatusPageError> {
    let q = ListQuery {
        id: Some(id),
        limit: 1,
        ..ListQuery::default()
    };
    list(db, tenant_id, page_id, q)
        .await?
        .pop()
        .ok_or(StatusPageError::NotFound)
}

fn check_status(kind: Kind, status: Option<&str>) -> Result<String, StatusPageError> {
    let status = status.map(str::trim).unwrap_or(kind.first_status());
    if kind.statuses().contains(&status) {
        Ok(status.to_owned())
    } else {
        Err(StatusPageError::Invalid((
            "status",
            format!(
                "must be one of {} for {}",
                kind.statuses().join(", "),
                kind.as_str()
            ),
        )))
    }
}

fn check_impact(kind: Kind, impact: Option<Impact>) -> Result<Impact, StatusPageError> {
    match (kind, impact) {
        (Kind::Incident, Some(Impact::Maintenance)) => Err(StatusPageError::Invalid((
            "impact",
            "maintenance is for scheduled maintenance; use none, minor, major or critical"
                .to_owned(),
        ))),
        (_, Some(impact)) => Ok(impact),
        (Kind::Incident, None) => Ok(Impact::Minor),
        (Kind::Maintenance, None) => Ok(Impact::Maintenance),
    }
}

fn check_schedule(
    kind: Kind,
    from: Option<i64>,
    until: Option<i64>,
) -> Result<(Option<i64>, Option<i64>), StatusPageError> {
    match kind {
        Kind::Incident if from.is_some() || until.is_some() => Err(StatusPageError::Invalid((
            "scheduled_for",
            "only maintenance is scheduled".to_owned(),
        ))),
        Kind::Incident => Ok((None, None)),
        Kind::Maintenance => {
            let from = from.ok_or_else(|| {
                StatusPageError::Invalid((
                    "scheduled_for",
                    "is required for maintenance".to_owned(),
                ))
            })?;
            let until = until.ok_or_else(|| {
                StatusPageError::Invalid((
                    "scheduled_until",
                    "is required for maintenance".to_owned(),
                ))
            })?;
            if from < 0 {
                return Err(StatusPageError::Invalid((
                    "scheduled_for",
                    "must be a time in ms since the epoch".to_owned(),
                )));
            }
            if until <= from {
                return Err(StatusPageError::Invalid((
                    "scheduled_until",
                    "must be after scheduled_for".to_owned(),
                )));
            }
            if until - from > MAX_MAINTENANCE_MS {
                return Err(StatusPageError::Invalid((
                    "scheduled_until",
                    "maintenance may last at most 30 days".to_owned(),
                )));
            }
            Ok((Some(from), Some(until)))
        }
    }
}

fn dedup_ids(ids: &[String]) -> Result<Vec<String>, StatusPageError> {
    let mut ids: Vec<String> = ids.iter().map(|id| id.trim().to_owned()).collect();
    ids.sort();
    ids.dedup();
    if ids.iter().any(String::is_empty)
        || ids.len() > usize::try_from(super::MAX_COMPONENTS).unwrap_or(100)
    {
        return Err(StatusPageError::Invalid((
            "component_ids",
            "must be at most 100 non-empty component ids".to_owned(),
        )));
    }
    Ok(ids)
}

/// Replaces the affected components, refusing components of other pages.
async fn set_components(
    conn: &mut AnyConnection,
    tenant_id: &str,
    page_id: &str,
    incident_id: &str,
    ids: &[String],
) -> Result<(), StatusPageError> {
    for id in ids {
        let found: Option<String> = sqlx::query_scalar(
            "SELECT id FROM status_components WHERE id = $1 AND page_id = $2 AND tenant_id = $3",
        )
        .bind(id)
        .bind(page_id)
        .bind(tenant_id)
        .fetch_optional(&mut *conn)
        .await?;
        if found.is_none() {
            return Err(StatusPageError::Invalid((
                "component_ids",
                format!("{id} is not a component of this status page"),
            )));
        }
    }
    sqlx::query("DELETE FROM status_incident_components WHERE incident_id = $1 AND tenant_id = $2")
        .bind(incident_id)
        .bind(tenant_id)
        .execute(&mut *conn)
        .await?;
    for id in ids {
        sqlx::query("INSERT INTO status_incident_components (tenant_id, incident_id, component_id) VALUES ($1, $2, $3)")
            .bind(tenant_id)
            .bind(incident_id)
            .bind(id)
            .execute(&mut *conn)
            .await?;
    }
    Ok(())
}

async fn page_exists(
    conn: &mut AnyConnection,
    tenant_id: &str,
    page_id: &str,
) -> Result<(), StatusPageError> {
    let found: Option<String> =
        sqlx::query_scalar("SELECT id FROM status_pages WHERE id = $1 AND tenant_id = $2")
            .bind(page_id)
            .bind(tenant_id)
            .fetch_optional(conn)
            .await?;
    found.map(|_| ()).ok_or(StatusPageError::NotFound)
}

/// Everything a new incident row needs, checked.
struct Checked {
    kind: Kind,
    title: String,
    impact: Impact,
    status: String,
    body: String,
    component_ids: Vec<String>,
    schedule: (Option<i64>, Option<i64>),
    monitor_incident_id: Option<String>,
    started_at: i64,
}

async fn insert(
    db: &Database,
    tenant_id: &str,
    page_id: &str,
    c: Checked,
) -> Result<PublicIncident, StatusPageError> {
    let id = new_id();
    let now = now_ms();
    let closed = c.status == c.kind.final_status();
    let mut tx = db.begin_write().await?;
    page_exists(&mut tx, tenant_id, page_id).await?;
    let inserted = sqlx::query(
        "INSERT INTO status_incidents (id, tenant_id, page_id, kind, title, impact, status, scheduled_for, \
         scheduled_until, monitor_incident_id, started_at, monitoring_at, resolved_at, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $14)",
    )
    .bind(&id)
    .bind(tenant_id)
    .bind(page_id)
    .bind(c.kind.as_str())
    .bind(&c.title)
    .bind(c.impact.as_str())
    .bind(&c.status)
    .bind(c.schedule.0)
    .bind(c.schedule.1)
    .bind(&c.monitor_incident_id)
    .bind(c.started_at)
    .bind((c.status == "monitoring").then_some(now))
    .bind(closed.then_some(now))
    .bind(now)
    .execute(&mut *tx)
    .await;
    if let Err(err) = inserted {
        return Err(if crate::tenancy::store::is_unique_violation(&err) {
            StatusPageError::Conflict((
                "monitor_incident_id",
                "is already published on this status page".to_owned(),
            ))
        } else {
            err.into()
        });
    }
    set_components(&mut tx, tenant_id, page_id, &id, &c.component_ids).await?;
    add_update_in(&mut tx, tenant_id, &id, &c.status, &c.body, now).await?;
    touch(&mut tx, tenant_id, page_id, now).await?;
    super::subscribers::notify::on_created(&mut tx, tenant_id, page_id, &id, now).await?;
    tx.commit().await?;
    get(db, tenant_id, page_id, &id).await
}

async fn add_update_in(
    conn: &mut AnyConnection,
    tenant_id: &str,
    incident_id: &str,
    status: &str,
    body: &str,
    now: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO status_incident_updates (id, tenant_id, incident_id, status, body, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(new_id())
    .bind(tenant_id)
    .bind(incident_id)
    .bind(status)
    .bind(body)
    .bind(now)
    .execute(conn)
    .await?;
    Ok(())
}

/// Opens an incident or schedules a maintenance, with its first update.
pub async fn create(
    db: &Database,
    tenant_id: &str,
    page_id: &str,
    input: &NewIncident,
) -> Result<PublicIncident, StatusPageError> {
    let kind = input.kind.unwrap_or(Kind::Incident);
    let title = required_text("title", input.title.as_deref(), 200)?;
    let impact = check_impact(kind, input.impact)?;
    let status = check_status(kind, input.status.as_deref())?;
    let body = body_text("body", input.body.as_deref(), 5000, true)?;
    let schedule = check_schedule(kind, input.scheduled_for, input.scheduled_until)?;
    let component_ids = dedup_ids(input.component_ids.as_deref().unwrap_or_default())?;
    let started_at = schedule.0.unwrap_or_else(now_ms);
    insert(
        db,
        tenant_id,
        page_id,
        Checked {
            kind,
            title,
            impact,
            status,
            body,
            component_ids,
            schedule,
            monitor_incident_id: None,
            started_at,
        },
    )
    .await
}

/// Changes title, impact, components or schedule; status changes go through updates.
pub async fn update(
    db: &Database,
    tenant_id: &str,
    page_id: &str,
    id: &str,
    patch: &IncidentPatch,
) -> Result<PublicIncident, StatusPageError> {
    let current = get(db, tenant_id, page_id, id).await?;
    let title = match &patch.title {
        Some(t) => required_text("title", Some(t), 200)?,
        None => current.title.clone(),
    };
    let impact = check_impact(current.kind, patch.impact.or(Some(current.impact)))?;
    let schedule = match current.kind {
        Kind::Maintenance => check_schedule(
            Kind::Maintenance,
            patch.scheduled_for.or(current.scheduled_for),
            patch.scheduled_until.or(current.scheduled_until),
        )?,
        Kind::Incident => {
            check_schedule(Kind::Incident, patch.scheduled_for, patch.scheduled_until)?
        }
    };
    let components = patch.component_ids.as_deref().map(dedup_ids).transpose()?;
    let now = now_ms();
    let mut tx = db.begin_write().await?;
    sqlx::query(
        "UPDATE status_incidents SET title = $1, impact = $2, scheduled_for = $3, scheduled_until = $4, \
         started_at = $5, updated_at = $6 WHERE id = $7 AND page_id = $8 AND tenant_id = $9",
    )
    .bind(&title)
    .bind(impact.as_str())
    .bind(schedule.0)
    .bind(schedule.1)
    .bind(schedule.0.unwrap_or(current.started_at))
    .bind(now)
    .bind(id)
    .bind(page_id)
    .bind(tenant_id)
    .execute(&mut *tx)
    .await?;
    if let Some(ids) = &components {
        set_components(&mut tx, tenant_id, page_id, id, ids).await?;
    }
    touch(&mut tx, tenant_id, page_id, now).await?;
    tx.commit().await?;
    get(db, tenant_id, page_id, id).await
}

/// Posts an update: sets the status (and `monitoring_at`, `resolved_at`).
pub async fn add_update(
    db: &Database,
    tenant_id: &str,
    page_id: &str,
    id: &str,
    input: &NewUpdate,
) -> Result<PublicIncident, StatusPageError> {
    let current = get(db, tenant_id, page_id, id).await?;
    let status = match input.status.as_deref() {
        Some(s) => check_status(current.kind, Some(s))?,
        None => {
            return Err(StatusPageError::Invalid((
                "status",
                "is required".to_owned(),
            )));
        }
    };
    let body = body_text("body", input.body.as_deref(), 5000, true)?;
    let now = now_ms();
    let mut tx = db.begin_write().await?;
    let count: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM status_incident_updates WHERE incident_id = $1 AND tenant_id = $2",
    )
    .bind(id)
    .bind(tenant_id)
    .fetch_one(&mut *tx)
    .await?;
    if count >= MAX_UPDATES {
        return Err(StatusPageError::Conflict((
            "body",
            format!("an incident may have at most {MAX_UPDATES} updates"),
        )));
    }
    let closed = status == current.kind.final_status();
    let monitoring_at = match (status.as_str(), current.monitoring_at) {
        ("monitoring", None) => Some(now),
        (_, at) => at,
    };
    // Reopening clears the end; closing again sets a new one.
    let resolved_at = closed.then(|| {
        current
            .resolved_at
            .filter(|_| !current.is_open())
            .unwrap_or(now)
    });
    sqlx::query(
        "UPDATE status_incidents SET status = $1, monitoring_at = $2, resolved_at = $3, updated_at = $4 \
         WHERE id = $5 AND page_id = $6 AND tenant_id = $7",
    )
    .bind(&status)
    .bind(monitoring_at)
    .bind(resolved_at)
    .bind(now)
    .bind(id)
    .bind(page_id)
    .bind(tenant_id)
    .execute(&mut *tx)
    .await?;
    add_update_in(&mut tx, tenant_id, id, &status, &body, now).await?;
    touch(&mut tx, tenant_id, page_id, now).await?;
    super::subscribers::notify::on_update(&mut tx, tenant_id, page_id, id, now).await?;
    tx.commit().await?;
    get(db, tenant_id, page_id, id).await
}

/// Deletes an incident with its updates.
pub async fn delete(
    db: &Database,
    tenant_id: &str,
    page_id: &str,
    id: &str,
) -> Result<(), StatusPageError> {
    let mut tx = db.begin_write().await?;
    let done = sqlx::query(
        "DELETE FROM status_incidents WHERE id = $1 AND page_id = $2 AND tenant_id = $3",
    )
    .bind(id)
    .bind(page_id)
    .bind(tenant_id)
    .execute(&mut *tx)
    .await?;
    if done.rows_affected() == 0 {
        return Err(StatusPageError::NotFound);
    }
    touch(&mut tx, tenant_id, page_id, now_ms()).await?;
    tx.commit().await?;
    Ok(())
}

/// Publishes a monitor's automatic incident on a page: its components default
/// to those bound to the monitor, and its text says nothing of the monitor's
/// target or error (those may be internal).
pub async fn publish(
    db: &Database,
    tenant_id: &str,
    page_id: &str,
    input: &PublishMonitorIncident,
) -> Result<PublicIncident, StatusPageError> {
    let monitor_incident_id = required_text(
        "monitor_incident_id",
        input.monitor_incident_id.as_deref(),
        100,
    )?;
    let found: Option<(String, String, i64, Option<i64>)> = sqlx::query_as(
        "SELECT monitor_id, state, started_at, resolved_at FROM incidents WHERE id = $1 AND tenant_id = $2",
    )
    .bind(&monitor_incident_id)
    .bind(tenant_id)
    .fetch_optional(db.pool())
    .await?;
    let Some((monitor_id, state, started_at, _)) = found else {
        return Err(StatusPageError::Invalid((
            "monitor_incident_id",
            "is not an incident of this organization".to_owned(),
        )));
    };
    let component_ids = match &input.component_ids {
        Some(ids) => dedup_ids(ids)?,
        None => sqlx::query_scalar(
            "SELECT c.id FROM status_components c JOIN status_component_monitors m ON m.component_id = c.id \
             WHERE m.monitor_id = $1 AND c.page_id = $2 AND c.tenant_id = $3 ORDER BY c.position, c.created_at",
        )
        .bind(&monitor_id)
        .bind(page_id)
        .bind(tenant_id)
        .fetch_all(db.pool())
        .await?,
    };
    let names: Vec<String> = {
        let mut names = Vec::new();
        for id in &component_ids {
            let name: Option<String> =
                sqlx::query_scalar("SELECT name FROM status_components WHERE id = $1 AND page_id = $2 AND tenant_id = $3")
                    .bind(id)
                    .bind(page_id)
                    .bind(tenant_id)
                    .fetch_optional(db.pool())
                    .await?;
            names.extend(name);
        }
        names
    };
    let affected = if names.is_empty() {
        "our service".to_owned()
    } else {
        names.join(", ")
    };
    let title = match &input.title {
        Some(t) => required_text("title", Some(t), 200)?,
        None => {
            let mut title = format!("Disruption of {affected}");
            if title.chars().count() > 200 {
                title = title.chars().take(199).collect::<String>() + "…";
            }
            title
        }
    };
    let resolved = state == "resolved";
    let default_body = if resolved {
        format!("{affected} had a disruption, which is resolved.")
    } else {
        format!("We are investigating a disruption of {affected}.")
    };
    let body = match &input.body {
        Some(b) => body_text("body", Some(b), 5000, true)?,
        None => default_body,
    };
    let impact = check_impact(Kind::Incident, Some(input.impact.unwrap_or(Impact::Major)))?;
    insert(
        db,
        tenant_id,
        page_id,
        Checked {
            kind: Kind::Incident,
            title,
            impact,
            status: if resolved {
                "resolved"
            } else {
                "investigating"
            }
            .to_owned(),
            body,
            component_ids,
            schedule: (None, None),
            monitor_incident_id: Some(monitor_incident_id),
            started_at,
        },
    )
    .await
}
