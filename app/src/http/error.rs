//! The one error type handlers return.
//!
//! Use a 4xx variant when the caller can fix the request: it carries a stable
//! `code` and a message for people (and the field at fault, where there is
//! one). Use [`AppError::Internal`] for everything else: the cause is logged
//! and the body stays generic.

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use utoipa::ToSchema;

use crate::billing::limits::{Exceeded, RoomError};

/// JSON body of every error answer.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorBody {
    /// Stable machine-readable code.
    pub code: &'static str,
    /// What went wrong, for a person.
    pub message: String,
    /// The request field at fault, when there is one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    /// When a lockout ends, ms since the epoch.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub locked_until: Option<i64>,
    /// With `plan_limit`: the limit reached (`monitors`, `status_pages`, …).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub limit: Option<&'static str>,
    /// With `plan_limit`: the plan that lifts it, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub plan: Option<String>,
}

/// An error a handler returns.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// No such route or resource (also for other tenants' resources).
    #[error("not found")]
    NotFound,
    /// A field of the request is invalid (422).
    #[error("{field}: {message}")]
    Invalid {
        /// The offending field.
        field: String,
        /// Why it is invalid.
        message: String,
    },
    /// The request as a whole is unusable (400, 413, 415).
    #[error("{message}")]
    BadRequest {
        /// HTTP status.
        status: StatusCode,
        /// Stable code.
        code: &'static str,
        /// Explanation.
        message: String,
    },
    /// Not signed in, or the credentials are invalid (401).
    #[error("{message}")]
    Unauthorized {
        /// Stable code.
        code: &'static str,
        /// Explanation.
        message: String,
    },
    /// Signed in but not allowed (403).
    #[error("{message}")]
    Forbidden {
        /// Stable code.
        code: &'static str,
        /// Explanation.
        message: String,
    },
    /// Conflicts with what is stored (409).
    #[error("{message}")]
    Conflict {
        /// Stable code.
        code: &'static str,
        /// The field whose value conflicts.
        field: Option<String>,
        /// Explanation.
        message: String,
    },
    /// Too many attempts (429 with `Retry-After`).
    #[error("{message}")]
    TooManyRequests {
        /// Stable code.
        code: &'static str,
        /// Explanation.
        message: String,
        /// Seconds to wait.
        retry_after: u64,
        /// End of an account lockout, ms since the epoch.
        locked_until: Option<i64>,
    },
    /// The tenant's plan does not allow this (402, code `plan_limit`).
    #[error("{message}")]
    PlanLimit {
        /// The limit reached.
        limit: &'static str,
        /// The plan that lifts it, if any.
        plan: Option<String>,
        /// Explanation.
        message: String,
    },
    /// The service cannot answer right now (503).
    #[error("{0}")]
    Unavailable(String),
    /// The database cannot be reached (503, code `database_unavailable`, `Retry-After`).
    #[error("the database is unavailable")]
    DatabaseUnavailable,
    /// A bug or an outage; the cause is logged, never shown.
    #[error("internal error: {0}")]
    Internal(Box<dyn std::error::Error + Send + Sync>),
}

impl AppError {
    /// A 422 for `field`.
    pub fn invalid(field: &str, message: impl Into<String>) -> Self {
        Self::Invalid {
            field: field.to_owned(),
            message: message.into(),
        }
    }

    /// A 401 with `code`.
    pub fn unauthorized(code: &'static str, message: impl Into<String>) -> Self {
        Self::Unauthorized {
            code,
            message: message.into(),
        }
    }

    /// A 403 with `code`.
    pub fn forbidden(code: &'static str, message: impl Into<String>) -> Self {
        Self::Forbidden {
            code,
            message: message.into(),
        }
    }

    /// A 409 with `code`, naming `field`.
    pub fn conflict(code: &'static str, field: Option<&str>, message: impl Into<String>) -> Self {
        Self::Conflict {
            code,
            field: field.map(str::to_owned),
            message: message.into(),
        }
    }

    /// A 500 whose cause is logged.
    pub fn internal(err: impl std::error::Error + Send + Sync + 'static) -> Self {
        Self::Internal(Box::new(err))
    }
}

