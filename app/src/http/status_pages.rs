//! `/api/status-pages` and `/api/status-pages/{id}/groups`: a tenant's public
//! status pages and their component groups.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::de::DeserializeOwned;

use crate::AppState;
use crate::http::principal::TenantCaller;
use crate::http::{ApiJson, AppError};
use crate::status_page::StatusPageError;
use crate::status_page::components::{self, Group, GroupInput};
use crate::status_page::pages::{self, StatusPage, StatusPageInput};

/// Maps a status-page error to its answer.
pub(crate) fn status_error(err: StatusPageError) -> AppError {
    match err {
        StatusPageError::NotFound => AppError::NotFound,
        StatusPageError::Invalid((field, message)) => AppError::invalid(field, message),
        StatusPageError::Conflict((field, message)) => {
            AppError::conflict("conflict", Some(field), message)
        }
        StatusPageError::Db(db) => db.into(),
    }
}

/// Reads a body once the resource it addresses is known to exist, so another
/// tenant's ids are "not found" whatever the body says.
pub(crate) fn body<T: DeserializeOwned>(value: serde_json::Value) -> Result<T, AppError> {
    serde_json::from_value(value).map_err(|e| AppError::BadRequest {
        status: StatusCode::UNPROCESSABLE_ENTITY,
        code: "invalid_body",
        message: e.to_string(),
    })
}

/// The page `id` of the caller's tenant.
pub(crate) async fn page_of(
    state: &AppState,
    p: &TenantCaller,
    id: &str,
) -> Result<StatusPage, AppError> {
    pages::get(&state.db, &p.tenant_id, id)
        .await
        .map_err(status_error)
}

/// Lists the organization's status pages, the default first.
#[utoipa::path(get, path = "/api/status-pages", tag = "status pages",
    responses((status = 200, body = [StatusPage])))]
pub async fn list(
    State(state): State<AppState>,
    p: TenantCaller,
) -> Result<Json<Vec<StatusPage>>, AppError> {
    Ok(Json(pages::list(&state.db, &p.tenant_id).await?))
}

/// Creates a status page; the organization's first is its default, served at `/status/`.
#[utoipa::path(post, path = "/api/status-pages", tag = "status pages", request_body = StatusPageInput,
    responses((status = 201, body = StatusPage), (status = 402, description = "the plan allows no more (`plan_limit`)", body = crate::http::error::ErrorBody), (status = 409, body = crate::http::error::ErrorBody),
              (status = 422, body = crate::http::error::ErrorBody)))]
pub async fn create(
    State(state): State<AppState>,
    p: TenantCaller,
    ApiJson(input): ApiJson<StatusPageInput>,
) -> Result<(StatusCode, Json<StatusPage>), AppError> {
    let tenant = p.tenant_id.as_str();
    crate::billing::limits::check_room(
        &state.db,
        &state.billing.plans,
        tenant,
        crate::billing::plans::Limit::StatusPages,
    )
    .await?;
    let page = pages::create(&state.db, tenant, &input, !state.settings.production)
        .await
        .map_err(status_error)?;
    Ok((StatusCode::CREATED, Json(page)))
}

/// One status page.
#[utoipa::path(get, path = "/api/status-pages/{id}", tag = "status pages",
    params(("id" = String, Path, description = "status page id")),
    responses((status = 200, body = StatusPage), (status = 404, body = crate::http::error::ErrorBody)))]
pub async fn get(
    State(state): State<AppState>,
    p: TenantCaller,
    Path(id): Path<String>,
) -> Result<Json<StatusPage>, AppError> {
    Ok(Json(page_of(&state, &p, &id).await?))
}

/// Changes the fields given (title, description, logo, default, custom domain).
#[utoipa::path(patch, path = "/api/status-pages/{id}", tag = "status pages", request_body = StatusPageInput,
    params(("id" = String, Path, description = "status page id")),
    responses((status = 200, body = StatusPage), (status = 404, body = crate::http::error::ErrorBody),
              (status = 409, body = crate::http::error::ErrorBody), (status = 422, body = crate::http::error::ErrorBody)))]
