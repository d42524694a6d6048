//! Billing against a local Stripe (`stripe_fake`): Checkout and the portal,
//! signed webhooks applied once and in any order, limits that refuse with 402,
//! dunning that pauses (never deletes) and upgrades that resume, on both dialects.

use std::time::{Duration, Instant};

use axum::http::{Method, StatusCode};
use serde_json::{Value, json};
use tokio_util::sync::CancellationToken;

use crate::api::{Api, PASSWORD, Session};
use crate::helpers::{TestDb, enable_billing, state_with};
use crate::stripe_fake::{
    self, StripeFake, WEBHOOK_SECRET, deliver, deliver_raw, event, signature, subscription_object,
    unix_now,
};
use app::clock::now_ms;
use app::config::PlanConfig;
use app::db::{Database, Dialect};
use app::mail::Mailer;
use app::test_support::app_settings;

const DAY_MS: i64 = 86_400_000;

struct Billed {
    api: Api,
    fake: StripeFake,
    base: String,
    _stop: CancellationToken,
}

/// The app with billing on against a fresh fake Stripe; Free allows 2
/// monitors and Pro 4, so the paths stay short.
async fn billed(db: &Database) -> Billed {
    let fake = StripeFake::start().await;
    billed_at(db, fake.clone(), &fake.base).await
}

async fn billed_at(db: &Database, fake: StripeFake, stripe_base: &str) -> Billed {
    let mut settings = app_settings(false);
    enable_billing(&mut settings, stripe_base);
    settings.billing.plans.get_mut("pro").unwrap().max_monitors = Some(4);
    settings.billing.plans.insert(
        "free".to_owned(),
        PlanConfig {
            max_monitors: Some(2),
            ..PlanConfig::default()
        },
    );
    let state = state_with(
        db,
        settings,
        Mailer::Log {
            include_body: false,
        },
    );
    let (base, stop) = stripe_fake::serve_app(state.clone()).await;
    Billed {
        api: Api::new(state),
        fake,
        base,
        _stop: stop,
    }
}

async fn monitor(api: &Api, s: &Session, name: &str) -> crate::api::Reply {
    api.post(
        "/api/monitors",
        Some(&s.access),
        json!({"name": name, "kind": "tcp", "host": "db.example", "port": 5432}),
    )
    .await
}

async fn billing(api: &Api, s: &Session) -> Value {
    let reply = api.get("/api/billing", Some(&s.access)).await;
    assert_eq!(reply.status, StatusCode::OK, "{:?}", reply.body);
    reply.body
}

fn limit<'a>(status: &'a Value, name: &str) -> &'a Value {
    status["limits"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["limit"] == name)
        .unwrap()
}

/// Runs Checkout and returns the Stripe customer id the app created.
async fn checkout(b: &Billed, s: &Session) -> String {
    let reply = b
        .api
        .post("/api/billing/checkout", Some(&s.access), json!({}))
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{:?}", reply.body);
    assert!(
        reply.body["url"]
            .as_str()
            .unwrap()
            .starts_with("https://checkout.stripe.com/c/pay/cs_test_")
    );
    let session = b.fake.seen_at("/v1/checkout/sessions").pop().unwrap();
    session.param("customer").unwrap().to_owned()
}

async fn events_stored(db: &Database) -> i64 {
    sqlx::query_scalar("SELECT COUNT(*) FROM billing_events")
        .fetch_one(db.pool())
        .await
        .unwrap()
}

