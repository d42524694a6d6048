//! The tenant's CSV export of a page's subscribers (RFC 4180). Addresses
//! come from strangers, so a cell a spreadsheet would read as a formula
//! (starting with `=`, `+`, `-`, `@`, tab or carriage return) gets a leading
//! `'`, and cells with commas, quotes or line breaks are quoted.

use super::Subscriber;
use crate::status_page::dates::rfc3339;

/// The header row.
const HEADER: [&str; 8] = [
    "id",
    "kind",
    "address",
    "status",
    "components",
    "created_at",
    "confirmed_at",
    "unsubscribed_at",
];

/// One cell, defused and quoted as needed.
pub fn cell(value: &str) -> String {
    let defused = if value.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{value}")
    } else {
        value.to_owned()
    };
    if defused.contains([',', '"', '\r', '\n']) {
        format!("\"{}\"", defused.replace('"', "\"\""))
    } else {
        defused
    }
}

fn time(ms: Option<i64>) -> String {
    ms.map(rfc3339).unwrap_or_default()
}

/// The whole file: a header row, then one row per subscriber, CRLF line ends.
pub fn export(subscribers: &[Subscriber]) -> String {
    let mut out = HEADER.join(",");
    out.push_str("\r\n");
    for s in subscribers {
        let components = s
            .component_ids
            .as_ref()
            .map_or_else(|| "all".to_owned(), |ids| ids.join(" "));
        let row = [
            cell(&s.id),
            cell(s.kind.as_str()),
            cell(&s.address),
            cell(&s.status),
            cell(&components),
            cell(&time(Some(s.created_at))),
            cell(&time(s.confirmed_at)),
            cell(&time(s.unsubscribed_at)),
        ];
        out.push_str(&row.join(","));
        out.push_str("\r\n");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells_are_quoted_and_defused() {
        assert_eq!(cell("ann@example.com"), "ann@example.com");
        assert_eq!(cell("=HYPERLINK(\"x\")"), "\"'=HYPERLINK(\"\"x\"\")\"");
        assert_eq!(cell("+1"), "'+1");
        assert_eq!(cell("-1"), "'-1");
        assert_eq!(cell("@SUM(A1)"), "'@SUM(A1)");
        assert_eq!(cell("a,b"), "\"a,b\"");
        assert_eq!(cell("line\nbreak"), "\"line\nbreak\"");
        assert_eq!(cell(""), "");
    }
}
