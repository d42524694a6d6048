//! Applying verified Stripe events: each is stored by its id and applied once,
//! in one transaction with the tenant change and the pauses it causes, so a
//! failure leaves nothing behind and Stripe's retry starts afresh.
//!
//! Order does not matter: the tenant keeps Stripe's time of the subscription
//! state it stores, and an event no newer than that is not trusted for its
//! embedded object; the subscription is fetched from the API instead. Events
//! that carry no subscription object (Checkout, invoices) always fetch it.

use serde_json::Value;

use super::Billing;
use super::account::{self, Account};
use super::pauses;
use super::stripe::{StripeError, Subscription};
use crate::clock::now_ms;
use crate::db::{Database, DbError};
use crate::tenancy::audit::{self, Entry};

/// What happened to an event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Stored and applied to the tenant.
    Applied {
        /// The tenant the event was about: by our metadata, else by its Stripe customer.
        tenant_id: String,
        /// Its plan in force afterwards.
        plan: String,
    },
    /// Seen before: nothing done.
    Duplicate,
    /// A type billing does not handle, or about no tenant of ours.
    Ignored,
}

/// Why an event was not applied.
#[derive(Debug, thiserror::Error)]
pub enum EventError {
    /// Not a Stripe event of the documented shape (400: retrying will not help).
    #[error("not a Stripe event: {0}")]
    Invalid(String),
    /// Stripe's API failed while fetching the subscription (Stripe retries).
    #[error(transparent)]
    Stripe(#[from] StripeError),
    /// The database failed (Stripe retries).
    #[error(transparent)]
    Db(#[from] DbError),
}

impl From<sqlx::Error> for EventError {
    fn from(err: sqlx::Error) -> Self {
        Self::Db(err.into())
    }
}

/// The event types that move a tenant's subscription.
pub const HANDLED: [&str; 6] = [
    "checkout.session.completed",
    "customer.subscription.created",
    "customer.subscription.updated",
    "customer.subscription.deleted",
    "invoice.paid",
    "invoice.payment_failed",
];

/// The subscription an event is about, and whether the event carries it.
enum About {
    Embedded(Subscription),
    Id {
        id: String,
        customer: Option<String>,
        tenant_id: Option<String>,
    },
}

fn text(value: &Value, pointer: &str) -> Option<String> {
    value.pointer(pointer).and_then(|v| {
        v.as_str()
            .map(str::to_owned)
            .or_else(|| v.get("id")?.as_str().map(str::to_owned))
    })
}

fn about(kind: &str, object: &Value) -> Result<Option<About>, EventError> {
    Ok(match kind {
        "customer.subscription.created"
        | "customer.subscription.updated"
        | "customer.subscription.deleted" => Some(About::Embedded(
            Subscription::from_json(object).map_err(EventError::Invalid)?,
        )),
        "checkout.session.completed" => {
            // Payment links and one-off payments have no subscription.
            text(object, "/subscription").map(|id| About::Id {
                id,
                customer: text(object, "/customer"),
                tenant_id: text(object, "/client_reference_id")
                    .or_else(|| text(object, "/metadata/tenant_id")),
            })
        }
        "invoice.paid" | "invoice.payment_failed" => text(object, "/subscription")
            // API versions from 2025-03-31 moved it under `parent`.
            .or_else(|| text(object, "/parent/subscription_details/subscription"))
            .map(|id| About::Id {
                id,
                customer: text(object, "/customer"),
                tenant_id: None,
            }),
        _ => None,
    })
}

/// Finds the tenant: our metadata first, if the customer agrees, else the customer.
async fn tenant_for(
    db: &Database,
    tenant_hint: Option<&str>,
    customer: Option<&str>,
) -> Result<Option<Account>, DbError> {
    if let Some(id) = tenant_hint
        && let Some(found) = account::get(db, id).await?
        && (found.customer_id.is_none() || found.customer_id.as_deref() == customer)
    {
        return Ok(Some(found));
    }
    match customer {
        Some(customer) => match account::tenant_of_customer(db, customer).await? {
            Some(id) => account::get(db, &id).await,
            None => Ok(None),
        },
        None => Ok(None),
    }
}

/// Stores and applies one verified event (the raw webhook body).
pub async fn handle(
    db: &Database,
    billing: &Billing,
    payload: &[u8],
) -> Result<Outcome, EventError> {
    let event: Value = serde_json::from_slice(payload)
        .map_err(|e| EventError::Invalid(format!("body is not JSON: {e}")))?;
    let id = event
        .get("id")
        .and_then(Value::as_str)
        .filter(|id| id.starts_with("evt_") && id.len() <= 255)
        .ok_or_else(|| EventError::Invalid("no event id".to_owned()))?;
    let kind = event
        .get("type")
        .and_then(Value::as_str)
        .ok_or_else(|| EventError::Invalid("no event type".to_owned()))?;
    let created_ms = event
        .get("created")
        .and_then(Value::as_i64)
        .ok_or_else(|| EventError::Invalid("no event time".to_owned()))?
        .saturating_mul(1000);
    if !HANDLED.contains(&kind) {
        tracing::debug!(event = id, kind, "Stripe event type ignored");
        return Ok(Outcome::Ignored);
    }
    let object = event
        .pointer("/data/object")
        .ok_or_else(|| EventError::Invalid("no data.object".to_owned()))?;
    let seen: Option<String> = sqlx::query_scalar("SELECT id FROM billing_events WHERE id = $1")
        .bind(id)
        .fetch_optional(db.pool())
        .await
        .map_err(DbError::from)?;
    if seen.is_some() {
        return Ok(Outcome::Duplicate);
    }
    let Some(about) = about(kind, object)? else {
        return store_only(db, id, kind, payload, None).await;
    };
    let (hint, customer, sub_id) = match &about {
        About::Embedded(sub) => (
            sub.tenant_id.clone(),
            Some(sub.customer.clone()),
            sub.id.clone(),
        ),
        About::Id {
            id,
            customer,
            tenant_id,
        } => (tenant_id.clone(), customer.clone(), id.clone()),
    };
    let Some(found) = tenant_for(db, hint.as_deref(), customer.as_deref()).await? else {
        tracing::warn!(event = id, kind, "Stripe event for no known tenant");
        return store_only(db, id, kind, payload, None).await;
    };
    let stripe = billing
        .stripe
        .as_ref()
        .ok_or_else(|| EventError::Invalid("billing is not enabled".to_owned()))?;
    // The API is asked outside the transaction, so no lock waits on Stripe.
    let (sub, synced_at, fetched) = match about {
        About::Embedded(sub) if found.synced_at.is_none_or(|stored| created_ms > stored) => {
            (sub, created_ms, false)
        }
        _ => (stripe.subscription(&sub_id).await?, now_ms(), true),
    };
    let change = Change {
        sub: &sub,
        synced_at,
        fetched,
    };
    apply(db, billing, id, kind, payload, &found.tenant_id, change).await
}

/// Records an event that changes nothing, so a redelivery is a duplicate.
async fn store_only(
    db: &Database,
    id: &str,
    kind: &str,
    payload: &[u8],
    tenant_id: Option<&str>,
) -> Result<Outcome, EventError> {
    let mut tx = db.begin_write().await?;
    let inserted = insert(&mut tx, id, kind, payload, tenant_id).await?;
    tx.commit().await?;
    Ok(if inserted {
        Outcome::Ignored
    } else {
        Outcome::Duplicate
    })
}

async fn insert(
    tx: &mut sqlx::Transaction<'static, sqlx::Any>,
    id: &str,
    kind: &str,
    payload: &[u8],
    tenant_id: Option<&str>,
) -> Result<bool, sqlx::Error> {
    let now = now_ms();
    let inserted = sqlx::query(
        "INSERT INTO billing_events (id, tenant_id, event_type, payload, received_at, processed_at) \
         VALUES ($1, $2, $3, $4, $5, $5) ON CONFLICT (id) DO NOTHING",
    )
    .bind(id)
    .bind(tenant_id)
    .bind(kind)
    .bind(String::from_utf8_lossy(payload).into_owned())
    .bind(now)
    .execute(&mut **tx)
    .await?
    .rows_affected();
    Ok(inserted == 1)
}

/// A subscription state to apply, and how it is known.
struct Change<'a> {
    sub: &'a Subscription,
    /// Stripe's time of it (the event's), or when it was fetched, ms.
    synced_at: i64,
    /// Fetched from the API just now: the latest there is.
    fetched: bool,
}

async fn apply(
    db: &Database,
    billing: &Billing,
    id: &str,
    kind: &str,
    payload: &[u8],
    tenant_id: &str,
    change: Change<'_>,
) -> Result<Outcome, EventError> {
    let Change {
        sub,
        synced_at,
        fetched,
    } = change;
    let now = now_ms();
    let mut tx = db.begin_write().await?;
    if !insert(&mut tx, id, kind, payload, Some(tenant_id)).await? {
        return Ok(Outcome::Duplicate);
    }
    let Some(mut account) = account::lock(&mut tx, db, tenant_id).await? else {
        tx.commit().await?;
        return Ok(Outcome::Ignored);
    };
    let before = account.plan.clone();
    let newer = account
        .synced_at
        .is_none_or(|stored| synced_at > stored || (fetched && synced_at >= stored));
    // A late event about a subscription that ended must not undo a newer one.
    let other_live = account
        .subscription_id
        .as_deref()
        .is_some_and(|s| s != sub.id)
        && matches!(
            account.subscription_status.as_deref(),
            Some("active" | "trialing" | "past_due" | "unpaid")
        );
    if newer && !other_live {
        account.take_subscription(&billing.plans, sub, synced_at, now);
    }
    account.plan = account.effective_plan(&billing.plans, billing.grace_period_days, now);
    account.save(&mut tx).await?;
    let plan = billing.plans.get(&account.plan);
    pauses::reconcile(&mut tx, tenant_id, billing.plans.enabled().then_some(plan)).await?;
    tx.commit().await?;
    if before != account.plan {
        record_change(db, tenant_id, &before, &account.plan, kind).await;
    }
    tracing::info!(event = id, kind, tenant_id, plan = %account.plan, status = ?account.subscription_status, "Stripe event applied");
    Ok(Outcome::Applied {
        tenant_id: tenant_id.to_owned(),
        plan: account.plan,
    })
}

/// Audits a plan change made by Stripe or dunning.
pub async fn record_change(db: &Database, tenant_id: &str, from: &str, to: &str, cause: &str) {
    audit::record(
        db,
        Entry {
            tenant_id: Some(tenant_id),
            action: "billing.plan_changed",
            target: Some(tenant_id),
            details: Some(serde_json::json!({"from": from, "to": to, "cause": cause})),
            ..Entry::default()
        },
    )
    .await;
}
