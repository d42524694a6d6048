//! The audit log: admin and security-relevant actions, append-only.

use serde::Serialize;
use serde_json::Value;
use utoipa::ToSchema;

use crate::clock::{new_id, now_ms};
use crate::db::{Database, DbError};

/// One audit entry to write.
#[derive(Debug, Default)]
pub struct Entry<'a> {
    /// Tenant concerned, if any.
    pub tenant_id: Option<&'a str>,
    /// Who did it, if a user.
    pub actor_id: Option<&'a str>,
    /// What happened, e.g. `tenant.suspend`, `auth.login_failed`.
    pub action: &'a str,
    /// What it happened to.
    pub target: Option<&'a str>,
    /// Client address.
    pub ip: Option<String>,
    /// Extra facts (never secrets).
    pub details: Option<Value>,
}

/// Appends `entry`; failures are logged, since losing an entry must not fail the action.
pub async fn record(db: &Database, entry: Entry<'_>) {
    let result = sqlx::query(
        "INSERT INTO audit_log (id, tenant_id, actor_id, action, target, ip, details, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(new_id())
    .bind(entry.tenant_id)
    .bind(entry.actor_id)
    .bind(entry.action)
    .bind(entry.target)
    .bind(entry.ip)
    .bind(
        entry
            .details
            .unwrap_or(Value::Object(Default::default()))
            .to_string(),
    )
    .bind(now_ms())
    .execute(db.pool())
    .await;
    if let Err(err) = result {
        tracing::error!(error = %err, action = entry.action, "audit entry lost");
    }
}

/// An audit entry as listed.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct AuditEntry {
    /// Entry id.
    pub id: String,
    /// Tenant concerned.
    pub tenant_id: Option<String>,
    /// Acting user.
    pub actor_id: Option<String>,
    /// Action name.
    pub action: String,
    /// What it happened to: an id, a slug, a hostname or an email address.
    pub target: Option<String>,
    /// Client address.
    pub ip: Option<String>,
    /// Extra facts.
    #[schema(value_type = Object)]
    pub details: Value,
    /// When, ms since the epoch.
    pub created_at: i64,
}

/// id, tenant_id, actor_id, action, target, ip, details, created_at.
type AuditRow = (
    String,
    Option<String>,
    Option<String>,
    String,
    Option<String>,
    Option<String>,
    String,
    i64,
);

/// Newest entries first, optionally of one tenant.
pub async fn list(
    db: &Database,
    tenant_id: Option<&str>,
    limit: i64,
) -> Result<Vec<AuditEntry>, DbError> {
    let rows: Vec<AuditRow> = sqlx::query_as(
        "SELECT id, tenant_id, actor_id, action, target, ip, details, created_at FROM audit_log \
             WHERE ($1 IS NULL OR tenant_id = $1) ORDER BY created_at DESC, id DESC LIMIT $2",
    )
    .bind(tenant_id)
    .bind(limit)
    .fetch_all(db.pool())
    .await?;
    Ok(rows
        .into_iter()
        .map(
            |(id, tenant_id, actor_id, action, target, ip, details, created_at)| AuditEntry {
                id,
                tenant_id,
                actor_id,
                action,
                target,
                ip,
                details: serde_json::from_str(&details).unwrap_or(Value::Null),
                created_at,
            },
        )
        .collect())
}
