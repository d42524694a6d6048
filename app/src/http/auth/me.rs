//! `GET /api/me`: who is signed in, and where.

use axum::Json;
use axum::extract::{Extension, State};
use serde::Serialize;
use utoipa::ToSchema;

use super::respond::UserInfo;
use crate::AppState;
use crate::http::AppError;
use crate::http::principal::Principal;
use crate::tenancy::store::{Organization, organization_for, organizations_of, user_by_id};

/// The current session.
#[derive(Debug, Serialize, ToSchema)]
pub struct MeResponse {
    /// Who is signed in.
    pub user: UserInfo,
    /// The organisation this session acts in.
    pub organization: Option<Organization>,
    /// Every organisation of the user.
    pub organizations: Vec<Organization>,
}

/// Describes the signed-in user.
#[utoipa::path(get, path = "/api/me", tag = "auth",
    responses((status = 200, body = MeResponse), (status = 401, body = crate::http::error::ErrorBody)))]
pub async fn me(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
) -> Result<Json<MeResponse>, AppError> {
    let user_id = principal.user()?;
    let user = user_by_id(&state.db, user_id)
        .await?
        .ok_or(AppError::NotFound)?;
    let organization = match &principal.tenant_id {
        Some(tenant) => organization_for(&state.db, tenant, Some(user_id)).await?,
        None => None,
    };
    Ok(Json(MeResponse {
        user: UserInfo {
            id: user.id.clone(),
            email: user.email,
            email_verified: user.email_verified_at.is_some(),
            is_superuser: user.is_superuser,
        },
        organization,
        organizations: organizations_of(&state.db, &user.id).await?,
    }))
}
