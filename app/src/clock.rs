//! Wall-clock time as stored: integer milliseconds since the Unix epoch, UTC.

/// Milliseconds since the epoch now: `acme`'s clock, so certificates and
/// everything else are stamped alike.
pub use acme::time::now_ms;

/// A new time-ordered id (UUIDv7), as stored in text id columns.
pub fn new_id() -> String {
    uuid::Uuid::now_v7().to_string()
}
