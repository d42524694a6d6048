//! Creating a tenant: the organisation, its subdomain, and its first owner, all
//! in one transaction so a failure leaves nothing half-created.

use super::store::is_unique_violation;
use super::{EmailAddress, Slug};
use crate::auth::Role;
use crate::clock::{new_id, now_ms};
use crate::db::{Database, DbError};

/// Marks an account that has no password yet (set through a reset link).
pub const NO_PASSWORD: &str = "!";

/// Who becomes the first owner.
#[derive(Debug)]
pub enum Owner<'a> {
    /// A new user with this email and password hash (or [`NO_PASSWORD`]).
    New {
        /// Their email.
        email: &'a EmailAddress,
        /// Their argon2id hash.
        password_hash: &'a str,
    },
    /// An existing user.
    Existing {
        /// Their id.
        user_id: &'a str,
    },
}

/// What was created.
#[derive(Debug, Clone)]
pub struct Created {
    /// The new tenant.
    pub tenant_id: String,
    /// The owner's user id (an existing user's, or the new one's).
    pub user_id: String,
    /// `<slug>.<suffix>`.
    pub domain: String,
}

/// Why a tenant could not be created.
#[derive(Debug, thiserror::Error)]
pub enum CreateError {
    /// The slug (or its subdomain) is taken.
    #[error("the slug `{0}` is already taken")]
    SlugTaken(String),
    /// A new owner's email already has an account.
    #[error(
        "an account with this email already exists; sign in and create the organization from there, or ask for an invitation"
    )]
    EmailTaken,
    /// The database failed.
    #[error(transparent)]
    Db(#[from] DbError),
}

impl From<sqlx::Error> for CreateError {
    fn from(err: sqlx::Error) -> Self {
        Self::Db(err.into())
    }
}

/// The subdomain of `slug` under `suffix`.
pub fn subdomain(slug: &Slug, suffix: &str) -> String {
    format!(
        "{}.{}",
        slug.as_str(),
        suffix.trim_matches('.').to_ascii_lowercase()
    )
}

/// Creates tenant, owner and subdomain atomically.
pub async fn create_tenant(
    db: &Database,
    slug: &Slug,
    name: &str,
    suffix: &str,
    owner: Owner<'_>,
) -> Result<Created, CreateError> {
    let now = now_ms();
    let tenant_id = new_id();
    let domain = subdomain(slug, suffix);
    let mut tx = db.begin_write().await?;

    let slug_taken: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM tenants WHERE slug = $1")
        .bind(slug.as_str())
        .fetch_one(&mut *tx)
        .await?;
    if slug_taken > 0 {
        return Err(CreateError::SlugTaken(slug.to_string()));
    }
    let user_id = match owner {
        Owner::Existing { user_id } => user_id.to_owned(),
        Owner::New {
            email,
            password_hash,
        } => {
            let taken: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM users WHERE email = $1")
                .bind(email.as_str())
                .fetch_one(&mut *tx)
                .await?;
            if taken > 0 {
                return Err(CreateError::EmailTaken);
            }
            let user_id = new_id();
            sqlx::query("INSERT INTO users (id, email, password_hash, created_at, password_changed_at) VALUES ($1, $2, $3, $4, $4)")
                .bind(&user_id)
                .bind(email.as_str())
                .bind(password_hash)
                .bind(now)
                .execute(&mut *tx)
                .await
                .map_err(|e| if is_unique_violation(&e) { CreateError::EmailTaken } else { e.into() })?;
            user_id
        }
    };
    let inserted = async {
        sqlx::query("INSERT INTO tenants (id, slug, name, created_at, updated_at) VALUES ($1, $2, $3, $4, $4)")
            .bind(&tenant_id)
            .bind(slug.as_str())
            .bind(name)
            .bind(now)
            .execute(&mut *tx)
            .await?;
        sqlx::query("INSERT INTO memberships (tenant_id, user_id, role, created_at) VALUES ($1, $2, $3, $4)")
            .bind(&tenant_id)
            .bind(&user_id)
            .bind(Role::Owner.as_str())
            .bind(now)
            .execute(&mut *tx)
            .await?;
        // Our own subdomain needs no DNS proof: it is verified from the start.
        sqlx::query(
            "INSERT INTO domains (id, tenant_id, hostname, kind, verified_at, created_at) VALUES ($1, $2, $3, 'subdomain', $4, $4)",
        )
        .bind(new_id())
        .bind(&tenant_id)
        .bind(&domain)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        // The edge orders its certificate now, so the first visitor finds it ready.
        crate::certs::store::enqueue_in(&mut tx, &domain, "tenant created").await?;
        Ok::<_, sqlx::Error>(())
    }
    .await;
    match inserted {
        Ok(()) => {}
        // Two signups racing for one slug: the loser hits the unique index.
        Err(err) if is_unique_violation(&err) => {
            return Err(CreateError::SlugTaken(slug.to_string()));
        }
        Err(err) => return Err(err.into()),
    }
    tx.commit().await?;
    Ok(Created {
        tenant_id,
        user_id,
        domain,
    })
}
