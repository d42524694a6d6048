//! The public status page (`/status/`, `/status/incidents/{id}`, and `/` of a
//! custom domain assigned to a page), server-rendered HTML.
//!
//! The Host names the page. Every answer here is public and marked for
//! shared caches ([`CACHE_CONTROL`]): a state change shows within 10 s, and
//! the edge may serve the last good copy for a day while the app or the
//! database is down. Nothing here sets a cookie.

use axum::body::Body;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use sha2::{Digest, Sha256};

use crate::AppState;
use crate::clock::now_ms;
use crate::http::AppError;
use crate::http::status_pages::status_error;
use crate::status_page::dates::http_date;
use crate::status_page::html::{self, CSP, HISTORY_PAGE};
use crate::status_page::incidents::{self, ListQuery};
use crate::status_page::pages::StatusPage;
use crate::status_page::view::{self, PageView, Site};

/// `Cache-Control` of every public status answer: shared caches keep it
/// fresh 5 s and may answer from it 5 s more while they revalidate in the
/// background, so nothing they serve is older than 10 s however sparse the
/// visitors (the promise of a state change shown within 10 s); they may
/// serve it for a day when the app fails; browsers always revalidate.
pub const CACHE_CONTROL: &str =
    "public, max-age=0, s-maxage=5, stale-while-revalidate=5, stale-if-error=86400";

/// Marks every answer that chose no caching of its own `no-store`, so a
/// shared cache never keeps an API answer (only the public status answers
/// here opt in, with [`CACHE_CONTROL`]).
pub async fn uncacheable_by_default(mut response: Response) -> Response {
    response
        .headers_mut()
        .entry(header::CACHE_CONTROL)
        .or_insert(HeaderValue::from_static("no-store"));
    response
}

/// The Host of a request (HTTP/1.1 header, or the HTTP/2 authority).
pub(crate) fn host(headers: &HeaderMap, uri: &Uri) -> String {
    headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .map(str::to_owned)
        .or_else(|| uri.authority().map(|a| a.as_str().to_owned()))
        .unwrap_or_default()
}

/// What a request's Host leads to.
pub(crate) enum Resolved {
    /// A page to show.
    Page(Box<(Site, StatusPage)>),
    /// The organization is suspended (its name).
    Suspended(String),
    /// Nothing here (why, for people).
    NotFound(&'static str),
}

/// Resolves the Host; `root` asks for `/`, which only a custom domain assigned to a page serves.
pub(crate) async fn resolve(
    state: &AppState,
    headers: &HeaderMap,
    uri: &Uri,
    root: bool,
) -> Result<Resolved, AppError> {
    let Some(site) = view::site_for_host(&state.db, &host(headers, uri))
        .await
        .map_err(status_error)?
    else {
        return Ok(Resolved::NotFound(
            "There is no status page at this address.",
        ));
    };
    if root && !site.at_root {
        return Ok(Resolved::NotFound(
            "There is no status page at this address.",
        ));
    }
    if site.suspended {
        return Ok(Resolved::Suspended(site.tenant_name));
    }
    match site.page.clone() {
        Some(page) => Ok(Resolved::Page(Box::new((site, page)))),
        None => Ok(Resolved::NotFound(
            "This organization has not published a status page yet.",
        )),
    }
}

/// A public, cacheable answer with an `ETag` (and `Last-Modified` when
/// given); a matching `If-None-Match` gets 304.
pub(crate) fn cacheable(
    request: &HeaderMap,
    status: StatusCode,
    content_type: &'static str,
    body: impl Into<Vec<u8>>,
    last_modified: Option<i64>,
    extra: &[(HeaderName, HeaderValue)],
) -> Response {
    let body = body.into();
    let digest = Sha256::digest(&body);
    let etag = format!(
        "\"{}\"",
        digest
            .iter()
            .take(12)
            .map(|b| format!("{b:02x}"))
            .collect::<String>()
    );
    let matches = request
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|tags| {
            tags.split(',')
                .any(|t| t.trim().trim_start_matches("W/") == etag || t.trim() == "*")
        });
    let (status, body) = if matches && status == StatusCode::OK {
        (StatusCode::NOT_MODIFIED, Vec::new())
    } else {
        (status, body)
    };
    let mut response = Response::new(Body::from(body));
    *response.status_mut() = status;
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static(CACHE_CONTROL),
    );
    if let Ok(value) = HeaderValue::from_str(&etag) {
        headers.insert(header::ETAG, value);
    }
    if let Some(at) = last_modified
        && let Ok(value) = HeaderValue::from_str(&http_date(at))
    {
        headers.insert(header::LAST_MODIFIED, value);
    }
    for (name, value) in extra {
        headers.insert(name.clone(), value.clone());
    }
    response
}

fn html_answer(request: &HeaderMap, status: StatusCode, body: String) -> Response {
    let csp = HeaderValue::from_str(&CSP)
        .unwrap_or_else(|_| HeaderValue::from_static("default-src 'none'"));
    cacheable(
        request,
        status,
        "text/html; charset=utf-8",
        body,
        None,
        &[(header::CONTENT_SECURITY_POLICY, csp)],
    )
}

