//! Where certificates, ACME accounts, challenge answers, leases and the
//! pre-issuance queue live: shared by every edge node (the app implements
//! this over the database; [`MemoryStore`] serves tests and single nodes).
//!
//! Private keys and account credentials reach a store sealed (see
//! [`crate::seal`]); a store never sees them in clear.

use std::collections::HashMap;
use std::sync::Mutex;

use async_trait::async_trait;
use serde::Serialize;

use crate::Result;

/// A certificate as stored: chain in clear, key sealed.
#[derive(Debug, Clone)]
pub struct StoredCert {
    /// The name it is stored under (`*.example.com` for a wildcard).
    pub name: String,
    /// PEM chain, leaf first.
    pub chain_pem: String,
    /// The private key, PEM, sealed.
    pub key_sealed: Vec<u8>,
    /// Who issued it: `acme` or `local`.
    pub issuer: String,
    /// Start of validity, ms since the epoch.
    pub not_before_ms: i64,
    /// Expiry, ms since the epoch.
    pub not_after_ms: i64,
    /// When renewal is due, ms since the epoch.
    pub renew_after_ms: i64,
    /// When it was stored, ms since the epoch.
    pub updated_ms: i64,
    /// Last failure to renew it; saving a certificate clears it.
    pub last_error: Option<String>,
}

/// A stored certificate without its key, for listings.
#[derive(Debug, Clone, Serialize)]
pub struct CertSummary {
    /// The name.
    pub name: String,
    /// `acme` or `local`.
    pub issuer: String,
    /// Expiry, ms since the epoch.
    pub not_after_ms: i64,
    /// Renewal due, ms since the epoch.
    pub renew_after_ms: i64,
    /// Last failure to renew or issue, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_error: Option<String>,
}

/// Kinds of challenge answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ChallengeKind {
    /// HTTP-01: token → key authorisation.
    Http01,
    /// TLS-ALPN-01: name → key authorisation (its digest goes in the certificate).
    TlsAlpn01,
    /// DNS-01: `_acme-challenge.` name → TXT value.
    Dns01,
}

impl ChallengeKind {
    /// Stable label for storage.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Http01 => "http-01",
            Self::TlsAlpn01 => "tls-alpn-01",
            Self::Dns01 => "dns-01",
        }
    }
}

/// A name waiting for background issuance.
#[derive(Debug, Clone, Serialize)]
pub struct QueuedName {
    /// The name.
    pub name: String,
    /// Why it was queued (`tenant created`, `domain verified`, `renew requested`).
    pub reason: String,
    /// When, ms since the epoch.
    pub queued_ms: i64,
    /// Attempts so far.
    pub attempts: i64,
    /// Not before this instant, ms since the epoch.
    pub next_attempt_ms: i64,
    /// Last failure.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_error: Option<String>,
}

/// Shared storage of the certificate manager.
#[async_trait]
pub trait CertStore: Send + Sync + 'static {
    /// The certificate stored under `name`.
    async fn load_cert(&self, name: &str) -> Result<Option<StoredCert>>;
    /// Stores `cert` if `fence` (from [`CertStore::try_lease`]) is still the
    /// current lease on its name; returns false (and stores nothing) otherwise.
    async fn save_cert(&self, cert: &StoredCert, holder: &str, fence: i64) -> Result<bool>;
    /// Removes a certificate; true if one was stored.
    async fn delete_cert(&self, name: &str) -> Result<bool>;
    /// Every stored certificate, keys left out.
    async fn list_certs(&self) -> Result<Vec<CertSummary>>;
    /// Names whose renewal is due at `now_ms`.
    async fn due_for_renewal(&self, now_ms: i64, limit: i64) -> Result<Vec<String>>;
    /// Records the last issuance failure of `name` (None clears it).
    async fn set_last_error(&self, name: &str, error: Option<&str>) -> Result<()>;

    /// Sealed credentials of the account on `directory`.
    async fn load_account(&self, directory: &str) -> Result<Option<Vec<u8>>>;
    /// Stores account credentials unless some are stored already; returns what is stored now.
    async fn save_account(&self, directory: &str, sealed: &[u8]) -> Result<Vec<u8>>;

    /// Takes the issuance lease on `name` for `ttl_ms` if free or expired;
    /// the returned fencing number grows with every new lease.
    async fn try_lease(&self, name: &str, holder: &str, ttl_ms: i64) -> Result<Option<i64>>;
    /// Gives the lease back early.
    async fn release_lease(&self, name: &str, holder: &str) -> Result<()>;

    /// Publishes a challenge answer until `expires_ms`.
    async fn put_challenge(
        &self,
        kind: ChallengeKind,
        key: &str,
        value: &str,
        expires_ms: i64,
    ) -> Result<()>;
    /// Every live answer for `key`.
    async fn get_challenges(&self, kind: ChallengeKind, key: &str) -> Result<Vec<String>>;
    /// Withdraws one answer.
    async fn delete_challenge(&self, kind: ChallengeKind, key: &str, value: &str) -> Result<()>;

    /// Queues `name` for background issuance (idempotent).
    async fn enqueue(&self, name: &str, reason: &str) -> Result<()>;
    /// Names whose next attempt is due, oldest first.
    async fn queue_due(&self, now_ms: i64, limit: i64) -> Result<Vec<QueuedName>>;
    /// The whole queue, for operators.
    async fn queue(&self) -> Result<Vec<QueuedName>>;
    /// Removes `name` from the queue.
    async fn dequeue(&self, name: &str) -> Result<()>;
    /// Records a failed attempt and when to try again.
    async fn queue_retry(&self, name: &str, next_attempt_ms: i64, error: &str) -> Result<()>;

    /// Records that an order was placed (for cluster-wide budgets and operators).
    async fn record_order(&self, name: &str, tenant: Option<&str>, node: &str) -> Result<()>;
    /// Orders placed since `since_ms`, all of them or one tenant's.
    async fn orders_since(&self, since_ms: i64, tenant: Option<&str>) -> Result<i64>;
}

