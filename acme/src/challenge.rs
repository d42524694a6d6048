//! ACME challenge answers the edge serves (HTTP-01 on :80, DNS-01 from its responder).

use std::collections::HashMap;
use std::sync::RwLock;

use async_trait::async_trait;

/// Where HTTP-01 key authorisations are kept while an order is pending.
#[async_trait]
pub trait ChallengeStore: Send + Sync + 'static {
    /// The key authorisation for `token`, if a challenge is pending.
    async fn http01(&self, token: &str) -> Option<String>;

    /// TXT values to answer for `_acme-challenge.` `name` (DNS-01).
    async fn dns01(&self, _name: &str) -> Vec<String> {
        Vec::new()
    }
}

/// Challenges kept in this process (single node; the database store serves clusters).
#[derive(Debug, Default)]
pub struct MemoryChallenges {
    tokens: RwLock<HashMap<String, String>>,
}

impl MemoryChallenges {
    /// Publishes an answer.
    pub fn insert(&self, token: &str, key_authorization: &str) {
        self.tokens
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .insert(token.to_owned(), key_authorization.to_owned());
    }

    /// Withdraws an answer.
    pub fn remove(&self, token: &str) {
        self.tokens
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .remove(token);
    }
}

#[async_trait]
impl ChallengeStore for MemoryChallenges {
    async fn http01(&self, token: &str) -> Option<String> {
        self.tokens
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .get(token)
            .cloned()
    }
}
