//! Certificate lifecycle for the StatusWatch edge.
//!
//! This crate depends on nothing else of the workspace. The edge asks a
//! [`CertResolver`] for a certificate at TLS-handshake time; the
//! [`CertManager`] answers from its cache, else from the shared
//! [`CertStore`], else — for names the [`DomainPolicy`] authorises — orders
//! one (ACME through [`AcmeIssuer`], or the embedded [`LocalCa`]). The app
//! implements the policy and the store over its database.

pub mod cache;
pub mod certs;
pub mod challenge;
pub mod client;
pub mod config;
pub mod dns;
pub mod error;
pub mod local_ca;
pub mod manager;
pub mod name;
pub mod policy;
pub mod seal;
pub mod store;
pub mod time;
pub mod tls_alpn;

pub use challenge::ChallengeStore;
pub use client::{AcmeIssuer, AcmeOptions};
pub use config::{AcmeConfig, Challenge};
pub use error::{Error, Result};
pub use local_ca::LocalCa;
pub use manager::{CertDetail, CertManager, CertResolver, CertStatus, Issuer, ManagerOptions};
pub use policy::{DomainPolicy, StaticPolicy, Verdict};
pub use seal::Sealer;
pub use store::{CertStore, MemoryStore};
