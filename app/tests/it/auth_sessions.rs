//! Login, organisation choice, refresh rotation and reuse, logout, cookies and CSRF, limits and lockout.

use app::auth::session::AccessClaims;
use app::auth::token;
use app::test_support::app_settings;
use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use serde_json::json;

use crate::api::{Api, PASSWORD};
use crate::helpers::{TestDb, state, state_with};

async fn migrated_sqlite() -> TestDb {
    let test_db = TestDb::sqlite().await;
    test_db.db().migrations().run().await.unwrap();
    test_db
}

/// Makes `email` a member of `tenant_id` with `role`.
async fn add_member(db: &app::db::Database, tenant_id: &str, user_id: &str, role: &str) {
    sqlx::query(
        "INSERT INTO memberships (tenant_id, user_id, role, created_at) VALUES ($1, $2, $3, 0)",
    )
    .bind(tenant_id)
    .bind(user_id)
    .bind(role)
    .execute(db.pool())
    .await
    .unwrap();
}

#[tokio::test]
async fn one_organisation_signs_in_directly_several_choose() {
    for test_db in TestDb::both_migrated().await {
        let db = test_db.db();
        let api = Api::new(state(db));
        let acme = api.signup("acme", "ann@acme.example").await;
        let reply = api.login("ANN@acme.example", PASSWORD, None).await;
        assert_eq!(reply.status, StatusCode::OK, "{:?}", reply.body);
        assert_eq!(reply.body["organization"]["slug"], "acme");

        let beta = api.signup("beta", "bob@beta.example").await;
        add_member(db, &beta.tenant_id, &acme.user_id, "viewer").await;
        let choose = api.login("ann@acme.example", PASSWORD, None).await;
        assert_eq!(choose.status, StatusCode::OK);
        assert_eq!(choose.body["status"], "choose_organization");
        assert!(choose.body.get("access_token").is_none());
        let slugs: Vec<&str> = choose.body["organizations"]
            .as_array()
            .unwrap()
            .iter()
            .map(|o| o["slug"].as_str().unwrap())
            .collect();
        assert_eq!(slugs, ["acme", "beta"]);

        let chosen = api.login("ann@acme.example", PASSWORD, Some("beta")).await;
        assert_eq!(chosen.body["organization"]["slug"], "beta");
        assert_eq!(chosen.body["organization"]["role"], "viewer");
        let not_mine = api.login("ann@acme.example", PASSWORD, Some("gamma")).await;
        assert_eq!(not_mine.status, StatusCode::FORBIDDEN);
        assert_eq!(not_mine.code(), "not_a_member");

        // On a tenant's own hostname the choice is implied by the host.
        let on_host = api
            .send(
                Request::post("/api/auth/login")
                    .header(header::HOST, "beta.localhost:8443")
                    .header(header::CONTENT_TYPE, "application/json")
                    .body(Body::from(
                        json!({ "email": "ann@acme.example", "password": PASSWORD }).to_string(),
                    ))
                    .unwrap(),
            )
            .await;
        assert_eq!(
            on_host.body["organization"]["slug"], "beta",
            "{:?}",
            on_host.body
        );
    }
}

#[tokio::test]
async fn wrong_password_and_unknown_email_look_the_same() {
    let test_db = migrated_sqlite().await;
    let api = Api::new(state(test_db.db()));
    api.signup("acme", "ann@acme.example").await;
    let wrong = api
        .login("ann@acme.example", "not-the-password-1", None)
        .await;
    let unknown = api
        .login("nobody@acme.example", "not-the-password-1", None)
        .await;
    assert_eq!(wrong.status, StatusCode::UNAUTHORIZED);
    assert_eq!(wrong.body, unknown.body);
}

