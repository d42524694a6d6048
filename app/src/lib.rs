//! The StatusWatch app: tenancy, auth, monitors, probing, alerts, status
//! pages and billing behind one axum router, over SQLite or PostgreSQL.
//!
//! The binary builds an [`App`] from typed configuration and a connected
//! [`db::Database`], then serves [`http::router`] with [`server::run`].

pub mod auth;
pub mod billing;
pub mod certs;
pub mod clock;
pub mod config;
pub mod db;
pub mod events;
pub mod exposition;
pub mod http;
pub mod mail;
pub mod metrics;
pub mod monitor;
pub mod net_guard;
pub mod ops;
pub mod schema_docs;
pub mod server;
pub mod state;
pub mod status_page;
pub mod tenancy;
#[cfg(feature = "test-support")]
pub mod test_support;

pub use state::{App, AppSettings, AppState};
