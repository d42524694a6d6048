//! Certificates at handshake time: the cached answer, else the policy, then
//! the shared store, then one order per name however many handshakes (or
//! edge nodes) wait for it. Renewal, re-checks and pre-issuance run in the
//! background and never hold a handshake up.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::time::{Duration, Instant, SystemTime};

use async_trait::async_trait;
use rustls::sign::CertifiedKey;
use serde::Serialize;
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;

use crate::cache::{Cached, CertCache};
use crate::certs::{certified_key, default_renew_after_ms, validity_ms};
use crate::policy::Verdict;
use crate::seal::Sealer;
use crate::store::{CertStore, ChallengeKind, QueuedName, StoredCert};
use crate::{ChallengeStore, DomainPolicy, Error, LocalCa, Result, name, time};

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

/// Tuning of the manager.
#[derive(Debug, Clone)]
pub struct ManagerOptions {
    /// How long a refusal is remembered.
    pub negative_ttl: Duration,
    /// How long an authorisation is trusted before it is checked again (in the background).
    pub positive_ttl: Duration,
    /// Longest a handshake waits for issuance.
    pub issue_timeout: Duration,
    /// Names held in memory.
    pub capacity: usize,
    /// How long an issuance lease holds other nodes off.
    pub lease_ttl: Duration,
    /// First wait after a failed issuance.
    pub retry_min: Duration,
    /// Longest wait between failed issuances.
    pub retry_max: Duration,
    /// New orders per hour, across the cluster.
    pub orders_per_hour: u32,
    /// New orders per tenant per day.
    pub tenant_orders_per_day: u32,
    /// With a wildcard for `*.<suffix>`, names one label under it share that certificate.
    pub wildcard_suffix: Option<String>,
    /// How often the background task looks for renewals and queued names.
    pub sweep_interval: Duration,
    /// Order certificates for queued names ahead of their first handshake.
    pub preissue: bool,
    /// This node's name in leases and order records.
    pub node_id: String,
}

