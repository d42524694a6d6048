//! Times as the public formats want them: RFC 3339 (JSON, Atom), RFC 2822
//! (RSS), IMF-fixdate (HTTP), and short forms for people. All UTC.

use time::OffsetDateTime;

const WEEKDAYS: [&str; 7] = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];
const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

/// `ms` since the epoch in UTC; a time beyond the years ±9999 reads as the epoch.
fn utc(ms: i64) -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .unwrap_or(OffsetDateTime::UNIX_EPOCH)
}

fn month_name(t: OffsetDateTime) -> &'static str {
    MONTHS[usize::from(u8::from(t.month())).saturating_sub(1) % 12]
}

fn weekday_name(t: OffsetDateTime) -> &'static str {
    WEEKDAYS[usize::from(t.weekday().number_days_from_monday()) % 7]
}

/// `2026-12-01T10:00:00.000Z` (RFC 3339, as Statuspage's JSON and Atom want).
pub fn rfc3339(ms: i64) -> String {
    let c = utc(ms);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z",
        c.year(),
        u8::from(c.month()),
        c.day(),
        c.hour(),
        c.minute(),
        c.second(),
        c.millisecond()
    )
}

/// `Tue, 01 Dec 2026 10:00:00 +0000` (RFC 2822, for RSS).
pub fn rfc2822(ms: i64) -> String {
    format!("{} +0000", day_and_time(utc(ms)))
}

/// `Tue, 01 Dec 2026 10:00:00 GMT` (HTTP's IMF-fixdate).
pub fn http_date(ms: i64) -> String {
    format!("{} GMT", day_and_time(utc(ms)))
}

/// `Tue, 01 Dec 2026 10:00:00`, the part RFC 2822 and IMF-fixdate share.
fn day_and_time(c: OffsetDateTime) -> String {
    format!(
        "{}, {:02} {} {:04} {:02}:{:02}:{:02}",
        weekday_name(c),
        c.day(),
        month_name(c),
        c.year(),
        c.hour(),
        c.minute(),
        c.second()
    )
}

/// `2026-12-01` (a day, for bars).
pub fn date(ms: i64) -> String {
    let c = utc(ms);
    format!("{:04}-{:02}-{:02}", c.year(), u8::from(c.month()), c.day())
}

/// `1 Dec 2026, 10:00 UTC` (for people).
pub fn human(ms: i64) -> String {
    let c = utc(ms);
    format!(
        "{} {} {}, {:02}:{:02} UTC",
        c.day(),
        month_name(c),
        c.year(),
        c.hour(),
        c.minute()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_instants_format_right() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(http_date(0), "Thu, 01 Jan 1970 00:00:00 GMT");
        // 2026-12-01 10:11:12.345 UTC is a Tuesday.
        let t = 1_796_119_872_345;
        assert_eq!(rfc3339(t), "2026-12-01T10:11:12.345Z");
        assert_eq!(rfc2822(t), "Tue, 01 Dec 2026 10:11:12 +0000");
        assert_eq!(http_date(t), "Tue, 01 Dec 2026 10:11:12 GMT");
        assert_eq!(date(t), "2026-12-01");
        assert_eq!(human(t), "1 Dec 2026, 10:11 UTC");
        // A leap day and the turn of a century.
        assert_eq!(date(951_782_400_000), "2000-02-29");
        assert_eq!(rfc3339(-1), "1969-12-31T23:59:59.999Z");
    }
}
