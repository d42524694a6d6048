//! Throwaway databases for tests of this crate and of the binary.
//!
//! Each PostgreSQL test gets its own database, created from the server named
//! by `STATUSWATCH_TEST_PG_URL` (default `postgres://postgres@127.0.0.1:5432/test`)
//! and dropped when the handle is dropped, so tests run in parallel.

use std::time::Duration;

use sqlx::{Connection, Executor, PgConnection};

use crate::db::{Database, PoolSettings};

/// Where the test PostgreSQL server is reached.
pub fn pg_admin_url() -> String {
    std::env::var("STATUSWATCH_TEST_PG_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".to_owned())
}

/// Pool settings small enough for many parallel tests.
pub fn test_pool_settings() -> PoolSettings {
    PoolSettings {
        max_connections: 4,
        connect_timeout: Duration::from_secs(10),
    }
}

/// A PostgreSQL database that exists for one test.
#[derive(Debug)]
pub struct PgTestDb {
    name: String,
    url: String,
}

impl PgTestDb {
    /// Creates an empty database with a unique name.
    pub async fn create() -> Self {
        let admin = pg_admin_url();
        let name = format!("sw_test_{}", uuid::Uuid::now_v7().simple());
        let mut conn = PgConnection::connect(&admin)
            .await
            .unwrap_or_else(|e| panic!("test PostgreSQL at {admin} is unreachable: {e}"));
        conn.execute(format!("CREATE DATABASE {name}").as_str())
            .await
            .unwrap_or_else(|e| panic!("CREATE DATABASE {name}: {e}"));
        let _ = conn.close().await;
        let url = match admin.rsplit_once('/') {
            Some((server, _)) => format!("{server}/{name}"),
            None => panic!("STATUSWATCH_TEST_PG_URL has no database part: {admin}"),
        };
        Self { name, url }
    }

    /// URL of the test database.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Connects a pool to the test database.
    pub async fn connect(&self) -> Database {
        Database::connect(&self.url, test_pool_settings())
            .await
            .unwrap_or_else(|e| panic!("connect {}: {e}", self.url))
    }

    /// Drops the database now, closing whatever is still connected.
    pub async fn drop_now(&self) {
        if let Ok(mut conn) = PgConnection::connect(&pg_admin_url()).await {
            let _ = conn
                .execute(format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name).as_str())
                .await;
            let _ = conn.close().await;
        }
    }
}

impl Drop for PgTestDb {
    fn drop(&mut self) {
        // Drop runs inside the test's runtime; a separate thread with its own
        // runtime can block on the async DROP without stalling it.
        let name = self.name.clone();
        let url = self.url.clone();
        let handle = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build();
            if let Ok(runtime) = runtime {
                runtime.block_on(PgTestDb { name, url }.drop_now_forget());
            }
        });
        let _ = handle.join();
    }
}

impl PgTestDb {
    /// Drops the database and forgets `self`, so `Drop` does not run again.
    async fn drop_now_forget(self) {
        self.drop_now().await;
        std::mem::forget(self);
    }
}

/// Request-time settings from the built-in configuration files, as `serve` would load them.
pub fn app_settings(production: bool) -> crate::AppSettings {
    let mut table: toml::Table = include_str!("../../config/default.toml")
        .parse()
        .unwrap_or_else(|e| panic!("config/default.toml: {e}"));
    let layer: toml::Table = if production {
        include_str!("../../config/production.toml")
    } else {
        include_str!("../../config/development.toml")
    }
    .parse()
    .unwrap_or_else(|e| panic!("environment layer: {e}"));
    for (section, values) in layer {
        match (table.get_mut(&section), values) {
            (Some(toml::Value::Table(base)), toml::Value::Table(over)) => base.extend(over),
            (_, value) => {
                table.insert(section, value);
            }
        }
    }
    let section = |name: &str| {
        table
            .get(name)
            .cloned()
            .unwrap_or(toml::Value::Table(Default::default()))
    };
    crate::AppSettings {
        production,
        auth: section("auth")
            .try_into()
            .unwrap_or_else(|e| panic!("[auth]: {e}")),
        tenancy: section("tenancy")
            .try_into()
            .unwrap_or_else(|e| panic!("[tenancy]: {e}")),
    }
}
