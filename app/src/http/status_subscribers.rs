//! Subscribing on a status page's host (the Host picks the page, as for the
//! page itself): `POST /status/subscribe`, a plain HTML form or JSON; the
//! links of the mails are in [`super::status_subscribers_links`].
//!
//! Nothing here may be kept by a shared cache: answers are to POSTs or to
//! links carrying tokens, so all are `no-store` and send no Referer. The
//! public page's form carries nothing per visitor (the page is shared-cached),
//! so instead of a CSRF token these routes rely on per-IP and per-address
//! limits and on double opt-in.

use std::time::Duration;

use axum::body::Bytes;
use axum::extract::State;
use axum::extract::rejection::BytesRejection;
use axum::http::{HeaderMap, HeaderValue, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use utoipa::ToSchema;

use super::client_ip::ClientIp;
use super::public_status::host;
use super::status_pages::status_error;
use crate::AppState;
use crate::clock::now_ms;
use crate::http::AppError;
use crate::status_page::html::CSP;
use crate::status_page::pages::StatusPage;
use crate::status_page::subscribers::store;
use crate::status_page::subscribers::{SubscribeRequest, Subscribed, SubscriberError};
use crate::status_page::view::{self, Site};

/// Largest subscribe body read.
pub const MAX_SUBSCRIBE_BYTES: usize = 8 * 1024;
/// Subscribe requests per client address per hour.
pub const SUBSCRIBES_PER_IP: u32 = 10;
/// Subscribe requests per email address (or webhook URL) per hour, over all pages.
pub const SUBSCRIBES_PER_ADDRESS: u32 = 5;
/// Opened links and confirmations per client address per minute. The
/// one-click unsubscribe POST is not limited: mailbox providers send it from
/// few addresses for many people, and a bad token costs one HMAC.
pub const LINKS_PER_IP: u32 = 120;

const HOUR: Duration = Duration::from_secs(3600);

/// Answer of a JSON subscription.
#[derive(Debug, Serialize, ToSchema)]
pub struct SubscribeAnswer {
    /// `pending` (email: confirm through the mailed link) or `active` (webhook).
    pub status: &'static str,
    /// What happens next, for people.
    pub message: String,
    /// Webhook subscriber id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// Webhook signing secret (HMAC-SHA256 in `x-statuswatch-signature`), shown only here.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub secret: Option<String>,
    /// Webhook: POST here (or open it) to unsubscribe.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unsubscribe_url: Option<String>,
}

const CHECK_MAIL: &str = "Check your mail: we sent a link to confirm the subscription. \
     It works for two days; until you confirm, nothing else is sent.";

/// How the caller wants answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Form {
    /// A page for people (form posts, links).
    Html,
    /// JSON for programs.
    Json,
}

/// The page of the Host, and the origin (`scheme://host[:port]`) its links
/// use. A suspended organization takes no subscriptions, but its
/// subscribers may still leave (`suspended_ok`).
pub(crate) async fn page_for(
    state: &AppState,
    headers: &HeaderMap,
    uri: &Uri,
    suspended_ok: bool,
) -> Result<(Site, StatusPage, String), AppError> {
    let site = view::site_for_host(&state.db, &host(headers, uri))
        .await
        .map_err(status_error)?
        .ok_or(AppError::NotFound)?;
    if site.suspended && !suspended_ok {
        return Err(AppError::forbidden(
            "tenant_suspended",
            "this organization's status page is suspended",
        ));
    }
    let page = site.page.clone().ok_or(AppError::NotFound)?;
    let base = state.settings.tenancy.public_base();
    let scheme = if base.starts_with("http://") {
        "http"
    } else {
        "https"
    };
    let origin = format!(
        "{scheme}://{}",
        host(headers, uri)
            .trim_end_matches('.')
            .to_ascii_lowercase()
    );
    Ok((site, page, origin))
}

pub(crate) fn subscriber_error(err: SubscriberError) -> AppError {
    match err {
        SubscriberError::NotFound => AppError::NotFound,
        SubscriberError::Invalid(field, message) => AppError::invalid(field, message),
        SubscriberError::Conflict(field, message) => {
            AppError::conflict("already_subscribed", Some(field), message)
        }
        SubscriberError::BadToken(message) => AppError::BadRequest {
            status: StatusCode::BAD_REQUEST,
            code: "invalid_token",
            message,
        },
        SubscriberError::Full { .. } => AppError::PlanLimit {
            limit: "subscribers_per_page",
            plan: None,
            message: err.to_string(),
        },
        SubscriberError::Db(db) => db.into(),
    }
}