impl From<crate::db::DbError> for AppError {
    fn from(err: crate::db::DbError) -> Self {
        match err {
            crate::db::DbError::Query(err) if is_invalid_text(&err) => nul_in_text(),
            err => Self::Internal(Box::new(err)),
        }
    }
}

impl From<sqlx::Error> for AppError {
    fn from(err: sqlx::Error) -> Self {
        if is_invalid_text(&err) {
            return nul_in_text();
        }
        if is_database_outage(&err) {
            tracing::warn!(error = %err, "database unavailable");
            return Self::DatabaseUnavailable;
        }
        Self::Internal(Box::new(err))
    }
}

/// Whether PostgreSQL refused a text value it cannot hold (a NUL byte:
/// 22021, or 22P05): the client's input, which SQLite stores as given.
fn is_invalid_text(err: &sqlx::Error) -> bool {
    matches!(err, sqlx::Error::Database(db)
        if db.code().is_some_and(|code| matches!(&*code, "22021" | "22P05")))
}

fn nul_in_text() -> AppError {
    AppError::BadRequest {
        status: StatusCode::BAD_REQUEST,
        code: "invalid_text",
        message: "text must not contain NUL characters".to_owned(),
    }
}

/// Whether `err` says the database cannot be reached (not that a statement
/// is wrong): no connection within the pool's timeout, a broken connection,
/// or PostgreSQL's connection-exception and shutdown classes (08, 57P01-03).
pub fn is_database_outage(err: &sqlx::Error) -> bool {
    match err {
        sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::Io(_)
        | sqlx::Error::Tls(_)
        | sqlx::Error::WorkerCrashed => true,
        sqlx::Error::Database(db) => db.code().is_some_and(|code| {
            code.starts_with("08") || matches!(&*code, "57P01" | "57P02" | "57P03")
        }),
        _ => false,
    }
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        let mut retry = None;
        let mut locked_until = None;
        let mut plan_limit = (None, None);
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
            Self::BadRequest {
                status,
                code,
                message,
            } => (status, code, message, None),
            Self::Unauthorized { code, message } => (StatusCode::UNAUTHORIZED, code, message, None),
            Self::Forbidden { code, message } => (StatusCode::FORBIDDEN, code, message, None),
            Self::Conflict {
                code,
                field,
                message,
            } => (StatusCode::CONFLICT, code, message, field),
            Self::TooManyRequests {
                code,
                message,
                retry_after,
                locked_until: until,
            } => {
                retry = Some(retry_after);
                locked_until = until;
                (StatusCode::TOO_MANY_REQUESTS, code, message, None)
            }
            Self::PlanLimit {
                limit,
                plan,
                message,
            } => {
                plan_limit = (Some(limit), plan);
                (StatusCode::PAYMENT_REQUIRED, "plan_limit", message, None)
            }
            Self::Unavailable(message) => (
                StatusCode::SERVICE_UNAVAILABLE,
                "unavailable",
                message,
                None,
            ),
            Self::DatabaseUnavailable => {
                retry = Some(5);
                (
                    StatusCode::SERVICE_UNAVAILABLE,
                    "database_unavailable",
                    "the database is not answering; please try again shortly".to_owned(),
                    None,
                )
            }
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
        let body = ErrorBody {
            code,
            message,
            field,
            locked_until,
            limit: plan_limit.0,
            plan: plan_limit.1,
        };
        let mut response = (status, Json(body)).into_response();
        if let Some(seconds) = retry {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(seconds));
        }
        response
    }
}

/// Fallback for unknown routes: JSON 404 like every other error.
pub(super) async fn not_found() -> AppError {
    AppError::NotFound
}

impl From<Exceeded> for AppError {
    fn from(
        Exceeded {
            limit,
            plan,
            message,
        }: Exceeded,
    ) -> Self {
        Self::PlanLimit {
            limit,
            plan,
            message,
        }
    }
}

impl From<RoomError> for AppError {
    fn from(err: RoomError) -> Self {
        match err {
            RoomError::Exceeded(exceeded) => exceeded.into(),
            RoomError::Db(err) => err.into(),
        }
    }
}