impl Default for ManagerOptions {
    fn default() -> Self {
        Self {
            negative_ttl: Duration::from_secs(60),
            positive_ttl: Duration::from_secs(300),
            issue_timeout: Duration::from_secs(10),
            capacity: 100_000,
            lease_ttl: Duration::from_secs(120),
            retry_min: Duration::from_secs(60),
            retry_max: Duration::from_secs(6 * 3600),
            orders_per_hour: 30,
            tenant_orders_per_day: 20,
            wildcard_suffix: None,
            sweep_interval: Duration::from_secs(60),
            preissue: true,
            node_id: "node".to_owned(),
        }
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

/// Everything known of one name, for `GET /certs/{name}` and `certs why`.
#[derive(Debug, Clone, Serialize)]
pub struct CertDetail {
    /// The name asked about.
    pub name: String,
    /// The stored certificate that serves it (a wildcard for tenant subdomains).
    pub certificate: String,
    /// `ready`, `refused`, `backoff` or `absent`.
    pub state: &'static str,
    /// The policy's verdict, when it could be asked.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub policy: Option<Verdict>,
    /// `acme` or `local`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub issuer: Option<String>,
    /// Expiry, ms since the epoch.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub not_after_ms: Option<i64>,
    /// Next renewal, ms since the epoch.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub renew_after_ms: Option<i64>,
    /// Last failure.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_error: Option<String>,
    /// Seconds until issuance may be tried again.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub retry_in_seconds: Option<u64>,
    /// Whether this node holds it in memory.
    pub in_memory: bool,
}

/// Pending work, for `GET /acme/queue`.
#[derive(Debug, Clone, Serialize)]
pub struct QueueView {
    /// Names queued for background issuance (shared by the cluster).
    pub queued: Vec<QueuedName>,
    /// Names this node is issuing right now.
    pub in_flight: Vec<String>,
    /// Names in backoff on this node, with seconds left.
    pub backoff: Vec<(String, u64)>,
}

/// One look-up's outcome, handed whole (error variant included) to every waiting handshake.
type FlightResult = Result<Option<Arc<CertifiedKey>>>;

#[derive(Debug, Clone, Copy)]
struct Backoff {
    failures: u32,
    until: Instant,
}

/// How long order records are kept: budgets look back a day at most; a
/// week of history is plenty for operators.
const ORDER_HISTORY_MS: i64 = 7 * 86_400_000;

/// Failures of names with nothing stored yet, for operators.
type Failures = HashMap<String, String>;

/// The certificate manager the edge resolves through.
pub struct CertManager {
    me: Weak<CertManager>,
    policy: Arc<dyn DomainPolicy>,
    issuer: Arc<dyn Issuer>,
    store: Arc<dyn CertStore>,
    sealer: Arc<Sealer>,
    cache: CertCache,
    flights: Mutex<HashMap<String, watch::Receiver<Option<FlightResult>>>>,
    refreshing: Mutex<HashSet<String>>,
    backoff: Mutex<HashMap<String, Backoff>>,
    alpn: Mutex<HashMap<String, (String, Arc<CertifiedKey>)>>,
    failures: Mutex<Failures>,
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
            flights: Mutex::new(HashMap::new()),
            refreshing: Mutex::new(HashSet::new()),
            backoff: Mutex::new(HashMap::new()),
            alpn: Mutex::new(HashMap::new()),
            failures: Mutex::new(HashMap::new()),
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

    /// Every name held in memory, for the admin API.
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

    fn me(&self) -> Option<Arc<Self>> {
        self.me.upgrade()
    }

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
        let mut flight = self.join_flight(name);
        let waited =
            tokio::time::timeout(self.options.issue_timeout, flight.wait_for(Option::is_some))
                .await;
        match waited {
            Err(_) => Err(Error::Timeout {
                name: name.to_owned(),
            }),
            Ok(Err(_)) => Err(Error::Aborted {
                name: name.to_owned(),
            }),
            Ok(Ok(result)) => result.clone().unwrap_or(Ok(None)),
        }
    }

    /// Joins the running look-up for `name`, or starts one in its own task
    /// (it finishes even if every waiting handshake gives up).
    fn join_flight(&self, name: &str) -> watch::Receiver<Option<FlightResult>> {
        let mut flights = lock(&self.flights);
        if let Some(rx) = flights.get(name) {
            return rx.clone();
        }
        let (tx, rx) = watch::channel(None);
        flights.insert(name.to_owned(), rx.clone());
        drop(flights);
        if let Some(me) = self.me() {
            let name = name.to_owned();
            tokio::spawn(async move {
                let result = me.obtain(&name).await;
                let _ = tx.send(Some(result));
                lock(&me.flights).remove(&name);
            });
        }
        rx
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

    /// Opens a stored certificate and caches it under `name`; a version
    /// already held is only re-scheduled, not decrypted and parsed again.
    fn install(&self, name: &str, stored: &StoredCert) -> Result<Arc<CertifiedKey>> {
        let until_renewal = Duration::from_millis(
            u64::try_from(stored.renew_after_ms - time::now_ms()).unwrap_or(0),
        );
        let next_check = Instant::now() + self.options.positive_ttl.min(until_renewal);
        if let Some(key) = self.cache.held(name, stored.updated_ms) {
            self.cache.postpone(name, next_check);
            return Ok(key);
        }
        let key_pem = self.sealer.open(&stored.name, &stored.key_sealed)?;
        let key_pem = String::from_utf8(key_pem).map_err(|_| Error::BadCertificate {
            name: stored.name.clone(),
            message: "stored key is not text".to_owned(),
        })?;
        let key = certified_key(&stored.name, &stored.chain_pem, &key_pem)?;
        self.cache.insert_ready(
            name,
            key.clone(),
            time::from_ms(stored.not_after_ms),
            next_check,
            stored.updated_ms,
        );
        Ok(key)
    }

    fn check_backoff(&self, cert_name: &str) -> Result<()> {
        if let Some(b) = lock(&self.backoff).get(cert_name)
            && b.until > Instant::now()
        {
            return Err(Error::Backoff {
                name: cert_name.to_owned(),
                seconds: b.until.saturating_duration_since(Instant::now()).as_secs() + 1,
            });
        }
        Ok(())
    }

    fn note_failure(&self, cert_name: &str) -> Duration {
        let mut backoff = lock(&self.backoff);
        let entry = backoff.entry(cert_name.to_owned()).or_insert(Backoff {
            failures: 0,
            until: Instant::now(),
        });
        entry.failures = entry.failures.saturating_add(1);
        let delay = self.retry_delay(entry.failures);
        entry.until = Instant::now() + delay;
        delay
    }

    /// Wait after the `failures`-th failure in a row: `retry_min`, doubling, capped at `retry_max`.
    fn retry_delay(&self, failures: u32) -> Duration {
        let factor = 2_u32.saturating_pow(failures.saturating_sub(1).min(20));
        self.options
            .retry_min
            .saturating_mul(factor)
            .min(self.options.retry_max)
    }

    async fn check_budget(&self, tenant: Option<&str>) -> Result<()> {
        let now = time::now_ms();
        let global = self.store.orders_since(now - 3_600_000, None).await?;
        if global >= i64::from(self.options.orders_per_hour) {
            return Err(Error::RateLimited {
                limit: format!("{} new orders per hour", self.options.orders_per_hour),
            });
        }
        if let Some(tenant) = tenant {
            let used = self
                .store
                .orders_since(now - 86_400_000, Some(tenant))
                .await?;
            if used >= i64::from(self.options.tenant_orders_per_day) {
                return Err(Error::RateLimited {
                    limit: format!(
                        "{} new orders per tenant per day",
                        self.options.tenant_orders_per_day
                    ),
                });
            }
        }
        Ok(())
    }

    /// Orders a certificate for `cert_name` under the cluster-wide lease and
    /// stores it; when another node holds the lease, waits for its result
    /// (a stored certificate newer than `newer_than_ms`).
    async fn issue_and_store(
        &self,
        cert_name: &str,
        tenant: Option<&str>,
        newer_than_ms: i64,
        forced: bool,
    ) -> Result<StoredCert> {
        if !forced {
            self.check_backoff(cert_name)?;
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
                lock(&self.backoff).remove(cert_name);
                lock(&self.failures).remove(cert_name);
                let _ = self.store.set_last_error(cert_name, None).await;
            }
            Err(err) => {
                let delay = self.note_failure(cert_name);
                let report = err.report();
                tracing::warn!(name = cert_name, error = %report, retry_in_s = delay.as_secs(), "issuance failed");
                let _ = self.store.set_last_error(cert_name, Some(&report)).await;
                lock(&self.failures).insert(cert_name.to_owned(), report);
            }
        }
        result
    }

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
            self.check_budget(tenant).await?;
            self.store.record_order(cert_name, tenant, node).await?;
            self.store
                .forget_orders_before(time::now_ms() - ORDER_HISTORY_MS)
                .await?;
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
        tracing::info!(
            name = cert_name,
            issuer = self.issuer.kind(),
            "certificate issued"
        );
        Ok(stored)
    }

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