#[tokio::test]
async fn checkout_webhook_limits_grace_free_with_pauses_and_upgrade() {
    for test_db in TestDb::both_migrated().await {
        let b = billed(test_db.db()).await;
        let api = &b.api;
        let a = api.signup("alpha", "ann@alpha.example").await;

        let status = billing(api, &a).await;
        assert_eq!(status["plan"], "free");
        assert_eq!(status["enabled"], true);
        assert_eq!(limit(&status, "monitors")["allowed"], 2);
        for n in 1..=2 {
            assert_eq!(
                monitor(api, &a, &format!("m{n}")).await.status,
                StatusCode::CREATED
            );
        }
        let refused = monitor(api, &a, "m3").await;
        assert_eq!(refused.status, StatusCode::PAYMENT_REQUIRED);
        assert_eq!(refused.code(), "plan_limit");
        assert_eq!(refused.body["limit"], "monitors");
        assert_eq!(refused.body["plan"], "pro");
        assert!(
            refused.body["message"]
                .as_str()
                .unwrap()
                .contains("Pro plan allows more"),
            "{:?}",
            refused.body
        );

        // Checkout: the customer is created once, with the tenant in its metadata.
        let customer = checkout(&b, &a).await;
        let customers = b.fake.seen_at("/v1/customers");
        assert_eq!(customers.len(), 1);
        assert_eq!(
            customers[0].param("metadata[tenant_id]"),
            Some(a.tenant_id.as_str())
        );
        assert_eq!(customers[0].param("email"), Some("ann@alpha.example"));
        assert_eq!(
            customers[0].idempotency_key.as_deref(),
            Some(format!("customer-{}", a.tenant_id).as_str())
        );
        let session = b.fake.seen_at("/v1/checkout/sessions").pop().unwrap();
        assert_eq!(
            session.param("line_items[0][price]"),
            Some("price_test_pro")
        );
        assert_eq!(session.param("mode"), Some("subscription"));
        assert_eq!(
            session.param("client_reference_id"),
            Some(a.tenant_id.as_str())
        );
        assert!(
            session
                .idempotency_key
                .as_deref()
                .unwrap()
                .starts_with("checkout-")
        );
        // Coming back from Checkout changes nothing by itself.
        assert_eq!(billing(api, &a).await["plan"], "free");

        // Stripe: paid.
        b.fake.put_subscription(
            "sub_alpha",
            &customer,
            &a.tenant_id,
            "active",
            "price_test_pro",
        );
        let completed = event(
            "evt_checkout",
            "checkout.session.completed",
            unix_now(),
            json!({"id": "cs_test_2", "object": "checkout.session", "mode": "subscription",
                   "customer": customer, "subscription": "sub_alpha",
                   "client_reference_id": a.tenant_id, "payment_status": "paid"}),
        );
        let (code, body) = deliver(&b.base, &completed).await;
        assert_eq!(code, StatusCode::OK, "{body:?}");
        assert_eq!(body["outcome"], "applied");
        let status = billing(api, &a).await;
        assert_eq!(status["plan"], "pro");
        assert_eq!(status["subscription_status"], "active");
        assert!(status["current_period_end"].as_i64().unwrap() > now_ms());
        assert_eq!(status["cancel_at_period_end"], false);
        assert_eq!(limit(&status, "monitors")["allowed"], 4);
        assert_eq!(limit(&status, "monitors")["used"], 2);
        assert!(status["notice"].is_null());
        for n in 3..=4 {
            assert_eq!(
                monitor(api, &a, &format!("m{n}")).await.status,
                StatusCode::CREATED
            );
        }
        let over = monitor(api, &a, "m5").await;
        assert_eq!(over.status, StatusCode::PAYMENT_REQUIRED);
        assert!(
            over.body.get("plan").is_none(),
            "no plan lifts it: {:?}",
            over.body
        );

        // Payment fails: Pro is kept for the grace period, and the API says so.
        b.fake.put_subscription(
            "sub_alpha",
            &customer,
            &a.tenant_id,
            "past_due",
            "price_test_pro",
        );
        let failed = event(
            "evt_failed",
            "invoice.payment_failed",
            unix_now(),
            json!({"id": "in_1", "object": "invoice", "customer": customer,
                   "parent": {"subscription_details": {"subscription": "sub_alpha"}}}),
        );
        assert_eq!(deliver(&b.base, &failed).await.0, StatusCode::OK);
        let status = billing(api, &a).await;
        assert_eq!(status["plan"], "pro");
        assert_eq!(status["subscription_status"], "past_due");
        let grace_end = status["grace_ends_at"].as_i64().unwrap();
        assert!((grace_end - (now_ms() + 7 * DAY_MS)).abs() < 60_000);
        assert!(
            status["notice"]
                .as_str()
                .unwrap()
                .contains("payment failed")
        );
        let state = &api.state;
        assert_eq!(
            app::billing::dunning::sweep(&state.db, &state.billing, now_ms() + 6 * DAY_MS)
                .await
                .unwrap(),
            0
        );
        assert_eq!(billing(api, &a).await["plan"], "pro");

        // Grace over: Free, the two newest monitors paused with the reason, nothing deleted.
        assert_eq!(
            app::billing::dunning::sweep(&state.db, &state.billing, now_ms() + 8 * DAY_MS)
                .await
                .unwrap(),
            1
        );
        let status = billing(api, &a).await;
        assert_eq!(status["plan"], "free");
        let paused = status["paused"].as_array().unwrap();
        let names: Vec<&str> = paused.iter().map(|p| p["name"].as_str().unwrap()).collect();
        assert_eq!(names, ["m3", "m4"]);
        assert_eq!(paused[0]["kind"], "monitor");
        assert!(
            paused[0]["reason"]
                .as_str()
                .unwrap()
                .contains("Free plan allows 2 monitors"),
            "{paused:?}"
        );
        assert!(status["notice"].as_str().unwrap().contains("paused"));
        let listed = api.get("/api/monitors", Some(&a.access)).await.body;
        assert_eq!(listed.as_array().unwrap().len(), 4, "nothing deleted");
        for m in listed.as_array().unwrap() {
            let plan_paused = m["name"] == "m3" || m["name"] == "m4";
            assert_eq!(m["paused_reason"].is_string(), plan_paused, "{m:?}");
            assert_eq!(m["paused"], false, "the owner's own flag is untouched");
            if plan_paused {
                assert_eq!(m["state"], "paused");
            }
        }
        // The scheduler does not pick them.
        let due: Vec<String> = sqlx::query_scalar(
            "SELECT name FROM monitors WHERE paused = 0 AND paused_reason IS NULL ORDER BY name",
        )
        .fetch_all(test_db.db().pool())
        .await
        .unwrap();
        assert_eq!(due, ["m1", "m2"]);
        let claimed = scheduler(test_db.db()).claim(10).await.unwrap();
        let mut claimed: Vec<String> = claimed.into_iter().map(|r| r.monitor.name).collect();
        claimed.sort();
        assert_eq!(claimed, ["m1", "m2"]);
        // Nor can the owner lift the pause without room, or create more.
        let m3 = listed
            .as_array()
            .unwrap()
            .iter()
            .find(|m| m["name"] == "m3")
            .unwrap();
        let resumed = api
            .call(
                Method::PATCH,
                &format!("/api/monitors/{}", m3["id"].as_str().unwrap()),
                Some(&a.access),
                Some(json!({"paused": false})),
            )
            .await;
        assert_eq!(
            resumed.status,
            StatusCode::PAYMENT_REQUIRED,
            "{:?}",
            resumed.body
        );
        assert_eq!(
            monitor(api, &a, "m5").await.status,
            StatusCode::PAYMENT_REQUIRED
        );

        // Paid again: Pro, and everything resumes by itself.
        b.fake.put_subscription(
            "sub_alpha",
            &customer,
            &a.tenant_id,
            "active",
            "price_test_pro",
        );
        let paid = event(
            "evt_paid",
            "invoice.paid",
            unix_now(),
            json!({"id": "in_2", "object": "invoice", "customer": customer, "subscription": "sub_alpha"}),
        );
        assert_eq!(deliver(&b.base, &paid).await.0, StatusCode::OK);
        let status = billing(api, &a).await;
        assert_eq!(status["plan"], "pro");
        assert!(status["grace_ends_at"].is_null());
        assert_eq!(status["paused"], json!([]));
        let listed = api.get("/api/monitors", Some(&a.access)).await.body;
        for m in listed.as_array().unwrap() {
            assert!(m["paused_reason"].is_null(), "{m:?}");
            assert_ne!(m["state"], "paused", "{m:?}");
        }
        // Every plan change is in the audit log.
        let changes: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM audit_log WHERE action = 'billing.plan_changed' AND tenant_id = $1",
        )
        .bind(&a.tenant_id)
        .fetch_one(test_db.db().pool())
        .await
        .unwrap();
        assert_eq!(changes, 3, "free→pro, pro→free, free→pro");
        assert_eq!(events_stored(test_db.db()).await, 3);
    }
}