#[derive(Debug, Default)]
struct Lease {
    holder: String,
    fence: i64,
    expires_ms: i64,
}

#[derive(Debug, Default)]
struct Memory {
    certs: HashMap<String, StoredCert>,
    accounts: HashMap<String, Vec<u8>>,
    leases: HashMap<String, Lease>,
    challenges: Vec<(ChallengeKind, String, String, i64)>,
    queue: HashMap<String, QueuedName>,
    orders: Vec<(i64, Option<String>)>,
}

/// A store in this process's memory: for tests and single-node setups without a database.
#[derive(Debug, Default)]
pub struct MemoryStore {
    inner: Mutex<Memory>,
}

impl MemoryStore {
    fn with<T>(&self, f: impl FnOnce(&mut Memory) -> T) -> T {
        f(&mut self.inner.lock().unwrap_or_else(|p| p.into_inner()))
    }
}

fn now_ms() -> i64 {
    crate::time::now_ms()
}

#[async_trait]
impl CertStore for MemoryStore {
    async fn load_cert(&self, name: &str) -> Result<Option<StoredCert>> {
        Ok(self.with(|m| m.certs.get(name).cloned()))
    }

    async fn save_cert(&self, cert: &StoredCert, holder: &str, fence: i64) -> Result<bool> {
        Ok(self.with(|m| {
            let held = m
                .leases
                .get(&cert.name)
                .is_some_and(|l| l.holder == holder && l.fence == fence);
            if held {
                let fresh = StoredCert {
                    last_error: None,
                    ..cert.clone()
                };
                m.certs.insert(cert.name.clone(), fresh);
            }
            held
        }))
    }

    async fn delete_cert(&self, name: &str) -> Result<bool> {
        Ok(self.with(|m| m.certs.remove(name).is_some()))
    }

    async fn list_certs(&self) -> Result<Vec<CertSummary>> {
        let mut all: Vec<_> = self.with(|m| {
            m.certs
                .values()
                .map(|c| CertSummary {
                    name: c.name.clone(),
                    issuer: c.issuer.clone(),
                    not_after_ms: c.not_after_ms,
                    renew_after_ms: c.renew_after_ms,
                    last_error: c.last_error.clone(),
                })
                .collect()
        });
        all.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(all)
    }

    async fn due_for_renewal(&self, now_ms: i64, limit: i64) -> Result<Vec<String>> {
        let mut due: Vec<_> = self.with(|m| {
            m.certs
                .values()
                .filter(|c| c.renew_after_ms <= now_ms)
                .map(|c| c.name.clone())
                .collect()
        });
        due.sort();
        due.truncate(usize::try_from(limit).unwrap_or(0));
        Ok(due)
    }

    async fn set_last_error(&self, name: &str, error: Option<&str>) -> Result<()> {
        self.with(|m| {
            if let Some(cert) = m.certs.get_mut(name) {
                cert.last_error = error.map(str::to_owned);
            }
        });
        Ok(())
    }

