//! Both dialects migrate, idempotently, to the same tables and columns.

use std::collections::BTreeSet;

use app::db::{Database, Dialect, MigrationStatus};

use crate::helpers::TestDb;

/// `(table, column, type family, not null)` of every user table.
async fn columns(db: &Database) -> BTreeSet<(String, String, &'static str, bool)> {
    let rows: Vec<(String, String, String, i64)> = sqlx::query_as(db.dialect().columns_query())
        .fetch_all(db.pool())
        .await
        .unwrap();
    rows.into_iter()
        .map(|(table, column, ty, not_null)| (table, column, type_family(&ty), not_null != 0))
        .collect()
}

/// Maps each dialect's spelling of a type to one family, failing on anything unexpected.
fn type_family(ty: &str) -> &'static str {
    match ty {
        "text" => "text",
        "bigint" | "integer" => "integer",
        // No "boolean": flags are integers, since the Any driver cannot read SQLite booleans.
        "blob" | "bytea" => "bytes",
        other => panic!("unexpected column type {other}"),
    }
}

async fn indexes(db: &Database) -> BTreeSet<String> {
    sqlx::query_scalar::<_, String>(db.dialect().indexes_query())
        .fetch_all(db.pool())
        .await
        .unwrap()
        .into_iter()
        .collect()
}

#[tokio::test]
async fn both_dialects_end_with_the_same_schema() {
    let [sqlite, postgres] = TestDb::both().await;
    for test_db in [&sqlite, &postgres] {
        test_db.db().migrations().run().await.unwrap();
    }
    let (lite, pg) = (columns(sqlite.db()).await, columns(postgres.db()).await);
    assert!(!lite.is_empty());
    let only_sqlite: Vec<_> = lite.difference(&pg).collect();
    let only_pg: Vec<_> = pg.difference(&lite).collect();
    assert!(
        only_sqlite.is_empty() && only_pg.is_empty(),
        "schemas differ\nonly in sqlite: {only_sqlite:#?}\nonly in postgres: {only_pg:#?}"
    );
    assert_eq!(indexes(sqlite.db()).await, indexes(postgres.db()).await);
}

#[tokio::test]
async fn the_schema_covers_the_first_capabilities() {
    let test_db = TestDb::sqlite().await;
    test_db.db().migrations().run().await.unwrap();
    let cols = columns(test_db.db()).await;
    let tables: BTreeSet<&str> = cols.iter().map(|(t, ..)| t.as_str()).collect();
    for table in [
        "tenants",
        "domains",
        "users",
        "memberships",
        "refresh_tokens",
        "monitors",
        "check_results",
        "incidents",
        "alert_channels",
        "certificates",
        "acme_accounts",
        "billing_events",
    ] {
        assert!(tables.contains(table), "missing table {table}");
    }
    // Row-level tenancy: every tenant-owned table carries tenant_id. The
    // edge's certificate tables are platform-owned, keyed by hostname.
    for table in tables.iter().filter(|t| {
        !matches!(
            **t,
            "tenants"
                | "users"
                | "certificates"
                | "acme_accounts"
                | "acme_leases"
                | "acme_challenges"
                | "acme_queue"
                | "acme_pending_orders"
        )
    }) {
        assert!(
            cols.iter().any(|(t, c, ..)| t == table && c == "tenant_id"),
            "{table} has no tenant_id"
        );
    }
    let idx = indexes(test_db.db()).await;
    for index in [
        "monitors_due_idx",
        "monitors_tenant_idx",
        "check_results_monitor_time_idx",
        "domains_hostname_key",
    ] {
        assert!(idx.contains(index), "missing index {index}");
    }
}

#[tokio::test]
async fn migrating_twice_changes_nothing_and_status_follows() {
    for test_db in TestDb::both().await {
        let db = test_db.db();
        let migrations = db.migrations();
        let pending = migrations.status().await.unwrap();
        assert_eq!(
            pending,
            MigrationStatus::Pending {
                versions: migrations.known_versions()
            },
            "{}",
            db.dialect().name()
        );
        migrations.run().await.unwrap();
        let current = migrations.status().await.unwrap();
        assert!(current.is_current(), "{current:?}");
        migrations.run().await.unwrap();
        assert_eq!(migrations.status().await.unwrap(), current);
    }
}

#[tokio::test]
async fn a_failed_or_edited_migration_is_reported() {
    for test_db in TestDb::both().await {
        let db = test_db.db();
        db.migrations().run().await.unwrap();
        let version = *db.migrations().known_versions().last().unwrap();
        sqlx::query("UPDATE _sqlx_migrations SET checksum = $1 WHERE version = $2")
            .bind(vec![0_u8; 4])
            .bind(version)
            .execute(db.pool())
            .await
            .unwrap();
        assert_eq!(
            db.migrations().status().await.unwrap(),
            MigrationStatus::Modified { version }
        );
        sqlx::query("UPDATE _sqlx_migrations SET success = FALSE WHERE version = $1")
            .bind(version)
            .execute(db.pool())
            .await
            .unwrap();
        assert_eq!(
            db.migrations().status().await.unwrap(),
            MigrationStatus::Failed { version }
        );
    }
}

#[tokio::test]
async fn constraints_hold_in_both_dialects() {
    for test_db in TestDb::both().await {
        let db = test_db.db();
        db.migrations().run().await.unwrap();
        let insert = "INSERT INTO tenants (id, slug, name, created_at, updated_at) VALUES ($1, $2, $3, 0, 0)";
        sqlx::query(insert)
            .bind("t1")
            .bind("acme")
            .bind("Acme")
            .execute(db.pool())
            .await
            .unwrap();
        let duplicate = sqlx::query(insert)
            .bind("t2")
            .bind("acme")
            .bind("Other")
            .execute(db.pool())
            .await;
        assert!(
            duplicate.is_err(),
            "{}: duplicate slug accepted",
            db.dialect().name()
        );
        let orphan = sqlx::query(
            "INSERT INTO domains (id, tenant_id, hostname, kind, created_at) VALUES ('d1', 'nope', 'x.localhost', 'subdomain', 0)",
        )
        .execute(db.pool())
        .await;
        assert!(
            orphan.is_err(),
            "{}: domain without tenant accepted",
            db.dialect().name()
        );
        let bad_state = sqlx::query(
            "INSERT INTO tenants (id, slug, name, status, created_at, updated_at) VALUES ('t3', 'b', 'B', 'deleted', 0, 0)",
        )
        .execute(db.pool())
        .await;
        assert!(
            bad_state.is_err(),
            "{}: unknown tenant status accepted",
            db.dialect().name()
        );
        let count: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM tenants")
            .fetch_one(db.pool())
            .await
            .unwrap();
        assert_eq!(count, 1, "{}", db.dialect().name());
        assert!(matches!(db.dialect(), Dialect::Sqlite | Dialect::Postgres));
    }
}