    fn spawn_refresh(&self, name: &str) {
        if !lock(&self.refreshing).insert(name.to_owned()) {
            return;
        }
        let Some(me) = self.me() else { return };
        let name = name.to_owned();
        tokio::spawn(async move {
            me.refresh(&name).await;
            lock(&me.refreshing).remove(&name);
        });
    }

    /// Background look at a served name: still authorised? renewed elsewhere? due?
    async fn refresh(&self, name: &str) {
        let postpone = || {
            self.cache
                .postpone(name, Instant::now() + self.options.positive_ttl)
        };
        self.policy_queries.fetch_add(1, Ordering::Relaxed);
        let tenant = match self.policy.check(name).await {
            Ok(Verdict::Allowed { tenant, .. }) => tenant,
            Ok(Verdict::Refused { reason }) => {
                tracing::info!(
                    name,
                    reason,
                    "name no longer authorised; its certificate is dropped"
                );
                self.cache.insert_refused(name, self.options.negative_ttl);
                return;
            }
            Err(err) => {
                tracing::warn!(name, error = %err.report(), "policy unavailable; serving the held certificate");
                return postpone();
            }
        };
        let cert_name = self.cert_name(name);
        let now = time::now_ms();
        let stored = match self.store.load_cert(&cert_name).await {
            Ok(stored) => stored,
            Err(err) => {
                tracing::warn!(name, error = %err.report(), "store unavailable; serving the held certificate");
                return postpone();
            }
        };
        let fresh = match stored {
            Some(stored) if stored.renew_after_ms > now && stored.issuer == self.issuer.kind() => {
                Ok(stored)
            }
            other => {
                let newer_than = other.map_or(0, |s| s.updated_ms);
                self.issue_and_store(&cert_name, tenant.as_deref(), newer_than, false)
                    .await
            }
        };
        match fresh.and_then(|stored| self.install(name, &stored)) {
            Ok(_) => {}
            Err(_) => postpone(),
        }
    }

