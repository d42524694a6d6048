//! Pausing what a plan no longer allows, and resuming it when it does again.
//!
//! A pause is `paused_reason` on the row: nothing is deleted, and it is kept
//! apart from a monitor's own `paused` flag, so lifting it restores exactly
//! what the owner had. Which rows pause: those the owner paused themselves
//! first (monitors), pages other than the default one first, then the newest;
//! which resume: the oldest first.

use serde::Serialize;
use sqlx::{Any, Transaction};
use utoipa::ToSchema;

use super::plans::{Limit, Plan, PlanLimits};
use crate::clock::now_ms;
use crate::db::{Database, DbError};

/// A kind of row a plan can pause.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pausable {
    /// `monitors`.
    Monitors,
    /// `status_pages`.
    StatusPages,
    /// `alert_channels`.
    AlertChannels,
    /// `domains` of kind `custom`.
    CustomDomains,
}

impl Pausable {
    /// Every kind.
    pub const ALL: [Pausable; 4] = [
        Pausable::Monitors,
        Pausable::StatusPages,
        Pausable::AlertChannels,
        Pausable::CustomDomains,
    ];

    /// The limit that counts this kind.
    pub fn limit(self) -> Limit {
        match self {
            Self::Monitors => Limit::Monitors,
            Self::StatusPages => Limit::StatusPages,
            Self::AlertChannels => Limit::AlertChannels,
            Self::CustomDomains => Limit::CustomDomains,
        }
    }

    /// Name in the API (`monitor`, `status_page`, …).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Monitors => "monitor",
            Self::StatusPages => "status_page",
            Self::AlertChannels => "alert_channel",
            Self::CustomDomains => "custom_domain",
        }
    }

    fn table(self) -> &'static str {
        match self {
            Self::Monitors => "monitors",
            Self::StatusPages => "status_pages",
            Self::AlertChannels => "alert_channels",
            Self::CustomDomains => "domains",
        }
    }

    fn label(self) -> &'static str {
        match self {
            Self::Monitors | Self::AlertChannels => "name",
            Self::StatusPages => "title",
            Self::CustomDomains => "hostname",
        }
    }

    /// Extra condition selecting the rows of this kind in its table.
    fn scope(self) -> &'static str {
        match self {
            Self::CustomDomains => " AND kind = 'custom'",
            _ => "",
        }
    }

    /// Order in which rows are paused.
    fn pause_order(self) -> &'static str {
        match self {
            // The owner's own pauses cost nothing to keep paused.
            Self::Monitors => "paused DESC, created_at DESC, id DESC",
            // The default page keeps serving /status/ as long as possible.
            Self::StatusPages => "is_default ASC, created_at DESC, id DESC",
            _ => "created_at DESC, id DESC",
        }
    }
}

/// A row paused by the plan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct Paused {
    /// `monitor`, `status_page`, `alert_channel` or `custom_domain`.
    pub kind: &'static str,
    /// The paused row's id, as in its own API (`/api/monitors/{id}`, …).
    pub id: String,
    /// Its name, title or hostname.
    pub name: String,
    /// Why, for people.
    pub reason: String,
}

/// The reason stored on rows `plan` pauses.
pub fn reason(plan: &Plan, kind: Pausable) -> String {
    let limit = kind.limit();
    format!(
        "paused: the {} plan allows {} {}; upgrade to resume it",
        plan.display_name,
        limit.of(&plan.limits),
        limit.noun()
    )
}

/// Rows of `kind` the plan has not paused (in a transaction or on the pool).
pub async fn active<'c, E>(executor: E, tenant_id: &str, kind: Pausable) -> Result<u64, sqlx::Error>
where
    E: sqlx::Executor<'c, Database = Any>,
{
    let count: i64 = sqlx::query_scalar(&format!(
        "SELECT COUNT(*) FROM {} WHERE tenant_id = $1 AND paused_reason IS NULL{}",
        kind.table(),
        kind.scope()
    ))
    .bind(tenant_id)
    .fetch_one(executor)
    .await?;
    Ok(u64::try_from(count).unwrap_or(0))
}

