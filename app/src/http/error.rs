//! The one error type handlers return.
//!
//! Use a 4xx variant when the caller can fix the request: it carries a stable
//! `code` and a message for people. Use [`AppError::Internal`] for everything
//! else: the cause is logged and the body stays generic.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Serialize;

/// JSON body of every error answer.
#[derive(Debug, Serialize)]
pub struct ErrorBody {
    /// Stable machine-readable code.
    pub code: &'static str,
    /// What went wrong, for a person.
    pub message: String,
    /// The request field at fault, when there is one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
}

/// An error a handler returns.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// No such route or resource (also used for other tenants' resources).
    #[error("not found")]
    NotFound,
    /// A field of the request is invalid.
    #[error("{field}: {message}")]
    Invalid {
        /// The offending field.
        field: String,
        /// Why it is invalid.
        message: String,
    },
    /// The service cannot answer right now.
    #[error("{0}")]
    Unavailable(String),
    /// A bug or an outage; the cause is logged, never shown.
    #[error("internal error: {0}")]
    Internal(Box<dyn std::error::Error + Send + Sync>),
}

impl From<crate::db::DbError> for AppError {
    fn from(err: crate::db::DbError) -> Self {
        Self::Internal(Box::new(err))
    }
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        let (status, code, message, field) = match self {
            Self::NotFound => (
                StatusCode::NOT_FOUND,
                "not_found",
                "not found".to_owned(),
                None,
            ),
            Self::Invalid { field, message } => (
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid",
                format!("{field}: {message}"),
                Some(field),
            ),
            Self::Unavailable(message) => (
                StatusCode::SERVICE_UNAVAILABLE,
                "unavailable",
                message,
                None,
            ),
            Self::Internal(cause) => {
                tracing::error!(error = %cause, "internal error");
                (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "internal",
                    "internal error; it has been logged".to_owned(),
                    None,
                )
            }
        };
        (
            status,
            Json(ErrorBody {
                code,
                message,
                field,
            }),
        )
            .into_response()
    }
}

/// Fallback for unknown routes: JSON 404 like every other error.
pub(super) async fn not_found() -> AppError {
    AppError::NotFound
}
