//! Database access shared by every role: one pool over SQLite or PostgreSQL.
//!
//! Queries are written once in SQL both dialects accept (`$1` placeholders,
//! integer milliseconds for times, text ids); what differs lives in
//! `dialect`.

mod dialect;
mod migrations;
mod url;

use std::time::Duration;

use sqlx::any::{AnyPoolOptions, install_default_drivers};
use sqlx::{AnyConnection, AnyPool, Connection, Executor};

pub use dialect::Dialect;
pub use migrations::{MigrationStatus, Migrations};
pub use url::{redact_url, sqlite_url_for};

/// What can go wrong opening or migrating the database.
///
/// Each message already includes its cause, so the cause is not also
/// exposed as `source()` (which would print it twice in error chains).
#[derive(Debug, thiserror::Error)]
pub enum DbError {
    /// The URL names no supported database.
    #[error("database.url `{url}` is neither postgres:// nor sqlite://")]
    UnsupportedUrl {
        /// The URL with its password removed.
        url: String,
    },
    /// The database could not be reached or opened.
    #[error("cannot connect to database {url}: {cause}")]
    Connect {
        /// The URL with its password removed.
        url: String,
        /// Why the driver gave up.
        cause: sqlx::Error,
    },
    /// Applying migrations failed; the failing one is rolled back where the dialect allows.
    #[error("migrating the database failed: {0}")]
    Migrate(sqlx::migrate::MigrateError),
    /// A query failed.
    #[error("database query failed: {0}")]
    Query(sqlx::Error),
}

impl From<sqlx::migrate::MigrateError> for DbError {
    fn from(err: sqlx::migrate::MigrateError) -> Self {
        Self::Migrate(err)
    }
}

impl From<sqlx::Error> for DbError {
    fn from(err: sqlx::Error) -> Self {
        Self::Query(err)
    }
}

/// Pool settings taken from `[database]`.
#[derive(Debug, Clone, Copy)]
pub struct PoolSettings {
    /// Largest number of pooled connections.
    pub max_connections: u32,
    /// How long to wait for a connection.
    pub connect_timeout: Duration,
}

/// A connection pool and the dialect behind it.
#[derive(Debug, Clone)]
pub struct Database {
    pool: AnyPool,
    dialect: Dialect,
}

impl Database {
    /// Opens a pool and checks one connection, so a wrong URL fails here and not later.
    pub async fn connect(url: &str, settings: PoolSettings) -> Result<Self, DbError> {
        let dialect = Dialect::from_url(url).ok_or_else(|| DbError::UnsupportedUrl {
            url: redact_url(url),
        })?;
        install_default_drivers();
        let connect_error = |cause| DbError::Connect {
            url: redact_url(url),
            cause,
        };
        // One direct connection first: the pool retries refused connections
        // until its timeout and then reports only that it timed out.
        let probe = tokio::time::timeout(settings.connect_timeout, AnyConnection::connect(url))
            .await
            .map_err(|_| connect_error(sqlx::Error::PoolTimedOut))?
            .map_err(connect_error)?;
        let _ = probe.close().await;
        let pool = AnyPoolOptions::new()
            .max_connections(settings.max_connections)
            .acquire_timeout(settings.connect_timeout)
            .after_connect(move |conn, _meta| {
                Box::pin(async move {
                    if let Some(setup) = dialect.connection_setup() {
                        conn.execute(setup).await?;
                    }
                    Ok(())
                })
            })
            .connect(url);
        let pool = tokio::time::timeout(settings.connect_timeout, pool)
            .await
            .map_err(|_| connect_error(sqlx::Error::PoolTimedOut))?
            .map_err(connect_error)?;
        Ok(Self { pool, dialect })
    }

    /// The pool, for data-access functions.
    pub fn pool(&self) -> &AnyPool {
        &self.pool
    }

    /// Which SQL dialect the pool speaks.
    pub fn dialect(&self) -> Dialect {
        self.dialect
    }

    /// Starts a transaction that will write. On SQLite it takes the write lock
    /// at once, so concurrent writers wait (busy timeout) instead of failing
    /// when a read lock cannot be upgraded.
    pub async fn begin_write(&self) -> Result<sqlx::Transaction<'static, sqlx::Any>, sqlx::Error> {
        match self.dialect.begin_write() {
            Some(statement) => self.pool.begin_with(statement).await,
            None => self.pool.begin().await,
        }
    }

    /// The migrations of this dialect.
    pub fn migrations(&self) -> Migrations<'_> {
        Migrations::new(self)
    }

    /// Round trip to the database.
    pub async fn ping(&self) -> Result<(), DbError> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    /// Closes every connection, waiting for those in use.
    pub async fn close(&self) {
        self.pool.close().await;
    }
}
