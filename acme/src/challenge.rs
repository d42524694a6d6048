//! ACME challenge answers the edge serves (HTTP-01 on :80, DNS-01 from its responder).

use async_trait::async_trait;

/// Where the edge reads challenge answers while an order is pending
/// ([`crate::CertManager`] answers from the shared store).
#[async_trait]
pub trait ChallengeStore: Send + Sync + 'static {
    /// The key authorisation for `token`, if a challenge is pending.
    async fn http01(&self, token: &str) -> Option<String>;

    /// TXT values to answer for `_acme-challenge.` `name` (DNS-01).
    async fn dns01(&self, _name: &str) -> Vec<String> {
        Vec::new()
    }
}
