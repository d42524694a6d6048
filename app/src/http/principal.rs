//! Who is making a request: resolved from a bearer token (access token or API
//! key) or from the SPA's cookies, with CSRF checked for cookie sessions.

use std::net::IpAddr;

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{Method, header};
use axum_extra::extract::CookieJar;
use subtle::ConstantTimeEq;

use super::AppError;
use crate::AppState;
use crate::auth::Role;
use crate::auth::api_key::{self, looks_like_key};
use crate::auth::session::AccessClaims;
use crate::auth::token::{self, TokenError};
use crate::clock::now_ms;
use crate::tenancy::audit::Entry;

/// Cookie holding the access token of a SPA session.
pub const ACCESS_COOKIE: &str = "sw_access";
/// Cookie holding the refresh token (sent only to `/api/auth`).
pub const REFRESH_COOKIE: &str = "sw_refresh";
/// Cookie the SPA reads and echoes in [`CSRF_HEADER`].
pub const CSRF_COOKIE: &str = "sw_csrf";
/// Header that must repeat the CSRF cookie on unsafe cookie-authenticated requests.
pub const CSRF_HEADER: &str = "x-csrf-token";

/// The authenticated caller.
#[derive(Debug, Clone)]
pub struct Principal {
    /// The user, unless an API key is calling.
    pub user_id: Option<String>,
    /// The tenant acted in.
    pub tenant_id: Option<String>,
    /// Role in that tenant (an API key's is derived from its scope).
    pub role: Option<Role>,
    /// Platform operator.
    pub is_superuser: bool,
    /// The tenant is suspended.
    pub tenant_suspended: bool,
    /// Session family (for logout).
    pub family_id: Option<String>,
    /// The API key calling, if any.
    pub api_key_id: Option<String>,
}

impl Principal {
    /// The user, for handlers a person must call.
    pub fn user(&self) -> Result<&str, AppError> {
        self.user_id.as_deref().ok_or_else(|| {
            AppError::forbidden(
                "user_required",
                "API keys cannot do this; sign in as a user",
            )
        })
    }
}

/// A caller the route guard admitted to a tenant-scoped route
/// ([`Access::Tenant`](super::routes::Access::Tenant)): signed in to this
/// tenant, which is not suspended, with at least the route's role. Handlers
/// take it instead of checking the [`Principal`] again.
#[derive(Debug, Clone)]
pub struct TenantCaller {
    /// The tenant every data access of the handler is scoped to.
    pub tenant_id: String,
    /// The caller's role there, at least the route's (an API key's comes from its scope).
    pub role: Role,
    /// The person calling; `None` for an API key.
    pub user_id: Option<String>,
}

impl TenantCaller {
    /// An audit entry for an action this caller took in its tenant, from `ip`, on `target`.
    pub fn audit<'a>(&'a self, ip: IpAddr, action: &'a str, target: &'a str) -> Entry<'a> {
        Entry {
            tenant_id: Some(self.tenant_id.as_str()),
            actor_id: self.user_id.as_deref(),
            action,
            target: Some(target),
            ip: Some(ip.to_string()),
            details: None,
        }
    }
}

impl<S: Send + Sync> FromRequestParts<S> for TenantCaller {
    type Rejection = AppError;

    /// Put in the request by the route guard; missing only on a route
    /// registered without a tenant access rule, a bug.
    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, AppError> {
        parts.extensions.get::<Self>().cloned().ok_or_else(|| {
            AppError::internal(std::io::Error::other(format!(
                "{} {} takes a tenant caller but its route has no tenant access rule",
                parts.method,
                parts.uri.path()
            )))
        })
    }
}

