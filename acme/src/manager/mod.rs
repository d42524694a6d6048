//! Certificates at handshake time: the cached answer, else the policy, then
//! the shared store, then one order per name however many handshakes (or
//! edge nodes) wait for it. Renewal, re-checks and pre-issuance run in the
//! background and never hold a handshake up.
//!
//! By job: `issuer.rs` orders (lease, budget, validation, storage),
//! `flight.rs` runs one look-up per name, `backoff.rs` decides when not to
//! order, `renewal.rs` holds the background work and `views.rs` what
//! operators see; this module answers the handshake and holds the state.

mod backoff;
mod flight;
mod issuer;
mod options;
mod renewal;
mod views;

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use rustls::sign::CertifiedKey;

pub use issuer::{Issued, Issuer};
pub use options::ManagerOptions;
pub use views::{CertDetail, CertStatus, QueueView};

use crate::cache::{Cached, CertCache};
use crate::certs::certified_key;
use crate::name::DnsName;
use crate::policy::Verdict;
use crate::seal::Sealer;
use crate::store::{CertStore, ChallengeKind, StoredCert};
use crate::{ChallengeStore, DomainPolicy, Error, Result, time};
use backoff::Backoffs;
use flight::Flights;

/// Answers the edge's question "which certificate for this SNI name?".
#[async_trait]
pub trait CertResolver: Send + Sync + 'static {
    /// The certificate to present, or `None` when the name has no right to one.
    async fn resolve(&self, sni: &str) -> Result<Option<Arc<CertifiedKey>>>;

    /// The TLS-ALPN-01 challenge certificate for `sni`, while an order awaits validation.
    async fn challenge_cert(&self, _sni: &str) -> Option<Arc<CertifiedKey>> {
        None
    }
}

/// The certificate manager the edge resolves through.
pub struct CertManager {
    me: Weak<CertManager>,
    policy: Arc<dyn DomainPolicy>,
    issuer: Arc<dyn Issuer>,
    store: Arc<dyn CertStore>,
    sealer: Arc<Sealer>,
    cache: CertCache,
    flights: Flights,
    /// Names with a background re-check or renewal running.
    refreshing: Mutex<HashSet<String>>,
    backoffs: Backoffs,
    /// TLS-ALPN-01 challenge certificates by name, with the key authorisation they carry.
    alpn: Mutex<HashMap<String, (String, Arc<CertifiedKey>)>>,
    options: ManagerOptions,
    policy_queries: AtomicU64,
    orders: AtomicU64,
}

