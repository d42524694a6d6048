//! Configuration sections owned by the app crate. The binary composes them
//! with the other crates' sections, loads them and calls `validate`.

mod auth;
mod billing;
mod database;
mod email;
mod ip_range;
mod prober;
mod tenancy;

use std::net::SocketAddr;

use serde::{Deserialize, Serialize};

/// Secrets print as set or unset, never by value (the workspace's one helper).
pub(crate) use acme::config::redacted;

pub use auth::AuthConfig;
pub use billing::{BillingConfig, PlanConfig};
pub use database::DatabaseConfig;
pub use email::{EmailConfig, SmtpSecurity};
pub use ip_range::{IpRange, IpRangeError};
pub use prober::ProberConfig;
pub use tenancy::TenancyConfig;

/// `[app]`: the HTTP API server.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct AppConfig {
    /// Address the API listens on; the edge forwards `/api`, `/admin`, `/health` here.
    pub listen: SocketAddr,
}

impl AppConfig {
    /// Appends one message per problem, each naming its key.
    pub fn validate(&self, _production: bool, _problems: &mut Vec<String>) {
        // A SocketAddr that parsed is all there is to check for now.
    }
}
