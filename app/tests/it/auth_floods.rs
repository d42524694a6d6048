//! Login and signup floods get 429 with `Retry-After`: from one address (its
//! window), on one account from many addresses (the account's window), and
//! from many addresses at once (the bounded password-hashing pool).

use app::test_support::app_settings;
use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use futures_util::future::join_all;
use serde_json::json;

use crate::api::{Api, PASSWORD, Reply};
use crate::helpers::{TestDb, state_with};

fn log_mailer() -> app::mail::Mailer {
    app::mail::Mailer::Log {
        include_body: false,
    }
}

fn retry_after(reply: &Reply) -> u64 {
    reply.headers[header::RETRY_AFTER]
        .to_str()
        .unwrap()
        .parse()
        .unwrap()
}

fn signup_body(slug: &str) -> serde_json::Value {
    json!({
        "organization": slug, "slug": slug,
        "email": format!("owner@{slug}.example"), "password": PASSWORD,
    })
}

/// Six signups from the client whose n-th request comes from `peer(n)`:
/// three go through, three get 429, and `other` is not affected.
async fn signup_flood_is_limited(peer: impl Fn(usize) -> String, other: &str) {
    let test_db = TestDb::sqlite().await;
    test_db.db().migrations().run().await.unwrap();
    let mut settings = app_settings(false);
    settings.auth.signup_per_ip_per_hour = 3;
    let mut api = Api::new(state_with(test_db.db(), settings, log_mailer()));
    for i in 0..3 {
        api.peer = peer(i).parse().unwrap();
        let reply = api
            .post("/api/auth/signup", None, signup_body(&format!("flood{i}")))
            .await;
        assert_eq!(reply.status, StatusCode::CREATED, "{:?}", reply.body);
    }
    for i in 3..6 {
        api.peer = peer(i).parse().unwrap();
        let limited = api
            .post("/api/auth/signup", None, signup_body(&format!("flood{i}")))
            .await;
        assert_eq!(limited.status, StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(limited.code(), "rate_limited");
        let retry = retry_after(&limited);
        assert!((3500..=3600).contains(&retry), "{retry}");
    }
    let tenants: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM tenants")
        .fetch_one(test_db.db().pool())
        .await
        .unwrap();
    assert_eq!(tenants, 3, "no tenant made past the limit");
    // Another client is not affected.
    api.peer = other.parse().unwrap();
    let other = api
        .post("/api/auth/signup", None, signup_body("elsewhere"))
        .await;
    assert_eq!(other.status, StatusCode::CREATED, "{:?}", other.body);
}

#[tokio::test]
async fn a_signup_flood_from_one_address_gets_429_with_retry_after() {
    signup_flood_is_limited(|_| "198.51.100.30:4000".into(), "198.51.100.31:4000").await;
}

#[tokio::test]
async fn a_signup_flood_rotating_through_one_ipv6_slash_64_gets_429() {
    signup_flood_is_limited(
        |n| format!("[2001:db8:7:7::{:x}]:4000", n + 1),
        "[2001:db8:7:8::1]:4000",
    )
    .await;
}

#[tokio::test]
async fn a_login_flood_on_one_account_from_many_addresses_gets_429_with_retry_after() {
    let test_db = TestDb::sqlite().await;
    test_db.db().migrations().run().await.unwrap();
    let mut settings = app_settings(false);
    settings.auth.login_per_account_per_minute = 3;
    // The lockout is tested on its own; here only the account's window stops them.
    settings.auth.lockout_threshold = 100;
    let mut api = Api::new(state_with(test_db.db(), settings, log_mailer()));
    api.signup("acme", "ann@acme.example").await;
    for i in 0..3 {
        api.peer = format!("203.0.113.{}:1", i + 1).parse().unwrap();
        let reply = api
            .login("ann@acme.example", "wrong-password-1", None)
            .await;
        assert_eq!(reply.code(), "invalid_credentials");
    }
    for i in 3..6 {
        api.peer = format!("203.0.113.{}:1", i + 1).parse().unwrap();
        let limited = api
            .login("ANN@acme.example ", "wrong-password-1", None)
            .await;
        assert_eq!(limited.status, StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(limited.code(), "rate_limited");
        assert!((1..=60).contains(&retry_after(&limited)));
    }
    // Another account is not affected.
    api.peer = "203.0.113.99:1".parse().unwrap();
    assert_eq!(
        api.login("bob@acme.example", "wrong-password-1", None)
            .await
            .code(),
        "invalid_credentials"
    );
}

/// A JSON POST from `address`, as the edge forwards it.
fn forwarded(path: &str, address: &str, body: &serde_json::Value) -> Request<Body> {
    Request::builder()
        .method(Method::POST)
        .uri(path)
        .header(header::CONTENT_TYPE, "application/json")
        .header("x-forwarded-for", address)
        .body(Body::from(body.to_string()))
        .unwrap()
}

/// A login for an unknown email from `address`, as the edge forwards it.
fn forwarded_login(address: &str, n: usize) -> Request<Body> {
    let body =
        json!({ "email": format!("nobody{n}@flood.example"), "password": "wrong-password-1" });
    forwarded("/api/auth/login", address, &body)
}

/// Twenty wrong passwords for ann sent at once, each from its own address:
/// by login, or (`by_invitation`) by accepting another organisation's
/// invitation to her address. The lockout (5) is the only limit in the way.
/// Returns how many were answered `invalid_credentials`, how many
/// `account_locked`, and the lockouts audited.
async fn guesses_at_once(by_invitation: bool) -> (usize, usize, i64) {
    let test_db = TestDb::sqlite().await;
    test_db.db().migrations().run().await.unwrap();
    let mut settings = app_settings(false);
    settings.auth.login_per_account_per_minute = 100;
    let api = Api::new(state_with(test_db.db(), settings, log_mailer()));
    api.signup("acme", "ann@acme.example").await;
    let (path, body) = if by_invitation {
        let attacker = api.signup("globex", "gil@globex.example").await;
        let token = api
            .invite(&attacker.access, "ann@acme.example", "viewer")
            .await;
        let body = json!({ "token": token, "password": "wrong-password-1" });
        ("/api/invitations/accept", body)
    } else {
        let body = json!({ "email": "ann@acme.example", "password": "wrong-password-1" });
        ("/api/auth/login", body)
    };
    let replies =
        join_all((0..20).map(|n| api.send(forwarded(path, &format!("198.18.7.{n}"), &body)))).await;
    let (mut wrong, mut locked) = (0, 0);
    for reply in &replies {
        match reply.code() {
            "invalid_credentials" => wrong += 1,
            "account_locked" => locked += 1,
            other => panic!("{path}: unexpected {other}: {:?}", reply.body),
        }
    }
    let locks: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM audit_log WHERE action = 'auth.locked'")
            .fetch_one(test_db.db().pool())
            .await
            .unwrap();
    // Locked for everyone, the right password included.
    let right = api.login("ann@acme.example", PASSWORD, None).await;
    assert_eq!(right.code(), "account_locked", "{path}");
    (wrong, locked, locks)
}

#[tokio::test]
async fn wrong_passwords_sent_at_once_are_checked_no_more_than_the_lockout_allows() {
    // Four wrong, the fifth locks; the other fifteen are refused unchecked.
    assert_eq!(guesses_at_once(false).await, (4, 16, 1));
}

#[tokio::test]
async fn an_invitation_to_someones_address_is_no_way_around_their_lockout() {
    assert_eq!(guesses_at_once(true).await, (4, 16, 1));
}

#[tokio::test]
async fn a_login_flood_from_many_addresses_is_turned_away_past_the_hashing_pool() {
    let test_db = TestDb::sqlite().await;
    test_db.db().migrations().run().await.unwrap();
    let api = Api::new(state_with(test_db.db(), app_settings(false), log_mailer()));
    // No address or account repeats, so only the pool can stop them; the
    // app believes X-Forwarded-For from its loopback peer, as from the edge.
    let capacity = app::auth::password::pool().capacity();
    let attempts = 3 * capacity;
    let replies = join_all((0..attempts).map(|n| {
        let address = format!("198.18.{}.{}", n / 256, n % 256);
        api.send(forwarded_login(&address, n))
    }))
    .await;
    let (mut wrong, mut busy) = (0, 0);
    for reply in &replies {
        match reply.status {
            StatusCode::UNAUTHORIZED => {
                assert_eq!(reply.code(), "invalid_credentials");
                wrong += 1;
            }
            StatusCode::TOO_MANY_REQUESTS => {
                assert_eq!(reply.code(), "rate_limited");
                assert_eq!(retry_after(reply), 1);
                busy += 1;
            }
            other => panic!("unexpected {other}: {:?}", reply.body),
        }
    }
    // The first `capacity` to arrive always find room; a flood three times
    // that, arriving faster than passwords hash, finds the pool full.
    assert!(wrong >= capacity, "{wrong} checked of {attempts}");
    assert!(busy > 0, "none turned away of {attempts}");
    assert_eq!(app::auth::password::pool().load(), 0);
    // Once the flood has passed, logins are checked again.
    let after = api.send(forwarded_login("198.51.100.77", attempts)).await;
    assert_eq!(after.code(), "invalid_credentials");
}

/// Every route that hashes or checks a password, with what it needs to get that far.
async fn password_routes(api: &Api) -> Vec<(&'static str, serde_json::Value)> {
    let owner = api.signup("acme", "ann@acme.example").await;
    let invitation = api
        .invite(&owner.access, "bob@acme.example", "viewer")
        .await;
    let changed_at: i64 = sqlx::query_scalar("SELECT password_changed_at FROM users WHERE id = $1")
        .bind(&owner.user_id)
        .fetch_one(api.state.db.pool())
        .await
        .unwrap();
    let reset = app::auth::links::reset_token(&api.state.keys, &owner.user_id, changed_at);
    vec![
        ("/api/auth/signup", signup_body("globex")),
        (
            "/api/auth/login",
            json!({ "email": "ann@acme.example", "password": PASSWORD }),
        ),
        (
            "/api/auth/password-reset/confirm",
            json!({ "token": reset, "password": "new-marmalade-sky-7" }),
        ),
        (
            "/api/invitations/accept",
            json!({ "token": invitation, "password": PASSWORD }),
        ),
    ]
}

#[tokio::test]
async fn every_route_that_checks_a_password_answers_a_documented_429_while_hashing_is_full() {
    let test_db = TestDb::sqlite().await;
    test_db.db().migrations().run().await.unwrap();
    let api = Api::new(state_with(test_db.db(), app_settings(false), log_mailer()));
    let routes = password_routes(&api).await;
    let doc =
        serde_json::to_value(<app::http::openapi::ApiDoc as utoipa::OpenApi>::openapi()).unwrap();

    // Fill every place of the pool with jobs that wait for the write lock.
    let pool = app::auth::password::pool();
    let gate = std::sync::Arc::new(tokio::sync::RwLock::new(()));
    let held = gate.write().await;
    let fillers: Vec<_> = (0..pool.capacity())
        .map(|_| {
            let gate = std::sync::Arc::clone(&gate);
            tokio::spawn(async move { pool.run(move || drop(gate.blocking_read())).await })
        })
        .collect();
    while pool.load() < pool.capacity() {
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }

    for (path, body) in &routes {
        let reply = api.post(path, None, body.clone()).await;
        assert_eq!(
            reply.status,
            StatusCode::TOO_MANY_REQUESTS,
            "{path}: {:?}",
            reply.body
        );
        assert_eq!(reply.code(), "rate_limited", "{path}");
        assert_eq!(retry_after(&reply), 1, "{path}");
        let documented = &doc["paths"][path]["post"]["responses"]["429"]["content"]["application/json"]
            ["schema"]["$ref"];
        assert_eq!(
            documented, "#/components/schemas/ErrorBody",
            "{path} answers 429 but does not document it"
        );
    }

    drop(held);
    for filler in fillers {
        filler.await.unwrap().unwrap();
    }
    // Nothing was changed by the refused calls: each goes through now.
    for (path, body) in &routes {
        let reply = api.post(path, None, body.clone()).await;
        assert!(reply.status.is_success(), "{path}: {:?}", reply.body);
    }
}
