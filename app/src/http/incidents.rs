//! `/api/incidents`: incidents of the organization's monitors, with timelines.

use axum::Json;
use axum::extract::{Path, State};
use serde::Deserialize;
use utoipa::IntoParams;

use crate::AppState;
use crate::http::principal::TenantCaller;
use crate::http::{ApiQuery, AppError};
use crate::monitor::incidents::{self, Incident};

/// Query of `GET /api/incidents`.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct IncidentsQuery {
    /// Only this monitor's incidents.
    pub monitor_id: Option<String>,
    /// Only incidents that started before this time, ms (paging: pass the last `started_at`).
    pub before: Option<i64>,
    /// Page size, 1–500 (default 50).
    #[param(minimum = 1, maximum = 500)]
    pub limit: Option<i64>,
}

/// Incidents, newest first; each names its `monitor_id`.
#[utoipa::path(get, path = "/api/incidents", tag = "incidents", params(IncidentsQuery),
    responses((status = 200, body = [Incident]), (status = 400, description = "`invalid_query`: an unknown or repeated query parameter", body = crate::http::error::ErrorBody),
              (status = 422, body = crate::http::error::ErrorBody)))]
pub async fn list(
    State(state): State<AppState>,
    p: TenantCaller,
    ApiQuery(q): ApiQuery<IncidentsQuery>,
) -> Result<Json<Vec<Incident>>, AppError> {
    let limit = q.limit.unwrap_or(50);
    if !(1..=500).contains(&limit) {
        return Err(AppError::invalid("limit", "must be between 1 and 500"));
    }
    Ok(Json(
        incidents::list(
            &state.db,
            &p.tenant_id,
            q.monitor_id.as_deref(),
            q.before,
            limit,
        )
        .await?,
    ))
}

/// One incident with its timeline.
#[utoipa::path(get, path = "/api/incidents/{id}", tag = "incidents",
    params(("id" = String, Path, description = "incident id")),
    responses((status = 200, body = Incident), (status = 404, body = crate::http::error::ErrorBody)))]
pub async fn get(
    State(state): State<AppState>,
    p: TenantCaller,
    Path(id): Path<String>,
) -> Result<Json<Incident>, AppError> {
    incidents::get(&state.db, &p.tenant_id, &id)
        .await?
        .map(Json)
        .ok_or(AppError::NotFound)
}
