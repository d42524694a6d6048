//! Roll-ups, uptime and retention.
//!
//! Each completed hour is rolled up once from raw results (checks, failures,
//! latency p50/p95/p99 per monitor); each completed day from its hours (sums
//! exact; p50 the checks-weighted median of hourly p50s, p95/p99 the hourly
//! maxima, an upper bound). Uptime over 24 h comes from hourly roll-ups plus
//! the raw results of the current hour, longer spans from daily roll-ups plus
//! today's hours. Retention deletes in bounded batches, so the database stays
//! the size the retention settings imply.

use std::collections::BTreeMap;
use std::time::Duration;

use serde::Serialize;
use tokio_util::sync::CancellationToken;
use utoipa::ToSchema;

use crate::billing::plans::Plans;
use crate::config::ProberConfig;
use crate::db::{Database, DbError};

const HOUR: i64 = 3_600_000;
const DAY: i64 = 24 * HOUR;
/// Raw results may arrive this long after their check started (batching).
const SETTLE_MS: i64 = 120_000;
/// Rows deleted per statement.
const DELETE_BATCH: i64 = 10_000;
/// Days the alert delivery log is kept.
pub const DELIVERY_LOG_DAYS: i64 = 90;

/// Value at quantile `q` of sorted `values` (nearest rank).
fn quantile(sorted: &[i64], q: f64) -> Option<i64> {
    if sorted.is_empty() {
        return None;
    }
    let rank = (q * sorted.len() as f64).ceil() as usize;
    sorted.get(rank.clamp(1, sorted.len()) - 1).copied()
}

async fn upsert(
    db: &Database,
    (tenant, monitor): (&str, &str),
    period: &str,
    start: i64,
    counts: (i64, i64),
    pcts: [Option<i64>; 3],
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO check_rollups (tenant_id, monitor_id, period, bucket_start, checks, failures, p50_ms, p95_ms, p99_ms) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) \
         ON CONFLICT (monitor_id, period, bucket_start) DO UPDATE SET checks = excluded.checks, \
         failures = excluded.failures, p50_ms = excluded.p50_ms, p95_ms = excluded.p95_ms, p99_ms = excluded.p99_ms",
    )
    .bind(tenant)
    .bind(monitor)
    .bind(period)
    .bind(start)
    .bind(counts.0)
    .bind(counts.1)
    .bind(pcts[0])
    .bind(pcts[1])
    .bind(pcts[2])
    .execute(db.pool())
    .await?;
    Ok(())
}

async fn done(db: &Database, period: &str, start: i64) -> Result<bool, sqlx::Error> {
    let n: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM check_rollups WHERE period = $1 AND bucket_start = $2",
    )
    .bind(period)
    .bind(start)
    .fetch_one(db.pool())
    .await?;
    Ok(n > 0)
}

/// Rolls up one hour from raw results.
pub async fn roll_up_hour(db: &Database, start: i64) -> Result<(), DbError> {
    let groups: Vec<(String, String, i64, i64)> = sqlx::query_as(
        "SELECT tenant_id, monitor_id, COUNT(*), CAST(SUM(1 - ok) AS BIGINT) FROM check_results \
         WHERE checked_at >= $1 AND checked_at < $2 GROUP BY tenant_id, monitor_id ORDER BY monitor_id",
    )
    .bind(start)
    .bind(start + HOUR)
    .fetch_all(db.pool())
    .await?;
    for (tenant, monitor, checks, failures) in groups {
        let latencies: Vec<i64> = sqlx::query_scalar(
            "SELECT latency_ms FROM check_results WHERE monitor_id = $1 AND checked_at >= $2 \
             AND checked_at < $3 AND latency_ms IS NOT NULL ORDER BY latency_ms",
        )
        .bind(&monitor)
        .bind(start)
        .bind(start + HOUR)
        .fetch_all(db.pool())
        .await?;
        let pcts = [0.5, 0.95, 0.99].map(|q| quantile(&latencies, q));
        upsert(
            db,
            (&tenant, &monitor),
            "hour",
            start,
            (checks, failures),
            pcts,
        )
        .await?;
    }
    Ok(())
}