fn scheduler(db: &Database) -> app::monitor::scheduler::Scheduler {
    let mut prober = app::config::ProberConfig::defaults();
    prober.allow_private_targets = true;
    app::monitor::scheduler::Scheduler::new(
        db.clone(),
        app::monitor::probe::Probes::new(&prober).unwrap(),
        prober,
        app::monitor::metrics::ProberMetrics::default(),
    )
}

#[tokio::test]
async fn webhooks_need_stripes_signature() {
    let test_db = TestDb::sqlite().await;
    test_db.db().migrations().run().await.unwrap();
    let b = billed(test_db.db()).await;
    let payload = serde_json::to_vec(&event(
        "evt_unknown",
        "product.created",
        unix_now(),
        json!({"id": "prod_1", "object": "product"}),
    ))
    .unwrap();
    let now = unix_now();
    let good = signature(WEBHOOK_SECRET, now, &payload);
    let wrong_secret = signature("whsec_someone_else", now, &payload);
    let expired = signature(WEBHOOK_SECRET, now - 301, &payload);
    let future = signature(WEBHOOK_SECRET, now + 301, &payload);
    let hex = good.split("v1=").nth(1).unwrap();
    let cases: [(Option<String>, &[u8], &str); 7] = [
        (None, &payload, "missing"),
        (
            Some(wrong_secret.clone()),
            &payload,
            "no Stripe-Signature v1 signature matches",
        ),
        (Some(expired), &payload, "tolerance"),
        (Some(future), &payload, "tolerance"),
        (Some(format!("t={now},v0={hex}")), &payload, "malformed"),
        (
            Some(good.clone()),
            b"{\"id\":\"evt_forged\"}",
            "no Stripe-Signature v1 signature matches",
        ),
        (
            Some(format!("t={},v1={hex}", now + 1)),
            &payload,
            "no Stripe-Signature v1",
        ),
    ];
    for (header, body, message) in cases {
        let (status, reply) = deliver_raw(&b.base, body, header.as_deref()).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{header:?}: {reply:?}");
        assert_eq!(reply["code"], "bad_signature");
        assert!(
            reply["message"].as_str().unwrap().contains(message),
            "{reply:?}"
        );
    }
    // Several v1 signatures (a rolled secret): one matching is enough.
    let rolled = format!("{wrong_secret},v1={hex}");
    let (status, reply) = deliver_raw(&b.base, &payload, Some(&rolled)).await;
    assert_eq!(status, StatusCode::OK, "{reply:?}");
    // Unknown types are acknowledged and ignored.
    assert_eq!(reply["outcome"], "ignored");
    // Signed but not an event.
    let junk = b"not json";
    let header = signature(WEBHOOK_SECRET, now, junk);
    let (status, reply) = deliver_raw(&b.base, junk, Some(&header)).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(reply["code"], "bad_event");
    assert_eq!(events_stored(test_db.db()).await, 0);
}

