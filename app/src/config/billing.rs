//! `[billing]`: Stripe keys, the dunning grace period and the plans with their limits.

use std::collections::BTreeMap;

use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Deserializer, Serialize};
use url::Url;

use super::redacted;

/// Stripe settings; billing is off unless `enabled`, and then no tenant has limits.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct BillingConfig {
    /// Offer paid plans through Stripe and apply each tenant's plan limits.
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
    /// Days a `past_due` subscription keeps its plan before the tenant falls to Free.
    #[serde(default = "default_grace_days", deserialize_with = "number")]
    pub grace_period_days: u64,
    /// Seconds a Stripe API call may take before it fails with a clear error.
    #[serde(default = "default_timeout", deserialize_with = "number")]
    pub request_timeout_seconds: u64,
    /// Plans keyed by name; `free` and `pro` have built-in limits, others inherit Pro's.
    #[serde(default)]
    pub plans: BTreeMap<String, PlanConfig>,
}

fn default_grace_days() -> u64 {
    7
}

fn default_timeout() -> u64 {
    10
}

/// `[billing.plans.<name>]`: one plan. Unset limits keep the built-in values.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct PlanConfig {
    /// Name shown to people (default: the key, capitalised).
    #[serde(default)]
    pub display_name: Option<String>,
    /// Stripe price id (`price_…`); required for every plan but `free`.
    #[serde(default)]
    pub stripe_price_id: Option<String>,
    /// Monitors a tenant may have.
    #[serde(default, deserialize_with = "opt_number")]
    pub max_monitors: Option<u64>,
    /// Shortest check interval, seconds.
    #[serde(default, deserialize_with = "opt_number")]
    pub min_interval_seconds: Option<u64>,
    /// Status pages a tenant may have.
    #[serde(default, deserialize_with = "opt_number")]
    pub max_status_pages: Option<u64>,
    /// Subscribers one status page may have.
    #[serde(default, deserialize_with = "opt_number")]
    pub max_subscribers_per_page: Option<u64>,
    /// Custom domains a tenant may have.
    #[serde(default, deserialize_with = "opt_number")]
    pub max_custom_domains: Option<u64>,
    /// Alert channels a tenant may have.
    #[serde(default, deserialize_with = "opt_number")]
    pub max_alert_channels: Option<u64>,
    /// Members (with pending invitations) a tenant may have.
    #[serde(default, deserialize_with = "opt_number")]
    pub max_members: Option<u64>,
    /// Days raw check results are kept.
    #[serde(default, deserialize_with = "opt_number")]
    pub raw_retention_days: Option<u64>,
}

/// A number, or a string holding one: environment variables for keys without
/// a default in `config/default.toml` arrive as strings.
#[derive(Deserialize)]
#[serde(untagged)]
enum NumberOrText {
    Number(u64),
    Text(String),
}

impl NumberOrText {
    fn into_u64<E: serde::de::Error>(self) -> Result<u64, E> {
        match self {
            Self::Number(n) => Ok(n),
            // A configuration number is a TOML integer: text past i64 could
            // be read, but never written back (`config show`).
            Self::Text(text) => text
                .trim()
                .parse::<u64>()
                .ok()
                .filter(|n| i64::try_from(*n).is_ok())
                .ok_or_else(|| {
                    E::custom(format!(
                        "`{text}` is not a whole number from 0 to {}",
                        i64::MAX
                    ))
                }),
        }
    }
}

fn number<'de, D: Deserializer<'de>>(d: D) -> Result<u64, D::Error> {
    NumberOrText::deserialize(d)?.into_u64()
}

/// [`number`] for optional keys (also used by `[prober]`'s older plan keys).
pub(super) fn opt_number<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u64>, D::Error> {
    Option::<NumberOrText>::deserialize(d)?
        .map(NumberOrText::into_u64)
        .transpose()
}

impl BillingConfig {
    /// Billing off, with the default API base (self-hosting, tests).
    pub fn disabled() -> Self {
        Self {
            enabled: false,
            stripe_api_base: Url::parse("https://api.stripe.com")
                .unwrap_or_else(|_| unreachable!()),
            stripe_publishable_key: None,
            stripe_secret_key: None,
            stripe_webhook_secret: None,
            grace_period_days: default_grace_days(),
            request_timeout_seconds: default_timeout(),
            plans: BTreeMap::new(),
        }
    }

