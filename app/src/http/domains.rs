//! `/api/domains`: the organisation's subdomain and its custom domains.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::Deserialize;
use utoipa::ToSchema;

use crate::AppState;
use crate::http::client_ip::ClientIp;
use crate::http::principal::TenantCaller;
use crate::http::{ApiJson, AppError};
use crate::tenancy::Hostname;
use crate::tenancy::audit;
use crate::tenancy::domains::{self, Domain, DomainError};

fn domain_error(err: DomainError) -> AppError {
    match err {
        DomainError::NotFound => AppError::NotFound,
        DomainError::Taken => {
            AppError::conflict("hostname_taken", Some("hostname"), err.to_string())
        }
        DomainError::Subdomain => AppError::conflict("subdomain_fixed", None, err.to_string()),
        DomainError::NotVerified(message) => AppError::conflict("not_verified", None, message),
        DomainError::Db(db) => db.into(),
    }
}

/// Lists domains.
#[utoipa::path(get, path = "/api/domains", tag = "domains", responses((status = 200, body = [Domain])))]
pub async fn list(
    State(state): State<AppState>,
    p: TenantCaller,
) -> Result<Json<Vec<Domain>>, AppError> {
    Ok(Json(domains::list(&state.db, &p.tenant_id).await?))
}

/// One domain.
#[utoipa::path(get, path = "/api/domains/{id}", tag = "domains",
    params(("id" = String, Path, description = "domain id")),
    responses((status = 200, body = Domain), (status = 404, body = crate::http::error::ErrorBody)))]
pub async fn get(
    State(state): State<AppState>,
    p: TenantCaller,
    Path(id): Path<String>,
) -> Result<Json<Domain>, AppError> {
    Ok(Json(
        domains::get(&state.db, &p.tenant_id, &id)
            .await
            .map_err(domain_error)?,
    ))
}

/// New custom domain.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AddDomain {
    /// A public DNS name of two labels or more, e.g. `status.example.com`,
    /// not under this service's own suffix.
    #[schema(format = Hostname, min_length = 3, max_length = 253)]
    pub hostname: String,
}

/// Adds a custom domain; the answer lists the DNS records that prove ownership.
#[utoipa::path(post, path = "/api/domains", tag = "domains", request_body = AddDomain,
    responses((status = 201, body = Domain), (status = 402, description = "the plan allows no more (`plan_limit`)", body = crate::http::error::ErrorBody), (status = 409, body = crate::http::error::ErrorBody),
              (status = 422, body = crate::http::error::ErrorBody)))]
pub async fn add(
    State(state): State<AppState>,
    p: TenantCaller,
    ClientIp(ip): ClientIp,
    ApiJson(form): ApiJson<AddDomain>,
) -> Result<(StatusCode, Json<Domain>), AppError> {
    let tenant = p.tenant_id.as_str();
    let hostname =
        Hostname::parse_custom(&form.hostname, &state.settings.tenancy.normalized_suffix())
            .map_err(|m| AppError::invalid("hostname", m))?;
    crate::billing::limits::check_room(
        &state.db,
        &state.billing.plans,
        tenant,
        crate::billing::plans::Limit::CustomDomains,
    )
    .await?;
    let domain = domains::add(&state.db, tenant, &hostname)
        .await
        .map_err(domain_error)?;
    audit::record(&state.db, p.audit(ip, "domain.add", hostname.as_str())).await;
    Ok((StatusCode::CREATED, Json(domain)))
}

/// Checks DNS and marks the domain verified (then certificates may be issued for it).
#[utoipa::path(post, path = "/api/domains/{id}/verify", tag = "domains",
    params(("id" = String, Path, description = "domain id")),
    responses((status = 200, body = Domain), (status = 409, body = crate::http::error::ErrorBody)))]
pub async fn verify(
    State(state): State<AppState>,
    p: TenantCaller,
    ClientIp(ip): ClientIp,
    Path(id): Path<String>,
) -> Result<Json<Domain>, AppError> {
    let tenant = p.tenant_id.as_str();
    let domain = domains::verify(&state.db, &state.dns, tenant, &id)
        .await
        .map_err(domain_error)?;
    audit::record(&state.db, p.audit(ip, "domain.verify", &domain.hostname)).await;
    Ok(Json(domain))
}

/// Removes a custom domain.
#[utoipa::path(delete, path = "/api/domains/{id}", tag = "domains",
    params(("id" = String, Path, description = "domain id")),
    responses((status = 204), (status = 404, body = crate::http::error::ErrorBody), (status = 409, body = crate::http::error::ErrorBody)))]
pub async fn remove(
    State(state): State<AppState>,
    p: TenantCaller,
    ClientIp(ip): ClientIp,
    Path(id): Path<String>,
) -> Result<StatusCode, AppError> {
    let tenant = p.tenant_id.as_str();
    domains::remove(&state.db, tenant, &id)
        .await
        .map_err(domain_error)?;
    audit::record(&state.db, p.audit(ip, "domain.remove", &id)).await;
    Ok(StatusCode::NO_CONTENT)
}
