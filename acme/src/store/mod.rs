//! Where the certificate manager keeps what every edge node shares, as
//! small storage contracts by concern: [`Certificates`], [`Accounts`],
//! [`Leases`], [`Challenges`], the [`IssueQueue`] and the [`OrderLedger`].
//!
//! A backend stores and fetches; it decides nothing. Budgets, backoff,
//! retention of the order history and when to renew are the manager's
//! policy, above these traits. The app implements them over the database;
//! [`MemoryStore`] serves tests and single nodes. [`CertStore`] is every
//! contract at once, implemented for any type that has them all.
//!
//! Private keys and account credentials reach a store sealed (see
//! [`crate::seal`]); a store never sees them in clear.

mod memory;
mod types;

use async_trait::async_trait;

pub use memory::MemoryStore;
pub use types::{CertSummary, ChallengeKind, PendingOrder, QueuedName, StoredCert};

use crate::Result;

/// Issued certificates, keyed by the name they are stored under.
#[async_trait]
pub trait Certificates: Send + Sync + 'static {
    /// The certificate stored under `name`.
    async fn load_cert(&self, name: &str) -> Result<Option<StoredCert>>;
    /// Stores `cert` (clearing its `last_error`) if `fence` (from
    /// [`Leases::try_lease`]) is still `holder`'s lease on its name, checked
    /// and written atomically; returns false (and stores nothing) otherwise.
    async fn save_cert(&self, cert: &StoredCert, holder: &str, fence: i64) -> Result<bool>;
    /// Removes a certificate; true if one was stored.
    async fn delete_cert(&self, name: &str) -> Result<bool>;
    /// Every stored certificate, keys left out, by name.
    async fn list_certs(&self) -> Result<Vec<CertSummary>>;
    /// Names whose `renew_after_ms` is at or before `now_ms`, at most `limit`.
    async fn due_for_renewal(&self, now_ms: i64, limit: i64) -> Result<Vec<String>>;
    /// Records the last issuance failure of `name` (None clears it).
    async fn set_last_error(&self, name: &str, error: Option<&str>) -> Result<()>;
}

/// ACME account credentials, one account per directory for the whole cluster.
#[async_trait]
pub trait Accounts: Send + Sync + 'static {
    /// Sealed credentials of the account on `directory`.
    async fn load_account(&self, directory: &str) -> Result<Option<Vec<u8>>>;
    /// Stores credentials unless some are stored already; returns what is stored now.
    async fn save_account(&self, directory: &str, sealed: &[u8]) -> Result<Vec<u8>>;
}

/// Per-name issuance locks with fencing numbers, so one node orders at a time.
#[async_trait]
pub trait Leases: Send + Sync + 'static {
    /// Takes the lease on `name` for `ttl_ms` if it is free, expired or
    /// already `holder`'s; the returned fencing number grows with every take.
    async fn try_lease(&self, name: &str, holder: &str, ttl_ms: i64) -> Result<Option<i64>>;
    /// Gives `holder`'s lease back early.
    async fn release_lease(&self, name: &str, holder: &str) -> Result<()>;
    /// Unexpired leases as (name, holder), for freeing those of dead processes.
    async fn held_leases(&self) -> Result<Vec<(String, String)>>;
}

/// Published challenge answers, readable by whichever node the validator reaches.
#[async_trait]
pub trait Challenges: Send + Sync + 'static {
    /// Publishes an answer until `expires_ms`.
    async fn put_challenge(
        &self,
        kind: ChallengeKind,
        key: &str,
        value: &str,
        expires_ms: i64,
    ) -> Result<()>;
    /// Every unexpired answer for `key`.
    async fn get_challenges(&self, kind: ChallengeKind, key: &str) -> Result<Vec<String>>;
    /// Withdraws one answer.
    async fn delete_challenge(&self, kind: ChallengeKind, key: &str, value: &str) -> Result<()>;
}

/// Names waiting for issuance ahead of their first handshake.
#[async_trait]
pub trait IssueQueue: Send + Sync + 'static {
    /// Queues `name` (nothing happens if it is queued already).
    async fn enqueue(&self, name: &str, reason: &str) -> Result<()>;
    /// Names whose `next_attempt_ms` is at or before `now_ms`, oldest first, at most `limit`.
    async fn queue_due(&self, now_ms: i64, limit: i64) -> Result<Vec<QueuedName>>;
    /// The whole queue, oldest first.
    async fn queue(&self) -> Result<Vec<QueuedName>>;
    /// Removes `name`.
    async fn dequeue(&self, name: &str) -> Result<()>;
    /// Counts a failed attempt and stores when to try again and why it failed.
    async fn queue_retry(&self, name: &str, next_attempt_ms: i64, error: &str) -> Result<()>;
}

/// Orders placed with a budgeted CA, for cluster-wide budgets and operators.
#[async_trait]
pub trait OrderLedger: Send + Sync + 'static {
    /// Records that `node` placed an order for `name` (of `tenant`), now.
    async fn record_order(&self, name: &str, tenant: Option<&str>, node: &str) -> Result<()>;
    /// Orders recorded since `since_ms`, all of them or one tenant's.
    async fn orders_since(&self, since_ms: i64, tenant: Option<&str>) -> Result<i64>;
    /// Drops the records older than `before_ms`.
    async fn forget_orders_before(&self, before_ms: i64) -> Result<()>;
    /// Journals the order in flight for `name` (replacing any earlier one).
    async fn save_pending_order(&self, name: &str, order: &PendingOrder) -> Result<()>;
    /// The journalled order in flight for `name`.
    async fn pending_order(&self, name: &str) -> Result<Option<PendingOrder>>;
    /// Forgets `name`'s order in flight (issued, or given up).
    async fn clear_pending_order(&self, name: &str) -> Result<()>;
}

/// Every storage contract the manager uses; implemented for any type that
/// has them all, so a backend writes only the small traits.
pub trait CertStore:
    Certificates + Accounts + Leases + Challenges + IssueQueue + OrderLedger
{
}

impl<T> CertStore for T where
    T: Certificates + Accounts + Leases + Challenges + IssueQueue + OrderLedger
{
}
