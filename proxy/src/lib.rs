//! The StatusWatch edge: listeners on :80/:443, TLS per SNI, routing to the
//! app and the SPA, and the operator's admin API.
//!
//! It depends on `acme` for certificates and never on `app`. For now it holds
//! the edge configuration; the Edge issue adds the Pingora server.

pub mod config;

pub use config::EdgeConfig;
