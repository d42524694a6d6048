//! Request instrumentation and the Prometheus `/metrics` endpoint.

use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::middleware::Next;
use axum::response::Response;

use crate::AppState;
use crate::http::AppError;
use crate::metrics::{RequestLabels, RouteLabels};

/// Counts and times every request by its route template.
pub(super) async fn record(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Response {
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_owned(), |p| p.as_str().to_owned());
    let method = request.method().as_str().to_owned();
    let started = Instant::now();
    let response = next.run(request).await;
    let elapsed = started.elapsed().as_secs_f64();
    state
        .metrics
        .http_requests
        .get_or_create(&RequestLabels {
            route: route.clone(),
            method,
            status: response.status().as_u16(),
        })
        .inc();
    state
        .metrics
        .http_duration
        .get_or_create(&RouteLabels { route })
        .observe(elapsed);
    response
}

/// Prometheus text exposition of the whole process's registry.
#[utoipa::path(get, path = "/metrics", tag = "health", responses((status = 200, description = "OpenMetrics text")))]
pub(super) async fn metrics(State(state): State<AppState>) -> Result<Response, AppError> {
    crate::exposition::response(&state.registry).map_err(|err| AppError::Internal(Box::new(err)))
}
