//! What operators see: the names held in memory, everything known of one
//! name (`GET /certs/{name}`, `certs why`) and the pending work (`GET /acme/queue`).

use std::time::SystemTime;

use serde::Serialize;

use super::CertManager;
use crate::Result;
use crate::cache::Cached;
use crate::name::DnsName;
use crate::policy::Verdict;
use crate::store::QueuedName;

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

impl CertManager {
    /// Certificates and refusals held in memory, counted without listing
    /// them: the metrics scrape, which listing 100,000 names held up for 0.2 s.
    pub fn held_counts(&self) -> (usize, usize) {
        self.cache.counts()
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

    /// Everything known of `name`: policy verdict, stored certificate, backoff.
    pub async fn detail(&self, name: &str) -> Result<CertDetail> {
        let name = DnsName::parse(name).map_or_else(|_| name.to_owned(), String::from);
        let cert_name = self.cert_name(&name);
        let policy = self.policy.check(&name).await.ok();
        let stored = self.store.load_cert(&cert_name).await.ok().flatten();
        let retry_in_seconds = self.backoffs.retry_in(&cert_name);
        let cached = self.cache.get(&name);
        let state = match (&cached, &stored, &policy, retry_in_seconds) {
            (Some(Cached::Refused { .. }), ..) | (_, _, Some(Verdict::Refused { .. }), _) => {
                "refused"
            }
            (Some(Cached::Ready { .. }), ..) | (None, Some(_), ..) => "ready",
            (_, None, _, Some(_)) => "backoff",
            _ => "absent",
        };
        let last_error = self.backoffs.last_error(&cert_name);
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
        match DnsName::parse(name) {
            Ok(name) => self.policy.check(name.as_str()).await,
            Err(problem) => Ok(Verdict::Refused {
                reason: format!("`{name}` is not a DNS name: {problem}"),
            }),
        }
    }

    /// Queued, in-flight and backed-off names.
    pub async fn queue(&self) -> Result<QueueView> {
        Ok(QueueView {
            queued: self.store.queue().await?,
            in_flight: self.flights.names(),
            backoff: self.backoffs.waiting(),
        })
    }
}
