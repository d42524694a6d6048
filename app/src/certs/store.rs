//! `acme::CertStore` over the database: certificates, ACME accounts,
//! challenge answers, issuance leases, the pre-issuance queue and the order
//! log, shared by every edge node. Operations code: these tables are keyed by
//! hostname, not tenant.

use acme::store::{CertStore, CertSummary, ChallengeKind, QueuedName, StoredCert};
use async_trait::async_trait;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use sqlx::Row;

use crate::clock::{new_id, now_ms};
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

fn store_err(e: impl Into<Box<dyn std::error::Error + Send + Sync>>) -> acme::Error {
    acme::Error::store(e)
}

fn unseal_text(name: &str, text: &str) -> acme::Result<Vec<u8>> {
    STANDARD
        .decode(text)
        .map_err(|_| store_err(format!("sealed value of {name} is not base64")))
}

/// Queues `name` for background issuance inside the caller's transaction.
pub async fn enqueue_in(
    conn: &mut sqlx::AnyConnection,
    name: &str,
    reason: &str,
) -> Result<(), sqlx::Error> {
    let now = now_ms();
    sqlx::query(
        "INSERT INTO acme_queue (name, reason, queued_at, attempts, next_attempt_at) \
         VALUES ($1, $2, $3, 0, $3) ON CONFLICT (name) DO NOTHING",
    )
    .bind(name)
    .bind(reason)
    .bind(now)
    .execute(conn)
    .await?;
    Ok(())
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
    Ok(())
}

fn queued(row: &sqlx::any::AnyRow) -> Result<QueuedName, sqlx::Error> {
    Ok(QueuedName {
        name: row.try_get(0)?,
        reason: row.try_get(1)?,
        queued_ms: row.try_get(2)?,
        attempts: row.try_get(3)?,
        next_attempt_ms: row.try_get(4)?,
        last_error: row.try_get(5)?,
    })
}

const QUEUE_COLUMNS: &str = "name, reason, queued_at, attempts, next_attempt_at, last_error";

#[async_trait]
impl CertStore for DbCertStore {
    async fn load_cert(&self, name: &str) -> acme::Result<Option<StoredCert>> {
        let row = sqlx::query(
            "SELECT name, chain_pem, key_sealed, issuer, not_before, not_after, renew_after, updated_at, last_error \
             FROM certificates WHERE name = $1",
        )
        .bind(name)
        .fetch_optional(self.db.pool())
        .await
        .map_err(store_err)?;
        let Some(row) = row else { return Ok(None) };
        let sealed: String = row.try_get(2).map_err(store_err)?;
        Ok(Some(StoredCert {
            name: row.try_get(0).map_err(store_err)?,
            chain_pem: row.try_get(1).map_err(store_err)?,
            key_sealed: unseal_text(name, &sealed)?,
            issuer: row.try_get(3).map_err(store_err)?,
            not_before_ms: row.try_get(4).map_err(store_err)?,
            not_after_ms: row.try_get(5).map_err(store_err)?,
            renew_after_ms: row.try_get(6).map_err(store_err)?,
            updated_ms: row.try_get(7).map_err(store_err)?,
            last_error: row.try_get(8).map_err(store_err)?,
        }))
    }

