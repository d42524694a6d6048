//! `/api/auth/*`: signup, login, refresh, logout, email verification, password reset, and `/api/me`.

pub mod handover;
pub mod lockout;
pub mod login;
pub mod logout;
pub mod me;
pub mod password_reset;
pub mod refresh;
pub mod respond;
pub mod signup;
pub mod verify_email;

use std::net::IpAddr;
use std::time::Duration;

use crate::AppState;
use crate::http::AppError;

/// Counts an attempt against a limit, answering 429 with `Retry-After` when spent.
pub(crate) fn limit(
    state: &AppState,
    action: &'static str,
    key: &str,
    per_window: u32,
    window: Duration,
) -> Result<(), AppError> {
    state
        .limiter
        .hit(action, key, per_window, window)
        .map_err(|retry| AppError::TooManyRequests {
            code: "rate_limited",
            message: format!("too many {action} attempts; try again in {} s", retry.0),
            retry_after: retry.0,
            locked_until: None,
        })
}

/// Hashing at capacity (a flood from many addresses): 429, back in a second.
impl From<crate::auth::hashing::Busy> for AppError {
    fn from(busy: crate::auth::hashing::Busy) -> Self {
        Self::TooManyRequests {
            code: "rate_limited",
            message: format!("{busy}; try again in 1 s"),
            retry_after: 1,
            locked_until: None,
        }
    }
}

impl From<crate::auth::password::HashError> for AppError {
    fn from(err: crate::auth::password::HashError) -> Self {
        match err {
            crate::auth::password::HashError::Busy(busy) => busy.into(),
            err @ crate::auth::password::HashError::Argon2(_) => Self::Internal(Box::new(err)),
        }
    }
}

/// An email as typed at login or reset: trimmed and lowercased, with only a
/// length check, since refusing odd but stored addresses would lock people out.
pub(crate) fn typed_email(value: &str) -> Result<String, AppError> {
    let email = value.trim().to_lowercase();
    if email.is_empty() || email.len() > 254 {
        return Err(AppError::invalid("email", "must be an email address"));
    }
    Ok(email)
}

/// The IP of the request, as a rate-limit key.
pub(crate) fn ip_key(ip: IpAddr) -> String {
    crate::auth::rate_limit::address_key(ip)
}

/// A 400 for a mailed link that cannot be used.
pub(crate) fn invalid_link(message: &str) -> AppError {
    AppError::BadRequest {
        status: axum::http::StatusCode::BAD_REQUEST,
        code: "invalid_link",
        message: message.to_owned(),
    }
}

/// Checks a mailed link's token for `purpose` and loads the user it names.
pub(crate) async fn link_user(
    state: &AppState,
    token: &str,
    purpose: &str,
) -> Result<
    (
        crate::auth::links::LinkClaims,
        crate::tenancy::store::UserRow,
    ),
    AppError,
> {
    let claims =
        crate::auth::links::verify(&state.keys, token, purpose).map_err(|err| match err {
            crate::auth::token::TokenError::Expired => {
                invalid_link("this link has expired; ask for a new one")
            }
            _ => invalid_link("this link is invalid"),
        })?;
    let user = crate::tenancy::store::user_by_id(&state.db, &claims.sub)
        .await?
        .ok_or_else(|| invalid_link("this link is invalid"))?;
    Ok((claims, user))
}

/// The link to `page` with `token`, under the public base URL.
pub(crate) fn link(state: &AppState, page: crate::auth::links::Page, token: &str) -> String {
    page.link(&state.settings.tenancy.public_base(), token)
}
