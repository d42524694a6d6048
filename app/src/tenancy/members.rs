//! Members of an organisation: listing, changing roles, removing, keeping one owner.

use serde::Serialize;
use utoipa::ToSchema;

use crate::auth::Role;
use crate::db::{Database, DbError};

/// A member as listed.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Member {
    /// The user, as in `/api/members/{user_id}`.
    pub user_id: String,
    /// Sign-in address, lowercase.
    pub email: String,
    /// What the member may do here.
    pub role: Role,
    /// Joined, ms.
    pub joined_at: i64,
}

/// Why a membership change was refused.
#[derive(Debug, thiserror::Error)]
pub enum MemberError {
    /// No such member in this tenant.
    #[error("no such member")]
    NotFound,
    /// The change would leave the organisation without an owner.
    #[error("an organization must keep at least one owner; make someone else owner first")]
    LastOwner,
    /// Only owners may grant or take away ownership.
    #[error("only an owner can change who is an owner")]
    OwnersOnly,
    /// The database failed.
    #[error(transparent)]
    Db(#[from] DbError),
}

impl From<sqlx::Error> for MemberError {
    fn from(err: sqlx::Error) -> Self {
        Self::Db(err.into())
    }
}

/// Members of `tenant_id`, by email.
pub async fn list(db: &Database, tenant_id: &str) -> Result<Vec<Member>, DbError> {
    let rows: Vec<(String, String, String, i64)> = sqlx::query_as(
        "SELECT u.id, u.email, m.role, m.created_at FROM memberships m JOIN users u ON u.id = m.user_id \
         WHERE m.tenant_id = $1 ORDER BY u.email",
    )
    .bind(tenant_id)
    .fetch_all(db.pool())
    .await?;
    Ok(rows
        .into_iter()
        .filter_map(|(user_id, email, role, joined_at)| {
            Some(Member {
                user_id,
                email,
                role: Role::parse(&role)?,
                joined_at,
            })
        })
        .collect())
}

async fn role_of(
    tx: &mut sqlx::AnyConnection,
    tenant_id: &str,
    user_id: &str,
) -> Result<Role, MemberError> {
    let role: Option<String> =
        sqlx::query_scalar("SELECT role FROM memberships WHERE tenant_id = $1 AND user_id = $2")
            .bind(tenant_id)
            .bind(user_id)
            .fetch_optional(&mut *tx)
            .await?;
    role.as_deref()
        .and_then(Role::parse)
        .ok_or(MemberError::NotFound)
}

/// Owners of the tenant, locked until the transaction ends so two concurrent
/// demotions cannot both see a second owner.
async fn owner_count(
    db: &Database,
    tx: &mut sqlx::AnyConnection,
    tenant_id: &str,
) -> Result<usize, MemberError> {
    let sql = format!(
        "SELECT user_id FROM memberships WHERE tenant_id = $1 AND role = 'owner'{}",
        db.dialect().for_update()
    );
    let owners: Vec<String> = sqlx::query_scalar(&sql)
        .bind(tenant_id)
        .fetch_all(&mut *tx)
        .await?;
    Ok(owners.len())
}

/// Changes a member's role, as `actor_role`.
pub async fn set_role(
    db: &Database,
    tenant_id: &str,
    user_id: &str,
    role: Role,
    actor_role: Role,
) -> Result<(), MemberError> {
    let mut tx = db.begin_write().await?;
    let current = role_of(&mut tx, tenant_id, user_id).await?;
    if (current == Role::Owner || role == Role::Owner) && actor_role != Role::Owner {
        return Err(MemberError::OwnersOnly);
    }
    if current == Role::Owner
        && role != Role::Owner
        && owner_count(db, &mut tx, tenant_id).await? <= 1
    {
        return Err(MemberError::LastOwner);
    }
    sqlx::query("UPDATE memberships SET role = $1 WHERE tenant_id = $2 AND user_id = $3")
        .bind(role.as_str())
        .bind(tenant_id)
        .bind(user_id)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(())
}

/// Removes a member, as `actor_role`; the last owner stays.
pub async fn remove(
    db: &Database,
    tenant_id: &str,
    user_id: &str,
    actor_role: Role,
) -> Result<(), MemberError> {
    let mut tx = db.begin_write().await?;
    let current = role_of(&mut tx, tenant_id, user_id).await?;
    if current == Role::Owner && actor_role != Role::Owner {
        return Err(MemberError::OwnersOnly);
    }
    if current == Role::Owner && owner_count(db, &mut tx, tenant_id).await? <= 1 {
        return Err(MemberError::LastOwner);
    }
    sqlx::query("DELETE FROM memberships WHERE tenant_id = $1 AND user_id = $2")
        .bind(tenant_id)
        .bind(user_id)
        .execute(&mut *tx)
        .await?;
    sqlx::query("UPDATE refresh_tokens SET revoked_at = $1 WHERE tenant_id = $2 AND user_id = $3 AND revoked_at IS NULL")
        .bind(crate::clock::now_ms())
        .bind(tenant_id)
        .bind(user_id)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(())
}
