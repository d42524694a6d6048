//! What the storage contracts carry: certificates, summaries, challenge kinds, queued names.

use serde::Serialize;

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

/// An order in flight, journalled so a node that restarts (or takes the
/// lease over) resumes it at the CA instead of placing another.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingOrder {
    /// The order's URL at the CA.
    pub url: String,
    /// The sealed private key of the CSR, once the order was finalised with it.
    pub key_sealed: Option<Vec<u8>>,
    /// When the order was placed, ms since the epoch.
    pub created_ms: i64,
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
