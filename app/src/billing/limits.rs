//! What a tenant uses of its plan, and the 402 `plan_limit` refusal when
//! creating one more would exceed it. With billing off nothing is limited.

use super::pauses::{self, Pausable};
use super::plans::{Limit, Plan};
use crate::AppState;
use crate::clock::now_ms;
use crate::db::{Database, DbError};
use crate::http::AppError;

/// The plan whose limits apply to `tenant_id`, or `None` when billing is off.
pub async fn plan_of(state: &AppState, tenant_id: &str) -> Result<Option<Plan>, DbError> {
    let plans = &state.billing.plans;
    if !plans.enabled() {
        return Ok(None);
    }
    let name: Option<String> = sqlx::query_scalar("SELECT plan FROM tenants WHERE id = $1")
        .bind(tenant_id)
        .fetch_optional(state.db.pool())
        .await?;
    Ok(Some(plans.get(name.as_deref().unwrap_or_default()).clone()))
}

/// How much of `limit` the tenant uses; `None` where nothing is counted.
/// Rows the plan paused do not count: they are what is over the limit.
pub async fn usage(db: &Database, tenant_id: &str, limit: Limit) -> Result<Option<u64>, DbError> {
    let kind = match limit {
        Limit::Monitors => Pausable::Monitors,
        Limit::StatusPages => Pausable::StatusPages,
        Limit::AlertChannels => Pausable::AlertChannels,
        Limit::CustomDomains => Pausable::CustomDomains,
        Limit::Members => {
            let count: i64 = sqlx::query_scalar(
                "SELECT (SELECT COUNT(*) FROM memberships WHERE tenant_id = $1) + \
                 (SELECT COUNT(*) FROM invitations WHERE tenant_id = $1 \
                  AND accepted_at IS NULL AND expires_at > $2)",
            )
            .bind(tenant_id)
            .bind(now_ms())
            .fetch_one(db.pool())
            .await?;
            return Ok(Some(u64::try_from(count).unwrap_or(0)));
        }
        // Per page: the page closest to the limit is what the limit is about.
        Limit::SubscribersPerPage => {
            let most: Option<i64> = sqlx::query_scalar(
                "SELECT MAX(n) FROM (SELECT COUNT(*) AS n FROM status_subscribers \
                 WHERE tenant_id = $1 AND confirmed_at IS NOT NULL AND unsubscribed_at IS NULL \
                 GROUP BY page_id) AS per_page",
            )
            .bind(tenant_id)
            .fetch_one(db.pool())
            .await?;
            return Ok(Some(u64::try_from(most.unwrap_or(0)).unwrap_or(0)));
        }
        Limit::MinIntervalSeconds | Limit::RawRetentionDays => return Ok(None),
    };
    Ok(Some(pauses::active(db.pool(), tenant_id, kind).await?))
}

/// The 402 for wanting `wanted` of `limit` on `plan`, naming the plan that lifts it.
pub fn exceeded(state: &AppState, plan: &Plan, limit: Limit, wanted: u64) -> AppError {
    let lifting = state
        .billing
        .plans
        .lifting(limit, wanted, &plan.name)
        .map(|p| (p.name.clone(), p.display_name.clone()));
    let allowed = limit.of(&plan.limits);
    let what = if limit.is_minimum() {
        format!(
            "the {} plan allows checks every {allowed} seconds at the most",
            plan.display_name
        )
    } else {
        format!(
            "the {} plan allows {allowed} {}",
            plan.display_name,
            limit.noun()
        )
    };
    let message = match &lifting {
        Some((_, display)) => format!("{what}; the {display} plan allows more"),
        None => format!("{what}; remove one first"),
    };
    AppError::PlanLimit {
        limit: limit.as_str(),
        plan: lifting.map(|(name, _)| name),
        message,
    }
}

/// Refuses (402) when the tenant already uses all of `limit`.
pub async fn check_room(state: &AppState, tenant_id: &str, limit: Limit) -> Result<(), AppError> {
    let Some(plan) = plan_of(state, tenant_id).await? else {
        return Ok(());
    };
    let used = usage(&state.db, tenant_id, limit).await?.unwrap_or(0);
    if limit.allows(&plan.limits, used.saturating_add(1)) {
        Ok(())
    } else {
        Err(exceeded(state, &plan, limit, used.saturating_add(1)))
    }
}

/// How many confirmed subscribers each of the tenant's status pages may have.
pub async fn subscriber_room(
    state: &AppState,
    tenant_id: &str,
) -> Result<crate::status_page::subscribers::store::Room, DbError> {
    let max = plan_of(state, tenant_id)
        .await?
        .map(|plan| Limit::SubscribersPerPage.of(&plan.limits));
    Ok(crate::status_page::subscribers::store::Room(max))
}