#[tokio::test]
async fn events_apply_once_and_in_any_order() {
    for test_db in TestDb::both_migrated().await {
        let b = billed(test_db.db()).await;
        let a = b.api.signup("alpha", "ann@alpha.example").await;
        let customer = checkout(&b, &a).await;
        let t = unix_now();
        // Stripe's current truth, which the app may fetch.
        b.fake
            .put_subscription("sub_b", &customer, &a.tenant_id, "active", "price_test_pro");
        let sub = |status: &str| {
            subscription_object("sub_b", &customer, &a.tenant_id, status, "price_test_pro")
        };
        let updated = event(
            "evt_updated",
            "customer.subscription.updated",
            t,
            sub("active"),
        );
        let created = event(
            "evt_created",
            "customer.subscription.created",
            t - 5,
            sub("incomplete"),
        );

        // `updated` arrives first and is applied from its own object.
        let (status, body) = deliver(&b.base, &updated).await;
        assert_eq!(
            (status, body["outcome"].as_str()),
            (StatusCode::OK, Some("applied"))
        );
        assert_eq!(billing(&b.api, &a).await["plan"], "pro");
        assert!(b.fake.seen_at("/v1/subscriptions/sub_b").is_empty());
        // The older `created` is not trusted: the subscription is fetched, and stays active.
        let (status, body) = deliver(&b.base, &created).await;
        assert_eq!(
            (status, body["outcome"].as_str()),
            (StatusCode::OK, Some("applied"))
        );
        assert_eq!(b.fake.seen_at("/v1/subscriptions/sub_b").len(), 1);
        let status = billing(&b.api, &a).await;
        assert_eq!(status["plan"], "pro");
        assert_eq!(status["subscription_status"], "active");

        // A duplicate delivery (Stripe signs each attempt anew) changes nothing.
        let (status, body) = deliver(&b.base, &updated).await;
        assert_eq!(
            (status, body["outcome"].as_str()),
            (StatusCode::OK, Some("duplicate"))
        );
        // Nor does a replay of the very same signed request.
        let deleted = event(
            "evt_deleted",
            "customer.subscription.deleted",
            t + 5,
            sub("canceled"),
        );
        b.fake.put_subscription(
            "sub_b",
            &customer,
            &a.tenant_id,
            "canceled",
            "price_test_pro",
        );
        let payload = serde_json::to_vec(&deleted).unwrap();
        let header = signature(WEBHOOK_SECRET, unix_now(), &payload);
        let first = deliver_raw(&b.base, &payload, Some(&header)).await;
        assert_eq!(first.1["outcome"], "applied", "{first:?}");
        let replay = deliver_raw(&b.base, &payload, Some(&header)).await;
        assert_eq!(replay.1["outcome"], "duplicate", "{replay:?}");
        let status = billing(&b.api, &a).await;
        assert_eq!(status["plan"], "free");
        assert_eq!(status["subscription_status"], "canceled");
        assert!(status["notice"].as_str().unwrap().contains("canceled"));

        // A late update from before the cancellation cannot revive the plan.
        let late = event(
            "evt_late",
            "customer.subscription.updated",
            t + 1,
            sub("active"),
        );
        assert_eq!(deliver(&b.base, &late).await.1["outcome"], "applied");
        assert_eq!(billing(&b.api, &a).await["plan"], "free");
        assert_eq!(events_stored(test_db.db()).await, 4);
        let ids: Vec<String> = sqlx::query_scalar("SELECT id FROM billing_events ORDER BY id")
            .fetch_all(test_db.db().pool())
            .await
            .unwrap();
        assert_eq!(
            ids,
            ["evt_created", "evt_deleted", "evt_late", "evt_updated"]
        );
    }
}

async fn inject_failure(db: &Database) {
    let statements: &[&str] = match db.dialect() {
        Dialect::Sqlite => &[
            "CREATE TRIGGER billing_fault BEFORE UPDATE OF paused_reason ON monitors \
             BEGIN SELECT RAISE(ABORT, 'injected failure'); END",
        ],
        Dialect::Postgres => &[
            "CREATE FUNCTION billing_fault() RETURNS trigger LANGUAGE plpgsql AS \
             'BEGIN RAISE EXCEPTION ''injected failure''; END'",
            "CREATE TRIGGER billing_fault BEFORE UPDATE OF paused_reason ON monitors \
             FOR EACH ROW EXECUTE FUNCTION billing_fault()",
        ],
    };
    for sql in statements {
        sqlx::raw_sql(sql).execute(db.pool()).await.unwrap();
    }
}

