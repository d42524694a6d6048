//! Walks the route table: tenant isolation, role enforcement and OpenAPI
//! coverage hold for every route, including routes added later.

use std::collections::BTreeSet;

use app::auth::Role;
use app::http::route_table;
use app::http::routes::{Access, RouteInfo};
use axum::http::{Method, StatusCode};
use serde_json::{Value, json};

use crate::api::{Api, Session};
use crate::helpers::{TestDb, state};

fn routes(api: &Api) -> Vec<RouteInfo> {
    route_table(api.state.clone()).1
}

/// Fills every `{param}` of `path` with `value`.
fn fill(path: &str, value: &str) -> String {
    crate::helpers::fill_path(path, |_| value.to_owned())
}

/// A body that would make the handler act if it were let through.
fn body_for(method: &Method) -> Option<Value> {
    match *method {
        Method::PATCH => Some(json!({ "role": "viewer" })),
        Method::POST | Method::PUT => Some(json!({})),
        _ => None,
    }
}

/// Tenant B with one of every kind of resource; returns its session and all its ids.
async fn populated_tenant(api: &Api) -> (Session, Vec<String>) {
    let b = api.signup("beta", "bob@beta.example").await;
    let invite = api
        .post(
            "/api/invitations",
            Some(&b.access),
            json!({ "email": "carol@beta.example", "role": "member" }),
        )
        .await;
    assert_eq!(invite.status, StatusCode::CREATED, "{:?}", invite.body);
    let key = api
        .post(
            "/api/api-keys",
            Some(&b.access),
            json!({ "name": "ci", "scope": "write" }),
        )
        .await;
    assert_eq!(key.status, StatusCode::CREATED, "{:?}", key.body);
    let domain = api
        .post(
            "/api/domains",
            Some(&b.access),
            json!({ "hostname": "status.beta.example" }),
        )
        .await;
    assert_eq!(domain.status, StatusCode::CREATED, "{:?}", domain.body);
    let monitor = api
        .post(
            "/api/monitors",
            Some(&b.access),
            json!({ "name": "B site", "kind": "tcp", "host": "db.beta.example", "port": 5432 }),
        )
        .await;
    assert_eq!(monitor.status, StatusCode::CREATED, "{:?}", monitor.body);
    let channel = api
        .post(
            "/api/alert-channels",
            Some(&b.access),
            json!({ "name": "B ops", "kind": "email", "to": "ops@beta.example" }),
        )
        .await;
    assert_eq!(channel.status, StatusCode::CREATED, "{:?}", channel.body);
    let window = api
        .post(
            "/api/maintenance-windows",
            Some(&b.access),
            json!({ "title": "B upgrade", "starts_at": 0, "ends_at": i64::MAX / 2 - 1 }),
        )
        .await;
    // A window of more than 30 days is refused; a valid one follows.
    assert_eq!(window.status, StatusCode::UNPROCESSABLE_ENTITY);
    let now = app::clock::now_ms();
    let window = api
        .post(
            "/api/maintenance-windows",
            Some(&b.access),
            json!({ "title": "B upgrade", "starts_at": now, "ends_at": now + 3_600_000 }),
        )
        .await;
    assert_eq!(window.status, StatusCode::CREATED, "{:?}", window.body);
    // A second member, who is not in tenant A.
    let dave: (String,) = (app::clock::new_id(),);
    sqlx::query("INSERT INTO users (id, email, password_hash, created_at) VALUES ($1, 'dave@beta.example', '!', 0)")
        .bind(&dave.0)
        .execute(api.state.db.pool())
        .await
        .unwrap();
    sqlx::query("INSERT INTO memberships (tenant_id, user_id, role, created_at) VALUES ($1, $2, 'member', 0)")
        .bind(&b.tenant_id)
        .bind(&dave.0)
        .execute(api.state.db.pool())
        .await
        .unwrap();
    let subdomain: String =
        sqlx::query_scalar("SELECT id FROM domains WHERE tenant_id = $1 AND kind = 'subdomain'")
            .bind(&b.tenant_id)
            .fetch_one(api.state.db.pool())
            .await
            .unwrap();
    let status_ids =
        crate::status_admin::populate(api, &b, monitor.body["id"].as_str().unwrap()).await;
    let mut ids = vec![
        b.tenant_id.clone(),
        b.user_id.clone(),
        dave.0,
        invite.body["id"].as_str().unwrap().to_owned(),
        key.body["id"].as_str().unwrap().to_owned(),
        domain.body["id"].as_str().unwrap().to_owned(),
        subdomain,
        monitor.body["id"].as_str().unwrap().to_owned(),
        channel.body["id"].as_str().unwrap().to_owned(),
        window.body["id"].as_str().unwrap().to_owned(),
    ];
    ids.extend(status_ids);
    (b, ids)
}

