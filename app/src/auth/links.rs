//! One-time links sent by mail: email verification and password reset.
//!
//! Both are signed tokens rather than stored rows. A verification link names
//! the address it verifies, so it is void once the address changes; a reset
//! link carries the time of the last password change, so using it (which
//! changes the password) voids it and every other outstanding reset link.

use serde::{Deserialize, Serialize};

use super::Keys;
use super::token::{self, Claims, TokenError};
use crate::clock::now_ms;

/// Purpose of a verification link.
pub const VERIFY_EMAIL: &str = "verify_email";
/// Purpose of a password-reset link.
pub const RESET_PASSWORD: &str = "reset_password";

/// Claims of a mailed link.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LinkClaims {
    /// User id.
    pub sub: String,
    /// `verify_email` or `reset_password`.
    pub pur: String,
    /// Expiry, seconds.
    pub exp: i64,
    /// The address being verified.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    /// `password_changed_at` when the reset was requested.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stamp: Option<i64>,
}

impl Claims for LinkClaims {
    fn exp(&self) -> i64 {
        self.exp
    }
    fn purpose(&self) -> &str {
        &self.pur
    }
}

/// A verification link token for `email`, valid two days.
pub fn verify_email_token(keys: &Keys, user_id: &str, email: &str) -> String {
    token::sign(
        &LinkClaims {
            sub: user_id.to_owned(),
            pur: VERIFY_EMAIL.to_owned(),
            exp: now_ms() / 1000 + 2 * 86_400,
            email: Some(email.to_owned()),
            stamp: None,
        },
        &keys.links,
    )
}

/// A password-reset token, valid one hour.
pub fn reset_token(keys: &Keys, user_id: &str, password_changed_at: i64) -> String {
    token::sign(
        &LinkClaims {
            sub: user_id.to_owned(),
            pur: RESET_PASSWORD.to_owned(),
            exp: now_ms() / 1000 + 3600,
            email: None,
            stamp: Some(password_changed_at),
        },
        &keys.links,
    )
}

/// Checks a link token for `purpose`.
pub fn verify(keys: &Keys, token: &str, purpose: &str) -> Result<LinkClaims, TokenError> {
    token::verify(token, &keys.links, purpose, now_ms() / 1000)
}
