//! The HTTP surface: routes, errors, and per-request instrumentation.

mod error;
mod health;
mod observe;

use axum::Router;
use axum::routing::get;

use crate::AppState;

pub use error::AppError;

/// Every route of the app; later capabilities add their own routers here.
pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/health", get(health::live))
        .route("/health/", get(health::live))
        .route("/health/ready", get(health::ready))
        .route("/health/ready/", get(health::ready))
        .route("/metrics", get(observe::metrics))
        .fallback(error::not_found)
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            observe::record,
        ))
        .with_state(state)
}
