//! `/api/auth/*`: signup, login, refresh, logout, email verification, password reset, and `/api/me`.

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
    ip.to_string()
}

/// Links in mails point here.
pub(crate) fn link(state: &AppState, path: &str, token: &str) -> String {
    format!(
        "{}{path}?token={token}",
        state.settings.tenancy.public_base()
    )
}
