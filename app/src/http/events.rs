//! `GET /api/events`: the organisation's live events as server-sent events.
//!
//! The stream starts with `retry: 3000`, sends a `: keep-alive` comment every
//! 15 s, and gives every event its sequence number as `id:`. A request with
//! `Last-Event-ID` first gets the retained events after that id, read from
//! the database, then live ones from the node's [`Hub`]. The caller's
//! credentials are checked again every minute; the stream ends when they no
//! longer allow it (expired access token, session signed out, membership
//! ended), and the client reconnects with fresh credentials.
//!
//! [`Hub`]: crate::events::hub::Hub

use std::collections::VecDeque;
use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::State;
use axum::http::{HeaderMap, Method, Request, StatusCode};
use axum::response::sse::{Event, KeepAlive, Sse};
use futures_util::Stream;
use tokio::sync::broadcast::error::RecvError;
use tokio::time::Instant;

use crate::AppState;
use crate::events::hub::{Batch, Subscription};
use crate::events::store::{self, StoredEvent};
use crate::http::AppError;
use crate::http::principal::{TenantCaller, resolve};

/// The client's reconnection delay, sent first.
const RETRY: Duration = Duration::from_millis(3000);
/// Interval of the `: keep-alive` comment.
const KEEP_ALIVE: Duration = Duration::from_secs(15);
/// How often the caller's credentials are checked again.
const RECHECK: Duration = Duration::from_secs(60);
/// Events read from the database per query when catching up.
const PAGE: i64 = 500;

/// Streams the organisation's events.
#[utoipa::path(get, path = "/api/events", tag = "events",
    params(("Last-Event-ID" = Option<String>, Header,
        description = "Resume after this event id (the `id:` of the last event received); the retained events after it come first")),
    responses(
        (status = 200, content_type = "text/event-stream", body = crate::events::LiveEvent,
         description = "Server-sent events. First `retry: 3000`, then one message per event: \
            `id:` (resume position), `event:` (`monitor.state`, `monitor.check`, `incident.opened` \
            or `incident.resolved`) and `data:` (one line of JSON, the schema of that event's \
            variant); a `: keep-alive` comment every 15 s. `monitor.check` events are written \
            while someone watches the organisation's stream. Events are retained for an hour."),
        (status = 400, body = crate::http::error::ErrorBody, description = "Last-Event-ID is not an event id"),
        (status = 401, body = crate::http::error::ErrorBody),
        (status = 403, body = crate::http::error::ErrorBody)))]
pub async fn stream(
    State(state): State<AppState>,
    caller: TenantCaller,
    headers: HeaderMap,
) -> Result<Sse<impl Stream<Item = Result<Event, Infallible>>>, AppError> {
    let tenant_id = caller.tenant_id;
    let resume = last_event_id(&headers)?;
    let subscription = state.events.subscribe(&tenant_id).await?;
    let now = store::last_seq(&state.db).await?;
    let (cursor, catch_up_to) = match resume {
        // An id from before a database reset or from elsewhere cannot be ahead.
        Some(id) if id < now => (id, Some(now)),
        _ => (now, None),
    };
    let feed = Feed {
        state,
        tenant_id,
        headers,
        subscription,
        cursor,
        catch_up_to,
        pending: None,
        queue: VecDeque::new(),
        started: false,
        recheck_at: Instant::now() + RECHECK,
    };
    let events = futures_util::stream::unfold(feed, |mut feed| async move {
        let event = feed.next().await?;
        Some((Ok(event), feed))
    });
    Ok(Sse::new(events).keep_alive(KeepAlive::new().interval(KEEP_ALIVE).text("keep-alive")))
}

/// The `Last-Event-ID` header as a sequence number.
fn last_event_id(headers: &HeaderMap) -> Result<Option<i64>, AppError> {
    let Some(value) = headers.get("last-event-id") else {
        return Ok(None);
    };
    let text = value.to_str().unwrap_or_default().trim();
    if text.is_empty() {
        return Ok(None);
    }
    match text.parse::<i64>() {
        Ok(id) if id >= 0 => Ok(Some(id)),
        _ => Err(AppError::BadRequest {
            status: StatusCode::BAD_REQUEST,
            code: "invalid_last_event_id",
            message: "Last-Event-ID must be the id of an event this stream sent".to_owned(),
        }),
    }
}

