//! What a tenant uses of its plan, and the refusal (a 402 `plan_limit` at
//! the API) when creating one more would exceed it. With billing off nothing
//! is limited.

use super::pauses::{self, Pausable};
use super::plans::{Limit, Plan, Plans};
use crate::clock::now_ms;
use crate::db::{Database, DbError};

/// Creating one more would go over the plan.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct Exceeded {
    /// The limit reached, as named in the API (`monitors`, `status_pages`, …).
    pub limit: &'static str,
    /// The plan that lifts it, if any.
    pub plan: Option<String>,
    /// What the plan allows and what to do about it, for a person.
    pub message: String,
}

/// Why [`check_room`] refused.
#[derive(Debug, thiserror::Error)]
pub enum RoomError {
    /// The plan has no room.
    #[error(transparent)]
    Exceeded(#[from] Exceeded),
    /// Usage could not be counted.
    #[error(transparent)]
    Db(#[from] DbError),
}

/// The plan whose limits apply to `tenant_id`, or `None` when billing is off.
pub async fn plan_of(
    db: &Database,
    plans: &Plans,
    tenant_id: &str,
) -> Result<Option<Plan>, DbError> {
    if !plans.enabled() {
        return Ok(None);
    }
    let name: Option<String> = sqlx::query_scalar("SELECT plan FROM tenants WHERE id = $1")
        .bind(tenant_id)
        .fetch_optional(db.pool())
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

/// The refusal of wanting `wanted` of `limit` on `plan`, naming the plan that lifts it.
pub fn exceeded(plans: &Plans, plan: &Plan, limit: Limit, wanted: u64) -> Exceeded {
    let lifting = plans
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
    Exceeded {
        limit: limit.as_str(),
        plan: lifting.map(|(name, _)| name),
        message,
    }
}

/// Refuses when the tenant already uses all of `limit`.
pub async fn check_room(
    db: &Database,
    plans: &Plans,
    tenant_id: &str,
    limit: Limit,
) -> Result<(), RoomError> {
    let Some(plan) = plan_of(db, plans, tenant_id).await? else {
        return Ok(());
    };
    let used = usage(db, tenant_id, limit).await?.unwrap_or(0);
    if limit.allows(&plan.limits, used.saturating_add(1)) {
        Ok(())
    } else {
        Err(exceeded(plans, &plan, limit, used.saturating_add(1)).into())
    }
}

/// How many confirmed subscribers each of the tenant's status pages may
/// have; `None` when nothing limits them.
pub async fn subscribers_per_page(
    db: &Database,
    plans: &Plans,
    tenant_id: &str,
) -> Result<Option<u64>, DbError> {
    Ok(plan_of(db, plans, tenant_id)
        .await?
        .map(|plan| Limit::SubscribersPerPage.of(&plan.limits)))
}
