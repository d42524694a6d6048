//! Databases and app state for tests.

use app::db::{Database, sqlite_url_for};
use app::mail::Mailer;
use app::test_support::{PgTestDb, app_settings, test_pool_settings};
use app::{App, AppSettings, AppState};
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

    /// Migrated SQLite and PostgreSQL.
    pub async fn both_migrated() -> [Self; 2] {
        let dbs = Self::both().await;
        for test_db in &dbs {
            test_db.db().migrations().run().await.unwrap();
        }
        dbs
    }

    pub fn db(&self) -> &Database {
        match self {
            Self::Sqlite { db, .. } | Self::Postgres(_, db) => db,
        }
    }
}

/// App state over `db` with development settings and mail to the log.
pub fn state(db: &Database) -> AppState {
    state_with(
        db,
        app_settings(false),
        Mailer::Log {
            include_body: false,
        },
    )
}

/// App state with chosen settings and mailer.
pub fn state_with(db: &Database, settings: AppSettings, mailer: Mailer) -> AppState {
    let mut registry = Registry::default();
    let metrics = app::metrics::AppMetrics::register(&mut registry);
    App::build(
        db.clone(),
        metrics,
        std::sync::Arc::new(registry),
        settings,
        b"test-secret-key",
        mailer,
    )
}

/// Turns billing on in `settings`: test keys, Pro at `price_test_pro`, Stripe at `stripe_base`.
pub fn enable_billing(settings: &mut AppSettings, stripe_base: &str) {
    settings.billing.enabled = true;
    settings.billing.stripe_api_base = stripe_base.parse().unwrap();
    settings.billing.stripe_publishable_key = Some("pk_test_statuswatch".to_owned());
    settings.billing.stripe_secret_key = Some("sk_test_statuswatch".into());
    settings.billing.stripe_webhook_secret = Some("whsec_statuswatch_test".into());
    settings.billing.request_timeout_seconds = 2;
    settings.billing.plans.insert(
        "pro".to_owned(),
        app::config::PlanConfig {
            stripe_price_id: Some("price_test_pro".to_owned()),
            ..Default::default()
        },
    );
}

/// `path` with every `{param}` replaced by what `value` gives for its name.
pub fn fill_path(path: &str, mut value: impl FnMut(&str) -> String) -> String {
    let mut out = String::new();
    let mut rest = path;
    while let Some(start) = rest.find('{') {
        out.push_str(&rest[..start]);
        let end = rest[start..]
            .find('}')
            .map_or(rest.len(), |e| start + e + 1);
        out.push_str(&value(
            &rest[start + 1..end.saturating_sub(1).max(start + 1)],
        ));
        rest = &rest[end..];
    }
    out.push_str(rest);
    out
}

/// Runs a property whose cases call the async app from proptest's
/// synchronous runner: `check` gets a runtime to block on and each migrated
/// database, SQLite with `cases` cases and PostgreSQL (slower) with a quarter.
pub fn on_both_dialects(cases: u32, check: impl Fn(&tokio::runtime::Runtime, &TestDb, u32)) {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let dbs = runtime.block_on(TestDb::both_migrated());
    for (test_db, cases) in dbs.iter().zip([cases, cases / 4]) {
        check(&runtime, test_db, cases);
    }
    drop(dbs);
}
