//! The scheduler: leases due monitors, runs each check at its due time with
//! its deadline, and hands the results to the batched writer.
//!
//! Leases are how several probers on one PostgreSQL share the work: a claim
//! marks monitors with this prober's id and an expiry (`FOR UPDATE SKIP
//! LOCKED`, so concurrent claims take disjoint rows). A lease lasts the check's
//! deadline plus `lease_grace_seconds`; the writer clears it with the result.
//! A prober that dies leaves its leases to expire, and then any other prober
//! claims the work. On SQLite (one process) the same statements run without
//! the row-lock clause.

use std::sync::Arc;
use std::time::Duration;

use rand::Rng;
use tokio::sync::{Semaphore, mpsc};
use tokio_util::sync::CancellationToken;

use super::metrics::{CheckLabels, ProberMetrics};
use super::probe::{ProbeResult, Probes};
use super::results::{Done, Writer};
use super::state::{RECHECK_MS, Rule, State, step};
use super::store::{COLUMNS, MonitorRow};
use crate::clock::{new_id, now_ms};
use crate::config::ProberConfig;
use crate::db::{Database, DbError};

/// How long a failure one region saw waits for a prober of another region
/// before the same region may check again, ms.
const SECOND_OPINION_WAIT_MS: i64 = 30_000;

/// Tuning of the scheduler loop.
#[derive(Debug, Clone, Copy)]
pub struct Tuning {
    /// Monitors due within this many ms are claimed ahead and started on time.
    pub lookahead_ms: i64,
    /// Pause between claims when nothing more is due, ms.
    pub poll_ms: u64,
    /// Most monitors one claim takes.
    pub claim_batch: usize,
}

impl Default for Tuning {
    fn default() -> Self {
        Self {
            lookahead_ms: 1000,
            poll_ms: 200,
            claim_batch: 500,
        }
    }
}

/// One prober: claims, checks, and writes.
#[derive(Debug, Clone)]
pub struct Scheduler {
    db: Database,
    probes: Probes,
    config: ProberConfig,
    owner: String,
    metrics: ProberMetrics,
    tuning: Tuning,
}

impl Scheduler {
    /// A scheduler with a fresh lease owner id.
    pub fn new(db: Database, probes: Probes, config: ProberConfig, metrics: ProberMetrics) -> Self {
        Self {
            db,
            probes,
            config,
            owner: format!("prober-{}", new_id()),
            metrics,
            tuning: Tuning::default(),
        }
    }

    /// Changes the loop's tuning (tests, benchmarks).
    pub fn with_tuning(mut self, tuning: Tuning) -> Self {
        self.tuning = tuning;
        self
    }

    /// The id this prober's leases carry.
    pub fn owner(&self) -> &str {
        &self.owner
    }

    /// Claims up to `limit` monitors due by `now + lookahead` whose lease is free or expired.
    pub async fn claim(&self, limit: usize) -> Result<Vec<MonitorRow>, DbError> {
        let now = now_ms();
        let grace_ms = i64::try_from(self.config.lease_grace_seconds).unwrap_or(90) * 1000;
        let mut tx = self.db.begin_write().await?;
        let rows = sqlx::query(&format!(
            "UPDATE monitors SET lease_owner = $1, lease_expires_at = $2 + timeout_ms \
             WHERE id IN (SELECT id FROM monitors WHERE paused = 0 AND paused_reason IS NULL \
               AND next_check_at <= $3 \
               AND (lease_owner IS NULL OR lease_expires_at < $4) \
               AND (failing_regions IS NULL OR failing_regions NOT LIKE $6 OR next_check_at < $7) \
               AND tenant_id IN (SELECT id FROM tenants WHERE status = 'active') \
               ORDER BY next_check_at LIMIT $5{}) \
             RETURNING {COLUMNS}",
            self.db.dialect().skip_locked()
        ))
        .bind(&self.owner)
        .bind(now + self.tuning.lookahead_ms + grace_ms)
        .bind(now + self.tuning.lookahead_ms)
        .bind(now)
        .bind(i64::try_from(limit).unwrap_or(i64::MAX))
        // A failure this region saw waits for another region's opinion, for a while.
        .bind(format!("%,{},%", self.config.region))
        .bind(now - SECOND_OPINION_WAIT_MS)
        .fetch_all(&mut *tx)
        .await?;
        tx.commit().await?;
        rows.iter()
            .map(MonitorRow::from_row)
            .collect::<Result<_, _>>()
            .map_err(DbError::from)
    }