    /// Renews `name`'s certificate now, whatever its schedule and backoff.
    pub async fn renew_now(&self, name: &str) -> Result<CertDetail> {
        let name = name::normalize(name).ok_or_else(|| Error::InvalidName {
            name: name.to_owned(),
        })?;
        let verdict = self.policy.check(&name).await?;
        if let Verdict::Refused { reason } = &verdict {
            return Err(Error::Denied {
                name,
                reason: reason.clone(),
            });
        }
        let cert_name = self.cert_name(&name);
        let newer_than = self
            .store
            .load_cert(&cert_name)
            .await?
            .map_or(0, |s| s.updated_ms);
        let stored = self
            .issue_and_store(&cert_name, verdict.tenant(), newer_than, true)
            .await?;
        self.install(&name, &stored)?;
        self.detail(&name).await
    }

    /// Deletes `name`'s stored certificate and forgets it here; the next
    /// handshake orders a new one if the name is still authorised.
    pub async fn delete(&self, name: &str) -> Result<bool> {
        let Some(name) = name::normalize(name) else {
            return Ok(false);
        };
        let cert_name = self.cert_name(&name);
        self.cache.remove(&name);
        lock(&self.backoff).remove(&cert_name);
        self.store.delete_cert(&cert_name).await
    }

    /// Everything known of `name`: policy verdict, stored certificate, backoff.
    pub async fn detail(&self, name: &str) -> Result<CertDetail> {
        let name = name::normalize(name).unwrap_or_else(|| name.to_owned());
        let cert_name = self.cert_name(&name);
        let policy = self.policy.check(&name).await.ok();
        let stored = self.store.load_cert(&cert_name).await.ok().flatten();
        let retry_in_seconds = lock(&self.backoff)
            .get(&cert_name)
            .filter(|b| b.until > Instant::now())
            .map(|b| b.until.saturating_duration_since(Instant::now()).as_secs() + 1);
        let cached = self.cache.get(&name);
        let state = match (&cached, &stored, &policy, retry_in_seconds) {
            (Some(Cached::Refused { .. }), ..) | (_, _, Some(Verdict::Refused { .. }), _) => {
                "refused"
            }
            (Some(Cached::Ready { .. }), ..) | (None, Some(_), ..) => "ready",
            (_, None, _, Some(_)) => "backoff",
            _ => "absent",
        };
        let last_error = lock(&self.failures).get(&cert_name).cloned();
        Ok(CertDetail {
            name,
            certificate: cert_name,
            state,
            policy,
            issuer: stored.as_ref().map(|s| s.issuer.clone()),
            not_after_ms: stored.as_ref().map(|s| s.not_after_ms),
            renew_after_ms: stored.as_ref().map(|s| s.renew_after_ms),
            last_error: stored.and_then(|s| s.last_error).or(last_error),
            retry_in_seconds,
            in_memory: matches!(cached, Some(Cached::Ready { .. })),
        })
    }

    /// The verdict of the policy alone (for `certs why`).
    pub async fn verdict(&self, name: &str) -> Result<Verdict> {
        match name::normalize(name) {
            Some(name) => self.policy.check(&name).await,
            None => Ok(Verdict::Refused {
                reason: format!(
                    "`{name}` is not a DNS name (IP literals, empty labels and odd characters are refused before any look-up)"
                ),
            }),
        }
    }