async fn remove_failure(db: &Database) {
    let sql = match db.dialect() {
        Dialect::Sqlite => "DROP TRIGGER billing_fault",
        Dialect::Postgres => "DROP TRIGGER billing_fault ON monitors",
    };
    sqlx::raw_sql(sql).execute(db.pool()).await.unwrap();
}

#[tokio::test]
async fn a_failure_mid_way_leaves_nothing_and_the_retry_applies() {
    for test_db in TestDb::both_migrated().await {
        let db = test_db.db();
        let b = billed(db).await;
        let a = b.api.signup("alpha", "ann@alpha.example").await;
        let customer = checkout(&b, &a).await;
        let sub = |status: &str| {
            subscription_object("sub_f", &customer, &a.tenant_id, status, "price_test_pro")
        };
        let created = event(
            "evt_f1",
            "customer.subscription.created",
            unix_now() - 10,
            sub("active"),
        );
        assert_eq!(deliver(&b.base, &created).await.0, StatusCode::OK);
        for n in 1..=3 {
            assert_eq!(
                monitor(&b.api, &a, &format!("m{n}")).await.status,
                StatusCode::CREATED
            );
        }

        // Cancelling drops to Free (2 monitors): the tenant row is written, then pausing fails.
        inject_failure(db).await;
        let deleted = event(
            "evt_f2",
            "customer.subscription.deleted",
            unix_now(),
            sub("canceled"),
        );
        let (status, body) = deliver(&b.base, &deleted).await;
        assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR, "{body:?}");
        let state = billing(&b.api, &a).await;
        assert_eq!(state["plan"], "pro", "nothing half-applied");
        assert_eq!(state["subscription_status"], "active");
        assert_eq!(state["paused"], json!([]));
        assert_eq!(
            events_stored(db).await,
            1,
            "the failed event is not recorded"
        );

        // Stripe retries once the fault is gone, and it applies.
        remove_failure(db).await;
        let (status, body) = deliver(&b.base, &deleted).await;
        assert_eq!(
            (status, body["outcome"].as_str()),
            (StatusCode::OK, Some("applied")),
            "{body:?}"
        );
        let state = billing(&b.api, &a).await;
        assert_eq!(state["plan"], "free");
        assert_eq!(state["paused"].as_array().unwrap().len(), 1);
        assert_eq!(state["paused"][0]["name"], "m3");
        assert_eq!(events_stored(db).await, 2);
    }
}

#[tokio::test]
async fn every_limit_refuses_with_402_naming_the_plan_that_lifts_it() {
    for test_db in TestDb::both_migrated().await {
        let b = billed(test_db.db()).await;
        let api = &b.api;
        let a = api.signup("alpha", "ann@alpha.example").await;
        let page = |title: &str| json!({"title": title});
        assert_eq!(
            api.post("/api/status-pages", Some(&a.access), page("one"))
                .await
                .status,
            StatusCode::CREATED
        );
        let channel = |n: &str| json!({"name": n, "kind": "email", "to": "ops@alpha.example"});
        for n in ["a", "b"] {
            assert_eq!(
                api.post("/api/alert-channels", Some(&a.access), channel(n))
                    .await
                    .status,
                StatusCode::CREATED
            );
        }
        api.join(&a.access, "bo@alpha.example", "member").await;
        let invited = api
            .post(
                "/api/invitations",
                Some(&a.access),
                json!({"email": "cy@alpha.example", "role": "viewer"}),
            )
            .await;
        assert_eq!(invited.status, StatusCode::CREATED, "{:?}", invited.body);
        let refusals = [
            ("/api/status-pages", page("two"), "status_pages"),
            ("/api/alert-channels", channel("c"), "alert_channels"),
            (
                "/api/invitations",
                json!({"email": "di@alpha.example", "role": "viewer"}),
                "members",
            ),
            (
                "/api/domains",
                json!({"hostname": "status.alpha.example"}),
                "custom_domains",
            ),
            (
                "/api/monitors",
                json!({"name": "fast", "kind": "tcp", "host": "db.example", "port": 5432, "interval_seconds": 30}),
                "min_interval_seconds",
            ),
        ];
        for (path, body, name) in refusals {
            let reply = api.post(path, Some(&a.access), body).await;
            assert_eq!(
                reply.status,
                StatusCode::PAYMENT_REQUIRED,
                "{path}: {:?}",
                reply.body
            );
            assert_eq!(reply.code(), "plan_limit");
            assert_eq!(reply.body["limit"], name);
            assert_eq!(reply.body["plan"], "pro", "{path}");
        }
        // Below every plan's minimum is a plain validation error.
        let slow = api
            .post(
                "/api/monitors",
                Some(&a.access),
                json!({"name": "x", "kind": "tcp", "host": "db.example", "port": 5432, "interval_seconds": 5}),
            )
            .await;
        assert_eq!(slow.status, StatusCode::UNPROCESSABLE_ENTITY);
        let status = billing(api, &a).await;
        assert_eq!(limit(&status, "members")["used"], 3);
        assert_eq!(limit(&status, "status_pages")["used"], 1);
        assert_eq!(limit(&status, "alert_channels")["used"], 2);
        assert_eq!(limit(&status, "custom_domains")["allowed"], 0);
        assert_eq!(limit(&status, "subscribers_per_page")["allowed"], 100);
        assert_eq!(limit(&status, "raw_retention_days")["allowed"], 7);
        let plans: Vec<&str> = status["plans"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["name"].as_str().unwrap())
            .collect();
        assert_eq!(plans, ["free", "pro"]);
    }
}

