//! The links of subscriber mails on the page's host: the confirmation link
//! (`/status/subscribe/confirm`) and the unsubscribe link
//! (`/status/unsubscribe`, whose POST is RFC 8058's one-click unsubscribe).
//! Their GETs only show a button; the POSTs act. Answers are HTML,
//! `no-store` and without Referer.

use std::time::Duration;

use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::Response;

use super::client_ip::ClientIp;
use super::status_subscribers::{
    Form, LINKS_PER_IP, failed, html, limited, page_for, subscriber_error,
};
use crate::AppState;
use crate::clock::now_ms;
use crate::http::AppError;
use crate::status_page::subscriber_pages as pages;
use crate::status_page::subscribers::{store, tokens};

/// The `token` of a link's query.
fn token(query: Option<&str>) -> Result<String, AppError> {
    url::form_urlencoded::parse(query.unwrap_or_default().as_bytes())
        .find(|(name, _)| name == "token")
        .map(|(_, value)| value.into_owned())
        .filter(|t| !t.is_empty())
        .ok_or_else(|| AppError::BadRequest {
            status: StatusCode::BAD_REQUEST,
            code: "invalid_token",
            message: "this link is incomplete; copy the whole link from the mail".to_owned(),
        })
}

/// Which link route is answering.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Link {
    ConfirmPage,
    Confirm,
    UnsubscribePage,
    Unsubscribe,
}

async fn link(
    state: &AppState,
    ip: std::net::IpAddr,
    headers: &HeaderMap,
    uri: &Uri,
    query: Option<&str>,
    which: Link,
) -> Response {
    let result = async {
        if which != Link::Unsubscribe {
            state
                .limiter
                .hit(
                    "status_subscriber_link",
                    &crate::http::auth::ip_key(ip),
                    LINKS_PER_IP,
                    Duration::from_secs(60),
                )
                .map_err(limited)?;
        }
        // Leaving works even while the organization is suspended.
        let suspended_ok = matches!(which, Link::UnsubscribePage | Link::Unsubscribe);
        let (site, page, _) = page_for(state, headers, uri, suspended_ok).await?;
        let token = token(query)?;
        let now = now_ms();
        let (db, keys, tenant, page_id) = (&state.db, &state.keys, &site.tenant_id, &page.id);
        let body = match which {
            Link::ConfirmPage => {
                // Check the link now, but confirm only on the button's POST:
                // mail scanners open links, people press buttons.
                tokens::verify(keys, &token, tokens::CONFIRM).map_err(subscriber_error)?;
                pages::confirm_form(&page.title, &token)
            }
            Link::Confirm => {
                let room = store::Room(
                    crate::billing::limits::subscribers_per_page(
                        &state.db,
                        &state.billing.plans,
                        tenant,
                    )
                    .await?,
                );
                let slot = store::PageSlot {
                    tenant_id: tenant,
                    page_id,
                    room,
                };
                store::confirm(db, keys, slot, &token, now)
                    .await
                    .map_err(subscriber_error)?;
                pages::confirmed(&page.title)
            }
            Link::UnsubscribePage => {
                tokens::verify(keys, &token, tokens::UNSUBSCRIBE).map_err(subscriber_error)?;
                pages::unsubscribe_form(&page.title, &token)
            }
            Link::Unsubscribe => {
                store::unsubscribe(db, keys, tenant, page_id, &token, now)
                    .await
                    .map_err(subscriber_error)?;
                pages::unsubscribed(&page.title)
            }
        };
        Ok::<String, AppError>(body)
    }
    .await;
    match result {
        Ok(body) => html(StatusCode::OK, body),
        Err(err) => failed(Form::Html, err),
    }
}

/// The confirmation link: a page with the button that confirms.
#[utoipa::path(get, path = "/status/subscribe/confirm", tag = "public status",
    params(("token" = String, Query, description = "the signed token of the mailed link")),
    responses((status = 200, description = "A page with the confirm button (HTML)", content_type = "text/html"),
              (status = 400, description = "Missing, malformed, tampered or expired token (HTML)", content_type = "text/html"),
              (status = 403, description = "The organization is suspended (HTML)", content_type = "text/html"),
              (status = 404, description = "No status page at this Host (HTML)", content_type = "text/html"),
              (status = 429, description = "Too many requests; see `Retry-After` (HTML)", content_type = "text/html")))]
pub async fn confirm_page(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    uri: Uri,
    RawQuery(query): RawQuery,
) -> Response {
    link(
        &state,
        ip,
        &headers,
        &uri,
        query.as_deref(),
        Link::ConfirmPage,
    )
    .await
}

/// Confirms the subscription of the link (again: nothing changes).
#[utoipa::path(post, path = "/status/subscribe/confirm", tag = "public status",
    params(("token" = String, Query, description = "the signed token of the mailed link")),
    responses((status = 200, description = "Subscribed (HTML)", content_type = "text/html"),
              (status = 400, description = "Missing, malformed, tampered or expired token, or a link of an earlier subscription (HTML)", content_type = "text/html"),
              (status = 402, description = "The page has as many subscribers as the organization's plan allows (HTML)", content_type = "text/html"),
              (status = 403, description = "The organization is suspended (HTML)", content_type = "text/html"),
              (status = 404, description = "No status page at this Host (HTML)", content_type = "text/html"),
              (status = 429, description = "Too many requests; see `Retry-After` (HTML)", content_type = "text/html")))]
pub async fn confirm(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    uri: Uri,
    RawQuery(query): RawQuery,
) -> Response {
    link(&state, ip, &headers, &uri, query.as_deref(), Link::Confirm).await
}

/// The unsubscribe link of a mail: a page with the button that unsubscribes.
#[utoipa::path(get, path = "/status/unsubscribe", tag = "public status",
    params(("token" = String, Query, description = "the signed token of the mailed link")),
    responses((status = 200, description = "A page with the unsubscribe button (HTML)", content_type = "text/html"),
              (status = 400, description = "Missing, malformed, tampered or expired token (HTML)", content_type = "text/html"),
              (status = 404, description = "No status page at this Host (HTML)", content_type = "text/html"),
              (status = 429, description = "Too many requests; see `Retry-After` (HTML)", content_type = "text/html")))]
pub async fn unsubscribe_page(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    uri: Uri,
    RawQuery(query): RawQuery,
) -> Response {
    link(
        &state,
        ip,
        &headers,
        &uri,
        query.as_deref(),
        Link::UnsubscribePage,
    )
    .await
}

/// Unsubscribes (RFC 8058 one-click: mail programs POST
/// `List-Unsubscribe=One-Click` here without cookies; the page's button
/// posts the same). Already unsubscribed or removed: 200 all the same.
/// Not rate-limited: mailbox providers send these for many people at once.
#[utoipa::path(post, path = "/status/unsubscribe", tag = "public status",
    params(("token" = String, Query, description = "the signed token of the mailed link")),
    responses((status = 200, description = "Unsubscribed (HTML)", content_type = "text/html"),
              (status = 400, description = "Missing, malformed, tampered or expired token (HTML)", content_type = "text/html"),
              (status = 404, description = "No status page at this Host (HTML)", content_type = "text/html")))]
pub async fn unsubscribe(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    uri: Uri,
    RawQuery(query): RawQuery,
) -> Response {
    link(
        &state,
        ip,
        &headers,
        &uri,
        query.as_deref(),
        Link::Unsubscribe,
    )
    .await
}
