//! Certificate lifecycle for the StatusWatch edge.
//!
//! This crate depends on nothing else of the workspace. The edge asks a
//! [`CertResolver`] for a certificate at TLS-handshake time; the
//! [`CertManager`] answers from its cache or, for names the [`DomainPolicy`]
//! authorises, issues one (with the embedded [`LocalCa`] by default; ACME
//! lands with the On-demand ACME issue). The app implements the policy over
//! its domains table.

pub mod cache;
pub mod challenge;
pub mod config;
pub mod error;
pub mod local_ca;
pub mod manager;

pub mod name;
pub mod policy;

pub use challenge::{ChallengeStore, MemoryChallenges};
pub use config::AcmeConfig;
pub use error::{Error, Result};
pub use local_ca::LocalCa;
pub use manager::{CertManager, CertResolver, CertStatus, Issuer};
pub use policy::DomainPolicy;
