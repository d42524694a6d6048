//! `/api/monitors`: create, list, read, change and delete monitors.

use axum::Json;
use axum::extract::{Extension, Path, State};
use axum::http::StatusCode;

use crate::AppState;
use crate::auth::Principal;
use crate::http::{ApiJson, AppError};
use crate::monitor::store::{self, Monitor, MonitorError};
use crate::monitor::{Limits, MonitorInput};

/// Maps a monitor error to its answer.
pub(crate) fn monitor_error(err: MonitorError) -> AppError {
    match err {
        MonitorError::NotFound => AppError::NotFound,
        MonitorError::Invalid((field, message)) => AppError::invalid(field, message),
        MonitorError::LimitReached(_) => AppError::conflict("plan_limit", None, err.to_string()),
        MonitorError::Db(db) => db.into(),
    }
}

fn limits(state: &AppState) -> Limits {
    Limits {
        min_interval_seconds: state.settings.prober.plan_min_interval_seconds,
    }
}

/// Lists the organization's monitors with their states.
#[utoipa::path(get, path = "/api/monitors", tag = "monitors", responses((status = 200, body = [Monitor])))]
pub async fn list(
    State(state): State<AppState>,
    Extension(p): Extension<Principal>,
) -> Result<Json<Vec<Monitor>>, AppError> {
    Ok(Json(store::list(&state.db, p.tenant()?).await?))
}

/// One monitor.
#[utoipa::path(get, path = "/api/monitors/{id}", tag = "monitors",
    params(("id" = String, Path, description = "monitor id")),
    responses((status = 200, body = Monitor), (status = 404, body = crate::http::error::ErrorBody)))]
pub async fn get(
    State(state): State<AppState>,
    Extension(p): Extension<Principal>,
    Path(id): Path<String>,
) -> Result<Json<Monitor>, AppError> {
    Ok(Json(
        store::get(&state.db, p.tenant()?, &id)
            .await
            .map_err(monitor_error)?,
    ))
}

/// Creates a monitor; it is first checked within seconds.
#[utoipa::path(post, path = "/api/monitors", tag = "monitors", request_body = MonitorInput,
    responses((status = 201, body = Monitor), (status = 409, body = crate::http::error::ErrorBody),
              (status = 422, body = crate::http::error::ErrorBody)))]
pub async fn create(
    State(state): State<AppState>,
    Extension(p): Extension<Principal>,
    ApiJson(input): ApiJson<MonitorInput>,
) -> Result<(StatusCode, Json<Monitor>), AppError> {
    let monitor = store::create(
        &state.db,
        p.tenant()?,
        &input,
        limits(&state),
        state.settings.prober.plan_max_monitors,
        &state.settings.tenancy.public_base(),
    )
    .await
    .map_err(monitor_error)?;
    Ok((StatusCode::CREATED, Json(monitor)))
}

/// Changes the fields given; the kind cannot change.
#[utoipa::path(patch, path = "/api/monitors/{id}", tag = "monitors", request_body = MonitorInput,
    params(("id" = String, Path, description = "monitor id")),
    responses((status = 200, body = Monitor), (status = 404, body = crate::http::error::ErrorBody),
              (status = 422, body = crate::http::error::ErrorBody)))]
pub async fn update(
    State(state): State<AppState>,
    Extension(p): Extension<Principal>,
    Path(id): Path<String>,
    ApiJson(patch): ApiJson<serde_json::Value>,
) -> Result<Json<Monitor>, AppError> {
    let tenant = p.tenant()?;
    // Another tenant's id is not found, whatever the body says.
    store::get(&state.db, tenant, &id)
        .await
        .map_err(monitor_error)?;
    let patch: MonitorInput = serde_json::from_value(patch).map_err(|e| AppError::BadRequest {
        status: StatusCode::UNPROCESSABLE_ENTITY,
        code: "invalid_body",
        message: e.to_string(),
    })?;
    let monitor = store::update(&state.db, tenant, &id, &patch, limits(&state))
        .await
        .map_err(monitor_error)?;
    Ok(Json(monitor))
}

/// Deletes a monitor with its history.
#[utoipa::path(delete, path = "/api/monitors/{id}", tag = "monitors",
    params(("id" = String, Path, description = "monitor id")),
    responses((status = 204), (status = 404, body = crate::http::error::ErrorBody)))]
pub async fn delete(
    State(state): State<AppState>,
    Extension(p): Extension<Principal>,
    Path(id): Path<String>,
) -> Result<StatusCode, AppError> {
    store::delete(&state.db, p.tenant()?, &id)
        .await
        .map_err(monitor_error)?;
    Ok(StatusCode::NO_CONTENT)
}
