//! Roles and membership: the last owner stays, owners alone manage ownership, API keys.

use app::auth::api_key::LAST_USED_PRECISION_MS;
use axum::http::{Method, StatusCode};
use serde_json::json;

use crate::api::Api;
use crate::helpers::{TestDb, state};

#[tokio::test]
async fn the_last_owner_cannot_leave_or_be_demoted() {
    for test_db in TestDb::both_migrated().await {
        let api = Api::new(state(test_db.db()));
        let owner = api.signup("acme", "ann@acme.example").await;
        let me = format!("/api/members/{}", owner.user_id);
        let demote = api
            .call(
                Method::PATCH,
                &me,
                Some(&owner.access),
                Some(json!({ "role": "admin" })),
            )
            .await;
        assert_eq!(demote.status, StatusCode::CONFLICT);
        assert_eq!(demote.code(), "last_owner");
        let remove = api
            .call(Method::DELETE, &me, Some(&owner.access), None)
            .await;
        assert_eq!(remove.code(), "last_owner");

        let (admin_id, admin_token) = api.join(&owner.access, "adam@acme.example", "admin").await;
        // Admins cannot touch owners or make owners.
        assert_eq!(
            api.call(Method::DELETE, &me, Some(&admin_token), None)
                .await
                .code(),
            "owners_only"
        );
        let self_promote = api
            .call(
                Method::PATCH,
                &format!("/api/members/{admin_id}"),
                Some(&admin_token),
                Some(json!({ "role": "owner" })),
            )
            .await;
        assert_eq!(self_promote.code(), "owners_only");
        // Owners can; then the first owner may step down.
        let promote = api
            .call(
                Method::PATCH,
                &format!("/api/members/{admin_id}"),
                Some(&owner.access),
                Some(json!({ "role": "owner" })),
            )
            .await;
        assert_eq!(promote.status, StatusCode::NO_CONTENT);
        assert_eq!(
            api.call(
                Method::PATCH,
                &me,
                Some(&owner.access),
                Some(json!({ "role": "viewer" }))
            )
            .await
            .status,
            StatusCode::NO_CONTENT
        );
        let bad_role = api
            .call(
                Method::PATCH,
                &me,
                Some(&admin_token),
                Some(json!({ "role": "god" })),
            )
            .await;
        assert_eq!(bad_role.status, StatusCode::UNPROCESSABLE_ENTITY);
    }
}

#[tokio::test]
async fn removed_members_lose_access_at_once() {
    let test_db = TestDb::sqlite().await;
    test_db.db().migrations().run().await.unwrap();
    let api = Api::new(state(test_db.db()));
    let owner = api.signup("acme", "ann@acme.example").await;
    let (member_id, member_token) = api.join(&owner.access, "mo@acme.example", "member").await;
    assert_eq!(
        api.get("/api/members", Some(&member_token)).await.status,
        StatusCode::OK
    );
    let removed = api
        .call(
            Method::DELETE,
            &format!("/api/members/{member_id}"),
            Some(&owner.access),
            None,
        )
        .await;
    assert_eq!(removed.status, StatusCode::NO_CONTENT);
    let after = api.get("/api/members", Some(&member_token)).await;
    assert_eq!(after.status, StatusCode::UNAUTHORIZED);
}

async fn last_used(db: &app::db::Database) -> Option<i64> {
    sqlx::query_scalar("SELECT last_used_at FROM api_keys")
        .fetch_one(db.pool())
        .await
        .unwrap()
}

async fn set_last_used(db: &app::db::Database, at: i64) {
    sqlx::query("UPDATE api_keys SET last_used_at = $1")
        .bind(at)
        .execute(db.pool())
        .await
        .unwrap();
}

#[tokio::test]
async fn api_keys_are_shown_once_scoped_and_revocable() {
    for test_db in TestDb::both_migrated().await {
        let api = Api::new(state(test_db.db()));
        let owner = api.signup("acme", "ann@acme.example").await;
        let created = api
            .post(
                "/api/api-keys",
                Some(&owner.access),
                json!({ "name": "deploy bot", "scope": "read" }),
            )
            .await;
        assert_eq!(created.status, StatusCode::CREATED, "{:?}", created.body);
        let secret = created.body["secret"].as_str().unwrap().to_owned();
        assert!(secret.starts_with(&format!("sw_{}_", created.body["prefix"].as_str().unwrap())));
        let listed = api.get("/api/api-keys", Some(&owner.access)).await;
        assert!(
            !listed.body.to_string().contains(&secret[16..]),
            "secret listed"
        );
        let stored: String = sqlx::query_scalar("SELECT secret_hash FROM api_keys")
            .fetch_one(test_db.db().pool())
            .await
            .unwrap();
        assert!(
            !secret.contains(&stored) && !stored.contains(&secret[16..]),
            "secret stored in clear"
        );

        assert_eq!(
            api.get("/api/domains", Some(&secret)).await.status,
            StatusCode::OK
        );
        // Use is recorded to the minute: a write at most once a minute per key.
        let db = test_db.db();
        let first = last_used(db).await.expect("use recorded");
        let recent = first - LAST_USED_PRECISION_MS / 2;
        set_last_used(db, recent).await;
        api.get("/api/domains", Some(&secret)).await;
        assert_eq!(
            last_used(db).await,
            Some(recent),
            "written again within the minute"
        );
        set_last_used(db, first - LAST_USED_PRECISION_MS).await;
        api.get("/api/domains", Some(&secret)).await;
        assert!(
            last_used(db).await.unwrap() >= first,
            "not written after a minute"
        );
        let listed = api.get("/api/api-keys", Some(&owner.access)).await;
        assert!(listed.body[0]["last_used_at"].as_i64().unwrap() >= first);
        let write = api
            .post(
                "/api/domains",
                Some(&secret),
                json!({ "hostname": "x.acme.example" }),
            )
            .await;
        assert_eq!(write.code(), "insufficient_role");
        // Keys are not sessions.
        assert_eq!(
            api.get("/api/me", Some(&secret)).await.status,
            StatusCode::FORBIDDEN
        );

        let tampered = format!("{}x", &secret[..secret.len() - 1]);
        assert_eq!(
            api.get("/api/domains", Some(&tampered)).await.code(),
            "invalid_api_key"
        );
        let id = created.body["id"].as_str().unwrap();
        assert_eq!(
            api.call(
                Method::DELETE,
                &format!("/api/api-keys/{id}"),
                Some(&owner.access),
                None
            )
            .await
            .status,
            StatusCode::NO_CONTENT
        );
        assert_eq!(
            api.get("/api/domains", Some(&secret)).await.code(),
            "invalid_api_key"
        );
        for bad in [
            json!({ "name": "", "scope": "read" }),
            json!({ "name": "x", "scope": "admin" }),
        ] {
            assert_eq!(
                api.post("/api/api-keys", Some(&owner.access), bad)
                    .await
                    .status,
                StatusCode::UNPROCESSABLE_ENTITY
            );
        }
    }
}
