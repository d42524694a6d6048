//! The pre-issuance queue and the order ledger.

use acme::store::{IssueQueue, OrderLedger, PendingOrder, QueuedName};
use async_trait::async_trait;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use sqlx::Row;

use super::{DbCertStore, store_err, unseal_text};
use crate::clock::{new_id, now_ms};

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
impl IssueQueue for DbCertStore {
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
}

#[async_trait]
impl OrderLedger for DbCertStore {
    async fn record_order(&self, name: &str, tenant: Option<&str>, node: &str) -> acme::Result<()> {
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

    async fn forget_orders_before(&self, before_ms: i64) -> acme::Result<()> {
        sqlx::query("DELETE FROM acme_orders WHERE created_at < $1")
            .bind(before_ms)
            .execute(self.db.pool())
            .await
            .map_err(store_err)?;
        Ok(())
    }

    async fn save_pending_order(&self, name: &str, order: &PendingOrder) -> acme::Result<()> {
        sqlx::query(
            "INSERT INTO acme_pending_orders (name, url, key_sealed, created_at) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (name) DO UPDATE SET url = excluded.url, key_sealed = excluded.key_sealed, \
             created_at = excluded.created_at",
        )
        .bind(name)
        .bind(&order.url)
        .bind(order.key_sealed.as_ref().map(|k| STANDARD.encode(k)))
        .bind(order.created_ms)
        .execute(self.db.pool())
        .await
        .map_err(store_err)?;
        Ok(())
    }

    async fn pending_order(&self, name: &str) -> acme::Result<Option<PendingOrder>> {
        let row = sqlx::query(
            "SELECT url, key_sealed, created_at FROM acme_pending_orders WHERE name = $1",
        )
        .bind(name)
        .fetch_optional(self.db.pool())
        .await
        .map_err(store_err)?;
        let Some(row) = row else {
            return Ok(None);
        };
        let key: Option<String> = row.try_get("key_sealed").map_err(store_err)?;
        Ok(Some(PendingOrder {
            url: row.try_get("url").map_err(store_err)?,
            key_sealed: key.map(|k| unseal_text(name, &k)).transpose()?,
            created_ms: row.try_get("created_at").map_err(store_err)?,
        }))
    }

    async fn clear_pending_order(&self, name: &str) -> acme::Result<()> {
        sqlx::query("DELETE FROM acme_pending_orders WHERE name = $1")
            .bind(name)
            .execute(self.db.pool())
            .await
            .map_err(store_err)?;
        Ok(())
    }
}
