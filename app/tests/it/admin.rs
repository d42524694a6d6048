//! The platform admin API: superusers only; suspension stops a tenant without deleting anything.

use app::tenancy::store::{set_superuser, user_by_email};
use axum::http::StatusCode;
use serde_json::json;

use crate::api::{Api, PASSWORD};
use crate::helpers::{TestDb, state};

#[tokio::test]
async fn superusers_search_suspend_and_resume_with_an_audit_trail() {
    for test_db in TestDb::both_migrated().await {
        let api = Api::new(state(test_db.db()));
        let acme = api.signup("acme", "ann@acme.example").await;
        api.signup("beta-labs", "bob@beta.example").await;

        assert_eq!(
            api.get("/admin/api/tenants", Some(&acme.access))
                .await
                .code(),
            "superuser_required"
        );
        let root = user_by_email(test_db.db(), "bob@beta.example")
            .await
            .unwrap()
            .unwrap();
        set_superuser(test_db.db(), &root.id, true).await.unwrap();
        let admin = api.login("bob@beta.example", PASSWORD, None).await.body["access_token"]
            .as_str()
            .unwrap()
            .to_owned();

        let all = api.get("/admin/api/tenants", Some(&admin)).await;
        assert_eq!(all.status, StatusCode::OK);
        assert_eq!(all.body.as_array().unwrap().len(), 2);
        let found = api.get("/admin/api/tenants?q=LABS", Some(&admin)).await;
        assert_eq!(found.body.as_array().unwrap().len(), 1);
        assert_eq!(found.body[0]["slug"], "beta-labs");
        assert_eq!(found.body[0]["domain"], "beta-labs.localhost");
        let wildcard = api.get("/admin/api/tenants?q=%25", Some(&admin)).await;
        assert_eq!(
            wildcard.body.as_array().unwrap().len(),
            0,
            "`%` must be literal"
        );
        assert_eq!(
            api.get("/admin/api/tenants?limit=0", Some(&admin))
                .await
                .status,
            StatusCode::UNPROCESSABLE_ENTITY
        );
        assert_eq!(
            api.get("/admin/api/tenants?limit=abc", Some(&admin))
                .await
                .code(),
            "invalid"
        );

        let suspended = api
            .post("/admin/api/tenants/acme/suspend", Some(&admin), json!({}))
            .await;
        assert_eq!(suspended.status, StatusCode::OK, "{:?}", suspended.body);
        assert_eq!(suspended.body["status"], "suspended");
        let refused = api.get("/api/members", Some(&acme.access)).await;
        assert_eq!(refused.status, StatusCode::FORBIDDEN);
        assert_eq!(refused.code(), "tenant_suspended");

        let site = |host: &'static str| {
            axum::http::Request::get("/api/site")
                .header("host", host)
                .body(axum::body::Body::empty())
                .unwrap()
        };
        let notice = api.send(site("acme.localhost:8443")).await;
        assert_eq!(notice.body["tenant"]["slug"], "acme");
        assert_eq!(notice.body["tenant"]["suspended"], true);
        assert_eq!(
            api.send(site("unknown.localhost")).await.body["tenant"],
            serde_json::Value::Null
        );

        let resumed = api
            .post(
                &format!("/admin/api/tenants/{}/resume", acme.tenant_id),
                Some(&admin),
                json!({}),
            )
            .await;
        assert_eq!(resumed.body["status"], "active");
        let members = api.get("/api/members", Some(&acme.access)).await;
        assert_eq!(
            members.status,
            StatusCode::OK,
            "nothing was deleted: {:?}",
            members.body
        );
        assert_eq!(members.body.as_array().unwrap().len(), 1);
        assert_eq!(
            api.send(site("acme.localhost")).await.body["tenant"]["suspended"],
            false
        );

        let log = api
            .get(
                &format!("/admin/api/audit-log?tenant_id={}", acme.tenant_id),
                Some(&admin),
            )
            .await;
        let actions: Vec<&str> = log
            .body
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["action"].as_str().unwrap())
            .collect();
        assert!(
            actions.starts_with(&["tenant.resume", "tenant.suspend"]),
            "{actions:?}"
        );
        assert!(actions.contains(&"tenant.signup"), "{actions:?}");
        assert_eq!(
            api.post("/admin/api/tenants/nope/suspend", Some(&admin), json!({}))
                .await
                .status,
            StatusCode::NOT_FOUND
        );
    }
}
