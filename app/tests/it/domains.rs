//! Custom domains: registration, the DNS proof through a real DNS server, and refusals.

use app::mail::Mailer;
use app::test_support::{ChallTestSrv, app_settings};
use axum::http::{Method, StatusCode};
use serde_json::json;

use crate::api::Api;
use crate::helpers::{TestDb, state_with};

async fn setup(dns: &ChallTestSrv) -> (TestDb, Api) {
    let test_db = TestDb::sqlite().await;
    test_db.db().migrations().run().await.unwrap();
    let mut settings = app_settings(false);
    settings.tenancy.dns_server = Some(dns.dns);
    let api = Api::new(state_with(
        test_db.db(),
        settings,
        Mailer::Log {
            include_body: false,
        },
    ));
    (test_db, api)
}

#[tokio::test]
async fn a_cname_to_the_tenant_subdomain_verifies_a_domain() {
    let dns = ChallTestSrv::start();
    let (_db, api) = setup(&dns).await;
    let owner = api.signup("acme", "ann@acme.example").await;
    let added = api
        .post(
            "/api/domains",
            Some(&owner.access),
            json!({ "hostname": "Status.Acme.example." }),
        )
        .await;
    assert_eq!(added.status, StatusCode::CREATED, "{:?}", added.body);
    assert_eq!(added.body["hostname"], "status.acme.example");
    assert!(added.body["verified_at"].is_null());
    let records = added.body["dns_records"].as_array().unwrap();
    assert_eq!(records[0]["type"], "CNAME");
    assert_eq!(records[0]["value"], "acme.localhost");
    assert_eq!(
        records[1]["name"],
        "_statuswatch-verify.status.acme.example"
    );
    let id = added.body["id"].as_str().unwrap();

    let early = api
        .post(
            &format!("/api/domains/{id}/verify"),
            Some(&owner.access),
            json!({}),
        )
        .await;
    assert_eq!(early.status, StatusCode::CONFLICT);
    assert_eq!(early.code(), "not_verified");
    assert!(
        early.body["message"]
            .as_str()
            .unwrap()
            .contains("want acme.localhost"),
        "{:?}",
        early.body
    );
    let unverified: Option<String> =
        app::tenancy::store::tenant_for_host(&api.state.db, "status.acme.example")
            .await
            .unwrap();
    assert_eq!(
        unverified, None,
        "an unverified domain must not resolve to its tenant"
    );

    // A CNAME to someone else's subdomain proves nothing.
    dns.set_cname("status.acme.example", "other.localhost");
    let wrong = api
        .post(
            &format!("/api/domains/{id}/verify"),
            Some(&owner.access),
            json!({}),
        )
        .await;
    assert_eq!(wrong.code(), "not_verified");

    dns.set_cname("status.acme.example", "acme.localhost");
    let verified = api
        .post(
            &format!("/api/domains/{id}/verify"),
            Some(&owner.access),
            json!({}),
        )
        .await;
    assert_eq!(verified.status, StatusCode::OK, "{:?}", verified.body);
    assert!(verified.body["verified_at"].is_i64());
    assert!(verified.body.get("dns_records").is_none());
    let owner_of = app::tenancy::store::tenant_for_host(&api.state.db, "status.acme.example")
        .await
        .unwrap();
    assert_eq!(owner_of.as_deref(), Some(owner.tenant_id.as_str()));
}

#[tokio::test]
async fn a_txt_token_verifies_a_domain() {
    let dns = ChallTestSrv::start();
    let (_db, api) = setup(&dns).await;
    let owner = api.signup("acme", "ann@acme.example").await;
    let added = api
        .post(
            "/api/domains",
            Some(&owner.access),
            json!({ "hostname": "uptime.acme.example" }),
        )
        .await;
    let id = added.body["id"].as_str().unwrap();
    let token = added.body["dns_records"][1]["value"].as_str().unwrap();
    dns.set_txt(
        "_statuswatch-verify.uptime.acme.example",
        "sw-verify=someone-elses-token",
    );
    assert_eq!(
        api.post(
            &format!("/api/domains/{id}/verify"),
            Some(&owner.access),
            json!({})
        )
        .await
        .code(),
        "not_verified"
    );
    dns.set_txt("_statuswatch-verify.uptime.acme.example", token);
    let verified = api
        .post(
            &format!("/api/domains/{id}/verify"),
            Some(&owner.access),
            json!({}),
        )
        .await;
    assert_eq!(verified.status, StatusCode::OK, "{:?}", verified.body);
}

#[tokio::test]
async fn bad_taken_and_fixed_domains_are_refused() {
    let dns = ChallTestSrv::start();
    let (_db, api) = setup(&dns).await;
    let owner = api.signup("acme", "ann@acme.example").await;
    for bad in [
        "",
        "localhost",
        "10.1.2.3",
        "beta.localhost",
        "no_underscores.example",
        "single",
        "a..b.example",
    ] {
        let reply = api
            .post(
                "/api/domains",
                Some(&owner.access),
                json!({ "hostname": bad }),
            )
            .await;
        assert_eq!(
            reply.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{bad}: {:?}",
            reply.body
        );
        assert_eq!(reply.body["field"], "hostname");
    }
    assert_eq!(
        api.post(
            "/api/domains",
            Some(&owner.access),
            json!({ "hostname": "s.acme.example" })
        )
        .await
        .status,
        StatusCode::CREATED
    );
    let beta = api.signup("beta", "bob@beta.example").await;
    let taken = api
        .post(
            "/api/domains",
            Some(&beta.access),
            json!({ "hostname": "s.acme.example" }),
        )
        .await;
    assert_eq!(taken.status, StatusCode::CONFLICT);
    assert_eq!(taken.code(), "hostname_taken");

    let list = api.get("/api/domains", Some(&owner.access)).await;
    let subdomain = list
        .body
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["kind"] == "subdomain")
        .unwrap();
    let id = subdomain["id"].as_str().unwrap();
    let fixed = api
        .call(
            Method::DELETE,
            &format!("/api/domains/{id}"),
            Some(&owner.access),
            None,
        )
        .await;
    assert_eq!(fixed.status, StatusCode::CONFLICT);
    assert_eq!(fixed.code(), "subdomain_fixed");
}