async fn snapshot(api: &Api, tenant_id: &str) -> Vec<i64> {
    let mut counts = Vec::new();
    for sql in [
        "SELECT COUNT(*) FROM memberships WHERE tenant_id = $1",
        "SELECT COUNT(*) FROM invitations WHERE tenant_id = $1",
        "SELECT COUNT(*) FROM api_keys WHERE tenant_id = $1 AND revoked_at IS NULL",
        "SELECT COUNT(*) FROM domains WHERE tenant_id = $1",
        "SELECT COUNT(*) FROM domains WHERE tenant_id = $1 AND verified_at IS NOT NULL",
        "SELECT COUNT(*) FROM memberships WHERE tenant_id = $1 AND role = 'viewer'",
        "SELECT COUNT(*) FROM monitors WHERE tenant_id = $1",
        "SELECT COUNT(*) FROM monitors WHERE tenant_id = $1 AND name = 'B site'",
        "SELECT COUNT(*) FROM alert_channels WHERE tenant_id = $1",
        "SELECT COUNT(*) FROM maintenance_windows WHERE tenant_id = $1",
        "SELECT COUNT(*) FROM alert_deliveries WHERE tenant_id = $1",
        "SELECT COUNT(*) FROM status_pages WHERE tenant_id = $1 AND title = 'B status'",
        "SELECT COUNT(*) FROM status_components WHERE tenant_id = $1 AND name = 'B api'",
        "SELECT COUNT(*) FROM status_component_groups WHERE tenant_id = $1 AND name = 'B core'",
        "SELECT COUNT(*) FROM status_incidents WHERE tenant_id = $1 AND title = 'B outage'",
        "SELECT COUNT(*) FROM status_incident_updates WHERE tenant_id = $1",
    ] {
        counts.push(
            sqlx::query_scalar(sql)
                .bind(tenant_id)
                .fetch_one(api.state.db.pool())
                .await
                .unwrap(),
        );
    }
    counts
}

#[tokio::test]
async fn no_route_reaches_another_tenants_resources() {
    for test_db in TestDb::both_migrated().await {
        let api = Api::new(state(test_db.db()));
        let a = api.signup("alpha", "ann@alpha.example").await;
        let (b, b_ids) = populated_tenant(&api).await;
        let before = snapshot(&api, &b.tenant_id).await;
        let mut walked = 0;
        for route in routes(&api) {
            match route.access {
                Access::Tenant(_) if route.path.contains('{') => {
                    for id in &b_ids {
                        let path = fill(route.path, id);
                        let reply = api
                            .call(
                                route.method.clone(),
                                &path,
                                Some(&a.access),
                                body_for(&route.method),
                            )
                            .await;
                        assert!(
                            matches!(reply.status, StatusCode::NOT_FOUND | StatusCode::FORBIDDEN),
                            "{} {path} as tenant A answered {}: {:?}",
                            route.method,
                            reply.status,
                            reply.body
                        );
                        walked += 1;
                    }
                }
                Access::Tenant(_) if route.method == Method::GET => {
                    let reply = api.get(route.path, Some(&a.access)).await;
                    assert_eq!(
                        reply.status,
                        StatusCode::OK,
                        "{}: {:?}",
                        route.path,
                        reply.body
                    );
                    let text = reply.body.to_string();
                    for id in &b_ids {
                        assert!(
                            !text.contains(id.as_str()),
                            "{} leaks tenant B's {id}: {text}",
                            route.path
                        );
                    }
                    assert!(
                        !text.contains("beta"),
                        "{} leaks tenant B: {text}",
                        route.path
                    );
                    walked += 1;
                }
                Access::Superuser => {
                    let path = fill(route.path, &b.tenant_id);
                    let reply = api
                        .call(
                            route.method.clone(),
                            &path,
                            Some(&a.access),
                            body_for(&route.method),
                        )
                        .await;
                    assert_eq!(
                        reply.status,
                        StatusCode::FORBIDDEN,
                        "{path}: {:?}",
                        reply.body
                    );
                    walked += 1;
                }
                _ => {}
            }
        }
        assert!(walked > 30, "walked only {walked} requests");
        assert_eq!(
            snapshot(&api, &b.tenant_id).await,
            before,
            "tenant B's data changed"
        );
    }
}

