//! End-to-end tests: the real `statuswatch` binary on free ports, against
//! real SQLite files and a real PostgreSQL.

// Test helpers outside #[test] functions may unwrap: a failure is the test failing.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod acme;
mod cli;
mod compose;
mod crashes;
mod edge;
mod edge_cache;
mod edge_hostile;
mod faults;
mod harness;
mod ops;
mod pebble;
mod prober;
mod secrets;
mod serve;
mod tenants;
mod upgrade;
