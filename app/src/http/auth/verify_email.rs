//! Email verification: the link sent at signup, and `POST /api/auth/verify-email`.

use axum::Json;
use axum::extract::{Extension, State};
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::link;
use crate::AppState;
use crate::auth::links::{self, VERIFY_EMAIL};
use crate::clock::now_ms;
use crate::http::principal::Principal;
use crate::http::{ApiJson, AppError};
use crate::mail::{Mail, escape_html};
use crate::tenancy::store::user_by_id;

/// Sends the verification link in the background; a mail failure is logged, not fatal.
pub(crate) fn send_verification(state: &AppState, user_id: &str, email: &str) {
    let token = links::verify_email_token(&state.keys, user_id, email);
    let url = link(state, crate::auth::links::Page::VerifyEmail, &token);
    let mail = Mail {
        to: email.to_owned(),
        subject: "Confirm your email for StatusWatch".to_owned(),
        text: format!(
            "Welcome to StatusWatch.\n\nConfirm your email address by opening this link within two days:\n{url}\n"
        ),
        html: format!(
            "<p>Welcome to StatusWatch.</p><p><a href=\"{0}\">Confirm your email address</a> within two days.</p><p>{0}</p>",
            escape_html(&url)
        ),
    };
    state.mailer.send_in_background(mail, "verification");
}

/// A verification token from the mailed link.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct VerifyRequest {
    /// The `token` query parameter of the link.
    pub token: String,
}

/// Result of a verification.
#[derive(Debug, Serialize, ToSchema)]
pub struct VerifyResponse {
    /// Always true on success.
    pub verified: bool,
}

/// Marks the address verified.
#[utoipa::path(post, path = "/api/auth/verify-email", tag = "auth", request_body = VerifyRequest,
    responses((status = 200, body = VerifyResponse), (status = 400, body = crate::http::error::ErrorBody)))]
pub async fn verify(
    State(state): State<AppState>,
    ApiJson(form): ApiJson<VerifyRequest>,
) -> Result<Json<VerifyResponse>, AppError> {
    let (claims, user) = super::link_user(&state, &form.token, VERIFY_EMAIL).await?;
    if claims.email.as_deref() != Some(user.email.as_str()) {
        return Err(super::invalid_link(
            "this link was for another email address",
        ));
    }
    sqlx::query(
        "UPDATE users SET email_verified_at = $1 WHERE id = $2 AND email_verified_at IS NULL",
    )
    .bind(now_ms())
    .bind(&user.id)
    .execute(state.db.pool())
    .await?;
    Ok(Json(VerifyResponse { verified: true }))
}

/// Sends the verification link again.
#[utoipa::path(post, path = "/api/auth/verify-email/resend", tag = "auth",
    responses((status = 202), (status = 401, body = crate::http::error::ErrorBody),
              (status = 429, body = crate::http::error::ErrorBody)))]
pub async fn resend(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
) -> Result<StatusCode, AppError> {
    let user = user_by_id(&state.db, principal.user()?)
        .await?
        .ok_or(AppError::NotFound)?;
    super::limit(
        &state,
        "verification mail",
        &user.id,
        state.settings.auth.password_reset_per_hour,
        std::time::Duration::from_secs(3600),
    )?;
    if user.email_verified_at.is_none() {
        send_verification(&state, &user.id, &user.email);
    }
    Ok(StatusCode::ACCEPTED)
}
