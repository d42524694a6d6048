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

/// Parses a cursor as given out in `next_cursor`.
pub fn parse_cursor(text: &str) -> Option<(i64, i64)> {
    let (at, id) = text.split_once('-')?;
    Some((at.parse().ok()?, id.parse().ok()?))
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
        .then(|| items.last().map(|r| format!("{}-{}", r.checked_at, r.id)))
        .flatten();
    Ok(ResultPage { items, next_cursor })
}