/// Pauses what `plan` does not allow and resumes what it does; `None` (no
/// limits) resumes everything. Returns (paused, resumed).
pub async fn reconcile(
    tx: &mut Transaction<'static, Any>,
    tenant_id: &str,
    plan: Option<&Plan>,
) -> Result<(u64, u64), sqlx::Error> {
    let (mut paused, mut resumed) = (0, 0);
    for kind in Pausable::ALL {
        let allowed = plan.map(|p| kind.limit().of(&p.limits));
        let active = active(&mut **tx, tenant_id, kind).await?;
        match allowed {
            Some(allowed) if active > allowed => {
                let text = plan.map(|p| reason(p, kind)).unwrap_or_default();
                paused += pause(tx, tenant_id, kind, active - allowed, &text).await?;
            }
            _ => {
                let room = allowed.map_or(u64::MAX, |a| a - active.min(a));
                if room > 0 {
                    resumed += resume(tx, tenant_id, kind, room).await?;
                }
            }
        }
    }
    Ok((paused, resumed))
}

fn limit_i64(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

async fn pause(
    tx: &mut Transaction<'static, Any>,
    tenant_id: &str,
    kind: Pausable,
    count: u64,
    reason: &str,
) -> Result<u64, sqlx::Error> {
    // Monitors stop being probed (the scheduler skips paused_reason) and show as paused.
    let extra = if kind == Pausable::Monitors {
        ", state = 'paused', lease_owner = NULL, lease_expires_at = NULL, updated_at = $4"
    } else {
        ""
    };
    let sql = format!(
        "UPDATE {table} SET paused_reason = $1{extra} WHERE id IN (SELECT id FROM {table} \
         WHERE tenant_id = $2 AND paused_reason IS NULL{scope} ORDER BY {order} LIMIT $3)",
        table = kind.table(),
        scope = kind.scope(),
        order = kind.pause_order(),
    );
    let mut query = sqlx::query(&sql)
        .bind(reason)
        .bind(tenant_id)
        .bind(limit_i64(count));
    if kind == Pausable::Monitors {
        query = query.bind(now_ms());
    }
    Ok(query.execute(&mut **tx).await?.rows_affected())
}

async fn resume(
    tx: &mut Transaction<'static, Any>,
    tenant_id: &str,
    kind: Pausable,
    count: u64,
) -> Result<u64, sqlx::Error> {
    // A resumed monitor is checked soon, unless its owner had paused it too.
    let extra = if kind == Pausable::Monitors {
        ", state = CASE WHEN paused = 1 THEN 'paused' ELSE 'pending' END, \
         next_check_at = $3, consecutive_failures = 0, updated_at = $3"
    } else {
        ""
    };
    let sql = format!(
        "UPDATE {table} SET paused_reason = NULL{extra} WHERE id IN (SELECT id FROM {table} \
         WHERE tenant_id = $1 AND paused_reason IS NOT NULL{scope} ORDER BY created_at, id LIMIT $2)",
        table = kind.table(),
        scope = kind.scope(),
    );
    let mut query = sqlx::query(&sql).bind(tenant_id).bind(limit_i64(count));
    if kind == Pausable::Monitors {
        query = query.bind(now_ms());
    }
    Ok(query.execute(&mut **tx).await?.rows_affected())
}

/// What became of a request to pause or resume one row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Toggle {
    /// Done.
    Done,
    /// Already in that state.
    Unchanged,
    /// The plan has no room to resume it.
    NoRoom,
    /// No such row of the tenant.
    NotFound,
}

impl Pausable {
    /// The kind named `name` in the API.
    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == name)
    }
}

