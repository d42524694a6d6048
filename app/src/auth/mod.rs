//! Authentication: passwords, signed tokens, sessions, API keys, roles,
//! rate limits, and the principal every protected request resolves to.

pub mod api_key;
pub mod keys;
pub mod links;
pub mod password;
pub mod principal;
pub mod rate_limit;
pub mod role;
pub mod session;
pub mod token;

pub use keys::Keys;
pub use principal::Principal;
pub use role::Role;