pub(crate) fn limited(retry: crate::auth::rate_limit::RetryAfter) -> AppError {
    AppError::TooManyRequests {
        code: "rate_limited",
        message: format!(
            "too many subscription requests; try again in {} seconds",
            retry.0
        ),
        retry_after: retry.0,
        locked_until: None,
    }
}

/// Headers of every answer here: never stored, never referred.
fn private(mut response: Response) -> Response {
    let headers = response.headers_mut();
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    response
}

/// An HTML answer with the status page's CSP.
pub(crate) fn html(status: StatusCode, body: String) -> Response {
    let csp = HeaderValue::from_str(&CSP)
        .unwrap_or_else(|_| HeaderValue::from_static("default-src 'none'"));
    private(
        (
            status,
            [
                (
                    header::CONTENT_TYPE,
                    HeaderValue::from_static("text/html; charset=utf-8"),
                ),
                (header::CONTENT_SECURITY_POLICY, csp),
            ],
            body,
        )
            .into_response(),
    )
}

/// An error as the caller reads it: a page for people, JSON for programs.
pub(crate) fn failed(form: Form, err: AppError) -> Response {
    match form {
        Form::Json => private(err.into_response()),
        Form::Html => {
            let message = match &err {
                AppError::NotFound => "There is no status page at this address.".to_owned(),
                AppError::Internal(_) => {
                    "Something went wrong on our side; please try again later.".to_owned()
                }
                other => other.to_string(),
            };
            // Converting logs an internal error's cause.
            let mut json = err.into_response();
            let status = json.status();
            let retry = json.headers_mut().remove(header::RETRY_AFTER);
            let mut response = html(
                status,
                crate::status_page::subscriber_pages::problem(status, &message),
            );
            if let Some(retry) = retry {
                response.headers_mut().insert(header::RETRY_AFTER, retry);
            }
            response
        }
    }
}

/// Reads the form or JSON body of a subscription.
fn read_request(
    headers: &HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<(Form, Result<SubscribeRequest, AppError>), AppError> {
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    let form = match content_type.as_str() {
        "application/x-www-form-urlencoded" => Form::Html,
        "application/json" => Form::Json,
        _ => {
            return Err(AppError::BadRequest {
                status: StatusCode::UNSUPPORTED_MEDIA_TYPE,
                code: "unsupported_media_type",
                message:
                    "send a form (application/x-www-form-urlencoded) or JSON (application/json)"
                        .to_owned(),
            });
        }
    };
    let too_large = || AppError::BadRequest {
        status: StatusCode::PAYLOAD_TOO_LARGE,
        code: "body_too_large",
        message: format!("the body may be at most {MAX_SUBSCRIBE_BYTES} bytes"),
    };
    let bytes = match body {
        Ok(bytes) if bytes.len() > MAX_SUBSCRIBE_BYTES => return Ok((form, Err(too_large()))),
        Ok(bytes) => bytes,
        Err(rejection) if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE => {
            return Ok((form, Err(too_large())));
        }
        Err(rejection) => {
            return Ok((
                form,
                Err(AppError::BadRequest {
                    status: StatusCode::BAD_REQUEST,
                    code: "unreadable_body",
                    message: rejection.body_text(),
                }),
            ));
        }
    };
    let request = match form {
        Form::Html => {
            let mut request = SubscribeRequest::default();
            for (name, value) in url::form_urlencoded::parse(&bytes) {
                match name.as_ref() {
                    "email" => request.email = Some(value.into_owned()),
                    "components" => request
                        .components
                        .get_or_insert_with(Vec::new)
                        .push(value.into_owned()),
                    // Buttons and anything else a form may add.
                    _ => {}
                }
            }
            if request.email.is_none() {
                request.email = Some(String::new());
            }
            Ok(request)
        }
        Form::Json => serde_json::from_slice::<SubscribeRequest>(&bytes).map_err(|e| {
            if e.is_data() {
                AppError::BadRequest {
                    status: StatusCode::UNPROCESSABLE_ENTITY,
                    code: "invalid_body",
                    message: e.to_string(),
                }
            } else {
                AppError::BadRequest {
                    status: StatusCode::BAD_REQUEST,
                    code: "malformed_json",
                    message: format!("the body is not JSON: {e}"),
                }
            }
        }),
    };
    Ok((form, request))
}

/// Subscribes to the Host's status page: by email (a confirmation link is
/// mailed; the answer is the same whether or not the address is subscribed
/// already), or by webhook (active at once; the signing secret is shown only
/// in this answer). A form post gets an HTML page, JSON gets JSON.
#[utoipa::path(post, path = "/status/subscribe", tag = "public status", request_body(content = SubscribeRequest, description = "JSON, or the page's form (`email`, repeated `components`) as application/x-www-form-urlencoded"),
    responses((status = 202, body = SubscribeAnswer, description = "Email: check your mail (an HTML page for form posts)"),
              (status = 201, body = SubscribeAnswer, description = "Webhook subscribed; the secret is shown once"),
              (status = 400, body = crate::http::error::ErrorBody, description = "`malformed_json` or `unreadable_body`"),
              (status = 402, body = crate::http::error::ErrorBody, description = "`plan_limit`: the page has as many subscribers as the organization's plan allows"),
              (status = 403, body = crate::http::error::ErrorBody, description = "The organization is suspended"),
              (status = 404, body = crate::http::error::ErrorBody, description = "No status page at this Host"),
              (status = 409, body = crate::http::error::ErrorBody, description = "The webhook is subscribed already"),
              (status = 413, body = crate::http::error::ErrorBody, description = "Body over 8 KiB"),
              (status = 415, body = crate::http::error::ErrorBody, description = "Neither a form nor JSON"),
              (status = 422, body = crate::http::error::ErrorBody, description = "Missing or invalid `email`, `webhook_url` or `components`"),
              (status = 429, body = crate::http::error::ErrorBody, description = "Too many requests from this address; see `Retry-After`")))]
