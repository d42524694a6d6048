//! Moving every tenant subdomain from one platform suffix to another: the old
//! system's data migration 0008 (which fixed tenants created under the wrong
//! suffix) as a command that can be run again and again.
//!
//! Only `subdomain` rows of the exact form `<label>.<from>` move, so running it
//! twice changes nothing, and a suffix nested in the old one
//! (`status.example.com` after `example.com`) is never moved again. Custom
//! domains belong to their tenants and are left alone. Operations code: it
//! reads across tenants.

use serde::Serialize;

use crate::clock::now_ms;
use crate::db::{Database, DbError};

/// One subdomain moved (or, in a dry run, that would move).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Moved {
    /// The tenant's slug.
    pub tenant: String,
    /// The old hostname.
    pub from: String,
    /// The new hostname.
    pub to: String,
}

/// One subdomain left where it is, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Skipped {
    /// The tenant's slug.
    pub tenant: String,
    /// The hostname that stays.
    pub hostname: String,
    /// Why it stays.
    pub reason: String,
}

/// What a rename did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct RenameReport {
    /// True when nothing was written.
    pub dry_run: bool,
    /// Subdomains moved, each queued for a certificate under its new name.
    pub moved: Vec<Moved>,
    /// Subdomains left as they were.
    pub skipped: Vec<Skipped>,
}

/// Why a rename cannot run.
#[derive(Debug, thiserror::Error)]
pub enum RenameError {
    /// A suffix is not a DNS name.
    #[error("--{flag}: `{value}` is not a domain name (letters, digits, hyphens and dots)")]
    Suffix {
        /// `from` or `to`.
        flag: &'static str,
        /// What was given.
        value: String,
    },
    /// Both suffixes are the same.
    #[error("--from and --to are the same suffix `{0}`")]
    Same(String),
    /// The database failed; the transaction was rolled back.
    #[error(transparent)]
    Db(#[from] DbError),
}

impl From<sqlx::Error> for RenameError {
    fn from(err: sqlx::Error) -> Self {
        Self::Db(err.into())
    }
}

/// Lower-cased and checked: labels of letters, digits and inner hyphens.
fn suffix(flag: &'static str, value: &str) -> Result<String, RenameError> {
    acme::name::DnsName::parse(value.trim().trim_matches('.'))
        .map(String::from)
        .map_err(|_| RenameError::Suffix {
            flag,
            value: value.to_owned(),
        })
}

/// Moves every `<label>.<from>` subdomain to `<label>.<to>` in one
/// transaction, skipping names that already exist, and queues the new names
/// for certificates. With `dry_run` the same work is done and rolled back.
pub async fn rename_suffix(
    db: &Database,
    from: &str,
    to: &str,
    dry_run: bool,
) -> Result<RenameReport, RenameError> {
    let from = suffix("from", from)?;
    let to = suffix("to", to)?;
    if from == to {
        return Err(RenameError::Same(from));
    }
    let mut report = RenameReport {
        dry_run,
        ..RenameReport::default()
    };
    let mut tx = db.begin_write().await?;
    let rows: Vec<(String, String, String)> = sqlx::query_as(
        "SELECT d.id, d.hostname, t.slug FROM domains d JOIN tenants t ON t.id = d.tenant_id \
         WHERE d.kind = 'subdomain' ORDER BY d.hostname",
    )
    .fetch_all(&mut *tx)
    .await?;
    let tail = format!(".{from}");
    for (id, hostname, tenant) in rows {
        let Some(label) = hostname.strip_suffix(&tail) else {
            continue;
        };
        if label.is_empty() || label.contains('.') {
            continue;
        }
        let new_name = format!("{label}.{to}");
        let holder: Option<String> = sqlx::query_scalar(
            "SELECT t.slug FROM domains d JOIN tenants t ON t.id = d.tenant_id WHERE d.hostname = $1",
        )
        .bind(&new_name)
        .fetch_optional(&mut *tx)
        .await?;
        if let Some(holder) = holder {
            let reason = if holder == tenant {
                format!("{new_name} already exists for this tenant")
            } else {
                format!("{new_name} already belongs to tenant `{holder}`")
            };
            report.skipped.push(Skipped {
                tenant,
                hostname,
                reason,
            });
            continue;
        }
        sqlx::query("UPDATE domains SET hostname = $1 WHERE id = $2")
            .bind(&new_name)
            .bind(&id)
            .execute(&mut *tx)
            .await?;
        crate::certs::store::forget_in(&mut tx, &hostname).await?;
        crate::certs::store::enqueue_in(&mut tx, &new_name, "suffix renamed").await?;
        report.moved.push(Moved {
            tenant,
            from: hostname,
            to: new_name,
        });
    }
    if !dry_run && !report.moved.is_empty() {
        let details = serde_json::json!({ "from": from, "to": to, "moved": report.moved.len(), "skipped": report.skipped.len() });
        sqlx::query(
            "INSERT INTO audit_log (id, tenant_id, actor_id, action, target, ip, details, created_at) \
             VALUES ($1, NULL, NULL, 'domains.rename_suffix', $2, NULL, $3, $4)",
        )
        .bind(crate::clock::new_id())
        .bind(&to)
        .bind(details.to_string())
        .bind(now_ms())
        .execute(&mut *tx)
        .await?;
    }
    if dry_run {
        tx.rollback().await?;
    } else {
        tx.commit().await?;
    }
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suffixes_are_checked_and_normalised() {
        assert_eq!(suffix("from", " Example.COM. ").unwrap(), "example.com");
        for bad in ["", "exa mple.com", "-a.com", "a..com", "a_b.com"] {
            let err = suffix("to", bad).unwrap_err().to_string();
            assert!(err.starts_with("--to:"), "{err}");
        }
    }
}
