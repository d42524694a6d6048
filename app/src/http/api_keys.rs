//! `/api/api-keys`: keys for automation, shown once.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::AppState;
use crate::auth::api_key::{self, ApiKey, Scope};
use crate::http::client_ip::ClientIp;
use crate::http::principal::TenantCaller;
use crate::http::{ApiJson, AppError};
use crate::tenancy::audit::{self, Entry};

/// New key form.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateKey {
    /// A name to recognise it by, 1–100 printable characters.
    #[schema(min_length = 1, max_length = 100)]
    pub name: String,
    /// `read` or `write`.
    pub scope: Scope,
}

/// A new key with its secret, which is never shown again.
#[derive(Debug, Serialize, ToSchema)]
pub struct CreatedKey {
    /// The key as listed.
    #[serde(flatten)]
    pub key: ApiKey,
    /// The full key for `Authorization: Bearer …`.
    pub secret: String,
}

/// Lists keys (without secrets).
#[utoipa::path(get, path = "/api/api-keys", tag = "api-keys", responses((status = 200, body = [ApiKey])))]
pub async fn list(
    State(state): State<AppState>,
    p: TenantCaller,
) -> Result<Json<Vec<ApiKey>>, AppError> {
    Ok(Json(api_key::list(&state.db, &p.tenant_id).await?))
}

/// Creates a key.
#[utoipa::path(post, path = "/api/api-keys", tag = "api-keys", request_body = CreateKey,
    responses((status = 201, body = CreatedKey), (status = 422, body = crate::http::error::ErrorBody)))]
pub async fn create(
    State(state): State<AppState>,
    p: TenantCaller,
    ClientIp(ip): ClientIp,
    ApiJson(form): ApiJson<CreateKey>,
) -> Result<(StatusCode, Json<CreatedKey>), AppError> {
    let tenant = p.tenant_id.as_str();
    let name = form.name.trim();
    if name.is_empty() || name.chars().count() > 100 || name.chars().any(char::is_control) {
        return Err(AppError::invalid(
            "name",
            "must be 1 to 100 printable characters",
        ));
    }
    let (key, secret) =
        api_key::create(&state.db, tenant, name, form.scope, p.user_id.as_deref()).await?;
    audit::record(
        &state.db,
        Entry {
            details: Some(serde_json::json!({ "scope": form.scope, "prefix": key.prefix })),
            ..p.audit(ip, "api_key.create", &key.id)
        },
    )
    .await;
    Ok((StatusCode::CREATED, Json(CreatedKey { key, secret })))
}

/// Revokes a key at once.
#[utoipa::path(delete, path = "/api/api-keys/{id}", tag = "api-keys",
    params(("id" = String, Path, description = "key id")),
    responses((status = 204), (status = 404, body = crate::http::error::ErrorBody)))]
pub async fn revoke(
    State(state): State<AppState>,
    p: TenantCaller,
    ClientIp(ip): ClientIp,
    Path(id): Path<String>,
) -> Result<StatusCode, AppError> {
    let tenant = p.tenant_id.as_str();
    if !api_key::revoke(&state.db, tenant, &id).await? {
        return Err(AppError::NotFound);
    }
    audit::record(&state.db, p.audit(ip, "api_key.revoke", &id)).await;
    Ok(StatusCode::NO_CONTENT)
}
