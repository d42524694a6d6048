//! Roll-ups from raw results, uptime from roll-ups, and retention.

use app::config::ProberConfig;
use app::monitor::rollup::{enforce_retention, roll_up, uptime};
use axum::http::StatusCode;
use serde_json::json;

use crate::api::Api;
use crate::helpers::{TestDb, state};

const HOUR: i64 = 3_600_000;
const DAY: i64 = 24 * HOUR;

async fn insert(
    db: &app::db::Database,
    tenant: &str,
    monitor: &str,
    at: i64,
    ok: bool,
    latency: i64,
) {
    sqlx::query(
        "INSERT INTO check_results (tenant_id, monitor_id, checked_at, ok, latency_ms, region) \
         VALUES ($1, $2, $3, $4, $5, 'test')",
    )
    .bind(tenant)
    .bind(monitor)
    .bind(at)
    .bind(i64::from(ok))
    .bind(latency)
    .execute(db.pool())
    .await
    .unwrap();
}

#[tokio::test]
async fn hours_and_days_roll_up_and_retention_bounds_the_tables() {
    for test_db in TestDb::both_migrated().await {
        let db = test_db.db();
        let api = Api::new(state(db));
        let a = api.signup("alpha", "ann@alpha.example").await;
        let created = api
            .post(
                "/api/monitors",
                Some(&a.access),
                json!({"name": "db", "kind": "tcp", "host": "db.example", "port": 5432}),
            )
            .await;
        assert_eq!(created.status, StatusCode::CREATED);
        let id = created.body["id"].as_str().unwrap();
        let now = 100 * DAY + 30 * 60_000; // 00:30 on day 100
        let two_hours_ago = (now / HOUR - 2) * HOUR;
        // 100 checks in one hour: latencies 1..=100 ms, 10 failures.
        for i in 1..=100 {
            insert(db, &a.tenant_id, id, two_hours_ago + i * 1000, i > 10, i).await;
        }
        // Yesterday's results, and some old enough to be deleted.
        for i in 0..5 {
            insert(db, &a.tenant_id, id, now - DAY + i * 1000, true, 5).await;
            insert(db, &a.tenant_id, id, now - 10 * DAY + i, false, 5).await;
        }
        roll_up(db, now).await.unwrap();
        let hour: (i64, i64, i64, i64, i64) = sqlx::query_as(
            "SELECT checks, failures, p50_ms, p95_ms, p99_ms FROM check_rollups \
             WHERE monitor_id = $1 AND period = 'hour' AND bucket_start = $2",
        )
        .bind(id)
        .bind(two_hours_ago)
        .fetch_one(db.pool())
        .await
        .unwrap();
        assert_eq!(hour, (100, 10, 50, 95, 99));
        let day: (i64, i64) = sqlx::query_as(
            "SELECT checks, failures FROM check_rollups WHERE monitor_id = $1 AND period = 'day' AND bucket_start = $2",
        )
        .bind(id)
        .bind(99 * DAY)
        .fetch_one(db.pool())
        .await
        .unwrap();
        assert_eq!(day, (105, 10), "the day holds both of its hours");
        // Rolling up again changes nothing.
        roll_up(db, now).await.unwrap();
        let rows: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM check_rollups")
            .fetch_one(db.pool())
            .await
            .unwrap();
        // Only the last 48 hours are rolled up from raw results: the 10-day-old ones are not.
        assert_eq!(rows, 3, "two hours and their day");
        let up = uptime(db, &a.tenant_id, id, now).await.unwrap();
        // Whole hours: the hour that began 24.5 h ago is outside the 24 h span.
        assert_eq!((up.h24.checks, up.h24.failures), (100, 10));
        assert_eq!(up.h24.uptime_percent, Some(90.0));
        assert_eq!((up.d30.checks, up.d30.failures), (105, 10));
        assert_eq!(up.d7.checks, 105);
        assert_eq!(up.d7.uptime_percent, Some(90.476));

        let config = ProberConfig {
            raw_retention_days: 7,
            hourly_retention_days: 1,
            ..ProberConfig::defaults()
        };
        let deleted = enforce_retention(db, &config, now).await.unwrap();
        assert!(deleted >= 5, "{deleted}");
        let oldest: i64 = sqlx::query_scalar("SELECT MIN(checked_at) FROM check_results")
            .fetch_one(db.pool())
            .await
            .unwrap();
        assert!(oldest >= now - 7 * DAY);
        let hours: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM check_rollups WHERE period = 'hour' AND bucket_start < $1",
        )
        .bind(now - DAY)
        .fetch_one(db.pool())
        .await
        .unwrap();
        assert_eq!(hours, 0);
        // Another tenant's view of this monitor: nothing.
        let b = api.signup("beta", "bob@beta.example").await;
        let theirs = uptime(db, &b.tenant_id, id, now).await.unwrap();
        assert_eq!(theirs.d90.checks, 0);
    }
}
