//! Monitors in the database: create, list, read, change and delete, each
//! scoped to one tenant.

use rand::Rng;
use serde::Serialize;
use sqlx::Row;
use utoipa::ToSchema;

use super::spec::{FieldError, Limits, MonitorInput, MonitorSpec};
use crate::auth::session::{hash_secret, random_secret};
use crate::clock::{new_id, now_ms};
use crate::db::{Database, DbError};
use crate::events::{LiveEvent, MonitorStateData, NewEvent};

/// Columns every monitor read selects, in [`MonitorRow`] order.
pub(crate) const COLUMNS: &str = "id, tenant_id, name, kind, target, settings, interval_seconds, \
     timeout_ms, state, paused, next_check_at, last_checked_at, consecutive_failures, \
     last_error, last_latency_ms, state_changed_at, last_ping_at, failing_regions, created_at, \
     updated_at, paused_reason";

/// A monitor as the API shows it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Monitor {
    /// Monitor id.
    pub id: String,
    /// Display name.
    pub name: String,
    /// `http`, `tcp`, `dns`, `tls` or `heartbeat`.
    pub kind: String,
    /// `pending`, `up`, `down`, `degraded` or `paused`.
    pub state: String,
    /// Checks are paused (by the owner).
    pub paused: bool,
    /// Set when the plan paused the monitor (it is not checked until an upgrade
    /// or until the owner resumes it with room on the plan); why, for people.
    pub paused_reason: Option<String>,
    /// Seconds between checks.
    pub interval_seconds: i64,
    /// Deadline of one check, seconds.
    pub timeout_seconds: i64,
    /// The kind-specific fields as submitted, with defaults filled in (see `MonitorInput`).
    #[serde(flatten)]
    #[schema(value_type = Object)]
    pub settings: serde_json::Map<String, serde_json::Value>,
    /// Push URL of a heartbeat monitor; shown once, when the monitor is created.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub heartbeat_url: Option<String>,
    /// Last check, ms.
    pub last_checked_at: Option<i64>,
    /// Latency of the last check, ms.
    pub last_latency_ms: Option<i64>,
    /// Why the last check failed.
    pub last_error: Option<String>,
    /// When the state last changed, ms.
    pub state_changed_at: Option<i64>,
    /// Last heartbeat ping, ms.
    pub last_ping_at: Option<i64>,
    /// Next check due, ms.
    pub next_check_at: i64,
    /// Created, ms.
    pub created_at: i64,
    /// Last changed, ms.
    pub updated_at: i64,
}

/// A monitor row with its definition.
#[derive(Debug, Clone)]
pub struct MonitorRow {
    /// The view the API shows.
    pub monitor: Monitor,
    /// Owner.
    pub tenant_id: String,
    /// What is checked: URL, `host:port` or host (empty for heartbeats).
    pub target: String,
    /// Failures in a row.
    pub consecutive_failures: i64,
    /// Regions that saw those failures, as `,east,west,`.
    pub failing_regions: Option<String>,
}

impl MonitorRow {
    /// Reads a row selected with [`COLUMNS`].
    pub(crate) fn from_row(row: &sqlx::any::AnyRow) -> Result<Self, sqlx::Error> {
        let settings: String = row.try_get("settings")?;
        let settings = serde_json::from_str::<serde_json::Value>(&settings)
            .ok()
            .and_then(|v| v.as_object().cloned())
            .unwrap_or_default();
        let timeout_ms: i64 = row.try_get("timeout_ms")?;
        Ok(Self {
            tenant_id: row.try_get("tenant_id")?,
            target: row.try_get("target")?,
            consecutive_failures: row.try_get("consecutive_failures")?,
            failing_regions: row.try_get("failing_regions")?,
            monitor: Monitor {
                id: row.try_get("id")?,
                name: row.try_get("name")?,
                kind: row.try_get("kind")?,
                state: row.try_get("state")?,
                paused: row.try_get::<i64, _>("paused")? != 0,
                paused_reason: row.try_get("paused_reason")?,
                interval_seconds: row.try_get("interval_seconds")?,
                timeout_seconds: timeout_ms / 1000,
                settings,
                heartbeat_url: None,
                last_checked_at: row.try_get("last_checked_at")?,
                last_latency_ms: row.try_get("last_latency_ms")?,
                last_error: row.try_get("last_error")?,
                state_changed_at: row.try_get("state_changed_at")?,
                last_ping_at: row.try_get("last_ping_at")?,
                next_check_at: row.try_get("next_check_at")?,
                created_at: row.try_get("created_at")?,
                updated_at: row.try_get("updated_at")?,
            },
        })
    }

