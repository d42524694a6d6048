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

    mod properties {
        use proptest::prelude::*;

        use super::*;
        use crate::status_page::subscribers::SubscriberKind;

        /// What a spreadsheet shows for a value: itself, after a `'` when
        /// it would otherwise be read as a formula.
        fn shown(value: &str) -> String {
            if value.starts_with(['=', '+', '-', '@', '\t', '\r']) {
                format!("'{value}")
            } else {
                value.to_owned()
            }
        }

        fn text() -> impl Strategy<Value = String> {
            "\\PC{0,30}|[=+@\t\r-][ -~\t\r\n]{0,20}|[ -~\r\n\",]{0,30}"
        }

        fn subscriber() -> impl Strategy<Value = Subscriber> {
            (
                (text(), any::<bool>(), text()),
                prop::sample::select(vec!["pending", "active", "unsubscribed"]),
                prop::option::of(prop::collection::vec("[a-z0-9-]{1,12}", 0..4)),
                (
                    0_i64..4_102_444_800_000,
                    prop::option::of(0_i64..4_102_444_800_000),
                ),
                prop::option::of(0_i64..4_102_444_800_000),
            )
                .prop_map(
                    |(
                        (id, webhook, address),
                        status,
                        component_ids,
                        (created_at, confirmed_at),
                        unsubscribed_at,
                    )| {
                        Subscriber {
                            id,
                            page_id: "page".to_owned(),
                            kind: if webhook {
                                SubscriberKind::Webhook
                            } else {
                                SubscriberKind::Email
                            },
                            address,
                            status: status.to_owned(),
                            component_ids,
                            created_at,
                            confirmed_at,
                            unsubscribed_at,
                        }
                    },
                )
        }

        proptest! {
            #![proptest_config(ProptestConfig::with_cases(1024))]

            /// Read back by an RFC 4180 reader, the export holds the header
            /// and one row per subscriber whose cells are the values as a
            /// spreadsheet should show them: nothing else, and no formula.
            #[test]
            fn exports_read_back_cell_for_cell(subscribers in prop::collection::vec(subscriber(), 0..6)) {
                let text = export(&subscribers);
                let mut reader = ::csv::ReaderBuilder::new().from_reader(text.as_bytes());
                prop_assert_eq!(reader.headers().unwrap().iter().collect::<Vec<_>>(), HEADER.to_vec());
                let rows: Vec<Vec<String>> = reader
                    .records()
                    .map(|r| r.unwrap().iter().map(str::to_owned).collect())
                    .collect();
                prop_assert_eq!(rows.len(), subscribers.len(), "{}", text);
                for (row, s) in rows.iter().zip(&subscribers) {
                    let components = s.component_ids.as_ref().map_or_else(|| "all".to_owned(), |ids| ids.join(" "));
                    let expected = [
                        shown(&s.id),
                        s.kind.as_str().to_owned(),
                        shown(&s.address),
                        s.status.clone(),
                        shown(&components),
                        time(Some(s.created_at)),
                        time(s.confirmed_at),
                        time(s.unsubscribed_at),
                    ];
                    prop_assert_eq!(row.as_slice(), expected.as_slice(), "{}", text);
                    for cell in row {
                        prop_assert!(!cell.starts_with(['=', '+', '-', '@', '\t', '\r']), "formula: {:?}", cell);
                    }
                }
            }
        }
    }
}
