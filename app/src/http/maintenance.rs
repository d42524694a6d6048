//! `/api/maintenance-windows`: times when state changes alert nobody.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;

use crate::AppState;
use crate::http::principal::TenantCaller;
use crate::http::{ApiJson, AppError};
use crate::monitor::maintenance::{self, NewWindow, Window, WindowError};

fn window_error(err: WindowError) -> AppError {
    match err {
        WindowError::NotFound => AppError::NotFound,
        WindowError::Invalid(field, message) => AppError::invalid(field, message),
        WindowError::Db(db) => db.into(),
    }
}

/// Windows that have not ended.
#[utoipa::path(get, path = "/api/maintenance-windows", tag = "maintenance",
    responses((status = 200, body = [Window])))]
pub async fn list(
    State(state): State<AppState>,
    p: TenantCaller,
) -> Result<Json<Vec<Window>>, AppError> {
    Ok(Json(maintenance::list(&state.db, &p.tenant_id).await?))
}

/// Schedules a window, for one monitor or all.
#[utoipa::path(post, path = "/api/maintenance-windows", tag = "maintenance", request_body = NewWindow,
    responses((status = 201, body = Window), (status = 422, body = crate::http::error::ErrorBody)))]
pub async fn create(
    State(state): State<AppState>,
    p: TenantCaller,
    ApiJson(new): ApiJson<NewWindow>,
) -> Result<(StatusCode, Json<Window>), AppError> {
    let window = maintenance::create(&state.db, &p.tenant_id, &new)
        .await
        .map_err(window_error)?;
    Ok((StatusCode::CREATED, Json(window)))
}

/// Removes a window.
#[utoipa::path(delete, path = "/api/maintenance-windows/{id}", tag = "maintenance",
    params(("id" = String, Path, description = "window id")),
    responses((status = 204), (status = 404, body = crate::http::error::ErrorBody)))]
pub async fn delete(
    State(state): State<AppState>,
    p: TenantCaller,
    Path(id): Path<String>,
) -> Result<StatusCode, AppError> {
    maintenance::delete(&state.db, &p.tenant_id, &id)
        .await
        .map_err(window_error)?;
    Ok(StatusCode::NO_CONTENT)
}