    /// Appends one message per problem, each naming its key. Plan limits are
    /// checked by [`crate::billing::plans::Plans::check`], which also sees `[prober]`.
    pub fn validate(&self, production: bool, problems: &mut Vec<String>) {
        if !(1..=365).contains(&self.grace_period_days) {
            problems.push(format!(
                "billing.grace_period_days: {} must be between 1 and 365",
                self.grace_period_days
            ));
        }
        if !(1..=120).contains(&self.request_timeout_seconds) {
            problems.push(format!(
                "billing.request_timeout_seconds: {} must be between 1 and 120",
                self.request_timeout_seconds
            ));
        }
        for name in self.plans.keys() {
            let valid = !name.is_empty()
                && name.len() <= 32
                && name
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
            if !valid {
                problems.push(format!(
                    "billing.plans.{name}: plan names are 1–32 lowercase letters, digits or `_`"
                ));
            }
        }
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
        // Every paid plan needs its price; Pro exists even when not configured.
        let mut paid: Vec<&str> = self
            .plans
            .keys()
            .map(String::as_str)
            .filter(|name| *name != "free")
            .collect();
        if !paid.contains(&"pro") {
            paid.push("pro");
        }
        for name in paid {
            let price = self
                .plans
                .get(name)
                .and_then(|p| p.stripe_price_id.as_deref());
            check_prefix(
                &format!("billing.plans.{name}.stripe_price_id"),
                price,
                "price_",
                problems,
            );
        }
        if let Some(free) = self.plans.get("free")
            && free.stripe_price_id.is_some()
        {
            problems
                .push("billing.plans.free.stripe_price_id: the free plan has no price".to_owned());
        }
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
        let mut plans = BTreeMap::new();
        plans.insert(
            "pro".to_owned(),
            PlanConfig {
                stripe_price_id: Some("price_123".to_owned()),
                ..PlanConfig::default()
            },
        );
        BillingConfig {
            enabled: true,
            stripe_publishable_key: Some(pk.to_owned()),
            stripe_secret_key: Some(sk.into()),
            stripe_webhook_secret: Some(wh.into()),
            plans,
            ..BillingConfig::disabled()
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
        empty.plans.clear();
        let found = problems(&empty, true);
        assert_eq!(found.len(), 4, "{found:?}");
        assert!(found[3].starts_with("billing.plans.pro.stripe_price_id: required"));
        empty.enabled = false;
        assert!(problems(&empty, true).is_empty());
        assert_eq!(
            problems(&billing("pk_live_a", "sk_live_b", "wrong"), true).len(),
            1
        );
    }

    #[test]
    fn plans_are_checked_by_name() {
        let mut config = billing("pk_test_a", "sk_test_b", "whsec_c");
        config
            .plans
            .insert("Team Plan".to_owned(), PlanConfig::default());
        config.plans.insert(
            "free".to_owned(),
            PlanConfig {
                stripe_price_id: Some("price_x".to_owned()),
                ..PlanConfig::default()
            },
        );
        let found = problems(&config, false);
        assert!(
            found
                .iter()
                .any(|p| p.starts_with("billing.plans.Team Plan: plan names")),
            "{found:?}"
        );
        assert!(
            found
                .iter()
                .any(|p| p.starts_with("billing.plans.Team Plan.stripe_price_id"))
        );
        assert!(
            found
                .iter()
                .any(|p| p.starts_with("billing.plans.free.stripe_price_id"))
        );
    }

    #[test]
    fn limits_may_come_as_text_from_the_environment() {
        let plan: PlanConfig =
            toml::from_str("max_monitors = '250'\nmin_interval_seconds = 10").unwrap();
        assert_eq!(plan.max_monitors, Some(250));
        assert_eq!(plan.min_interval_seconds, Some(10));
        let err = toml::from_str::<PlanConfig>("max_monitors = 'lots'").unwrap_err();
        assert!(
            err.to_string().contains("`lots` is not a whole number"),
            "{err}"
        );
        // Past what TOML can hold (the effective configuration is shown as TOML).
        let err = toml::from_str::<PlanConfig>("max_monitors = '9223400000000000000'").unwrap_err();
        assert!(
            err.to_string().contains(
                "`9223400000000000000` is not a whole number from 0 to 9223372036854775807"
            ),
            "{err}"
        );
        let most = toml::from_str::<PlanConfig>("max_monitors = '9223372036854775807'").unwrap();
        assert_eq!(most.max_monitors, Some(i64::MAX as u64));
    }
}
