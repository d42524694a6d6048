//! Per-tenant API keys for automation: `sw_<prefix>_<secret>`, shown once,
//! stored as the public prefix plus a SHA-256 of the secret, revocable.

use rand::RngCore;
use serde::Serialize;
use subtle::ConstantTimeEq;
use utoipa::ToSchema;

use super::Role;
use super::session::{hash_secret, random_secret};
use crate::clock::{new_id, now_ms};
use crate::db::{Database, DbError};

/// What a key may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Scope {
    /// Read everything a viewer can.
    Read,
    /// Also the write API a member has (monitors, alerts, status pages).
    Write,
}

impl Scope {
    /// Stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Read => "read",
            Self::Write => "write",
        }
    }

    fn parse(value: &str) -> Option<Self> {
        match value {
            "read" => Some(Self::Read),
            "write" => Some(Self::Write),
            _ => None,
        }
    }

    /// The role a key acts with: never more than a member.
    pub fn role(self) -> Role {
        match self {
            Self::Read => Role::Viewer,
            Self::Write => Role::Member,
        }
    }
}

/// An API key as listed (never with its secret).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ApiKey {
    /// Key id.
    pub id: String,
    /// Name given at creation.
    pub name: String,
    /// Public prefix, to recognise the key.
    pub prefix: String,
    /// What it may do.
    pub scope: Scope,
    /// Created, ms since epoch.
    pub created_at: i64,
    /// Last used, ms since epoch, to within a minute.
    pub last_used_at: Option<i64>,
    /// Revoked, ms since epoch.
    pub revoked_at: Option<i64>,
}

/// A key that authenticated a request.
#[derive(Debug, Clone)]
pub struct KeyIdentity {
    /// Key id.
    pub id: String,
    /// Tenant it belongs to.
    pub tenant_id: String,
    /// What it may do.
    pub scope: Scope,
}

/// Creates a key; returns it with the full secret, which is never shown again.
pub async fn create(
    db: &Database,
    tenant_id: &str,
    name: &str,
    scope: Scope,
    created_by: Option<&str>,
) -> Result<(ApiKey, String), DbError> {
    let mut prefix_bytes = [0_u8; 6];
    rand::thread_rng().fill_bytes(&mut prefix_bytes);
    let prefix: String = prefix_bytes.iter().map(|b| format!("{b:02x}")).collect();
    let secret = random_secret();
    let key = ApiKey {
        id: new_id(),
        name: name.to_owned(),
        prefix: prefix.clone(),
        scope,
        created_at: now_ms(),
        last_used_at: None,
        revoked_at: None,
    };
    sqlx::query(
        "INSERT INTO api_keys (id, tenant_id, name, prefix, secret_hash, scope, created_by, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(&key.id)
    .bind(tenant_id)
    .bind(name)
    .bind(&prefix)
    .bind(hash_secret(&secret))
    .bind(scope.as_str())
    .bind(created_by)
    .bind(key.created_at)
    .execute(db.pool())
    .await?;
    Ok((key, format!("sw_{prefix}_{secret}")))
}

/// How stale `last_used_at` may be: it is written at most once a minute per
/// key, so that a busy key's calls are reads, not a write each.
pub const LAST_USED_PRECISION_MS: i64 = 60_000;

/// Whether a bearer token is shaped like an API key rather than an access token.
pub fn looks_like_key(token: &str) -> bool {
    token.starts_with("sw_")
}

/// Finds the live key a presented token belongs to.
pub async fn authenticate(db: &Database, presented: &str) -> Result<Option<KeyIdentity>, DbError> {
    let Some((prefix, secret)) = presented
        .strip_prefix("sw_")
        .and_then(|rest| rest.split_once('_'))
    else {
        return Ok(None);
    };
    if prefix.len() != 12 || secret.len() > 100 {
        return Ok(None);
    }
    let row: Option<(String, String, String, String, Option<i64>)> = sqlx::query_as(
        "SELECT id, tenant_id, secret_hash, scope, last_used_at FROM api_keys \
         WHERE prefix = $1 AND revoked_at IS NULL",
    )
    .bind(prefix)
    .fetch_optional(db.pool())
    .await?;
    let Some((id, tenant_id, stored, scope, last_used_at)) = row else {
        return Ok(None);
    };
    if !bool::from(hash_secret(secret).as_bytes().ct_eq(stored.as_bytes())) {
        return Ok(None);
    }
    let Some(scope) = Scope::parse(&scope) else {
        return Ok(None);
    };
    let now = now_ms();
    if last_used_at.is_none_or(|at| now - at >= LAST_USED_PRECISION_MS) {
        sqlx::query("UPDATE api_keys SET last_used_at = $1 WHERE id = $2")
            .bind(now)
            .bind(&id)
            .execute(db.pool())
            .await?;
    }
    Ok(Some(KeyIdentity {
        id,
        tenant_id,
        scope,
    }))
}

/// id, name, prefix, scope, created_at, last_used_at, revoked_at.
type KeyRow = (
    String,
    String,
    String,
    String,
    i64,
    Option<i64>,
    Option<i64>,
);

/// Keys of a tenant, newest first.
pub async fn list(db: &Database, tenant_id: &str) -> Result<Vec<ApiKey>, DbError> {
    let rows: Vec<KeyRow> = sqlx::query_as(
        "SELECT id, name, prefix, scope, created_at, last_used_at, revoked_at FROM api_keys \
         WHERE tenant_id = $1 ORDER BY created_at DESC",
    )
    .bind(tenant_id)
    .fetch_all(db.pool())
    .await?;
    Ok(rows
        .into_iter()
        .map(
            |(id, name, prefix, scope, created_at, last_used_at, revoked_at)| ApiKey {
                id,
                name,
                prefix,
                scope: Scope::parse(&scope).unwrap_or(Scope::Read),
                created_at,
                last_used_at,
                revoked_at,
            },
        )
        .collect())
}

/// Revokes a key of `tenant_id`; false when it does not exist there.
pub async fn revoke(db: &Database, tenant_id: &str, key_id: &str) -> Result<bool, DbError> {
    let done = sqlx::query(
        "UPDATE api_keys SET revoked_at = $1 WHERE id = $2 AND tenant_id = $3 AND revoked_at IS NULL",
    )
    .bind(now_ms())
    .bind(key_id)
    .bind(tenant_id)
    .execute(db.pool())
    .await?;
    Ok(done.rows_affected() == 1)
}
