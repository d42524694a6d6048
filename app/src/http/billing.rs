//! `/api/billing`: the organisation's plan, usage and subscription; Stripe
//! Checkout and the customer portal (owners); Stripe's webhook (public, signed).

use axum::Json;
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::AppState;
use crate::billing::account::{self, Account};
use crate::billing::events::{self, EventError, Outcome};
use crate::billing::limits;
use crate::billing::pauses::{self, Pausable, Paused, Toggle};
use crate::billing::plans::{Limit, Plan};
use crate::billing::stripe::StripeError;
use crate::billing::webhook;
use crate::clock::{new_id, now_ms};
use crate::http::principal::TenantCaller;
use crate::http::{ApiJson, AppError};

/// Largest webhook body read; Stripe's events are far smaller.
const MAX_WEBHOOK_BYTES: usize = 1 << 20;

/// One limit with what is used of it.
#[derive(Debug, Serialize, ToSchema)]
pub struct LimitUsage {
    /// `monitors`, `min_interval_seconds`, `status_pages`, `subscribers_per_page`,
    /// `custom_domains`, `alert_channels`, `members` or `raw_retention_days`.
    pub limit: &'static str,
    /// What the plan allows; `null` means no limit (billing is off).
    pub allowed: Option<u64>,
    /// What is used now, where counted (subscribers are per page and not summed here).
    pub used: Option<u64>,
}

/// The organisation's billing state.
#[derive(Debug, Serialize, ToSchema)]
pub struct BillingStatus {
    /// Whether this server sells plans; when not, nothing is limited.
    pub enabled: bool,
    /// Plan in force (`free`, `pro`, …).
    pub plan: String,
    /// Its name for people.
    pub plan_name: String,
    /// Granted by an operator rather than paid.
    pub complimentary: bool,
    /// Stripe's status of the subscription (`active`, `past_due`, `canceled`, …), if any.
    pub subscription_status: Option<String>,
    /// The plan the subscription pays for, if any.
    pub subscription_plan: Option<String>,
    /// End of the paid period, ms.
    pub current_period_end: Option<i64>,
    /// The subscription ends at the period's end instead of renewing.
    pub cancel_at_period_end: bool,
    /// While payments fail: when the plan falls to Free, ms.
    pub grace_ends_at: Option<i64>,
    /// Why anything is limited or paused, for people; `null` when all is well.
    pub notice: Option<String>,
    /// Each limit with its usage.
    pub limits: Vec<LimitUsage>,
    /// What the plan paused, with why.
    pub paused: Vec<Paused>,
    /// Every plan on offer.
    pub plans: Vec<Plan>,
}

fn disabled() -> AppError {
    AppError::BadRequest {
        status: StatusCode::NOT_FOUND,
        code: "billing_disabled",
        message: "billing is not enabled on this server".to_owned(),
    }
}

fn stripe_error(err: StripeError) -> AppError {
    tracing::warn!(error = %err, "Stripe call failed");
    AppError::Unavailable(format!("{err}; try again shortly"))
}

/// The billing view of one tenant (also for the admin API).
pub async fn status_of(state: &AppState, tenant_id: &str) -> Result<BillingStatus, AppError> {
    let billing = &state.billing;
    let account = account::get(&state.db, tenant_id)
        .await?
        .ok_or(AppError::NotFound)?;
    let plan = billing.plans.get(&account.plan);
    let enabled = billing.plans.enabled();
    let mut usage = Vec::new();
    for limit in Limit::ALL {
        usage.push(LimitUsage {
            limit: limit.as_str(),
            allowed: enabled.then(|| limit.of(&plan.limits)),
            used: limits::usage(&state.db, tenant_id, limit).await?,
        });
    }
    let paused = pauses::list(&state.db, tenant_id).await?;
    let grace_ends_at = account
        .grace_ends_at(billing.grace_period_days)
        .filter(|_| {
            matches!(
                account.subscription_status.as_deref(),
                Some("past_due" | "unpaid")
            )
        });
    Ok(BillingStatus {
        enabled,
        notice: notice(&account, plan, grace_ends_at, &paused, now_ms()),
        plan: plan.name.clone(),
        plan_name: plan.display_name.clone(),
        complimentary: account.plan_override.is_some(),
        subscription_status: account.subscription_status.clone(),
        subscription_plan: account.subscription_plan.clone(),
        current_period_end: account.current_period_end,
        cancel_at_period_end: account.cancel_at_period_end,
        grace_ends_at,
        limits: usage,
        paused,
        plans: if enabled {
            billing.plans.all().to_vec()
        } else {
            Vec::new()
        },
    })
}

