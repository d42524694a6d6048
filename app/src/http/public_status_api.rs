//! The public, machine-readable side of a status page, all with
//! `Access-Control-Allow-Origin: *` and shared-cache headers: Statuspage
//! API v2 compatible JSON under `/api/v2/`, Atom and RSS feeds of the
//! incident history, and SVG badges. The Host picks the page.

use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode, Uri, header};
use axum::response::Response;
use serde::Serialize;
use serde_json::json;

use super::public_status::{Resolved, cacheable, host, resolve};
use crate::AppState;
use crate::clock::now_ms;
use crate::http::AppError;
use crate::http::status_pages::status_error;
use crate::status_page::incidents::{self, ListQuery, PublicIncident};
use crate::status_page::statuspage_json::{self as sp, Urls};
use crate::status_page::view::{self, PageView};
use crate::status_page::{Kind, badge, feeds};

/// Incidents listed by `incidents.json`, `scheduled-maintenances.json` and the feeds.
const RECENT: i64 = 50;

const JSON: &str = "application/json";

fn cors() -> (HeaderName, HeaderValue) {
    (
        header::ACCESS_CONTROL_ALLOW_ORIGIN,
        HeaderValue::from_static("*"),
    )
}

/// A loaded page with its URLs.
struct Loaded {
    view: PageView,
    urls: Urls,
    tenant_id: String,
}

/// Loads the Host's page, or the public answer for a host without one.
async fn load(
    state: &AppState,
    headers: &HeaderMap,
    uri: &Uri,
    missing: fn(&HeaderMap, StatusCode, &str) -> Response,
) -> Result<Result<Loaded, Response>, AppError> {
    let (site, page) = match resolve(state, headers, uri, false).await? {
        Resolved::Page(found) => *found,
        Resolved::Suspended(_) => {
            return Ok(Err(missing(
                headers,
                StatusCode::FORBIDDEN,
                "this organization's status page is suspended",
            )));
        }
        Resolved::NotFound(why) => return Ok(Err(missing(headers, StatusCode::NOT_FOUND, why))),
    };
    let view = view::load(&state.db, &site, &page, now_ms())
        .await
        .map_err(status_error)?;
    let base = state.settings.tenancy.public_base();
    let scheme = base
        .split("://")
        .next()
        .filter(|s| *s == "http")
        .unwrap_or("https");
    let origin = format!(
        "{scheme}://{}",
        host(headers, uri)
            .trim_end_matches('.')
            .to_ascii_lowercase()
    );
    let urls = Urls {
        page: if site.at_root {
            format!("{origin}/")
        } else {
            format!("{origin}/status/")
        },
        origin,
    };
    Ok(Ok(Loaded {
        view,
        urls,
        tenant_id: site.tenant_id,
    }))
}

fn json_missing(headers: &HeaderMap, status: StatusCode, message: &str) -> Response {
    let code = if status == StatusCode::FORBIDDEN {
        "tenant_suspended"
    } else {
        "not_found"
    };
    let body = json!({ "code": code, "message": message }).to_string();
    cacheable(headers, status, JSON, body, None, &[cors()])
}

fn json_answer(
    headers: &HeaderMap,
    loaded: &Loaded,
    value: &impl Serialize,
) -> Result<Response, AppError> {
    let body = serde_json::to_vec(value).map_err(AppError::internal)?;
    Ok(cacheable(
        headers,
        StatusCode::OK,
        JSON,
        body,
        Some(loaded.view.updated_at),
        &[cors()],
    ))
}

async fn recent(
    state: &AppState,
    loaded: &Loaded,
    kind: Option<Kind>,
) -> Result<Vec<PublicIncident>, AppError> {
    incidents::list(
        &state.db,
        &loaded.tenant_id,
        &loaded.view.page.id,
        ListQuery {
            kind,
            limit: RECENT,
            ..ListQuery::default()
        },
    )
    .await
    .map_err(status_error)
}

macro_rules! loaded_or_return {
    ($state:expr, $headers:expr, $uri:expr, $missing:expr) => {
        match load(&$state, &$headers, &$uri, $missing).await? {
            Ok(loaded) => loaded,
            Err(answer) => return Ok(answer),
        }
    };
}

/// Statuspage `summary.json`: page, components, unresolved incidents, open maintenance, status.
#[utoipa::path(get, path = "/api/v2/summary.json", tag = "public status",
    responses((status = 200, description = "Statuspage-compatible summary", content_type = "application/json"),
              (status = 404, body = crate::http::error::ErrorBody)))]
