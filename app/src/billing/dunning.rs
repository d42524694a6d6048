//! Dunning: a failing (`past_due`) subscription keeps its plan for the grace
//! period, then the tenant falls to Free and what Free does not allow is
//! paused. Also the one place a plan is recomputed outside a webhook
//! (a superuser's complimentary plan, a sweep after configuration changes).

use std::time::Duration;

use tokio_util::sync::CancellationToken;

use super::Billing;
use super::account;
use super::events::record_change;
use super::pauses;
use crate::clock::now_ms;
use crate::db::{Database, DbError};

/// Recomputes a tenant's plan in force at `now` and pauses or resumes to fit
/// it, in one transaction. Returns (old plan, new plan), or `None` for no such tenant.
pub async fn refresh(
    db: &Database,
    billing: &Billing,
    tenant_id: &str,
    now: i64,
    set_override: Option<Option<String>>,
) -> Result<Option<(String, String)>, DbError> {
    let mut tx = db.begin_write().await?;
    let Some(mut account) = account::lock(&mut tx, db, tenant_id).await? else {
        return Ok(None);
    };
    let before = account.plan.clone();
    if let Some(plan) = set_override {
        account.plan_override = plan;
    }
    account.plan = account.effective_plan(&billing.plans, billing.grace_period_days, now);
    account.save(&mut tx).await?;
    let plan = billing.plans.get(&account.plan);
    pauses::reconcile(&mut tx, tenant_id, billing.plans.enabled().then_some(plan)).await?;
    tx.commit().await?;
    Ok(Some((before, account.plan)))
}

/// Moves every tenant whose grace period ended by `now` to the plan it now
/// has (Free, unless complimentary); returns how many changed.
pub async fn sweep(db: &Database, billing: &Billing, now: i64) -> Result<u64, DbError> {
    let grace_ms = i64::try_from(billing.grace_period_days)
        .unwrap_or(365)
        .saturating_mul(86_400_000);
    // Admin-style query across tenants: only ids of failing subscriptions.
    let due: Vec<(String, String)> = sqlx::query_as(
        "SELECT id, plan FROM tenants WHERE past_due_since IS NOT NULL AND past_due_since <= $1 \
         AND plan <> 'free' ORDER BY past_due_since",
    )
    .bind(now.saturating_sub(grace_ms))
    .fetch_all(db.pool())
    .await?;
    let mut changed = 0;
    for (tenant_id, _) in due {
        if let Some((before, after)) = refresh(db, billing, &tenant_id, now, None).await?
            && before != after
        {
            changed += 1;
            record_change(db, &tenant_id, &before, &after, "grace_period_ended").await;
            tracing::info!(tenant_id, from = before, to = after, "grace period ended");
        }
    }
    Ok(changed)
}

/// Lifts every plan pause: with billing off no tenant has limits.
pub async fn lift_all(db: &Database) -> Result<u64, DbError> {
    let mut lifted = 0;
    for table in ["monitors", "status_pages", "alert_channels", "domains"] {
        let extra = if table == "monitors" {
            ", state = CASE WHEN paused = 1 THEN 'paused' ELSE 'pending' END, next_check_at = $1"
        } else {
            ""
        };
        let sql = format!(
            "UPDATE {table} SET paused_reason = NULL{extra} WHERE paused_reason IS NOT NULL"
        );
        let mut query = sqlx::query(&sql);
        if table == "monitors" {
            query = query.bind(now_ms());
        }
        lifted += query.execute(db.pool()).await?.rows_affected();
    }
    Ok(lifted)
}

/// Sweeps every `every` until `shutdown`; with billing off, lifts old pauses once and returns.
pub async fn run(db: Database, billing: Billing, every: Duration, shutdown: CancellationToken) {
    if !billing.plans.enabled() {
        match lift_all(&db).await {
            Ok(0) => {}
            Ok(n) => tracing::info!(rows = n, "billing is off: plan pauses lifted"),
            Err(err) => tracing::error!(error = %err, "lifting plan pauses failed"),
        }
        return;
    }
    let mut ticker = tokio::time::interval(every);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            () = shutdown.cancelled() => return,
            _ = ticker.tick() => {}
        }
        if let Err(err) = sweep(&db, &billing, now_ms()).await {
            tracing::error!(error = %err, "dunning sweep failed");
        }
    }
}
