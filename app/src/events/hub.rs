//! One poller per app node: reads new events of every tenant from the
//! database and hands them to this node's open streams.
//!
//! The poller starts with the first stream and stops a while after the last
//! one closed, so a node nobody watches does not query at all. Each poll is
//! one query for all tenants; its rows go out as one [`Batch`] on a
//! broadcast channel, grouped by tenant. A batch names the range of
//! sequence numbers it covers, so a stream that sees a gap before a batch
//! (it started before the poller did, or fell behind and lost batches)
//! reads the missed range from the database and loses nothing.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use tokio::sync::broadcast;
use tokio::time::Instant;

use super::store::{self, StoredEvent};
use crate::clock::now_ms;
use crate::db::{Database, DbError};

/// Pause between polls.
const POLL_EVERY: Duration = Duration::from_millis(500);
/// Most rows one poll query reads (the next poll reads on at once).
const POLL_ROWS: i64 = 1000;
/// Batches a slow stream may fall behind before it reads from the database.
const CHANNEL_BATCHES: usize = 256;
/// How often watched tenants are renewed in `event_watchers`.
const RENEW_EVERY: Duration = Duration::from_secs(20);
/// How long a renewal keeps a tenant watched (a reconnecting stream within
/// this time still finds every `monitor.check` event it missed), ms.
pub const WATCH_MS: i64 = 60_000;
/// The poller stops after this long without streams.
const IDLE_STOP: Duration = Duration::from_secs(30);

/// Events of one poll: every event with `from < seq <= to`, by tenant.
#[derive(Debug, Default)]
pub struct Batch {
    /// Sequence number before the batch.
    pub from: i64,
    /// Last sequence number the batch covers.
    pub to: i64,
    /// The events, by tenant, oldest first.
    pub by_tenant: HashMap<String, Vec<StoredEvent>>,
}

#[derive(Debug)]
struct Inner {
    db: Database,
    sender: broadcast::Sender<Arc<Batch>>,
    /// Open streams per tenant on this node.
    streams: Mutex<HashMap<String, usize>>,
    running: AtomicBool,
}

impl Inner {
    fn watched(&self) -> Vec<String> {
        self.streams
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .keys()
            .cloned()
            .collect()
    }
}

/// The node's event fan-out; cheap to clone.
#[derive(Debug, Clone)]
pub struct Hub {
    inner: Arc<Inner>,
}

/// An open stream's place in the hub; dropping it closes the stream's share.
#[derive(Debug)]
pub struct Subscription {
    /// Batches as the poller reads them.
    pub receiver: broadcast::Receiver<Arc<Batch>>,
    tenant_id: String,
    inner: Arc<Inner>,
}

impl Drop for Subscription {
    fn drop(&mut self) {
        let mut streams = self
            .inner
            .streams
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if let Some(count) = streams.get_mut(&self.tenant_id) {
            *count = count.saturating_sub(1);
            if *count == 0 {
                streams.remove(&self.tenant_id);
            }
        }
    }
}

impl Hub {
    /// A hub over `db`; nothing runs until the first subscription.
    pub fn new(db: Database) -> Self {
        let (sender, _) = broadcast::channel(CHANNEL_BATCHES);
        Self {
            inner: Arc::new(Inner {
                db,
                sender,
                streams: Mutex::new(HashMap::new()),
                running: AtomicBool::new(false),
            }),
        }
    }

    /// Subscribes a stream of `tenant_id`, marks the tenant as watched and
    /// starts the poller if it is not running. Needs a Tokio runtime.
    pub async fn subscribe(&self, tenant_id: &str) -> Result<Subscription, DbError> {
        let receiver = self.inner.sender.subscribe();
        let first = {
            let mut streams = self
                .inner
                .streams
                .lock()
                .unwrap_or_else(PoisonError::into_inner);
            let count = streams.entry(tenant_id.to_owned()).or_default();
            *count += 1;
            *count == 1
        };
        if first {
            // Probers start writing this tenant's check events within their cache time.
            let watched = [tenant_id.to_owned()];
            if let Err(err) =
                store::renew_watchers(&self.inner.db, &watched, now_ms() + WATCH_MS).await
            {
                tracing::warn!(error = %err, "marking a tenant as watched failed");
            }
        }
        let subscription = Subscription {
            receiver,
            tenant_id: tenant_id.to_owned(),
            inner: self.inner.clone(),
        };
        if !self.inner.running.swap(true, Ordering::AcqRel) {
            // Read here, before the caller reads its own starting point, so
            // the poller never starts past a stream's position.
            match store::last_seq(&self.inner.db).await {
                Ok(start) => {
                    tokio::spawn(poll(self.inner.clone(), start));
                }
                Err(err) => {
                    self.inner.running.store(false, Ordering::Release);
                    return Err(err);
                }
            }
        }
        Ok(subscription)
    }
}

/// Polls from sequence number `last` on, until no stream has been open for [`IDLE_STOP`].
async fn poll(inner: Arc<Inner>, mut last: i64) {
    let mut renewed = Instant::now();
    let mut idle_since: Option<Instant> = None;
    loop {
        tokio::time::sleep(POLL_EVERY).await;
        let watched = inner.watched();
        if watched.is_empty() {
            let since = *idle_since.get_or_insert_with(Instant::now);
            if since.elapsed() >= IDLE_STOP {
                inner.running.store(false, Ordering::Release);
                // A stream that came in meanwhile saw `running` still set and
                // started nothing; then this poller goes on.
                if inner.watched().is_empty() || inner.running.swap(true, Ordering::AcqRel) {
                    return;
                }
            }
            continue;
        }
        idle_since = None;
        if renewed.elapsed() >= RENEW_EVERY {
            renewed = Instant::now();
            if let Err(err) = store::renew_watchers(&inner.db, &watched, now_ms() + WATCH_MS).await
            {
                tracing::warn!(error = %err, "renewing watched tenants failed");
            }
        }
        loop {
            let rows = match store::all_after(&inner.db, last, POLL_ROWS).await {
                Ok(rows) => rows,
                Err(err) => {
                    tracing::warn!(error = %err, "polling events failed");
                    break;
                }
            };
            let Some(to) = rows.last().map(|e| e.seq) else {
                break;
            };
            let full = i64::try_from(rows.len()).unwrap_or(i64::MAX) >= POLL_ROWS;
            let mut batch = Batch {
                from: last,
                to,
                by_tenant: HashMap::new(),
            };
            for event in rows {
                batch
                    .by_tenant
                    .entry(event.tenant_id.clone())
                    .or_default()
                    .push(event);
            }
            last = to;
            // No receivers is fine: the streams closed since the last poll.
            let _ = inner.sender.send(Arc::new(batch));
            if !full {
                break;
            }
        }
    }
}
