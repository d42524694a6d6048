//! Integration tests of the app crate against real SQLite files and a real PostgreSQL.

mod helpers;
mod http_health;
mod migrations;
