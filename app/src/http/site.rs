//! `GET /api/site`: which organisation the requested hostname belongs to, so
//! the SPA can brand a tenant's pages or show that they are suspended.

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, header};
use serde::Serialize;
use utoipa::ToSchema;

use crate::AppState;
use crate::http::AppError;
use crate::tenancy::store::{organization_for, tenant_for_host};

/// The organisation behind a hostname, as the public may see it.
#[derive(Debug, Serialize, ToSchema)]
pub struct SiteTenant {
    /// Its label under the suffix: `<slug>.<suffix>`.
    pub slug: String,
    /// Display name.
    pub name: String,
    /// True when the platform suspended it: its pages show a notice instead.
    pub suspended: bool,
}

/// What the SPA needs to know about the host it was loaded from.
#[derive(Debug, Serialize, ToSchema)]
pub struct SiteInfo {
    /// The tenant, when the host is a tenant's subdomain or verified custom domain.
    pub tenant: Option<SiteTenant>,
}

/// Describes the requested host.
#[utoipa::path(get, path = "/api/site", tag = "meta", responses((status = 200, body = SiteInfo)))]
pub async fn site(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Json<SiteInfo>, AppError> {
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or_default();
    if host.len() > 255 {
        return Ok(Json(SiteInfo { tenant: None }));
    }
    let tenant = match tenant_for_host(&state.db, host).await? {
        Some(id) => organization_for(&state.db, &id, None)
            .await?
            .map(|org| SiteTenant {
                suspended: org.status == "suspended",
                slug: org.slug,
                name: org.name,
            }),
        None => None,
    };
    Ok(Json(SiteInfo { tenant }))
}
