//! A small typed client for the Stripe endpoints billing uses: form-encoded
//! requests with the secret key as bearer, an `Idempotency-Key` on every POST,
//! a timeout on every call, and errors that say what failed without the key.

use std::time::Duration;

use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use serde_json::Value;
use url::Url;

/// What a Stripe call can fail with; none of these carry the secret key.
#[derive(Debug, thiserror::Error)]
pub enum StripeError {
    /// No answer within the timeout.
    #[error("Stripe did not answer {what} within {seconds} s")]
    Timeout {
        /// The call.
        what: &'static str,
        /// The timeout.
        seconds: u64,
    },
    /// Could not connect or the connection broke.
    #[error("Stripe is unreachable ({what}): {cause}")]
    Unreachable {
        /// The call.
        what: &'static str,
        /// The transport error.
        cause: String,
    },
    /// Stripe answered with an error object.
    #[error("Stripe refused {what} ({status}): {message}")]
    Api {
        /// The call.
        what: &'static str,
        /// HTTP status.
        status: u16,
        /// Stripe's `error.message` (or code).
        message: String,
    },
    /// The answer was not the documented shape.
    #[error("Stripe's answer to {what} is not understood: {cause}")]
    Decode {
        /// The call.
        what: &'static str,
        /// What was wrong.
        cause: String,
    },
}

/// `customer` object (the fields used).
#[derive(Debug, Clone, Deserialize)]
pub struct Customer {
    /// `cus_…`.
    pub id: String,
}

/// `checkout.session` object (the fields used).
#[derive(Debug, Clone, Deserialize)]
pub struct CheckoutSession {
    /// `cs_…`.
    pub id: String,
    /// Where to send the browser.
    pub url: Option<String>,
}

/// `billing_portal.session` object (the fields used).
#[derive(Debug, Clone, Deserialize)]
pub struct PortalSession {
    /// `bps_…`.
    pub id: String,
    /// Where to send the browser.
    pub url: String,
}

/// `subscription` object, reduced to what decides a tenant's plan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Subscription {
    /// `sub_…`.
    pub id: String,
    /// `cus_…`.
    pub customer: String,
    /// `active`, `trialing`, `past_due`, `unpaid`, `canceled`, `incomplete`, …
    pub status: String,
    /// Price of the first item.
    pub price_id: Option<String>,
    /// End of the paid period, unix seconds.
    pub current_period_end: Option<i64>,
    /// Ends at the period's end instead of renewing.
    pub cancel_at_period_end: bool,
    /// `metadata.tenant_id`, set by our Checkout Session.
    pub tenant_id: Option<String>,
}

impl Subscription {
    /// Reads a subscription object as Stripe documents it. `current_period_end`
    /// moved from the subscription to its items in API version 2025-03-31; both are read.
    pub fn from_json(value: &Value) -> Result<Self, String> {
        let text = |v: &Value, key: &str| v.get(key).and_then(Value::as_str).map(str::to_owned);
        if value.get("object").and_then(Value::as_str) != Some("subscription") {
            return Err("not a subscription object".to_owned());
        }
        let item = value.pointer("/items/data/0");
        // `customer` is an id, or the customer object when expanded.
        let customer = text(value, "customer")
            .or_else(|| {
                value
                    .pointer("/customer/id")
                    .and_then(Value::as_str)
                    .map(str::to_owned)
            })
            .ok_or("subscription without customer")?;
        Ok(Self {
            id: text(value, "id").ok_or("subscription without id")?,
            customer,
            status: text(value, "status").ok_or("subscription without status")?,
            price_id: item
                .and_then(|i| i.pointer("/price/id"))
                .and_then(Value::as_str)
                .map(str::to_owned),
            current_period_end: value
                .get("current_period_end")
                .and_then(Value::as_i64)
                .or_else(|| item.and_then(|i| i.get("current_period_end")?.as_i64())),
            cancel_at_period_end: value
                .get("cancel_at_period_end")
                .and_then(Value::as_bool)
                .unwrap_or(false),
            tenant_id: value
                .pointer("/metadata/tenant_id")
                .and_then(Value::as_str)
                .map(str::to_owned),
        })
    }
}

/// The client; cheap to clone.
#[derive(Debug, Clone)]
pub struct Stripe {
    http: reqwest::Client,
    base: Url,
    key: SecretString,
    timeout: Duration,
}

