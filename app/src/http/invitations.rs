//! `/api/invitations`: inviting people by email, and accepting.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;
use utoipa::ToSchema;

use super::auth::link;
use super::auth::respond::{SessionBody, UserInfo, with_cookies};
use crate::AppState;
use crate::auth::{Role, password, session};
use crate::clock::{new_id, now_ms};
use crate::http::client_ip::ClientIp;
use crate::http::principal::TenantCaller;
use crate::http::{ApiJson, AppError};
use crate::mail::{Mail, escape_html};
use crate::tenancy::EmailAddress;
use crate::tenancy::audit::{self, Entry};
use crate::tenancy::invitations::{self, Invitation};
use crate::tenancy::store::{is_unique_violation, organization_for, user_by_email};

/// Invitation form.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct InviteRequest {
    /// Who to invite, at most 254 characters.
    #[schema(format = Email, max_length = 254)]
    pub email: String,
    /// Their role: admin, member or viewer (ownership is granted later by an owner).
    pub role: Role,
}

/// Lists invitations.
#[utoipa::path(get, path = "/api/invitations", tag = "members", responses((status = 200, body = [Invitation])))]
pub async fn list(
    State(state): State<AppState>,
    p: TenantCaller,
) -> Result<Json<Vec<Invitation>>, AppError> {
    Ok(Json(invitations::list(&state.db, &p.tenant_id).await?))
}

/// Invites someone by email.
#[utoipa::path(post, path = "/api/invitations", tag = "members", request_body = InviteRequest,
    responses((status = 201, body = Invitation), (status = 402, description = "the plan allows no more (`plan_limit`)", body = crate::http::error::ErrorBody), (status = 422, body = crate::http::error::ErrorBody)))]
pub async fn create(
    State(state): State<AppState>,
    p: TenantCaller,
    ClientIp(ip): ClientIp,
    ApiJson(form): ApiJson<InviteRequest>,
) -> Result<(StatusCode, Json<Invitation>), AppError> {
    let tenant = p.tenant_id.as_str();
    let email = EmailAddress::parse(&form.email).map_err(|m| AppError::invalid("email", m))?;
    if form.role == Role::Owner {
        return Err(AppError::invalid(
            "role",
            "invite as admin, member or viewer; an owner can promote later",
        ));
    }
    if form.role > p.role {
        return Err(AppError::forbidden(
            "insufficient_role",
            "you cannot invite someone above your own role",
        ));
    }
    // Pending invitations count as members, so accepting one never exceeds the plan.
    crate::billing::limits::check_room(
        &state.db,
        &state.billing.plans,
        tenant,
        crate::billing::plans::Limit::Members,
    )
    .await?;
    let (invitation, token) = invitations::create(
        &state.db,
        tenant,
        email.as_str(),
        form.role,
        p.user_id.as_deref(),
    )
    .await?;
    let org = organization_for(&state.db, tenant, None)
        .await?
        .map(|o| o.name)
        .unwrap_or_default();
    let url = link(&state, crate::auth::links::Page::AcceptInvite, &token);
    let mail = Mail {
        to: email.to_string(),
        subject: format!("You are invited to {org} on StatusWatch"),
        text: format!(
            "You have been invited to join {org} on StatusWatch as {}.\n\nAccept within seven days:\n{url}\n",
            form.role.as_str()
        ),
        html: format!(
            "<p>You have been invited to join <strong>{}</strong> on StatusWatch as {}.</p><p><a href=\"{}\">Accept the invitation</a> within seven days.</p>",
            escape_html(&org),
            form.role.as_str(),
            escape_html(&url)
        ),
    };
    state.mailer.send_in_background(mail, "invitation");
    audit::record(
        &state.db,
        Entry {
            details: Some(serde_json::json!({ "role": form.role })),
            ..p.audit(ip, "member.invite", email.as_str())
        },
    )
    .await;
    Ok((StatusCode::CREATED, Json(invitation)))
}

/// Withdraws a pending invitation.
#[utoipa::path(delete, path = "/api/invitations/{id}", tag = "members",
    params(("id" = String, Path, description = "invitation id")),
    responses((status = 204), (status = 404, body = crate::http::error::ErrorBody)))]
