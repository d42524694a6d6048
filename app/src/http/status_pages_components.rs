//! `/api/status-pages/{id}/components`: what a status page shows, each bound
//! to monitors or set by hand.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;

use super::status_pages::{body, page_of, status_error};
use crate::AppState;
use crate::http::principal::TenantCaller;
use crate::http::{ApiJson, AppError};
use crate::status_page::components::{self, Component, ComponentInput};

/// Components of a page, in order.
#[utoipa::path(get, path = "/api/status-pages/{id}/components", tag = "status pages",
    params(("id" = String, Path, description = "status page id")),
    responses((status = 200, body = [Component]), (status = 404, body = crate::http::error::ErrorBody)))]
pub async fn list(
    State(state): State<AppState>,
    p: TenantCaller,
    Path(id): Path<String>,
) -> Result<Json<Vec<Component>>, AppError> {
    page_of(&state, &p, &id).await?;
    Ok(Json(
        components::list(&state.db, &p.tenant_id, &id)
            .await
            .map_err(status_error)?,
    ))
}

/// Adds a component, bound to monitors (`monitor_ids`) or set by hand (`manual_status`).
#[utoipa::path(post, path = "/api/status-pages/{id}/components", tag = "status pages", request_body = ComponentInput,
    params(("id" = String, Path, description = "status page id")),
    responses((status = 201, body = Component), (status = 404, body = crate::http::error::ErrorBody),
              (status = 409, body = crate::http::error::ErrorBody), (status = 422, body = crate::http::error::ErrorBody)))]
pub async fn create(
    State(state): State<AppState>,
    p: TenantCaller,
    Path(id): Path<String>,
    ApiJson(value): ApiJson<serde_json::Value>,
) -> Result<(StatusCode, Json<Component>), AppError> {
    page_of(&state, &p, &id).await?;
    let input: ComponentInput = body(value)?;
    let component = components::create(&state.db, &p.tenant_id, &id, &input)
        .await
        .map_err(status_error)?;
    Ok((StatusCode::CREATED, Json(component)))
}

/// One component.
#[utoipa::path(get, path = "/api/status-pages/{id}/components/{component_id}", tag = "status pages",
    params(("id" = String, Path, description = "status page id"), ("component_id" = String, Path, description = "component id")),
    responses((status = 200, body = Component), (status = 404, body = crate::http::error::ErrorBody)))]
pub async fn get(
    State(state): State<AppState>,
    p: TenantCaller,
    Path((id, component_id)): Path<(String, String)>,
) -> Result<Json<Component>, AppError> {
    Ok(Json(
        components::get(&state.db, &p.tenant_id, &id, &component_id)
            .await
            .map_err(status_error)?,
    ))
}

/// Changes the fields given; `monitor_ids` replaces the bound monitors.
#[utoipa::path(patch, path = "/api/status-pages/{id}/components/{component_id}", tag = "status pages", request_body = ComponentInput,
    params(("id" = String, Path, description = "status page id"), ("component_id" = String, Path, description = "component id")),
    responses((status = 200, body = Component), (status = 404, body = crate::http::error::ErrorBody),
              (status = 422, body = crate::http::error::ErrorBody)))]
pub async fn update(
    State(state): State<AppState>,
    p: TenantCaller,
    Path((id, component_id)): Path<(String, String)>,
    ApiJson(value): ApiJson<serde_json::Value>,
) -> Result<Json<Component>, AppError> {
    let tenant = p.tenant_id.as_str();
    components::get(&state.db, tenant, &id, &component_id)
        .await
        .map_err(status_error)?;
    let input: ComponentInput = body(value)?;
    Ok(Json(
        components::update(&state.db, tenant, &id, &component_id, &input)
            .await
            .map_err(status_error)?,
    ))
}

/// Removes a component.
#[utoipa::path(delete, path = "/api/status-pages/{id}/components/{component_id}", tag = "status pages",
    params(("id" = String, Path, description = "status page id"), ("component_id" = String, Path, description = "component id")),
    responses((status = 204), (status = 404, body = crate::http::error::ErrorBody)))]
pub async fn delete(
    State(state): State<AppState>,
    p: TenantCaller,
    Path((id, component_id)): Path<(String, String)>,
) -> Result<StatusCode, AppError> {
    components::delete(&state.db, &p.tenant_id, &id, &component_id)
        .await
        .map_err(status_error)?;
    Ok(StatusCode::NO_CONTENT)
}
