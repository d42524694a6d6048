//! The `acme` crate's domain policy over the domains table: the platform's
//! own name and every verified tenant hostname may have a certificate.

use acme::Verdict;
use async_trait::async_trait;
use sqlx::Row;

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
    async fn check(&self, name: &str) -> acme::Result<Verdict> {
        if !self.suffix.is_empty() && name == self.suffix {
            return Ok(Verdict::Allowed {
                rule: format!("`{name}` is the platform's own name (tenancy.domain_suffix)"),
                tenant: None,
            });
        }
        let row = sqlx::query(
            "SELECT d.tenant_id, d.kind, d.verified_at, t.slug FROM domains d \
             JOIN tenants t ON t.id = d.tenant_id WHERE d.hostname = $1",
        )
        .bind(name)
        .fetch_optional(self.db.pool())
        .await
        .map_err(acme::Error::policy)?;
        let Some(row) = row else {
            let under = !self.suffix.is_empty() && name.ends_with(&format!(".{}", self.suffix));
            let reason = if under {
                format!("no tenant has the subdomain `{name}`")
            } else {
                format!(
                    "`{name}` is neither under `{}` nor a tenant's custom domain",
                    self.suffix
                )
            };
            return Ok(Verdict::Refused { reason });
        };
        let get = |i: usize| row.try_get::<Option<String>, _>(i).ok().flatten();
        let tenant = get(0).unwrap_or_default();
        let kind = get(1).unwrap_or_default();
        let slug = get(3).unwrap_or_default();
        let verified: Option<i64> = row.try_get(2).ok().flatten();
        // Only verified names: a custom domain awaiting its DNS proof gets nothing.
        Ok(match (kind.as_str(), verified) {
            ("subdomain", Some(_)) => Verdict::Allowed {
                rule: format!("subdomain of tenant `{slug}`"),
                tenant: Some(tenant),
            },
            (_, Some(at)) => Verdict::Allowed {
                rule: format!("custom domain of tenant `{slug}`, DNS ownership verified (ms {at})"),
                tenant: Some(tenant),
            },
            (_, None) => Verdict::Refused {
                reason: format!(
                    "custom domain of tenant `{slug}` still awaiting DNS verification (CNAME or TXT)"
                ),
            },
        })
    }
}
