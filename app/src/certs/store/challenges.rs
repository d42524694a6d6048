//! Published ACME challenge answers.

use acme::store::{ChallengeKind, Challenges};
use async_trait::async_trait;

use super::{DbCertStore, store_err};
use crate::clock::now_ms;

#[async_trait]
impl Challenges for DbCertStore {
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
}