pub async fn summary(
    State(state): State<AppState>,
    headers: HeaderMap,
    uri: Uri,
) -> Result<Response, AppError> {
    let loaded = loaded_or_return!(state, headers, uri, json_missing);
    json_answer(&headers, &loaded, &sp::summary(&loaded.view, &loaded.urls))
}

/// Statuspage `status.json`: page and overall status.
#[utoipa::path(get, path = "/api/v2/status.json", tag = "public status",
    responses((status = 200, description = "Statuspage-compatible status", content_type = "application/json"),
              (status = 404, body = crate::http::error::ErrorBody)))]
pub async fn status(
    State(state): State<AppState>,
    headers: HeaderMap,
    uri: Uri,
) -> Result<Response, AppError> {
    let loaded = loaded_or_return!(state, headers, uri, json_missing);
    let body =
        json!({ "page": sp::page(&loaded.view, &loaded.urls), "status": sp::status(&loaded.view) });
    json_answer(&headers, &loaded, &body)
}

/// Statuspage `components.json`.
#[utoipa::path(get, path = "/api/v2/components.json", tag = "public status",
    responses((status = 200, description = "Statuspage-compatible components", content_type = "application/json"),
              (status = 404, body = crate::http::error::ErrorBody)))]
pub async fn components(
    State(state): State<AppState>,
    headers: HeaderMap,
    uri: Uri,
) -> Result<Response, AppError> {
    let loaded = loaded_or_return!(state, headers, uri, json_missing);
    let body = json!({ "page": sp::page(&loaded.view, &loaded.urls), "components": sp::components(&loaded.view) });
    json_answer(&headers, &loaded, &body)
}

/// Statuspage `incidents.json`: the 50 most recent incidents.
#[utoipa::path(get, path = "/api/v2/incidents.json", tag = "public status",
    responses((status = 200, description = "Statuspage-compatible incidents", content_type = "application/json"),
              (status = 404, body = crate::http::error::ErrorBody)))]
pub async fn incidents_json(
    State(state): State<AppState>,
    headers: HeaderMap,
    uri: Uri,
) -> Result<Response, AppError> {
    let loaded = loaded_or_return!(state, headers, uri, json_missing);
    let items = recent(&state, &loaded, Some(Kind::Incident)).await?;
    let list: Vec<_> = items
        .iter()
        .map(|i| sp::incident(&loaded.view, &loaded.urls, i))
        .collect();
    let body = json!({ "page": sp::page(&loaded.view, &loaded.urls), "incidents": list });
    json_answer(&headers, &loaded, &body)
}

/// Statuspage `incidents/unresolved.json`.
#[utoipa::path(get, path = "/api/v2/incidents/unresolved.json", tag = "public status",
    responses((status = 200, description = "Statuspage-compatible unresolved incidents", content_type = "application/json"),
              (status = 404, body = crate::http::error::ErrorBody)))]
pub async fn unresolved(
    State(state): State<AppState>,
    headers: HeaderMap,
    uri: Uri,
) -> Result<Response, AppError> {
    let loaded = loaded_or_return!(state, headers, uri, json_missing);
    let list: Vec<_> = loaded
        .view
        .incidents
        .iter()
        .map(|i| sp::incident(&loaded.view, &loaded.urls, i))
        .collect();
    let body = json!({ "page": sp::page(&loaded.view, &loaded.urls), "incidents": list });
    json_answer(&headers, &loaded, &body)
}

/// Statuspage `scheduled-maintenances.json`: the 50 most recent maintenances.
#[utoipa::path(get, path = "/api/v2/scheduled-maintenances.json", tag = "public status",
    responses((status = 200, description = "Statuspage-compatible scheduled maintenances", content_type = "application/json"),
              (status = 404, body = crate::http::error::ErrorBody)))]
pub async fn scheduled_maintenances(
    State(state): State<AppState>,
    headers: HeaderMap,
    uri: Uri,
) -> Result<Response, AppError> {
    let loaded = loaded_or_return!(state, headers, uri, json_missing);
    let items = recent(&state, &loaded, Some(Kind::Maintenance)).await?;
    let list: Vec<_> = items
        .iter()
        .map(|i| sp::incident(&loaded.view, &loaded.urls, i))
        .collect();
    let body =
        json!({ "page": sp::page(&loaded.view, &loaded.urls), "scheduled_maintenances": list });
    json_answer(&headers, &loaded, &body)
}