fn notice(
    account: &Account,
    plan: &Plan,
    grace_ends_at: Option<i64>,
    paused: &[Paused],
    now: i64,
) -> Option<String> {
    let mut parts = Vec::new();
    if let Some(end) = grace_ends_at {
        if now < end {
            parts.push(format!(
                "payment failed: the {} plan is kept until {} (ms since the epoch); update the payment method in the billing portal",
                plan.display_name, end
            ));
        } else {
            parts.push(
                "payment failed and the grace period ended: the organization is on the Free plan"
                    .to_owned(),
            );
        }
    } else if account.subscription_status.as_deref() == Some("canceled") {
        parts
            .push("the subscription was canceled: the organization is on the Free plan".to_owned());
    }
    if !paused.is_empty() {
        parts.push(format!(
            "{} item(s) are paused because the {} plan does not allow them; upgrade to resume them",
            paused.len(),
            plan.display_name
        ));
    }
    (!parts.is_empty()).then(|| parts.join("; "))
}

/// The plan, its limits with usage, the subscription and what is paused.
#[utoipa::path(get, path = "/api/billing", tag = "billing",
    responses((status = 200, body = BillingStatus), (status = 403, body = crate::http::error::ErrorBody)))]
pub async fn get(
    State(state): State<AppState>,
    p: TenantCaller,
) -> Result<Json<BillingStatus>, AppError> {
    Ok(Json(status_of(&state, &p.tenant_id).await?))
}

/// Which plan to buy.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CheckoutRequest {
    /// A paid plan's name (default `pro`).
    #[serde(default)]
    pub plan: Option<String>,
}

/// Where to send the browser.
#[derive(Debug, Serialize, ToSchema)]
pub struct RedirectUrl {
    /// Stripe's page.
    pub url: String,
}

/// The tenant's Stripe customer, created once.
async fn customer(
    state: &AppState,
    p: &TenantCaller,
    account: &Account,
) -> Result<String, AppError> {
    if let Some(id) = &account.customer_id {
        return Ok(id.clone());
    }
    let stripe = state.billing.stripe.as_ref().ok_or_else(disabled)?;
    let email: Option<String> = match &p.user_id {
        Some(user) => {
            sqlx::query_scalar("SELECT email FROM users WHERE id = $1")
                .bind(user)
                .fetch_optional(state.db.pool())
                .await?
        }
        None => None,
    };
    // Keyed by tenant: two checkouts at once get Stripe's one customer.
    let created = stripe
        .create_customer(
            &account.tenant_id,
            &account.name,
            email.as_deref(),
            &format!("customer-{}", account.tenant_id),
        )
        .await
        .map_err(stripe_error)?;
    Ok(account::set_customer(&state.db, &account.tenant_id, &created.id).await?)
}

/// Starts Stripe Checkout for a paid plan; the plan changes only when Stripe's webhook says so.
#[utoipa::path(post, path = "/api/billing/checkout", tag = "billing", request_body = CheckoutRequest,
    responses((status = 200, body = RedirectUrl),
              (status = 403, body = crate::http::error::ErrorBody),
              (status = 404, description = "billing is not enabled", body = crate::http::error::ErrorBody),
              (status = 409, description = "already subscribed or complimentary", body = crate::http::error::ErrorBody),
              (status = 422, body = crate::http::error::ErrorBody),
              (status = 503, description = "Stripe is unavailable", body = crate::http::error::ErrorBody)))]