    async fn save_cert(&self, cert: &StoredCert, holder: &str, fence: i64) -> acme::Result<bool> {
        let mut tx = self.db.begin_write().await.map_err(store_err)?;
        // The fencing check and the write in one transaction: a node whose
        // lease expired and was taken over cannot overwrite the new holder's work.
        let held: Option<i64> = sqlx::query_scalar(&format!(
            "SELECT fence FROM acme_leases WHERE name = $1 AND holder = $2 AND fence = $3{}",
            self.db.dialect().for_update()
        ))
        .bind(&cert.name)
        .bind(holder)
        .bind(fence)
        .fetch_optional(&mut *tx)
        .await
        .map_err(store_err)?;
        if held.is_none() {
            return Ok(false);
        }
        sqlx::query(
            "INSERT INTO certificates (name, chain_pem, key_sealed, issuer, not_before, not_after, renew_after, last_error, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, NULL, $8) \
             ON CONFLICT (name) DO UPDATE SET chain_pem = excluded.chain_pem, key_sealed = excluded.key_sealed, \
             issuer = excluded.issuer, not_before = excluded.not_before, not_after = excluded.not_after, \
             renew_after = excluded.renew_after, last_error = NULL, updated_at = excluded.updated_at",
        )
        .bind(&cert.name)
        .bind(&cert.chain_pem)
        .bind(STANDARD.encode(&cert.key_sealed))
        .bind(&cert.issuer)
        .bind(cert.not_before_ms)
        .bind(cert.not_after_ms)
        .bind(cert.renew_after_ms)
        .bind(cert.updated_ms)
        .execute(&mut *tx)
        .await
        .map_err(store_err)?;
        tx.commit().await.map_err(store_err)?;
        Ok(true)
    }

    async fn delete_cert(&self, name: &str) -> acme::Result<bool> {
        let done = sqlx::query("DELETE FROM certificates WHERE name = $1")
            .bind(name)
            .execute(self.db.pool())
            .await
            .map_err(store_err)?;
        Ok(done.rows_affected() > 0)
    }

    async fn list_certs(&self) -> acme::Result<Vec<CertSummary>> {
        let rows = sqlx::query(
            "SELECT name, issuer, not_after, renew_after, last_error FROM certificates ORDER BY name",
        )
        .fetch_all(self.db.pool())
        .await
        .map_err(store_err)?;
        rows.iter()
            .map(|row| {
                Ok(CertSummary {
                    name: row.try_get(0)?,
                    issuer: row.try_get(1)?,
                    not_after_ms: row.try_get(2)?,
                    renew_after_ms: row.try_get(3)?,
                    last_error: row.try_get(4)?,
                })
            })
            .collect::<Result<_, sqlx::Error>>()
            .map_err(store_err)
    }

    async fn due_for_renewal(&self, now_ms: i64, limit: i64) -> acme::Result<Vec<String>> {
        sqlx::query_scalar(
            "SELECT name FROM certificates WHERE renew_after <= $1 ORDER BY renew_after LIMIT $2",
        )
        .bind(now_ms)
        .bind(limit)
        .fetch_all(self.db.pool())
        .await
        .map_err(store_err)
    }

    async fn set_last_error(&self, name: &str, error: Option<&str>) -> acme::Result<()> {
        sqlx::query("UPDATE certificates SET last_error = $1 WHERE name = $2")
            .bind(error)
            .bind(name)
            .execute(self.db.pool())
            .await
            .map_err(store_err)?;
        Ok(())
    }

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

    async fn put_challenge(
        &self,
        kind: ChallengeKind,
        key: &str,
        value: &str,
        expires_ms: i64,
    ) -> acme::Result<()> {
        let pool = self.db.pool();
        // Expired answers go here rather than in a separate janitor.
        sqlx::query("DELETE FROM acme_challenges WHERE expires_at <= $1")
            .bind(now_ms())
            .execute(pool)
            .await
            .map_err(store_err)?;
        sqlx::query(
            "INSERT INTO acme_challenges (kind, lookup, answer, expires_at) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (kind, lookup, answer) DO UPDATE SET expires_at = excluded.expires_at",
        )
        .bind(kind.as_str())
        .bind(key)
        .bind(value)
        .bind(expires_ms)
        .execute(pool)
        .await
        .map_err(store_err)?;
        Ok(())
    }

    async fn get_challenges(&self, kind: ChallengeKind, key: &str) -> acme::Result<Vec<String>> {
        sqlx::query_scalar(
            "SELECT answer FROM acme_challenges WHERE kind = $1 AND lookup = $2 AND expires_at > $3",
        )
        .bind(kind.as_str())
        .bind(key)
        .bind(now_ms())
        .fetch_all(self.db.pool())
        .await
        .map_err(store_err)
    }