#[tokio::test]
async fn owners_buy_admins_read_and_the_portal_needs_a_customer() {
    let test_db = TestDb::postgres().await;
    test_db.db().migrations().run().await.unwrap();
    let b = billed(test_db.db()).await;
    let api = &b.api;
    let a = api.signup("alpha", "ann@alpha.example").await;
    let (_, admin) = api.join(&a.access, "al@alpha.example", "admin").await;
    let (_, viewer) = api.join(&a.access, "vi@alpha.example", "viewer").await;
    assert_eq!(
        api.get("/api/billing", Some(&admin)).await.status,
        StatusCode::OK
    );
    assert_eq!(
        api.get("/api/billing", Some(&viewer)).await.status,
        StatusCode::FORBIDDEN
    );
    for path in ["/api/billing/checkout", "/api/billing/portal"] {
        let reply = api.post(path, Some(&admin), json!({})).await;
        assert_eq!(reply.status, StatusCode::FORBIDDEN, "{path}");
    }
    let early = api
        .post("/api/billing/portal", Some(&a.access), json!({}))
        .await;
    assert_eq!(early.status, StatusCode::CONFLICT);
    assert_eq!(early.code(), "no_customer");
    let bad = api
        .post(
            "/api/billing/checkout",
            Some(&a.access),
            json!({"plan": "free"}),
        )
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(bad.body["field"], "plan");
    let customer = checkout(&b, &a).await;
    // A second checkout reuses the customer, with a new session key.
    let again = checkout(&b, &a).await;
    assert_eq!(again, customer);
    assert_eq!(b.fake.seen_at("/v1/customers").len(), 1);
    let keys: Vec<String> = b
        .fake
        .seen_at("/v1/checkout/sessions")
        .into_iter()
        .map(|s| s.idempotency_key.unwrap())
        .collect();
    assert_eq!(keys.len(), 2);
    assert_ne!(keys[0], keys[1]);
    let portal = api
        .post("/api/billing/portal", Some(&a.access), json!({}))
        .await;
    assert_eq!(portal.status, StatusCode::OK, "{:?}", portal.body);
    assert!(
        portal.body["url"]
            .as_str()
            .unwrap()
            .starts_with("https://billing.stripe.com/p/session/")
    );
    let seen = b.fake.seen_at("/v1/billing_portal/sessions").pop().unwrap();
    assert_eq!(seen.param("customer"), Some(customer.as_str()));
    assert!(
        seen.param("return_url")
            .unwrap()
            .ends_with("/settings/billing")
    );
    // Every request carried the bearer key (the fake refuses otherwise) and a key per POST.
    assert!(
        b.fake
            .seen()
            .iter()
            .all(|s| s.method != Method::POST || s.idempotency_key.is_some())
    );
}