    async fn load_account(&self, directory: &str) -> Result<Option<Vec<u8>>> {
        Ok(self.with(|m| m.accounts.get(directory).cloned()))
    }

    async fn save_account(&self, directory: &str, sealed: &[u8]) -> Result<Vec<u8>> {
        Ok(self.with(|m| {
            m.accounts
                .entry(directory.to_owned())
                .or_insert_with(|| sealed.to_vec())
                .clone()
        }))
    }

    async fn try_lease(&self, name: &str, holder: &str, ttl_ms: i64) -> Result<Option<i64>> {
        let now = now_ms();
        Ok(self.with(|m| {
            let lease = m.leases.entry(name.to_owned()).or_default();
            if lease.expires_ms > now && lease.holder != holder {
                return None;
            }
            lease.fence += 1;
            lease.holder = holder.to_owned();
            lease.expires_ms = now + ttl_ms;
            Some(lease.fence)
        }))
    }

    async fn release_lease(&self, name: &str, holder: &str) -> Result<()> {
        self.with(|m| {
            if let Some(lease) = m.leases.get_mut(name)
                && lease.holder == holder
            {
                lease.expires_ms = 0;
            }
        });
        Ok(())
    }

    async fn put_challenge(
        &self,
        kind: ChallengeKind,
        key: &str,
        value: &str,
        expires_ms: i64,
    ) -> Result<()> {
        self.with(|m| {
            m.challenges
                .push((kind, key.to_owned(), value.to_owned(), expires_ms))
        });
        Ok(())
    }

    async fn get_challenges(&self, kind: ChallengeKind, key: &str) -> Result<Vec<String>> {
        let now = now_ms();
        Ok(self.with(|m| {
            m.challenges
                .iter()
                .filter(|(k, n, _, exp)| *k == kind && n == key && *exp > now)
                .map(|(_, _, v, _)| v.clone())
                .collect()
        }))
    }

    async fn delete_challenge(&self, kind: ChallengeKind, key: &str, value: &str) -> Result<()> {
        self.with(|m| {
            m.challenges
                .retain(|(k, n, v, _)| !(*k == kind && n == key && v == value))
        });
        Ok(())
    }

    async fn enqueue(&self, name: &str, reason: &str) -> Result<()> {
        let now = now_ms();
        self.with(|m| {
            m.queue
                .entry(name.to_owned())
                .or_insert_with(|| QueuedName {
                    name: name.to_owned(),
                    reason: reason.to_owned(),
                    queued_ms: now,
                    attempts: 0,
                    next_attempt_ms: now,
                    last_error: None,
                });
        });
        Ok(())
    }

    async fn queue_due(&self, now_ms: i64, limit: i64) -> Result<Vec<QueuedName>> {
        let mut due: Vec<_> = self.with(|m| {
            m.queue
                .values()
                .filter(|q| q.next_attempt_ms <= now_ms)
                .cloned()
                .collect()
        });
        due.sort_by_key(|q| q.queued_ms);
        due.truncate(usize::try_from(limit).unwrap_or(0));
        Ok(due)
    }

    async fn queue(&self) -> Result<Vec<QueuedName>> {
        let mut all: Vec<_> = self.with(|m| m.queue.values().cloned().collect());
        all.sort_by_key(|q| q.queued_ms);
        Ok(all)
    }

    async fn dequeue(&self, name: &str) -> Result<()> {
        self.with(|m| m.queue.remove(name));
        Ok(())
    }

    async fn queue_retry(&self, name: &str, next_attempt_ms: i64, error: &str) -> Result<()> {
        self.with(|m| {
            if let Some(q) = m.queue.get_mut(name) {
                q.attempts += 1;
                q.next_attempt_ms = next_attempt_ms;
                q.last_error = Some(error.to_owned());
            }
        });
        Ok(())
    }

    async fn record_order(&self, _name: &str, tenant: Option<&str>, _node: &str) -> Result<()> {
        let now = now_ms();
        self.with(|m| m.orders.push((now, tenant.map(str::to_owned))));
        Ok(())
    }

    async fn orders_since(&self, since_ms: i64, tenant: Option<&str>) -> Result<i64> {
        Ok(self.with(|m| {
            let count = m
                .orders
                .iter()
                .filter(|(at, t)| *at >= since_ms && (tenant.is_none() || t.as_deref() == tenant))
                .count();
            i64::try_from(count).unwrap_or(i64::MAX)
        }))
    }
}
