//! The database side of `statuswatch doctor`: what the old health-check script
//! looked for, plus what a cluster adds (certificates, the ACME queue, prober
//! lag and leases, failing alert deliveries). The binary adds the network,
//! disk and memory checks and prints the result.

use std::time::Instant;

use serde::Serialize;

use crate::clock::now_ms;
use crate::db::Database;

/// How bad a finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// Healthy.
    Ok,
    /// Worth a look; does not fail the run.
    Warn,
    /// Broken; the run exits non-zero.
    Fail,
}

/// One finding.
#[derive(Debug, Clone, Serialize)]
pub struct Check {
    /// Short stable name (`database`, `certificates`, …).
    pub name: &'static str,
    /// Verdict.
    pub status: Status,
    /// What was seen, in words.
    pub detail: String,
}

impl Check {
    /// A finding.
    pub fn new(name: &'static str, status: Status, detail: impl Into<String>) -> Self {
        Self {
            name,
            status,
            detail: detail.into(),
        }
    }
}

/// Database latency above this is a warning.
const SLOW_DB_MS: u128 = 200;
/// Monitors this late (p99 of due monitors) mean the probers cannot keep up.
const LATE_WARN_MS: i64 = 5_000;
/// … and this late, that checks are effectively not running.
const LATE_FAIL_MS: i64 = 60_000;

/// Reachability and latency, then (unless `quick`) everything stored that
/// says a part of the system is falling behind.
pub async fn database_checks(db: &Database, quick: bool) -> Vec<Check> {
    let started = Instant::now();
    if let Err(err) = db.ping().await {
        return vec![Check::new("database", Status::Fail, err.to_string())];
    }
    let ms = started.elapsed().as_millis();
    let mut checks = vec![Check::new(
        "database",
        if ms > SLOW_DB_MS {
            Status::Warn
        } else {
            Status::Ok
        },
        format!("{} answered in {ms} ms", db.dialect().name()),
    )];
    checks.push(match db.migrations().status().await {
        Ok(status) if status.is_current() => {
            Check::new("migrations", Status::Ok, "schema is current")
        }
        Ok(status) => Check::new("migrations", Status::Fail, status.describe()),
        Err(err) => Check::new("migrations", Status::Fail, err.to_string()),
    });
    if quick || checks.iter().any(|c| c.status == Status::Fail) {
        return checks;
    }
    let now = now_ms();
    for check in [
        certificates(db, now).await,
        acme_queue(db, now).await,
        prober_lag(db, now).await,
        leases(db, now).await,
        deliveries(db, now).await,
    ] {
        checks.push(check.unwrap_or_else(|(name, err)| {
            Check::new(name, Status::Fail, format!("cannot read: {err}"))
        }));
    }
    checks
}

type Found = Result<Check, (&'static str, sqlx::Error)>;

async fn certificates(db: &Database, now: i64) -> Found {
    let name = "certificates";
    let rows: Vec<(String, i64, i64, Option<String>)> = sqlx::query_as(
        "SELECT name, not_after, renew_after, last_error FROM certificates ORDER BY not_after",
    )
    .fetch_all(db.pool())
    .await
    .map_err(|e| (name, e))?;
    // Renewal runs in the background; an hour past the renewal time (or any
    // stored error) means it is not getting through. This covers ARI windows
    // and short-lived certificates alike, unlike a fixed "30 days" rule.
    let expired: Vec<&str> = rows
        .iter()
        .filter(|r| r.1 <= now)
        .map(|r| r.0.as_str())
        .collect();
    let overdue: Vec<&str> = rows
        .iter()
        .filter(|r| r.1 > now && r.2 + 3_600_000 < now)
        .map(|r| r.0.as_str())
        .collect();
    let failing: Vec<String> = rows
        .iter()
        .filter_map(|r| r.3.as_ref().map(|e| format!("{}: {e}", r.0)))
        .collect();
    Ok(if !expired.is_empty() {
        Check::new(name, Status::Fail, format!("expired: {}", list(&expired)))
    } else if !overdue.is_empty() || !failing.is_empty() {
        let mut parts = Vec::new();
        if !overdue.is_empty() {
            parts.push(format!("past their renewal time: {}", list(&overdue)));
        }
        if !failing.is_empty() {
            parts.push(format!("renewal failing: {}", list(&failing)));
        }
        Check::new(name, Status::Warn, parts.join("; "))
    } else {
        Check::new(name, Status::Ok, format!("{} stored, none due", rows.len()))
    })
}

async fn acme_queue(db: &Database, now: i64) -> Found {
    let name = "acme_queue";
    let rows: Vec<(String, i64, i64, Option<String>)> = sqlx::query_as(
        "SELECT name, attempts, queued_at, last_error FROM acme_queue ORDER BY queued_at",
    )
    .fetch_all(db.pool())
    .await
    .map_err(|e| (name, e))?;
    let retrying: Vec<String> = rows
        .iter()
        .filter(|r| r.1 > 0)
        .map(|r| {
            format!(
                "{} ({} attempts: {})",
                r.0,
                r.1,
                r.3.as_deref().unwrap_or("?")
            )
        })
        .collect();
    let stuck = rows.iter().filter(|r| now - r.2 > 3_600_000).count();
    Ok(if !retrying.is_empty() || stuck > 0 {
        Check::new(
            name,
            Status::Warn,
            format!(
                "{} queued, {stuck} for over an hour; retrying: {}",
                rows.len(),
                list(&retrying)
            ),
        )
    } else {
        Check::new(name, Status::Ok, format!("{} queued", rows.len()))
    })
}

async fn prober_lag(db: &Database, now: i64) -> Found {
    let name = "prober_lag";
    let mut late: Vec<i64> = sqlx::query_scalar(
        "SELECT $1 - next_check_at FROM monitors WHERE paused = 0 AND paused_reason IS NULL AND next_check_at < $1",
    )
    .bind(now)
    .fetch_all(db.pool())
    .await
    .map_err(|e| (name, e))?;
    let total: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM monitors WHERE paused = 0 AND paused_reason IS NULL",
    )
    .fetch_one(db.pool())
    .await
    .map_err(|e| (name, e))?;
    late.sort_unstable();
    let p99 = percentile(&late, total, 0.99);
    let status = if p99 >= LATE_FAIL_MS {
        Status::Fail
    } else if p99 >= LATE_WARN_MS {
        Status::Warn
    } else {
        Status::Ok
    };
    Ok(Check::new(
        name,
        status,
        format!(
            "{total} active monitors, {} overdue, p99 start lateness {p99} ms",
            late.len()
        ),
    ))
}

