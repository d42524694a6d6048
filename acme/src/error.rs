//! Errors of certificate management.

/// What can go wrong resolving or issuing a certificate.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The policy could not be asked (e.g. the database is down).
    #[error("domain policy unavailable: {0}")]
    Policy(String),
    /// The certificate store could not be read or written.
    #[error("certificate store: {0}")]
    Store(String),
    /// Issuing failed.
    #[error("issuing a certificate for {name} failed: {message}")]
    Issue {
        /// The name.
        name: String,
        /// Why.
        message: String,
    },
    /// The ACME directory or account could not be used.
    #[error("ACME account on {directory}: {message}")]
    Account {
        /// The directory URL.
        directory: String,
        /// Why.
        message: String,
    },
    /// A stored or issued certificate is unusable.
    #[error("certificate for {name} is unusable: {message}")]
    BadCertificate {
        /// The name.
        name: String,
        /// Why.
        message: String,
    },
    /// Sealing or opening a stored secret failed.
    #[error("{0}")]
    Seal(String),
    /// The local CA's files are unusable.
    #[error("local CA: {0}")]
    LocalCa(String),
    /// Issuance did not finish within the handshake's bound.
    #[error("issuing a certificate for {0} took too long")]
    Timeout(String),
    /// Earlier failures for this name: no new attempt before the backoff ends.
    #[error("issuing for {name} failed recently; next attempt in {seconds} s")]
    Backoff {
        /// The name.
        name: String,
        /// Seconds until the next attempt.
        seconds: u64,
    },
    /// The shared look-up this handshake waited on failed (message already complete).
    #[error("{0}")]
    Flight(String),
    /// The global or per-tenant issuance budget is spent.
    #[error("issuance budget spent ({0}); try again later")]
    RateLimited(String),
}

/// Result with this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
