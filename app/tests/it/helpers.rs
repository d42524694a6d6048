//! Databases and app state for tests.

use std::sync::Arc;

use app::db::{Database, sqlite_url_for};
use app::metrics::AppMetrics;
use app::test_support::{PgTestDb, test_pool_settings};
use app::{App, AppState};
use prometheus_client::registry::Registry;
use tempfile::TempDir;

/// A database of either dialect that lives as long as the test.
pub enum TestDb {
    /// A SQLite file in a temporary directory, removed with it.
    Sqlite { _dir: TempDir, db: Database },
    /// A throwaway PostgreSQL database.
    Postgres(PgTestDb, Database),
}

impl TestDb {
    pub async fn sqlite() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let url = sqlite_url_for(&dir.path().join("test.db"));
        let db = Database::connect(&url, test_pool_settings()).await.unwrap();
        Self::Sqlite { _dir: dir, db }
    }

    pub async fn postgres() -> Self {
        let pg = PgTestDb::create().await;
        let db = pg.connect().await;
        Self::Postgres(pg, db)
    }

    /// One of each dialect.
    pub async fn both() -> [Self; 2] {
        [Self::sqlite().await, Self::postgres().await]
    }

    pub fn db(&self) -> &Database {
        match self {
            Self::Sqlite { db, .. } | Self::Postgres(_, db) => db,
        }
    }
}

/// App state over `db` with its own registry.
pub fn state(db: &Database) -> AppState {
    let mut registry = Registry::default();
    let metrics = AppMetrics::register(&mut registry);
    AppState(Arc::new(App {
        db: db.clone(),
        metrics,
        registry: Arc::new(registry),
    }))
}
