//! Tenants' hostnames: the subdomain given at signup and custom domains whose
//! ownership is proven through DNS before the edge may get certificates for them.

use serde::Serialize;
use utoipa::ToSchema;

use super::Hostname;
use super::dns::DnsChecker;
use super::store::is_unique_violation;
use crate::auth::session::random_secret;
use crate::clock::{new_id, now_ms};
use crate::db::{Database, DbError};

/// Label under a custom hostname that holds the TXT proof.
pub const TXT_LABEL: &str = "_statuswatch-verify";

/// A domain as listed, with the DNS records that verify it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Domain {
    /// Domain id.
    pub id: String,
    /// Lowercase, without a trailing dot.
    pub hostname: String,
    /// `subdomain` (ours) or `custom` (the tenant's).
    pub kind: String,
    /// Verified, ms; only verified names get certificates.
    pub verified_at: Option<i64>,
    /// Created, ms.
    pub created_at: i64,
    /// Records the tenant may create to prove ownership (custom domains).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub dns_records: Vec<DnsRecord>,
}

/// One DNS record to create.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct DnsRecord {
    /// `CNAME` or `TXT`.
    #[serde(rename = "type")]
    pub record_type: String,
    /// Name the record is created at.
    pub name: String,
    /// What it must hold: the tenant's subdomain (CNAME) or the token (TXT).
    pub value: String,
}

