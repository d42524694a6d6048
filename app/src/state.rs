//! Shared state handed to every handler.

use std::sync::Arc;

use prometheus_client::registry::Registry;

use crate::db::Database;
use crate::metrics::AppMetrics;

/// Everything a request may need; built once at start.
#[derive(Debug)]
pub struct App {
    /// The database every role shares.
    pub db: Database,
    /// Request counters and latencies of this crate.
    pub metrics: AppMetrics,
    /// The process's metrics registry, rendered by `/metrics`.
    pub registry: Arc<Registry>,
}

/// Cheap-to-clone handle on [`App`] for axum's `State`.
#[derive(Debug, Clone)]
pub struct AppState(pub Arc<App>);

impl std::ops::Deref for AppState {
    type Target = App;

    fn deref(&self) -> &App {
        &self.0
    }
}
