//! `/admin/api/*`: platform administration, superusers only.

use axum::Json;
use axum::extract::{Extension, Path, State};
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};

use crate::AppState;
use crate::http::client_ip::ClientIp;
use crate::http::principal::Principal;
use crate::http::{ApiQuery, AppError};
use crate::tenancy::admin::{self, TenantSummary};
use crate::tenancy::audit::{self, AuditEntry, Entry};

/// Search and paging.
#[derive(Debug, Deserialize, IntoParams, ToSchema)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct TenantQuery {
    /// Part of a slug or name, at most 100 characters.
    #[serde(default)]
    #[param(max_length = 100)]
    pub q: String,
    /// Page size, 1–200 (default 50).
    #[serde(default)]
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<i64>,
    /// Rows to skip (default 0).
    #[serde(default)]
    #[param(minimum = 0)]
    pub offset: Option<i64>,
}

/// Lists and searches tenants.
#[utoipa::path(get, path = "/admin/api/tenants", tag = "admin", params(TenantQuery),
    responses((status = 200, body = [TenantSummary]), (status = 400, description = "`invalid_query`: an unknown or repeated query parameter", body = crate::http::error::ErrorBody),
              (status = 422, body = crate::http::error::ErrorBody)))]
pub async fn list(
    State(state): State<AppState>,
    ApiQuery(query): ApiQuery<TenantQuery>,
) -> Result<Json<Vec<TenantSummary>>, AppError> {
    let limit = query.limit.unwrap_or(50);
    if !(1..=200).contains(&limit) {
        return Err(AppError::invalid("limit", "must be between 1 and 200"));
    }
    let offset = query.offset.unwrap_or(0);
    if offset < 0 {
        return Err(AppError::invalid("offset", "must not be negative"));
    }
    if query.q.len() > 100 {
        return Err(AppError::invalid("q", "must be at most 100 characters"));
    }
    Ok(Json(
        admin::all_tenants_matching(&state.db, &query.q, limit, offset).await?,
    ))
}

/// One tenant.
#[utoipa::path(get, path = "/admin/api/tenants/{id}", tag = "admin",
    params(("id" = String, Path, description = "tenant id or slug")),
    responses((status = 200, body = TenantSummary), (status = 404, body = crate::http::error::ErrorBody)))]
pub async fn get(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<TenantSummary>, AppError> {
    admin::any_tenant(&state.db, &id)
        .await?
        .map(Json)
        .ok_or(AppError::NotFound)
}

async fn set_status(
    state: &AppState,
    p: &Principal,
    ip: String,
    id: &str,
    suspended: bool,
) -> Result<Json<TenantSummary>, AppError> {
    let tenant = admin::any_tenant(&state.db, id)
        .await?
        .ok_or(AppError::NotFound)?;
    admin::set_status(&state.db, &tenant.id, suspended).await?;
    audit::record(
        &state.db,
        Entry {
            tenant_id: Some(&tenant.id),
            actor_id: p.user_id.as_deref(),
            action: if suspended {
                "tenant.suspend"
            } else {
                "tenant.resume"
            },
            target: Some(&tenant.slug),
            ip: Some(ip),
            details: None,
        },
    )
    .await;
    admin::any_tenant(&state.db, &tenant.id)
        .await?
        .map(Json)
        .ok_or(AppError::NotFound)
}

/// Suspends a tenant: its API refuses work and its probes stop; nothing is deleted.
#[utoipa::path(post, path = "/admin/api/tenants/{id}/suspend", tag = "admin",
    params(("id" = String, Path, description = "tenant id or slug")),
    responses((status = 200, body = TenantSummary), (status = 404, body = crate::http::error::ErrorBody)))]
pub async fn suspend(
    State(state): State<AppState>,
    Extension(p): Extension<Principal>,
    ClientIp(ip): ClientIp,
    Path(id): Path<String>,
) -> Result<Json<TenantSummary>, AppError> {
    set_status(&state, &p, ip.to_string(), &id, true).await
}

