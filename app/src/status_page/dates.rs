//! Times as the public formats want them: RFC 3339 (JSON, Atom), RFC 2822
//! (RSS), IMF-fixdate (HTTP), and short forms for people. All UTC.

const DAY_MS: i64 = 86_400_000;
const WEEKDAYS: [&str; 7] = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"];
const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

/// A UTC time broken into fields.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Civil {
    /// Year.
    pub year: i64,
    /// Month, 1–12.
    pub month: u32,
    /// Day of the month, 1–31.
    pub day: u32,
    /// Hour.
    pub hour: u32,
    /// Minute.
    pub minute: u32,
    /// Second.
    pub second: u32,
    /// Millisecond.
    pub milli: u32,
    /// Weekday, 0 = Thursday (the epoch's).
    weekday: usize,
}

/// Breaks `ms` since the epoch into UTC fields (days-from-civil inverse, after H. Hinnant).
pub fn civil(ms: i64) -> Civil {
    let days = ms.div_euclid(DAY_MS);
    let rest = ms.rem_euclid(DAY_MS);
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    let field = |v: i64| u32::try_from(v).unwrap_or(0);
    Civil {
        year,
        month: field(month),
        day: field(day),
        hour: field(rest / 3_600_000),
        minute: field(rest / 60_000 % 60),
        second: field(rest / 1000 % 60),
        milli: field(rest % 1000),
        weekday: usize::try_from(days.rem_euclid(7)).unwrap_or(0),
    }
}

impl Civil {
    fn month_name(&self) -> &'static str {
        MONTHS[usize::try_from(self.month.saturating_sub(1)).unwrap_or(0) % 12]
    }

    fn weekday_name(&self) -> &'static str {
        WEEKDAYS[self.weekday % 7]
    }
}

/// `2026-12-01T10:00:00.000Z` (RFC 3339, as Statuspage's JSON and Atom want).
pub fn rfc3339(ms: i64) -> String {
    let c = civil(ms);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z",
        c.year, c.month, c.day, c.hour, c.minute, c.second, c.milli
    )
}

/// `Tue, 01 Dec 2026 10:00:00 +0000` (RFC 2822, for RSS).
pub fn rfc2822(ms: i64) -> String {
    let c = civil(ms);
    format!(
        "{}, {:02} {} {:04} {:02}:{:02}:{:02} +0000",
        c.weekday_name(),
        c.day,
        c.month_name(),
        c.year,
        c.hour,
        c.minute,
        c.second
    )
}

/// `Tue, 01 Dec 2026 10:00:00 GMT` (HTTP's IMF-fixdate).
pub fn http_date(ms: i64) -> String {
    let c = civil(ms);
    format!(
        "{}, {:02} {} {:04} {:02}:{:02}:{:02} GMT",
        c.weekday_name(),
        c.day,
        c.month_name(),
        c.year,
        c.hour,
        c.minute,
        c.second
    )
}

/// `2026-12-01` (a day, for bars).
pub fn date(ms: i64) -> String {
    let c = civil(ms);
    format!("{:04}-{:02}-{:02}", c.year, c.month, c.day)
}

/// `1 Dec 2026, 10:00 UTC` (for people).
pub fn human(ms: i64) -> String {
    let c = civil(ms);
    format!(
        "{} {} {}, {:02}:{:02} UTC",
        c.day,
        c.month_name(),
        c.year,
        c.hour,
        c.minute
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