impl Stripe {
    /// A client for `base` (`https://api.stripe.com`) with `key`, each call limited to `timeout`.
    pub fn new(base: Url, key: SecretString, timeout: Duration) -> Result<Self, StripeError> {
        let http = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(timeout)
            .user_agent(concat!("StatusWatch/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| StripeError::Unreachable {
                what: "client setup",
                cause: e.to_string(),
            })?;
        Ok(Self {
            http,
            base,
            key,
            timeout,
        })
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base.as_str().trim_end_matches('/'))
    }

    async fn send(
        &self,
        what: &'static str,
        request: reqwest::RequestBuilder,
    ) -> Result<Value, StripeError> {
        let seconds = self.timeout.as_secs();
        let transport = |e: reqwest::Error| {
            if e.is_timeout() {
                StripeError::Timeout { what, seconds }
            } else {
                StripeError::Unreachable {
                    what,
                    // Without the URL: it is ours and says nothing new.
                    cause: e.without_url().to_string(),
                }
            }
        };
        let response = request
            .bearer_auth(self.key.expose_secret())
            .send()
            .await
            .map_err(transport)?;
        let status = response.status();
        let body = response.bytes().await.map_err(transport)?;
        let value: Value = serde_json::from_slice(&body).map_err(|e| StripeError::Decode {
            what,
            cause: format!("HTTP {status}, body is not JSON: {e}"),
        })?;
        if !status.is_success() {
            let message = value
                .pointer("/error/message")
                .or_else(|| value.pointer("/error/code"))
                .and_then(Value::as_str)
                .unwrap_or("no error message")
                .to_owned();
            return Err(StripeError::Api {
                what,
                status: status.as_u16(),
                message,
            });
        }
        Ok(value)
    }

    async fn post<T: for<'de> Deserialize<'de>>(
        &self,
        what: &'static str,
        path: &str,
        form: &[(&str, String)],
        idempotency_key: &str,
    ) -> Result<T, StripeError> {
        let request = self
            .http
            .post(self.url(path))
            .header("Idempotency-Key", idempotency_key)
            .form(form);
        let value = self.send(what, request).await?;
        serde_json::from_value(value).map_err(|e| StripeError::Decode {
            what,
            cause: e.to_string(),
        })
    }

    /// `POST /v1/customers` for a tenant; its id goes in the metadata.
    pub async fn create_customer(
        &self,
        tenant_id: &str,
        name: &str,
        email: Option<&str>,
        idempotency_key: &str,
    ) -> Result<Customer, StripeError> {
        let mut form = vec![
            ("name", name.to_owned()),
            ("metadata[tenant_id]", tenant_id.to_owned()),
        ];
        if let Some(email) = email {
            form.push(("email", email.to_owned()));
        }
        self.post("customer creation", "/v1/customers", &form, idempotency_key)
            .await
    }

    /// `POST /v1/checkout/sessions`: a subscription to `price_id` for `customer`.
    pub async fn create_checkout_session(
        &self,
        customer: &str,
        price_id: &str,
        tenant_id: &str,
        success_url: &str,
        cancel_url: &str,
        idempotency_key: &str,
    ) -> Result<CheckoutSession, StripeError> {
        let form = [
            ("mode", "subscription".to_owned()),
            ("customer", customer.to_owned()),
            ("client_reference_id", tenant_id.to_owned()),
            ("line_items[0][price]", price_id.to_owned()),
            ("line_items[0][quantity]", "1".to_owned()),
            (
                "subscription_data[metadata][tenant_id]",
                tenant_id.to_owned(),
            ),
            ("metadata[tenant_id]", tenant_id.to_owned()),
            ("success_url", success_url.to_owned()),
            ("cancel_url", cancel_url.to_owned()),
        ];
        let session: CheckoutSession = self
            .post(
                "checkout session creation",
                "/v1/checkout/sessions",
                &form,
                idempotency_key,
            )
            .await?;
        if session.url.is_none() {
            return Err(StripeError::Decode {
                what: "checkout session creation",
                cause: "the session has no url".to_owned(),
            });
        }
        Ok(session)
    }

    /// `POST /v1/billing_portal/sessions` for `customer`.
    pub async fn create_portal_session(
        &self,
        customer: &str,
        return_url: &str,
        idempotency_key: &str,
    ) -> Result<PortalSession, StripeError> {
        let form = [
            ("customer", customer.to_owned()),
            ("return_url", return_url.to_owned()),
        ];
        self.post(
            "portal session creation",
            "/v1/billing_portal/sessions",
            &form,
            idempotency_key,
        )
        .await
    }

    /// `GET /v1/subscriptions/{id}`: the subscription as it is now.
    pub async fn subscription(&self, id: &str) -> Result<Subscription, StripeError> {
        const WHAT: &str = "subscription lookup";
        if id.is_empty() || !id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
            return Err(StripeError::Decode {
                what: WHAT,
                cause: "subscription id is not a Stripe id".to_owned(),
            });
        }
        let request = self.http.get(self.url(&format!("/v1/subscriptions/{id}")));
        let value = self.send(WHAT, request).await?;
        Subscription::from_json(&value).map_err(|cause| StripeError::Decode { what: WHAT, cause })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subscriptions_of_old_and_new_api_versions() {
        let old = serde_json::json!({
            "id": "sub_1", "object": "subscription", "customer": "cus_1", "status": "active",
            "current_period_end": 1_800_000_000, "cancel_at_period_end": true,
            "metadata": {"tenant_id": "t1"},
            "items": {"object": "list", "data": [{"id": "si_1", "price": {"id": "price_pro"}}]}
        });
        let sub = Subscription::from_json(&old).unwrap();
        assert_eq!(sub.price_id.as_deref(), Some("price_pro"));
        assert_eq!(sub.current_period_end, Some(1_800_000_000));
        assert!(sub.cancel_at_period_end);
        assert_eq!(sub.tenant_id.as_deref(), Some("t1"));
        let new = serde_json::json!({
            "id": "sub_1", "object": "subscription", "customer": {"id": "cus_1"}, "status": "past_due",
            "items": {"data": [{"price": {"id": "price_pro"}, "current_period_end": 5}]}
        });
        let sub = Subscription::from_json(&new).unwrap();
        assert_eq!(sub.customer, "cus_1");
        assert_eq!(sub.current_period_end, Some(5));
        assert!(!sub.cancel_at_period_end);
        let not = serde_json::json!({"id": "in_1", "object": "invoice"});
        assert!(Subscription::from_json(&not).is_err());
    }
}
