//! `[prober]`: where probes run from and what they may reach.

use serde::{Deserialize, Serialize};

/// Settings of the probing role.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ProberConfig {
    /// Region name this prober reports its results under.
    pub region: String,
    /// Allow probes to private, loopback and link-local addresses (development and tests).
    pub allow_private_targets: bool,
}

impl ProberConfig {
    /// Appends one message per problem, each naming its key.
    pub fn validate(&self, _production: bool, problems: &mut Vec<String>) {
        let region = self.region.trim();
        if region.is_empty()
            || region.len() > 32
            || !region
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-')
        {
            problems.push(format!(
                "prober.region: `{region}` must be 1–32 letters, digits or hyphens"
            ));
        }
    }
}
