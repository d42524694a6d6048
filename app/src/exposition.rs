//! Prometheus exposition of a process's registry: the app's `/metrics`, and a
//! listener of its own for processes that run no app (`statuswatch prober`).

use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use prometheus_client::registry::Registry;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

/// The registry as OpenMetrics text.
pub fn response(registry: &Registry) -> Result<Response, std::fmt::Error> {
    let mut text = String::new();
    prometheus_client::encoding::text::encode(&mut text, registry)?;
    let mut response = Body::from(text).into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/openmetrics-text; version=1.0.0; charset=utf-8"),
    );
    Ok(response)
}

/// Serves `GET /metrics` and a liveness `GET /health/` on `listener` until `shutdown`.
pub async fn serve(
    listener: TcpListener,
    registry: Arc<Registry>,
    shutdown: CancellationToken,
) -> std::io::Result<()> {
    let metrics = move || {
        let registry = registry.clone();
        async move {
            response(&registry)
                .unwrap_or_else(|_| StatusCode::INTERNAL_SERVER_ERROR.into_response())
        }
    };
    let app = Router::new().route("/metrics", get(metrics)).route(
        "/health/",
        get(|| async { axum::Json(serde_json::json!({ "status": "ok" })) }),
    );
    axum::serve(listener, app)
        .with_graceful_shutdown(shutdown.cancelled_owned())
        .await
}
