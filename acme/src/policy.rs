//! Which names may have a certificate: asked in-process, never over HTTP.

use async_trait::async_trait;
use serde::Serialize;

use crate::Result;

/// The policy's answer for one name, with the rule that decided it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "verdict", rename_all = "snake_case")]
pub enum Verdict {
    /// A certificate may be issued.
    Allowed {
        /// Which rule allows it (for `certs why`).
        rule: String,
        /// The tenant the name belongs to, for per-tenant issuance budgets.
        #[serde(skip_serializing_if = "Option::is_none")]
        tenant: Option<String>,
    },
    /// No certificate for this name.
    Refused {
        /// Why not.
        reason: String,
    },
}

impl Verdict {
    /// Whether issuance is allowed.
    pub fn is_allowed(&self) -> bool {
        matches!(self, Self::Allowed { .. })
    }

    /// The tenant of an allowed name.
    pub fn tenant(&self) -> Option<&str> {
        match self {
            Self::Allowed { tenant, .. } => tenant.as_deref(),
            Self::Refused { .. } => None,
        }
    }
}

/// Decides whether a certificate may be issued for a name.
#[async_trait]
pub trait DomainPolicy: Send + Sync + 'static {
    /// The verdict for `name` (normalised: lowercase, no trailing dot).
    async fn check(&self, name: &str) -> Result<Verdict>;
}

/// A fixed allow-list, for tests and simple setups.
#[derive(Debug, Default, Clone)]
pub struct StaticPolicy(pub Vec<String>);

#[async_trait]
impl DomainPolicy for StaticPolicy {
    async fn check(&self, name: &str) -> Result<Verdict> {
        Ok(if self.0.iter().any(|n| n == name) {
            Verdict::Allowed {
                rule: "listed".to_owned(),
                tenant: None,
            }
        } else {
            Verdict::Refused {
                reason: "not listed".to_owned(),
            }
        })
    }
}