/// Answers for hosts and organizations that have no page to show.
fn no_page(request: &HeaderMap, resolved: Resolved) -> Response {
    match resolved {
        Resolved::Suspended(name) => {
            html_answer(request, StatusCode::FORBIDDEN, html::suspended(&name))
        }
        Resolved::NotFound(why) => {
            html_answer(request, StatusCode::NOT_FOUND, html::not_found(why))
        }
        Resolved::Page(..) => StatusCode::INTERNAL_SERVER_ERROR.into_response(),
    }
}

/// The history page asked for by `?page=N` (1 when absent or not a sensible number).
fn history_page(query: Option<&str>) -> i64 {
    query
        .unwrap_or_default()
        .split('&')
        .find_map(|pair| pair.strip_prefix("page="))
        .and_then(|n| n.parse::<i64>().ok())
        .filter(|n| (1..=10_000).contains(n))
        .unwrap_or(1)
}

async fn render_page(
    state: &AppState,
    request: &HeaderMap,
    uri: &Uri,
    query: Option<&str>,
    root: bool,
) -> Result<Response, AppError> {
    let (site, page) = match resolve(state, request, uri, root).await? {
        Resolved::Page(found) => *found,
        other => return Ok(no_page(request, other)),
    };
    let view = view::load(&state.db, &site, &page, now_ms())
        .await
        .map_err(status_error)?;
    let number = history_page(query);
    let mut history = incidents::list(
        &state.db,
        &site.tenant_id,
        &page.id,
        ListQuery {
            limit: HISTORY_PAGE + 1,
            offset: (number - 1) * HISTORY_PAGE,
            ..ListQuery::default()
        },
    )
    .await
    .map_err(status_error)?;
    let more = history.len() as i64 > HISTORY_PAGE;
    history.truncate(usize::try_from(HISTORY_PAGE).unwrap_or(10));
    Ok(html_answer(
        request,
        StatusCode::OK,
        html::page(&view, &history, number, more),
    ))
}

/// The status page of the Host's organization.
#[utoipa::path(get, path = "/status/", tag = "public status",
    params(("page" = Option<i64>, Query, description = "page of the incident history, from 1")),
    responses((status = 200, description = "The status page (HTML)", content_type = "text/html"),
              (status = 403, description = "The organization is suspended (HTML)", content_type = "text/html"),
              (status = 404, description = "No status page at this Host (HTML)", content_type = "text/html")))]
pub async fn status_page(
    State(state): State<AppState>,
    headers: HeaderMap,
    uri: Uri,
    RawQuery(query): RawQuery,
) -> Result<Response, AppError> {
    render_page(&state, &headers, &uri, query.as_deref(), false).await
}

/// The status page at `/` of a custom domain assigned to it.
#[utoipa::path(get, path = "/", tag = "public status",
    params(("page" = Option<i64>, Query, description = "page of the incident history, from 1")),
    responses((status = 200, description = "The status page (HTML)", content_type = "text/html"),
              (status = 404, description = "This Host is not a status-page domain (HTML)", content_type = "text/html")))]
pub async fn root(
    State(state): State<AppState>,
    headers: HeaderMap,
    uri: Uri,
    RawQuery(query): RawQuery,
) -> Result<Response, AppError> {
    render_page(&state, &headers, &uri, query.as_deref(), true).await
}

/// `/status` without the slash: a permanent redirect to `/status/`.
#[utoipa::path(get, path = "/status", tag = "public status",
    responses((status = 308, description = "Redirect to /status/")))]
pub async fn status_redirect() -> Response {
    (
        StatusCode::PERMANENT_REDIRECT,
        [
            (header::LOCATION, "/status/"),
            (header::CACHE_CONTROL, CACHE_CONTROL),
        ],
    )
        .into_response()
}

/// One incident or maintenance of the Host's page, with every update.
#[utoipa::path(get, path = "/status/incidents/{id}", tag = "public status",
    params(("id" = String, Path, description = "incident id")),
    responses((status = 200, description = "The incident (HTML)", content_type = "text/html"),
              (status = 404, description = "No such incident on this Host's page (HTML)", content_type = "text/html")))]
pub async fn incident_page(
    State(state): State<AppState>,
    headers: HeaderMap,
    uri: Uri,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    let (site, page) = match resolve(&state, &headers, &uri, false).await? {
        Resolved::Page(found) => *found,
        other => return Ok(no_page(&headers, other)),
    };
    let incident = match incidents::get(&state.db, &site.tenant_id, &page.id, &id).await {
        Ok(incident) => incident,
        Err(crate::status_page::StatusPageError::NotFound) => {
            return Ok(no_page(
                &headers,
                Resolved::NotFound("There is no such incident on this status page."),
            ));
        }
        Err(err) => return Err(status_error(err)),
    };
    let view: PageView = view::load(&state.db, &site, &page, now_ms())
        .await
        .map_err(status_error)?;
    Ok(html_answer(
        &headers,
        StatusCode::OK,
        html::incident(&view, &incident),
    ))
}
