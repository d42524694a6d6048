//! `/api/heartbeat/{token}`: the push URL of heartbeat monitors.

use axum::extract::{Path, State};
use axum::http::StatusCode;

use crate::AppState;
use crate::http::AppError;
use crate::monitor::store;

/// Records a ping; the secret token in the path names the monitor.
#[utoipa::path(post, path = "/api/heartbeat/{token}", tag = "monitors",
    params(("token" = String, Path, description = "the monitor's secret push token")),
    responses((status = 204), (status = 404, body = crate::http::error::ErrorBody)))]
pub async fn ping(
    State(state): State<AppState>,
    Path(token): Path<String>,
) -> Result<StatusCode, AppError> {
    if token.len() > 100 || !store::record_ping(&state.db, &token).await? {
        return Err(AppError::NotFound);
    }
    Ok(StatusCode::NO_CONTENT)
}

/// The same as `POST`, for cron jobs that can only `GET` (`curl URL`).
#[utoipa::path(get, path = "/api/heartbeat/{token}", tag = "monitors",
    params(("token" = String, Path, description = "the monitor's secret push token")),
    responses((status = 204), (status = 404, body = crate::http::error::ErrorBody)))]
pub async fn ping_get(state: State<AppState>, token: Path<String>) -> Result<StatusCode, AppError> {
    ping(state, token).await
}