#[tokio::test]
async fn a_superuser_grants_a_complimentary_plan_with_an_audit_entry() {
    for test_db in TestDb::both_migrated().await {
        let db = test_db.db();
        let b = billed(db).await;
        let api = &b.api;
        let a = api.signup("alpha", "ann@alpha.example").await;
        api.signup("ops-team", "root@platform.example").await;
        let root = app::tenancy::store::user_by_email(db, "root@platform.example")
            .await
            .unwrap()
            .unwrap();
        app::tenancy::store::set_superuser(db, &root.id, true)
            .await
            .unwrap();
        let admin = api
            .login("root@platform.example", PASSWORD, None)
            .await
            .body["access_token"]
            .as_str()
            .unwrap()
            .to_owned();
        let put = |token: String, body: Value| {
            let api = &b.api;
            async move {
                api.call(
                    Method::PUT,
                    "/admin/api/tenants/alpha/plan",
                    Some(&token),
                    Some(body),
                )
                .await
            }
        };
        let refused = put(a.access.clone(), json!({"plan": "pro"})).await;
        assert_eq!(refused.status, StatusCode::FORBIDDEN);
        let unknown = put(admin.clone(), json!({"plan": "gold"})).await;
        assert_eq!(unknown.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(
            unknown.body["message"]
                .as_str()
                .unwrap()
                .contains("free, pro")
        );
        let granted = put(admin.clone(), json!({"plan": "pro"})).await;
        assert_eq!(granted.status, StatusCode::OK, "{:?}", granted.body);
        assert_eq!(granted.body["plan"], "pro");
        assert_eq!(granted.body["complimentary"], true);
        for n in 1..=4 {
            assert_eq!(
                monitor(api, &a, &format!("m{n}")).await.status,
                StatusCode::CREATED
            );
        }
        let buy = api
            .post("/api/billing/checkout", Some(&a.access), json!({}))
            .await;
        assert_eq!(buy.code(), "complimentary");
        // Taking it back pauses what Free does not allow.
        let back = put(admin.clone(), json!({"plan": null})).await;
        assert_eq!(back.body["plan"], "free");
        assert_eq!(back.body["paused"].as_array().unwrap().len(), 2);
        let entries: Vec<String> = sqlx::query_scalar(
            "SELECT details FROM audit_log WHERE action = 'tenant.plan_set' AND actor_id = $1 ORDER BY created_at",
        )
        .bind(&root.id)
        .fetch_all(db.pool())
        .await
        .unwrap();
        assert_eq!(entries.len(), 2);
        let first: Value = serde_json::from_str(&entries[0]).unwrap();
        assert_eq!(
            first,
            json!({"complimentary": "pro", "from": "free", "to": "pro"})
        );
    }
}

#[tokio::test]
async fn stripe_down_fails_checkout_clearly_but_never_signup_or_login() {
    let test_db = TestDb::sqlite().await;
    test_db.db().migrations().run().await.unwrap();
    let b = billed(test_db.db()).await;
    b.fake.stall(Duration::from_secs(10));
    let a = b.api.signup("alpha", "ann@alpha.example").await;
    let started = Instant::now();
    let reply = b
        .api
        .post("/api/billing/checkout", Some(&a.access), json!({}))
        .await;
    assert_eq!(
        reply.status,
        StatusCode::SERVICE_UNAVAILABLE,
        "{:?}",
        reply.body
    );
    assert!(
        reply.body["message"]
            .as_str()
            .unwrap()
            .contains("did not answer customer creation within 2 s")
    );
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
    assert!(
        !reply.body.to_string().contains("sk_test"),
        "no secret in errors"
    );
    // Signing up and in do not wait on Stripe.
    let started = Instant::now();
    b.api.signup("beta", "bob@beta.example").await;
    let login = b.api.login("ann@alpha.example", PASSWORD, None).await;
    assert_eq!(login.status, StatusCode::OK);
    assert!(started.elapsed() < Duration::from_secs(2));

    // Nothing listening at all is a clear error too.
    let closed = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        format!("http://{}", listener.local_addr().unwrap())
    };
    let other = TestDb::sqlite().await;
    other.db().migrations().run().await.unwrap();
    let down = billed_at(other.db(), b.fake.clone(), &closed).await;
    let c = down.api.signup("gamma", "cy@gamma.example").await;
    let reply = down
        .api
        .post("/api/billing/checkout", Some(&c.access), json!({}))
        .await;
    assert_eq!(reply.status, StatusCode::SERVICE_UNAVAILABLE);
    assert!(
        reply.body["message"]
            .as_str()
            .unwrap()
            .contains("Stripe is unreachable"),
        "{:?}",
        reply.body
    );
}

#[tokio::test]
async fn with_billing_off_nothing_is_limited_and_the_webhook_is_absent() {
    let test_db = TestDb::sqlite().await;
    test_db.db().migrations().run().await.unwrap();
    let mut settings = app_settings(false);
    settings.prober.plan_max_monitors = Some(1);
    let state = state_with(
        test_db.db(),
        settings,
        Mailer::Log {
            include_body: false,
        },
    );
    let (base, _stop) = stripe_fake::serve_app(state.clone()).await;
    let api = Api::new(state);
    let a = api.signup("alpha", "ann@alpha.example").await;
    for n in 0..3 {
        assert_eq!(
            monitor(&api, &a, &format!("m{n}")).await.status,
            StatusCode::CREATED
        );
    }
    for n in 0..2 {
        let page = api
            .post(
                "/api/status-pages",
                Some(&a.access),
                json!({"title": format!("p{n}")}),
            )
            .await;
        assert_eq!(page.status, StatusCode::CREATED);
    }
    let status = billing(&api, &a).await;
    assert_eq!(status["enabled"], false);
    assert!(limit(&status, "monitors")["allowed"].is_null());
    assert_eq!(limit(&status, "monitors")["used"], 3);
    assert_eq!(status["plans"], json!([]));
    let (code, body) = deliver(
        &base,
        &event("evt_1", "invoice.paid", unix_now(), json!({})),
    )
    .await;
    assert_eq!(code, StatusCode::NOT_FOUND);
    assert_eq!(body["code"], "billing_disabled");
    let buy = api
        .post("/api/billing/checkout", Some(&a.access), json!({}))
        .await;
    assert_eq!(buy.code(), "billing_disabled");
}

