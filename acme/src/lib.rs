//! Certificate lifecycle for the StatusWatch edge.
//!
//! This crate depends on nothing else of the workspace: the edge uses it to
//! obtain certificates, and the app implements its storage and policy traits
//! over the database. For now it holds the configuration that the ACME issue
//! builds on.

pub mod config;

pub use config::AcmeConfig;
