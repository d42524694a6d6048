//! Wall-clock time as stored: integer milliseconds since the Unix epoch, UTC.

use std::time::{SystemTime, UNIX_EPOCH};

/// Milliseconds since the epoch now.
pub fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

/// A new time-ordered id (UUIDv7), as stored in text id columns.
pub fn new_id() -> String {
    uuid::Uuid::now_v7().to_string()
}
