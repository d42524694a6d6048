//! Hand-over of a sign-in from the root domain to the organisation's host:
//! one use, sixty seconds, only on that host, stored hashed, rate-limited.

use app::auth::session::hash_secret;
use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use serde_json::{Value, json};

use crate::api::{Api, Reply, Session};
use crate::helpers::{TestDb, state};

/// `POST path` with a JSON body, a `Host` header and an optional bearer token.
async fn post_on(api: &Api, host: &str, path: &str, token: Option<&str>, body: Value) -> Reply {
    let mut builder = Request::builder()
        .method(Method::POST)
        .uri(path)
        .header(header::HOST, host)
        .header(header::CONTENT_TYPE, "application/json");
    if let Some(token) = token {
        builder = builder.header(header::AUTHORIZATION, format!("Bearer {token}"));
    }
    api.send(builder.body(Body::from(body.to_string())).unwrap())
        .await
}

/// Asks for a hand-over on the root host; returns the URL.
async fn handover(api: &Api, s: &Session, body: Value) -> String {
    let reply = post_on(
        api,
        "localhost:8443",
        "/api/auth/handover",
        Some(&s.access),
        body,
    )
    .await;
    assert_eq!(reply.status, StatusCode::OK, "{:?}", reply.body);
    reply.body["url"].as_str().unwrap().to_owned()
}

fn code_of(url: &str) -> String {
    url.split_once("#code=").unwrap().1.to_owned()
}

async fn redeem(api: &Api, host: &str, code: &str) -> Reply {
    post_on(
        api,
        host,
        "/api/auth/handover/redeem",
        None,
        json!({ "code": code }),
    )
    .await
}

async fn stored_codes(api: &Api) -> i64 {
    sqlx::query_scalar("SELECT COUNT(*) FROM handover_codes")
        .fetch_one(api.state.db.pool())
        .await
        .unwrap()
}

#[tokio::test]
async fn a_code_signs_in_on_the_tenant_host_once() {
    for test_db in TestDb::both_migrated().await {
        let api = Api::new(state(test_db.db()));
        let dialect = test_db.db().dialect().name();
        let a = api.signup("alpha", "ann@alpha.example").await;
        api.signup("beta", "bob@beta.example").await;

        let url = handover(&api, &a, json!({})).await;
        // Scheme and port of development's public URL, on the tenant's host.
        assert!(
            url.starts_with("https://alpha.localhost:8443/auth/handover#code="),
            "{url}"
        );
        let code = code_of(&url);
        assert!(code.len() >= 40, "{code}");
        // Stored hashed only.
        let plain: i64 =
            sqlx::query_scalar("SELECT COUNT(*) FROM handover_codes WHERE code_hash = $1")
                .bind(&code)
                .fetch_one(api.state.db.pool())
                .await
                .unwrap();
        let hashed: i64 =
            sqlx::query_scalar("SELECT COUNT(*) FROM handover_codes WHERE code_hash = $1")
                .bind(hash_secret(&code))
                .fetch_one(api.state.db.pool())
                .await
                .unwrap();
        assert_eq!((plain, hashed), (0, 1), "{dialect}");

        // Not on the root host, nor on another tenant's: the code stays usable.
        for host in ["localhost:8443", "beta.localhost:8443", "elsewhere.example"] {
            let wrong = redeem(&api, host, &code).await;
            assert_eq!(
                wrong.status,
                StatusCode::BAD_REQUEST,
                "{host}: {:?}",
                wrong.body
            );
            assert_eq!(wrong.code(), "invalid_handover", "{host}");
        }
        assert_eq!(stored_codes(&api).await, 1);

        let signed_in = redeem(&api, "alpha.localhost:8443", &code).await;
        assert_eq!(
            signed_in.status,
            StatusCode::OK,
            "{dialect}: {:?}",
            signed_in.body
        );
        assert_eq!(signed_in.body["status"], "signed_in");
        assert_eq!(signed_in.body["organization"]["slug"], "alpha");
        assert_eq!(signed_in.body["user"]["email"], "ann@alpha.example");
        let cookies = signed_in.cookies().join("\n");
        for name in ["sw_access=", "sw_refresh=", "sw_csrf="] {
            assert!(cookies.contains(name), "{name} missing: {cookies}");
        }
        assert!(cookies.contains("HttpOnly"), "{cookies}");
        // The new session works on the tenant's host.
        let access = signed_in.body["access_token"].as_str().unwrap();
        let me = api
            .send(
                Request::builder()
                    .uri("/api/me")
                    .header(header::HOST, "alpha.localhost:8443")
                    .header(header::AUTHORIZATION, format!("Bearer {access}"))
                    .body(Body::empty())
                    .unwrap(),
            )
            .await;
        assert_eq!(me.status, StatusCode::OK, "{:?}", me.body);
        assert_eq!(me.body["organization"]["slug"], "alpha");

        // Used: a second redeem fails, and nothing is left stored.
        let again = redeem(&api, "alpha.localhost:8443", &code).await;
        assert_eq!(again.status, StatusCode::BAD_REQUEST);
        assert_eq!(again.code(), "invalid_handover");
        assert_eq!(stored_codes(&api).await, 0);

        // Two redeems at once: exactly one signs in.
        let code = code_of(&handover(&api, &a, json!({})).await);
        let (one, two) = tokio::join!(
            redeem(&api, "alpha.localhost:8443", &code),
            redeem(&api, "alpha.localhost:8443", &code)
        );
        let mut statuses = [one.status, two.status];
        statuses.sort();
        assert_eq!(
            statuses,
            [StatusCode::OK, StatusCode::BAD_REQUEST],
            "{dialect}"
        );
    }
}

