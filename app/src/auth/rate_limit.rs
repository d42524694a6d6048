//! In-process rate limits: a fixed window per (action, key), e.g. logins per IP.
//!
//! Per process on purpose: limits are a flood guard, and several app nodes
//! each enforcing the limit keeps the total bounded by nodes × limit. The
//! account lockout, which must hold across nodes, lives in the database.

use std::collections::HashMap;
use std::net::{IpAddr, Ipv6Addr};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Keys tracked before expired windows are first swept.
const SWEEP_AT: usize = 50_000;

/// The key a client address is limited by: an IPv4 address as it is, an
/// IPv6 address by its /64, since one line or host is given a whole /64 and
/// could otherwise take a fresh address for every request.
pub fn address_key(ip: IpAddr) -> String {
    match ip {
        IpAddr::V4(v4) => v4.to_string(),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => v4.to_string(),
            None => {
                let prefix = u128::from(v6) & !(u128::MAX >> 64);
                format!("{}/64", Ipv6Addr::from(prefix))
            }
        },
    }
}

/// A limit was hit; retry after this many seconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryAfter(pub u64);

#[derive(Debug)]
struct Window {
    started: Instant,
    length: Duration,
    count: u32,
}

#[derive(Debug)]
struct Windows {
    by_key: HashMap<(&'static str, String), Window>,
    /// Size at which the next sweep runs: twice what the last one left, so a
    /// flood from many addresses (keys whose windows are all still open)
    /// costs each request O(1) on average instead of a scan of every key.
    sweep_at: usize,
}

impl Default for Windows {
    fn default() -> Self {
        Self {
            by_key: HashMap::new(),
            sweep_at: SWEEP_AT,
        }
    }
}

/// Counters for every limited action.
#[derive(Debug, Default)]
pub struct RateLimiter {
    windows: Mutex<Windows>,
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
        if windows.by_key.len() >= windows.sweep_at {
            windows
                .by_key
                .retain(|_, w| now.duration_since(w.started) < w.length);
            windows.sweep_at = (2 * windows.by_key.len()).max(SWEEP_AT);
        }
        let entry = windows
            .by_key
            .entry((action, key.to_owned()))
            .or_insert(Window {
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

    /// Keys tracked now and the size at which the next sweep runs.
    #[cfg(test)]
    fn sizes(&self) -> (usize, usize) {
        let windows = self
            .windows
            .lock()
            .unwrap_or_else(|poison| poison.into_inner());
        (windows.by_key.len(), windows.sweep_at)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_are_limited_by_ipv4_address_and_ipv6_slash_64() {
        let key = |s: &str| address_key(s.parse().unwrap());
        assert_eq!(key("203.0.113.7"), "203.0.113.7");
        assert_ne!(key("203.0.113.7"), key("203.0.113.8"));
        // A client rotating through its /64 stays one key.
        assert_eq!(key("2001:db8:1:2::1"), "2001:db8:1:2::/64");
        assert_eq!(
            key("2001:db8:1:2:ffff:ffff:ffff:ffff"),
            key("2001:db8:1:2:abcd::9")
        );
        assert_ne!(key("2001:db8:1:2::1"), key("2001:db8:1:3::1"));
        // An IPv4 client seen through a dual-stack socket is its IPv4 address.
        assert_eq!(key("::ffff:203.0.113.7"), "203.0.113.7");
    }

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

    #[test]
    fn many_live_keys_are_swept_rarely_and_expired_ones_go() {
        let limiter = RateLimiter::default();
        let t0 = Instant::now();
        let minute = Duration::from_secs(60);
        // A flood from more addresses than the sweep threshold, all inside
        // their window: nothing can be swept, so the next sweep waits until
        // the map has doubled instead of running on every request.
        let flood = SWEEP_AT + 10;
        for n in 0..flood {
            assert_eq!(
                limiter.hit_at("login", &n.to_string(), 3, minute, t0),
                Ok(())
            );
        }
        assert_eq!(limiter.sizes(), (flood, 2 * SWEEP_AT));
        // A minute on, the next sweep (at twice the live keys) drops every expired window.
        let later = t0 + minute;
        for n in flood..2 * SWEEP_AT + 1 {
            limiter
                .hit_at("login", &n.to_string(), 3, minute, later)
                .unwrap();
        }
        let (kept, sweep_at) = limiter.sizes();
        assert_eq!(
            kept,
            2 * SWEEP_AT + 1 - flood,
            "only the later windows are left"
        );
        // The sweep ran just before the last key: twice what it left.
        assert_eq!(sweep_at, 2 * (kept - 1));
        // The old keys start new windows.
        assert_eq!(limiter.hit_at("login", "0", 3, minute, later), Ok(()));
    }
}