pub async fn revoke(
    State(state): State<AppState>,
    p: TenantCaller,
    Path(id): Path<String>,
) -> Result<StatusCode, AppError> {
    if invitations::revoke(&state.db, &p.tenant_id, &id).await? {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(AppError::NotFound)
    }
}

/// Acceptance: the token, and the password (an existing account's, or a new one).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AcceptRequest {
    /// The `token` of the mailed link.
    pub token: String,
    /// Existing account: its password. New account: the password to set
    /// (at least `auth.min_password_length` characters). At most 256 bytes.
    #[schema(max_length = 256)]
    pub password: String,
}

/// Accepts an invitation and signs in to the organisation.
#[utoipa::path(post, path = "/api/invitations/accept", tag = "members", request_body = AcceptRequest,
    responses((status = 200, body = SessionBody), (status = 400, body = crate::http::error::ErrorBody),
              (status = 401, body = crate::http::error::ErrorBody), (status = 429, body = crate::http::error::ErrorBody)))]
pub async fn accept(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    ApiJson(form): ApiJson<AcceptRequest>,
) -> Result<Response, AppError> {
    super::auth::limit(
        &state,
        "invitation",
        &super::auth::ip_key(ip),
        state.settings.auth.login_per_ip_per_minute,
        std::time::Duration::from_secs(60),
    )?;
    let invalid = || AppError::BadRequest {
        status: StatusCode::BAD_REQUEST,
        code: "invalid_invitation",
        message: "this invitation is invalid, expired or already used".to_owned(),
    };
    let pending = invitations::find_pending(&state.db, form.token.trim())
        .await?
        .ok_or_else(invalid)?;
    let user = match user_by_email(&state.db, &pending.email).await? {
        Some(user) => {
            // A way to try an account's password: the login's per-account
            // window and lockout apply, or an invitation to a victim's
            // address would be an unlimited password oracle.
            super::auth::limit(
                &state,
                "login",
                &user.email,
                state.settings.auth.login_per_account_per_minute,
                std::time::Duration::from_secs(60),
            )?;
            if !super::auth::lockout::check_password(&state, &user, form.password, ip).await? {
                return Err(AppError::unauthorized(
                    "invalid_credentials",
                    "that is not this account's password",
                ));
            }
            user
        }
        None => {
            password::check(
                &form.password,
                state.settings.auth.min_password_length,
                &pending.email,
            )
            .map_err(|e| AppError::invalid("password", e.to_string()))?;
            let hash = password::hash(form.password).await?;
            let now = now_ms();
            // The mailed token proves the address, so it is verified at once.
            let created = sqlx::query(
                "INSERT INTO users (id, email, password_hash, email_verified_at, created_at, password_changed_at) VALUES ($1, $2, $3, $4, $4, $4)",
            )
            .bind(new_id())
            .bind(&pending.email)
            .bind(hash)
            .bind(now)
            .execute(state.db.pool())
            .await;
            if let Err(err) = created
                && !is_unique_violation(&err)
            {
                return Err(err.into());
            }
            user_by_email(&state.db, &pending.email)
                .await?
                .ok_or_else(invalid)?
        }
    };
    if !invitations::accept(&state.db, &pending, &user.id).await? {
        return Err(invalid());
    }
    audit::record(
        &state.db,
        Entry {
            tenant_id: Some(&pending.tenant_id),
            actor_id: Some(&user.id),
            action: "member.join",
            target: Some(&pending.email),
            ip: Some(ip.to_string()),
            details: None,
        },
    )
    .await;
    let issued = session::start(
        &state.db,
        &state.keys,
        &state.settings.auth,
        &user.id,
        Some(&pending.tenant_id),
    )
    .await?;
    let organization = organization_for(&state.db, &pending.tenant_id, Some(&user.id)).await?;
    let body = SessionBody::signed_in(
        &issued,
        organization,
        UserInfo {
            id: user.id,
            email: user.email,
            email_verified: true,
            is_superuser: user.is_superuser,
        },
    );
    Ok(with_cookies(&state, StatusCode::OK, &issued, body))
}