#[tokio::test]
async fn refresh_rotates_and_reuse_revokes_the_family() {
    for test_db in TestDb::both_migrated().await {
        let api = Api::new(state(test_db.db()));
        let session = api.signup("acme", "ann@acme.example").await;
        let first = api
            .post(
                "/api/auth/refresh",
                None,
                json!({ "refresh_token": session.refresh }),
            )
            .await;
        assert_eq!(first.status, StatusCode::OK, "{:?}", first.body);
        let next_refresh = first.body["refresh_token"].as_str().unwrap().to_owned();
        let next_access = first.body["access_token"].as_str().unwrap().to_owned();
        assert_ne!(next_refresh, session.refresh);
        assert_eq!(
            api.get("/api/me", Some(&next_access)).await.status,
            StatusCode::OK
        );

        // The old token again: theft. Everything of this login dies, the newest tokens too.
        let reuse = api
            .post(
                "/api/auth/refresh",
                None,
                json!({ "refresh_token": session.refresh }),
            )
            .await;
        assert_eq!(reuse.status, StatusCode::UNAUTHORIZED);
        assert_eq!(reuse.code(), "refresh_token_reused");
        let after = api
            .post(
                "/api/auth/refresh",
                None,
                json!({ "refresh_token": next_refresh }),
            )
            .await;
        assert_eq!(after.code(), "invalid_refresh_token");
        let me = api.get("/api/me", Some(&next_access)).await;
        assert_eq!(me.status, StatusCode::UNAUTHORIZED);
        assert_eq!(me.code(), "session_revoked");

        for junk in ["", "nope", &"x".repeat(500)] {
            let reply = api
                .post("/api/auth/refresh", None, json!({ "refresh_token": junk }))
                .await;
            assert_eq!(reply.code(), "invalid_refresh_token", "{junk}");
        }
    }
}

#[tokio::test]
async fn logout_ends_the_access_token_at_once() {
    let test_db = migrated_sqlite().await;
    let api = Api::new(state(test_db.db()));
    let session = api.signup("acme", "ann@acme.example").await;
    let out = api
        .post("/api/auth/logout", Some(&session.access), json!({}))
        .await;
    assert_eq!(out.status, StatusCode::NO_CONTENT);
    assert!(
        out.cookies()
            .iter()
            .any(|c| c.starts_with("sw_access=;") && c.contains("Max-Age=0")),
        "{:?}",
        out.cookies()
    );
    assert_eq!(
        api.get("/api/me", Some(&session.access)).await.code(),
        "session_revoked"
    );
    let refresh = api
        .post(
            "/api/auth/refresh",
            None,
            json!({ "refresh_token": session.refresh }),
        )
        .await;
    assert_eq!(refresh.code(), "invalid_refresh_token");
}

