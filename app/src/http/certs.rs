//! `GET /api/internal/validate-domain/?domain=`: Caddy's on-demand TLS `ask`
//! hook, kept for operators who still run a Caddy in front while migrating.
//! Our own edge asks the same policy in-process and never calls this; the
//! edge does not forward `/api/internal/` from the internet.

use acme::{DomainPolicy, Verdict};
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::AppState;
use crate::certs::DbDomainPolicy;
use crate::http::{ApiQuery, AppError};

/// Query of the ask hook.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ValidateQuery {
    /// The name Caddy wants a certificate for.
    #[param(format = Hostname, min_length = 1, max_length = 253)]
    pub domain: String,
}

/// An allowed name and the rule that allows it.
#[derive(Debug, Serialize, ToSchema)]
pub struct Validated {
    /// The normalised name.
    pub domain: String,
    /// Which rule allows it.
    pub rule: String,
}

/// 200 when a certificate may be issued for `domain`, 404 otherwise (Caddy refuses on any non-2xx).
#[utoipa::path(get, path = "/api/internal/validate-domain/", tag = "certificates",
    params(ValidateQuery),
    responses((status = 200, body = Validated), (status = 400, description = "`invalid_query`: an unknown or repeated query parameter", body = crate::http::error::ErrorBody), (status = 404, body = crate::http::error::ErrorBody), (status = 422, body = crate::http::error::ErrorBody)))]
pub async fn validate_domain(
    State(state): State<AppState>,
    ApiQuery(query): ApiQuery<ValidateQuery>,
) -> Result<Json<Validated>, AppError> {
    let name = acme::name::DnsName::parse(&query.domain)
        .map(String::from)
        .map_err(|problem| {
            AppError::invalid(
                "domain",
                format!(
                    "`{}` is not a DNS name: {problem}",
                    query.domain.chars().take(255).collect::<String>()
                ),
            )
        })?;
    let policy = DbDomainPolicy::new(
        state.db.clone(),
        &state.settings.tenancy.normalized_suffix(),
    );
    match policy.check(&name).await {
        Ok(Verdict::Allowed { rule, .. }) => Ok(Json(Validated { domain: name, rule })),
        Ok(Verdict::Refused { reason }) => Err(AppError::BadRequest {
            status: StatusCode::NOT_FOUND,
            code: "domain_not_allowed",
            message: reason,
        }),
        Err(err) => Err(AppError::Unavailable(err.to_string())),
    }
}
