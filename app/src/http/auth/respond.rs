//! The answer to a successful sign-in: tokens in the body for API clients and
//! HttpOnly cookies (with a CSRF cookie) for the SPA.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum_extra::extract::CookieJar;
use axum_extra::extract::cookie::{Cookie, SameSite};
use serde::Serialize;
use utoipa::ToSchema;

use crate::AppState;
use crate::auth::session::{Issued, random_secret};
use crate::http::principal::{ACCESS_COOKIE, CSRF_COOKIE, REFRESH_COOKIE};
use crate::tenancy::store::Organization;

/// The signed-in user.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct UserInfo {
    /// User id.
    pub id: String,
    /// Sign-in address, lowercase.
    pub email: String,
    /// Whether the email was verified.
    pub email_verified: bool,
    /// Platform operator.
    pub is_superuser: bool,
}

/// Body of a sign-in answer.
#[derive(Debug, Serialize, ToSchema)]
pub struct SessionBody {
    /// `signed_in`, or `choose_organization` (then repeat the login with `organization`).
    pub status: &'static str,
    /// Bearer access token.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub access_token: Option<String>,
    /// Refresh token (single use).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refresh_token: Option<String>,
    /// Always `Bearer`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub token_type: Option<&'static str>,
    /// Seconds until the access token expires.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expires_in: Option<u64>,
    /// The organisation signed in to.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub organization: Option<Organization>,
    /// The organisations to choose from.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub organizations: Option<Vec<Organization>>,
    /// Who is signed in, once a session is issued.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user: Option<UserInfo>,
    /// The new tenant's hostname (signup).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub domain: Option<String>,
}

impl SessionBody {
    /// A signed-in body for `issued`.
    pub fn signed_in(issued: &Issued, organization: Option<Organization>, user: UserInfo) -> Self {
        Self {
            status: "signed_in",
            access_token: Some(issued.access_token.clone()),
            refresh_token: Some(issued.refresh_token.clone()),
            token_type: Some("Bearer"),
            expires_in: Some(issued.expires_in),
            organization,
            organizations: None,
            user: Some(user),
            domain: None,
        }
    }
}

fn cookie(
    name: &'static str,
    value: String,
    path: &'static str,
    max_age: u64,
    http_only: bool,
    secure: bool,
    same_site: SameSite,
) -> Cookie<'static> {
    Cookie::build((name, value))
        .path(path)
        .http_only(http_only)
        .secure(secure)
        .same_site(same_site)
        .max_age(time_duration(max_age))
        .build()
}

fn time_duration(seconds: u64) -> cookie::time::Duration {
    cookie::time::Duration::seconds(i64::try_from(seconds).unwrap_or(i64::MAX))
}

/// Sets the session cookies and answers with `body`.
pub fn with_cookies(
    state: &AppState,
    status: StatusCode,
    issued: &Issued,
    body: SessionBody,
) -> Response {
    let secure = state.settings.production;
    let jar = CookieJar::new()
        .add(cookie(
            ACCESS_COOKIE,
            issued.access_token.clone(),
            "/",
            issued.expires_in,
            true,
            secure,
            SameSite::Lax,
        ))
        .add(cookie(
            REFRESH_COOKIE,
            issued.refresh_token.clone(),
            "/api/auth",
            issued.refresh_expires_in,
            true,
            secure,
            SameSite::Strict,
        ))
        .add(cookie(
            CSRF_COOKIE,
            random_secret(),
            "/",
            issued.refresh_expires_in,
            false,
            secure,
            SameSite::Lax,
        ));
    (status, jar, Json(body)).into_response()
}

/// Removes the session cookies.
pub fn clear_cookies(state: &AppState) -> CookieJar {
    let secure = state.settings.production;
    CookieJar::new()
        .add(cookie(
            ACCESS_COOKIE,
            String::new(),
            "/",
            0,
            true,
            secure,
            SameSite::Lax,
        ))
        .add(cookie(
            REFRESH_COOKIE,
            String::new(),
            "/api/auth",
            0,
            true,
            secure,
            SameSite::Strict,
        ))
        .add(cookie(
            CSRF_COOKIE,
            String::new(),
            "/",
            0,
            false,
            secure,
            SameSite::Lax,
        ))
}