#[tokio::test]
async fn expired_garbage_and_foreign_codes_are_refused() {
    for test_db in TestDb::both_migrated().await {
        let api = Api::new(state(test_db.db()));
        let a = api.signup("alpha", "ann@alpha.example").await;

        let code = code_of(&handover(&api, &a, json!({})).await);
        sqlx::query("UPDATE handover_codes SET expires_at = expires_at - 61000")
            .execute(api.state.db.pool())
            .await
            .unwrap();
        let expired = redeem(&api, "alpha.localhost:8443", &code).await;
        assert_eq!(expired.status, StatusCode::BAD_REQUEST);
        assert_eq!(expired.code(), "invalid_handover");
        assert!(
            expired.body["message"]
                .as_str()
                .unwrap()
                .contains("expired"),
            "{:?}",
            expired.body
        );

        let long = "x".repeat(10_000);
        for garbage in ["", "   ", "not-a-code", long.as_str()] {
            let reply = redeem(&api, "alpha.localhost:8443", garbage).await;
            assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{garbage:.20}");
            assert_eq!(reply.code(), "invalid_handover");
        }
        for body in [
            json!({}),
            json!({"code": 5}),
            json!({"code": "x", "extra": 1}),
        ] {
            let reply = post_on(
                &api,
                "alpha.localhost:8443",
                "/api/auth/handover/redeem",
                None,
                body.clone(),
            )
            .await;
            assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
            assert_eq!(reply.code(), "invalid_body", "{body}: {:?}", reply.body);
        }

        // Asking needs a signed-in user.
        let anonymous = post_on(
            &api,
            "localhost:8443",
            "/api/auth/handover",
            None,
            json!({}),
        )
        .await;
        assert_eq!(anonymous.status, StatusCode::UNAUTHORIZED);
        // Only for one's own organisations.
        api.signup("beta", "bob@beta.example").await;
        let beta_id: String = sqlx::query_scalar("SELECT id FROM tenants WHERE slug = 'beta'")
            .fetch_one(api.state.db.pool())
            .await
            .unwrap();
        for other in [beta_id.as_str(), "beta", "nope"] {
            let reply = post_on(
                &api,
                "localhost:8443",
                "/api/auth/handover",
                Some(&a.access),
                json!({"organization_id": other}),
            )
            .await;
            assert_eq!(reply.status, StatusCode::FORBIDDEN, "{other}");
            assert_eq!(reply.code(), "not_a_member");
        }
        // Nothing was stored by the refusals (the expired one is still there until the next issue).
        assert!(stored_codes(&api).await <= 1);
    }
}

#[tokio::test]
async fn members_of_several_organisations_name_one_and_redeem_is_rate_limited() {
    let test_db = TestDb::sqlite().await;
    test_db.db().migrations().run().await.unwrap();
    let api = Api::new(state(test_db.db()));
    let a = api.signup("alpha", "ann@alpha.example").await;
    let b = api.signup("beta", "bob@beta.example").await;
    // Ann joins beta too, and signs in on the root domain without choosing.
    api.join(&b.access, "ann@alpha.example", "member").await;
    let root_login = api
        .login("ann@alpha.example", crate::api::PASSWORD, None)
        .await;
    assert_eq!(
        root_login.body["status"], "choose_organization",
        "{:?}",
        root_login.body
    );
    let login = api
        .login("ann@alpha.example", crate::api::PASSWORD, Some("alpha"))
        .await;
    let session = Session {
        access: login.body["access_token"].as_str().unwrap().to_owned(),
        ..a.clone()
    };
    // The session's organisation by default, any of the user's by id or slug.
    assert!(
        handover(&api, &session, json!({}))
            .await
            .starts_with("https://alpha.localhost:8443/")
    );
    let url = handover(&api, &session, json!({"organization_id": b.tenant_id})).await;
    assert!(
        url.starts_with("https://beta.localhost:8443/auth/handover#code="),
        "{url}"
    );
    let to_beta = redeem(&api, "beta.localhost:8443", &code_of(&url)).await;
    assert_eq!(to_beta.status, StatusCode::OK, "{:?}", to_beta.body);
    assert_eq!(to_beta.body["organization"]["slug"], "beta");
    assert_eq!(to_beta.body["user"]["email"], "ann@alpha.example");

    // Guessing codes from one address runs into the limit.
    let mut limited = None;
    for n in 0..50 {
        let reply = redeem(&api, "alpha.localhost:8443", &format!("guess-{n}")).await;
        if reply.status == StatusCode::TOO_MANY_REQUESTS {
            limited = Some(reply);
            break;
        }
        assert_eq!(reply.code(), "invalid_handover");
    }
    let limited = limited.expect("no 429 after 50 guesses");
    assert!(limited.headers.contains_key(header::RETRY_AFTER));
}
