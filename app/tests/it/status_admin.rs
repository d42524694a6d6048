//! The status-page admin API: pages, groups, components, incidents and
//! maintenance with their updates, publishing a monitor incident; every
//! field checked, nothing half-written, roles and tenants enforced.

use axum::http::{Method, StatusCode};
use serde_json::{Value, json};

use crate::api::{Api, Reply, Session};
use crate::helpers::{TestDb, state};

fn id(reply: &Reply) -> String {
    reply.body["id"].as_str().unwrap().to_owned()
}

fn assert_invalid(reply: &Reply, field: &str) {
    assert_eq!(
        reply.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{:?}",
        reply.body
    );
    assert_eq!(reply.body["field"], field, "{:?}", reply.body);
}

async fn count(api: &Api, sql: &str, tenant: &str) -> i64 {
    sqlx::query_scalar(sql)
        .bind(tenant)
        .fetch_one(api.state.db.pool())
        .await
        .unwrap()
}

/// A monitor of `s`'s tenant.
pub async fn monitor(api: &Api, s: &Session, name: &str) -> String {
    let reply = api
        .post(
            "/api/monitors",
            Some(&s.access),
            json!({ "name": name, "kind": "tcp", "host": "db.example", "port": 5432 }),
        )
        .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{:?}", reply.body);
    id(&reply)
}

/// A custom domain of `s`'s tenant, verified by hand (no DNS in tests).
pub async fn verified_domain(api: &Api, s: &Session, hostname: &str) -> String {
    let reply = api
        .post(
            "/api/domains",
            Some(&s.access),
            json!({ "hostname": hostname }),
        )
        .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{:?}", reply.body);
    let domain = id(&reply);
    sqlx::query("UPDATE domains SET verified_at = 1 WHERE id = $1")
        .bind(&domain)
        .execute(api.state.db.pool())
        .await
        .unwrap();
    domain
}

