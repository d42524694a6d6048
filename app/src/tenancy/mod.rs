//! Tenants (organisations), their users and memberships, domains, invitations,
//! and the platform admin's view of them.

pub mod admin;
pub mod audit;
pub mod dns;
pub mod domains;
pub mod email;
pub mod hostname;
pub mod invitations;
pub mod members;
pub mod rename_suffix;
pub mod signup;
pub mod slug;
pub mod store;

pub use email::EmailAddress;
pub use hostname::Hostname;
pub use slug::Slug;
