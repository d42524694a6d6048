//! `/api/status-pages/{id}/incidents`: incidents and scheduled maintenance
//! written by people, their updates, and publishing a monitor's automatic
//! incident with one call.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::Deserialize;
use utoipa::IntoParams;

use super::status_pages::{body, page_of, status_error};
use crate::AppState;
use crate::http::principal::TenantCaller;
use crate::http::{ApiJson, ApiQuery, AppError};
use crate::status_page::Kind;
use crate::status_page::incidents::{
    self, IncidentPatch, ListQuery, NewIncident, NewUpdate, PublicIncident, PublishMonitorIncident,
};

/// Query of `GET /api/status-pages/{id}/incidents`.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct IncidentsQuery {
    /// Only `incident` or `maintenance`.
    pub kind: Option<Kind>,
    /// Only open ones.
    pub open: Option<bool>,
    /// Only those started before this time, ms (paging: pass the last `started_at`).
    pub before: Option<i64>,
    /// Page size, 1–200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<i64>,
}

/// Incidents and maintenance of a page, newest first, with updates.
#[utoipa::path(get, path = "/api/status-pages/{id}/incidents", tag = "status pages",
    params(("id" = String, Path, description = "status page id"), IncidentsQuery),
    responses((status = 200, body = [PublicIncident]), (status = 400, description = "`invalid_query`: an unknown or repeated query parameter", body = crate::http::error::ErrorBody), (status = 404, body = crate::http::error::ErrorBody),
              (status = 422, body = crate::http::error::ErrorBody)))]
pub async fn list(
    State(state): State<AppState>,
    p: TenantCaller,
    Path(id): Path<String>,
    ApiQuery(q): ApiQuery<IncidentsQuery>,
) -> Result<Json<Vec<PublicIncident>>, AppError> {
    page_of(&state, &p, &id).await?;
    let limit = q.limit.unwrap_or(50);
    if !(1..=200).contains(&limit) {
        return Err(AppError::invalid("limit", "must be between 1 and 200"));
    }
    let query = ListQuery {
        kind: q.kind,
        open_only: q.open.unwrap_or(false),
        before: q.before,
        limit,
        ..ListQuery::default()
    };
    Ok(Json(
        incidents::list(&state.db, &p.tenant_id, &id, query)
            .await
            .map_err(status_error)?,
    ))
}

/// Opens an incident or schedules a maintenance, with its first update.
#[utoipa::path(post, path = "/api/status-pages/{id}/incidents", tag = "status pages", request_body = NewIncident,
    params(("id" = String, Path, description = "status page id")),
    responses((status = 201, body = PublicIncident), (status = 404, body = crate::http::error::ErrorBody),
              (status = 422, body = crate::http::error::ErrorBody)))]
pub async fn create(
    State(state): State<AppState>,
    p: TenantCaller,
    Path(id): Path<String>,
    ApiJson(value): ApiJson<serde_json::Value>,
) -> Result<(StatusCode, Json<PublicIncident>), AppError> {
    page_of(&state, &p, &id).await?;
    let input: NewIncident = body(value)?;
    let incident = incidents::create(&state.db, &p.tenant_id, &id, &input)
        .await
        .map_err(status_error)?;
    Ok((StatusCode::CREATED, Json(incident)))
}

/// Publishes an automatic monitor incident (of `/api/incidents`) on the page.
#[utoipa::path(post, path = "/api/status-pages/{id}/incidents/publish", tag = "status pages",
    request_body = PublishMonitorIncident,
    params(("id" = String, Path, description = "status page id")),
    responses((status = 201, body = PublicIncident), (status = 404, body = crate::http::error::ErrorBody),
              (status = 409, body = crate::http::error::ErrorBody), (status = 422, body = crate::http::error::ErrorBody)))]