    /// The stored definition as input, for merging a patch or re-validating.
    pub fn input(&self) -> MonitorInput {
        let mut input: MonitorInput =
            serde_json::from_value(serde_json::Value::Object(self.monitor.settings.clone()))
                .unwrap_or_default();
        input.name = Some(self.monitor.name.clone());
        input.kind = Some(self.monitor.kind.clone());
        input.interval_seconds = u64::try_from(self.monitor.interval_seconds).ok();
        input.timeout_seconds = u64::try_from(self.monitor.timeout_seconds).ok();
        input
    }

    /// The validated definition; stored definitions were validated when written,
    /// so only a hand-edited row fails (and its checks fail with the reason).
    pub fn spec(&self) -> Result<MonitorSpec, FieldError> {
        // Stored intervals were allowed when written; a later, stricter plan does not break them.
        self.input().validate(Limits {
            min_interval_seconds: 1,
        })
    }
}

/// Why a monitor operation was refused.
#[derive(Debug, thiserror::Error)]
pub enum MonitorError {
    /// No such monitor in this tenant.
    #[error("no such monitor")]
    NotFound,
    /// A field is invalid.
    #[error("{}: {}", .0.0, .0.1)]
    Invalid(FieldError),
    /// The plan allows no more monitors.
    #[error("your plan allows {0} monitors; delete one or upgrade")]
    LimitReached(u64),
    /// The database failed.
    #[error(transparent)]
    Db(#[from] DbError),
}

impl From<sqlx::Error> for MonitorError {
    fn from(err: sqlx::Error) -> Self {
        Self::Db(err.into())
    }
}

/// When a new or resumed monitor is first checked: within a second, spread so
/// that monitors created together do not all fire at once.
fn first_check_at(now: i64) -> i64 {
    now + rand::thread_rng().gen_range(0..1000)
}

/// Monitors of a tenant, oldest first.
pub async fn list(db: &Database, tenant_id: &str) -> Result<Vec<Monitor>, DbError> {
    let rows = sqlx::query(&format!(
        "SELECT {COLUMNS} FROM monitors WHERE tenant_id = $1 ORDER BY created_at, id"
    ))
    .bind(tenant_id)
    .fetch_all(db.pool())
    .await?;
    rows.iter()
        .map(|r| MonitorRow::from_row(r).map(|m| m.monitor))
        .collect::<Result<_, _>>()
        .map_err(DbError::from)
}

/// One monitor row of a tenant.
pub async fn get_row(db: &Database, tenant_id: &str, id: &str) -> Result<MonitorRow, MonitorError> {
    let row = sqlx::query(&format!(
        "SELECT {COLUMNS} FROM monitors WHERE id = $1 AND tenant_id = $2"
    ))
    .bind(id)
    .bind(tenant_id)
    .fetch_optional(db.pool())
    .await?;
    match row {
        Some(row) => Ok(MonitorRow::from_row(&row)?),
        None => Err(MonitorError::NotFound),
    }
}

/// One monitor of a tenant.
pub async fn get(db: &Database, tenant_id: &str, id: &str) -> Result<Monitor, MonitorError> {
    Ok(get_row(db, tenant_id, id).await?.monitor)
}

fn settings_json(spec: &MonitorSpec) -> String {
    spec.fields.stored(spec.confirmations, spec.regions)
}

/// Creates a monitor within the plan's limits; heartbeat monitors get a push
/// URL under `public_base`, shown only in this answer.
pub async fn create(
    db: &Database,
    tenant_id: &str,
    input: &MonitorInput,
    limits: Limits,
    max_monitors: u64,
    public_base: &str,
) -> Result<Monitor, MonitorError> {
    let spec = input.validate(limits).map_err(MonitorError::Invalid)?;
    let id = new_id();
    let now = now_ms();
    let token = matches!(spec.check, super::kinds::Check::Heartbeat { .. }).then(random_secret);
    let mut tx = db.begin_write().await?;
    // Serialises creations per tenant, so two at once cannot both take the last slot.
    sqlx::query(&format!(
        "SELECT id FROM tenants WHERE id = $1{}",
        db.dialect().for_update()
    ))
    .bind(tenant_id)
    .fetch_optional(&mut *tx)
    .await?;
    // Monitors the plan paused are what is over the limit; they do not count.
    let count: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM monitors WHERE tenant_id = $1 AND paused_reason IS NULL",
    )
    .bind(tenant_id)
    .fetch_one(&mut *tx)
    .await?;
    if u64::try_from(count).unwrap_or(0) >= max_monitors {
        return Err(MonitorError::LimitReached(max_monitors));
    }
    let (state, next) = if spec.paused {
        ("paused", now)
    } else {
        // A heartbeat is due one interval plus grace after creation.
        ("pending", first_check_at(now))
    };
    sqlx::query(
        "INSERT INTO monitors (id, tenant_id, name, kind, target, settings, interval_seconds, \
         timeout_ms, state, paused, next_check_at, heartbeat_token_hash, last_ping_at, \
         created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $14)",
    )
    .bind(&id)
    .bind(tenant_id)
    .bind(&spec.name)
    .bind(spec.check.kind().as_str())
    .bind(&spec.target)
    .bind(settings_json(&spec))
    .bind(i64::try_from(spec.interval_seconds).unwrap_or(i64::MAX))
    .bind(i64::try_from(spec.timeout_ms).unwrap_or(i64::MAX))
    .bind(state)
    .bind(i64::from(spec.paused))
    .bind(next)
    .bind(token.as_deref().map(hash_secret))
    .bind(token.as_ref().map(|_| now))
    .bind(now)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    let mut monitor = get(db, tenant_id, &id).await?;
    monitor.heartbeat_url = token.map(|t| format!("{public_base}/api/heartbeat/{t}"));
    Ok(monitor)
}

