//! Reads of tenants, users and memberships shared by several capabilities.

use serde::Serialize;
use utoipa::ToSchema;

use crate::auth::Role;
use crate::db::{Database, DbError};

/// A user row as authentication needs it.
#[derive(Debug, Clone)]
pub struct UserRow {
    /// User id.
    pub id: String,
    /// Lowercased email.
    pub email: String,
    /// argon2id PHC string, or `!` when no password is set yet.
    pub password_hash: String,
    /// When the email was verified.
    pub email_verified_at: Option<i64>,
    /// Platform operator.
    pub is_superuser: bool,
    /// Failed logins in a row.
    pub failed_logins: i64,
    /// Sign-in is refused until then after too many failed logins, ms.
    pub locked_until: Option<i64>,
    /// Last password change, ms; signs reset links.
    pub password_changed_at: i64,
}

type UserTuple = (
    String,
    String,
    String,
    Option<i64>,
    i64,
    i64,
    Option<i64>,
    i64,
);

const USER_COLUMNS: &str = "id, email, password_hash, email_verified_at, is_superuser, failed_logins, locked_until, password_changed_at";

fn user(row: UserTuple) -> UserRow {
    UserRow {
        id: row.0,
        email: row.1,
        password_hash: row.2,
        email_verified_at: row.3,
        is_superuser: row.4 == 1,
        failed_logins: row.5,
        locked_until: row.6,
        password_changed_at: row.7,
    }
}

/// The user with this (lowercased) email.
pub async fn user_by_email(db: &Database, email: &str) -> Result<Option<UserRow>, DbError> {
    let row: Option<UserTuple> = sqlx::query_as(&format!(
        "SELECT {USER_COLUMNS} FROM users WHERE email = $1"
    ))
    .bind(email)
    .fetch_optional(db.pool())
    .await?;
    Ok(row.map(user))
}

/// The user with this id.
pub async fn user_by_id(db: &Database, id: &str) -> Result<Option<UserRow>, DbError> {
    let row: Option<UserTuple> =
        sqlx::query_as(&format!("SELECT {USER_COLUMNS} FROM users WHERE id = $1"))
            .bind(id)
            .fetch_optional(db.pool())
            .await?;
    Ok(row.map(user))
}

/// An organisation as shown to its members.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Organization {
    /// Tenant id.
    pub id: String,
    /// Subdomain label.
    pub slug: String,
    /// Display name.
    pub name: String,
    /// `active` or `suspended`.
    pub status: String,
    /// Plan (`free`, `pro`).
    pub plan: String,
    /// The caller's role, where it applies.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub role: Option<Role>,
}

type OrgTuple = (String, String, String, String, String, Option<String>);

fn organization(row: OrgTuple) -> Organization {
    Organization {
        id: row.0,
        slug: row.1,
        name: row.2,
        status: row.3,
        plan: row.4,
        role: row.5.as_deref().and_then(Role::parse),
    }
}

/// Organisations a user belongs to, by name.
pub async fn organizations_of(db: &Database, user_id: &str) -> Result<Vec<Organization>, DbError> {
    let rows: Vec<OrgTuple> = sqlx::query_as(
        "SELECT t.id, t.slug, t.name, t.status, t.plan, m.role FROM memberships m \
         JOIN tenants t ON t.id = m.tenant_id WHERE m.user_id = $1 ORDER BY t.name, t.slug",
    )
    .bind(user_id)
    .fetch_all(db.pool())
    .await?;
    Ok(rows.into_iter().map(organization).collect())
}

/// One organisation with the given user's role in it, if they are a member.
pub async fn organization_for(
    db: &Database,
    tenant_id: &str,
    user_id: Option<&str>,
) -> Result<Option<Organization>, DbError> {
    let row: Option<OrgTuple> = sqlx::query_as(
        "SELECT t.id, t.slug, t.name, t.status, t.plan, m.role FROM tenants t \
         LEFT JOIN memberships m ON m.tenant_id = t.id AND m.user_id = $2 WHERE t.id = $1",
    )
    .bind(tenant_id)
    .bind(user_id)
    .fetch_optional(db.pool())
    .await?;
    Ok(row.map(organization))
}

/// The tenant that owns `host` (its subdomain or a verified custom domain).
pub async fn tenant_for_host(db: &Database, host: &str) -> Result<Option<String>, DbError> {
    let host = host
        .split(':')
        .next()
        .unwrap_or_default()
        .trim_end_matches('.')
        .to_ascii_lowercase();
    Ok(sqlx::query_scalar(
        "SELECT tenant_id FROM domains WHERE hostname = $1 AND verified_at IS NOT NULL",
    )
    .bind(host)
    .fetch_optional(db.pool())
    .await?)
}

/// Whether a database error is a unique-constraint violation.
pub fn is_unique_violation(err: &sqlx::Error) -> bool {
    matches!(err, sqlx::Error::Database(db) if db.is_unique_violation())
}

/// Grants or takes away platform administration.
pub async fn set_superuser(db: &Database, user_id: &str, on: bool) -> Result<(), DbError> {
    sqlx::query("UPDATE users SET is_superuser = $1 WHERE id = $2")
        .bind(i64::from(on))
        .bind(user_id)
        .execute(db.pool())
        .await?;
    Ok(())
}