    async fn delete_challenge(
        &self,
        kind: ChallengeKind,
        key: &str,
        value: &str,
    ) -> acme::Result<()> {
        sqlx::query("DELETE FROM acme_challenges WHERE kind = $1 AND lookup = $2 AND answer = $3")
            .bind(kind.as_str())
            .bind(key)
            .bind(value)
            .execute(self.db.pool())
            .await
            .map_err(store_err)?;
        Ok(())
    }

    async fn enqueue(&self, name: &str, reason: &str) -> acme::Result<()> {
        let mut conn = self.db.pool().acquire().await.map_err(store_err)?;
        enqueue_in(&mut conn, name, reason).await.map_err(store_err)
    }

    async fn queue_due(&self, now_ms: i64, limit: i64) -> acme::Result<Vec<QueuedName>> {
        let rows = sqlx::query(&format!(
            "SELECT {QUEUE_COLUMNS} FROM acme_queue WHERE next_attempt_at <= $1 ORDER BY queued_at LIMIT $2"
        ))
        .bind(now_ms)
        .bind(limit)
        .fetch_all(self.db.pool())
        .await
        .map_err(store_err)?;
        rows.iter()
            .map(queued)
            .collect::<Result<_, _>>()
            .map_err(store_err)
    }

    async fn queue(&self) -> acme::Result<Vec<QueuedName>> {
        let rows = sqlx::query(&format!(
            "SELECT {QUEUE_COLUMNS} FROM acme_queue ORDER BY queued_at"
        ))
        .fetch_all(self.db.pool())
        .await
        .map_err(store_err)?;
        rows.iter()
            .map(queued)
            .collect::<Result<_, _>>()
            .map_err(store_err)
    }

    async fn dequeue(&self, name: &str) -> acme::Result<()> {
        sqlx::query("DELETE FROM acme_queue WHERE name = $1")
            .bind(name)
            .execute(self.db.pool())
            .await
            .map_err(store_err)?;
        Ok(())
    }

    async fn queue_retry(&self, name: &str, next_attempt_ms: i64, error: &str) -> acme::Result<()> {
        sqlx::query(
            "UPDATE acme_queue SET attempts = attempts + 1, next_attempt_at = $1, last_error = $2 WHERE name = $3",
        )
        .bind(next_attempt_ms)
        .bind(error)
        .bind(name)
        .execute(self.db.pool())
        .await
        .map_err(store_err)?;
        Ok(())
    }

    async fn record_order(&self, name: &str, tenant: Option<&str>, node: &str) -> acme::Result<()> {
        // Budgets look back a day at most; a week of history is plenty for operators.
        sqlx::query("DELETE FROM acme_orders WHERE created_at < $1")
            .bind(now_ms() - 7 * 86_400_000)
            .execute(self.db.pool())
            .await
            .map_err(store_err)?;
        sqlx::query(
            "INSERT INTO acme_orders (id, name, tenant_id, node, created_at) VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(new_id())
        .bind(name)
        .bind(tenant)
        .bind(node)
        .bind(now_ms())
        .execute(self.db.pool())
        .await
        .map_err(store_err)?;
        Ok(())
    }

    async fn orders_since(&self, since_ms: i64, tenant: Option<&str>) -> acme::Result<i64> {
        let query = match tenant {
            Some(_) => "SELECT COUNT(*) FROM acme_orders WHERE created_at >= $1 AND tenant_id = $2",
            None => "SELECT COUNT(*) FROM acme_orders WHERE created_at >= $1",
        };
        let mut query = sqlx::query_scalar::<_, i64>(query).bind(since_ms);
        if let Some(tenant) = tenant {
            query = query.bind(tenant);
        }
        query.fetch_one(self.db.pool()).await.map_err(store_err)
    }
}