    /// Runs until `shutdown`, then waits for checks in flight and releases unstarted leases.
    pub async fn run(self, shutdown: CancellationToken) {
        let (sender, receiver) = mpsc::channel::<Done>(65_536);
        let writer = Writer::new(
            self.db.clone(),
            self.owner.clone(),
            self.metrics.clone(),
            self.config.flap_threshold,
        );
        let writing = tokio::spawn(writer.run(receiver));
        let slots = Arc::new(Semaphore::new(self.config.max_concurrent_checks));
        let stop_checks = shutdown.child_token();
        tracing::info!(owner = %self.owner, region = %self.config.region, "prober started");
        while !shutdown.is_cancelled() {
            let free = slots.available_permits().min(self.tuning.claim_batch);
            let claimed = match free {
                0 => Vec::new(),
                n => self.claim(n).await.unwrap_or_else(|err| {
                    tracing::warn!(error = %err, "claiming due monitors failed");
                    Vec::new()
                }),
            };
            let full = claimed.len() == self.tuning.claim_batch;
            for row in claimed {
                let Ok(permit) = slots.clone().acquire_owned().await else {
                    break;
                };
                self.metrics.in_flight.inc();
                let this = self.clone();
                let sender = sender.clone();
                let stop = stop_checks.clone();
                tokio::spawn(async move {
                    if let Some(done) = this.check(row, &stop).await {
                        let _ = sender.send(done).await;
                    }
                    this.metrics.in_flight.dec();
                    drop(permit);
                });
            }
            if !full {
                tokio::select! {
                    () = shutdown.cancelled() => break,
                    () = tokio::time::sleep(Duration::from_millis(self.tuning.poll_ms)) => {}
                }
            }
        }
        // Checks waiting for their due time stop now; running ones finish (within their deadline).
        stop_checks.cancel();
        let all = u32::try_from(self.config.max_concurrent_checks).unwrap_or(u32::MAX);
        let _ = tokio::time::timeout(Duration::from_secs(65), slots.acquire_many(all)).await;
        drop(sender);
        let _ = writing.await;
        if let Err(err) = self.release().await {
            tracing::warn!(error = %err, "releasing leases failed; they expire after the grace period");
        }
        tracing::info!(owner = %self.owner, "prober stopped");
    }

    /// Gives back leases of checks that never started, so others take them at once.
    async fn release(&self) -> Result<(), sqlx::Error> {
        sqlx::query("UPDATE monitors SET lease_owner = NULL, lease_expires_at = NULL WHERE lease_owner = $1")
            .bind(&self.owner)
            .execute(self.db.pool())
            .await?;
        Ok(())
    }

    /// Waits for the monitor's due time, checks it and works out its next state.
    async fn check(&self, row: MonitorRow, stop: &CancellationToken) -> Option<Done> {
        let due = row.monitor.next_check_at;
        let wait = u64::try_from(due - now_ms()).unwrap_or(0);
        if wait > 0 {
            tokio::select! {
                () = stop.cancelled() => return None,
                () = tokio::time::sleep(Duration::from_millis(wait)) => {}
            }
        }
        let started = now_ms();
        self.metrics
            .lateness
            .observe((started - due).max(0) as f64 / 1000.0);
        let interval_ms = row.monitor.interval_seconds.max(1) * 1000;
        let (result, rule) = match row.spec() {
            Ok(spec) => {
                let timeout = Duration::from_millis(spec.timeout_ms);
                let result = self
                    .probes
                    .run(
                        &spec.check,
                        timeout,
                        row.monitor.interval_seconds,
                        row.monitor.last_ping_at,
                        started,
                    )
                    .await;
                let rule = Rule {
                    confirmations: spec.confirmations,
                    regions: spec.regions,
                };
                (result, rule)
            }
            Err((field, message)) => {
                let reason = format!("invalid monitor definition: {field}: {message}");
                let rule = Rule {
                    confirmations: 1,
                    regions: 1,
                };
                (ProbeResult::down(reason, None), rule)
            }
        };
        let kind = match row.monitor.kind.as_str() {
            "http" => "http",
            "tcp" => "tcp",
            "dns" => "dns",
            "tls" => "tls",
            _ => "heartbeat",
        };
        self.metrics
            .checks
            .get_or_create(&CheckLabels {
                kind,
                outcome: result.outcome.as_str(),
            })
            .inc();
        let before = State::parse(&row.monitor.state);
        // Kept only when a second opinion is asked for: the claim makes such
        // monitors wait for another region.
        let failing_regions = match result.outcome {
            super::probe::Outcome::Down if rule.regions > 1 => {
                let mut seen = row
                    .failing_regions
                    .clone()
                    .unwrap_or_else(|| ",".to_owned());
                if !seen.contains(&format!(",{},", self.config.region)) {
                    seen.push_str(&self.config.region);
                    seen.push(',');
                }
                Some(seen)
            }
            _ => None,
        };
        let regions = failing_regions
            .as_deref()
            .map_or(1, |s| s.split(',').filter(|r| !r.is_empty()).count());
        let step = step(
            before,
            row.consecutive_failures,
            rule,
            regions,
            result.outcome,
        );
        let finished = now_ms();
        let next_check_at = if step.recheck {
            finished + RECHECK_MS.min(interval_ms)
        } else if before == State::Pending {
            // Spread monitors created together over the interval from here on.
            finished + interval_ms / 2 + rand::thread_rng().gen_range(0..=interval_ms / 2)
        } else {
            next_after(due, interval_ms, started)
        };
        Some(Done {
            row,
            before,
            step,
            result,
            checked_at: started,
            next_check_at,
            failing_regions,
            region: self.config.region.clone(),
        })
    }
}

/// The next check after one due at `due` that started at `started`: one
/// interval after the due time (keeping the monitor's phase), unless the check
/// started so late that this would come less than half an interval after it;
/// then one interval after the start, so checks never bunch up.
fn next_after(due: i64, interval_ms: i64, started: i64) -> i64 {
    let next = due + interval_ms;
    if next - started >= interval_ms / 2 {
        next
    } else {
        started + interval_ms
    }
}

#[cfg(test)]
mod tests {
    use super::next_after;

    #[test]
    fn schedules_keep_their_phase_unless_a_check_started_very_late() {
        assert_eq!(next_after(1000, 60_000, 2000), 61_000);
        assert_eq!(next_after(1000, 60_000, 31_000), 61_000);
        assert_eq!(next_after(1000, 60_000, 61_000), 121_000);
        assert_eq!(next_after(1000, 60_000, 200_000), 260_000);
    }
}
