//! `POST /api/auth/refresh`: a new token pair for a refresh token, used once.

use std::time::Duration;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use axum_extra::extract::CookieJar;
use serde::Deserialize;
use utoipa::ToSchema;

use super::respond::{SessionBody, UserInfo, with_cookies};
use super::{ip_key, limit};
use crate::AppState;
use crate::auth::session::{self, RefreshError};
use crate::http::client_ip::ClientIp;
use crate::http::principal::REFRESH_COOKIE;
use crate::http::{ApiJson, AppError};
use crate::tenancy::audit::{self, Entry};
use crate::tenancy::store::{organization_for, user_by_id};

/// Refresh form; the SPA may send an empty object and rely on its cookie.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RefreshRequest {
    /// The refresh token (else the `sw_refresh` cookie is used).
    #[serde(default)]
    pub refresh_token: Option<String>,
}

/// Rotates a refresh token.
#[utoipa::path(post, path = "/api/auth/refresh", tag = "auth", request_body = RefreshRequest,
    responses((status = 200, body = SessionBody), (status = 401, body = crate::http::error::ErrorBody),
              (status = 429, body = crate::http::error::ErrorBody)))]
pub async fn refresh(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    jar: CookieJar,
    ApiJson(form): ApiJson<RefreshRequest>,
) -> Result<Response, AppError> {
    limit(
        &state,
        "refresh",
        &ip_key(ip),
        state.settings.auth.refresh_per_ip_per_minute,
        Duration::from_secs(60),
    )?;
    let presented = form
        .refresh_token
        .or_else(|| jar.get(REFRESH_COOKIE).map(|c| c.value().to_owned()))
        .unwrap_or_default();
    let issued = match session::rotate(
        &state.db,
        &state.keys,
        &state.settings.auth,
        presented.trim(),
    )
    .await
    {
        Ok(issued) => issued,
        Err(RefreshError::Invalid) => {
            return Err(AppError::unauthorized(
                "invalid_refresh_token",
                "refresh token is invalid or expired; sign in again",
            ));
        }
        Err(RefreshError::Reused) => {
            audit::record(
                &state.db,
                Entry {
                    action: "auth.refresh_reuse",
                    ip: Some(ip.to_string()),
                    ..Entry::default()
                },
            )
            .await;
            return Err(AppError::unauthorized(
                "refresh_token_reused",
                "this refresh token was already used; every session of this login was signed out",
            ));
        }
        Err(RefreshError::Db(err)) => return Err(err.into()),
    };
    let user = user_by_id(&state.db, &issued.user_id)
        .await?
        .ok_or_else(|| {
            AppError::unauthorized("invalid_refresh_token", "the account no longer exists")
        })?;
    let organization = match &issued.tenant_id {
        Some(tenant) => organization_for(&state.db, tenant, Some(&user.id)).await?,
        None => None,
    };
    let body = SessionBody::signed_in(
        &issued,
        organization,
        UserInfo {
            id: user.id,
            email: user.email,
            email_verified: user.email_verified_at.is_some(),
            is_superuser: user.is_superuser,
        },
    );
    Ok(with_cookies(&state, StatusCode::OK, &issued, body))
}
