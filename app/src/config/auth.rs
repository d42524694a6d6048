//! `[auth]`: sessions, passwords, rate limits and lockout.

use serde::{Deserialize, Serialize};

use super::IpRange;

/// Session lifetimes and abuse limits.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct AuthConfig {
    /// Lifetime of an access token, in seconds.
    pub access_token_seconds: u64,
    /// Lifetime of a refresh token, in days.
    pub refresh_token_days: u64,
    /// Shortest password accepted.
    pub min_password_length: usize,
    /// Failed logins in a row that lock an account.
    pub lockout_threshold: u32,
    /// How long a locked account stays locked, in minutes.
    pub lockout_minutes: u64,
    /// Login attempts per client IP per minute.
    pub login_per_ip_per_minute: u32,
    /// Login attempts per account per minute.
    pub login_per_account_per_minute: u32,
    /// Signups per client IP per hour.
    pub signup_per_ip_per_hour: u32,
    /// Password-reset requests per client IP and per account per hour.
    pub password_reset_per_hour: u32,
    /// Token refreshes per client IP per minute.
    pub refresh_per_ip_per_minute: u32,
    /// Peers whose `X-Forwarded-For` is believed (the edge): addresses or CIDR
    /// ranges such as a container network; loopback always is.
    pub trusted_proxies: Vec<IpRange>,
}

impl AuthConfig {
    /// Appends one message per problem, each naming its key.
    pub fn validate(&self, _production: bool, problems: &mut Vec<String>) {
        if !(60..=86_400).contains(&self.access_token_seconds) {
            problems.push("auth.access_token_seconds: must be between 60 and 86400".to_owned());
        }
        if !(1..=365).contains(&self.refresh_token_days) {
            problems.push("auth.refresh_token_days: must be between 1 and 365".to_owned());
        }
        if !(8..=128).contains(&self.min_password_length) {
            problems.push("auth.min_password_length: must be between 8 and 128".to_owned());
        }
        if self.lockout_threshold == 0 {
            problems.push("auth.lockout_threshold: must be at least 1".to_owned());
        }
        for (key, value) in [
            ("auth.login_per_ip_per_minute", self.login_per_ip_per_minute),
            (
                "auth.login_per_account_per_minute",
                self.login_per_account_per_minute,
            ),
            ("auth.signup_per_ip_per_hour", self.signup_per_ip_per_hour),
            ("auth.password_reset_per_hour", self.password_reset_per_hour),
            (
                "auth.refresh_per_ip_per_minute",
                self.refresh_per_ip_per_minute,
            ),
        ] {
            if value == 0 {
                problems.push(format!("{key}: must be at least 1"));
            }
        }
    }
}