#[tokio::test]
async fn raw_results_are_kept_as_long_as_each_tenants_plan_says() {
    for test_db in TestDb::both_migrated().await {
        let db = test_db.db();
        let b = billed(db).await;
        let now = now_ms();
        let mut tenants = Vec::new();
        for (slug, plan) in [("paid", "pro"), ("free", "free"), ("gone", "retired")] {
            let s = b
                .api
                .signup(&format!("{slug}-org"), &format!("o@{slug}.example"))
                .await;
            let id = monitor(&b.api, &s, "m").await.body["id"]
                .as_str()
                .unwrap()
                .to_owned();
            sqlx::query("UPDATE tenants SET plan = $1 WHERE id = $2")
                .bind(plan)
                .bind(&s.tenant_id)
                .execute(db.pool())
                .await
                .unwrap();
            for age_days in [1, 10, 40] {
                sqlx::query(
                    "INSERT INTO check_results (tenant_id, monitor_id, checked_at, ok, region) \
                     VALUES ($1, $2, $3, 1, 'local')",
                )
                .bind(&s.tenant_id)
                .bind(&id)
                .bind(now - age_days * DAY_MS)
                .execute(db.pool())
                .await
                .unwrap();
            }
            tenants.push(s.tenant_id);
        }
        let config = app::config::ProberConfig::defaults();
        let plans = &b.api.state.billing.plans;
        app::monitor::rollup::enforce_retention_for(db, &config, Some(plans), now)
            .await
            .unwrap();
        let mut kept = Vec::new();
        for tenant in &tenants {
            let n: i64 =
                sqlx::query_scalar("SELECT COUNT(*) FROM check_results WHERE tenant_id = $1")
                    .bind(tenant)
                    .fetch_one(db.pool())
                    .await
                    .unwrap();
            kept.push(n);
        }
        // Pro keeps 30 days, Free 7 (as does a plan no longer configured).
        assert_eq!(kept, [2, 1, 1]);
    }
}

#[tokio::test]
async fn the_owner_chooses_what_the_plan_keeps() {
    for test_db in TestDb::both_migrated().await {
        let b = billed(test_db.db()).await;
        let (api, state) = (&b.api, &b.api.state);
        let a = api.signup("alpha", "ann@alpha.example").await;
        let (_, admin) = api.join(&a.access, "al@alpha.example", "admin").await;
        app::billing::dunning::refresh(
            &state.db,
            &state.billing,
            &a.tenant_id,
            now_ms(),
            Some(Some("pro".into())),
        )
        .await
        .unwrap();
        let mut ids = Vec::new();
        for n in 1..=4 {
            let reply = monitor(api, &a, &format!("m{n}")).await;
            ids.push(reply.body["id"].as_str().unwrap().to_owned());
        }
        app::billing::dunning::refresh(
            &state.db,
            &state.billing,
            &a.tenant_id,
            now_ms(),
            Some(None),
        )
        .await
        .unwrap();
        let names = |status: &Value| -> Vec<String> {
            status["paused"]
                .as_array()
                .unwrap()
                .iter()
                .map(|p| p["name"].as_str().unwrap().to_owned())
                .collect()
        };
        assert_eq!(names(&billing(api, &a).await), ["m3", "m4"]);
        let set = |token: &str, kind: &str, id: &str, paused: bool| {
            let body = json!({"kind": kind, "id": id, "paused": paused});
            let token = token.to_owned();
            async move { api.post("/api/billing/paused", Some(&token), body).await }
        };
        // No room: m3 stays paused.
        let full = set(&a.access, "monitor", &ids[2], false).await;
        assert_eq!(full.status, StatusCode::PAYMENT_REQUIRED, "{:?}", full.body);
        assert_eq!(full.body["limit"], "monitors");
        // The owner keeps m3 instead of m1.
        assert_eq!(
            set(&admin, "monitor", &ids[0], true).await.status,
            StatusCode::FORBIDDEN
        );
        let swapped = set(&a.access, "monitor", &ids[0], true).await;
        assert_eq!(swapped.status, StatusCode::OK, "{:?}", swapped.body);
        let resumed = api
            .call(
                Method::PATCH,
                &format!("/api/monitors/{}", ids[2]),
                Some(&a.access),
                Some(json!({"paused": false})),
            )
            .await;
        assert_eq!(resumed.status, StatusCode::OK, "{:?}", resumed.body);
        assert!(resumed.body["paused_reason"].is_null());
        assert_eq!(resumed.body["state"], "pending");
        let status = billing(api, &a).await;
        assert_eq!(names(&status), ["m1", "m4"]);
        assert!(
            status["paused"][0]["reason"]
                .as_str()
                .unwrap()
                .contains("by the owner")
        );
        // Bad requests are named.
        assert_eq!(
            set(&a.access, "widget", &ids[0], true).await.body["field"],
            "kind"
        );
        assert_eq!(
            set(&a.access, "status_page", &ids[0], true).await.status,
            StatusCode::NOT_FOUND
        );
        // An upgrade resumes every pause, the owner's too.
        app::billing::dunning::refresh(
            &state.db,
            &state.billing,
            &a.tenant_id,
            now_ms(),
            Some(Some("pro".into())),
        )
        .await
        .unwrap();
        assert_eq!(billing(api, &a).await["paused"], json!([]));
    }
}
