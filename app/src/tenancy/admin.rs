//! Platform administration across tenants: listing, searching, suspending.
//! These are the only queries that read across tenants, and are named so.

use serde::Serialize;
use utoipa::ToSchema;

use crate::clock::now_ms;
use crate::db::{Database, DbError};

/// A tenant as the platform admin sees it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct TenantSummary {
    /// Tenant id.
    pub id: String,
    /// Its label under the suffix: `<slug>.<suffix>`.
    pub slug: String,
    /// Display name.
    pub name: String,
    /// `active` or `suspended`.
    pub status: String,
    /// Plan in force (`free`, `pro`, …), complimentary or paid.
    pub plan: String,
    /// Its subdomain.
    pub domain: Option<String>,
    /// How many members it has (invitations not counted).
    pub members: i64,
    /// Created, ms.
    pub created_at: i64,
}

type Row = (
    String,
    String,
    String,
    String,
    String,
    Option<String>,
    i64,
    i64,
);

const SELECT: &str = "SELECT t.id, t.slug, t.name, t.status, t.plan, \
    (SELECT d.hostname FROM domains d WHERE d.tenant_id = t.id AND d.kind = 'subdomain'), \
    (SELECT COUNT(*) FROM memberships m WHERE m.tenant_id = t.id), t.created_at FROM tenants t";

fn summary(r: Row) -> TenantSummary {
    TenantSummary {
        id: r.0,
        slug: r.1,
        name: r.2,
        status: r.3,
        plan: r.4,
        domain: r.5,
        members: r.6,
        created_at: r.7,
    }
}

/// Tenants whose slug or name contains `query` (all when empty), newest first.
pub async fn all_tenants_matching(
    db: &Database,
    query: &str,
    limit: i64,
    offset: i64,
) -> Result<Vec<TenantSummary>, DbError> {
    let pattern = format!(
        "%{}%",
        query
            .trim()
            .to_lowercase()
            .replace('\\', "\\\\")
            .replace('%', "\\%")
            .replace('_', "\\_")
    );
    let rows: Vec<Row> = sqlx::query_as(&format!(
        "{SELECT} WHERE lower(t.slug) LIKE $1 ESCAPE '\\' OR lower(t.name) LIKE $1 ESCAPE '\\' \
         ORDER BY t.created_at DESC, t.id LIMIT $2 OFFSET $3"
    ))
    .bind(pattern)
    .bind(limit)
    .bind(offset)
    .fetch_all(db.pool())
    .await?;
    Ok(rows.into_iter().map(summary).collect())
}

/// One tenant by id or slug.
pub async fn any_tenant(db: &Database, id_or_slug: &str) -> Result<Option<TenantSummary>, DbError> {
    let row: Option<Row> = sqlx::query_as(&format!("{SELECT} WHERE t.id = $1 OR t.slug = $1"))
        .bind(id_or_slug.trim().to_lowercase())
        .fetch_optional(db.pool())
        .await?;
    Ok(row.map(summary))
}

/// Sets a tenant's status; nothing else changes, so resuming restores everything.
pub async fn set_status(db: &Database, tenant_id: &str, suspended: bool) -> Result<bool, DbError> {
    let done = sqlx::query("UPDATE tenants SET status = $1, updated_at = $2 WHERE id = $3")
        .bind(if suspended { "suspended" } else { "active" })
        .bind(now_ms())
        .bind(tenant_id)
        .execute(db.pool())
        .await?;
    Ok(done.rows_affected() == 1)
}