pub async fn publish(
    State(state): State<AppState>,
    p: TenantCaller,
    Path(id): Path<String>,
    ApiJson(value): ApiJson<serde_json::Value>,
) -> Result<(StatusCode, Json<PublicIncident>), AppError> {
    page_of(&state, &p, &id).await?;
    let input: PublishMonitorIncident = body(value)?;
    let incident = incidents::publish(&state.db, &p.tenant_id, &id, &input)
        .await
        .map_err(status_error)?;
    Ok((StatusCode::CREATED, Json(incident)))
}

/// One incident with its updates.
#[utoipa::path(get, path = "/api/status-pages/{id}/incidents/{incident_id}", tag = "status pages",
    params(("id" = String, Path, description = "status page id"), ("incident_id" = String, Path, description = "incident id")),
    responses((status = 200, body = PublicIncident), (status = 404, body = crate::http::error::ErrorBody)))]
pub async fn get(
    State(state): State<AppState>,
    p: TenantCaller,
    Path((id, incident_id)): Path<(String, String)>,
) -> Result<Json<PublicIncident>, AppError> {
    Ok(Json(
        incidents::get(&state.db, &p.tenant_id, &id, &incident_id)
            .await
            .map_err(status_error)?,
    ))
}

/// Changes title, impact, affected components or schedule.
#[utoipa::path(patch, path = "/api/status-pages/{id}/incidents/{incident_id}", tag = "status pages",
    request_body = IncidentPatch,
    params(("id" = String, Path, description = "status page id"), ("incident_id" = String, Path, description = "incident id")),
    responses((status = 200, body = PublicIncident), (status = 404, body = crate::http::error::ErrorBody),
              (status = 422, body = crate::http::error::ErrorBody)))]
pub async fn update(
    State(state): State<AppState>,
    p: TenantCaller,
    Path((id, incident_id)): Path<(String, String)>,
    ApiJson(value): ApiJson<serde_json::Value>,
) -> Result<Json<PublicIncident>, AppError> {
    let tenant = p.tenant_id.as_str();
    incidents::get(&state.db, tenant, &id, &incident_id)
        .await
        .map_err(status_error)?;
    let patch: IncidentPatch = body(value)?;
    Ok(Json(
        incidents::update(&state.db, tenant, &id, &incident_id, &patch)
            .await
            .map_err(status_error)?,
    ))
}

/// Deletes an incident with its updates.
#[utoipa::path(delete, path = "/api/status-pages/{id}/incidents/{incident_id}", tag = "status pages",
    params(("id" = String, Path, description = "status page id"), ("incident_id" = String, Path, description = "incident id")),
    responses((status = 204), (status = 404, body = crate::http::error::ErrorBody)))]
pub async fn delete(
    State(state): State<AppState>,
    p: TenantCaller,
    Path((id, incident_id)): Path<(String, String)>,
) -> Result<StatusCode, AppError> {
    incidents::delete(&state.db, &p.tenant_id, &id, &incident_id)
        .await
        .map_err(status_error)?;
    Ok(StatusCode::NO_CONTENT)
}

/// Posts an update, which sets the status (`resolved` or `completed` closes it).
#[utoipa::path(post, path = "/api/status-pages/{id}/incidents/{incident_id}/updates", tag = "status pages",
    request_body = NewUpdate,
    params(("id" = String, Path, description = "status page id"), ("incident_id" = String, Path, description = "incident id")),
    responses((status = 201, body = PublicIncident), (status = 404, body = crate::http::error::ErrorBody),
              (status = 409, body = crate::http::error::ErrorBody), (status = 422, body = crate::http::error::ErrorBody)))]
pub async fn add_update(
    State(state): State<AppState>,
    p: TenantCaller,
    Path((id, incident_id)): Path<(String, String)>,
    ApiJson(value): ApiJson<serde_json::Value>,
) -> Result<(StatusCode, Json<PublicIncident>), AppError> {
    let tenant = p.tenant_id.as_str();
    incidents::get(&state.db, tenant, &id, &incident_id)
        .await
        .map_err(status_error)?;
    let input: NewUpdate = body(value)?;
    let incident = incidents::add_update(&state.db, tenant, &id, &incident_id, &input)
        .await
        .map_err(status_error)?;
    Ok((StatusCode::CREATED, Json(incident)))
}
