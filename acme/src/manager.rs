//! Certificates at handshake time: cached answer, else policy, then one
//! issuance per name however many handshakes wait for it.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use async_trait::async_trait;
use rustls::sign::CertifiedKey;
use serde::Serialize;

use crate::cache::{Cached, CertCache};
use crate::{DomainPolicy, Error, LocalCa, Result, name};

/// Answers the edge's question "which certificate for this SNI name?".
#[async_trait]
pub trait CertResolver: Send + Sync + 'static {
    /// The certificate to present, or `None` when the name has no right to one.
    async fn resolve(&self, sni: &str) -> Result<Option<Arc<CertifiedKey>>>;
}

/// A new certificate and its validity.
pub struct Issued {
    /// Chain and key.
    pub key: Arc<CertifiedKey>,
    /// Expiry.
    pub not_after: SystemTime,
}

/// Something that signs certificates: the local CA, or an ACME client.
#[async_trait]
pub trait Issuer: Send + Sync + 'static {
    /// Issues a certificate for `name`.
    async fn issue(&self, name: &str) -> Result<Issued>;
}

#[async_trait]
impl Issuer for LocalCa {
    async fn issue(&self, name: &str) -> Result<Issued> {
        Ok(Issued {
            key: LocalCa::issue(self, name)?,
            not_after: SystemTime::now() + Duration::from_secs(30 * 86_400),
        })
    }
}

/// One name's state, for operators.
#[derive(Debug, Clone, Serialize)]
pub struct CertStatus {
    /// The name.
    pub name: String,
    /// `ready` or `refused`.
    pub state: &'static str,
    /// Expiry, seconds since the epoch.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub not_after: Option<u64>,
}

/// Tuning of the manager.
#[derive(Debug, Clone, Copy)]
pub struct ManagerOptions {
    /// How long a refusal is remembered.
    pub negative_ttl: Duration,
    /// Longest a handshake waits for issuance.
    pub issue_timeout: Duration,
    /// Names held in memory.
    pub capacity: usize,
}

impl Default for ManagerOptions {
    fn default() -> Self {
        Self {
            negative_ttl: Duration::from_secs(60),
            issue_timeout: Duration::from_secs(10),
            capacity: 100_000,
        }
    }
}

/// The certificate manager the edge resolves through.
pub struct CertManager {
    policy: Arc<dyn DomainPolicy>,
    issuer: Arc<dyn Issuer>,
    cache: CertCache,
    flights: Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>,
    options: ManagerOptions,
    policy_queries: AtomicU64,
    issued: AtomicU64,
}

impl std::fmt::Debug for CertManager {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "CertManager({:?})", self.cache)
    }
}

impl CertManager {
    /// A manager over `policy` and `issuer`.
    pub fn new(
        policy: Arc<dyn DomainPolicy>,
        issuer: Arc<dyn Issuer>,
        options: ManagerOptions,
    ) -> Self {
        Self {
            policy,
            issuer,
            cache: CertCache::new(options.capacity),
            flights: Mutex::new(HashMap::new()),
            options,
            policy_queries: AtomicU64::new(0),
            issued: AtomicU64::new(0),
        }
    }

    /// Policy queries made so far (the negative cache keeps this low).
    pub fn policy_queries(&self) -> u64 {
        self.policy_queries.load(Ordering::Relaxed)
    }

    /// Certificates issued so far.
    pub fn issued(&self) -> u64 {
        self.issued.load(Ordering::Relaxed)
    }

    /// Forgets what is known of `name`, e.g. after its domain was verified.
    pub fn forget(&self, name: &str) {
        if let Some(name) = name::normalize(name) {
            self.cache.remove(&name);
        }
    }

    /// Every name held, for the admin API.
    pub fn statuses(&self) -> Vec<CertStatus> {
        self.cache
            .snapshot()
            .into_iter()
            .map(|(name, cached)| match cached {
                Cached::Ready { not_after, .. } => CertStatus {
                    name,
                    state: "ready",
                    not_after: not_after
                        .duration_since(SystemTime::UNIX_EPOCH)
                        .ok()
                        .map(|d| d.as_secs()),
                },
                Cached::Refused { .. } => CertStatus {
                    name,
                    state: "refused",
                    not_after: None,
                },
            })
            .collect()
    }

