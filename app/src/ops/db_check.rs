//! `db-check`: size, connections, tenants with their domains and row counts,
//! the largest tables and, on PostgreSQL, dead tuples, lock waits and slow
//! queries (when `pg_stat_statements` is installed).

use serde::Serialize;
use sqlx::Row;

use crate::db::{Database, DbError, Dialect};

/// Tables whose rows belong to a tenant, counted per tenant.
const TENANT_TABLES: [&str; 6] = [
    "monitors",
    "check_results",
    "incidents",
    "alert_channels",
    "alert_deliveries",
    "memberships",
];

/// One tenant's footprint.
#[derive(Debug, Clone, Serialize)]
pub struct TenantRows {
    /// The tenant, by the slug operators know it by.
    pub slug: String,
    /// `active` or `suspended`.
    pub status: String,
    /// Every hostname of the tenant (subdomain and custom domains).
    pub domains: Vec<String>,
    /// Rows per tenant-owned table, in `TENANT_TABLES` order.
    pub rows: Vec<(String, i64)>,
}

/// One table's size.
#[derive(Debug, Clone, Serialize)]
pub struct TableSize {
    /// Table name.
    pub name: String,
    /// Bytes on disk (table and indexes), when the database can tell.
    pub bytes: Option<i64>,
    /// Rows (estimated on PostgreSQL, exact on SQLite).
    pub rows: i64,
    /// Dead tuples over all tuples (PostgreSQL only).
    pub dead_ratio: Option<f64>,
}

/// A statement that took long on average (PostgreSQL with `pg_stat_statements`).
#[derive(Debug, Clone, Serialize)]
pub struct SlowQuery {
    /// The normalised statement, cut to 200 characters.
    pub query: String,
    /// Times run.
    pub calls: i64,
    /// Mean time in milliseconds.
    pub mean_ms: f64,
}

/// Everything `db-check` reports.
#[derive(Debug, Clone, Serialize)]
pub struct DbReport {
    /// `sqlite` or `postgres`.
    pub dialect: String,
    /// Bytes the database takes.
    pub size_bytes: i64,
    /// Open connections by state (PostgreSQL), or the pool's own on SQLite.
    pub connections: Vec<(String, i64)>,
    /// Sessions waiting on a lock right now (PostgreSQL).
    pub lock_waits: i64,
    /// Tenants with their domains and row counts.
    pub tenants: Vec<TenantRows>,
    /// The ten largest tables.
    pub largest_tables: Vec<TableSize>,
    /// Why slow queries are missing, or the slowest by mean time.
    pub slow_queries: Result<Vec<SlowQuery>, String>,
}

/// Gathers the report.
pub async fn db_check(db: &Database) -> Result<DbReport, DbError> {
    let pool = db.pool();
    let dialect = db.dialect();
    let mut tenants = Vec::new();
    let rows = sqlx::query("SELECT id, slug, status FROM tenants ORDER BY slug")
        .fetch_all(pool)
        .await?;
    for row in rows {
        let id: String = row.try_get(0)?;
        let domains: Vec<String> = sqlx::query_scalar(
            "SELECT hostname FROM domains WHERE tenant_id = $1 ORDER BY kind DESC, hostname",
        )
        .bind(&id)
        .fetch_all(pool)
        .await?;
        let mut counts = Vec::new();
        for table in TENANT_TABLES {
            let n: i64 = sqlx::query_scalar(&format!(
                "SELECT COUNT(*) FROM {table} WHERE tenant_id = $1"
            ))
            .bind(&id)
            .fetch_one(pool)
            .await?;
            counts.push((table.to_owned(), n));
        }
        tenants.push(TenantRows {
            slug: row.try_get(1)?,
            status: row.try_get(2)?,
            domains,
            rows: counts,
        });
    }
    let report = match dialect {
        Dialect::Postgres => postgres(db, tenants).await?,
        Dialect::Sqlite => sqlite(db, tenants).await?,
    };
    Ok(report)
}

async fn sqlite(db: &Database, tenants: Vec<TenantRows>) -> Result<DbReport, DbError> {
    let pool = db.pool();
    let pages: i64 = sqlx::query_scalar("PRAGMA page_count")
        .fetch_one(pool)
        .await?;
    let page_size: i64 = sqlx::query_scalar("PRAGMA page_size")
        .fetch_one(pool)
        .await?;
    let names: Vec<String> = sqlx::query_scalar(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name NOT LIKE '_sqlx%'",
    )
    .fetch_all(pool)
    .await?;
    let mut tables = Vec::new();
    for name in names {
        let rows: i64 = sqlx::query_scalar(&format!("SELECT COUNT(*) FROM \"{name}\""))
            .fetch_one(pool)
            .await?;
        // dbstat is compiled into the bundled SQLite; a system one may lack it.
        let bytes: Option<i64> = sqlx::query_scalar(
            "SELECT CAST(SUM(pgsize) AS BIGINT) FROM dbstat WHERE name = $1 \
             OR name IN (SELECT name FROM sqlite_master WHERE tbl_name = $1 AND type = 'index')",
        )
        .bind(&name)
        .fetch_one(pool)
        .await
        .ok()
        .flatten();
        tables.push(TableSize {
            name,
            bytes,
            rows,
            dead_ratio: None,
        });
    }
    sort_largest(&mut tables);
    Ok(DbReport {
        dialect: "sqlite".to_owned(),
        size_bytes: pages * page_size,
        connections: vec![("pool".to_owned(), i64::from(pool.size()))],
        lock_waits: 0,
        tenants,
        largest_tables: tables,
        slow_queries: Err("not available on SQLite".to_owned()),
    })
}

