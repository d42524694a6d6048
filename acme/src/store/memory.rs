//! [`MemoryStore`]: every storage contract in this process's memory, for
//! tests and single-node setups without a database.

use std::collections::HashMap;
use std::sync::Mutex;

use async_trait::async_trait;

use super::{
    Accounts, CertSummary, Certificates, ChallengeKind, Challenges, IssueQueue, Leases,
    OrderLedger, PendingOrder, QueuedName, StoredCert,
};
use crate::Result;
use crate::time::now_ms;

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
    pending: HashMap<String, PendingOrder>,
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

#[async_trait]
impl Certificates for MemoryStore {
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
}

#[async_trait]
impl Accounts for MemoryStore {
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
}

#[async_trait]
impl Leases for MemoryStore {
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

    async fn held_leases(&self) -> Result<Vec<(String, String)>> {
        let now = now_ms();
        Ok(self.with(|m| {
            m.leases
                .iter()
                .filter(|(_, l)| l.expires_ms > now)
                .map(|(name, l)| (name.clone(), l.holder.clone()))
                .collect()
        }))
    }
}

#[async_trait]
impl Challenges for MemoryStore {
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
}

#[async_trait]
impl IssueQueue for MemoryStore {
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
}

#[async_trait]
impl OrderLedger for MemoryStore {
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

    async fn forget_orders_before(&self, before_ms: i64) -> Result<()> {
        self.with(|m| m.orders.retain(|(at, _)| *at >= before_ms));
        Ok(())
    }

    async fn save_pending_order(&self, name: &str, order: &PendingOrder) -> Result<()> {
        self.with(|m| m.pending.insert(name.to_owned(), order.clone()));
        Ok(())
    }

    async fn pending_order(&self, name: &str) -> Result<Option<PendingOrder>> {
        Ok(self.with(|m| m.pending.get(name).cloned()))
    }

    async fn clear_pending_order(&self, name: &str) -> Result<()> {
        self.with(|m| m.pending.remove(name));
        Ok(())
    }
}
