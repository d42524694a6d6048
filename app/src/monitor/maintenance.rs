//! Maintenance windows: while one covers a monitor, its state changes are
//! recorded but alert nobody.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::clock::{new_id, now_ms};
use crate::db::{Database, DbError};

/// A maintenance window.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Window {
    /// Window id.
    pub id: String,
    /// The monitor covered; absent: every monitor of the organization.
    pub monitor_id: Option<String>,
    /// What is being done.
    pub title: String,
    /// Start, ms.
    pub starts_at: i64,
    /// End, ms.
    pub ends_at: i64,
    /// Created, ms.
    pub created_at: i64,
}

/// A new window.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewWindow {
    /// What is being done, 1–200 characters.
    #[schema(min_length = 1, max_length = 200)]
    pub title: String,
    /// The monitor covered; absent: every monitor.
    #[serde(default)]
    pub monitor_id: Option<String>,
    /// Start, ms since the epoch (not before it).
    #[schema(minimum = 0)]
    pub starts_at: i64,
    /// End, ms since the epoch; after the start, at most 30 days later.
    #[schema(minimum = 1)]
    pub ends_at: i64,
}

/// Why a window was refused.
#[derive(Debug, thiserror::Error)]
pub enum WindowError {
    /// No such window (or monitor) in this tenant.
    #[error("no such maintenance window")]
    NotFound,
    /// A field is invalid.
    #[error("{0}: {1}")]
    Invalid(&'static str, String),
    /// The database failed.
    #[error(transparent)]
    Db(#[from] DbError),
}

impl From<sqlx::Error> for WindowError {
    fn from(err: sqlx::Error) -> Self {
        Self::Db(err.into())
    }
}

type Row = (String, Option<String>, String, i64, i64, i64);

fn window((id, monitor_id, title, starts_at, ends_at, created_at): Row) -> Window {
    Window {
        id,
        monitor_id,
        title,
        starts_at,
        ends_at,
        created_at,
    }
}

/// Windows of a tenant that have not ended, soonest first.
pub async fn list(db: &Database, tenant_id: &str) -> Result<Vec<Window>, DbError> {
    let rows: Vec<Row> = sqlx::query_as(
        "SELECT id, monitor_id, title, starts_at, ends_at, created_at FROM maintenance_windows \
         WHERE tenant_id = $1 AND ends_at > $2 ORDER BY starts_at, id",
    )
    .bind(tenant_id)
    .bind(now_ms())
    .fetch_all(db.pool())
    .await?;
    Ok(rows.into_iter().map(window).collect())
}

/// Adds a window after checking every field.
pub async fn create(
    db: &Database,
    tenant_id: &str,
    new: &NewWindow,
) -> Result<Window, WindowError> {
    let title = new.title.trim();
    if title.is_empty() || title.chars().count() > 200 {
        return Err(WindowError::Invalid(
            "title",
            "must be 1–200 characters".into(),
        ));
    }
    if new.starts_at < 0 {
        return Err(WindowError::Invalid(
            "starts_at",
            "must be a time in ms since the epoch".into(),
        ));
    }
    if new.ends_at <= new.starts_at {
        return Err(WindowError::Invalid(
            "ends_at",
            "must be after starts_at".into(),
        ));
    }
    if new.ends_at - new.starts_at > 30 * 86_400_000 {
        return Err(WindowError::Invalid(
            "ends_at",
            "a window lasts at most 30 days".into(),
        ));
    }
    if let Some(monitor) = &new.monitor_id {
        let found: Option<String> =
            sqlx::query_scalar("SELECT id FROM monitors WHERE id = $1 AND tenant_id = $2")
                .bind(monitor)
                .bind(tenant_id)
                .fetch_optional(db.pool())
                .await?;
        if found.is_none() {
            return Err(WindowError::Invalid("monitor_id", "no such monitor".into()));
        }
    }
    let row: Row = (
        new_id(),
        new.monitor_id.clone(),
        title.to_owned(),
        new.starts_at,
        new.ends_at,
        now_ms(),
    );
    sqlx::query(
        "INSERT INTO maintenance_windows (id, tenant_id, monitor_id, title, starts_at, ends_at, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(&row.0)
    .bind(tenant_id)
    .bind(&row.1)
    .bind(&row.2)
    .bind(row.3)
    .bind(row.4)
    .bind(row.5)
    .execute(db.pool())
    .await?;
    Ok(window(row))
}

/// Removes a window.
pub async fn delete(db: &Database, tenant_id: &str, id: &str) -> Result<(), WindowError> {
    let done = sqlx::query("DELETE FROM maintenance_windows WHERE id = $1 AND tenant_id = $2")
        .bind(id)
        .bind(tenant_id)
        .execute(db.pool())
        .await?;
    if done.rows_affected() == 0 {
        return Err(WindowError::NotFound);
    }
    Ok(())
}

/// Whether a window covers `monitor_id` at `at` (ms), within a transaction.
pub(crate) async fn covers(
    conn: &mut sqlx::AnyConnection,
    tenant_id: &str,
    monitor_id: &str,
    at: i64,
) -> Result<bool, sqlx::Error> {
    let count: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM maintenance_windows WHERE tenant_id = $1 \
         AND (monitor_id IS NULL OR monitor_id = $2) AND starts_at <= $3 AND ends_at > $3",
    )
    .bind(tenant_id)
    .bind(monitor_id)
    .bind(at)
    .fetch_one(conn)
    .await?;
    Ok(count > 0)
}