#[tokio::test]
async fn pages_are_created_checked_and_one_is_the_default() {
    for test_db in TestDb::both_migrated().await {
        let api = Api::new(state(test_db.db()));
        let a = api.signup("alpha", "ann@alpha.example").await;
        let token = Some(a.access.as_str());
        for (body, field) in [
            (json!({}), "title"),
            (json!({ "title": "  " }), "title"),
            (json!({ "title": "x".repeat(101) }), "title"),
            (json!({ "title": "a\u{7}b" }), "title"),
            (
                json!({ "title": "A", "description": "d".repeat(1001) }),
                "description",
            ),
            (
                json!({ "title": "A", "logo_url": "javascript:alert(1)" }),
                "logo_url",
            ),
            (
                json!({ "title": "A", "logo_url": "/relative.png" }),
                "logo_url",
            ),
            (json!({ "title": "A", "domain_id": "nope" }), "domain_id"),
        ] {
            assert_invalid(&api.post("/api/status-pages", token, body).await, field);
        }
        let unknown = api
            .post(
                "/api/status-pages",
                token,
                json!({ "title": "A", "colour": "red" }),
            )
            .await;
        assert_eq!(unknown.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(
            count(
                &api,
                "SELECT COUNT(*) FROM status_pages WHERE tenant_id = $1",
                &a.tenant_id
            )
            .await,
            0
        );

        let first = api
            .post(
                "/api/status-pages",
                token,
                json!({ "title": "Alpha status", "description": "Our services", "logo_url": "https://cdn.alpha.example/logo.png" }),
            )
            .await;
        assert_eq!(first.status, StatusCode::CREATED, "{:?}", first.body);
        assert_eq!(first.body["is_default"], true);
        assert_eq!(first.body["logo_url"], "https://cdn.alpha.example/logo.png");
        let second = api
            .post("/api/status-pages", token, json!({ "title": "Internal" }))
            .await;
        assert_eq!(second.body["is_default"], false);
        let (first, second) = (id(&first), id(&second));

        // A subdomain, an unverified and a verified custom domain.
        let subdomain: String = sqlx::query_scalar(
            "SELECT id FROM domains WHERE tenant_id = $1 AND kind = 'subdomain'",
        )
        .bind(&a.tenant_id)
        .fetch_one(api.state.db.pool())
        .await
        .unwrap();
        let unverified = id(&api
            .post(
                "/api/domains",
                token,
                json!({ "hostname": "wip.alpha.example" }),
            )
            .await);
        let verified = verified_domain(&api, &a, "status.alpha.example").await;
        let path = format!("/api/status-pages/{second}");
        for domain in [&subdomain, &unverified] {
            let reply = api
                .call(
                    Method::PATCH,
                    &path,
                    token,
                    Some(json!({ "domain_id": domain })),
                )
                .await;
            assert_invalid(&reply, "domain_id");
        }
        let assigned = api
            .call(
                Method::PATCH,
                &path,
                token,
                Some(json!({ "domain_id": verified, "is_default": true })),
            )
            .await;
        assert_eq!(assigned.status, StatusCode::OK, "{:?}", assigned.body);
        assert_eq!(assigned.body["hostname"], "status.alpha.example");
        assert_eq!(assigned.body["is_default"], true);
        let taken = api
            .call(
                Method::PATCH,
                &format!("/api/status-pages/{first}"),
                token,
                Some(json!({ "domain_id": verified })),
            )
            .await;
        assert_eq!(taken.status, StatusCode::CONFLICT, "{:?}", taken.body);
        assert_eq!(taken.body["field"], "domain_id");
        // The old default gave way; it cannot be un-defaulted by itself.
        let list = api.get("/api/status-pages", token).await;
        assert_eq!(list.body.as_array().unwrap().len(), 2);
        assert_eq!(list.body[0]["id"], second.as_str());
        assert_eq!(list.body[1]["is_default"], false);
        let refused = api
            .call(
                Method::PATCH,
                &path,
                token,
                Some(json!({ "is_default": false })),
            )
            .await;
        assert_invalid(&refused, "is_default");
        // A failed change wrote nothing.
        let bad = api
            .call(
                Method::PATCH,
                &path,
                token,
                Some(json!({ "title": "Renamed", "logo_url": "ftp://x" })),
            )
            .await;
        assert_invalid(&bad, "logo_url");
        assert_eq!(api.get(&path, token).await.body["title"], "Internal");
        // Clearing the logo and the domain.
        let cleared = api
            .call(
                Method::PATCH,
                &path,
                token,
                Some(json!({ "logo_url": null, "domain_id": null })),
            )
            .await;
        assert_eq!(cleared.body["domain_id"], Value::Null);
        // Deleting the default makes the remaining page the default.
        assert_eq!(
            api.call(Method::DELETE, &path, token, None).await.status,
            StatusCode::NO_CONTENT
        );
        assert_eq!(
            api.get(&format!("/api/status-pages/{first}"), token)
                .await
                .body["is_default"],
            true
        );
        assert_eq!(api.get(&path, token).await.status, StatusCode::NOT_FOUND);
    }
}

#[tokio::test]
async fn components_and_groups_are_checked_and_bound_to_the_tenants_monitors() {
    for test_db in TestDb::both_migrated().await {
        let api = Api::new(state(test_db.db()));
        let a = api.signup("alpha", "ann@alpha.example").await;
        let b = api.signup("beta", "bob@beta.example").await;
        let token = Some(a.access.as_str());
        let page = id(&api
            .post("/api/status-pages", token, json!({ "title": "Alpha" }))
            .await);
        let other_page = id(&api
            .post("/api/status-pages", token, json!({ "title": "Other" }))
            .await);
        let web = monitor(&api, &a, "web").await;
        let theirs = monitor(&api, &b, "beta db").await;
        let groups = format!("/api/status-pages/{page}/groups");
        assert_invalid(&api.post(&groups, token, json!({})).await, "name");
        assert_invalid(
            &api.post(&groups, token, json!({ "name": "Core", "position": -1 }))
                .await,
            "position",
        );
        let group = api.post(&groups, token, json!({ "name": "Core" })).await;
        assert_eq!(group.status, StatusCode::CREATED, "{:?}", group.body);
        let group = id(&group);
        let foreign_group = id(&api
            .post(
                &format!("/api/status-pages/{other_page}/groups"),
                token,
                json!({ "name": "X" }),
            )
            .await);

        let components = format!("/api/status-pages/{page}/components");
        let before = count(
            &api,
            "SELECT COUNT(*) FROM status_components WHERE tenant_id = $1",
            &a.tenant_id,
        )
        .await;
        for (body, field) in [
            (json!({ "monitor_ids": [web] }), "name"),
            (json!({ "name": "API" }), "monitor_ids"),
            (json!({ "name": "API", "monitor_ids": [] }), "monitor_ids"),
            (
                json!({ "name": "API", "monitor_ids": [theirs] }),
                "monitor_ids",
            ),
            (
                json!({ "name": "API", "monitor_ids": ["missing"] }),
                "monitor_ids",
            ),
            (
                json!({ "name": "API", "monitor_ids": [web], "group_id": foreign_group }),
                "group_id",
            ),
            (
                json!({ "name": "API", "monitor_ids": [web], "position": 10_001 }),
                "position",
            ),
            (
                json!({ "name": "API", "monitor_ids": [web], "description": "d".repeat(501) }),
                "description",
            ),
        ] {
            assert_invalid(&api.post(&components, token, body).await, field);
        }
        let bad_status = api
            .post(
                &components,
                token,
                json!({ "name": "API", "manual_status": "on_fire" }),
            )
            .await;
        assert_eq!(bad_status.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(bad_status.code(), "invalid_body");
        assert_eq!(
            count(
                &api,
                "SELECT COUNT(*) FROM status_components WHERE tenant_id = $1",
                &a.tenant_id
            )
            .await,
            before,
            "a refused component was written"
        );

        let api_component = api
            .post(
                &components,
                token,
                json!({ "name": "API", "monitor_ids": [web, web], "group_id": group }),
            )
            .await;
        assert_eq!(
            api_component.status,
            StatusCode::CREATED,
            "{:?}",
            api_component.body
        );
        assert_eq!(api_component.body["monitor_ids"], json!([web]));
        assert_eq!(api_component.body["manual_status"], Value::Null);
        assert_eq!(api_component.body["showcase"], true);
        let manual = api
            .post(
                &components,
                token,
                json!({ "name": "Support", "manual_status": "degraded_performance" }),
            )
            .await;
        assert_eq!(manual.status, StatusCode::CREATED, "{:?}", manual.body);
        assert!(
            manual.body["position"].as_i64().unwrap()
                > api_component.body["position"].as_i64().unwrap()
        );
        let manual_path = format!("{components}/{}", id(&manual));
        // Without monitors, the manual status cannot be taken away.
        let orphan = api
            .call(
                Method::PATCH,
                &manual_path,
                token,
                Some(json!({ "manual_status": null })),
            )
            .await;
        assert_invalid(&orphan, "monitor_ids");
        let bound = api
            .call(
                Method::PATCH,
                &manual_path,
                token,
                Some(json!({ "manual_status": null, "monitor_ids": [web] })),
            )
            .await;
        assert_eq!(bound.status, StatusCode::OK, "{:?}", bound.body);
        assert_eq!(bound.body["monitor_ids"], json!([web]));
        // Deleting the group ungroups its components.
        let group_path = format!("{groups}/{group}");
        let renamed = api
            .call(
                Method::PATCH,
                &group_path,
                token,
                Some(json!({ "name": "" })),
            )
            .await;
        assert_invalid(&renamed, "name");
        assert_eq!(
            api.call(Method::DELETE, &group_path, token, None)
                .await
                .status,
            StatusCode::NO_CONTENT
        );
        let after = api
            .get(&format!("{components}/{}", id(&api_component)), token)
            .await;
        assert_eq!(after.body["group_id"], Value::Null);
        // Deleting the monitor unbinds it.
        assert_eq!(
            api.call(Method::DELETE, &format!("/api/monitors/{web}"), token, None)
                .await
                .status,
            StatusCode::NO_CONTENT
        );
        assert_eq!(
            api.get(&components, token).await.body[0]["monitor_ids"],
            json!([])
        );
        // Another tenant's page is not found, whoever asks with what body.
        let foreign = api
            .post(
                &components,
                Some(&b.access),
                json!({ "name": "X", "manual_status": "operational" }),
            )
            .await;
        assert_eq!(foreign.status, StatusCode::NOT_FOUND);
    }
}

#[tokio::test]
async fn incidents_and_maintenance_follow_statuspage_statuses() {
    for test_db in TestDb::both_migrated().await {
        let api = Api::new(state(test_db.db()));
        let a = api.signup("alpha", "ann@alpha.example").await;
        let token = Some(a.access.as_str());
        let page = id(&api
            .post("/api/status-pages", token, json!({ "title": "Alpha" }))
            .await);
        let other_page = id(&api
            .post("/api/status-pages", token, json!({ "title": "Other" }))
            .await);
        let comp = |p: String| {
            let api = &api;
            async move {
                id(&api
                    .post(
                        &format!("/api/status-pages/{p}/components"),
                        token,
                        json!({ "name": "API", "manual_status": "operational" }),
                    )
                    .await)
            }
        };
        let component = comp(page.clone()).await;
        let foreign_component = comp(other_page.clone()).await;
        let incidents = format!("/api/status-pages/{page}/incidents");
        let now = app::clock::now_ms();
        for (body, field) in [
            (json!({ "body": "x" }), "title"),
            (json!({ "title": "Slow" }), "body"),
            (
                json!({ "title": "Slow", "body": "x", "status": "scheduled" }),
                "status",
            ),
            (
                json!({ "title": "Slow", "body": "x", "impact": "maintenance" }),
                "impact",
            ),
            (
                json!({ "title": "Slow", "body": "x", "scheduled_for": now }),
                "scheduled_for",
            ),
            (
                json!({ "title": "Slow", "body": "x", "component_ids": [foreign_component] }),
                "component_ids",
            ),
            (
                json!({ "title": "Slow", "body": "x", "component_ids": [""] }),
                "component_ids",
            ),
            (
                json!({ "kind": "maintenance", "title": "Upgrade", "body": "x" }),
                "scheduled_for",
            ),
            (
                json!({ "kind": "maintenance", "title": "Upgrade", "body": "x", "scheduled_for": now, "scheduled_until": now }),
                "scheduled_until",
            ),
            (
                json!({ "kind": "maintenance", "title": "Upgrade", "body": "x", "scheduled_for": now, "scheduled_until": now + 31 * 86_400_000_i64 }),
                "scheduled_until",
            ),
            (
                json!({ "kind": "maintenance", "title": "Upgrade", "body": "x", "status": "investigating", "scheduled_for": now, "scheduled_until": now + 1 }),
                "status",
            ),
        ] {
            assert_invalid(&api.post(&incidents, token, body).await, field);
        }
        let bad_impact = api
            .post(
                &incidents,
                token,
                json!({ "title": "Slow", "body": "x", "impact": "huge" }),
            )
            .await;
        assert_eq!(bad_impact.code(), "invalid_body");
        assert_eq!(
            count(
                &api,
                "SELECT COUNT(*) FROM status_incidents WHERE tenant_id = $1",
                &a.tenant_id
            )
            .await,
            0
        );
        assert_eq!(
            count(
                &api,
                "SELECT COUNT(*) FROM status_incident_updates WHERE tenant_id = $1",
                &a.tenant_id
            )
            .await,
            0
        );

        let created = api
            .post(
                &incidents,
                token,
                json!({ "title": "Elevated errors", "impact": "major", "body": "We are looking into it.", "component_ids": [component] }),
            )
            .await;
        assert_eq!(created.status, StatusCode::CREATED, "{:?}", created.body);
        assert_eq!(created.body["status"], "investigating");
        assert_eq!(created.body["kind"], "incident");
        assert_eq!(created.body["component_ids"], json!([component]));
        assert_eq!(created.body["updates"].as_array().unwrap().len(), 1);
        let updates = format!("{incidents}/{}/updates", id(&created));
        assert_invalid(
            &api.post(&updates, token, json!({ "body": "x" })).await,
            "status",
        );
        assert_invalid(
            &api.post(
                &updates,
                token,
                json!({ "status": "completed", "body": "x" }),
            )
            .await,
            "status",
        );
        assert_invalid(
            &api.post(
                &updates,
                token,
                json!({ "status": "monitoring", "body": " " }),
            )
            .await,
            "body",
        );
        let monitoring = api
            .post(
                &updates,
                token,
                json!({ "status": "monitoring", "body": "Fix deployed." }),
            )
            .await;
        assert_eq!(
            monitoring.status,
            StatusCode::CREATED,
            "{:?}",
            monitoring.body
        );
        assert!(monitoring.body["monitoring_at"].is_i64());
        assert_eq!(monitoring.body["resolved_at"], Value::Null);
        let resolved = api
            .post(
                &updates,
                token,
                json!({ "status": "resolved", "body": "All good." }),
            )
            .await;
        assert!(resolved.body["resolved_at"].is_i64());
        assert_eq!(
            resolved.body["updates"][0]["status"], "resolved",
            "newest update first"
        );
        assert_eq!(resolved.body["updates"].as_array().unwrap().len(), 3);

        let maintenance = api
            .post(
                &incidents,
                token,
                json!({ "kind": "maintenance", "title": "DB upgrade", "body": "Planned.", "scheduled_for": now + 3_600_000, "scheduled_until": now + 7_200_000, "component_ids": [component] }),
            )
            .await;
        assert_eq!(
            maintenance.status,
            StatusCode::CREATED,
            "{:?}",
            maintenance.body
        );
        assert_eq!(maintenance.body["status"], "scheduled");
        assert_eq!(maintenance.body["impact"], "maintenance");
        let m_path = format!("{incidents}/{}", id(&maintenance));
        let moved = api
            .call(
                Method::PATCH,
                &m_path,
                token,
                Some(json!({ "scheduled_until": now + 1_000 })),
            )
            .await;
        assert_invalid(&moved, "scheduled_until");
        let retitled = api
            .call(
                Method::PATCH,
                &m_path,
                token,
                Some(json!({ "title": "Database upgrade", "component_ids": [] })),
            )
            .await;
        assert_eq!(retitled.status, StatusCode::OK, "{:?}", retitled.body);
        assert_eq!(retitled.body["component_ids"], json!([]));
        let listed = api
            .get(&format!("{incidents}?kind=maintenance"), token)
            .await;
        assert_eq!(listed.body.as_array().unwrap().len(), 1);
        assert_eq!(
            api.get(&format!("{incidents}?limit=0"), token).await.body["field"],
            "limit"
        );
        assert_eq!(
            api.call(Method::DELETE, &m_path, token, None).await.status,
            StatusCode::NO_CONTENT
        );
        assert_eq!(api.get(&m_path, token).await.status, StatusCode::NOT_FOUND);
    }
}

#[tokio::test]
async fn a_monitor_incident_is_published_with_one_call() {
    for test_db in TestDb::both_migrated().await {
        let api = Api::new(state(test_db.db()));
        let a = api.signup("alpha", "ann@alpha.example").await;
        let b = api.signup("beta", "bob@beta.example").await;
        let token = Some(a.access.as_str());
        let page = id(&api
            .post("/api/status-pages", token, json!({ "title": "Alpha" }))
            .await);
        let web = monitor(&api, &a, "web-1 (10.0.0.5)").await;
        let component = api
            .post(
                &format!("/api/status-pages/{page}/components"),
                token,
                json!({ "name": "Website", "monitor_ids": [web] }),
            )
            .await;
        let component = id(&component);
        let incident = app::clock::new_id();
        sqlx::query(
            "INSERT INTO incidents (id, tenant_id, monitor_id, state, cause, started_at) VALUES ($1, $2, $3, 'open', 'connect 10.0.0.5:5432 refused', 1000)",
        )
        .bind(&incident)
        .bind(&a.tenant_id)
        .bind(&web)
        .execute(api.state.db.pool())
        .await
        .unwrap();
        let publish = format!("/api/status-pages/{page}/incidents/publish");
        assert_invalid(
            &api.post(&publish, token, json!({})).await,
            "monitor_incident_id",
        );
        assert_invalid(
            &api.post(&publish, token, json!({ "monitor_incident_id": "nope" }))
                .await,
            "monitor_incident_id",
        );
        // Another tenant cannot publish it, on its own page or ours.
        let b_page = id(&api
            .post(
                "/api/status-pages",
                Some(&b.access),
                json!({ "title": "Beta" }),
            )
            .await);
        let stolen = api
            .post(
                &format!("/api/status-pages/{b_page}/incidents/publish"),
                Some(&b.access),
                json!({ "monitor_incident_id": incident }),
            )
            .await;
        assert_invalid(&stolen, "monitor_incident_id");
        assert_eq!(
            api.post(
                &publish,
                Some(&b.access),
                json!({ "monitor_incident_id": incident })
            )
            .await
            .status,
            StatusCode::NOT_FOUND
        );

        let published = api
            .post(&publish, token, json!({ "monitor_incident_id": incident }))
            .await;
        assert_eq!(
            published.status,
            StatusCode::CREATED,
            "{:?}",
            published.body
        );
        assert_eq!(published.body["component_ids"], json!([component]));
        assert_eq!(published.body["impact"], "major");
        assert_eq!(published.body["status"], "investigating");
        assert_eq!(published.body["monitor_incident_id"], incident.as_str());
        assert_eq!(published.body["started_at"], 1000);
        assert_eq!(published.body["title"], "Disruption of Website");
        let text = published.body.to_string();
        assert!(
            !text.contains("10.0.0.5"),
            "internal details published: {text}"
        );
        let again = api
            .post(&publish, token, json!({ "monitor_incident_id": incident }))
            .await;
        assert_eq!(again.status, StatusCode::CONFLICT);
        assert_eq!(again.body["field"], "monitor_incident_id");
    }
}

#[tokio::test]
async fn viewers_read_and_members_write() {
    let test_db = TestDb::sqlite().await;
    test_db.db().migrations().run().await.unwrap();
    let api = Api::new(state(test_db.db()));
    let owner = api.signup("alpha", "ann@alpha.example").await;
    let (_, viewer) = api.join(&owner.access, "vic@alpha.example", "viewer").await;
    let (_, member) = api.join(&owner.access, "meg@alpha.example", "member").await;
    let refused = api
        .post("/api/status-pages", Some(&viewer), json!({ "title": "V" }))
        .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    assert_eq!(refused.code(), "insufficient_role");
    let created = api
        .post("/api/status-pages", Some(&member), json!({ "title": "M" }))
        .await;
    assert_eq!(created.status, StatusCode::CREATED);
    let listed = api.get("/api/status-pages", Some(&viewer)).await;
    assert_eq!(listed.status, StatusCode::OK);
    assert_eq!(listed.body[0]["title"], "M");
    assert_eq!(
        api.get("/api/status-pages", None).await.status,
        StatusCode::UNAUTHORIZED
    );
}

/// Gives tenant `s` a page with a group, a component on `monitor_id` and an
/// incident; returns their ids (for the route-table isolation walk).
pub async fn populate(api: &Api, s: &Session, monitor_id: &str) -> Vec<String> {
    let token = Some(s.access.as_str());
    let page = api
        .post("/api/status-pages", token, json!({ "title": "B status" }))
        .await;
    assert_eq!(page.status, StatusCode::CREATED, "{:?}", page.body);
    let page = id(&page);
    let group = id(&api
        .post(
            &format!("/api/status-pages/{page}/groups"),
            token,
            json!({ "name": "B core" }),
        )
        .await);
    let component = api
        .post(
            &format!("/api/status-pages/{page}/components"),
            token,
            json!({ "name": "B api", "monitor_ids": [monitor_id], "group_id": group }),
        )
        .await;
    assert_eq!(
        component.status,
        StatusCode::CREATED,
        "{:?}",
        component.body
    );
    let incident = api
        .post(
            &format!("/api/status-pages/{page}/incidents"),
            token,
            json!({ "title": "B outage", "body": "B is down", "component_ids": [id(&component)] }),
        )
        .await;
    assert_eq!(incident.status, StatusCode::CREATED, "{:?}", incident.body);
    vec![page, group, id(&component), id(&incident)]
}