/// Rolls up one day from its hours.
pub async fn roll_up_day(db: &Database, start: i64) -> Result<(), DbError> {
    type Hour = (
        String,
        String,
        i64,
        i64,
        Option<i64>,
        Option<i64>,
        Option<i64>,
    );
    let hours: Vec<Hour> = sqlx::query_as(
        "SELECT tenant_id, monitor_id, checks, failures, p50_ms, p95_ms, p99_ms FROM check_rollups \
         WHERE period = 'hour' AND bucket_start >= $1 AND bucket_start < $2 ORDER BY monitor_id",
    )
    .bind(start)
    .bind(start + DAY)
    .fetch_all(db.pool())
    .await?;
    let mut by_monitor: BTreeMap<(String, String), Vec<Hour>> = BTreeMap::new();
    for hour in hours {
        by_monitor
            .entry((hour.0.clone(), hour.1.clone()))
            .or_default()
            .push(hour);
    }
    for ((tenant, monitor), hours) in by_monitor {
        let checks = hours.iter().map(|h| h.2).sum();
        let failures = hours.iter().map(|h| h.3).sum();
        let mut p50s: Vec<(i64, i64)> =
            hours.iter().filter_map(|h| h.4.map(|p| (p, h.2))).collect();
        p50s.sort_unstable();
        let half = p50s.iter().map(|p| p.1).sum::<i64>() / 2;
        let mut seen = 0;
        let p50 = p50s.iter().find(|(_, n)| {
            seen += n;
            seen > half
        });
        let pcts = [
            p50.map(|p| p.0),
            hours.iter().filter_map(|h| h.5).max(),
            hours.iter().filter_map(|h| h.6).max(),
        ];
        upsert(
            db,
            (&tenant, &monitor),
            "day",
            start,
            (checks, failures),
            pcts,
        )
        .await?;
    }
    Ok(())
}

/// Rolls up the completed hours of the last two days and the completed days
/// of the last three that are not rolled up yet.
pub async fn roll_up(db: &Database, now: i64) -> Result<(), DbError> {
    let last_hour = (now - SETTLE_MS) / HOUR * HOUR - HOUR;
    let mut hour = last_hour - 47 * HOUR;
    while hour <= last_hour {
        if !done(db, "hour", hour).await? {
            roll_up_hour(db, hour).await?;
        }
        hour += HOUR;
    }
    let last_day = (now - SETTLE_MS) / DAY * DAY - DAY;
    for day in [last_day - 2 * DAY, last_day - DAY, last_day] {
        if !done(db, "day", day).await? {
            roll_up_day(db, day).await?;
        }
    }
    Ok(())
}

/// Deletes what retention allows; returns rows deleted.
pub async fn enforce_retention(
    db: &Database,
    config: &ProberConfig,
    now: i64,
) -> Result<u64, DbError> {
    enforce_retention_for(db, config, None, now).await
}

/// Deletes raw results older than each tenant's plan keeps them (a plan no
/// longer configured keeps Free's days); returns rows deleted.
async fn enforce_plan_raw_retention(
    db: &Database,
    plans: &Plans,
    now: i64,
) -> Result<u64, DbError> {
    let days = |d: u64| now - i64::try_from(d).unwrap_or(i64::MAX / DAY) * DAY;
    let known: Vec<&str> = plans.all().iter().map(|p| p.name.as_str()).collect();
    let free = plans.free().name.as_str();
    let mut deleted = 0;
    for plan in plans.all() {
        let is_free = plan.name == free;
        // Free also covers tenants on a plan no longer configured: `$4…` are the known names.
        let scope = if is_free {
            let names: Vec<String> = (0..known.len()).map(|i| format!("${}", i + 4)).collect();
            format!("(plan = $3 OR plan NOT IN ({}))", names.join(", "))
        } else {
            "plan = $3".to_owned()
        };
        let sql = format!(
            "DELETE FROM check_results WHERE id IN (SELECT id FROM check_results WHERE checked_at < $1 \
             AND tenant_id IN (SELECT id FROM tenants WHERE {scope}) LIMIT $2)"
        );
        loop {
            let mut query = sqlx::query(&sql)
                .bind(days(plan.limits.raw_retention_days))
                .bind(DELETE_BATCH)
                .bind(&plan.name);
            if is_free {
                for name in &known {
                    query = query.bind(*name);
                }
            }
            let done = query.execute(db.pool()).await?.rows_affected();
            deleted += done;
            if done < u64::try_from(DELETE_BATCH).unwrap_or(u64::MAX) {
                break;
            }
            tokio::task::yield_now().await;
        }
    }
    Ok(deleted)
}

