//! Ordering: the [`Issuer`] contract (an ACME directory or the local CA),
//! and one order under the cluster-wide lease, checked against the backoff
//! and budgets, validated, sealed and stored with its renewal time.

use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use async_trait::async_trait;

use super::{CertManager, backoff};
use crate::certs::{certified_key, default_renew_after_ms, validity_ms};
use crate::store::StoredCert;
use crate::{Error, LocalCa, Result, time};

/// A new certificate: PEM chain (leaf first) and PEM private key.
pub struct Issued {
    /// The chain.
    pub chain_pem: String,
    /// The key, in clear: sealed before it is stored.
    pub key_pem: String,
}

/// Something that signs certificates: the local CA, or an ACME client.
#[async_trait]
pub trait Issuer: Send + Sync + 'static {
    /// `acme` or `local`, recorded with each certificate.
    fn kind(&self) -> &'static str;

    /// Issues a certificate for `name` (`*.example.com` for a wildcard).
    async fn issue(&self, name: &str) -> Result<Issued>;

    /// Whether orders count against the order budgets (a public CA's rate
    /// limits); the local CA signs as often as asked.
    fn budgeted(&self) -> bool {
        true
    }

    /// The CA's suggested renewal window (ARI), ms since the epoch, if it offers one.
    async fn renewal_window(&self, _chain_pem: &str) -> Option<(i64, i64)> {
        None
    }
}

#[async_trait]
impl Issuer for LocalCa {
    fn kind(&self) -> &'static str {
        "local"
    }

    fn budgeted(&self) -> bool {
        false
    }

    async fn issue(&self, name: &str) -> Result<Issued> {
        let (chain_pem, key_pem) = self.issue_pem(name)?;
        Ok(Issued { chain_pem, key_pem })
    }
}

/// A point in the ARI window, spread so a fleet does not renew at one instant.
fn pick_in_window(start: i64, end: i64) -> i64 {
    use ring::rand::{SecureRandom, SystemRandom};
    let span = u64::try_from(end - start).unwrap_or(0);
    if span == 0 {
        return start;
    }
    let mut bytes = [0_u8; 8];
    let _ = SystemRandom::new().fill(&mut bytes);
    start + i64::try_from(u64::from_le_bytes(bytes) % span).unwrap_or(0)
}

impl CertManager {
    /// Orders a certificate for `cert_name` under the cluster-wide lease and
    /// stores it; when another node holds the lease, waits for its result
    /// (a stored certificate newer than `newer_than_ms`).
    pub(super) async fn issue_and_store(
        &self,
        cert_name: &str,
        tenant: Option<&str>,
        newer_than_ms: i64,
        forced: bool,
    ) -> Result<StoredCert> {
        if !forced {
            self.backoffs.check(cert_name)?;
        }
        let node = self.options.node_id.as_str();
        let lease_ms = i64::try_from(self.options.lease_ttl.as_millis()).unwrap_or(i64::MAX);
        let Some(fence) = self.store.try_lease(cert_name, node, lease_ms).await? else {
            return self.wait_for_other(cert_name, newer_than_ms).await;
        };
        let result = self.order_fenced(cert_name, tenant, fence, forced).await;
        if let Err(err) = self.store.release_lease(cert_name, node).await {
            tracing::warn!(name = cert_name, error = %err.report(), "lease not released; it expires on its own");
        }
        match &result {
            Ok(_) => {
                self.backoffs.succeeded(cert_name);
                let _ = self.store.set_last_error(cert_name, None).await;
            }
            Err(err) => {
                let report = err.report();
                let _ = self.store.set_last_error(cert_name, Some(&report)).await;
                let delay = self
                    .backoffs
                    .failed(&self.options, cert_name, report.clone());
                tracing::warn!(name = cert_name, error = %report, retry_in_s = delay.as_secs(), "issuance failed");
            }
        }
        result
    }

    /// Orders under the lease numbered `fence`; stores the certificate only
    /// if that lease is still ours.
    async fn order_fenced(
        &self,
        cert_name: &str,
        tenant: Option<&str>,
        fence: i64,
        forced: bool,
    ) -> Result<StoredCert> {
        let node = self.options.node_id.as_str();
        // A node that lost a race may find the winner's certificate already stored.
        if !forced
            && let Some(stored) = self.store.load_cert(cert_name).await?
            && stored.renew_after_ms > time::now_ms()
            && stored.issuer == self.issuer.kind()
        {
            return Ok(stored);
        }
        if self.issuer.budgeted() {
            backoff::check_budget(&*self.store, &self.options, tenant).await?;
            backoff::record_order(&*self.store, cert_name, tenant, node).await?;
        }
        self.orders.fetch_add(1, Ordering::Relaxed);
        let issued = self.issuer.issue(cert_name).await?;
        // Refuse to store anything rustls cannot serve.
        certified_key(cert_name, &issued.chain_pem, &issued.key_pem)?;
        let (not_before_ms, not_after_ms) = validity_ms(cert_name, &issued.chain_pem)?;
        let renew_after_ms = match self.issuer.renewal_window(&issued.chain_pem).await {
            Some((start, end)) => pick_in_window(start, end),
            None => default_renew_after_ms(not_before_ms, not_after_ms),
        };
        let stored = StoredCert {
            name: cert_name.to_owned(),
            chain_pem: issued.chain_pem,
            key_sealed: self.sealer.seal(cert_name, issued.key_pem.as_bytes())?,
            issuer: self.issuer.kind().to_owned(),
            not_before_ms,
            not_after_ms,
            renew_after_ms,
            updated_ms: time::now_ms(),
            last_error: None,
        };
        if !self.store.save_cert(&stored, node, fence).await? {
            return Err(Error::LeaseLost {
                name: cert_name.to_owned(),
            });
        }
        // The issuer clears its order journal too; this covers an issuer
        // stopped between storing and clearing, whose entry would otherwise
        // hand the next renewal this certificate's order again.
        if let Err(err) = self.store.clear_pending_order(cert_name).await {
            tracing::warn!(name = cert_name, error = %err.report(), "order journal entry not cleared");
        }
        tracing::info!(
            name = cert_name,
            issuer = self.issuer.kind(),
            "certificate issued"
        );
        Ok(stored)
    }

    /// Frees the issuance leases of holders that `gone` says no longer run
    /// (a process of this host killed mid-order), so their names are not
    /// blocked until the leases expire; returns how many were freed.
    pub async fn free_leases_of(&self, gone: impl Fn(&str) -> bool) -> Result<usize> {
        let mut freed = 0;
        for (name, holder) in self.store.held_leases().await? {
            if holder != self.options.node_id && gone(&holder) {
                self.store.release_lease(&name, &holder).await?;
                tracing::info!(
                    name,
                    holder,
                    "freed the issuance lease of a process that is gone"
                );
                freed += 1;
            }
        }
        Ok(freed)
    }

    /// Waits (up to the lease time) for the lease holder's certificate.
    async fn wait_for_other(&self, cert_name: &str, newer_than_ms: i64) -> Result<StoredCert> {
        let deadline = Instant::now() + self.options.lease_ttl;
        while Instant::now() < deadline {
            if let Some(stored) = self.store.load_cert(cert_name).await?
                && stored.updated_ms > newer_than_ms
                && stored.not_after_ms > time::now_ms()
            {
                return Ok(stored);
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        Err(Error::Timeout {
            name: cert_name.to_owned(),
        })
    }
}
