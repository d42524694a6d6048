//! Authentication: passwords, signed tokens, sessions, API keys, roles,
//! and rate limits.

pub mod api_key;
pub mod hashing;
pub mod keys;
pub mod links;
pub mod password;
pub mod rate_limit;
pub mod role;
pub mod session;
pub mod token;

pub use keys::Keys;
pub use role::Role;