/// A handler taking a `TenantCaller` on a route without a tenant rule would
/// answer 500: every route, called by the tenant's owner, answers without one.
#[tokio::test]
async fn every_route_takes_what_its_rule_hands_it() {
    let test_db = TestDb::sqlite().await;
    test_db.db().migrations().run().await.unwrap();
    let api = Api::new(state(test_db.db()));
    let owner = api.signup("alpha", "ann@alpha.example").await;
    let mut routes = routes(&api);
    // Signing out last, so every other route sees a live session.
    routes.sort_by_key(|r| r.path == "/api/auth/logout");
    let mut checked = 0;
    for route in routes {
        let path = fill(route.path, "00000000-0000-0000-0000-000000000000");
        let reply = api
            .call(
                route.method.clone(),
                &path,
                Some(&owner.access),
                body_for(&route.method),
            )
            .await;
        assert!(
            !reply.status.is_server_error(),
            "{} {path}: {} {:?}",
            route.method,
            reply.status,
            reply.body
        );
        checked += 1;
    }
    assert!(checked > 80, "only {checked} routes checked");
}

#[tokio::test]
async fn every_role_rule_is_enforced() {
    let test_db = TestDb::sqlite().await;
    test_db.db().migrations().run().await.unwrap();
    let api = Api::new(state(test_db.db()));
    let owner = api.signup("alpha", "ann@alpha.example").await;
    let mut sessions = Vec::new();
    for role in [Role::Viewer, Role::Member, Role::Admin] {
        let email = format!("{}@alpha.example", role.as_str());
        let (_, access) = api.join(&owner.access, &email, role.as_str()).await;
        sessions.push((role, access));
    }
    for scope in ["read", "write"] {
        let key = api
            .post(
                "/api/api-keys",
                Some(&owner.access),
                json!({ "name": scope, "scope": scope }),
            )
            .await;
        let role = if scope == "read" {
            Role::Viewer
        } else {
            Role::Member
        };
        sessions.push((role, key.body["secret"].as_str().unwrap().to_owned()));
    }
    let mut refused = 0;
    for route in routes(&api) {
        let Access::Tenant(needed) = route.access else {
            continue;
        };
        for (role, token) in &sessions {
            if *role >= needed {
                continue;
            }
            let path = fill(route.path, "00000000-0000-0000-0000-000000000000");
            let reply = api
                .call(
                    route.method.clone(),
                    &path,
                    Some(token),
                    body_for(&route.method),
                )
                .await;
            assert_eq!(
                reply.status,
                StatusCode::FORBIDDEN,
                "{} {path} as {role:?}: {:?}",
                route.method,
                reply.body
            );
            assert_eq!(reply.code(), "insufficient_role");
            refused += 1;
        }
    }
    assert!(refused > 20, "only {refused} refusals checked");
}

#[tokio::test]
async fn the_openapi_document_lists_every_route() {
    let test_db = TestDb::sqlite().await;
    let api = Api::new(state(test_db.db()));
    let doc = api.get("/api/openapi.json", None).await;
    assert_eq!(doc.status, StatusCode::OK);
    assert!(doc.body["openapi"].as_str().unwrap().starts_with("3."));
    let mut missing = BTreeSet::new();
    for route in routes(&api) {
        let method = route.method.as_str().to_lowercase();
        if doc.body["paths"][route.path][&method].is_null() {
            missing.insert(format!("{} {}", route.method, route.path));
        }
    }
    assert!(
        missing.is_empty(),
        "routes missing from /api/openapi.json: {missing:#?}"
    );
    // And nothing documented that the router does not serve.
    let served: BTreeSet<String> = routes(&api).iter().map(|r| r.path.to_owned()).collect();
    for path in doc.body["paths"].as_object().unwrap().keys() {
        assert!(served.contains(path), "documented but not routed: {path}");
    }
}