/// Resolves the caller; `Ok(None)` when the request carries no credentials.
pub async fn resolve(state: &AppState, parts: &Parts) -> Result<Option<Principal>, AppError> {
    if let Some(value) = parts.headers.get(header::AUTHORIZATION) {
        let value = value.to_str().unwrap_or_default();
        let Some(token) = value.strip_prefix("Bearer ").map(str::trim) else {
            return Err(AppError::unauthorized(
                "invalid_authorization",
                "Authorization must be `Bearer <token>`",
            ));
        };
        if looks_like_key(token) {
            return from_api_key(state, token).await.map(Some);
        }
        return from_access_token(state, token).await.map(Some);
    }
    let jar = CookieJar::from_headers(&parts.headers);
    let Some(cookie) = jar.get(ACCESS_COOKIE) else {
        return Ok(None);
    };
    if !matches!(parts.method, Method::GET | Method::HEAD | Method::OPTIONS) {
        let expected = jar
            .get(CSRF_COOKIE)
            .map(|c| c.value().to_owned())
            .unwrap_or_default();
        let presented = parts
            .headers
            .get(CSRF_HEADER)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default();
        if expected.is_empty() || !bool::from(expected.as_bytes().ct_eq(presented.as_bytes())) {
            return Err(AppError::forbidden(
                "csrf_failed",
                "missing or wrong X-CSRF-Token header for a cookie session",
            ));
        }
    }
    from_access_token(state, cookie.value()).await.map(Some)
}

async fn from_api_key(state: &AppState, token: &str) -> Result<Principal, AppError> {
    let key = api_key::authenticate(&state.db, token)
        .await?
        .ok_or_else(|| {
            AppError::unauthorized("invalid_api_key", "API key is unknown or revoked")
        })?;
    let status: Option<String> = sqlx::query_scalar("SELECT status FROM tenants WHERE id = $1")
        .bind(&key.tenant_id)
        .fetch_optional(state.db.pool())
        .await?;
    Ok(Principal {
        user_id: None,
        tenant_id: Some(key.tenant_id),
        role: Some(key.scope.role()),
        is_superuser: false,
        tenant_suspended: status.as_deref() == Some("suspended"),
        family_id: None,
        api_key_id: Some(key.id),
    })
}

async fn from_access_token(state: &AppState, token: &str) -> Result<Principal, AppError> {
    let claims: AccessClaims = token::verify(token, &state.keys.access, "access", now_ms() / 1000)
        .map_err(|err| match err {
            TokenError::Expired => {
                AppError::unauthorized("token_expired", "access token has expired; refresh it")
            }
            _ => AppError::unauthorized("invalid_token", "access token is invalid"),
        })?;
    // One query: the user, their role in the token's tenant, the tenant's
    // state, and whether the session was revoked (logout, reuse, removal).
    let row: Option<(i64, Option<String>, Option<String>, i64)> = sqlx::query_as(
        "SELECT u.is_superuser, m.role, t.status, \
                (SELECT COUNT(*) FROM refresh_tokens r WHERE r.family_id = $3 AND r.revoked_at IS NOT NULL) \
         FROM users u \
         LEFT JOIN memberships m ON m.user_id = u.id AND m.tenant_id = $2 \
         LEFT JOIN tenants t ON t.id = $2 \
         WHERE u.id = $1",
    )
    .bind(&claims.sub)
    .bind(claims.tid.as_deref())
    .bind(&claims.sid)
    .fetch_optional(state.db.pool())
    .await?;
    let Some((is_superuser, role, status, revoked)) = row else {
        return Err(AppError::unauthorized(
            "invalid_token",
            "the account no longer exists",
        ));
    };
    if revoked > 0 {
        return Err(AppError::unauthorized(
            "session_revoked",
            "this session was signed out",
        ));
    }
    let role = role.as_deref().and_then(Role::parse);
    if claims.tid.is_some() && role.is_none() {
        return Err(AppError::unauthorized(
            "membership_ended",
            "you are no longer a member of this organization",
        ));
    }
    Ok(Principal {
        user_id: Some(claims.sub),
        tenant_id: claims.tid,
        role,
        is_superuser: is_superuser == 1,
        tenant_suspended: status.as_deref() == Some("suspended"),
        family_id: Some(claims.sid),
        api_key_id: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_tenant_caller_comes_only_from_the_guard() {
        let (mut parts, ()) = axum::http::Request::new(()).into_parts();
        let missing = TenantCaller::from_request_parts(&mut parts, &()).await;
        assert!(matches!(missing, Err(AppError::Internal(_))), "{missing:?}");
        parts.extensions.insert(TenantCaller {
            tenant_id: "t1".into(),
            role: Role::Member,
            user_id: None,
        });
        let caller = TenantCaller::from_request_parts(&mut parts, &())
            .await
            .unwrap();
        assert_eq!(
            (caller.tenant_id.as_str(), caller.role),
            ("t1", Role::Member)
        );
    }
}
