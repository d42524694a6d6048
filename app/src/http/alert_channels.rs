//! `/api/alert-channels`: where alerts go; test alerts; the delivery log.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::Deserialize;
use utoipa::IntoParams;

use crate::AppState;
use crate::http::principal::TenantCaller;
use crate::http::{ApiJson, ApiQuery, AppError};
use crate::monitor::alerts::Sender;
use crate::monitor::alerts::channels::{self, Channel, ChannelError, NewChannel};
use crate::monitor::alerts::delivery::{self, Delivery};

fn channel_error(err: ChannelError) -> AppError {
    match err {
        ChannelError::NotFound => AppError::NotFound,
        ChannelError::Invalid(field, message) => AppError::invalid(field, message),
        ChannelError::Db(db) => db.into(),
    }
}

/// Alert channels (secrets left out).
#[utoipa::path(get, path = "/api/alert-channels", tag = "alerts",
    responses((status = 200, body = [Channel])))]
pub async fn list(
    State(state): State<AppState>,
    p: TenantCaller,
) -> Result<Json<Vec<Channel>>, AppError> {
    Ok(Json(channels::list(&state.db, &p.tenant_id).await?))
}

/// Adds a channel; a webhook's signing secret is in this answer only.
#[utoipa::path(post, path = "/api/alert-channels", tag = "alerts", request_body = NewChannel,
    responses((status = 201, body = Channel), (status = 402, description = "the plan allows no more (`plan_limit`)", body = crate::http::error::ErrorBody), (status = 422, body = crate::http::error::ErrorBody)))]
pub async fn create(
    State(state): State<AppState>,
    p: TenantCaller,
    ApiJson(new): ApiJson<NewChannel>,
) -> Result<(StatusCode, Json<Channel>), AppError> {
    let tenant = p.tenant_id.as_str();
    crate::billing::limits::check_room(
        &state.db,
        &state.billing.plans,
        tenant,
        crate::billing::plans::Limit::AlertChannels,
    )
    .await?;
    let channel = channels::create(&state.db, tenant, &new)
        .await
        .map_err(channel_error)?;
    Ok((StatusCode::CREATED, Json(channel)))
}

/// Removes a channel.
#[utoipa::path(delete, path = "/api/alert-channels/{id}", tag = "alerts",
    params(("id" = String, Path, description = "channel id")),
    responses((status = 204), (status = 404, body = crate::http::error::ErrorBody)))]
pub async fn delete(
    State(state): State<AppState>,
    p: TenantCaller,
    Path(id): Path<String>,
) -> Result<StatusCode, AppError> {
    channels::delete(&state.db, &p.tenant_id, &id)
        .await
        .map_err(channel_error)?;
    Ok(StatusCode::NO_CONTENT)
}

/// Sends a test alert now; the answer says whether it was delivered.
#[utoipa::path(post, path = "/api/alert-channels/{id}/test", tag = "alerts",
    params(("id" = String, Path, description = "channel id")),
    responses((status = 200, body = Delivery), (status = 404, body = crate::http::error::ErrorBody)))]
pub async fn test(
    State(state): State<AppState>,
    p: TenantCaller,
    Path(id): Path<String>,
) -> Result<Json<Delivery>, AppError> {
    let probes = state
        .probes
        .as_ref()
        .ok_or_else(|| AppError::Unavailable("outbound HTTP is unavailable on this node".into()))?;
    let sender = Sender::new(
        state.mailer.clone(),
        probes.webhook_client().clone(),
        probes.guard().clone(),
    );
    let sent = delivery::send_test(&state.db, &sender, &p.tenant_id, &id)
        .await
        .map_err(channel_error)?;
    Ok(Json(sent))
}

/// Query of `GET /api/alert-deliveries`.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct DeliveriesQuery {
    /// How many of the newest deliveries, 1–200 (default 200).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<i64>,
}

/// The delivery log, newest first.
#[utoipa::path(get, path = "/api/alert-deliveries", tag = "alerts", params(DeliveriesQuery),
    responses((status = 200, body = [Delivery]),
              (status = 400, description = "`invalid_query`: an unknown or repeated query parameter", body = crate::http::error::ErrorBody),
              (status = 422, body = crate::http::error::ErrorBody)))]
pub async fn deliveries(
    State(state): State<AppState>,
    p: TenantCaller,
    ApiQuery(q): ApiQuery<DeliveriesQuery>,
) -> Result<Json<Vec<Delivery>>, AppError> {
    let limit = q.limit.unwrap_or(200);
    if !(1..=200).contains(&limit) {
        return Err(AppError::invalid("limit", "must be between 1 and 200"));
    }
    Ok(Json(delivery::list(&state.db, &p.tenant_id, limit).await?))
}