/// [`enforce_retention`], with raw results kept per plan when `plans` is given (billing on).
pub async fn enforce_retention_for(
    db: &Database,
    config: &ProberConfig,
    plans: Option<&Plans>,
    now: i64,
) -> Result<u64, DbError> {
    let days = |d: u64| now - i64::try_from(d).unwrap_or(i64::MAX / DAY) * DAY;
    let mut deleted = 0;
    let raw = match plans {
        Some(plans) => {
            deleted += enforce_plan_raw_retention(db, plans, now).await?;
            None
        }
        None => Some((
            "DELETE FROM check_results WHERE id IN (SELECT id FROM check_results WHERE checked_at < $1 LIMIT $2)",
            days(config.raw_retention_days),
        )),
    };
    let statements: [(&str, i64); 4] = [
        // Roll-ups have no single-column key; a run deletes at most the hours
        // (or days) that aged out since the last one, a bounded amount.
        (
            "DELETE FROM check_rollups WHERE period = 'hour' AND bucket_start < $1 AND $2 > 0",
            days(config.hourly_retention_days),
        ),
        (
            "DELETE FROM check_rollups WHERE period = 'day' AND bucket_start < $1 AND $2 > 0",
            days(config.daily_retention_days),
        ),
        (
            "DELETE FROM incidents WHERE id IN (SELECT id FROM incidents WHERE state = 'resolved' AND resolved_at < $1 LIMIT $2)",
            days(config.daily_retention_days),
        ),
        (
            "DELETE FROM alert_deliveries WHERE id IN (SELECT id FROM alert_deliveries WHERE status <> 'pending' AND created_at < $1 LIMIT $2)",
            now - DELIVERY_LOG_DAYS * DAY,
        ),
    ];
    for (sql, cutoff) in raw.into_iter().chain(statements) {
        loop {
            let done = sqlx::query(sql)
                .bind(cutoff)
                .bind(DELETE_BATCH)
                .execute(db.pool())
                .await?
                .rows_affected();
            deleted += done;
            if done < u64::try_from(DELETE_BATCH).unwrap_or(u64::MAX) {
                break;
            }
            // Let other writers in between batches.
            tokio::task::yield_now().await;
        }
    }
    deleted += crate::events::store::prune(db, now - crate::events::RETENTION_MS).await?;
    Ok(deleted)
}

/// Rolls up and enforces retention every `every` until `shutdown`.
pub async fn run(
    db: Database,
    config: ProberConfig,
    plans: Option<Plans>,
    every: Duration,
    shutdown: CancellationToken,
) {
    loop {
        let now = crate::clock::now_ms();
        if let Err(err) = roll_up(&db, now).await {
            tracing::warn!(error = %err, "rolling up results failed");
        }
        match enforce_retention_for(&db, &config, plans.as_ref(), now).await {
            Ok(0) => {}
            Ok(n) => tracing::info!(rows = n, "retention removed old rows"),
            Err(err) => tracing::warn!(error = %err, "retention failed"),
        }
        tokio::select! {
            () = shutdown.cancelled() => return,
            () = tokio::time::sleep(every) => {}
        }
    }
}