async fn postgres(db: &Database, tenants: Vec<TenantRows>) -> Result<DbReport, DbError> {
    let pool = db.pool();
    let size_bytes: i64 =
        sqlx::query_scalar("SELECT CAST(pg_database_size(current_database()) AS BIGINT)")
            .fetch_one(pool)
            .await?;
    let connections = sqlx::query(
        "SELECT COALESCE(state, 'background'), CAST(COUNT(*) AS BIGINT) FROM pg_stat_activity \
         WHERE datname = current_database() GROUP BY 1 ORDER BY 1",
    )
    .fetch_all(pool)
    .await?
    .iter()
    .map(|row| Ok((row.try_get(0)?, row.try_get(1)?)))
    .collect::<Result<Vec<(String, i64)>, sqlx::Error>>()?;
    let lock_waits: i64 = sqlx::query_scalar(
        "SELECT CAST(COUNT(*) AS BIGINT) FROM pg_stat_activity WHERE wait_event_type = 'Lock'",
    )
    .fetch_one(pool)
    .await?;
    let mut tables = sqlx::query(
        "SELECT CAST(relname AS TEXT), CAST(pg_total_relation_size(relid) AS BIGINT), \
         CAST(n_live_tup AS BIGINT), CAST(n_dead_tup AS BIGINT) FROM pg_stat_user_tables",
    )
    .fetch_all(pool)
    .await?
    .iter()
    .map(|row| {
        let live: i64 = row.try_get(2)?;
        let dead: i64 = row.try_get(3)?;
        Ok(TableSize {
            name: row.try_get(0)?,
            bytes: Some(row.try_get(1)?),
            rows: live,
            dead_ratio: Some(dead_ratio(live, dead)),
        })
    })
    .collect::<Result<Vec<_>, sqlx::Error>>()?;
    sort_largest(&mut tables);
    Ok(DbReport {
        dialect: "postgres".to_owned(),
        size_bytes,
        connections,
        lock_waits,
        tenants,
        largest_tables: tables,
        slow_queries: slow_queries(db).await,
    })
}

/// Dead over all tuples; 0 for an empty table.
fn dead_ratio(live: i64, dead: i64) -> f64 {
    let all = live.saturating_add(dead);
    if all <= 0 {
        0.0
    } else {
        dead as f64 / all as f64
    }
}

fn sort_largest(tables: &mut Vec<TableSize>) {
    tables.sort_by(|a, b| {
        (b.bytes.unwrap_or(0), b.rows)
            .cmp(&(a.bytes.unwrap_or(0), a.rows))
            .then_with(|| a.name.cmp(&b.name))
    });
    tables.truncate(10);
}

async fn slow_queries(db: &Database) -> Result<Vec<SlowQuery>, String> {
    let pool = db.pool();
    let installed: Option<i64> = sqlx::query_scalar(
        "SELECT 1::BIGINT FROM pg_extension WHERE extname = 'pg_stat_statements'",
    )
    .fetch_optional(pool)
    .await
    .map_err(|err| err.to_string())?;
    if installed.is_none() {
        return Err(
            "pg_stat_statements is not installed (CREATE EXTENSION pg_stat_statements)".to_owned(),
        );
    }
    let rows = sqlx::query(
        "SELECT LEFT(query, 200), CAST(calls AS BIGINT), CAST(mean_exec_time AS DOUBLE PRECISION) \
         FROM pg_stat_statements ORDER BY mean_exec_time DESC LIMIT 5",
    )
    .fetch_all(pool)
    .await
    // Installed but not preloaded: the view exists and refuses to be read.
    .map_err(|err| format!("pg_stat_statements cannot be read: {err}"))?;
    rows.iter()
        .map(|row| {
            Ok(SlowQuery {
                query: row.try_get(0)?,
                calls: row.try_get(1)?,
                mean_ms: row.try_get(2)?,
            })
        })
        .collect::<Result<Vec<_>, sqlx::Error>>()
        .map_err(|err| err.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dead_ratio_of_empty_and_busy_tables() {
        assert_eq!(dead_ratio(0, 0), 0.0);
        assert!((dead_ratio(75, 25) - 0.25).abs() < 1e-9);
    }
}
