//! `POST /api/auth/signup`: a new organisation with its owner, signed in at once.

use std::time::Duration;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;
use utoipa::ToSchema;

use super::respond::{SessionBody, UserInfo, with_cookies};
use super::{ip_key, limit, verify_email::send_verification};
use crate::AppState;
use crate::auth::{password, session};
use crate::http::client_ip::ClientIp;
use crate::http::{ApiJson, AppError};
use crate::tenancy::audit::{self, Entry};
use crate::tenancy::signup::{CreateError, Owner, create_tenant};
use crate::tenancy::store::organization_for;
use crate::tenancy::{EmailAddress, Slug};

/// Signup form.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SignupRequest {
    /// Organisation display name, 1–100 characters (trimmed), no control characters.
    #[schema(min_length = 1, max_length = 100)]
    pub organization: String,
    /// Subdomain label: `<slug>.<suffix>`; 3–40 lowercase letters, digits and
    /// hyphens, not at either end nor in the third and fourth place; not reserved.
    #[schema(
        min_length = 3,
        max_length = 40,
        pattern = r"^[a-z0-9][a-z0-9-]*[a-z0-9]$"
    )]
    pub slug: String,
    /// Owner's email, at most 254 characters.
    #[schema(format = Email, max_length = 254)]
    pub email: String,
    /// Owner's password: at least `auth.min_password_length` characters
    /// (8–128 as configured; 10 by default), at most 256 bytes, not a common one.
    #[schema(min_length = 8, max_length = 256)]
    pub password: String,
}

/// Validates the display name of an organisation.
pub fn organization_name(value: &str) -> Result<String, AppError> {
    let name = value.trim();
    if name.is_empty() || name.chars().count() > 100 {
        return Err(AppError::invalid(
            "organization",
            "must be 1 to 100 characters",
        ));
    }
    if name.chars().any(char::is_control) {
        return Err(AppError::invalid(
            "organization",
            "must not contain control characters",
        ));
    }
    Ok(name.to_owned())
}

/// Creates the organisation, its subdomain and owner, then signs the owner in.
#[utoipa::path(post, path = "/api/auth/signup", tag = "auth", request_body = SignupRequest,
    responses((status = 201, body = SessionBody), (status = 409, body = crate::http::error::ErrorBody),
              (status = 422, body = crate::http::error::ErrorBody), (status = 429, body = crate::http::error::ErrorBody)))]
pub async fn signup(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    ApiJson(form): ApiJson<SignupRequest>,
) -> Result<Response, AppError> {
    limit(
        &state,
        "signup",
        &ip_key(ip),
        state.settings.auth.signup_per_ip_per_hour,
        Duration::from_secs(3600),
    )?;

    let name = organization_name(&form.organization)?;
    let slug = Slug::parse(&form.slug, &state.settings.tenancy.reserved_slugs)
        .map_err(|m| AppError::invalid("slug", m))?;
    let email = EmailAddress::parse(&form.email).map_err(|m| AppError::invalid("email", m))?;
    password::check(
        &form.password,
        state.settings.auth.min_password_length,
        email.as_str(),
    )
    .map_err(|e| AppError::invalid("password", e.to_string()))?;
    let hash = password::hash(form.password).await?;

    let suffix = state.settings.tenancy.normalized_suffix();
    let created = create_tenant(
        &state.db,
        &slug,
        &name,
        &suffix,
        Owner::New {
            email: &email,
            password_hash: &hash,
        },
    )
    .await
    .map_err(|err| match err {
        CreateError::SlugTaken(_) => {
            AppError::conflict("slug_taken", Some("slug"), err.to_string())
        }
        CreateError::EmailTaken => {
            AppError::conflict("email_taken", Some("email"), err.to_string())
        }
        CreateError::Db(db) => db.into(),
    })?;
    audit::record(
        &state.db,
        Entry {
            tenant_id: Some(&created.tenant_id),
            actor_id: Some(&created.user_id),
            action: "tenant.signup",
            target: Some(&created.domain),
            ip: Some(ip.to_string()),
            details: None,
        },
    )
    .await;
    send_verification(&state, &created.user_id, email.as_str());

    let issued = session::start(
        &state.db,
        &state.keys,
        &state.settings.auth,
        &created.user_id,
        Some(&created.tenant_id),
    )
    .await?;
    let organization =
        organization_for(&state.db, &created.tenant_id, Some(&created.user_id)).await?;
    let mut body = SessionBody::signed_in(
        &issued,
        organization,
        UserInfo {
            id: created.user_id.clone(),
            email: email.to_string(),
            email_verified: false,
            is_superuser: false,
        },
    );
    body.domain = Some(created.domain);
    Ok(with_cookies(&state, StatusCode::CREATED, &issued, body))
}