/// Applies `patch` to a monitor; the whole result is validated before anything is written.
pub async fn update(
    db: &Database,
    tenant_id: &str,
    id: &str,
    patch: &MonitorInput,
    limits: Limits,
) -> Result<Monitor, MonitorError> {
    let row = get_row(db, tenant_id, id).await?;
    if let Some(kind) = &patch.kind
        && *kind != row.monitor.kind
    {
        return Err(MonitorError::Invalid((
            "kind",
            "cannot change; create a new monitor instead".to_owned(),
        )));
    }
    let mut input = row.input();
    input.paused = Some(row.monitor.paused);
    let merged = input.merged(patch);
    // An unchanged interval below a stricter plan minimum stays allowed.
    let limits = match patch.interval_seconds {
        Some(_) => limits,
        None => Limits {
            min_interval_seconds: 1,
        },
    };
    let spec = merged.validate(limits).map_err(MonitorError::Invalid)?;
    let now = now_ms();
    let (state, next, failures) = match (row.monitor.paused, spec.paused) {
        (false, true) => ("paused".to_owned(), row.monitor.next_check_at, 0),
        (true, false) => ("pending".to_owned(), first_check_at(now), 0),
        // A changed definition is checked again soon, not after the old interval.
        _ => (
            row.monitor.state.clone(),
            row.monitor.next_check_at.min(first_check_at(now)),
            row.consecutive_failures,
        ),
    };
    // Pausing and resuming change the state: its live event commits with it.
    let mut tx = db.begin_write().await?;
    sqlx::query(
        "UPDATE monitors SET name = $1, target = $2, settings = $3, interval_seconds = $4, \
         timeout_ms = $5, paused = $6, state = $7, next_check_at = $8, \
         consecutive_failures = $9, updated_at = $10 WHERE id = $11 AND tenant_id = $12",
    )
    .bind(&spec.name)
    .bind(&spec.target)
    .bind(settings_json(&spec))
    .bind(i64::try_from(spec.interval_seconds).unwrap_or(i64::MAX))
    .bind(i64::try_from(spec.timeout_ms).unwrap_or(i64::MAX))
    .bind(i64::from(spec.paused))
    .bind(&state)
    .bind(next)
    .bind(failures)
    .bind(now)
    .bind(id)
    .bind(tenant_id)
    .execute(&mut *tx)
    .await?;
    if state != row.monitor.state {
        let event = LiveEvent::MonitorState(MonitorStateData {
            monitor_id: id.to_owned(),
            state: state.clone(),
            previous: Some(row.monitor.state.clone()),
            at: now,
        });
        crate::events::store::append(&mut tx, db.dialect(), &[NewEvent::new(tenant_id, &event)])
            .await?;
    }
    tx.commit().await?;
    get(db, tenant_id, id).await
}

/// Deletes a monitor with its results, incidents and roll-ups.
pub async fn delete(db: &Database, tenant_id: &str, id: &str) -> Result<(), MonitorError> {
    let done = sqlx::query("DELETE FROM monitors WHERE id = $1 AND tenant_id = $2")
        .bind(id)
        .bind(tenant_id)
        .execute(db.pool())
        .await?;
    if done.rows_affected() == 0 {
        return Err(MonitorError::NotFound);
    }
    Ok(())
}

/// Records a heartbeat ping for the monitor whose push token is `token`; the
/// monitor is re-evaluated at once. Returns false when no monitor has that token.
pub async fn record_ping(db: &Database, token: &str) -> Result<bool, DbError> {
    let now = now_ms();
    let done = sqlx::query(
        "UPDATE monitors SET last_ping_at = $1, \
         next_check_at = CASE WHEN state IN ('down', 'pending') THEN $1 ELSE next_check_at END \
         WHERE heartbeat_token_hash = $2 AND kind = 'heartbeat'",
    )
    .bind(now)
    .bind(hash_secret(token))
    .execute(db.pool())
    .await?;
    Ok(done.rows_affected() > 0)
}
