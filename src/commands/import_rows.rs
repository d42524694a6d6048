//! What a `tenants import` file holds: `slug,name,owner_email` rows (RFC
//! 4180, an optional header row, blank lines ignored), each with the line it
//! starts on, so a skipped row is reported where the operator can find it
//! even after a quoted name that spans lines.

/// One row of the file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ImportRow {
    /// Three fields, trimmed; not yet validated.
    Tenant {
        /// Line the row starts on (1-based).
        line: u64,
        /// The slug as written.
        slug: String,
        /// The organization's name.
        name: String,
        /// The owner's email address.
        owner_email: String,
    },
    /// A row that is no tenant, and why.
    Skipped {
        /// Line the row starts on (1-based).
        line: u64,
        /// For the operator.
        reason: String,
    },
}

/// Every row of `input` in order; the header row and empty rows are left out.
pub fn rows(input: &[u8]) -> Vec<ImportRow> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .trim(csv::Trim::All)
        .from_reader(input);
    let mut rows = Vec::new();
    let mut first = true;
    let mut record = csv::StringRecord::new();
    loop {
        // Where the reader stands, for errors that carry no position.
        let here = reader.position().byte();
        let at = |position: Option<&csv::Position>| {
            line_of(input, position.map_or(here, csv::Position::byte))
        };
        match reader.read_record(&mut record) {
            Ok(false) => break,
            Ok(true) => {}
            Err(err) => {
                let line = at(err.position());
                if !matches!(err.kind(), csv::ErrorKind::Utf8 { .. }) {
                    // Only a bad encoding leaves the reader able to go on.
                    rows.push(ImportRow::Skipped {
                        line,
                        reason: format!("cannot read the rest of the file ({err})"),
                    });
                    break;
                }
                rows.push(ImportRow::Skipped {
                    line,
                    reason: "not valid CSV (not UTF-8 text)".to_owned(),
                });
                first = false;
                continue;
            }
        }
        let line = at(record.position());
        let header = first
            && record
                .get(0)
                .is_some_and(|f| f.eq_ignore_ascii_case("slug"));
        first = false;
        if header || record.iter().all(str::is_empty) {
            continue;
        }
        match record.iter().collect::<Vec<_>>().as_slice() {
            [slug, name, owner_email] => rows.push(ImportRow::Tenant {
                line,
                slug: (*slug).to_owned(),
                name: (*name).to_owned(),
                owner_email: (*owner_email).to_owned(),
            }),
            fields => rows.push(ImportRow::Skipped {
                line,
                reason: format!(
                    "expected 3 fields (slug,name,owner_email), found {}",
                    fields.len()
                ),
            }),
        }
    }
    rows
}

