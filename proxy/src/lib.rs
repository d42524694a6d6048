//! The StatusWatch edge: listeners on :80/:443, TLS per SNI, routing to the
//! app and the SPA, and the operator's admin API.
//!
//! It depends on `acme` for certificates and never on `app`: the binary hands
//! it a certificate manager built on the app's database policy.

pub mod address_limit;
pub mod admin;
pub mod cache;
pub mod config;
pub mod edge;
pub mod encoding;
pub mod headers;
pub mod metrics;
pub mod plain;
pub mod server;
pub mod site;
pub mod tls;
pub mod upstream;

pub use admin::{ReloadError, ReloadFn, Reloadable};
pub use config::EdgeConfig;
pub use server::{EdgeParts, Listeners, run};

/// Why the edge cannot start.
#[derive(Debug, thiserror::Error)]
pub enum EdgeError {
    /// The app upstream list is unusable.
    #[error("edge.app_upstreams: {0}")]
    Upstreams(String),
    /// TLS setup failed.
    #[error("TLS setup: {0}")]
    Tls(String),
}
