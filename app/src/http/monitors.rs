//! `/api/monitors`: create, list, read, change and delete monitors; their results and uptime.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;

use serde::Deserialize;
use utoipa::IntoParams;

use crate::AppState;
use crate::billing::limits;
use crate::billing::pauses::{self, Pausable, Toggle};
use crate::billing::plans::{Limit, Plan};
use crate::clock::now_ms;
use crate::http::principal::TenantCaller;
use crate::http::{ApiJson, ApiQuery, AppError};
use crate::monitor::history::{self, ResultPage};
use crate::monitor::rollup::{self, Uptime};
use crate::monitor::store::{self, Monitor, MonitorError};
use crate::monitor::{Limits, MonitorInput};

/// Maps a monitor error to its answer.
pub(crate) fn monitor_error(err: MonitorError) -> AppError {
    match err {
        MonitorError::NotFound => AppError::NotFound,
        MonitorError::Invalid((field, message)) => AppError::invalid(field, message),
        MonitorError::LimitReached(_) => AppError::PlanLimit {
            limit: crate::billing::plans::Limit::Monitors.as_str(),
            plan: None,
            message: err.to_string(),
        },
        MonitorError::Db(db) => db.into(),
    }
}

/// Validation limits from the tenant's plan; with billing off only the engine's floor of 1 s.
fn limits(plan: Option<&Plan>) -> Limits {
    Limits {
        min_interval_seconds: plan.map_or(1, |p| p.limits.min_interval_seconds),
    }
}

/// An interval a better plan allows is a 402 naming it, not a 422.
fn check_interval(
    state: &AppState,
    plan: Option<&Plan>,
    wanted: Option<u64>,
) -> Result<(), AppError> {
    if let (Some(plan), Some(wanted)) = (plan, wanted)
        && wanted >= 1
        && !Limit::MinIntervalSeconds.allows(&plan.limits, wanted)
        && state
            .billing
            .plans
            .lifting(Limit::MinIntervalSeconds, wanted, &plan.name)
            .is_some()
    {
        return Err(limits::exceeded(
            &state.billing.plans,
            plan,
            Limit::MinIntervalSeconds,
            wanted,
        )
        .into());
    }
    Ok(())
}

/// Lists the organization's monitors with their states.
#[utoipa::path(get, path = "/api/monitors", tag = "monitors", responses((status = 200, body = [Monitor])))]
pub async fn list(
    State(state): State<AppState>,
    p: TenantCaller,
) -> Result<Json<Vec<Monitor>>, AppError> {
    Ok(Json(store::list(&state.db, &p.tenant_id).await?))
}

/// One monitor.
#[utoipa::path(get, path = "/api/monitors/{id}", tag = "monitors",
    params(("id" = String, Path, description = "monitor id")),
    responses((status = 200, body = Monitor), (status = 404, body = crate::http::error::ErrorBody)))]
pub async fn get(
    State(state): State<AppState>,
    p: TenantCaller,
    Path(id): Path<String>,
) -> Result<Json<Monitor>, AppError> {
    Ok(Json(
        store::get(&state.db, &p.tenant_id, &id)
            .await
            .map_err(monitor_error)?,
    ))
}

/// Creates a monitor; it is first checked within seconds.
#[utoipa::path(post, path = "/api/monitors", tag = "monitors", request_body = MonitorInput,
    responses((status = 201, body = Monitor), (status = 402, description = "the plan allows no more (`plan_limit`)", body = crate::http::error::ErrorBody),
              (status = 422, body = crate::http::error::ErrorBody)))]
pub async fn create(
    State(state): State<AppState>,
    p: TenantCaller,
    ApiJson(input): ApiJson<MonitorInput>,
) -> Result<(StatusCode, Json<Monitor>), AppError> {
    let tenant = p.tenant_id.as_str();
    let plan = limits::plan_of(&state.db, &state.billing.plans, tenant).await?;
    check_interval(&state, plan.as_ref(), input.interval_seconds)?;
    let monitor = store::create(
        &state.db,
        tenant,
        &input,
        limits(plan.as_ref()),
        plan.as_ref().map_or(u64::MAX, |p| p.limits.monitors),
        &state.settings.tenancy.public_base(),
    )
    .await
    .map_err(|err| match (err, &plan) {
        (MonitorError::LimitReached(n), Some(plan)) => AppError::from(limits::exceeded(
            &state.billing.plans,
            plan,
            Limit::Monitors,
            n.saturating_add(1),
        )),
        (err, _) => monitor_error(err),
    })?;
    Ok((StatusCode::CREATED, Json(monitor)))
}

/// Changes the fields given; the kind cannot change.
#[utoipa::path(patch, path = "/api/monitors/{id}", tag = "monitors", request_body = MonitorInput,
    params(("id" = String, Path, description = "monitor id")),
    responses((status = 200, body = Monitor), (status = 402, description = "the plan has no room to resume it (`plan_limit`)", body = crate::http::error::ErrorBody),
              (status = 404, body = crate::http::error::ErrorBody),
              (status = 422, body = crate::http::error::ErrorBody)))]
