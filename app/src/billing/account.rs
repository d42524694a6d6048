//! A tenant's billing row: the subscription as Stripe last described it, a
//! superuser's complimentary plan, and the plan in force derived from both.

use sqlx::{Any, Row, Transaction};

use super::plans::{FREE, Plans};
use super::stripe::Subscription;
use crate::db::{Database, DbError};

const DAY_MS: i64 = 86_400_000;

/// Billing columns of `tenants`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Account {
    /// The `tenants` row these are the columns of.
    pub tenant_id: String,
    /// Organisation name (for the Stripe customer).
    pub name: String,
    /// Plan in force (`tenants.plan`).
    pub plan: String,
    /// `cus_…`, once created.
    pub customer_id: Option<String>,
    /// `sub_…` of the current subscription.
    pub subscription_id: Option<String>,
    /// Stripe's status of it.
    pub subscription_status: Option<String>,
    /// Plan the subscription pays for.
    pub subscription_plan: Option<String>,
    /// End of the paid period, ms.
    pub current_period_end: Option<i64>,
    /// Ends at the period's end.
    pub cancel_at_period_end: bool,
    /// When payments started failing, ms.
    pub past_due_since: Option<i64>,
    /// Stripe's time of the stored state, ms.
    pub synced_at: Option<i64>,
    /// Complimentary plan set by a superuser.
    pub plan_override: Option<String>,
}

const COLUMNS: &str = "id, name, plan, stripe_customer_id, stripe_subscription_id, subscription_status, \
     subscription_plan, current_period_end, cancel_at_period_end, past_due_since, \
     subscription_synced_at, plan_override";

fn from_row(row: &sqlx::any::AnyRow) -> Result<Account, sqlx::Error> {
    Ok(Account {
        tenant_id: row.try_get("id")?,
        name: row.try_get("name")?,
        plan: row.try_get("plan")?,
        customer_id: row.try_get("stripe_customer_id")?,
        subscription_id: row.try_get("stripe_subscription_id")?,
        subscription_status: row.try_get("subscription_status")?,
        subscription_plan: row.try_get("subscription_plan")?,
        current_period_end: row.try_get("current_period_end")?,
        cancel_at_period_end: row.try_get::<i64, _>("cancel_at_period_end")? != 0,
        past_due_since: row.try_get("past_due_since")?,
        synced_at: row.try_get("subscription_synced_at")?,
        plan_override: row.try_get("plan_override")?,
    })
}

/// A tenant's billing row.
pub async fn get(db: &Database, tenant_id: &str) -> Result<Option<Account>, DbError> {
    let row = sqlx::query(&format!("SELECT {COLUMNS} FROM tenants WHERE id = $1"))
        .bind(tenant_id)
        .fetch_optional(db.pool())
        .await?;
    Ok(row.as_ref().map(from_row).transpose()?)
}

/// A tenant's billing row inside `tx`, locked until it ends (PostgreSQL; SQLite's write lock is held already).
pub async fn lock(
    tx: &mut Transaction<'static, Any>,
    db: &Database,
    tenant_id: &str,
) -> Result<Option<Account>, sqlx::Error> {
    let row = sqlx::query(&format!(
        "SELECT {COLUMNS} FROM tenants WHERE id = $1{}",
        db.dialect().for_update()
    ))
    .bind(tenant_id)
    .fetch_optional(&mut **tx)
    .await?;
    row.as_ref().map(from_row).transpose()
}

/// The tenant a Stripe customer belongs to.
pub async fn tenant_of_customer(db: &Database, customer: &str) -> Result<Option<String>, DbError> {
    Ok(
        sqlx::query_scalar("SELECT id FROM tenants WHERE stripe_customer_id = $1")
            .bind(customer)
            .fetch_optional(db.pool())
            .await?,
    )
}

