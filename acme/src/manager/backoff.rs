//! When not to order: a per-name backoff after failed issuances (kept in
//! this node's memory), and the cluster-wide and per-tenant order budgets
//! (counted in the shared [`OrderLedger`]). Both are policy; the stores only
//! keep the counts.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use super::{ManagerOptions, lock};
use crate::store::OrderLedger;
use crate::{Error, Result, time};

/// How long order records are kept: budgets look back a day at most; a
/// week of history is plenty for operators.
const ORDER_HISTORY_MS: i64 = 7 * 86_400_000;

#[derive(Debug, Clone, Copy)]
struct Backoff {
    failures: u32,
    until: Instant,
}

/// Names whose last issuance failed: when to try again, and why they failed.
#[derive(Default)]
pub(super) struct Backoffs {
    waits: Mutex<HashMap<String, Backoff>>,
    /// Last failure of names with nothing stored yet, for operators.
    errors: Mutex<HashMap<String, String>>,
}

/// Wait after the `failures`-th failure in a row: `retry_min`, doubling, capped at `retry_max`.
pub(super) fn retry_delay(options: &ManagerOptions, failures: u32) -> Duration {
    let factor = 2_u32.saturating_pow(failures.saturating_sub(1).min(20));
    options
        .retry_min
        .saturating_mul(factor)
        .min(options.retry_max)
}

fn seconds_left(until: Instant, now: Instant) -> u64 {
    until.saturating_duration_since(now).as_secs() + 1
}

impl Backoffs {
    /// [`Error::Backoff`] while `name` waits out an earlier failure.
    pub(super) fn check(&self, name: &str) -> Result<()> {
        let now = Instant::now();
        match lock(&self.waits).get(name) {
            Some(b) if b.until > now => Err(Error::Backoff {
                name: name.to_owned(),
                seconds: seconds_left(b.until, now),
            }),
            _ => Ok(()),
        }
    }

    /// Counts a failure of `name` with its `report`; returns the wait before the next attempt.
    pub(super) fn failed(&self, options: &ManagerOptions, name: &str, report: String) -> Duration {
        let delay = {
            let mut waits = lock(&self.waits);
            let entry = waits.entry(name.to_owned()).or_insert(Backoff {
                failures: 0,
                until: Instant::now(),
            });
            entry.failures = entry.failures.saturating_add(1);
            let delay = retry_delay(options, entry.failures);
            entry.until = Instant::now() + delay;
            delay
        };
        lock(&self.errors).insert(name.to_owned(), report);
        delay
    }

    /// `name` was issued: no wait, no error.
    pub(super) fn succeeded(&self, name: &str) {
        lock(&self.waits).remove(name);
        lock(&self.errors).remove(name);
    }

    /// Ends `name`'s wait (its certificate was deleted by an operator).
    pub(super) fn forget(&self, name: &str) {
        lock(&self.waits).remove(name);
    }

    /// Seconds until `name` may be tried again, if it waits.
    pub(super) fn retry_in(&self, name: &str) -> Option<u64> {
        let now = Instant::now();
        lock(&self.waits)
            .get(name)
            .filter(|b| b.until > now)
            .map(|b| seconds_left(b.until, now))
    }

    /// The last failure of `name`, if it has not been issued since.
    pub(super) fn last_error(&self, name: &str) -> Option<String> {
        lock(&self.errors).get(name).cloned()
    }

    /// Every waiting name with its seconds left, sorted.
    pub(super) fn waiting(&self) -> Vec<(String, u64)> {
        let now = Instant::now();
        let mut waiting: Vec<(String, u64)> = lock(&self.waits)
            .iter()
            .filter(|(_, b)| b.until > now)
            .map(|(n, b)| (n.clone(), seconds_left(b.until, now)))
            .collect();
        waiting.sort();
        waiting
    }
}

/// [`Error::RateLimited`] when the cluster's hourly or `tenant`'s daily budget is spent.
pub(super) async fn check_budget(
    ledger: &dyn OrderLedger,
    options: &ManagerOptions,
    tenant: Option<&str>,
) -> Result<()> {
    let now = time::now_ms();
    let global = ledger.orders_since(now - 3_600_000, None).await?;
    if global >= i64::from(options.orders_per_hour) {
        return Err(Error::RateLimited {
            limit: format!("{} new orders per hour", options.orders_per_hour),
        });
    }
    if let Some(tenant) = tenant {
        let used = ledger.orders_since(now - 86_400_000, Some(tenant)).await?;
        if used >= i64::from(options.tenant_orders_per_day) {
            return Err(Error::RateLimited {
                limit: format!(
                    "{} new orders per tenant per day",
                    options.tenant_orders_per_day
                ),
            });
        }
    }
    Ok(())
}

/// Counts an order against the budgets and drops records past their use.
pub(super) async fn record_order(
    ledger: &dyn OrderLedger,
    name: &str,
    tenant: Option<&str>,
    node: &str,
) -> Result<()> {
    ledger.record_order(name, tenant, node).await?;
    ledger
        .forget_orders_before(time::now_ms() - ORDER_HISTORY_MS)
        .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_wait_doubles_up_to_its_cap() {
        let options = ManagerOptions {
            retry_min: Duration::from_secs(60),
            retry_max: Duration::from_secs(300),
            ..ManagerOptions::default()
        };
        let waits: Vec<u64> = (1..=5)
            .map(|n| retry_delay(&options, n).as_secs())
            .collect();
        assert_eq!(waits, [60, 120, 240, 300, 300]);
        let backoffs = Backoffs::default();
        assert!(backoffs.check("a.test").is_ok());
        assert_eq!(
            backoffs.failed(&options, "a.test", "CA down".into()),
            Duration::from_secs(60)
        );
        assert!(matches!(
            backoffs.check("a.test"),
            Err(Error::Backoff {
                seconds: 1..=60,
                ..
            })
        ));
        assert_eq!(backoffs.last_error("a.test").as_deref(), Some("CA down"));
        assert_eq!(backoffs.waiting().len(), 1);
        backoffs.succeeded("a.test");
        assert!(backoffs.check("a.test").is_ok());
        assert_eq!(backoffs.last_error("a.test"), None);
    }
}
