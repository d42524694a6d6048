//! Invitations by email: a random token, stored hashed, accepted once.

use serde::Serialize;
use utoipa::ToSchema;

use super::store::is_unique_violation;
use crate::auth::Role;
use crate::auth::session::{hash_secret, random_secret};
use crate::clock::{new_id, now_ms};
use crate::db::{Database, DbError};

/// How long an invitation stays valid.
const VALID_MS: i64 = 7 * 86_400_000;

/// An invitation as listed.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Invitation {
    /// Invitation id.
    pub id: String,
    /// Invited address.
    pub email: String,
    /// Role on acceptance.
    pub role: Role,
    /// Expiry, ms.
    pub expires_at: i64,
    /// Accepted, ms.
    pub accepted_at: Option<i64>,
    /// Created, ms.
    pub created_at: i64,
}

/// A pending invitation found by its token.
#[derive(Debug, Clone)]
pub struct Pending {
    /// Invitation id.
    pub id: String,
    /// Tenant invited to.
    pub tenant_id: String,
    /// Invited address.
    pub email: String,
    /// Role on acceptance.
    pub role: Role,
}

/// Creates an invitation; returns it and the token for the mailed link.
pub async fn create(
    db: &Database,
    tenant_id: &str,
    email: &str,
    role: Role,
    invited_by: Option<&str>,
) -> Result<(Invitation, String), DbError> {
    let token = random_secret();
    let now = now_ms();
    let invitation = Invitation {
        id: new_id(),
        email: email.to_owned(),
        role,
        expires_at: now + VALID_MS,
        accepted_at: None,
        created_at: now,
    };
    sqlx::query(
        "INSERT INTO invitations (id, tenant_id, email, role, token_hash, invited_by, expires_at, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(&invitation.id)
    .bind(tenant_id)
    .bind(email)
    .bind(role.as_str())
    .bind(hash_secret(&token))
    .bind(invited_by)
    .bind(invitation.expires_at)
    .bind(now)
    .execute(db.pool())
    .await?;
    Ok((invitation, token))
}

/// Invitations of a tenant, newest first.
pub async fn list(db: &Database, tenant_id: &str) -> Result<Vec<Invitation>, DbError> {
    let rows: Vec<(String, String, String, i64, Option<i64>, i64)> = sqlx::query_as(
        "SELECT id, email, role, expires_at, accepted_at, created_at FROM invitations \
         WHERE tenant_id = $1 ORDER BY created_at DESC",
    )
    .bind(tenant_id)
    .fetch_all(db.pool())
    .await?;
    Ok(rows
        .into_iter()
        .filter_map(|(id, email, role, expires_at, accepted_at, created_at)| {
            Some(Invitation {
                id,
                email,
                role: Role::parse(&role)?,
                expires_at,
                accepted_at,
                created_at,
            })
        })
        .collect())
}

/// Deletes a pending invitation of `tenant_id`; false when there is none.
pub async fn revoke(db: &Database, tenant_id: &str, id: &str) -> Result<bool, DbError> {
    let done = sqlx::query(
        "DELETE FROM invitations WHERE id = $1 AND tenant_id = $2 AND accepted_at IS NULL",
    )
    .bind(id)
    .bind(tenant_id)
    .execute(db.pool())
    .await?;
    Ok(done.rows_affected() == 1)
}

/// The pending, unexpired invitation a token belongs to.
pub async fn find_pending(db: &Database, token: &str) -> Result<Option<Pending>, DbError> {
    if token.is_empty() || token.len() > 200 {
        return Ok(None);
    }
    let row: Option<(String, String, String, String)> = sqlx::query_as(
        "SELECT id, tenant_id, email, role FROM invitations \
         WHERE token_hash = $1 AND accepted_at IS NULL AND expires_at > $2",
    )
    .bind(hash_secret(token))
    .bind(now_ms())
    .fetch_optional(db.pool())
    .await?;
    Ok(row.and_then(|(id, tenant_id, email, role)| {
        Some(Pending {
            id,
            tenant_id,
            email,
            role: Role::parse(&role)?,
        })
    }))
}

/// Marks the invitation accepted and makes `user_id` a member; false if it was
/// accepted meanwhile. A user who is already a member keeps their role.
pub async fn accept(db: &Database, pending: &Pending, user_id: &str) -> Result<bool, DbError> {
    let now = now_ms();
    let mut tx = db.begin_write().await?;
    let marked = sqlx::query(
        "UPDATE invitations SET accepted_at = $1 WHERE id = $2 AND accepted_at IS NULL",
    )
    .bind(now)
    .bind(&pending.id)
    .execute(&mut *tx)
    .await?;
    if marked.rows_affected() != 1 {
        return Ok(false);
    }
    let joined = sqlx::query(
        "INSERT INTO memberships (tenant_id, user_id, role, created_at) VALUES ($1, $2, $3, $4)",
    )
    .bind(&pending.tenant_id)
    .bind(user_id)
    .bind(pending.role.as_str())
    .bind(now)
    .execute(&mut *tx)
    .await;
    match joined {
        Ok(_) => {}
        Err(err) if is_unique_violation(&err) => {}
        Err(err) => return Err(err.into()),
    }
    tx.commit().await?;
    Ok(true)
}
