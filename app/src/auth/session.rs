//! Sessions: a short-lived access token plus a rotating refresh token.
//!
//! Refresh tokens are random, stored only as SHA-256 hashes, and belong to a
//! family started at login. Each use marks the token used and issues the next
//! one in the family; presenting a used token again means it was stolen, so the
//! whole family is revoked. Logout revokes the family, which also ends its
//! access tokens at once (the principal check looks the family up).

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand::RngCore;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::Keys;
use super::token::{self, Claims};
use crate::clock::{new_id, now_ms};
use crate::config::AuthConfig;
use crate::db::{Database, DbError};

/// Claims of an access token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccessClaims {
    /// User id.
    pub sub: String,
    /// Tenant the token acts in; none for a platform session.
    pub tid: Option<String>,
    /// Refresh family, checked for revocation on every request.
    pub sid: String,
    /// Always `access`.
    pub pur: String,
    /// Issued at, seconds.
    pub iat: i64,
    /// Expires at, seconds.
    pub exp: i64,
}

impl Claims for AccessClaims {
    fn exp(&self) -> i64 {
        self.exp
    }
    fn purpose(&self) -> &str {
        &self.pur
    }
}

/// Tokens handed to a client after login or refresh.
#[derive(Debug, Clone)]
pub struct Issued {
    /// Bearer access token.
    pub access_token: String,
    /// Refresh token, usable once.
    pub refresh_token: String,
    /// Seconds until the access token expires.
    pub expires_in: u64,
    /// Seconds until the refresh token expires.
    pub refresh_expires_in: u64,
    /// The refresh family.
    pub family_id: String,
    /// Whom the tokens speak for (the access token's `sub`).
    pub user_id: String,
    /// The tenant, if any.
    pub tenant_id: Option<String>,
}