/// Checks, failures and uptime over one span.
#[derive(Debug, Clone, Default, Serialize, ToSchema)]
pub struct Span {
    /// Checks counted.
    pub checks: i64,
    /// Failed checks.
    pub failures: i64,
    /// Percentage of checks that succeeded; absent without checks.
    pub uptime_percent: Option<f64>,
}

impl Span {
    fn add(&mut self, checks: i64, failures: i64) {
        self.checks += checks;
        self.failures += failures;
        self.uptime_percent = (self.checks > 0).then(|| {
            ((self.checks - self.failures) as f64 * 100_000.0 / self.checks as f64).round() / 1000.0
        });
    }
}

/// Uptime of one monitor over the usual spans.
#[derive(Debug, Clone, Default, Serialize, ToSchema)]
pub struct Uptime {
    /// Last 24 hours.
    pub h24: Span,
    /// Last 7 days.
    pub d7: Span,
    /// Last 30 days.
    pub d30: Span,
    /// Last 90 days.
    pub d90: Span,
}

/// Uptime of `monitor_id` at `now`, from roll-ups (plus the raw results not rolled up yet).
pub async fn uptime(
    db: &Database,
    tenant_id: &str,
    monitor_id: &str,
    now: i64,
) -> Result<Uptime, DbError> {
    let rolled = |period: &'static str, from: i64| {
        sqlx::query_as::<_, (i64, i64)>(
            "SELECT CAST(COALESCE(SUM(checks), 0) AS BIGINT), CAST(COALESCE(SUM(failures), 0) AS BIGINT) FROM check_rollups \
             WHERE tenant_id = $1 AND monitor_id = $2 AND period = $3 AND bucket_start >= $4",
        )
        .bind(tenant_id)
        .bind(monitor_id)
        .bind(period)
        .bind(from)
    };
    // Hours not rolled up yet (the current one, and any the roll-up task has not reached).
    let rolled_to: Option<i64> = sqlx::query_scalar(
        "SELECT MAX(bucket_start) FROM check_rollups WHERE monitor_id = $1 AND tenant_id = $2 AND period = 'hour'",
    )
    .bind(monitor_id)
    .bind(tenant_id)
    .fetch_one(db.pool())
    .await?;
    let raw_from = rolled_to
        .map_or(now - 90 * DAY, |h| h + HOUR)
        .max(now - 90 * DAY);
    let (raw_checks, raw_failures): (i64, i64) = sqlx::query_as(
        "SELECT COUNT(*), CAST(COALESCE(SUM(1 - ok), 0) AS BIGINT) FROM check_results \
         WHERE tenant_id = $1 AND monitor_id = $2 AND checked_at >= $3",
    )
    .bind(tenant_id)
    .bind(monitor_id)
    .bind(raw_from)
    .fetch_one(db.pool())
    .await?;
    let mut out = Uptime::default();
    let hour_from = (now - 24 * HOUR) / HOUR * HOUR + HOUR;
    let (c, f) = rolled("hour", hour_from).fetch_one(db.pool()).await?;
    out.h24.add(c + raw_checks, f + raw_failures);
    // Today's hours are not in a daily roll-up yet.
    let today = now / DAY * DAY;
    let (tc, tf) = rolled("hour", today).fetch_one(db.pool()).await?;
    for (span, days) in [(&mut out.d7, 7), (&mut out.d30, 30), (&mut out.d90, 90)] {
        let (c, f) = rolled("day", today - (days - 1) * DAY)
            .fetch_one(db.pool())
            .await?;
        span.add(c + tc + raw_checks, f + tf + raw_failures);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::quantile;

    #[test]
    fn quantiles_use_the_nearest_rank() {
        let values: Vec<i64> = (1..=100).collect();
        assert_eq!(quantile(&values, 0.5), Some(50));
        assert_eq!(quantile(&values, 0.95), Some(95));
        assert_eq!(quantile(&values, 0.99), Some(99));
        assert_eq!(quantile(&[7], 0.99), Some(7));
        assert_eq!(quantile(&[], 0.5), None);
    }
}
