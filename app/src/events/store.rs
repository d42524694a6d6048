//! The `events` and `event_watchers` tables.
//!
//! Streams resume by sequence number, so sequence numbers must become
//! visible in order: a reader that has seen event 11 must never later find a
//! newly committed event 10. SQLite has one writer at a time, so that holds
//! by itself. On PostgreSQL two transactions could take 10 and 11 and commit
//! the other way round, so [`append`] first takes a transaction-scoped
//! advisory lock: event-writing transactions then number and commit one
//! after the other. The lock is taken last in each transaction, just before
//! the insert and the commit, so it is held for milliseconds.

use std::collections::HashSet;

use sqlx::AnyConnection;

use super::NewEvent;
use crate::db::{Database, DbError, Dialect};

/// Key of the advisory lock that orders event writers (PostgreSQL).
const APPEND_LOCK: i64 = 0x5357_4556_454e_5453; // "SWEVENTS"
/// Rows per multi-row insert (4 parameters each).
const INSERT_ROWS: usize = 200;
/// Most rows one delete removes during retention.
const DELETE_BATCH: i64 = 5000;

/// An event as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredEvent {
    /// Position in the feed: the SSE `id`.
    pub seq: i64,
    /// Owner.
    pub tenant_id: String,
    /// `event:` name.
    pub kind: String,
    /// JSON data.
    pub data: String,
}

/// Appends `events` in the caller's transaction (one begun with
/// [`Database::begin_write`]); call it last, just before committing.
pub async fn append(
    conn: &mut AnyConnection,
    dialect: Dialect,
    events: &[NewEvent],
) -> Result<(), sqlx::Error> {
    if events.is_empty() {
        return Ok(());
    }
    if dialect == Dialect::Postgres {
        sqlx::query("SELECT pg_advisory_xact_lock($1)")
            .bind(APPEND_LOCK)
            .execute(&mut *conn)
            .await?;
    }
    for chunk in events.chunks(INSERT_ROWS) {
        let mut sql = String::from("INSERT INTO events (tenant_id, kind, data, at) VALUES ");
        for i in 0..chunk.len() {
            let b = i * 4;
            if i > 0 {
                sql.push_str(", ");
            }
            sql.push_str(&format!("(${}, ${}, ${}, ${})", b + 1, b + 2, b + 3, b + 4));
        }
        let mut query = sqlx::query(&sql);
        for event in chunk {
            query = query
                .bind(&event.tenant_id)
                .bind(event.kind)
                .bind(&event.data)
                .bind(event.at);
        }
        query.execute(&mut *conn).await?;
    }
    Ok(())
}

/// The highest sequence number so far (0 when there is none).
pub async fn last_seq(db: &Database) -> Result<i64, DbError> {
    let seq: Option<i64> = sqlx::query_scalar("SELECT MAX(seq) FROM events")
        .fetch_one(db.pool())
        .await?;
    Ok(seq.unwrap_or(0))
}

/// Events of every tenant after `seq`, oldest first: the poller's one query.
pub async fn all_after(db: &Database, seq: i64, limit: i64) -> Result<Vec<StoredEvent>, DbError> {
    let rows: Vec<(i64, String, String, String)> = sqlx::query_as(
        "SELECT seq, tenant_id, kind, data FROM events WHERE seq > $1 ORDER BY seq LIMIT $2",
    )
    .bind(seq)
    .bind(limit)
    .fetch_all(db.pool())
    .await?;
    Ok(rows
        .into_iter()
        .map(|(seq, tenant_id, kind, data)| StoredEvent {
            seq,
            tenant_id,
            kind,
            data,
        })
        .collect())
}

/// Events of one tenant with `after < seq <= upto`, oldest first.
pub async fn tenant_between(
    db: &Database,
    tenant_id: &str,
    after: i64,
    upto: i64,
    limit: i64,
) -> Result<Vec<StoredEvent>, DbError> {
    let rows: Vec<(i64, String, String)> = sqlx::query_as(
        "SELECT seq, kind, data FROM events WHERE tenant_id = $1 AND seq > $2 AND seq <= $3 \
         ORDER BY seq LIMIT $4",
    )
    .bind(tenant_id)
    .bind(after)
    .bind(upto)
    .bind(limit)
    .fetch_all(db.pool())
    .await?;
    Ok(rows
        .into_iter()
        .map(|(seq, kind, data)| StoredEvent {
            seq,
            tenant_id: tenant_id.to_owned(),
            kind,
            data,
        })
        .collect())
}

/// Marks `tenants` as watched until at least `until` (ms).
pub async fn renew_watchers(db: &Database, tenants: &[String], until: i64) -> Result<(), DbError> {
    for tenant_id in tenants {
        sqlx::query(
            "INSERT INTO event_watchers (tenant_id, expires_at) VALUES ($1, $2) \
             ON CONFLICT (tenant_id) DO UPDATE SET expires_at = CASE \
               WHEN excluded.expires_at > event_watchers.expires_at THEN excluded.expires_at \
               ELSE event_watchers.expires_at END",
        )
        .bind(tenant_id)
        .bind(until)
        .execute(db.pool())
        .await?;
    }
    Ok(())
}

/// Tenants someone watches at `now`: the ones that get `monitor.check` events.
pub async fn watched(db: &Database, now: i64) -> Result<HashSet<String>, DbError> {
    let rows: Vec<String> =
        sqlx::query_scalar("SELECT tenant_id FROM event_watchers WHERE expires_at > $1")
            .bind(now)
            .fetch_all(db.pool())
            .await?;
    Ok(rows.into_iter().collect())
}

/// Deletes events older than `cutoff` and watchers expired before it; returns rows deleted.
pub async fn prune(db: &Database, cutoff: i64) -> Result<u64, DbError> {
    let mut deleted = 0;
    loop {
        let done = sqlx::query(
            "DELETE FROM events WHERE seq IN (SELECT seq FROM events WHERE at < $1 LIMIT $2)",
        )
        .bind(cutoff)
        .bind(DELETE_BATCH)
        .execute(db.pool())
        .await?
        .rows_affected();
        deleted += done;
        if done < u64::try_from(DELETE_BATCH).unwrap_or(u64::MAX) {
            break;
        }
        // Let other writers in between batches.
        tokio::task::yield_now().await;
    }
    deleted += sqlx::query("DELETE FROM event_watchers WHERE expires_at < $1")
        .bind(cutoff)
        .execute(db.pool())
        .await?
        .rows_affected();
    Ok(deleted)
}