/// The `q` quantile of lateness over `total` monitors, where monitors not in
/// `late_sorted` are on time (0 ms).
fn percentile(late_sorted: &[i64], total: i64, q: f64) -> i64 {
    let total = usize::try_from(total).unwrap_or(0).max(late_sorted.len());
    if total == 0 {
        return 0;
    }
    let rank = ((total as f64) * q).ceil() as usize;
    let on_time = total - late_sorted.len();
    if rank <= on_time {
        0
    } else {
        late_sorted[(rank - on_time - 1).min(late_sorted.len() - 1)]
    }
}

async fn leases(db: &Database, now: i64) -> Found {
    let name = "prober_leases";
    let expired: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM monitors WHERE lease_owner IS NOT NULL AND lease_expires_at < $1",
    )
    .bind(now)
    .fetch_one(db.pool())
    .await
    .map_err(|e| (name, e))?;
    Ok(if expired > 0 {
        Check::new(
            name,
            Status::Warn,
            format!(
                "{expired} leases past their deadline (a prober died or stalls; others take over after the grace period)"
            ),
        )
    } else {
        Check::new(name, Status::Ok, "no lease past its deadline")
    })
}

async fn deliveries(db: &Database, now: i64) -> Found {
    let name = "alert_deliveries";
    let failed: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM alert_deliveries WHERE status = 'failed' AND created_at > $1",
    )
    .bind(now - 86_400_000)
    .fetch_one(db.pool())
    .await
    .map_err(|e| (name, e))?;
    let retrying: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM alert_deliveries WHERE status = 'pending' AND attempts > 0",
    )
    .fetch_one(db.pool())
    .await
    .map_err(|e| (name, e))?;
    Ok(if failed > 0 {
        Check::new(
            name,
            Status::Fail,
            format!("{failed} gave up in the last 24 h, {retrying} retrying"),
        )
    } else if retrying > 0 {
        Check::new(name, Status::Warn, format!("{retrying} retrying"))
    } else {
        Check::new(name, Status::Ok, "none failing")
    })
}

/// At most five names, then a count.
fn list<T: AsRef<str>>(items: &[T]) -> String {
    let mut shown: Vec<&str> = items.iter().take(5).map(AsRef::as_ref).collect();
    let more = items.len().saturating_sub(5);
    let extra = format!("and {more} more");
    if more > 0 {
        shown.push(&extra);
    }
    shown.join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lateness_percentile_counts_on_time_monitors() {
        assert_eq!(percentile(&[], 0, 0.99), 0);
        assert_eq!(percentile(&[], 100, 0.99), 0);
        // 1 late of 100: p99 is still on time; 2 late: p99 is the smaller.
        assert_eq!(percentile(&[9_000], 100, 0.99), 0);
        assert_eq!(percentile(&[4_000, 9_000], 100, 0.99), 4_000);
        assert_eq!(percentile(&[1, 2, 3], 3, 0.99), 3);
    }

    #[test]
    fn long_lists_are_cut() {
        assert_eq!(list(&["a", "b"]), "a, b");
        assert_eq!(
            list(&["1", "2", "3", "4", "5", "6", "7"]),
            "1, 2, 3, 4, 5, and 2 more"
        );
    }
}
