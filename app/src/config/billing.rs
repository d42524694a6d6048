//! `[billing]`: Stripe keys for the Pro plan.

use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use url::Url;

use super::redacted;

/// Stripe settings; billing is off unless `enabled`.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct BillingConfig {
    /// Offer paid plans through Stripe.
    pub enabled: bool,
    /// Stripe API base URL (tests point it at a local server).
    pub stripe_api_base: Url,
    /// Publishable key (`pk_live_…` in production), sent to the browser.
    #[serde(default)]
    pub stripe_publishable_key: Option<String>,
    /// Secret API key (`sk_live_…` in production).
    #[serde(default, serialize_with = "redacted")]
    pub stripe_secret_key: Option<SecretString>,
    /// Webhook signing secret (`whsec_…`).
    #[serde(default, serialize_with = "redacted")]
    pub stripe_webhook_secret: Option<SecretString>,
    /// Price id of the Pro plan (`price_…`).
    #[serde(default)]
    pub pro_price_id: Option<String>,
}

impl BillingConfig {
    /// Appends one message per problem, each naming its key.
    pub fn validate(&self, production: bool, problems: &mut Vec<String>) {
        if !self.enabled {
            return;
        }
        let (pk, sk) = if production {
            ("pk_live_", "sk_live_")
        } else {
            ("pk_", "sk_")
        };
        check_prefix(
            "billing.stripe_publishable_key",
            self.stripe_publishable_key.as_deref(),
            pk,
            problems,
        );
        check_prefix(
            "billing.stripe_secret_key",
            self.stripe_secret_key.as_ref().map(|s| s.expose_secret()),
            sk,
            problems,
        );
        check_prefix(
            "billing.stripe_webhook_secret",
            self.stripe_webhook_secret
                .as_ref()
                .map(|s| s.expose_secret()),
            "whsec_",
            problems,
        );
        check_prefix(
            "billing.pro_price_id",
            self.pro_price_id.as_deref(),
            "price_",
            problems,
        );
        if production && self.stripe_api_base.scheme() != "https" {
            problems.push("billing.stripe_api_base: must be https in production".to_owned());
        }
    }
}

/// Names the key and the expected prefix, never the value (it may be a secret).
fn check_prefix(key: &str, value: Option<&str>, prefix: &str, problems: &mut Vec<String>) {
    match value.map(str::trim) {
        None | Some("") => problems.push(format!("{key}: required when billing is enabled")),
        Some(value) if !value.starts_with(prefix) || value.len() <= prefix.len() => {
            problems.push(format!("{key}: must start with `{prefix}`"))
        }
        Some(_) => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn billing(pk: &str, sk: &str, wh: &str) -> BillingConfig {
        BillingConfig {
            enabled: true,
            stripe_api_base: Url::parse("https://api.stripe.com").unwrap(),
            stripe_publishable_key: Some(pk.to_owned()),
            stripe_secret_key: Some(sk.into()),
            stripe_webhook_secret: Some(wh.into()),
            pro_price_id: Some("price_123".to_owned()),
        }
    }

    fn problems(config: &BillingConfig, production: bool) -> Vec<String> {
        let mut problems = Vec::new();
        config.validate(production, &mut problems);
        problems
    }

    #[test]
    fn production_needs_live_keys_and_names_each() {
        let test_keys = billing("pk_test_abc", "sk_test_abc", "whsec_abc");
        assert!(problems(&test_keys, false).is_empty());
        let found = problems(&test_keys, true);
        assert_eq!(found.len(), 2, "{found:?}");
        assert!(found[0].starts_with("billing.stripe_publishable_key: must start with `pk_live_`"));
        assert!(found[1].starts_with("billing.stripe_secret_key: must start with `sk_live_`"));
        assert!(!found.concat().contains("sk_test_abc"), "secret leaked");
        assert!(problems(&billing("pk_live_a", "sk_live_b", "whsec_c"), true).is_empty());
    }

    #[test]
    fn missing_keys_and_disabled_billing() {
        let mut empty = billing("", "", "");
        empty.pro_price_id = None;
        assert_eq!(problems(&empty, true).len(), 4);
        empty.enabled = false;
        assert!(problems(&empty, true).is_empty());
        assert_eq!(
            problems(&billing("pk_live_a", "sk_live_b", "wrong"), true).len(),
            1
        );
    }
}