#[tokio::test]
async fn expired_tampered_and_foreign_tokens_are_refused() {
    let test_db = migrated_sqlite().await;
    let state = state(test_db.db());
    let api = Api::new(state.clone());
    let session = api.signup("acme", "ann@acme.example").await;
    let claims: AccessClaims =
        token::verify(&session.access, &state.keys.access, "access", 0).unwrap();

    let expired = token::sign(
        &AccessClaims {
            exp: 1,
            iat: 0,
            ..claims.clone()
        },
        &state.keys.access,
    );
    assert_eq!(
        api.get("/api/members", Some(&expired)).await.code(),
        "token_expired"
    );

    let other_key = token::sign(&claims, &[9; 32]);
    assert_eq!(
        api.get("/api/members", Some(&other_key)).await.code(),
        "invalid_token"
    );

    let mut parts: Vec<String> = session.access.split('.').map(str::to_owned).collect();
    parts[1].insert(3, 'A');
    assert_eq!(
        api.get("/api/members", Some(&parts.join("."))).await.code(),
        "invalid_token"
    );

    let basic = api
        .send(
            Request::get("/api/members")
                .header(header::AUTHORIZATION, "Basic YTpi")
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(basic.status, StatusCode::UNAUTHORIZED);
    assert_eq!(basic.code(), "invalid_authorization");

    let none = api.get("/api/members", None).await;
    assert_eq!(none.status, StatusCode::UNAUTHORIZED);
    assert_eq!(none.code(), "not_authenticated");

    // A token of tenant A used on tenant B's hostname.
    let beta = api.signup("beta", "bob@beta.example").await;
    let wrong_host = api
        .send(
            Request::get("/api/members")
                .header(header::HOST, "beta.localhost")
                .header(header::AUTHORIZATION, format!("Bearer {}", session.access))
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(wrong_host.status, StatusCode::FORBIDDEN);
    assert_eq!(wrong_host.code(), "wrong_tenant");
    let _ = beta;
}

#[tokio::test]
async fn cookie_sessions_need_the_csrf_header_for_writes() {
    let test_db = migrated_sqlite().await;
    let api = Api::new(state(test_db.db()));
    let signup = api
        .post("/api/auth/signup", None, json!({ "organization": "Acme", "slug": "acme", "email": "ann@acme.example", "password": PASSWORD }))
        .await;
    let cookie = |name: &str| {
        signup
            .cookies()
            .iter()
            .find_map(|c| {
                c.strip_prefix(&format!("{name}="))
                    .map(|rest| rest.split(';').next().unwrap().to_owned())
            })
            .unwrap()
    };
    let (access, csrf) = (cookie("sw_access"), cookie("sw_csrf"));
    let cookies = format!("sw_access={access}; sw_csrf={csrf}");
    let request = |method: Method, path: &str, csrf_header: Option<&str>| {
        let mut builder = Request::builder()
            .method(method)
            .uri(path)
            .header(header::COOKIE, &cookies)
            .header(header::CONTENT_TYPE, "application/json");
        if let Some(value) = csrf_header {
            builder = builder.header("x-csrf-token", value);
        }
        builder
            .body(Body::from(
                json!({ "email": "new@acme.example", "role": "member" }).to_string(),
            ))
            .unwrap()
    };
    assert_eq!(
        api.send(request(Method::GET, "/api/members", None))
            .await
            .status,
        StatusCode::OK
    );
    let forged = api
        .send(request(Method::POST, "/api/invitations", None))
        .await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN);
    assert_eq!(forged.code(), "csrf_failed");
    let wrong = api
        .send(request(Method::POST, "/api/invitations", Some("guess")))
        .await;
    assert_eq!(wrong.code(), "csrf_failed");
    let good = api
        .send(request(Method::POST, "/api/invitations", Some(&csrf)))
        .await;
    assert_eq!(good.status, StatusCode::CREATED, "{:?}", good.body);
}

#[tokio::test]
async fn login_floods_get_429_with_retry_after() {
    let test_db = migrated_sqlite().await;
    let mut settings = app_settings(false);
    settings.auth.login_per_ip_per_minute = 3;
    let mut api = Api::new(state_with(
        test_db.db(),
        settings,
        app::mail::Mailer::Log {
            include_body: false,
        },
    ));
    api.peer = "198.51.100.20:4000".parse().unwrap();
    for _ in 0..3 {
        assert_eq!(
            api.login("x@acme.example", "wrong-password-1", None)
                .await
                .status,
            StatusCode::UNAUTHORIZED
        );
    }
    let limited = api.login("x@acme.example", "wrong-password-1", None).await;
    assert_eq!(limited.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(limited.code(), "rate_limited");
    let retry: u64 = limited.headers[header::RETRY_AFTER]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=60).contains(&retry), "{retry}");
    // Another client is not affected.
    api.peer = "198.51.100.21:4000".parse().unwrap();
    assert_eq!(
        api.login("x@acme.example", "wrong-password-1", None)
            .await
            .status,
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test]
async fn repeated_failures_lock_the_account_until_a_stated_time() {
    for test_db in TestDb::both_migrated().await {
        let mut api = Api::new(state(test_db.db()));
        api.signup("acme", "ann@acme.example").await;
        // Different addresses, so the per-IP limit is not what stops them.
        for i in 0..4 {
            api.peer = format!("203.0.113.{i}:1").parse().unwrap();
            assert_eq!(
                api.login("ann@acme.example", "wrong-password-1", None)
                    .await
                    .code(),
                "invalid_credentials"
            );
        }
        api.peer = "203.0.113.9:1".parse().unwrap();
        let locking = api
            .login("ann@acme.example", "wrong-password-1", None)
            .await;
        assert_eq!(locking.status, StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(locking.code(), "account_locked");
        let until = locking.body["locked_until"].as_i64().unwrap();
        assert!(until > app::clock::now_ms() + 14 * 60_000, "{until}");
        // Even the right password waits until then.
        let right = api.login("ann@acme.example", PASSWORD, None).await;
        assert_eq!(right.code(), "account_locked");
        assert!(right.headers.contains_key(header::RETRY_AFTER));
        let audit: i64 =
            sqlx::query_scalar("SELECT COUNT(*) FROM audit_log WHERE action = 'auth.locked'")
                .fetch_one(test_db.db().pool())
                .await
                .unwrap();
        assert_eq!(audit, 1);
    }
}
