//! `/api/status-pages/{id}/subscribers`: the tenant's view of a page's
//! subscribers (a paged list and a CSV export) and removing one.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use utoipa::IntoParams;

use super::status_pages::page_of;
use crate::AppState;
use crate::http::principal::TenantCaller;
use crate::http::{ApiQuery, AppError};
use crate::status_page::subscribers::{Subscriber, SubscriberError, csv, listing};

/// Most rows of one CSV export.
const MAX_EXPORT: i64 = 100_000;

/// Query of `GET /api/status-pages/{id}/subscribers`.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct SubscribersQuery {
    /// Page size, 1–500 (default 100).
    #[param(minimum = 1, maximum = 500)]
    pub limit: Option<i64>,
    /// Rows to skip (default 0).
    #[param(minimum = 0)]
    pub offset: Option<i64>,
}

fn subscriber_error(err: SubscriberError) -> AppError {
    match err {
        SubscriberError::NotFound => AppError::NotFound,
        SubscriberError::Invalid(field, message) => AppError::invalid(field, message),
        SubscriberError::Conflict(field, message) => {
            AppError::conflict("conflict", Some(field), message)
        }
        SubscriberError::BadToken(message) => AppError::invalid("token", message),
        SubscriberError::Full { .. } => AppError::conflict("page_full", None, err.to_string()),
        SubscriberError::Db(db) => db.into(),
    }
}

/// Subscribers of a page (pending, active and unsubscribed), oldest first.
#[utoipa::path(get, path = "/api/status-pages/{id}/subscribers", tag = "status pages",
    params(("id" = String, Path, description = "status page id"), SubscribersQuery),
    responses((status = 200, body = [Subscriber]), (status = 400, description = "`invalid_query`: an unknown or repeated query parameter", body = crate::http::error::ErrorBody),
              (status = 404, body = crate::http::error::ErrorBody),
              (status = 422, body = crate::http::error::ErrorBody)))]
pub async fn list(
    State(state): State<AppState>,
    p: TenantCaller,
    Path(id): Path<String>,
    ApiQuery(q): ApiQuery<SubscribersQuery>,
) -> Result<Json<Vec<Subscriber>>, AppError> {
    page_of(&state, &p, &id).await?;
    let limit = q.limit.unwrap_or(100);
    if !(1..=500).contains(&limit) {
        return Err(AppError::invalid("limit", "must be between 1 and 500"));
    }
    let offset = q.offset.unwrap_or(0);
    if offset < 0 {
        return Err(AppError::invalid("offset", "must be 0 or more"));
    }
    Ok(Json(
        listing::list(&state.db, &p.tenant_id, &id, limit, offset)
            .await
            .map_err(subscriber_error)?,
    ))
}

/// Every subscriber of a page as CSV (`id,kind,address,status,components,
/// created_at,confirmed_at,unsubscribed_at`; formula-like cells defused).
#[utoipa::path(get, path = "/api/status-pages/{id}/subscribers.csv", tag = "status pages",
    params(("id" = String, Path, description = "status page id")),
    responses((status = 200, description = "CSV, one row per subscriber", content_type = "text/csv"),
              (status = 404, body = crate::http::error::ErrorBody)))]
pub async fn export(
    State(state): State<AppState>,
    p: TenantCaller,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    let page = page_of(&state, &p, &id).await?;
    let subscribers = listing::list(&state.db, &p.tenant_id, &id, MAX_EXPORT, 0)
        .await
        .map_err(subscriber_error)?;
    let file: String = page
        .title
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .take(40)
        .collect();
    let disposition = format!(
        "attachment; filename=\"{}-subscribers.csv\"",
        if file.is_empty() { "status" } else { &file }
    );
    Ok((
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/csv; charset=utf-8"),
            ),
            (
                header::CONTENT_DISPOSITION,
                HeaderValue::from_str(&disposition)
                    .unwrap_or_else(|_| HeaderValue::from_static("attachment")),
            ),
        ],
        csv::export(&subscribers),
    )
        .into_response())
}

/// Removes a subscriber (and what is still queued for it).
#[utoipa::path(delete, path = "/api/status-pages/{id}/subscribers/{subscriber_id}", tag = "status pages",
    params(("id" = String, Path, description = "status page id"),
           ("subscriber_id" = String, Path, description = "subscriber id")),
    responses((status = 204), (status = 404, body = crate::http::error::ErrorBody)))]
pub async fn delete(
    State(state): State<AppState>,
    p: TenantCaller,
    Path((id, subscriber_id)): Path<(String, String)>,
) -> Result<StatusCode, AppError> {
    page_of(&state, &p, &id).await?;
    listing::delete(&state.db, &p.tenant_id, &id, &subscriber_id)
        .await
        .map_err(subscriber_error)?;
    Ok(StatusCode::NO_CONTENT)
}
