//! Background work: re-checks of served names (still authorised? renewed
//! by another node? due?), the periodic sweep over due renewals and queued
//! names, and an operator's forced renewal. None of it holds a handshake up.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Instant;

use tokio_util::sync::CancellationToken;

use super::{CertDetail, CertManager, backoff, lock};
use crate::name::DnsName;
use crate::policy::Verdict;
use crate::store::QueuedName;
use crate::{Error, Result, time};

impl CertManager {
    /// Starts a background [`CertManager::refresh`] of `name` unless one runs.
    pub(super) fn spawn_refresh(&self, name: &str) {
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
        let name =
            DnsName::parse(name)
                .map(String::from)
                .map_err(|problem| Error::InvalidName {
                    name: name.to_owned(),
                    problem,
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

    /// Renews one stored certificate found due by the sweep.
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

    /// Issues one queued name through the single flight; a failure is retried later.
    async fn issue_queued(&self, queued: &QueuedName) {
        let result = match self.join_flight(&queued.name).answer().await {
            Ok(_) => self.store.dequeue(&queued.name).await,
            Err(err) => {
                let failures = u32::try_from(queued.attempts.saturating_add(1)).unwrap_or(u32::MAX);
                let delay = backoff::retry_delay(&self.options, failures);
                let next = time::now_ms() + i64::try_from(delay.as_millis()).unwrap_or(i64::MAX);
                self.store
                    .queue_retry(&queued.name, next, &err.report())
                    .await
            }
        };
        if let Err(err) = result {
            tracing::warn!(name = queued.name, error = %err.report(), "queue update failed");
        }
    }
}
