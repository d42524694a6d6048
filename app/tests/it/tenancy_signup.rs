//! Signup: what it creates, and every way it refuses without leaving anything behind.

use app::test_support::app_settings;
use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use serde_json::json;

use crate::api::{Api, PASSWORD};
use crate::helpers::{TestDb, state, state_with};

async fn count(db: &app::db::Database, table: &str) -> i64 {
    sqlx::query_scalar(&format!("SELECT COUNT(*) FROM {table}"))
        .fetch_one(db.pool())
        .await
        .unwrap()
}

#[tokio::test]
async fn signup_creates_tenant_owner_and_subdomain_in_both_dialects() {
    for test_db in TestDb::both_migrated().await {
        let db = test_db.db();
        let api = Api::new(state(db));
        let reply = api
            .post("/api/auth/signup", None, json!({ "organization": "Acme Corp", "slug": "Acme", "email": "Owner@Acme.example", "password": PASSWORD }))
            .await;
        assert_eq!(reply.status, StatusCode::CREATED, "{:?}", reply.body);
        let body = &reply.body;
        assert_eq!(body["status"], "signed_in");
        assert_eq!(body["domain"], "acme.localhost");
        assert_eq!(body["organization"]["slug"], "acme");
        assert_eq!(body["organization"]["role"], "owner");
        assert_eq!(body["user"]["email"], "owner@acme.example");
        assert_eq!(body["user"]["email_verified"], false);
        assert_eq!(body["token_type"], "Bearer");
        let cookies = reply.cookies().join("\n");
        assert!(
            cookies.contains("sw_access=") && cookies.contains("HttpOnly"),
            "{cookies}"
        );
        assert!(cookies.contains("sw_csrf="), "{cookies}");
        assert!(
            !cookies.contains("Secure"),
            "development cookies are not Secure: {cookies}"
        );

        let hostname: String =
            sqlx::query_scalar("SELECT hostname FROM domains WHERE kind = 'subdomain'")
                .fetch_one(db.pool())
                .await
                .unwrap();
        assert_eq!(hostname, "acme.localhost");
        let me = api.get("/api/me", body["access_token"].as_str()).await;
        assert_eq!(me.status, StatusCode::OK);
        assert_eq!(me.body["organization"]["slug"], "acme");
    }
}

/// The old system created `.localhost` tenants in production; here the
/// production suffix is the only one a tenant can get.
#[tokio::test]
async fn production_tenants_never_get_a_localhost_domain() {
    let test_db = TestDb::sqlite().await;
    test_db.db().migrations().run().await.unwrap();
    let mut settings = app_settings(true);
    settings.tenancy.domain_suffix = "status.example.com".to_owned();
    let api = Api::new(state_with(
        test_db.db(),
        settings,
        app::mail::Mailer::Log {
            include_body: false,
        },
    ));
    let session = api.signup("acme", "owner@acme.example").await;
    assert_eq!(session.domain, "acme.status.example.com");
    let domains: Vec<String> = sqlx::query_scalar("SELECT hostname FROM domains")
        .fetch_all(test_db.db().pool())
        .await
        .unwrap();
    assert!(
        domains.iter().all(|d| !d.contains("localhost")),
        "{domains:?}"
    );
    let cookie = api
        .post(
            "/api/auth/login",
            None,
            json!({ "email": "owner@acme.example", "password": PASSWORD }),
        )
        .await
        .cookies()
        .join("\n");
    assert!(
        cookie.contains("Secure"),
        "production cookies must be Secure: {cookie}"
    );
}

#[tokio::test]
async fn duplicates_are_409_and_create_nothing() {
    for test_db in TestDb::both_migrated().await {
        let db = test_db.db();
        let api = Api::new(state(db));
        api.signup("acme", "owner@acme.example").await;
        let before: Vec<i64> = futures_counts(db).await;

        let taken_slug = api
            .post("/api/auth/signup", None, json!({ "organization": "Other", "slug": "ACME", "email": "new@other.example", "password": PASSWORD }))
            .await;
        assert_eq!(taken_slug.status, StatusCode::CONFLICT);
        assert_eq!(taken_slug.code(), "slug_taken");
        assert_eq!(taken_slug.body["field"], "slug");

        let taken_email = api
            .post("/api/auth/signup", None, json!({ "organization": "Other", "slug": "other", "email": "OWNER@acme.example", "password": PASSWORD }))
            .await;
        assert_eq!(taken_email.status, StatusCode::CONFLICT);
        assert_eq!(taken_email.code(), "email_taken");
        assert_eq!(taken_email.body["field"], "email");

        assert_eq!(
            futures_counts(db).await,
            before,
            "a refused signup left rows behind"
        );
    }
}

async fn futures_counts(db: &app::db::Database) -> Vec<i64> {
    let mut counts = Vec::new();
    for table in [
        "tenants",
        "users",
        "memberships",
        "domains",
        "refresh_tokens",
    ] {
        counts.push(count(db, table).await);
    }
    counts
}

