//! Errors of certificate management.
//!
//! Callers decide by variant, never by message text: the edge's admin API
//! maps [`Error::Denied`] to 403, [`Error::Policy`] and [`Error::Store`] to
//! 503, [`Error::RateLimited`] and [`Error::Backoff`] to 429, and so on.
//!
//! The error is `Clone` because one order's outcome is handed to every
//! handshake that waited for it; causes from other crates (the database
//! driver behind a store or policy) are kept whole behind an [`Arc`] and
//! returned by `source()`. Their text is not repeated in `Display`, so a
//! chain printer (anyhow's `{:#}`) shows each part once; [`Error::report`]
//! gives the whole chain on one line for logs and operator answers.

use std::sync::Arc;

/// What caused a [`Error::Policy`] or [`Error::Store`] failure.
pub type Cause = Arc<dyn std::error::Error + Send + Sync + 'static>;

/// What can go wrong resolving or issuing a certificate.
#[derive(Debug, Clone, thiserror::Error)]
pub enum Error {
    /// The name is not a DNS name (IP literal, empty label, odd characters).
    #[error("`{name}` is not a valid DNS name: {problem}")]
    InvalidName {
        /// The name as given.
        name: String,
        /// Which rule it breaks.
        problem: crate::name::NameError,
    },
    /// The domain policy refuses the name.
    #[error("{name} is not authorised: {reason}")]
    Denied {
        /// The name.
        name: String,
        /// The policy's reason.
        reason: String,
    },
    /// The policy could not be asked (e.g. the database is down).
    #[error("domain policy unavailable")]
    Policy(#[source] Cause),
    /// The certificate store could not be read or written.
    #[error("certificate store unavailable")]
    Store(#[source] Cause),
    /// Another node took the issuance lease over while this one ordered.
    #[error("the issuance lease on {name} passed to another node; its certificate wins")]
    LeaseLost {
        /// The stored certificate's name.
        name: String,
    },
    /// The certificate authority (an ACME directory or the local CA) did not issue.
    #[error("issuing a certificate for {name} failed: {message}")]
    Ca {
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
    /// The local CA's root is unusable.
    #[error("local CA: {0}")]
    LocalCa(String),
    /// Issuance did not finish within the handshake's bound (it goes on in the background).
    #[error("issuing a certificate for {name} took too long")]
    Timeout {
        /// The name.
        name: String,
    },
    /// The issuing task stopped without an answer (it panicked or the runtime shut down).
    #[error("issuing a certificate for {name} stopped without an answer")]
    Aborted {
        /// The name.
        name: String,
    },
    /// Earlier failures for this name: no new attempt before the backoff ends.
    #[error("issuing for {name} failed recently; next attempt in {seconds} s")]
    Backoff {
        /// The name.
        name: String,
        /// Seconds until the next attempt.
        seconds: u64,
    },
    /// The global or per-tenant issuance budget is spent.
    #[error("issuance budget spent ({limit}); try again later")]
    RateLimited {
        /// Which budget, e.g. `30 new orders per hour`.
        limit: String,
    },
}

impl Error {
    /// A store failure caused by `cause` (a driver error, or a message).
    pub fn store(cause: impl Into<Box<dyn std::error::Error + Send + Sync + 'static>>) -> Self {
        Self::Store(Arc::from(cause.into()))
    }

    /// A policy failure caused by `cause` (a driver error, or a message).
    pub fn policy(cause: impl Into<Box<dyn std::error::Error + Send + Sync + 'static>>) -> Self {
        Self::Policy(Arc::from(cause.into()))
    }

    /// This error and every cause under it, joined by `: ` (for logs,
    /// `last_error` and operator answers).
    pub fn report(&self) -> String {
        let mut text = self.to_string();
        let mut cause = std::error::Error::source(self);
        while let Some(next) = cause {
            text.push_str(": ");
            text.push_str(&next.to_string());
            cause = next.source();
        }
        text
    }
}

/// Result with this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn causes_are_kept_typed_and_shown_once() {
        let io = std::io::Error::new(std::io::ErrorKind::ConnectionRefused, "pool timed out");
        let err = Error::store(io);
        assert_eq!(err.to_string(), "certificate store unavailable");
        assert_eq!(
            err.report(),
            "certificate store unavailable: pool timed out"
        );
        assert!(std::error::Error::source(&err).is_some());
        let Error::Store(cause) = &err else {
            unreachable!()
        };
        assert!(
            cause.downcast_ref::<std::io::Error>().is_some(),
            "typed cause"
        );
        let cloned = err.clone();
        assert_eq!(cloned.report(), err.report());
        let plain = Error::policy("database unreachable");
        assert_eq!(
            plain.report(),
            "domain policy unavailable: database unreachable"
        );
        let denied = Error::Denied {
            name: "a.test".into(),
            reason: "not listed".into(),
        };
        assert_eq!(denied.report(), denied.to_string());
    }
}