pub async fn subscribe(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    uri: Uri,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let (form, request) = match read_request(&headers, body) {
        Ok(read) => read,
        Err(err) => return failed(Form::Json, err),
    };
    match subscribe_in(&state, ip, &headers, &uri, request).await {
        Ok(outcome) => answer(form, outcome),
        Err(err) => failed(form, err),
    }
}

async fn subscribe_in(
    state: &AppState,
    ip: std::net::IpAddr,
    headers: &HeaderMap,
    uri: &Uri,
    request: Result<SubscribeRequest, AppError>,
) -> Result<(Subscribed, String), AppError> {
    state
        .limiter
        .hit(
            "status_subscribe",
            &crate::http::auth::ip_key(ip),
            SUBSCRIBES_PER_IP,
            HOUR,
        )
        .map_err(limited)?;
    let (site, page, origin) = page_for(state, headers, uri, false).await?;
    let request = request?;
    let address = request
        .email
        .as_deref()
        .or(request.webhook_url.as_deref())
        .unwrap_or_default()
        .trim()
        .to_lowercase();
    if !address.is_empty() {
        state
            .limiter
            .hit(
                "status_subscribe_address",
                &address,
                SUBSCRIBES_PER_ADDRESS,
                HOUR,
            )
            .map_err(limited)?;
    }
    let room = store::Room(
        crate::billing::limits::subscribers_per_page(
            &state.db,
            &state.billing.plans,
            &site.tenant_id,
        )
        .await?,
    );
    let slot = store::PageSlot {
        tenant_id: &site.tenant_id,
        page_id: &page.id,
        room,
    };
    let outcome = store::subscribe(&state.db, &state.keys, slot, &origin, &request, now_ms())
        .await
        .map_err(subscriber_error)?;
    Ok((outcome, origin))
}

fn answer(form: Form, (outcome, origin): (Subscribed, String)) -> Response {
    match (outcome, form) {
        (Subscribed::Webhook {
            id,
            secret,
            unsubscribe_token,
        }, _) => private(
            (
                StatusCode::CREATED,
                axum::Json(SubscribeAnswer {
                    status: "active",
                    message: "Subscribed: signed JSON is posted to the webhook on every incident and maintenance update."
                        .to_owned(),
                    id: Some(id),
                    secret: Some(secret),
                    unsubscribe_url: Some(format!(
                        "{origin}/status/unsubscribe?token={unsubscribe_token}"
                    )),
                }),
            )
                .into_response(),
        ),
        (_, Form::Json) => private(
            (
                StatusCode::ACCEPTED,
                axum::Json(SubscribeAnswer {
                    status: "pending",
                    message: CHECK_MAIL.to_owned(),
                    id: None,
                    secret: None,
                    unsubscribe_url: None,
                }),
            )
                .into_response(),
        ),
        (_, Form::Html) => html(StatusCode::ACCEPTED, crate::status_page::subscriber_pages::check_mail(CHECK_MAIL)),
    }
}