pub async fn update(
    State(state): State<AppState>,
    p: TenantCaller,
    Path(id): Path<String>,
    ApiJson(value): ApiJson<serde_json::Value>,
) -> Result<Json<StatusPage>, AppError> {
    page_of(&state, &p, &id).await?;
    let input: StatusPageInput = body(value)?;
    Ok(Json(
        pages::update(
            &state.db,
            &p.tenant_id,
            &id,
            &input,
            !state.settings.production,
        )
        .await
        .map_err(status_error)?,
    ))
}

/// Deletes a status page with its components and incidents.
#[utoipa::path(delete, path = "/api/status-pages/{id}", tag = "status pages",
    params(("id" = String, Path, description = "status page id")),
    responses((status = 204), (status = 404, body = crate::http::error::ErrorBody)))]
pub async fn delete(
    State(state): State<AppState>,
    p: TenantCaller,
    Path(id): Path<String>,
) -> Result<StatusCode, AppError> {
    pages::delete(&state.db, &p.tenant_id, &id)
        .await
        .map_err(status_error)?;
    Ok(StatusCode::NO_CONTENT)
}

/// Component groups of a page, in order.
#[utoipa::path(get, path = "/api/status-pages/{id}/groups", tag = "status pages",
    params(("id" = String, Path, description = "status page id")),
    responses((status = 200, body = [Group]), (status = 404, body = crate::http::error::ErrorBody)))]
pub async fn list_groups(
    State(state): State<AppState>,
    p: TenantCaller,
    Path(id): Path<String>,
) -> Result<Json<Vec<Group>>, AppError> {
    page_of(&state, &p, &id).await?;
    Ok(Json(
        components::list_groups(&state.db, &p.tenant_id, &id)
            .await
            .map_err(status_error)?,
    ))
}

/// Adds a component group.
#[utoipa::path(post, path = "/api/status-pages/{id}/groups", tag = "status pages", request_body = GroupInput,
    params(("id" = String, Path, description = "status page id")),
    responses((status = 201, body = Group), (status = 404, body = crate::http::error::ErrorBody),
              (status = 409, description = "the page has as many groups as it may", body = crate::http::error::ErrorBody),
              (status = 422, body = crate::http::error::ErrorBody)))]
pub async fn create_group(
    State(state): State<AppState>,
    p: TenantCaller,
    Path(id): Path<String>,
    ApiJson(value): ApiJson<serde_json::Value>,
) -> Result<(StatusCode, Json<Group>), AppError> {
    page_of(&state, &p, &id).await?;
    let input: GroupInput = body(value)?;
    let group = components::create_group(&state.db, &p.tenant_id, &id, &input)
        .await
        .map_err(status_error)?;
    Ok((StatusCode::CREATED, Json(group)))
}

/// Renames or moves a group.
#[utoipa::path(patch, path = "/api/status-pages/{id}/groups/{group_id}", tag = "status pages", request_body = GroupInput,
    params(("id" = String, Path, description = "status page id"), ("group_id" = String, Path, description = "group id")),
    responses((status = 200, body = Group), (status = 404, body = crate::http::error::ErrorBody),
              (status = 422, body = crate::http::error::ErrorBody)))]
pub async fn update_group(
    State(state): State<AppState>,
    p: TenantCaller,
    Path((id, group_id)): Path<(String, String)>,
    ApiJson(value): ApiJson<serde_json::Value>,
) -> Result<Json<Group>, AppError> {
    let tenant = p.tenant_id.as_str();
    components::get_group(&state.db, tenant, &id, &group_id)
        .await
        .map_err(status_error)?;
    let input: GroupInput = body(value)?;
    Ok(Json(
        components::update_group(&state.db, tenant, &id, &group_id, &input)
            .await
            .map_err(status_error)?,
    ))
}

/// Removes a group; its components stay, ungrouped.
#[utoipa::path(delete, path = "/api/status-pages/{id}/groups/{group_id}", tag = "status pages",
    params(("id" = String, Path, description = "status page id"), ("group_id" = String, Path, description = "group id")),
    responses((status = 204), (status = 404, body = crate::http::error::ErrorBody)))]
pub async fn delete_group(
    State(state): State<AppState>,
    p: TenantCaller,
    Path((id, group_id)): Path<(String, String)>,
) -> Result<StatusCode, AppError> {
    components::delete_group(&state.db, &p.tenant_id, &id, &group_id)
        .await
        .map_err(status_error)?;
    Ok(StatusCode::NO_CONTENT)
}