pub async fn checkout(
    State(state): State<AppState>,
    p: TenantCaller,
    ApiJson(form): ApiJson<CheckoutRequest>,
) -> Result<Json<RedirectUrl>, AppError> {
    let billing = &state.billing;
    let stripe = billing.stripe.as_ref().ok_or_else(disabled)?;
    let tenant = p.tenant_id.as_str();
    let wanted = form.plan.as_deref().unwrap_or(crate::billing::plans::PRO);
    let plan = billing
        .plans
        .all()
        .iter()
        .find(|plan| plan.name == wanted && plan.stripe_price_id.is_some())
        .ok_or_else(|| AppError::invalid("plan", format!("`{wanted}` is not a paid plan")))?;
    let price = plan.stripe_price_id.as_deref().unwrap_or_default();
    let account = account::get(&state.db, tenant)
        .await?
        .ok_or(AppError::NotFound)?;
    if account.plan_override.is_some() {
        return Err(AppError::conflict(
            "complimentary",
            None,
            "this organization has a complimentary plan; contact support to change it",
        ));
    }
    if matches!(
        account.subscription_status.as_deref(),
        Some("active" | "trialing" | "past_due" | "unpaid")
    ) {
        return Err(AppError::conflict(
            "already_subscribed",
            None,
            "this organization has a subscription; change it in the billing portal",
        ));
    }
    let customer = customer(&state, &p, &account).await?;
    let base = state.settings.tenancy.public_base();
    let session = stripe
        .create_checkout_session(
            &customer,
            price,
            tenant,
            &format!("{base}/settings/billing?checkout=success"),
            &format!("{base}/settings/billing?checkout=canceled"),
            &format!("checkout-{}", new_id()),
        )
        .await
        .map_err(stripe_error)?;
    Ok(Json(RedirectUrl {
        url: session.url.unwrap_or_default(),
    }))
}

/// A Stripe customer-portal session: payment method, invoices, cancellation.
#[utoipa::path(post, path = "/api/billing/portal", tag = "billing",
    responses((status = 200, body = RedirectUrl),
              (status = 403, body = crate::http::error::ErrorBody),
              (status = 404, description = "billing is not enabled", body = crate::http::error::ErrorBody),
              (status = 409, description = "no Stripe customer yet", body = crate::http::error::ErrorBody),
              (status = 503, description = "Stripe is unavailable", body = crate::http::error::ErrorBody)))]
pub async fn portal(
    State(state): State<AppState>,
    p: TenantCaller,
) -> Result<Json<RedirectUrl>, AppError> {
    let stripe = state.billing.stripe.as_ref().ok_or_else(disabled)?;
    let account = account::get(&state.db, &p.tenant_id)
        .await?
        .ok_or(AppError::NotFound)?;
    let customer = account.customer_id.ok_or_else(|| {
        AppError::conflict(
            "no_customer",
            None,
            "this organization has not subscribed yet; start with checkout",
        )
    })?;
    let base = state.settings.tenancy.public_base();
    let session = stripe
        .create_portal_session(
            &customer,
            &format!("{base}/settings/billing"),
            &format!("portal-{}", new_id()),
        )
        .await
        .map_err(stripe_error)?;
    Ok(Json(RedirectUrl { url: session.url }))
}

/// Which row to pause or resume to fit the plan.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PauseRequest {
    /// `monitor`, `status_page`, `alert_channel` or `custom_domain`.
    #[schema(schema_with = pausable_schema)]
    pub kind: String,
    /// The row's id, as in its own API (`/api/monitors/{id}`, …).
    pub id: String,
    /// `true` pauses it (making room for another), `false` resumes it if the plan has room.
    pub paused: bool,
}

fn pausable_schema() -> utoipa::openapi::Object {
    crate::schema_docs::one_of(&["monitor", "status_page", "alert_channel", "custom_domain"])
}

/// The owner chooses what the plan keeps: pause one row to make room, or
/// resume one the plan paused. Plan pauses (either kind) lift by themselves on upgrade.
#[utoipa::path(post, path = "/api/billing/paused", tag = "billing", request_body = PauseRequest,
    responses((status = 200, body = BillingStatus),
              (status = 402, description = "no room on the plan (`plan_limit`)", body = crate::http::error::ErrorBody),
              (status = 403, body = crate::http::error::ErrorBody),
              (status = 404, body = crate::http::error::ErrorBody),
              (status = 422, body = crate::http::error::ErrorBody)))]
