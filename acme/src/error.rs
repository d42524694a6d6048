//! Errors of certificate management.

/// What can go wrong resolving or issuing a certificate.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The policy could not be asked (e.g. the database is down).
    #[error("domain policy unavailable: {0}")]
    Policy(String),
    /// Issuing failed.
    #[error("issuing a certificate for {name} failed: {message}")]
    Issue {
        /// The name.
        name: String,
        /// Why.
        message: String,
    },
    /// The local CA's files are unusable.
    #[error("local CA: {0}")]
    LocalCa(String),
    /// Issuance did not finish within the handshake's bound.
    #[error("issuing a certificate for {0} took too long")]
    Timeout(String),
}

/// Result with this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
