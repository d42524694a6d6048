//! The `acme` crate's storage contracts over the database: certificates,
//! ACME accounts, challenge answers, issuance leases, the pre-issuance queue
//! and the order ledger, shared by every edge node. Storage only: budgets,
//! backoff and retention are decided in `acme`. Operations code: these
//! tables are keyed by hostname, not tenant.

mod certificates;
mod challenges;
mod queue;

use acme::store::{Accounts, Leases};
use async_trait::async_trait;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;

pub use queue::enqueue_in;

use crate::clock::now_ms;
use crate::db::Database;

/// The database-backed certificate store.
#[derive(Debug, Clone)]
pub struct DbCertStore {
    db: Database,
}

impl DbCertStore {
    /// A store over `db`.
    pub fn new(db: Database) -> Self {
        Self { db }
    }
}

pub(super) fn store_err(e: impl Into<Box<dyn std::error::Error + Send + Sync>>) -> acme::Error {
    acme::Error::store(e)
}

pub(super) fn unseal_text(name: &str, text: &str) -> acme::Result<Vec<u8>> {
    STANDARD
        .decode(text)
        .map_err(|_| store_err(format!("sealed value of {name} is not base64")))
}

/// Forgets `name`'s certificate and queued issuance (its domain was removed).
pub async fn forget_in(conn: &mut sqlx::AnyConnection, name: &str) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM certificates WHERE name = $1")
        .bind(name)
        .execute(&mut *conn)
        .await?;
    sqlx::query("DELETE FROM acme_queue WHERE name = $1")
        .bind(name)
        .execute(&mut *conn)
        .await?;
    sqlx::query("DELETE FROM acme_pending_orders WHERE name = $1")
        .bind(name)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

#[async_trait]
impl Accounts for DbCertStore {
    async fn load_account(&self, directory: &str) -> acme::Result<Option<Vec<u8>>> {
        let text: Option<String> =
            sqlx::query_scalar("SELECT credentials_sealed FROM acme_accounts WHERE directory = $1")
                .bind(directory)
                .fetch_optional(self.db.pool())
                .await
                .map_err(store_err)?;
        text.map(|t| unseal_text(directory, &t)).transpose()
    }

    async fn save_account(&self, directory: &str, sealed: &[u8]) -> acme::Result<Vec<u8>> {
        sqlx::query(
            "INSERT INTO acme_accounts (directory, credentials_sealed, created_at) VALUES ($1, $2, $3) \
             ON CONFLICT (directory) DO NOTHING",
        )
        .bind(directory)
        .bind(STANDARD.encode(sealed))
        .bind(now_ms())
        .execute(self.db.pool())
        .await
        .map_err(store_err)?;
        self.load_account(directory)
            .await?
            .ok_or_else(|| store_err("account row vanished after insert"))
    }
}

#[async_trait]
impl Leases for DbCertStore {
    async fn try_lease(&self, name: &str, holder: &str, ttl_ms: i64) -> acme::Result<Option<i64>> {
        let now = now_ms();
        // One statement for both dialects: take a free or expired lease (or
        // renew our own) and bump the fence; no row back means someone else holds it.
        let fence: Option<i64> = sqlx::query_scalar(
            "INSERT INTO acme_leases (name, holder, fence, expires_at) VALUES ($1, $2, 1, $3) \
             ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, fence = acme_leases.fence + 1, \
             expires_at = excluded.expires_at \
             WHERE acme_leases.expires_at <= $4 OR acme_leases.holder = excluded.holder \
             RETURNING fence",
        )
        .bind(name)
        .bind(holder)
        .bind(now + ttl_ms)
        .bind(now)
        .fetch_optional(self.db.pool())
        .await
        .map_err(store_err)?;
        Ok(fence)
    }

    async fn release_lease(&self, name: &str, holder: &str) -> acme::Result<()> {
        sqlx::query("UPDATE acme_leases SET expires_at = 0 WHERE name = $1 AND holder = $2")
            .bind(name)
            .bind(holder)
            .execute(self.db.pool())
            .await
            .map_err(store_err)?;
        Ok(())
    }

    async fn held_leases(&self) -> acme::Result<Vec<(String, String)>> {
        sqlx::query_as("SELECT name, holder FROM acme_leases WHERE expires_at > $1")
            .bind(now_ms())
            .fetch_all(self.db.pool())
            .await
            .map_err(store_err)
    }
}
