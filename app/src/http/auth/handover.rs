//! `POST /api/auth/handover` and `/api/auth/handover/redeem`: carrying a
//! sign-in from the root domain to an organisation's own host.
//!
//! The root domain cannot set cookies for `<slug>.<suffix>`, so a session
//! there asks for a code bound to the user and the organisation, and the
//! browser opens the tenant host's hand-over page with the code in the URL
//! fragment (never sent to a server). That page redeems the code on the
//! tenant host, which answers like a login and sets its own cookies.
//!
//! A code is single-use and valid for [`CODE_TTL_MS`]; only its SHA-256 is
//! stored, in the database, so any app node can redeem it. Redeeming deletes
//! the row in the same statement that finds it, so two redeems of one code
//! cannot both succeed, and it works only on the organisation's own host.

use std::time::Duration;

use axum::Json;
use axum::extract::{Extension, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::respond::{SessionBody, UserInfo, with_cookies};
use super::{ip_key, limit};
use crate::AppState;
use crate::auth::links::Page;
use crate::auth::session::{self, hash_secret, random_secret};
use crate::clock::now_ms;
use crate::http::client_ip::ClientIp;
use crate::http::principal::Principal;
use crate::http::{ApiJson, AppError};
use crate::tenancy::audit::{self, Entry};
use crate::tenancy::store::{Organization, organizations_of, tenant_for_host, user_by_id};

/// How long a code may be redeemed, ms.
pub const CODE_TTL_MS: i64 = 60_000;
/// Longest code looked up (codes are 43 characters).
const MAX_CODE_LEN: usize = 128;

/// Request for a hand-over code.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct HandoverRequest {
    /// The organisation to sign in to (id or slug); default: the session's own,
    /// or the user's only one.
    #[serde(default)]
    pub organization_id: Option<String>,
}

/// Where to send the browser.
#[derive(Debug, Serialize, ToSchema)]
pub struct HandoverResponse {
    /// `https://<slug>.<suffix>[:port]/auth/handover#code=<code>`; valid 60 s, once.
    pub url: String,
}

/// A code to redeem.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RedeemRequest {
    /// The code from the hand-over URL's fragment.
    pub code: String,
}

fn invalid_handover(message: &str) -> AppError {
    AppError::BadRequest {
        status: StatusCode::BAD_REQUEST,
        code: "invalid_handover",
        message: message.to_owned(),
    }
}

/// Issues a single-use code that signs the caller in on the organisation's own host.
#[utoipa::path(post, path = "/api/auth/handover", tag = "auth", request_body = HandoverRequest,
    responses((status = 200, body = HandoverResponse),
              (status = 401, body = crate::http::error::ErrorBody),
              (status = 403, body = crate::http::error::ErrorBody, description = "not a member of that organisation"),
              (status = 422, body = crate::http::error::ErrorBody, description = "organization_id is needed: the user has several")))]