pub async fn update(
    State(state): State<AppState>,
    p: TenantCaller,
    Path(id): Path<String>,
    ApiJson(patch): ApiJson<serde_json::Value>,
) -> Result<Json<Monitor>, AppError> {
    let tenant = p.tenant_id.as_str();
    // Another tenant's id is not found, whatever the body says.
    let current = store::get(&state.db, tenant, &id)
        .await
        .map_err(monitor_error)?;
    let patch: MonitorInput = serde_json::from_value(patch).map_err(|e| AppError::BadRequest {
        status: StatusCode::UNPROCESSABLE_ENTITY,
        code: "invalid_body",
        message: e.to_string(),
    })?;
    let plan = limits::plan_of(&state.db, &state.billing.plans, tenant).await?;
    check_interval(&state, plan.as_ref(), patch.interval_seconds)?;
    // Resuming a monitor the plan paused needs room on the plan.
    if current.paused_reason.is_some()
        && patch.paused == Some(false)
        && let Some(plan) = &plan
        && pauses::lift_one(
            &state.db,
            tenant,
            Pausable::Monitors,
            &id,
            Some(&plan.limits),
        )
        .await?
            == Toggle::NoRoom
    {
        let wanted = limits::usage(&state.db, tenant, Limit::Monitors)
            .await?
            .unwrap_or(0)
            .saturating_add(1);
        return Err(limits::exceeded(&state.billing.plans, plan, Limit::Monitors, wanted).into());
    }
    if current.paused_reason.is_some() && patch.paused == Some(false) && plan.is_none() {
        pauses::lift_one(&state.db, tenant, Pausable::Monitors, &id, None).await?;
    }
    let monitor = store::update(&state.db, tenant, &id, &patch, limits(plan.as_ref()))
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
    p: TenantCaller,
    Path(id): Path<String>,
) -> Result<StatusCode, AppError> {
    store::delete(&state.db, &p.tenant_id, &id)
        .await
        .map_err(monitor_error)?;
    Ok(StatusCode::NO_CONTENT)
}

/// Query of `GET /api/monitors/{id}/results`.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ResultsQuery {
    /// From, ms since the epoch (default: 24 hours ago); before `to`.
    pub from: Option<i64>,
    /// To, ms since the epoch, exclusive (default: now).
    pub to: Option<i64>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
    /// Page size, 1–1000 (default 100).
    #[param(minimum = 1, maximum = 1000)]
    pub limit: Option<i64>,
}

/// Raw check results, newest first, paged.
#[utoipa::path(get, path = "/api/monitors/{id}/results", tag = "monitors",
    params(("id" = String, Path, description = "monitor id"), ResultsQuery),
    responses((status = 200, body = ResultPage), (status = 400, description = "`invalid_query`: an unknown or repeated query parameter", body = crate::http::error::ErrorBody), (status = 404, body = crate::http::error::ErrorBody),
              (status = 422, body = crate::http::error::ErrorBody)))]
pub async fn results(
    State(state): State<AppState>,
    p: TenantCaller,
    Path(id): Path<String>,
    ApiQuery(q): ApiQuery<ResultsQuery>,
) -> Result<Json<ResultPage>, AppError> {
    let tenant = p.tenant_id.as_str();
    store::get(&state.db, tenant, &id)
        .await
        .map_err(monitor_error)?;
    let now = now_ms();
    let limit = q.limit.unwrap_or(100);
    if !(1..=1000).contains(&limit) {
        return Err(AppError::invalid("limit", "must be between 1 and 1000"));
    }
    let (from, to) = (q.from.unwrap_or(now - 86_400_000), q.to.unwrap_or(now + 1));
    if from >= to {
        return Err(AppError::invalid("from", "must be before to"));
    }
    let cursor = match q.cursor.as_deref() {
        Some(text) => Some(
            history::parse_cursor(text)
                .ok_or_else(|| AppError::invalid("cursor", "is not a cursor this API gave out"))?,
        ),
        None => None,
    };
    let query = history::PageQuery {
        from,
        to,
        cursor,
        limit,
    };
    Ok(Json(history::page(&state.db, tenant, &id, query).await?))
}

/// Uptime over 24 h, 7, 30 and 90 days, from roll-ups.
#[utoipa::path(get, path = "/api/monitors/{id}/uptime", tag = "monitors",
    params(("id" = String, Path, description = "monitor id")),
    responses((status = 200, body = Uptime), (status = 404, body = crate::http::error::ErrorBody)))]
pub async fn uptime(
    State(state): State<AppState>,
    p: TenantCaller,
    Path(id): Path<String>,
) -> Result<Json<Uptime>, AppError> {
    let tenant = p.tenant_id.as_str();
    store::get(&state.db, tenant, &id)
        .await
        .map_err(monitor_error)?;
    Ok(Json(
        rollup::uptime(&state.db, tenant, &id, now_ms()).await?,
    ))
}
