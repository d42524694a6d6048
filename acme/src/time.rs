//! Wall-clock helpers: stored times are milliseconds since the epoch.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Now, ms since the epoch.
pub fn now_ms() -> i64 {
    to_ms(SystemTime::now())
}

/// `t` as ms since the epoch (0 before the epoch).
pub fn to_ms(t: SystemTime) -> i64 {
    t.duration_since(UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

/// ms since the epoch as a time (the epoch for negative values).
pub fn from_ms(ms: i64) -> SystemTime {
    UNIX_EPOCH + Duration::from_millis(u64::try_from(ms).unwrap_or(0))
}
