//! Raw check results of one monitor, paged newest first.

use serde::Serialize;
use utoipa::ToSchema;

use crate::db::{Database, DbError};

/// One check result.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CheckResult {
    /// Result id.
    pub id: i64,
    /// Start of the check, ms.
    pub checked_at: i64,
    /// Up or degraded (true), down (false).
    pub ok: bool,
    /// Time to the answer, ms.
    pub latency_ms: Option<i64>,
    /// HTTP status.
    pub status_code: Option<i64>,
    /// Why it failed.
    pub error: Option<String>,
    /// Region of the prober.
    pub region: String,
}

/// A page of results.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ResultPage {
    /// Newest first.
    pub items: Vec<CheckResult>,
    /// Pass as `cursor` for the next (older) page; absent on the last page.
    pub next_cursor: Option<String>,
}

/// What page to read.
#[derive(Debug, Clone, Copy)]
pub struct PageQuery {
    /// From, ms (inclusive).
    pub from: i64,
    /// To, ms (exclusive).
    pub to: i64,
    /// Continue below this `(checked_at, id)`.
    pub cursor: Option<(i64, i64)>,
    /// Page size.
    pub limit: i64,
}

/// The `next_cursor` that continues below `(checked_at, id)`: `<checked_at>-<id>`.
pub fn encode_cursor((at, id): (i64, i64)) -> String {
    format!("{at}-{id}")
}

/// Parses a cursor as given out in `next_cursor`; only [`encode_cursor`]'s
/// own spelling is one (no `+`, no leading zeros), so each page has one cursor.
pub fn parse_cursor(text: &str) -> Option<(i64, i64)> {
    // The separator is the first `-` after the first character, which may
    // itself be the sign of a negative time.
    let split = text.char_indices().skip(1).find(|(_, c)| *c == '-')?.0;
    let cursor = (text[..split].parse().ok()?, text[split + 1..].parse().ok()?);
    (encode_cursor(cursor) == text).then_some(cursor)
}

type Row = (
    i64,
    i64,
    i64,
    Option<i64>,
    Option<i64>,
    Option<String>,
    String,
);

/// Results of a tenant's monitor.
pub async fn page(
    db: &Database,
    tenant_id: &str,
    monitor_id: &str,
    q: PageQuery,
) -> Result<ResultPage, DbError> {
    let (cursor_at, cursor_id) = q.cursor.unwrap_or((i64::MAX, i64::MAX));
    let rows: Vec<Row> = sqlx::query_as(
        "SELECT id, checked_at, ok, latency_ms, status_code, error, region FROM check_results \
         WHERE tenant_id = $1 AND monitor_id = $2 AND checked_at >= $3 AND checked_at < $4 \
         AND (checked_at < $5 OR (checked_at = $5 AND id < $6)) \
         ORDER BY checked_at DESC, id DESC LIMIT $7",
    )
    .bind(tenant_id)
    .bind(monitor_id)
    .bind(q.from)
    .bind(q.to)
    .bind(cursor_at)
    .bind(cursor_id)
    .bind(q.limit + 1)
    .fetch_all(db.pool())
    .await?;
    let more = rows.len() as i64 > q.limit;
    let items: Vec<CheckResult> = rows
        .into_iter()
        .take(usize::try_from(q.limit).unwrap_or(0))
        .map(
            |(id, checked_at, ok, latency_ms, status_code, error, region)| CheckResult {
                id,
                checked_at,
                ok: ok != 0,
                latency_ms,
                status_code,
                error,
                region,
            },
        )
        .collect();
    let next_cursor = more
        .then(|| items.last().map(|r| encode_cursor((r.checked_at, r.id))))
        .flatten();
    Ok(ResultPage { items, next_cursor })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Found by `cursors_round_trip`: a time before 1970 gave a cursor
    /// (`-5-3`) that the parser split at its sign and refused.
    #[test]
    fn negative_times_round_trip() {
        assert_eq!(parse_cursor(&encode_cursor((-5, 3))), Some((-5, 3)));
        assert_eq!(parse_cursor("-5--3"), Some((-5, -3)));
        assert_eq!(
            parse_cursor("1700000000000-42"),
            Some((1_700_000_000_000, 42))
        );
    }

    #[test]
    fn other_spellings_are_not_cursors() {
        for bad in [
            "", "-", "5", "5-", "-5", "+5-3", "05-3", "5-+3", "5-03", "5 -3", "a-b", "5-3-",
        ] {
            assert_eq!(parse_cursor(bad), None, "{bad}");
        }
    }

    mod properties {
        use proptest::prelude::*;

        use super::*;

        proptest! {
            #![proptest_config(ProptestConfig::with_cases(4096))]

            /// Every position a page can end at comes back from its cursor.
            #[test]
            fn cursors_round_trip(at in any::<i64>(), id in any::<i64>()) {
                prop_assert_eq!(parse_cursor(&encode_cursor((at, id))), Some((at, id)));
            }

            /// Any other text is refused, never a panic; what is accepted is
            /// exactly the cursor of what it parsed to.
            #[test]
            fn arbitrary_text_is_refused_or_canonical(text in "\\PC{0,40}|[-+0-9]{0,40}") {
                if let Some(cursor) = parse_cursor(&text) {
                    prop_assert_eq!(encode_cursor(cursor), text);
                }
            }
        }
    }
}