/// Why a refresh was refused.
#[derive(Debug, thiserror::Error)]
pub enum RefreshError {
    /// Unknown, expired or revoked token.
    #[error("refresh token is invalid or expired")]
    Invalid,
    /// A used token came back: the family is now revoked.
    #[error("refresh token was already used; every session of this login has been revoked")]
    Reused,
    /// The database failed.
    #[error(transparent)]
    Db(#[from] DbError),
}

impl From<sqlx::Error> for RefreshError {
    fn from(err: sqlx::Error) -> Self {
        Self::Db(err.into())
    }
}

/// SHA-256 of a high-entropy secret, hex; enough at rest since the secret is random.
pub fn hash_secret(secret: &str) -> String {
    let digest = Sha256::digest(secret.as_bytes());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

/// 32 random bytes, base64url.
pub fn random_secret() -> String {
    let mut bytes = [0_u8; 32];
    rand::thread_rng().fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

/// Starts a new family for `user_id` in `tenant_id`.
pub async fn start(
    db: &Database,
    keys: &Keys,
    config: &AuthConfig,
    user_id: &str,
    tenant_id: Option<&str>,
) -> Result<Issued, DbError> {
    let family = new_id();
    let mut conn = db.pool().acquire().await?;
    issue(&mut conn, keys, config, user_id, tenant_id, &family).await
}

async fn issue(
    conn: &mut sqlx::AnyConnection,
    keys: &Keys,
    config: &AuthConfig,
    user_id: &str,
    tenant_id: Option<&str>,
    family: &str,
) -> Result<Issued, DbError> {
    let now = now_ms();
    let refresh_ms = i64::try_from(config.refresh_token_days * 86_400_000).unwrap_or(i64::MAX);
    let refresh = random_secret();
    sqlx::query(
        "INSERT INTO refresh_tokens (id, tenant_id, user_id, family_id, token_hash, expires_at, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(new_id())
    .bind(tenant_id)
    .bind(user_id)
    .bind(family)
    .bind(hash_secret(&refresh))
    .bind(now + refresh_ms)
    .bind(now)
    .execute(&mut *conn)
    .await?;
    let iat = now / 1000;
    let claims = AccessClaims {
        sub: user_id.to_owned(),
        tid: tenant_id.map(str::to_owned),
        sid: family.to_owned(),
        pur: "access".to_owned(),
        iat,
        exp: iat + i64::try_from(config.access_token_seconds).unwrap_or(900),
    };
    Ok(Issued {
        access_token: token::sign(&claims, &keys.access),
        refresh_token: refresh,
        expires_in: config.access_token_seconds,
        refresh_expires_in: config.refresh_token_days * 86_400,
        family_id: family.to_owned(),
        user_id: user_id.to_owned(),
        tenant_id: tenant_id.map(str::to_owned),
    })
}

/// id, tenant_id, user_id, family_id, expires_at, used_at, revoked_at.
type RefreshRow = (
    String,
    Option<String>,
    String,
    String,
    i64,
    Option<i64>,
    Option<i64>,
);

/// Exchanges a refresh token for new tokens, detecting reuse.
pub async fn rotate(
    db: &Database,
    keys: &Keys,
    config: &AuthConfig,
    presented: &str,
) -> Result<Issued, RefreshError> {
    if presented.is_empty() || presented.len() > 200 {
        return Err(RefreshError::Invalid);
    }
    let now = now_ms();
    let mut tx = db.begin_write().await?;
    let row: Option<RefreshRow> = sqlx::query_as(
        "SELECT id, tenant_id, user_id, family_id, expires_at, used_at, revoked_at \
         FROM refresh_tokens WHERE token_hash = $1",
    )
    .bind(hash_secret(presented))
    .fetch_optional(&mut *tx)
    .await?;
    let Some((id, tenant_id, user_id, family, expires_at, used_at, revoked_at)) = row else {
        return Err(RefreshError::Invalid);
    };
    if revoked_at.is_some() || expires_at <= now {
        return Err(RefreshError::Invalid);
    }
    if used_at.is_some() {
        revoke_family_in(&mut tx, &family, now).await?;
        tx.commit().await?;
        return Err(RefreshError::Reused);
    }
    // Marking used only if still unused makes two racing refreshes of one
    // token end with one winner and one reuse.
    let marked =
        sqlx::query("UPDATE refresh_tokens SET used_at = $1 WHERE id = $2 AND used_at IS NULL")
            .bind(now)
            .bind(&id)
            .execute(&mut *tx)
            .await?;
    if marked.rows_affected() != 1 {
        revoke_family_in(&mut tx, &family, now).await?;
        tx.commit().await?;
        return Err(RefreshError::Reused);
    }
    let issued = issue(
        &mut tx,
        keys,
        config,
        &user_id,
        tenant_id.as_deref(),
        &family,
    )
    .await?;
    tx.commit().await?;
    Ok(issued)
}

async fn revoke_family_in(
    conn: &mut sqlx::AnyConnection,
    family: &str,
    now: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE refresh_tokens SET revoked_at = $1 WHERE family_id = $2 AND revoked_at IS NULL",
    )
    .bind(now)
    .bind(family)
    .execute(conn)
    .await?;
    Ok(())
}

/// Revokes a login: its refresh tokens and, through the family check, its access tokens.
pub async fn revoke_family(db: &Database, family: &str) -> Result<(), DbError> {
    let mut conn = db.pool().acquire().await?;
    revoke_family_in(&mut conn, family, now_ms()).await?;
    Ok(())
}

/// Revokes every session of a user (password change, removal).
pub async fn revoke_user(
    db: &Database,
    user_id: &str,
    tenant_id: Option<&str>,
) -> Result<(), DbError> {
    sqlx::query(
        "UPDATE refresh_tokens SET revoked_at = $1 \
         WHERE user_id = $2 AND revoked_at IS NULL AND ($3 IS NULL OR tenant_id = $3)",
    )
    .bind(now_ms())
    .bind(user_id)
    .bind(tenant_id)
    .execute(db.pool())
    .await?;
    Ok(())
}
