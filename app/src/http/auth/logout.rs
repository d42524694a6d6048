//! `POST /api/auth/logout`: ends this login everywhere it is used.

use axum::extract::{Extension, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

use super::respond::clear_cookies;
use crate::AppState;
use crate::auth::session;
use crate::http::AppError;
use crate::http::principal::Principal;

/// Revokes the session's refresh family (and with it its access tokens).
#[utoipa::path(post, path = "/api/auth/logout", tag = "auth",
    responses((status = 204), (status = 401, body = crate::http::error::ErrorBody)))]
pub async fn logout(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
) -> Result<Response, AppError> {
    if let Some(family) = &principal.family_id {
        session::revoke_family(&state.db, family).await?;
    }
    Ok((StatusCode::NO_CONTENT, clear_cookies(&state)).into_response())
}
