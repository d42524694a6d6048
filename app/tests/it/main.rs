//! Integration tests of the app crate against real SQLite files and a real PostgreSQL.

// Test helpers outside #[test] functions may unwrap: a failure is the test failing.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod access;
mod admin;
mod api;
mod auth_floods;
mod auth_sessions;
mod billing;
mod certs;
mod cross_tenant;
mod domains;
mod handover;
mod helpers;
mod http_health;
mod link_routes;
mod live_events;
mod mail_links;
mod members;
mod migrations;
mod module_cycles;
mod monitor_alerts;
mod monitor_api;
mod monitor_engine;
mod monitor_probes;
mod monitor_rollup;
mod openapi_contract;
mod openapi_snapshot;
mod paging;
mod status_admin;
mod status_page_html;
mod status_public_api;
mod status_subscribers;
mod stripe_fake;
mod tenancy_rename_suffix;
mod tenancy_signup;
