//! The batched writer: finished checks are written together, one transaction
//! per batch — monitor rows (state, next check, lease cleared), state changes
//! with their incidents and alerts, the raw results as multi-row inserts, and
//! the live events these make (last, see [`crate::events::store`]).
//!
//! `monitor.check` events are written only for tenants someone watches; the
//! set is read once per [`WATCHED_REFRESH`], not per batch, so a batch of
//! tenants nobody watches costs nothing extra.

use std::collections::HashSet;
use std::time::Duration;

use tokio::sync::mpsc;
use tokio::time::Instant;

use super::incidents::record_change;
use super::metrics::ProberMetrics;
use super::probe::ProbeResult;
use super::state::{Change, State, Step};
use super::store::MonitorRow;
use crate::clock::now_ms;
use crate::db::Database;
use crate::events::{LiveEvent, MonitorCheckData, MonitorStateData, NewEvent};

/// Most results in one transaction.
const BATCH_MAX: usize = 1000;
/// Longest a result waits for companions, ms.
const FLUSH_MS: u64 = 100;
/// Rows per multi-row insert (8 parameters each).
const INSERT_ROWS: usize = 200;
/// How long the set of watched tenants is reused before it is read again.
const WATCHED_REFRESH: Duration = Duration::from_secs(2);

/// A finished check.
#[derive(Debug)]
pub(crate) struct Done {
    /// The monitor as claimed.
    pub row: MonitorRow,
    /// State before the check.
    pub before: State,
    /// What the check did to the state.
    pub step: Step,
    /// What the check found.
    pub result: ProbeResult,
    /// Start of the check, ms.
    pub checked_at: i64,
    /// When the monitor is due again, ms.
    pub next_check_at: i64,
    /// Regions that saw the current run of failures (`None` after a success).
    pub failing_regions: Option<String>,
    /// This prober's region.
    pub region: String,
}

/// Writes finished checks in batches.
#[derive(Debug)]
pub(crate) struct Writer {
    db: Database,
    owner: String,
    metrics: ProberMetrics,
    flap_threshold: u64,
    /// Tenants with an open event stream, and when that was read.
    watched: HashSet<String>,
    watched_at: Option<Instant>,
}

impl Writer {
    pub(crate) fn new(
        db: Database,
        owner: String,
        metrics: ProberMetrics,
        flap_threshold: u64,
    ) -> Self {
        Self {
            db,
            owner,
            metrics,
            flap_threshold,
            watched: HashSet::new(),
            watched_at: None,
        }
    }

    /// Writes until every sender is gone.
    pub(crate) async fn run(mut self, mut receiver: mpsc::Receiver<Done>) {
        while let Some(first) = receiver.recv().await {
            let mut batch = vec![first];
            let deadline = tokio::time::Instant::now() + Duration::from_millis(FLUSH_MS);
            while batch.len() < BATCH_MAX {
                match tokio::time::timeout_at(deadline, receiver.recv()).await {
                    Ok(Some(done)) => batch.push(done),
                    _ => break,
                }
            }
            let count = batch.len();
            if let Err(err) = self.write(batch).await {
                // The leases stay; after the grace period these monitors are checked again.
                tracing::error!(error = %err, results = count, "writing check results failed");
            }
        }
    }

    /// Reads the watched tenants again when the copy is stale; on failure the old copy stays.
    async fn refresh_watched(&mut self) {
        if self
            .watched_at
            .is_some_and(|at| at.elapsed() < WATCHED_REFRESH)
        {
            return;
        }
        self.watched_at = Some(Instant::now());
        match crate::events::store::watched(&self.db, now_ms()).await {
            Ok(watched) => self.watched = watched,
            Err(err) => tracing::warn!(error = %err, "reading watched tenants failed"),
        }
    }

