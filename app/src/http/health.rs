//! `/health/` (liveness) and `/health/ready/` (readiness) for load balancers and orchestrators.

use std::time::Duration;

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::Serialize;
use serde_json::{Value, json};

use crate::AppState;
use crate::db::MigrationStatus;

/// Longest a readiness probe waits for the database.
const READY_TIMEOUT: Duration = Duration::from_secs(3);

/// Liveness: the process answers; no I/O, so a slow database never restarts it.
#[utoipa::path(get, path = "/health/", tag = "health", responses((status = 200, description = "alive")))]
pub(super) async fn live() -> Json<Value> {
    Json(json!({ "status": "ok" }))
}

/// Readiness answer, also the body of the 503.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(super) struct Readiness {
    status: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    code: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    message: Option<String>,
    database: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    migrations: Option<MigrationStatus>,
}

/// Readiness: the database answers and its schema is the one this binary expects.
#[utoipa::path(get, path = "/health/ready/", tag = "health",
    responses((status = 200, body = Readiness), (status = 503, body = Readiness)))]
pub(super) async fn ready(State(state): State<AppState>) -> (StatusCode, Json<Readiness>) {
    let dialect = state.db.dialect().name();
    let checked = tokio::time::timeout(READY_TIMEOUT, state.db.migrations().status()).await;
    let (status, code, message, migrations) = match checked {
        Err(_) => (
            StatusCode::SERVICE_UNAVAILABLE,
            Some("database_timeout"),
            Some(format!(
                "database did not answer within {} s",
                READY_TIMEOUT.as_secs()
            )),
            None,
        ),
        Ok(Err(err)) => {
            tracing::warn!(error = %err, "readiness: database unreachable");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                Some("database_unreachable"),
                Some(format!("database unreachable: {err}")),
                None,
            )
        }
        Ok(Ok(migrations)) if !migrations.is_current() => (
            StatusCode::SERVICE_UNAVAILABLE,
            Some("migrations_not_current"),
            Some(migrations.describe()),
            Some(migrations),
        ),
        Ok(Ok(migrations)) => (StatusCode::OK, None, None, Some(migrations)),
    };
    state
        .metrics
        .database_ready
        .set(i64::from(status == StatusCode::OK));
    let body = Readiness {
        status: if status == StatusCode::OK {
            "ready"
        } else {
            "not_ready"
        },
        code,
        message,
        database: dialect,
        migrations,
    };
    (status, Json(body))
}