/// One open stream's state.
struct Feed {
    state: AppState,
    tenant_id: String,
    /// The request's headers, to check the credentials again.
    headers: HeaderMap,
    subscription: Subscription,
    /// Every event of this tenant with a sequence number up to here is queued or sent.
    cursor: i64,
    /// Read the database up to this sequence number before going on.
    catch_up_to: Option<i64>,
    /// A batch waiting for the catch-up before it.
    pending: Option<Arc<Batch>>,
    queue: VecDeque<StoredEvent>,
    started: bool,
    recheck_at: Instant,
}

impl Feed {
    /// The next message; `None` ends the stream.
    async fn next(&mut self) -> Option<Event> {
        if !self.started {
            self.started = true;
            return Some(Event::default().retry(RETRY));
        }
        loop {
            if let Some(event) = self.queue.pop_front() {
                return Some(
                    Event::default()
                        .id(event.seq.to_string())
                        .event(event.kind)
                        .data(event.data),
                );
            }
            if let Some(upto) = self.catch_up_to {
                let page =
                    store::tenant_between(&self.state.db, &self.tenant_id, self.cursor, upto, PAGE)
                        .await;
                let Ok(page) = page.inspect_err(|err| {
                    tracing::warn!(error = %err, "reading missed events failed; ending the stream");
                }) else {
                    // The client reconnects with its last id and loses nothing.
                    return None;
                };
                match page.last() {
                    Some(last) if i64::try_from(page.len()).unwrap_or(0) >= PAGE => {
                        self.cursor = last.seq;
                    }
                    _ => {
                        self.cursor = upto;
                        self.catch_up_to = None;
                    }
                }
                self.queue.extend(page);
                continue;
            }
            if let Some(batch) = self.pending.take() {
                if let Some(events) = batch.by_tenant.get(&self.tenant_id) {
                    let cursor = self.cursor;
                    self.queue
                        .extend(events.iter().filter(|e| e.seq > cursor).cloned());
                }
                self.cursor = self.cursor.max(batch.to);
                continue;
            }
            tokio::select! {
                received = self.subscription.receiver.recv() => match received {
                    Ok(batch) if batch.to <= self.cursor => {}
                    Ok(batch) => {
                        if batch.from > self.cursor {
                            self.catch_up_to = Some(batch.from);
                        }
                        self.pending = Some(batch);
                    }
                    // The batch after the lost ones starts past the cursor: caught up from the database.
                    Err(RecvError::Lagged(_)) => {}
                    Err(RecvError::Closed) => return None,
                },
                () = tokio::time::sleep_until(self.recheck_at) => {
                    if !self.still_allowed().await {
                        return None;
                    }
                    self.recheck_at = Instant::now() + RECHECK;
                }
            }
        }
    }

    /// Whether the request's credentials still allow reading this tenant's events.
    async fn still_allowed(&self) -> bool {
        let (mut parts, ()) = Request::new(()).into_parts();
        parts.method = Method::GET;
        parts.headers = self.headers.clone();
        match resolve(&self.state, &parts).await {
            Ok(Some(p)) => {
                p.tenant_id.as_deref() == Some(self.tenant_id.as_str())
                    && p.role.is_some()
                    && !p.tenant_suspended
            }
            _ => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn last_event_id_is_a_sequence_number_or_nothing() {
        let mut headers = HeaderMap::new();
        assert_eq!(last_event_id(&headers).unwrap(), None);
        headers.insert("last-event-id", "42".parse().unwrap());
        assert_eq!(last_event_id(&headers).unwrap(), Some(42));
        headers.insert("last-event-id", "".parse().unwrap());
        assert_eq!(last_event_id(&headers).unwrap(), None);
        for bad in ["abc", "-1", "1.5", "99999999999999999999"] {
            headers.insert("last-event-id", bad.parse().unwrap());
            let err = last_event_id(&headers).unwrap_err();
            assert!(err.to_string().contains("Last-Event-ID"), "{bad}: {err}");
        }
    }
}