impl std::fmt::Debug for CertManager {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "CertManager({:?})", self.cache)
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl CertManager {
    /// A manager over `policy`, `issuer` and `store`; keys are sealed with `sealer`.
    pub fn new(
        policy: Arc<dyn DomainPolicy>,
        issuer: Arc<dyn Issuer>,
        store: Arc<dyn CertStore>,
        sealer: Arc<Sealer>,
        options: ManagerOptions,
    ) -> Arc<Self> {
        Arc::new_cyclic(|me| Self {
            me: me.clone(),
            policy,
            issuer,
            store,
            sealer,
            cache: CertCache::new(options.capacity),
            flights: Flights::default(),
            refreshing: Mutex::new(HashSet::new()),
            backoffs: Backoffs::default(),
            alpn: Mutex::new(HashMap::new()),
            options,
            policy_queries: AtomicU64::new(0),
            orders: AtomicU64::new(0),
        })
    }

    /// Policy queries made so far (the negative cache keeps this low).
    pub fn policy_queries(&self) -> u64 {
        self.policy_queries.load(Ordering::Relaxed)
    }

    /// Orders this node placed so far.
    pub fn orders(&self) -> u64 {
        self.orders.load(Ordering::Relaxed)
    }

    /// The issuer's kind (`acme` or `local`).
    pub fn issuer_kind(&self) -> &'static str {
        self.issuer.kind()
    }

    /// The store's name for the certificate serving `name`.
    pub fn cert_name(&self, name: &str) -> String {
        if let Some(suffix) = &self.options.wildcard_suffix {
            if name == suffix {
                return format!("*.{suffix}");
            }
            if let Some(label) = name
                .strip_suffix(suffix.as_str())
                .and_then(|rest| rest.strip_suffix('.'))
                && !label.contains('.')
            {
                return format!("*.{suffix}");
            }
        }
        name.to_owned()
    }

    fn me(&self) -> Option<Arc<Self>> {
        self.me.upgrade()
    }

    /// The cached answer, else the single flight's (bounded by `issue_timeout`).
    async fn resolve_name(&self, name: &str) -> Result<Option<Arc<CertifiedKey>>> {
        match self.cache.get(name) {
            Some(Cached::Ready {
                key, next_check, ..
            }) => {
                if next_check <= Instant::now() {
                    self.spawn_refresh(name);
                }
                return Ok(Some(key));
            }
            Some(Cached::Refused { .. }) => return Ok(None),
            None => {}
        }
        self.join_flight(name)
            .answer_within(self.options.issue_timeout)
            .await
    }

    /// Joins the running look-up for `name` (policy, store, order), or starts one.
    fn join_flight(&self, name: &str) -> flight::Waiter {
        self.flights.join(name, || {
            let me = self.me()?;
            let name = name.to_owned();
            Some(async move { me.obtain(&name).await })
        })
    }

    /// Policy, then store, then an order.
    async fn obtain(&self, name: &str) -> Result<Option<Arc<CertifiedKey>>> {
        self.policy_queries.fetch_add(1, Ordering::Relaxed);
        let verdict = match self.policy.check(name).await {
            Ok(verdict) => verdict,
            // The policy is down: keep serving what we hold.
            Err(err) => return self.cache.get_valid(name).map(Some).ok_or(err),
        };
        let Verdict::Allowed { tenant, .. } = verdict else {
            self.cache.insert_refused(name, self.options.negative_ttl);
            return Ok(None);
        };
        let cert_name = self.cert_name(name);
        let stored = self.store.load_cert(&cert_name).await?;
        let now = time::now_ms();
        // A certificate from another issuer (the local CA before ACME was
        // configured) is replaced, not served.
        let kind = self.issuer.kind();
        if let Some(stored) = stored.filter(|s| s.not_after_ms > now && s.issuer == kind) {
            let key = self.install(name, &stored)?;
            if stored.renew_after_ms <= now {
                self.spawn_refresh(name);
            }
            return Ok(Some(key));
        }
        let stored = self
            .issue_and_store(&cert_name, tenant.as_deref(), 0, false)
            .await?;
        Ok(Some(self.install(name, &stored)?))
    }

    /// Caches the stored certificate under `name`, opened unless the cache
    /// holds that version already, to be looked at again at the next re-check
    /// or its renewal time, whichever is first.
    fn install(&self, name: &str, stored: &StoredCert) -> Result<Arc<CertifiedKey>> {
        let until_renewal = Duration::from_millis(
            u64::try_from(stored.renew_after_ms - time::now_ms()).unwrap_or(0),
        );
        let next_check = Instant::now() + self.options.positive_ttl.min(until_renewal);
        self.cache.install(
            name,
            stored.updated_ms,
            time::from_ms(stored.not_after_ms),
            next_check,
            || self.open(stored),
        )
    }

    /// Unseals a stored key and pairs it with its chain for rustls.
    fn open(&self, stored: &StoredCert) -> Result<Arc<CertifiedKey>> {
        let key_pem = self.sealer.open(&stored.name, &stored.key_sealed)?;
        let key_pem = String::from_utf8(key_pem).map_err(|_| Error::BadCertificate {
            name: stored.name.clone(),
            message: "stored key is not text".to_owned(),
        })?;
        certified_key(&stored.name, &stored.chain_pem, &key_pem)
    }

    /// Deletes `name`'s stored certificate and forgets it here; the next
    /// handshake orders a new one if the name is still authorised.
    pub async fn delete(&self, name: &str) -> Result<bool> {
        let Ok(name) = DnsName::parse(name).map(String::from) else {
            return Ok(false);
        };
        let cert_name = self.cert_name(&name);
        self.cache.remove(&name);
        self.backoffs.forget(&cert_name);
        self.store.delete_cert(&cert_name).await
    }
}

#[async_trait]
impl CertResolver for CertManager {
    async fn resolve(&self, sni: &str) -> Result<Option<Arc<CertifiedKey>>> {
        match DnsName::parse(sni) {
            Ok(name) => self.resolve_name(name.as_str()).await,
            Err(_) => Ok(None),
        }
    }

    async fn challenge_cert(&self, sni: &str) -> Option<Arc<CertifiedKey>> {
        let name = String::from(DnsName::parse(sni).ok()?);
        let key_auth = self
            .store
            .get_challenges(ChallengeKind::TlsAlpn01, &name)
            .await
            .ok()?
            .into_iter()
            .next()?;
        if let Some((held, cert)) = lock(&self.alpn).get(&name)
            && *held == key_auth
        {
            return Some(cert.clone());
        }
        let cert = crate::tls_alpn::challenge_cert(&name, &key_auth).ok()?;
        let mut alpn = lock(&self.alpn);
        // Challenge certificates are short-lived; keep the map from growing.
        if alpn.len() > 1000 {
            alpn.clear();
        }
        alpn.insert(name, (key_auth, cert.clone()));
        Some(cert)
    }
}

#[async_trait]
impl ChallengeStore for CertManager {
    async fn http01(&self, token: &str) -> Option<String> {
        self.store
            .get_challenges(ChallengeKind::Http01, token)
            .await
            .ok()?
            .into_iter()
            .next()
    }

    async fn dns01(&self, name: &str) -> Vec<String> {
        self.store
            .get_challenges(ChallengeKind::Dns01, name)
            .await
            .unwrap_or_default()
    }
}

#[cfg(test)]
mod tests;