/// The line a record read from byte `start` begins on: the reader's
/// position is where it started looking, before the empty lines it skips.
fn line_of(input: &[u8], start: u64) -> u64 {
    let start = usize::try_from(start)
        .unwrap_or(usize::MAX)
        .min(input.len());
    let skipped = input[start..]
        .iter()
        .take_while(|b| matches!(b, b'\r' | b'\n'))
        .count();
    let before = &input[..start + skipped];
    1 + before.iter().filter(|b| **b == b'\n').count() as u64
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tenant(line: u64, slug: &str, name: &str, owner_email: &str) -> ImportRow {
        ImportRow::Tenant {
            line,
            slug: slug.to_owned(),
            name: name.to_owned(),
            owner_email: owner_email.to_owned(),
        }
    }

    fn lines(rows: &[ImportRow]) -> Vec<u64> {
        rows.iter()
            .map(|r| match r {
                ImportRow::Tenant { line, .. } | ImportRow::Skipped { line, .. } => *line,
            })
            .collect()
    }

    #[test]
    fn header_quotes_and_short_rows() {
        let file = "slug,name,owner_email\nbeta, Beta Labs ,bob@beta.example\ngamma,Gamma\n\
                    epsilon,\"Epsilon, Inc\",eve@eps.example\n";
        let rows = rows(file.as_bytes());
        assert_eq!(rows[0], tenant(2, "beta", "Beta Labs", "bob@beta.example"));
        assert!(
            matches!(&rows[1], ImportRow::Skipped { line: 3, reason } if reason.contains("found 2")),
            "{rows:?}"
        );
        assert_eq!(
            rows[2],
            tenant(4, "epsilon", "Epsilon, Inc", "eve@eps.example")
        );
        assert_eq!(rows.len(), 3);
    }

    /// Found by `written_files_read_back_row_for_row`: the row's index was
    /// reported as its line, wrong after a blank line or a name that spans lines.
    #[test]
    fn lines_count_blank_lines_and_line_breaks_in_names() {
        let file =
            "\nalpha,\"Alpha\nLabs\",ann@alpha.example\n\n\nbeta,Beta\ngamma,Gamma,g@g.example\n";
        let rows = rows(file.as_bytes());
        assert_eq!(
            rows[0],
            tenant(2, "alpha", "Alpha\nLabs", "ann@alpha.example")
        );
        assert_eq!(lines(&rows), [2, 6, 7]);
    }

    #[test]
    fn bad_encoding_skips_one_row_and_goes_on() {
        let mut file = b"alpha,A,a@a.example\nbeta,".to_vec();
        file.extend([0xff, 0xfe]);
        file.extend(b",b@b.example\ngamma,G,g@g.example\n");
        let rows = rows(&file);
        assert_eq!(lines(&rows), [1, 2, 3]);
        assert!(matches!(&rows[1], ImportRow::Skipped { reason, .. } if reason.contains("UTF-8")));
        assert_eq!(rows[2], tenant(3, "gamma", "G", "g@g.example"));
    }

    mod properties {
        use proptest::prelude::*;

        use super::*;

        /// A field as a spreadsheet might hold it: commas, quotes, line breaks.
        fn field() -> impl Strategy<Value = String> {
            "[a-z0-9]([a-zA-Z0-9 ,\"'\n@.-]{0,20}[a-z0-9])?"
        }

        /// Rows of one to four fields, some blank lines between them.
        fn file() -> impl Strategy<Value = Vec<(Vec<String>, u8)>> {
            prop::collection::vec((prop::collection::vec(field(), 1..5), 0_u8..3), 0..12)
        }

        /// One record as an RFC 4180 writer writes it.
        fn written<S: AsRef<[u8]>>(fields: &[S]) -> Vec<u8> {
            let mut writer = csv::WriterBuilder::new()
                .flexible(true)
                .from_writer(Vec::new());
            writer.write_record(fields).unwrap();
            writer.into_inner().unwrap()
        }

        proptest! {
            #![proptest_config(ProptestConfig::with_cases(2048))]

            /// Any bytes at all: no panic, and every row is reported at a
            /// line of the file, in order.
            #[test]
            fn arbitrary_input_never_panics(bytes in prop::collection::vec(any::<u8>(), 0..400)) {
                let rows = rows(&bytes);
                let found = lines(&rows);
                let total = 1 + bytes.iter().filter(|b| **b == b'\n').count() as u64;
                prop_assert!(found.windows(2).all(|w| w[0] <= w[1]), "{:?}", found);
                prop_assert!(found.iter().all(|l| (1..=total).contains(l)), "{:?} of {}", found, total);
            }
        }

        proptest! {
            #![proptest_config(ProptestConfig::with_cases(1024))]

            /// A file written by an RFC 4180 writer (as spreadsheets export)
            /// reads back row for row: three fields are a tenant, any other
            /// count is skipped, each at the line where its row starts.
            #[test]
            fn written_files_read_back_row_for_row(rows_in in file(), header in any::<bool>()) {
                let mut bytes = Vec::new();
                let mut line = 1;
                if header {
                    bytes.extend(written(&["slug", "name", "owner_email"]));
                    line += 1;
                }
                let mut expected = Vec::new();
                for (fields, blank) in &rows_in {
                    bytes.extend(std::iter::repeat_n(b'\n', usize::from(*blank)));
                    line += u64::from(*blank);
                    bytes.extend(written(fields));
                    expected.push(match fields.as_slice() {
                        [slug, name, email] => tenant(line, slug, name, email),
                        _ => ImportRow::Skipped { line, reason: String::new() },
                    });
                    line += 1 + fields.iter().map(|f| f.matches('\n').count() as u64).sum::<u64>();
                }
                prop_assume!(header || rows_in.first().is_none_or(|(f, _)| !f[0].eq_ignore_ascii_case("slug")));
                let got: Vec<ImportRow> = rows(&bytes)
                    .into_iter()
                    .map(|row| match row {
                        ImportRow::Skipped { line, .. } => ImportRow::Skipped { line, reason: String::new() },
                        tenant => tenant,
                    })
                    .collect();
                prop_assert_eq!(got, expected, "{}", String::from_utf8_lossy(&bytes));
            }
        }
    }
}
