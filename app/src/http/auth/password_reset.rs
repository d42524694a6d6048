//! Password reset: a mailed link (always answered 202, so no email is revealed)
//! and the confirmation that sets the new password and ends every session.

use std::time::Duration;

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::{ip_key, limit, link};
use crate::AppState;
use crate::auth::links::{self, RESET_PASSWORD};
use crate::auth::{password, session};
use crate::clock::now_ms;
use crate::http::client_ip::ClientIp;
use crate::http::{ApiJson, AppError};
use crate::mail::{Mail, escape_html};
use crate::tenancy::audit::{self, Entry};
use crate::tenancy::store::user_by_email;

/// Reset request.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ResetRequest {
    /// The account's email, at most 254 characters.
    #[schema(min_length = 1, max_length = 254)]
    pub email: String,
}

/// Mails a reset link if the account exists; the answer is the same either way.
#[utoipa::path(post, path = "/api/auth/password-reset", tag = "auth", request_body = ResetRequest,
    responses((status = 202), (status = 429, body = crate::http::error::ErrorBody)))]
pub async fn request(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    ApiJson(form): ApiJson<ResetRequest>,
) -> Result<StatusCode, AppError> {
    let per_hour = state.settings.auth.password_reset_per_hour;
    limit(
        &state,
        "password reset",
        &ip_key(ip),
        per_hour,
        Duration::from_secs(3600),
    )?;
    let email = super::typed_email(&form.email)?;
    limit(
        &state,
        "password reset",
        &email,
        per_hour,
        Duration::from_secs(3600),
    )?;
    if let Some(user) = user_by_email(&state.db, &email).await? {
        let token = links::reset_token(&state.keys, &user.id, user.password_changed_at);
        let url = link(&state, crate::auth::links::Page::ResetPassword, &token);
        let mail = Mail {
            to: user.email.clone(),
            subject: "Reset your StatusWatch password".to_owned(),
            text: format!(
                "Someone asked to reset the password of this StatusWatch account.\n\nSet a new one within an hour:\n{url}\n\nIf it was not you, ignore this mail."
            ),
            html: format!(
                "<p>Someone asked to reset the password of this StatusWatch account.</p><p><a href=\"{0}\">Set a new password</a> within an hour.</p><p>If it was not you, ignore this mail.</p>",
                escape_html(&url)
            ),
        };
        state.mailer.send_in_background(mail, "password reset");
        audit::record(
            &state.db,
            Entry {
                actor_id: Some(&user.id),
                action: "auth.password_reset_requested",
                ip: Some(ip.to_string()),
                ..Entry::default()
            },
        )
        .await;
    }
    Ok(StatusCode::ACCEPTED)
}

/// New password with the token from the link.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ConfirmRequest {
    /// The `token` of the link.
    pub token: String,
    /// The new password: at least `auth.min_password_length` characters
    /// (8–128 as configured; 10 by default), at most 256 bytes, not a common one.
    #[schema(min_length = 8, max_length = 256)]
    pub password: String,
}

/// Result of a reset.
#[derive(Debug, Serialize, ToSchema)]
pub struct ConfirmResponse {
    /// Always true on success; every session was signed out.
    pub password_changed: bool,
}

/// Sets the new password, unlocks the account and signs out every session.
#[utoipa::path(post, path = "/api/auth/password-reset/confirm", tag = "auth", request_body = ConfirmRequest,
    responses((status = 200, body = ConfirmResponse), (status = 400, body = crate::http::error::ErrorBody),
              (status = 422, body = crate::http::error::ErrorBody),
              (status = 429, body = crate::http::error::ErrorBody, description = "`rate_limited`: too many passwords are being checked at once; see `Retry-After`")))]
pub async fn confirm(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    ApiJson(form): ApiJson<ConfirmRequest>,
) -> Result<Json<ConfirmResponse>, AppError> {
    let (claims, user) = super::link_user(&state, &form.token, RESET_PASSWORD).await?;
    if claims.stamp != Some(user.password_changed_at) {
        return Err(super::invalid_link(
            "this link was already used or replaced; ask for a new one",
        ));
    }
    password::check(
        &form.password,
        state.settings.auth.min_password_length,
        &user.email,
    )
    .map_err(|e| AppError::invalid("password", e.to_string()))?;
    let hash = password::hash(form.password).await?;
    // The stamp in the WHERE clause makes two racing confirmations end with one winner.
    let changed = sqlx::query(
        "UPDATE users SET password_hash = $1, password_changed_at = $2, failed_logins = 0, locked_until = NULL, \
         email_verified_at = COALESCE(email_verified_at, $2) WHERE id = $3 AND password_changed_at = $4",
    )
    .bind(hash)
    .bind(now_ms().max(user.password_changed_at + 1))
    .bind(&user.id)
    .bind(user.password_changed_at)
    .execute(state.db.pool())
    .await?;
    if changed.rows_affected() != 1 {
        return Err(super::invalid_link(
            "this link was already used or replaced; ask for a new one",
        ));
    }
    session::revoke_user(&state.db, &user.id, None).await?;
    audit::record(
        &state.db,
        Entry {
            actor_id: Some(&user.id),
            action: "auth.password_reset",
            ip: Some(ip.to_string()),
            ..Entry::default()
        },
    )
    .await;
    Ok(Json(ConfirmResponse {
        password_changed: true,
    }))
}
