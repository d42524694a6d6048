//! `/api/monitors`: validation per field, plan limits, states, tenant isolation, heartbeats.

use axum::http::{Method, StatusCode};
use serde_json::json;

use crate::api::Api;
use crate::helpers::{TestDb, state_with};
use app::mail::Mailer;
use app::test_support::app_settings;

fn api_with(db: &app::db::Database, max_monitors: u64) -> Api {
    let mut settings = app_settings(false);
    // Limits apply only with billing on; the older prober keys are the Free plan's.
    crate::helpers::enable_billing(&mut settings, "http://127.0.0.1:9");
    settings.prober.plan_max_monitors = Some(max_monitors);
    settings.prober.plan_min_interval_seconds = Some(30);
    Api::new(state_with(
        db,
        settings,
        Mailer::Log {
            include_body: false,
        },
    ))
}

#[tokio::test]
async fn monitors_are_created_listed_changed_and_deleted() {
    for test_db in TestDb::both_migrated().await {
        let api = api_with(test_db.db(), 10);
        let a = api.signup("alpha", "ann@alpha.example").await;
        let created = api
            .post(
                "/api/monitors",
                Some(&a.access),
                json!({"name": "Site", "kind": "http", "url": "https://example.com/health",
                       "expected_status": [200, 204], "keyword": "ok"}),
            )
            .await;
        assert_eq!(created.status, StatusCode::CREATED, "{:?}", created.body);
        let id = created.body["id"].as_str().unwrap().to_owned();
        assert_eq!(created.body["state"], "pending");
        assert_eq!(created.body["kind"], "http");
        assert_eq!(created.body["interval_seconds"], 60);
        assert_eq!(created.body["method"], "GET");
        assert_eq!(created.body["expected_status"], json!([200, 204]));
        // First check due within a second of creation (the issue allows 5).
        let due = created.body["next_check_at"].as_i64().unwrap();
        assert!(due - created.body["created_at"].as_i64().unwrap() <= 1000);

        let listed = api.get("/api/monitors", Some(&a.access)).await;
        assert_eq!(listed.body.as_array().unwrap().len(), 1);

        let patched = api
            .call(
                Method::PATCH,
                &format!("/api/monitors/{id}"),
                Some(&a.access),
                Some(json!({"interval_seconds": 120, "paused": true})),
            )
            .await;
        assert_eq!(patched.status, StatusCode::OK, "{:?}", patched.body);
        assert_eq!(patched.body["state"], "paused");
        assert_eq!(patched.body["interval_seconds"], 120);
        assert_eq!(patched.body["keyword"], "ok", "untouched fields stay");

        let resumed = api
            .call(
                Method::PATCH,
                &format!("/api/monitors/{id}"),
                Some(&a.access),
                Some(json!({"paused": false})),
            )
            .await;
        assert_eq!(resumed.body["state"], "pending");

        let bad_kind = api
            .call(
                Method::PATCH,
                &format!("/api/monitors/{id}"),
                Some(&a.access),
                Some(json!({"kind": "tcp"})),
            )
            .await;
        assert_eq!(bad_kind.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(bad_kind.body["field"], "kind");

        let deleted = api
            .call(
                Method::DELETE,
                &format!("/api/monitors/{id}"),
                Some(&a.access),
                None,
            )
            .await;
        assert_eq!(deleted.status, StatusCode::NO_CONTENT);
        let gone = api
            .get(&format!("/api/monitors/{id}"), Some(&a.access))
            .await;
        assert_eq!(gone.status, StatusCode::NOT_FOUND);
    }
}

#[tokio::test]
async fn bad_input_names_the_field_and_stores_nothing() {
    for test_db in TestDb::both_migrated().await {
        let api = api_with(test_db.db(), 10);
        let a = api.signup("alpha", "ann@alpha.example").await;
        let cases = [
            (json!({"kind": "http", "url": "https://a.example"}), "name"),
            (json!({"name": "x", "kind": "smtp"}), "kind"),
            (
                json!({"name": "x", "kind": "http", "url": "not a url"}),
                "url",
            ),
            (
                json!({"name": "x", "kind": "http", "url": "https://a.example", "interval_seconds": 10}),
                "interval_seconds",
            ),
            (
                json!({"name": "x", "kind": "tcp", "host": "a.example"}),
                "port",
            ),
            (
                json!({"name": "x", "kind": "dns", "host": "a.example", "record_type": "PTR"}),
                "record_type",
            ),
            (
                json!({"name": "x", "kind": "heartbeat", "url": "https://a.example"}),
                "url",
            ),
        ];
        for (body, field) in cases {
            let reply = api
                .post("/api/monitors", Some(&a.access), body.clone())
                .await;
            assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
            assert_eq!(reply.body["field"], field, "{body}: {:?}", reply.body);
        }
        let unknown = api
            .post(
                "/api/monitors",
                Some(&a.access),
                json!({"name": "x", "kind": "tcp", "hots": "a"}),
            )
            .await;
        assert_eq!(unknown.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(unknown.body["message"].as_str().unwrap().contains("hots"));
        let count: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM monitors")
            .fetch_one(test_db.db().pool())
            .await
            .unwrap();
        assert_eq!(count, 0);
    }
}

#[tokio::test]
async fn the_plan_limits_the_number_of_monitors() {
    for test_db in TestDb::both_migrated().await {
        let api = api_with(test_db.db(), 2);
        let a = api.signup("alpha", "ann@alpha.example").await;
        for n in 0..2 {
            let reply = api
                .post(
                    "/api/monitors",
                    Some(&a.access),
                    json!({"name": format!("db {n}"), "kind": "tcp", "host": "db.example", "port": 5432}),
                )
                .await;
            assert_eq!(reply.status, StatusCode::CREATED, "{:?}", reply.body);
        }
        let third = api
            .post(
                "/api/monitors",
                Some(&a.access),
                json!({"name": "db 3", "kind": "tcp", "host": "db.example", "port": 5432}),
            )
            .await;
        assert_eq!(third.status, StatusCode::PAYMENT_REQUIRED);
        assert_eq!(third.code(), "plan_limit");
        assert_eq!(third.body["limit"], "monitors");
        assert_eq!(third.body["plan"], "pro", "{:?}", third.body);
        // Another tenant has its own allowance.
        let b = api.signup("beta", "bob@beta.example").await;
        let theirs = api
            .post(
                "/api/monitors",
                Some(&b.access),
                json!({"name": "db", "kind": "tcp", "host": "db.example", "port": 5432}),
            )
            .await;
        assert_eq!(theirs.status, StatusCode::CREATED);
    }
}

#[tokio::test]
async fn other_tenants_monitors_are_invisible() {
    for test_db in TestDb::both_migrated().await {
        let api = api_with(test_db.db(), 10);
        let a = api.signup("alpha", "ann@alpha.example").await;
        let b = api.signup("beta", "bob@beta.example").await;
        let theirs = api
            .post(
                "/api/monitors",
                Some(&b.access),
                json!({"name": "B site", "kind": "http", "url": "https://b.example"}),
            )
            .await;
        let id = theirs.body["id"].as_str().unwrap();
        assert_eq!(
            api.get("/api/monitors", Some(&a.access)).await.body,
            json!([])
        );
        for method in [Method::GET, Method::PATCH, Method::DELETE] {
            let body = (method == Method::PATCH).then(|| json!({"name": "mine"}));
            let reply = api
                .call(
                    method.clone(),
                    &format!("/api/monitors/{id}"),
                    Some(&a.access),
                    body,
                )
                .await;
            assert_eq!(reply.status, StatusCode::NOT_FOUND, "{method}");
        }
        let still = api
            .get(&format!("/api/monitors/{id}"), Some(&b.access))
            .await;
        assert_eq!(still.body["name"], "B site");
    }
}

#[tokio::test]
async fn heartbeat_monitors_get_a_secret_push_url() {
    for test_db in TestDb::both_migrated().await {
        let api = api_with(test_db.db(), 10);
        let a = api.signup("alpha", "ann@alpha.example").await;
        let created = api
            .post(
                "/api/monitors",
                Some(&a.access),
                json!({"name": "nightly backup", "kind": "heartbeat", "interval_seconds": 3600}),
            )
            .await;
        assert_eq!(created.status, StatusCode::CREATED, "{:?}", created.body);
        let url = created.body["heartbeat_url"].as_str().unwrap();
        let path = &url[url.find("/api/heartbeat/").unwrap()..];
        let id = created.body["id"].as_str().unwrap();
        let shown = api
            .get(&format!("/api/monitors/{id}"), Some(&a.access))
            .await;
        assert!(shown.body.get("heartbeat_url").is_none(), "shown only once");
        let before = shown.body["last_ping_at"].as_i64().unwrap();
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
        let ping = api.post(path, None, json!({})).await;
        assert_eq!(ping.status, StatusCode::NO_CONTENT);
        let after = api
            .get(&format!("/api/monitors/{id}"), Some(&a.access))
            .await;
        assert!(after.body["last_ping_at"].as_i64().unwrap() > before);
        let wrong = api.get("/api/heartbeat/not-the-token", None).await;
        assert_eq!(wrong.status, StatusCode::NOT_FOUND);
    }
}
