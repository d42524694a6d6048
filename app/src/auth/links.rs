//! Links the app builds for people: the pages they lead to ([`Page`]), and
//! the one-time tokens of mailed links (email verification, password reset).
//!
//! Every link leads to a page of the SPA; [`Page`] is the one list of those
//! pages, and a test checks each path against the SPA's route table
//! (`static/routes.json`).
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

/// A page of the SPA that a link of the app leads to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Page {
    /// Confirms an email address (`?token=`).
    VerifyEmail,
    /// Sets a new password after "forgot password" (`?token=`).
    ResetPassword,
    /// Sets the first password of an owner the CLI created (`?token=…&new=1`).
    SetPassword,
    /// Accepts an invitation (`?token=`).
    AcceptInvite,
    /// Finishes a sign-in handed over from the root domain (`#code=`, kept out of logs).
    Handover,
}

impl Page {
    /// Every page, for the route-table test.
    pub const ALL: [Page; 5] = [
        Self::VerifyEmail,
        Self::ResetPassword,
        Self::SetPassword,
        Self::AcceptInvite,
        Self::Handover,
    ];

    /// The page's path in the SPA.
    pub fn path(self) -> &'static str {
        match self {
            Self::VerifyEmail => "/verify-email",
            // The page says "Set your password" when `new=1` is present.
            Self::ResetPassword | Self::SetPassword => "/reset-password",
            Self::AcceptInvite => "/accept-invite",
            Self::Handover => "/auth/handover",
        }
    }

    /// The link to this page under `base` (scheme, host and port, no trailing
    /// slash) carrying `secret`; the secret is base64url, so it needs no escaping.
    pub fn link(self, base: &str, secret: &str) -> String {
        let path = self.path();
        match self {
            Self::SetPassword => format!("{base}{path}?token={secret}&new=1"),
            // A fragment never reaches a server, a log or a Referer header.
            Self::Handover => format!("{base}{path}#code={secret}"),
            Self::VerifyEmail | Self::ResetPassword | Self::AcceptInvite => {
                format!("{base}{path}?token={secret}")
            }
        }
    }
}

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_carry_their_secret_where_the_page_reads_it() {
        let base = "https://localhost:8443";
        assert_eq!(
            Page::VerifyEmail.link(base, "abc"),
            "https://localhost:8443/verify-email?token=abc"
        );
        assert_eq!(
            Page::SetPassword.link(base, "abc"),
            "https://localhost:8443/reset-password?token=abc&new=1"
        );
        assert_eq!(
            Page::ResetPassword.link(base, "abc"),
            "https://localhost:8443/reset-password?token=abc"
        );
        assert_eq!(
            Page::AcceptInvite.link(base, "abc"),
            "https://localhost:8443/accept-invite?token=abc"
        );
        assert_eq!(
            Page::Handover.link("https://acme.localhost:8443", "abc"),
            "https://acme.localhost:8443/auth/handover#code=abc"
        );
    }
}
