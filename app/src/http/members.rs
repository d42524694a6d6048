//! `/api/members`: who belongs to the organisation, and in which role.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::Deserialize;
use utoipa::ToSchema;

use crate::AppState;
use crate::auth::Role;
use crate::http::client_ip::ClientIp;
use crate::http::principal::TenantCaller;
use crate::http::{ApiJson, AppError};
use crate::tenancy::audit::{self, Entry};
use crate::tenancy::members::{self, Member, MemberError};

fn member_error(err: MemberError) -> AppError {
    match err {
        MemberError::NotFound => AppError::NotFound,
        MemberError::LastOwner => AppError::conflict("last_owner", Some("role"), err.to_string()),
        MemberError::OwnersOnly => AppError::forbidden("owners_only", err.to_string()),
        MemberError::Db(db) => db.into(),
    }
}

/// Lists members.
#[utoipa::path(get, path = "/api/members", tag = "members", responses((status = 200, body = [Member])))]
pub async fn list(
    State(state): State<AppState>,
    p: TenantCaller,
) -> Result<Json<Vec<Member>>, AppError> {
    Ok(Json(members::list(&state.db, &p.tenant_id).await?))
}

/// New role for a member.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RoleChange {
    /// The role to give.
    pub role: Role,
}

/// Changes a member's role (owners alone grant or remove ownership).
#[utoipa::path(patch, path = "/api/members/{user_id}", tag = "members", request_body = RoleChange,
    params(("user_id" = String, Path, description = "member's user id")),
    responses((status = 204), (status = 404, body = crate::http::error::ErrorBody), (status = 409, body = crate::http::error::ErrorBody)))]
pub async fn update(
    State(state): State<AppState>,
    p: TenantCaller,
    ClientIp(ip): ClientIp,
    Path(user_id): Path<String>,
    ApiJson(change): ApiJson<RoleChange>,
) -> Result<StatusCode, AppError> {
    let tenant = p.tenant_id.as_str();
    members::set_role(&state.db, tenant, &user_id, change.role, p.role)
        .await
        .map_err(member_error)?;
    audit::record(
        &state.db,
        Entry {
            details: Some(serde_json::json!({ "role": change.role })),
            ..p.audit(ip, "member.role", &user_id)
        },
    )
    .await;
    Ok(StatusCode::NO_CONTENT)
}

/// Removes a member and ends their sessions in this organisation.
#[utoipa::path(delete, path = "/api/members/{user_id}", tag = "members",
    params(("user_id" = String, Path, description = "member's user id")),
    responses((status = 204), (status = 404, body = crate::http::error::ErrorBody), (status = 409, body = crate::http::error::ErrorBody)))]
pub async fn remove(
    State(state): State<AppState>,
    p: TenantCaller,
    ClientIp(ip): ClientIp,
    Path(user_id): Path<String>,
) -> Result<StatusCode, AppError> {
    let tenant = p.tenant_id.as_str();
    members::remove(&state.db, tenant, &user_id, p.role)
        .await
        .map_err(member_error)?;
    audit::record(&state.db, p.audit(ip, "member.remove", &user_id)).await;
    Ok(StatusCode::NO_CONTENT)
}