/// Records the tenant's Stripe customer unless one is recorded; returns the one that is.
pub async fn set_customer(
    db: &Database,
    tenant_id: &str,
    customer: &str,
) -> Result<String, DbError> {
    sqlx::query(
        "UPDATE tenants SET stripe_customer_id = $1 WHERE id = $2 AND stripe_customer_id IS NULL",
    )
    .bind(customer)
    .bind(tenant_id)
    .execute(db.pool())
    .await?;
    let stored: Option<String> =
        sqlx::query_scalar("SELECT stripe_customer_id FROM tenants WHERE id = $1")
            .bind(tenant_id)
            .fetch_one(db.pool())
            .await?;
    Ok(stored.unwrap_or_else(|| customer.to_owned()))
}

impl Account {
    /// When the grace period of a failing subscription ends, ms.
    pub fn grace_ends_at(&self, grace_days: u64) -> Option<i64> {
        let since = self.past_due_since?;
        Some(
            since.saturating_add(
                i64::try_from(grace_days)
                    .unwrap_or(365)
                    .saturating_mul(DAY_MS),
            ),
        )
    }

    /// The plan in force at `now`: the complimentary plan, else the paid plan
    /// while the subscription is active (or failing but within the grace period), else Free.
    pub fn effective_plan(&self, plans: &Plans, grace_days: u64, now: i64) -> String {
        if let Some(plan) = &self.plan_override
            && plans.exists(plan)
        {
            return plan.clone();
        }
        let paid = self
            .subscription_plan
            .as_deref()
            .filter(|p| plans.exists(p));
        let in_force = match self.subscription_status.as_deref() {
            Some("active" | "trialing") => true,
            Some("past_due" | "unpaid") => {
                self.grace_ends_at(grace_days).is_some_and(|end| now < end)
            }
            _ => false,
        };
        match paid {
            Some(plan) if in_force => plan.to_owned(),
            _ => FREE.to_owned(),
        }
    }

    /// Takes Stripe's `sub` as the current subscription, described at `synced_at` (ms).
    pub fn take_subscription(
        &mut self,
        plans: &Plans,
        sub: &Subscription,
        synced_at: i64,
        now: i64,
    ) {
        let failing = matches!(sub.status.as_str(), "past_due" | "unpaid");
        self.past_due_since = if failing {
            // The grace period counts from the first failure, not the latest retry.
            self.past_due_since.or(Some(now))
        } else {
            None
        };
        let ended = matches!(sub.status.as_str(), "canceled" | "incomplete_expired");
        self.subscription_id = Some(sub.id.clone());
        self.subscription_status = Some(sub.status.clone());
        self.subscription_plan = if ended {
            None
        } else {
            sub.price_id
                .as_deref()
                .and_then(|price| plans.by_price(price))
                .map(|p| p.name.clone())
        };
        self.customer_id = Some(sub.customer.clone());
        self.current_period_end = sub.current_period_end.map(|s| s.saturating_mul(1000));
        self.cancel_at_period_end = sub.cancel_at_period_end && !ended;
        self.synced_at = Some(synced_at);
    }

    /// Writes the billing columns (not the name) inside `tx`.
    pub async fn save(&self, tx: &mut Transaction<'static, Any>) -> Result<(), sqlx::Error> {
        sqlx::query(
            "UPDATE tenants SET plan = $1, stripe_customer_id = $2, stripe_subscription_id = $3, \
             subscription_status = $4, subscription_plan = $5, current_period_end = $6, \
             cancel_at_period_end = $7, past_due_since = $8, subscription_synced_at = $9, \
             plan_override = $10, updated_at = $11 WHERE id = $12",
        )
        .bind(&self.plan)
        .bind(&self.customer_id)
        .bind(&self.subscription_id)
        .bind(&self.subscription_status)
        .bind(&self.subscription_plan)
        .bind(self.current_period_end)
        .bind(i64::from(self.cancel_at_period_end))
        .bind(self.past_due_since)
        .bind(self.synced_at)
        .bind(&self.plan_override)
        .bind(crate::clock::now_ms())
        .bind(&self.tenant_id)
        .execute(&mut **tx)
        .await?;
        Ok(())
    }
}
