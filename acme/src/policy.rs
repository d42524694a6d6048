//! Which names may have a certificate: asked in-process, never over HTTP.

use async_trait::async_trait;

use crate::Result;

/// Decides whether a certificate may be issued for a name.
#[async_trait]
pub trait DomainPolicy: Send + Sync + 'static {
    /// True when `name` (normalised) belongs to the platform or a tenant.
    async fn is_authorized(&self, name: &str) -> Result<bool>;
}

/// A fixed allow-list, for tests and simple setups.
#[derive(Debug, Default, Clone)]
pub struct StaticPolicy(pub Vec<String>);

#[async_trait]
impl DomainPolicy for StaticPolicy {
    async fn is_authorized(&self, name: &str) -> Result<bool> {
        Ok(self.0.iter().any(|n| n == name))
    }
}