/// Resumes a suspended tenant.
#[utoipa::path(post, path = "/admin/api/tenants/{id}/resume", tag = "admin",
    params(("id" = String, Path, description = "tenant id or slug")),
    responses((status = 200, body = TenantSummary), (status = 404, body = crate::http::error::ErrorBody)))]
pub async fn resume(
    State(state): State<AppState>,
    Extension(p): Extension<Principal>,
    ClientIp(ip): ClientIp,
    Path(id): Path<String>,
) -> Result<Json<TenantSummary>, AppError> {
    set_status(&state, &p, ip.to_string(), &id, false).await
}

/// A complimentary plan, or `null` to return the tenant to what it pays for.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SetPlan {
    /// A configured plan's name, or `null`.
    pub plan: Option<String>,
}

/// Puts a tenant on a plan by hand (complimentary), or lifts that; audited.
#[utoipa::path(put, path = "/admin/api/tenants/{id}/plan", tag = "admin", request_body = SetPlan,
    params(("id" = String, Path, description = "tenant id or slug")),
    responses((status = 200, body = crate::http::billing::BillingStatus),
              (status = 403, body = crate::http::error::ErrorBody),
              (status = 404, body = crate::http::error::ErrorBody),
              (status = 422, body = crate::http::error::ErrorBody)))]
pub async fn set_plan(
    State(state): State<AppState>,
    Extension(p): Extension<Principal>,
    ClientIp(ip): ClientIp,
    Path(id): Path<String>,
    crate::http::ApiJson(form): crate::http::ApiJson<SetPlan>,
) -> Result<Json<crate::http::billing::BillingStatus>, AppError> {
    let tenant = admin::any_tenant(&state.db, &id)
        .await?
        .ok_or(AppError::NotFound)?;
    if let Some(plan) = &form.plan
        && !state.billing.plans.exists(plan)
    {
        let known: Vec<&str> = state
            .billing
            .plans
            .all()
            .iter()
            .map(|p| p.name.as_str())
            .collect();
        return Err(AppError::invalid(
            "plan",
            format!("`{plan}` is not a plan; choose one of {}", known.join(", ")),
        ));
    }
    let (before, after) = crate::billing::dunning::refresh(
        &state.db,
        &state.billing,
        &tenant.id,
        crate::clock::now_ms(),
        Some(form.plan.clone()),
    )
    .await?
    .ok_or(AppError::NotFound)?;
    audit::record(
        &state.db,
        Entry {
            tenant_id: Some(&tenant.id),
            actor_id: p.user_id.as_deref(),
            action: "tenant.plan_set",
            target: Some(&tenant.slug),
            ip: Some(ip.to_string()),
            details: Some(serde_json::json!({
                "complimentary": form.plan,
                "from": before,
                "to": after,
            })),
        },
    )
    .await;
    Ok(Json(
        crate::http::billing::status_of(&state, &tenant.id).await?,
    ))
}

/// Audit log filter.
#[derive(Debug, Deserialize, IntoParams, ToSchema)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct AuditQuery {
    /// Only this tenant's entries.
    #[serde(default)]
    pub tenant_id: Option<String>,
    /// Entries, 1–500 (default 100).
    #[serde(default)]
    #[param(minimum = 1, maximum = 500)]
    pub limit: Option<i64>,
}

/// Reads the audit log, newest first.
#[utoipa::path(get, path = "/admin/api/audit-log", tag = "admin", params(AuditQuery),
    responses((status = 200, body = [AuditEntry]), (status = 400, description = "`invalid_query`: an unknown or repeated query parameter", body = crate::http::error::ErrorBody),
              (status = 422, body = crate::http::error::ErrorBody)))]
pub async fn audit_log(
    State(state): State<AppState>,
    ApiQuery(query): ApiQuery<AuditQuery>,
) -> Result<Json<Vec<AuditEntry>>, AppError> {
    let limit = query.limit.unwrap_or(100);
    if !(1..=500).contains(&limit) {
        return Err(AppError::invalid("limit", "must be between 1 and 500"));
    }
    Ok(Json(
        audit::list(&state.db, query.tenant_id.as_deref(), limit).await?,
    ))
}
