//! Billing: plans per tenant with their limits, Stripe Checkout and the
//! customer portal, verified webhooks applied once and in any order, and the
//! dunning that lets a failing subscription fall to Free after a grace period,
//! pausing (never deleting) what Free does not allow.
//!
//! Stripe's webhooks and API are the only source of a subscription's state:
//! a redirect back from Checkout changes nothing by itself.

pub mod account;
pub mod dunning;
pub mod events;
pub mod limits;
pub mod pauses;
pub mod plans;
pub mod stripe;
pub mod webhook;

use std::time::Duration;

use secrecy::SecretString;

use crate::config::{BillingConfig, ProberConfig};
use plans::Plans;
use stripe::Stripe;

/// Billing as the app uses it: resolved plans and, when enabled, the Stripe client.
#[derive(Debug, Clone)]
pub struct Billing {
    /// Plans and limits.
    pub plans: Plans,
    /// Days a failing subscription keeps its plan.
    pub grace_period_days: u64,
    /// The Stripe client; `None` when billing is off (or its key is missing).
    pub stripe: Option<Stripe>,
    /// The webhook signing secret (the whole `whsec_…` string).
    pub webhook_secret: Option<SecretString>,
}

impl Billing {
    /// Builds billing from validated configuration.
    pub fn new(config: &BillingConfig, prober: &ProberConfig) -> Self {
        let stripe = match (&config.stripe_secret_key, config.enabled) {
            (Some(key), true) => Stripe::new(
                config.stripe_api_base.clone(),
                key.clone(),
                Duration::from_secs(config.request_timeout_seconds),
            )
            .inspect_err(|err| tracing::error!(error = %err, "Stripe client unavailable"))
            .ok(),
            _ => None,
        };
        Self {
            plans: Plans::resolve(config, prober),
            grace_period_days: config.grace_period_days,
            stripe,
            webhook_secret: config
                .enabled
                .then(|| config.stripe_webhook_secret.clone())
                .flatten(),
        }
    }
}