    /// Queued, in-flight and backed-off names.
    pub async fn queue(&self) -> Result<QueueView> {
        let now = Instant::now();
        let mut in_flight: Vec<String> = lock(&self.flights).keys().cloned().collect();
        in_flight.sort();
        let mut backoff: Vec<(String, u64)> = lock(&self.backoff)
            .iter()
            .filter(|(_, b)| b.until > now)
            .map(|(n, b)| {
                (
                    n.clone(),
                    b.until.saturating_duration_since(now).as_secs() + 1,
                )
            })
            .collect();
        backoff.sort();
        Ok(QueueView {
            queued: self.store.queue().await?,
            in_flight,
            backoff,
        })
    }

    /// Renews due certificates and issues queued names until `shutdown`.
    pub async fn run_background(self: Arc<Self>, shutdown: CancellationToken) {
        loop {
            tokio::select! {
                () = shutdown.cancelled() => return,
                () = tokio::time::sleep(self.options.sweep_interval) => {}
            }
            self.sweep().await;
        }
    }

    /// One pass of the background work (public for tests).
    pub async fn sweep(&self) {
        let now = time::now_ms();
        match self.store.due_for_renewal(now, 20).await {
            Ok(due) => {
                for cert_name in due {
                    self.renew_stored(&cert_name).await;
                }
            }
            Err(err) => tracing::warn!(error = %err.report(), "renewal sweep: store unavailable"),
        }
        if !self.options.preissue {
            return;
        }
        match self.store.queue_due(now, 20).await {
            Ok(due) => {
                for queued in due {
                    self.issue_queued(&queued).await;
                }
            }
            Err(err) => tracing::warn!(error = %err.report(), "pre-issuance: store unavailable"),
        }
    }

    async fn renew_stored(&self, cert_name: &str) {
        if !lock(&self.refreshing).insert(cert_name.to_owned()) {
            return;
        }
        let tenant = if cert_name.starts_with("*.") {
            // The wildcard is configuration, not a tenant's name.
            Some(None)
        } else {
            match self.policy.check(cert_name).await {
                Ok(Verdict::Allowed { tenant, .. }) => Some(tenant),
                Ok(Verdict::Refused { reason }) => {
                    tracing::info!(
                        name = cert_name,
                        reason,
                        "not renewing: no longer authorised"
                    );
                    let _ = self.store.delete_cert(cert_name).await;
                    self.cache.remove(cert_name);
                    None
                }
                Err(_) => None,
            }
        };
        if let Some(tenant) = tenant
            && let Ok(Some(current)) = self.store.load_cert(cert_name).await
            && let Ok(stored) = self
                .issue_and_store(cert_name, tenant.as_deref(), current.updated_ms, false)
                .await
            && let Err(err) = self.install(cert_name, &stored)
        {
            tracing::warn!(name = cert_name, error = %err.report(), "renewed certificate unusable");
        }
        lock(&self.refreshing).remove(cert_name);
    }

    async fn issue_queued(&self, queued: &QueuedName) {
        let mut flight = self.join_flight(&queued.name);
        let outcome = flight
            .wait_for(Option::is_some)
            .await
            .ok()
            .and_then(|r| r.clone());
        let result = match outcome {
            Some(Ok(_)) => self.store.dequeue(&queued.name).await,
            Some(Err(err)) => {
                let failures = u32::try_from(queued.attempts.saturating_add(1)).unwrap_or(u32::MAX);
                let delay = self.retry_delay(failures);
                let next = time::now_ms() + i64::try_from(delay.as_millis()).unwrap_or(i64::MAX);
                self.store
                    .queue_retry(&queued.name, next, &err.report())
                    .await
            }
            None => Ok(()),
        };
        if let Err(err) = result {
            tracing::warn!(name = queued.name, error = %err.report(), "queue update failed");
        }
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

    async fn challenge_cert(&self, sni: &str) -> Option<Arc<CertifiedKey>> {
        let name = name::normalize(sni)?;
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