/// Pauses one row for the owner, to make room on the plan for another.
pub async fn pause_one(
    db: &Database,
    tenant_id: &str,
    kind: Pausable,
    id: &str,
) -> Result<Toggle, DbError> {
    let extra = if kind == Pausable::Monitors {
        ", state = 'paused', lease_owner = NULL, lease_expires_at = NULL"
    } else {
        ""
    };
    let mut tx = db.begin_write().await?;
    let current: Option<Option<String>> = sqlx::query_scalar(&format!(
        "SELECT paused_reason FROM {} WHERE id = $1 AND tenant_id = $2{}",
        kind.table(),
        kind.scope()
    ))
    .bind(id)
    .bind(tenant_id)
    .fetch_optional(&mut *tx)
    .await?;
    let outcome = match current {
        None => Toggle::NotFound,
        Some(Some(_)) => Toggle::Unchanged,
        Some(None) => {
            sqlx::query(&format!(
                "UPDATE {} SET paused_reason = $1{extra} WHERE id = $2 AND tenant_id = $3",
                kind.table()
            ))
            .bind("paused by the owner to make room on the plan; resumes on upgrade")
            .bind(id)
            .bind(tenant_id)
            .execute(&mut *tx)
            .await?;
            Toggle::Done
        }
    };
    tx.commit().await?;
    Ok(outcome)
}

/// Lifts the plan's pause of one row the owner wants back, if the plan has room.
pub async fn lift_one(
    db: &Database,
    tenant_id: &str,
    kind: Pausable,
    id: &str,
    limits: Option<&PlanLimits>,
) -> Result<Toggle, DbError> {
    let mut tx = db.begin_write().await?;
    // Serialises with creations and reconciliations of the same tenant.
    super::account::lock(&mut tx, db, tenant_id).await?;
    let current: Option<Option<String>> = sqlx::query_scalar(&format!(
        "SELECT paused_reason FROM {} WHERE id = $1 AND tenant_id = $2{}",
        kind.table(),
        kind.scope()
    ))
    .bind(id)
    .bind(tenant_id)
    .fetch_optional(&mut *tx)
    .await?;
    match current {
        None => return Ok(Toggle::NotFound),
        Some(None) => return Ok(Toggle::Unchanged),
        Some(Some(_)) => {}
    }
    let active = active(&mut *tx, tenant_id, kind).await?;
    if limits.is_some_and(|l| active >= kind.limit().of(l)) {
        return Ok(Toggle::NoRoom);
    }
    let extra = if kind == Pausable::Monitors {
        ", state = CASE WHEN paused = 1 THEN 'paused' ELSE 'pending' END, next_check_at = $3, \
         updated_at = $3"
    } else {
        ""
    };
    let sql = format!(
        "UPDATE {} SET paused_reason = NULL{extra} WHERE id = $1 AND tenant_id = $2",
        kind.table()
    );
    let mut query = sqlx::query(&sql).bind(id).bind(tenant_id);
    if kind == Pausable::Monitors {
        query = query.bind(now_ms());
    }
    query.execute(&mut *tx).await?;
    tx.commit().await?;
    Ok(Toggle::Done)
}

/// The tenant's rows paused by the plan, with their reasons.
pub async fn list(db: &Database, tenant_id: &str) -> Result<Vec<Paused>, DbError> {
    let mut all = Vec::new();
    for kind in Pausable::ALL {
        let rows: Vec<(String, String, String)> = sqlx::query_as(&format!(
            "SELECT id, {label}, paused_reason FROM {table} WHERE tenant_id = $1 \
             AND paused_reason IS NOT NULL{scope} ORDER BY created_at, id",
            label = kind.label(),
            table = kind.table(),
            scope = kind.scope(),
        ))
        .bind(tenant_id)
        .fetch_all(db.pool())
        .await?;
        all.extend(rows.into_iter().map(|(id, name, reason)| Paused {
            kind: kind.as_str(),
            id,
            name,
            reason,
        }));
    }
    Ok(all)
}
