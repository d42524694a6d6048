//! The `acme` crate's domain policy over the domains table: the platform's
//! own name and every verified tenant hostname may have a certificate.

use async_trait::async_trait;

use crate::db::Database;

/// Authorises SNI names from the database (asked in-process; the edge caches answers).
#[derive(Debug, Clone)]
pub struct DbDomainPolicy {
    db: Database,
    suffix: String,
}

impl DbDomainPolicy {
    /// A policy for tenants under `suffix`.
    pub fn new(db: Database, suffix: &str) -> Self {
        Self {
            db,
            suffix: suffix.trim_matches('.').to_ascii_lowercase(),
        }
    }
}

#[async_trait]
impl acme::DomainPolicy for DbDomainPolicy {
    async fn is_authorized(&self, name: &str) -> acme::Result<bool> {
        if name == self.suffix {
            return Ok(true);
        }
        // Only verified names: a custom domain awaiting its DNS proof gets nothing.
        let found: Option<i64> = sqlx::query_scalar(
            "SELECT 1 FROM domains WHERE hostname = $1 AND verified_at IS NOT NULL",
        )
        .bind(name)
        .fetch_optional(self.db.pool())
        .await
        .map_err(|e| acme::Error::Policy(e.to_string()))?;
        Ok(found.is_some())
    }
}
