//! Rows of a tenant as text, to see that nothing of B changed, and the
//! strings of B that a call as A must not show.

use std::collections::{BTreeMap, BTreeSet};

use app::db::{Database, Dialect};
use sqlx::{Column, Row};

use super::setup::Tenant;

/// Rows per table, each row as sorted `column=value` cells.
pub(super) type Snapshot = BTreeMap<String, Vec<String>>;

/// Tables with a `tenant_id` column.
pub(super) async fn tenant_tables(db: &Database) -> Vec<String> {
    let sql = match db.dialect() {
        Dialect::Sqlite => {
            "SELECT m.name FROM sqlite_master m JOIN pragma_table_info(m.name) p \
             WHERE m.type = 'table' AND p.name = 'tenant_id' ORDER BY m.name"
        }
        Dialect::Postgres => {
            "SELECT table_name::text FROM information_schema.columns \
             WHERE column_name = 'tenant_id' AND table_schema = current_schema() ORDER BY 1"
        }
    };
    sqlx::query_scalar(sql).fetch_all(db.pool()).await.unwrap()
}

/// One cell as text, whatever its type.
pub(super) fn cell(row: &sqlx::any::AnyRow, i: usize) -> String {
    if let Ok(v) = row.try_get::<Option<String>, _>(i) {
        return format!("{v:?}");
    }
    if let Ok(v) = row.try_get::<Option<i64>, _>(i) {
        return format!("{v:?}");
    }
    if let Ok(v) = row.try_get::<Option<f64>, _>(i) {
        return format!("{v:?}");
    }
    if let Ok(v) = row.try_get::<Option<bool>, _>(i) {
        return format!("{v:?}");
    }
    if let Ok(v) = row.try_get::<Option<Vec<u8>>, _>(i) {
        return format!("{v:?}");
    }
    "?".to_owned()
}

/// What a subscription to a public page writes.
pub(super) const SUBSCRIPTION_TABLES: [&str; 3] = [
    "status_subscribers",
    "status_subscriber_components",
    "status_deliveries",
];

/// Columns that change by design when someone else acts: anyone may fail
/// a login (the lockout counter), and a key records its last use.
pub(super) const MOVING: [&str; 3] = ["failed_logins", "locked_until", "last_used_at"];

pub(super) async fn dump(db: &Database, sql: &str, bind: &[&str]) -> Vec<String> {
    let mut query = sqlx::query(sql);
    for value in bind {
        query = query.bind(*value);
    }
    let mut rows: Vec<String> = query
        .fetch_all(db.pool())
        .await
        .unwrap()
        .iter()
        .map(|row| {
            let mut cells: Vec<String> = row
                .columns()
                .iter()
                .filter(|c| !MOVING.contains(&c.name()))
                .map(|c| format!("{}={}", c.name(), cell(row, c.ordinal())))
                .collect();
            cells.sort();
            cells.join(" ")
        })
        .collect();
    rows.sort();
    rows
}

/// Every row of `tenant`: its tenant-owned rows, the tenant and its users.
pub(super) async fn snapshot(db: &Database, tenant: &Tenant) -> Snapshot {
    let id = tenant.owner.tenant_id.as_str();
    let mut rows = Snapshot::new();
    for table in tenant_tables(db).await {
        let sql = format!("SELECT * FROM {table} WHERE tenant_id = $1");
        rows.insert(table, dump(db, &sql, &[id]).await);
    }
    rows.insert(
        "tenants".into(),
        dump(db, "SELECT * FROM tenants WHERE id = $1", &[id]).await,
    );
    for user in &tenant.user_ids {
        rows.insert(
            format!("users {user}"),
            dump(db, "SELECT * FROM users WHERE id = $1", &[user]).await,
        );
    }
    rows
}

/// The text values of `rows` worth looking for: ids, names, hashes (eight
/// characters or more; shorter ones are words like `active`).
pub(super) fn strings(rows: &Snapshot) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for row in rows.values().flatten() {
        for cell in row.split(" ") {
            if let Some((_, value)) = cell.split_once("=Some(\"")
                && let Some(value) = value.strip_suffix("\")")
                && value.len() >= 8
            {
                out.insert(value.replace("\\\"", "\""));
            }
        }
    }
    out
}

/// The text of the rows of one page (what its public routes may show), and the tenant's own names.
pub(super) async fn public_strings(
    db: &Database,
    tenant: &Tenant,
    page: &str,
    host: &str,
) -> BTreeSet<String> {
    let mut rows = Snapshot::new();
    for (name, sql) in [
        ("pages", "SELECT * FROM status_pages WHERE id = $1"),
        (
            "groups",
            "SELECT * FROM status_component_groups WHERE page_id = $1",
        ),
        (
            "components",
            "SELECT * FROM status_components WHERE page_id = $1",
        ),
        (
            "incidents",
            "SELECT * FROM status_incidents WHERE page_id = $1",
        ),
        (
            "updates",
            "SELECT u.* FROM status_incident_updates u JOIN status_incidents i ON i.id = u.incident_id WHERE i.page_id = $1",
        ),
    ] {
        rows.insert(name.into(), dump(db, sql, &[page]).await);
    }
    let mut out = strings(&rows);
    out.extend(strings(
        &[(
            "tenants".to_owned(),
            dump(
                db,
                "SELECT name, slug FROM tenants WHERE id = $1",
                &[&tenant.owner.tenant_id],
            )
            .await,
        )]
        .into(),
    ));
    // Its address, as its links and a subscriber's origin write it.
    for scheme in ["http", "https"] {
        out.insert(format!("{scheme}://{host}"));
    }
    out.insert(host.to_owned());
    out
}

/// Ids of `tenant`'s things by table, as the database holds them now (A's
/// change as the test runs); `*` holds them all.
pub(super) async fn ids(db: &Database, tenant: &str) -> BTreeMap<String, Vec<String>> {
    let mut out = BTreeMap::from([("tenants".to_owned(), vec![tenant.to_owned()])]);
    for table in tenant_tables(db).await {
        let column = match table.as_str() {
            "memberships" => "user_id",
            "check_rollups"
            | "event_watchers"
            | "events"
            | "status_component_monitors"
            | "status_incident_components"
            | "status_subscriber_components"
            | "handover_codes" => {
                continue;
            }
            _ => "id",
        };
        let sql = format!("SELECT CAST({column} AS TEXT) FROM {table} WHERE tenant_id = $1");
        let found: Vec<String> = sqlx::query_scalar(&sql)
            .bind(tenant)
            .fetch_all(db.pool())
            .await
            .unwrap_or_default();
        if !found.is_empty() {
            out.insert(table, found);
        }
    }
    let all = out.values().flatten().cloned().collect();
    out.insert("*".to_owned(), all);
    out
}
