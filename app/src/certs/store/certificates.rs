//! Stored certificates, with the lease fence checked in the same transaction as the write.

use acme::store::{CertSummary, Certificates, StoredCert};
use async_trait::async_trait;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use sqlx::Row;

use super::{DbCertStore, store_err, unseal_text};

#[async_trait]
impl Certificates for DbCertStore {
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
}
