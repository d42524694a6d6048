//! Schema migrations, one embedded set per dialect, and how current a database is.

use std::collections::HashMap;

use serde::Serialize;
use sqlx::migrate::Migrator;

use super::{Database, DbError, Dialect};

static SQLITE: Migrator = sqlx::migrate!("../migrations/sqlite");
static POSTGRES: Migrator = sqlx::migrate!("../migrations/postgres");

/// How the database's schema compares with this binary's migrations.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum MigrationStatus {
    /// Every migration of this binary is applied.
    Current {
        /// Newest applied version.
        version: i64,
    },
    /// Some migrations are not applied yet.
    Pending {
        /// Versions still to apply.
        versions: Vec<i64>,
    },
    /// A migration started and did not finish.
    Failed {
        /// The version left half-applied.
        version: i64,
    },
    /// An applied migration differs from the file this binary carries.
    Modified {
        /// The version whose checksum differs.
        version: i64,
    },
}

impl MigrationStatus {
    /// Whether the schema is what this binary expects.
    pub fn is_current(&self) -> bool {
        matches!(self, Self::Current { .. })
    }

    /// One sentence for operators.
    pub fn describe(&self) -> String {
        match self {
            Self::Current { version } => format!("schema is current (version {version})"),
            Self::Pending { versions } => format!(
                "{} migration(s) pending, first {}; run `statuswatch migrate`",
                versions.len(),
                versions.first().copied().unwrap_or_default()
            ),
            Self::Failed { version } => {
                format!("migration {version} failed partway; fix it and run `statuswatch migrate`")
            }
            Self::Modified { version } => {
                format!("applied migration {version} differs from this binary's copy")
            }
        }
    }
}

/// The migrations of one database.
pub struct Migrations<'a> {
    db: &'a Database,
    migrator: &'static Migrator,
}

impl<'a> Migrations<'a> {
    pub(super) fn new(db: &'a Database) -> Self {
        let migrator = match db.dialect() {
            Dialect::Sqlite => &SQLITE,
            Dialect::Postgres => &POSTGRES,
        };
        Self { db, migrator }
    }

    /// Applies what is pending; running it again changes nothing.
    pub async fn run(&self) -> Result<(), DbError> {
        self.migrator.run(self.db.pool()).await?;
        Ok(())
    }

    /// Versions this binary carries, oldest first.
    pub fn known_versions(&self) -> Vec<i64> {
        self.migrator.iter().map(|m| m.version).collect()
    }

    /// Compares the database with this binary's migrations, without writing.
    pub async fn status(&self) -> Result<MigrationStatus, DbError> {
        let table_count: i64 = sqlx::query_scalar(self.db.dialect().table_exists_query())
            .bind("_sqlx_migrations")
            .fetch_one(self.db.pool())
            .await?;
        let applied: Vec<(i64, i64, Vec<u8>)> = if table_count == 0 {
            Vec::new()
        } else {
            // sqlx declares `success` BOOLEAN, which the Any driver cannot
            // read from SQLite; an expression comes back as an integer.
            sqlx::query_as(
                "SELECT version, CASE WHEN success THEN 1 ELSE 0 END, checksum FROM _sqlx_migrations",
            )
                .fetch_all(self.db.pool())
                .await?
        };
        if let Some((version, ..)) = applied.iter().find(|(_, success, _)| *success == 0) {
            return Ok(MigrationStatus::Failed { version: *version });
        }
        let applied: HashMap<i64, Vec<u8>> =
            applied.into_iter().map(|(v, _, sum)| (v, sum)).collect();
        let mut pending = Vec::new();
        let mut newest = 0;
        for migration in self.migrator.iter() {
            match applied.get(&migration.version) {
                Some(sum) if sum.as_slice() != &*migration.checksum => {
                    return Ok(MigrationStatus::Modified {
                        version: migration.version,
                    });
                }
                Some(_) => newest = newest.max(migration.version),
                None => pending.push(migration.version),
            }
        }
        Ok(if pending.is_empty() {
            MigrationStatus::Current { version: newest }
        } else {
            MigrationStatus::Pending { versions: pending }
        })
    }
}
