//! `backup FILE`: an online, consistent copy of the embedded SQLite database
//! (`VACUUM INTO`), taken while the server runs, checked before it is kept.
//! PostgreSQL is backed up with its own tools (`pg_dump`), see
//! `docs/operations.md`.

use std::path::{Path, PathBuf};

use sqlx::Connection;

use crate::db::{Database, Dialect};

/// What a finished backup holds.
#[derive(Debug, Clone)]
pub struct BackupInfo {
    /// The backup file.
    pub path: PathBuf,
    /// Its size in bytes.
    pub bytes: u64,
}

/// Why a backup was not made. Nothing is left at the destination then.
#[derive(Debug, thiserror::Error)]
pub enum BackupError {
    /// The database is PostgreSQL.
    #[error(
        "this database is PostgreSQL: back it up with `pg_dump --format=custom --file=FILE \"$DATABASE_URL\"` (docs/operations.md)"
    )]
    Postgres,
    /// The destination exists; backups never overwrite.
    #[error("{0} already exists; choose a new file name")]
    Exists(PathBuf),
    /// The destination's directory is missing or not writable.
    #[error("cannot write {path}: {cause}")]
    Destination {
        /// The file.
        path: PathBuf,
        /// Why.
        cause: std::io::Error,
    },
    /// SQLite refused the copy.
    #[error("backup failed: {0}")]
    Copy(sqlx::Error),
    /// The copy did not pass `PRAGMA integrity_check`.
    #[error("the copy failed its integrity check: {0}")]
    Integrity(String),
}

/// Copies the live database to `dest` (through a temporary name beside it, so
/// `dest` appears only once complete and checked).
pub async fn backup(db: &Database, dest: &Path) -> Result<BackupInfo, BackupError> {
    if db.dialect() == Dialect::Postgres {
        return Err(BackupError::Postgres);
    }
    if dest.exists() {
        return Err(BackupError::Exists(dest.to_owned()));
    }
    let partial = dest.with_extension("partial");
    let _ = std::fs::remove_file(&partial);
    // Touch the directory first, for an error that names the file.
    std::fs::File::create(&partial)
        .and_then(|_| std::fs::remove_file(&partial))
        .map_err(|cause| BackupError::Destination {
            path: dest.to_owned(),
            cause,
        })?;
    let result = copy_and_check(db, &partial).await;
    if let Err(err) = result {
        let _ = std::fs::remove_file(&partial);
        return Err(err);
    }
    std::fs::rename(&partial, dest).map_err(|cause| BackupError::Destination {
        path: dest.to_owned(),
        cause,
    })?;
    let bytes =
        std::fs::metadata(dest)
            .map(|m| m.len())
            .map_err(|cause| BackupError::Destination {
                path: dest.to_owned(),
                cause,
            })?;
    Ok(BackupInfo {
        path: dest.to_owned(),
        bytes,
    })
}

async fn copy_and_check(db: &Database, partial: &Path) -> Result<(), BackupError> {
    let target = partial.to_string_lossy().into_owned();
    sqlx::query("VACUUM INTO $1")
        .bind(&target)
        .execute(db.pool())
        .await
        .map_err(BackupError::Copy)?;
    let url = crate::db::sqlite_url_for(partial);
    let mut copy = sqlx::AnyConnection::connect(&url)
        .await
        .map_err(BackupError::Copy)?;
    let verdict: String = sqlx::query_scalar("PRAGMA integrity_check")
        .fetch_one(&mut copy)
        .await
        .map_err(BackupError::Copy)?;
    let _ = copy.close().await;
    if verdict != "ok" {
        return Err(BackupError::Integrity(verdict));
    }
    Ok(())
}