/// Why a domain operation was refused.
#[derive(Debug, thiserror::Error)]
pub enum DomainError {
    /// No such domain in this tenant.
    #[error("no such domain")]
    NotFound,
    /// The hostname is someone's already.
    #[error("this hostname is already registered")]
    Taken,
    /// The subdomain given at signup cannot be removed.
    #[error("the organization's own subdomain cannot be removed")]
    Subdomain,
    /// Neither record was found.
    #[error("{0}")]
    NotVerified(String),
    /// The database failed.
    #[error(transparent)]
    Db(#[from] DbError),
}

impl From<sqlx::Error> for DomainError {
    fn from(err: sqlx::Error) -> Self {
        Self::Db(err.into())
    }
}

type Row = (String, String, String, Option<String>, Option<i64>, i64);

fn domain(row: Row, subdomain: &str) -> Domain {
    let (id, hostname, kind, token, verified_at, created_at) = row;
    let dns_records = match (&*kind, token) {
        ("custom", Some(token)) if verified_at.is_none() => vec![
            DnsRecord {
                record_type: "CNAME".into(),
                name: hostname.clone(),
                value: subdomain.to_owned(),
            },
            DnsRecord {
                record_type: "TXT".into(),
                name: format!("{TXT_LABEL}.{hostname}"),
                value: token,
            },
        ],
        _ => Vec::new(),
    };
    Domain {
        id,
        hostname,
        kind,
        verified_at,
        created_at,
        dns_records,
    }
}

/// The tenant's own subdomain (target of custom-domain CNAMEs).
pub async fn subdomain_of(db: &Database, tenant_id: &str) -> Result<String, DbError> {
    let name: Option<String> = sqlx::query_scalar(
        "SELECT hostname FROM domains WHERE tenant_id = $1 AND kind = 'subdomain'",
    )
    .bind(tenant_id)
    .fetch_optional(db.pool())
    .await?;
    Ok(name.unwrap_or_default())
}

/// Domains of a tenant, subdomain first.
pub async fn list(db: &Database, tenant_id: &str) -> Result<Vec<Domain>, DbError> {
    let subdomain = subdomain_of(db, tenant_id).await?;
    let rows: Vec<Row> = sqlx::query_as(
        "SELECT id, hostname, kind, verification_token, verified_at, created_at FROM domains \
         WHERE tenant_id = $1 ORDER BY kind DESC, hostname",
    )
    .bind(tenant_id)
    .fetch_all(db.pool())
    .await?;
    Ok(rows
        .into_iter()
        .map(|row| domain(row, &subdomain))
        .collect())
}

/// One domain of a tenant.
pub async fn get(db: &Database, tenant_id: &str, id: &str) -> Result<Domain, DomainError> {
    let subdomain = subdomain_of(db, tenant_id).await?;
    let row: Option<Row> = sqlx::query_as(
        "SELECT id, hostname, kind, verification_token, verified_at, created_at FROM domains WHERE id = $1 AND tenant_id = $2",
    )
    .bind(id)
    .bind(tenant_id)
    .fetch_optional(db.pool())
    .await?;
    row.map(|row| domain(row, &subdomain))
        .ok_or(DomainError::NotFound)
}

/// Registers a custom hostname, unverified, with a fresh TXT token.
pub async fn add(
    db: &Database,
    tenant_id: &str,
    hostname: &Hostname,
) -> Result<Domain, DomainError> {
    let id = new_id();
    let inserted = sqlx::query(
        "INSERT INTO domains (id, tenant_id, hostname, kind, verification_token, created_at) VALUES ($1, $2, $3, 'custom', $4, $5)",
    )
    .bind(&id)
    .bind(tenant_id)
    .bind(hostname.as_str())
    .bind(format!("sw-verify={}", random_secret()))
    .bind(now_ms())
    .execute(db.pool())
    .await;
    match inserted {
        Ok(_) => get(db, tenant_id, &id).await,
        Err(err) if is_unique_violation(&err) => Err(DomainError::Taken),
        Err(err) => Err(err.into()),
    }
}

/// Removes a custom domain.
pub async fn remove(db: &Database, tenant_id: &str, id: &str) -> Result<(), DomainError> {
    let found = get(db, tenant_id, id).await?;
    if found.kind == "subdomain" {
        return Err(DomainError::Subdomain);
    }
    let mut tx = db.begin_write().await?;
    sqlx::query("DELETE FROM domains WHERE id = $1 AND tenant_id = $2")
        .bind(id)
        .bind(tenant_id)
        .execute(&mut *tx)
        .await?;
    // No certificate outlives its domain: edges drop it at their next re-check.
    crate::certs::store::forget_in(&mut tx, &found.hostname).await?;
    tx.commit().await?;
    Ok(())
}

/// Checks DNS for the CNAME or TXT proof and marks the domain verified.
pub async fn verify(
    db: &Database,
    dns: &DnsChecker,
    tenant_id: &str,
    id: &str,
) -> Result<Domain, DomainError> {
    let found = get(db, tenant_id, id).await?;
    if found.verified_at.is_some() {
        return Ok(found);
    }
    let subdomain = subdomain_of(db, tenant_id).await?;
    let token: Option<String> =
        sqlx::query_scalar("SELECT verification_token FROM domains WHERE id = $1")
            .bind(id)
            .fetch_one(db.pool())
            .await?;
    let cname = dns.cname(&found.hostname).await;
    let txt = dns.txt(&format!("{TXT_LABEL}.{}", found.hostname)).await;
    let by_cname = cname
        .as_ref()
        .is_ok_and(|targets| targets.contains(&subdomain));
    let by_txt = match (&txt, &token) {
        (Ok(values), Some(token)) => values.iter().any(|v| v.trim() == token),
        _ => false,
    };
    if !(by_cname || by_txt) {
        let seen = |r: &Result<Vec<String>, String>| match r {
            Ok(v) if v.is_empty() => "none".to_owned(),
            Ok(v) => v.join(", "),
            Err(e) => format!("lookup failed ({e})"),
        };
        return Err(DomainError::NotVerified(format!(
            "no proof found: CNAME {} is {} (want {subdomain}); TXT {TXT_LABEL}.{} is {}",
            found.hostname,
            seen(&cname),
            found.hostname,
            seen(&txt)
        )));
    }
    let mut tx = db.begin_write().await?;
    sqlx::query("UPDATE domains SET verified_at = $1 WHERE id = $2 AND tenant_id = $3")
        .bind(now_ms())
        .bind(id)
        .bind(tenant_id)
        .execute(&mut *tx)
        .await?;
    // Ordered in the background at once; handshake-time issuance stays the fallback.
    crate::certs::store::enqueue_in(&mut tx, &found.hostname, "domain verified").await?;
    tx.commit().await?;
    get(db, tenant_id, id).await
}
