//! The app's side of certificate management: the `acme` crate's policy and
//! store over the database, and the Caddy-compatible `ask` endpoint's logic.

pub mod policy;
pub mod store;

pub use policy::DbDomainPolicy;
pub use store::DbCertStore;
