//! `POST /api/auth/login`: email and password, then the organisation — implied
//! by the host or by the user having one, chosen from a list otherwise.

use std::time::Duration;

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use utoipa::ToSchema;

use super::respond::{SessionBody, UserInfo, with_cookies};
use super::{ip_key, limit};
use crate::AppState;
use crate::auth::{password, session};
use crate::http::client_ip::ClientIp;
use crate::http::{ApiJson, AppError};
use crate::tenancy::audit::{self, Entry};
use crate::tenancy::store::{Organization, organizations_of, tenant_for_host, user_by_email};

/// Login form.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginRequest {
    /// The account's email; case does not matter. At most 254 characters.
    #[schema(min_length = 1, max_length = 254)]
    pub email: String,
    /// Wrong ones count towards the account's lockout.
    #[schema(max_length = 256)]
    pub password: String,
    /// Organisation slug or id, for users of several.
    #[serde(default)]
    pub organization: Option<String>,
}

fn invalid_credentials() -> AppError {
    AppError::unauthorized("invalid_credentials", "email or password is wrong")
}

/// Signs a user in.
#[utoipa::path(post, path = "/api/auth/login", tag = "auth", request_body = LoginRequest,
    responses((status = 200, body = SessionBody), (status = 401, body = crate::http::error::ErrorBody),
              (status = 403, body = crate::http::error::ErrorBody), (status = 429, body = crate::http::error::ErrorBody)))]
pub async fn login(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    ApiJson(form): ApiJson<LoginRequest>,
) -> Result<Response, AppError> {
    let auth = &state.settings.auth;
    limit(
        &state,
        "login",
        &ip_key(ip),
        auth.login_per_ip_per_minute,
        Duration::from_secs(60),
    )?;
    let email = super::typed_email(&form.email)?;
    limit(
        &state,
        "login",
        &email,
        auth.login_per_account_per_minute,
        Duration::from_secs(60),
    )?;

    let Some(user) = user_by_email(&state.db, &email).await? else {
        // Same cost as a real check, so timing does not reveal which emails exist.
        password::verify(form.password, password::dummy_hash().await).await?;
        return Err(invalid_credentials());
    };
    if !super::lockout::check_password(&state, &user, form.password, ip).await? {
        return Err(invalid_credentials());
    }

    let organizations = organizations_of(&state.db, &user.id).await?;
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or_default();
    let host_tenant = tenant_for_host(&state.db, host).await?;
    let chosen: Option<&Organization> = match (&host_tenant, form.organization.as_deref()) {
        (Some(tenant), _) => Some(organizations.iter().find(|o| &o.id == tenant).ok_or_else(
            || AppError::forbidden("not_a_member", "you are not a member of this organization"),
        )?),
        (None, Some(wanted)) => {
            let wanted = wanted.trim().to_ascii_lowercase();
            Some(
                organizations
                    .iter()
                    .find(|o| o.slug == wanted || o.id == wanted)
                    .ok_or_else(|| {
                        AppError::forbidden(
                            "not_a_member",
                            "you are not a member of this organization",
                        )
                    })?,
            )
        }
        (None, None) if organizations.len() == 1 => organizations.first(),
        (None, None) if organizations.is_empty() && user.is_superuser => None,
        (None, None) if organizations.is_empty() => {
            return Err(AppError::forbidden(
                "no_organization",
                "this account belongs to no organization",
            ));
        }
        (None, None) => {
            let body = SessionBody {
                status: "choose_organization",
                access_token: None,
                refresh_token: None,
                token_type: None,
                expires_in: None,
                organization: None,
                organizations: Some(organizations),
                user: None,
                domain: None,
            };
            return Ok((StatusCode::OK, Json(body)).into_response());
        }
    };
    let issued = session::start(
        &state.db,
        &state.keys,
        auth,
        &user.id,
        chosen.map(|o| o.id.as_str()),
    )
    .await?;
    audit::record(
        &state.db,
        Entry {
            tenant_id: chosen.map(|o| o.id.as_str()),
            actor_id: Some(&user.id),
            action: "auth.login",
            target: None,
            ip: Some(ip.to_string()),
            details: None,
        },
    )
    .await;
    let body = SessionBody::signed_in(
        &issued,
        chosen.cloned(),
        UserInfo {
            id: user.id.clone(),
            email: user.email.clone(),
            email_verified: user.email_verified_at.is_some(),
            is_superuser: user.is_superuser,
        },
    );
    Ok(with_cookies(&state, StatusCode::OK, &issued, body))
}