    async fn resolve_name(&self, name: &str) -> Result<Option<Arc<CertifiedKey>>> {
        match self.cache.get(name) {
            Some(Cached::Ready { key, .. }) => return Ok(Some(key)),
            Some(Cached::Refused { .. }) => return Ok(None),
            None => {}
        }
        // Single flight: one policy query and one issuance per name at a time.
        let flight = {
            let mut flights = self.flights.lock().unwrap_or_else(|p| p.into_inner());
            flights.entry(name.to_owned()).or_default().clone()
        };
        let _turn = flight.lock().await;
        let answer = self.resolve_in_flight(name).await;
        {
            let mut flights = self.flights.lock().unwrap_or_else(|p| p.into_inner());
            if Arc::strong_count(&flight) <= 2 {
                flights.remove(name);
            }
        }
        answer
    }

    async fn resolve_in_flight(&self, name: &str) -> Result<Option<Arc<CertifiedKey>>> {
        match self.cache.get(name) {
            Some(Cached::Ready { key, .. }) => return Ok(Some(key)),
            Some(Cached::Refused { .. }) => return Ok(None),
            None => {}
        }
        self.policy_queries.fetch_add(1, Ordering::Relaxed);
        let authorized = match self.policy.is_authorized(name).await {
            Ok(authorized) => authorized,
            // The policy is down: keep serving what we hold.
            Err(err) => return self.cache.get_valid(name).map(Some).ok_or(err),
        };
        if !authorized {
            self.cache.insert_refused(name, self.options.negative_ttl);
            return Ok(None);
        }
        let issued = tokio::time::timeout(self.options.issue_timeout, self.issuer.issue(name))
            .await
            .map_err(|_| Error::Timeout(name.to_owned()));
        let issued = match issued {
            Ok(Ok(issued)) => issued,
            Ok(Err(err)) | Err(err) => return self.cache.get_valid(name).map(Some).ok_or(err),
        };
        self.issued.fetch_add(1, Ordering::Relaxed);
        let lifetime = issued
            .not_after
            .duration_since(SystemTime::now())
            .unwrap_or_default();
        let renew_after = issued.not_after - lifetime / 3;
        self.cache
            .insert_ready(name, issued.key.clone(), issued.not_after, renew_after);
        tracing::info!(name, "certificate issued");
        Ok(Some(issued.key))
    }
}

#[async_trait]
impl CertResolver for CertManager {
    async fn resolve(&self, sni: &str) -> Result<Option<Arc<CertifiedKey>>> {
        match name::normalize(sni) {
            Some(name) => self.resolve_name(&name).await,
            None => Ok(None),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::StaticPolicy;

    fn manager() -> Arc<CertManager> {
        let ca = LocalCa::generate().unwrap().ca;
        Arc::new(CertManager::new(
            Arc::new(StaticPolicy(vec!["acme.localhost".into()])),
            Arc::new(ca),
            ManagerOptions::default(),
        ))
    }

    #[tokio::test]
    async fn authorised_names_get_one_certificate_unknown_names_one_query() {
        let manager = manager();
        let mut waiting = Vec::new();
        for _ in 0..50 {
            let manager = manager.clone();
            waiting.push(tokio::spawn(async move {
                manager.resolve("ACME.localhost.").await.unwrap().is_some()
            }));
        }
        for handle in waiting {
            assert!(handle.await.unwrap());
        }
        assert_eq!(manager.issued(), 1, "single flight");
        for _ in 0..100 {
            assert!(manager.resolve("evil.localhost").await.unwrap().is_none());
        }
        assert_eq!(
            manager.policy_queries(),
            2,
            "one query per name, refusals cached"
        );
        assert!(manager.resolve("127.0.0.1").await.unwrap().is_none());
        assert!(manager.resolve("").await.unwrap().is_none());
        assert_eq!(
            manager.policy_queries(),
            2,
            "junk names never reach the policy"
        );
    }
}