fn text_missing(headers: &HeaderMap, status: StatusCode, message: &str) -> Response {
    cacheable(
        headers,
        status,
        "text/plain; charset=utf-8",
        message.to_owned(),
        None,
        &[cors()],
    )
}

/// Atom feed of the 50 most recent incidents and maintenances.
#[utoipa::path(get, path = "/status/history.atom", tag = "public status",
    responses((status = 200, description = "Atom feed", content_type = "application/atom+xml"),
              (status = 404, description = "No status page at this Host")))]
pub async fn history_atom(
    State(state): State<AppState>,
    headers: HeaderMap,
    uri: Uri,
) -> Result<Response, AppError> {
    let loaded = loaded_or_return!(state, headers, uri, text_missing);
    let items = recent(&state, &loaded, None).await?;
    let body = feeds::atom(&loaded.view, &loaded.urls, &items);
    Ok(cacheable(
        &headers,
        StatusCode::OK,
        "application/atom+xml; charset=utf-8",
        body,
        Some(loaded.view.updated_at),
        &[cors()],
    ))
}

/// RSS 2.0 feed of the 50 most recent incidents and maintenances.
#[utoipa::path(get, path = "/status/history.rss", tag = "public status",
    responses((status = 200, description = "RSS 2.0 feed", content_type = "application/rss+xml"),
              (status = 404, description = "No status page at this Host")))]
pub async fn history_rss(
    State(state): State<AppState>,
    headers: HeaderMap,
    uri: Uri,
) -> Result<Response, AppError> {
    let loaded = loaded_or_return!(state, headers, uri, text_missing);
    let items = recent(&state, &loaded, None).await?;
    let body = feeds::rss(&loaded.view, &loaded.urls, &items);
    Ok(cacheable(
        &headers,
        StatusCode::OK,
        "application/rss+xml; charset=utf-8",
        body,
        Some(loaded.view.updated_at),
        &[cors()],
    ))
}

fn svg(headers: &HeaderMap, status: StatusCode, body: String) -> Response {
    cacheable(
        headers,
        status,
        "image/svg+xml",
        body,
        None,
        &[
            cors(),
            (
                header::CONTENT_SECURITY_POLICY,
                HeaderValue::from_static("default-src 'none'; style-src 'unsafe-inline'"),
            ),
        ],
    )
}

fn badge_missing(headers: &HeaderMap, status: StatusCode, _message: &str) -> Response {
    let message = if status == StatusCode::FORBIDDEN {
        "unavailable"
    } else {
        "unknown"
    };
    svg(
        headers,
        status,
        badge::render("status", message, badge::GREY),
    )
}

/// Badge of the page's overall state.
#[utoipa::path(get, path = "/status/badge.svg", tag = "public status",
    responses((status = 200, description = "SVG badge", content_type = "image/svg+xml"),
              (status = 404, description = "No status page at this Host (an \"unknown\" badge)", content_type = "image/svg+xml")))]
pub async fn page_badge(
    State(state): State<AppState>,
    headers: HeaderMap,
    uri: Uri,
) -> Result<Response, AppError> {
    let loaded = loaded_or_return!(state, headers, uri, badge_missing);
    let indicator = loaded.view.indicator;
    let body = badge::render(
        "status",
        &indicator.description().to_lowercase(),
        badge::indicator_color(indicator),
    );
    Ok(svg(&headers, StatusCode::OK, body))
}

/// Badge of one component: its state and 90-day uptime.
#[utoipa::path(get, path = "/status/components/{id}/badge.svg", tag = "public status",
    params(("id" = String, Path, description = "component id")),
    responses((status = 200, description = "SVG badge", content_type = "image/svg+xml"),
              (status = 404, description = "No such component on this Host's page (an \"unknown\" badge)", content_type = "image/svg+xml")))]
pub async fn component_badge(
    State(state): State<AppState>,
    headers: HeaderMap,
    uri: Uri,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    let loaded = loaded_or_return!(state, headers, uri, badge_missing);
    let Some(c) = loaded.view.components.iter().find(|c| c.component.id == id) else {
        return Ok(badge_missing(&headers, StatusCode::NOT_FOUND, ""));
    };
    let mut message = c.status.label().to_lowercase();
    if let Some(uptime) = c.uptime {
        let percent = format!("{uptime:.2}");
        message = format!("{message} · {percent}%");
    }
    let body = badge::render(&c.component.name, &message, badge::status_color(c.status));
    Ok(svg(&headers, StatusCode::OK, body))
}
