//! Mails through a real SMTP server: email verification, password reset, invitations.

use app::mail::Mailer;
use app::test_support::{SmtpSink, app_settings, token_in};
use axum::http::StatusCode;
use serde_json::json;

use crate::api::{Api, PASSWORD};
use crate::helpers::{TestDb, state_with};

async fn setup() -> (TestDb, SmtpSink, Api) {
    let test_db = TestDb::sqlite().await;
    test_db.db().migrations().run().await.unwrap();
    let sink = SmtpSink::start();
    let mailer = Mailer::from_config(&sink.email_config(), false).unwrap();
    let api = Api::new(state_with(test_db.db(), app_settings(false), mailer));
    (test_db, sink, api)
}

#[tokio::test]
async fn signup_mails_a_verification_link_that_works_once_for_that_address() {
    let (_db, sink, api) = setup().await;
    let session = api.signup("acme", "ann@acme.example").await;
    let mail = sink
        .wait_for("ann@acme.example", "/verify-email?token=")
        .await;
    assert!(mail.contains("Subject: Confirm your email"), "{mail}");
    assert!(
        mail.contains("https://localhost:8443/verify-email?token="),
        "{mail}"
    );
    let token = token_in(&mail);

    let tampered = format!("{}x", &token[..token.len() - 1]);
    let bad = api
        .post("/api/auth/verify-email", None, json!({ "token": tampered }))
        .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    assert_eq!(bad.code(), "invalid_link");

    let good = api
        .post("/api/auth/verify-email", None, json!({ "token": token }))
        .await;
    assert_eq!(good.status, StatusCode::OK, "{:?}", good.body);
    let me = api.get("/api/me", Some(&session.access)).await;
    assert_eq!(me.body["user"]["email_verified"], true);

    // A reset link is not a verification link.
    let wrong_kind = app::auth::links::reset_token(&api.state.keys, &session.user_id, 0);
    let reply = api
        .post(
            "/api/auth/verify-email",
            None,
            json!({ "token": wrong_kind }),
        )
        .await;
    assert_eq!(reply.code(), "invalid_link");
}

#[tokio::test]
async fn password_reset_by_mail_changes_the_password_and_ends_sessions() {
    let (_db, sink, api) = setup().await;
    let session = api.signup("acme", "ann@acme.example").await;

    let unknown = api
        .post(
            "/api/auth/password-reset",
            None,
            json!({ "email": "nobody@acme.example" }),
        )
        .await;
    let known = api
        .post(
            "/api/auth/password-reset",
            None,
            json!({ "email": "Ann@acme.example" }),
        )
        .await;
    assert_eq!(unknown.status, StatusCode::ACCEPTED);
    assert_eq!(known.status, StatusCode::ACCEPTED);
    let mail = sink
        .wait_for("ann@acme.example", "/reset-password?token=")
        .await;
    let token = token_in(&mail);

    let weak = api
        .post(
            "/api/auth/password-reset/confirm",
            None,
            json!({ "token": token, "password": "123456" }),
        )
        .await;
    assert_eq!(weak.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(weak.body["field"], "password");

    let done = api
        .post(
            "/api/auth/password-reset/confirm",
            None,
            json!({ "token": token, "password": "new-marmalade-sky-7" }),
        )
        .await;
    assert_eq!(done.status, StatusCode::OK, "{:?}", done.body);
    assert_eq!(
        api.get("/api/me", Some(&session.access)).await.code(),
        "session_revoked"
    );
    assert_eq!(
        api.login("ann@acme.example", PASSWORD, None).await.status,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        api.login("ann@acme.example", "new-marmalade-sky-7", None)
            .await
            .status,
        StatusCode::OK
    );

    let again = api
        .post(
            "/api/auth/password-reset/confirm",
            None,
            json!({ "token": token, "password": "another-pass-phrase-9" }),
        )
        .await;
    assert_eq!(again.status, StatusCode::BAD_REQUEST);
    assert_eq!(again.code(), "invalid_link");
    assert!(
        sink.messages()
            .iter()
            .all(|m| !m.contains("nobody@acme.example")),
        "mailed an unknown address"
    );
}

#[tokio::test]
async fn invitations_arrive_by_mail_and_make_members() {
    let (_db, sink, api) = setup().await;
    let owner = api.signup("acme", "ann@acme.example").await;
    let invited = api
        .post(
            "/api/invitations",
            Some(&owner.access),
            json!({ "email": "Cy@Example.org", "role": "member" }),
        )
        .await;
    assert_eq!(invited.status, StatusCode::CREATED, "{:?}", invited.body);
    let mail = sink
        .wait_for("cy@example.org", "/accept-invite?token=")
        .await;
    assert!(mail.contains("acme Inc"), "{mail}");
    let token = token_in(&mail);

    let weak = api
        .post(
            "/api/invitations/accept",
            None,
            json!({ "token": token, "password": "short" }),
        )
        .await;
    assert_eq!(weak.status, StatusCode::UNPROCESSABLE_ENTITY);
    let joined = api
        .post(
            "/api/invitations/accept",
            None,
            json!({ "token": token, "password": PASSWORD }),
        )
        .await;
    assert_eq!(joined.status, StatusCode::OK, "{:?}", joined.body);
    assert_eq!(joined.body["organization"]["role"], "member");
    assert_eq!(joined.body["user"]["email_verified"], true);
    let reused = api
        .post(
            "/api/invitations/accept",
            None,
            json!({ "token": token, "password": PASSWORD }),
        )
        .await;
    assert_eq!(reused.code(), "invalid_invitation");

    let members = api.get("/api/members", Some(&owner.access)).await;
    let emails: Vec<&str> = members
        .body
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["email"].as_str().unwrap())
        .collect();
    assert_eq!(emails, ["ann@acme.example", "cy@example.org"]);

    // Someone with an account joins a second organisation with their own password.
    let beta = api.signup("beta", "bob@beta.example").await;
    api.post(
        "/api/invitations",
        Some(&beta.access),
        json!({ "email": "ann@acme.example", "role": "viewer" }),
    )
    .await;
    let mail = sink
        .wait_for("ann@acme.example", "/accept-invite?token=")
        .await;
    let token = token_in(&mail);
    let wrong = api
        .post(
            "/api/invitations/accept",
            None,
            json!({ "token": token, "password": "not-her-password" }),
        )
        .await;
    assert_eq!(wrong.code(), "invalid_credentials");
    let ok = api
        .post(
            "/api/invitations/accept",
            None,
            json!({ "token": token, "password": PASSWORD }),
        )
        .await;
    assert_eq!(ok.body["organization"]["slug"], "beta");
}