    async fn write(&mut self, batch: Vec<Done>) -> Result<(), sqlx::Error> {
        self.refresh_watched().await;
        let mut tx = self.db.begin_write().await?;
        let mut kept = Vec::with_capacity(batch.len());
        let mut events = Vec::new();
        for done in batch {
            let changed = done.step.changed_from(done.before);
            let monitor = &done.row.monitor;
            let updated = sqlx::query(
                "UPDATE monitors SET state = $1, consecutive_failures = $2, next_check_at = $3, \
                 last_checked_at = $4, last_error = $5, last_latency_ms = $6, \
                 state_changed_at = CASE WHEN $7 = 1 THEN $4 ELSE state_changed_at END, \
                 failing_regions = $10, lease_owner = NULL, lease_expires_at = NULL \
                 WHERE id = $8 AND lease_owner = $9 AND paused = 0 AND paused_reason IS NULL",
            )
            .bind(done.step.state.as_str())
            .bind(done.step.failures)
            .bind(done.next_check_at)
            .bind(done.checked_at)
            .bind(&done.result.error)
            .bind(done.result.latency_ms)
            .bind(i64::from(changed))
            .bind(&monitor.id)
            .bind(&self.owner)
            .bind(&done.failing_regions)
            .execute(&mut *tx)
            .await?;
            // Lost the lease (paused, deleted, or taken over after a stall): drop the result.
            if updated.rows_affected() == 0 {
                continue;
            }
            if self.watched.contains(&done.row.tenant_id) {
                events.push(NewEvent::new(
                    &done.row.tenant_id,
                    &LiveEvent::MonitorCheck(MonitorCheckData {
                        monitor_id: monitor.id.clone(),
                        ok: done.result.outcome != super::probe::Outcome::Down,
                        state: done.step.state.as_str().to_owned(),
                        latency_ms: done.result.latency_ms,
                        status_code: done.result.status_code,
                        error: done.result.error.clone(),
                        at: done.checked_at,
                    }),
                ));
            }
            if changed {
                events.push(NewEvent::new(
                    &done.row.tenant_id,
                    &LiveEvent::MonitorState(MonitorStateData {
                        monitor_id: monitor.id.clone(),
                        state: done.step.state.as_str().to_owned(),
                        previous: Some(done.before.as_str().to_owned()),
                        at: done.checked_at,
                    }),
                ));
                let change = Change {
                    tenant_id: &done.row.tenant_id,
                    monitor_id: &monitor.id,
                    monitor_name: &monitor.name,
                    kind: &monitor.kind,
                    target: if done.row.target.is_empty() {
                        "heartbeat"
                    } else {
                        &done.row.target
                    },
                    before: done.before,
                    after: done.step.state,
                    reason: done.result.error.as_deref(),
                    at: done.checked_at,
                    flap_threshold: self.flap_threshold,
                };
                events.extend(record_change(&mut tx, &change).await?);
            }
            kept.push(done);
        }
        for chunk in kept.chunks(INSERT_ROWS) {
            let mut sql = String::from(
                "INSERT INTO check_results (tenant_id, monitor_id, checked_at, ok, latency_ms, status_code, error, region) VALUES ",
            );
            for i in 0..chunk.len() {
                let b = i * 8;
                if i > 0 {
                    sql.push_str(", ");
                }
                sql.push_str(&format!(
                    "(${}, ${}, ${}, ${}, ${}, ${}, ${}, ${})",
                    b + 1,
                    b + 2,
                    b + 3,
                    b + 4,
                    b + 5,
                    b + 6,
                    b + 7,
                    b + 8
                ));
            }
            let mut query = sqlx::query(&sql);
            for done in chunk {
                let ok = done.result.outcome != super::probe::Outcome::Down;
                query = query
                    .bind(&done.row.tenant_id)
                    .bind(&done.row.monitor.id)
                    .bind(done.checked_at)
                    .bind(i64::from(ok))
                    .bind(done.result.latency_ms)
                    .bind(done.result.status_code)
                    .bind(&done.result.error)
                    .bind(&done.region);
            }
            query.execute(&mut *tx).await?;
        }
        crate::events::store::append(&mut tx, self.db.dialect(), &events).await?;
        tx.commit().await?;
        self.metrics.write_batches.inc();
        self.metrics.results_written.inc_by(kept.len() as u64);
        Ok(())
    }
}