pub async fn create(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    ApiJson(form): ApiJson<HandoverRequest>,
) -> Result<Json<HandoverResponse>, AppError> {
    let user_id = principal.user()?;
    let organizations = organizations_of(&state.db, user_id).await?;
    let wanted = form
        .organization_id
        .as_deref()
        .map(|w| w.trim().to_ascii_lowercase())
        .or_else(|| principal.tenant_id.clone());
    let organization: &Organization = match wanted {
        Some(wanted) => organizations
            .iter()
            .find(|o| o.id == wanted || o.slug == wanted)
            .ok_or_else(|| {
                AppError::forbidden("not_a_member", "you are not a member of this organization")
            })?,
        None => match organizations.as_slice() {
            [only] => only,
            [] => {
                return Err(AppError::forbidden(
                    "no_organization",
                    "this account belongs to no organization",
                ));
            }
            _ => {
                return Err(AppError::invalid(
                    "organization_id",
                    "choose the organization to open",
                ));
            }
        },
    };
    let code = random_secret();
    let now = now_ms();
    // Expired codes are never redeemable; clearing them here keeps the table tiny.
    sqlx::query("DELETE FROM handover_codes WHERE expires_at < $1")
        .bind(now)
        .execute(state.db.pool())
        .await?;
    sqlx::query(
        "INSERT INTO handover_codes (code_hash, tenant_id, user_id, expires_at, created_at) \
         VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(hash_secret(&code))
    .bind(&organization.id)
    .bind(user_id)
    .bind(now + CODE_TTL_MS)
    .bind(now)
    .execute(state.db.pool())
    .await?;
    Ok(Json(HandoverResponse {
        url: Page::Handover.link(&tenant_base(&state, &organization.slug), &code),
    }))
}

/// `scheme://<slug>.<suffix>[:port]`, with scheme and port of `tenancy.public_url`.
fn tenant_base(state: &AppState, slug: &str) -> String {
    let tenancy = &state.settings.tenancy;
    let host = format!("{slug}.{}", tenancy.normalized_suffix());
    match &tenancy.public_url {
        Some(url) => match url.port() {
            Some(port) => format!("{}://{host}:{port}", url.scheme()),
            None => format!("{}://{host}", url.scheme()),
        },
        None => format!("https://{host}"),
    }
}

/// Redeems a hand-over code on the organisation's own host: the answer and
/// cookies of a login to that organisation.
#[utoipa::path(post, path = "/api/auth/handover/redeem", tag = "auth", request_body = RedeemRequest,
    responses((status = 200, body = SessionBody),
              (status = 400, body = crate::http::error::ErrorBody, description = "`invalid_handover`: unknown, used or expired code, or not the organisation's host"),
              (status = 429, body = crate::http::error::ErrorBody)))]
pub async fn redeem(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    ApiJson(form): ApiJson<RedeemRequest>,
) -> Result<Response, AppError> {
    limit(
        &state,
        "hand-over",
        &ip_key(ip),
        state.settings.auth.login_per_ip_per_minute,
        Duration::from_secs(60),
    )?;
    let code = form.code.trim();
    if code.is_empty() || code.len() > MAX_CODE_LEN {
        return Err(invalid_handover("this sign-in link is invalid"));
    }
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or_default();
    let Some(host_tenant) = tenant_for_host(&state.db, host).await? else {
        return Err(invalid_handover(
            "open this sign-in link on the organization's own address",
        ));
    };
    // Finding and deleting is one statement: of two redeems, one gets the row.
    let row: Option<(String, i64)> = sqlx::query_as(
        "DELETE FROM handover_codes WHERE code_hash = $1 AND tenant_id = $2 \
         RETURNING user_id, expires_at",
    )
    .bind(hash_secret(code))
    .bind(&host_tenant)
    .fetch_optional(state.db.pool())
    .await?;
    let Some((user_id, expires_at)) = row else {
        return Err(invalid_handover(
            "this sign-in link is invalid or was used already; sign in again",
        ));
    };
    if expires_at < now_ms() {
        return Err(invalid_handover(
            "this sign-in link has expired; sign in again",
        ));
    }
    let user = user_by_id(&state.db, &user_id)
        .await?
        .ok_or_else(|| invalid_handover("this sign-in link is invalid"))?;
    let organization = organizations_of(&state.db, &user.id)
        .await?
        .into_iter()
        .find(|o| o.id == host_tenant)
        .ok_or_else(|| {
            AppError::forbidden("not_a_member", "you are not a member of this organization")
        })?;
    let issued = session::start(
        &state.db,
        &state.keys,
        &state.settings.auth,
        &user.id,
        Some(&organization.id),
    )
    .await?;
    audit::record(
        &state.db,
        Entry {
            tenant_id: Some(&organization.id),
            actor_id: Some(&user.id),
            action: "auth.handover",
            target: None,
            ip: Some(ip.to_string()),
            details: None,
        },
    )
    .await;
    let body = SessionBody::signed_in(
        &issued,
        Some(organization),
        UserInfo {
            id: user.id.clone(),
            email: user.email.clone(),
            email_verified: user.email_verified_at.is_some(),
            is_superuser: user.is_superuser,
        },
    );
    Ok(with_cookies(&state, StatusCode::OK, &issued, body).into_response())
}
