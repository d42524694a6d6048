//! In-process rate limits: a fixed window per (action, key), e.g. logins per IP.
//!
//! Per process on purpose: limits are a flood guard, and several app nodes
//! each enforcing the limit keeps the total bounded by nodes × limit. The
//! account lockout, which must hold across nodes, lives in the database.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Keys tracked before expired windows are swept.
const SWEEP_AT: usize = 50_000;

/// A limit was hit; retry after this many seconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryAfter(pub u64);

#[derive(Debug)]
struct Window {
    started: Instant,
    length: Duration,
    count: u32,
}

/// Counters for every limited action.
#[derive(Debug, Default)]
pub struct RateLimiter {
    windows: Mutex<HashMap<(&'static str, String), Window>>,
}

impl RateLimiter {
    /// Counts one attempt of `action` by `key`; fails once `limit` per `window` is spent.
    pub fn hit(
        &self,
        action: &'static str,
        key: &str,
        limit: u32,
        window: Duration,
    ) -> Result<(), RetryAfter> {
        self.hit_at(action, key, limit, window, Instant::now())
    }

    fn hit_at(
        &self,
        action: &'static str,
        key: &str,
        limit: u32,
        window: Duration,
        now: Instant,
    ) -> Result<(), RetryAfter> {
        let mut windows = self
            .windows
            .lock()
            .unwrap_or_else(|poison| poison.into_inner());
        if windows.len() >= SWEEP_AT {
            windows.retain(|_, w| now.duration_since(w.started) < w.length);
        }
        let entry = windows.entry((action, key.to_owned())).or_insert(Window {
            started: now,
            length: window,
            count: 0,
        });
        if now.duration_since(entry.started) >= entry.length {
            *entry = Window {
                started: now,
                length: window,
                count: 0,
            };
        }
        if entry.count >= limit {
            let left = entry
                .length
                .saturating_sub(now.duration_since(entry.started));
            return Err(RetryAfter(left.as_secs().max(1)));
        }
        entry.count += 1;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_per_key_and_window() {
        let limiter = RateLimiter::default();
        let t0 = Instant::now();
        let minute = Duration::from_secs(60);
        for _ in 0..3 {
            assert_eq!(limiter.hit_at("login", "1.2.3.4", 3, minute, t0), Ok(()));
        }
        assert_eq!(
            limiter.hit_at("login", "1.2.3.4", 3, minute, t0),
            Err(RetryAfter(60))
        );
        let later = t0 + Duration::from_secs(45);
        assert_eq!(
            limiter.hit_at("login", "1.2.3.4", 3, minute, later),
            Err(RetryAfter(15))
        );
        // Other keys and actions have their own windows.
        assert_eq!(limiter.hit_at("login", "5.6.7.8", 3, minute, t0), Ok(()));
        assert_eq!(limiter.hit_at("signup", "1.2.3.4", 3, minute, t0), Ok(()));
        // A new window starts after the old one ends.
        assert_eq!(
            limiter.hit_at("login", "1.2.3.4", 3, minute, t0 + minute),
            Ok(())
        );
    }
}