#[tokio::test]
async fn invalid_fields_are_named() {
    let test_db = TestDb::sqlite().await;
    test_db.db().migrations().run().await.unwrap();
    let mut api = Api::new(state(test_db.db()));
    let good = json!({ "organization": "Acme", "slug": "acme", "email": "a@acme.example", "password": PASSWORD });
    let cases = [
        ("organization", json!(""), "organization"),
        ("organization", json!("x".repeat(101)), "organization"),
        ("organization", json!("Acme\u{7}"), "organization"),
        ("slug", json!("ab"), "slug"),
        ("slug", json!("www"), "slug"),
        ("slug", json!("has space"), "slug"),
        ("slug", json!("xn--punycode"), "slug"),
        ("email", json!("not-an-email"), "email"),
        ("email", json!("a@b.example\r\nBcc: x@y.example"), "email"),
        ("password", json!("short"), "password"),
        ("password", json!("password123"), "password"),
        ("password", json!("p".repeat(300)), "password"),
    ];
    for (i, (key, value, field)) in cases.into_iter().enumerate() {
        // A client of its own per case: refused signups still count against the limit.
        api.peer = format!("192.0.2.{}:5000", i + 1).parse().unwrap();
        let mut body = good.clone();
        body[key] = value.clone();
        let reply = api.post("/api/auth/signup", None, body).await;
        assert_eq!(
            reply.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{key}={value}: {:?}",
            reply.body
        );
        assert_eq!(reply.code(), "invalid");
        assert_eq!(
            reply.body["field"], field,
            "{key}={value}: {:?}",
            reply.body
        );
        assert!(reply.body["message"].as_str().unwrap().starts_with(field));
    }
    assert_eq!(count(test_db.db(), "tenants").await, 0);
}

#[tokio::test]
async fn malformed_oversized_and_unexpected_bodies() {
    let test_db = TestDb::sqlite().await;
    test_db.db().migrations().run().await.unwrap();
    let api = Api::new(state(test_db.db()));
    let raw = |body: String, content_type: &str| {
        Request::post("/api/auth/signup")
            .header(header::CONTENT_TYPE, content_type)
            .body(Body::from(body))
            .unwrap()
    };
    let malformed = api
        .send(raw("{\"slug\": ".to_owned(), "application/json"))
        .await;
    assert_eq!(malformed.status, StatusCode::BAD_REQUEST);
    assert_eq!(malformed.code(), "malformed_json");

    let missing = api
        .send(raw("{\"slug\": \"acme\"}".to_owned(), "application/json"))
        .await;
    assert_eq!(missing.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(missing.code(), "invalid_body");
    assert!(
        missing.body["message"]
            .as_str()
            .unwrap()
            .contains("organization"),
        "{:?}",
        missing.body
    );

    let unknown = api
        .send(raw(json!({ "organization": "A", "slug": "acme", "email": "a@b.example", "password": PASSWORD, "admin": true }).to_string(), "application/json"))
        .await;
    assert_eq!(unknown.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        unknown.body["message"].as_str().unwrap().contains("admin"),
        "{:?}",
        unknown.body
    );

    let wrong_type = api.send(raw("{}".to_owned(), "text/plain")).await;
    assert_eq!(wrong_type.status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    assert_eq!(wrong_type.code(), "expected_json");

    let huge = format!("{{\"organization\": \"{}\"}}", "x".repeat(100 * 1024));
    let oversized = api.send(raw(huge, "application/json")).await;
    assert_eq!(
        oversized.status,
        StatusCode::PAYLOAD_TOO_LARGE,
        "{:?}",
        oversized.body
    );
    assert_eq!(oversized.code(), "body_too_large");
    assert_eq!(count(test_db.db(), "tenants").await, 0);
}

#[tokio::test]
async fn concurrent_signups_for_one_slug_make_one_tenant() {
    for test_db in TestDb::both_migrated().await {
        let api = std::sync::Arc::new(Api::new(state(test_db.db())));
        let mut tasks = Vec::new();
        for i in 0..6 {
            let api = api.clone();
            tasks.push(tokio::spawn(async move {
                api.post("/api/auth/signup", None, json!({ "organization": "Race", "slug": "race", "email": format!("u{i}@race.example"), "password": PASSWORD }))
                    .await
                    .status
            }));
        }
        let mut statuses = Vec::new();
        for task in tasks {
            statuses.push(task.await.unwrap());
        }
        assert_eq!(
            statuses
                .iter()
                .filter(|s| **s == StatusCode::CREATED)
                .count(),
            1,
            "{statuses:?}"
        );
        assert!(
            statuses
                .iter()
                .all(|s| *s == StatusCode::CREATED || *s == StatusCode::CONFLICT),
            "{statuses:?}"
        );
        assert_eq!(count(test_db.db(), "tenants").await, 1);
        assert_eq!(
            count(test_db.db(), "users").await,
            1,
            "losers left users behind"
        );
    }
}