pub async fn set_paused(
    State(state): State<AppState>,
    p: TenantCaller,
    ApiJson(form): ApiJson<PauseRequest>,
) -> Result<Json<BillingStatus>, AppError> {
    let tenant = p.tenant_id.as_str();
    let kind = Pausable::parse(&form.kind).ok_or_else(|| {
        AppError::invalid(
            "kind",
            "must be monitor, status_page, alert_channel or custom_domain",
        )
    })?;
    let plan = limits::plan_of(&state.db, &state.billing.plans, tenant).await?;
    let outcome = if form.paused {
        pauses::pause_one(&state.db, tenant, kind, &form.id).await?
    } else {
        pauses::lift_one(
            &state.db,
            tenant,
            kind,
            &form.id,
            plan.as_ref().map(|p| &p.limits),
        )
        .await?
    };
    match (outcome, &plan) {
        (Toggle::NotFound, _) => Err(AppError::NotFound),
        (Toggle::NoRoom, Some(plan)) => {
            let used = limits::usage(&state.db, tenant, kind.limit())
                .await?
                .unwrap_or(0);
            Err(limits::exceeded(
                &state.billing.plans,
                plan,
                kind.limit(),
                used.saturating_add(1),
            )
            .into())
        }
        _ => Ok(Json(status_of(&state, tenant).await?)),
    }
}

/// What was done with a webhook.
#[derive(Debug, Serialize, ToSchema)]
pub struct WebhookReply {
    /// Always true on 200.
    pub received: bool,
    /// `applied`, `duplicate` or `ignored`.
    pub outcome: &'static str,
}

/// Stripe's webhook: `Stripe-Signature` is verified over the raw body; each
/// event is applied once. No session, CSRF or rate limit applies.
#[utoipa::path(post, path = "/api/billing/webhook", tag = "billing",
    request_body(content = Object, description = "a Stripe event, signed", content_type = "application/json"),
    responses((status = 200, body = WebhookReply),
              (status = 400, description = "bad signature or not an event", body = crate::http::error::ErrorBody),
              (status = 404, description = "billing is not enabled", body = crate::http::error::ErrorBody),
              (status = 413, body = crate::http::error::ErrorBody),
              (status = 500, description = "not applied; Stripe retries", body = crate::http::error::ErrorBody),
              (status = 503, description = "Stripe's API failed; Stripe retries", body = crate::http::error::ErrorBody)))]
pub async fn webhook(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Body,
) -> Result<Json<WebhookReply>, AppError> {
    use secrecy::ExposeSecret;
    let secret = state.billing.webhook_secret.as_ref().ok_or_else(disabled)?;
    let payload = axum::body::to_bytes(body, MAX_WEBHOOK_BYTES)
        .await
        .map_err(|_| AppError::BadRequest {
            status: StatusCode::PAYLOAD_TOO_LARGE,
            code: "too_large",
            message: format!("webhook bodies are at most {MAX_WEBHOOK_BYTES} bytes"),
        })?;
    let header = headers
        .get("stripe-signature")
        .and_then(|v| v.to_str().ok());
    webhook::verify(header, &payload, secret.expose_secret(), now_ms() / 1000).map_err(|err| {
        AppError::BadRequest {
            status: StatusCode::BAD_REQUEST,
            code: "bad_signature",
            message: err.to_string(),
        }
    })?;
    let outcome = events::handle(&state.db, &state.billing, &payload)
        .await
        .map_err(|err| match err {
            EventError::Invalid(message) => AppError::BadRequest {
                status: StatusCode::BAD_REQUEST,
                code: "bad_event",
                message,
            },
            EventError::Stripe(err) => stripe_error(err),
            EventError::Db(err) => err.into(),
        })?;
    Ok(Json(WebhookReply {
        received: true,
        outcome: match outcome {
            Outcome::Applied { .. } => "applied",
            Outcome::Duplicate => "duplicate",
            Outcome::Ignored => "ignored",
        },
    }))
}
