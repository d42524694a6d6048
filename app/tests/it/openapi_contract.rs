//! The OpenAPI document is the contract: every operation documents the error
//! answers its access rule and inputs can give, every `limit` the document
//! bounds is refused outside its bounds, and each kind of bad input the
//! document forbids gets the documented status naming what is wrong.

use app::http::route_rules;
use app::http::routes::Access;
use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use serde_json::{Value, json};

use crate::api::{Api, Reply, Session};
use crate::helpers::{TestDb, state};

const ERROR_BODY: &str = "#/components/schemas/ErrorBody";

fn document() -> Value {
    serde_json::to_value(<app::http::openapi::ApiDoc as utoipa::OpenApi>::openapi()).unwrap()
}

/// Every (path, method, operation) of the document.
fn operations(doc: &Value) -> Vec<(String, Method, Value)> {
    let mut out = Vec::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            let method = Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
            out.push((path.clone(), method, op.clone()));
        }
    }
    out
}

/// Whether `op` documents `status` as a JSON error body.
fn documents_error(op: &Value, status: u16) -> bool {
    op["responses"][status.to_string()]["content"]["application/json"]["schema"]["$ref"]
        == ERROR_BODY
}

fn documented(op: &Value, status: StatusCode) -> bool {
    !op["responses"][status.as_str()].is_null()
}

#[test]
fn every_operation_documents_the_errors_of_its_rule_and_inputs() {
    let doc = document();
    let rules = route_rules();
    let mut missing = Vec::new();
    for (path, method, op) in operations(&doc) {
        let rule = rules
            .iter()
            .find(|r| r.path == path && r.method == method)
            .unwrap_or_else(|| panic!("{method} {path} is documented but not routed"));
        let mut wanted = Vec::new();
        if rule.access != Access::Public {
            wanted.extend([401, 403]);
        }
        if !op["requestBody"]["content"]["application/json"].is_null() {
            wanted.extend([400, 413, 415, 422]);
        }
        let params = op["parameters"].as_array().cloned().unwrap_or_default();
        for param in &params {
            let name = param["name"].as_str().unwrap();
            if param["in"] == "path" {
                assert!(
                    path.contains(&format!("{{{name}}}")),
                    "{method} {path}: `{name}` is documented as a path parameter but is not in the path"
                );
                wanted.push(404);
            }
        }
        if !matches!(
            path.as_str(),
            "/health/" | "/metrics" | "/api/openapi.json" | "/status"
        ) {
            wanted.push(503);
        }
        for status in wanted {
            if !documented(&op, StatusCode::from_u16(status).unwrap())
                // A handler may document its own 404/503 body (HTML pages, readiness).
                || (!matches!(status, 404 | 503) && !documents_error(&op, status))
            {
                missing.push(format!("{method} {path}: {status}"));
            }
        }
        if rule.access != Access::Public {
            assert!(
                op["security"].is_array(),
                "{method} {path} does not say it needs the bearer scheme"
            );
        }
    }
    assert!(missing.is_empty(), "undocumented answers: {missing:#?}");
}

/// Paging parameters are query parameters with their bounds.
#[test]
fn paging_parameters_are_bounded_query_parameters() {
    let doc = document();
    let mut limits = 0;
    for (path, method, op) in operations(&doc) {
        for param in op["parameters"].as_array().into_iter().flatten() {
            let name = param["name"].as_str().unwrap();
            if matches!(name, "limit" | "offset") {
                assert_eq!(param["in"], "query", "{method} {path} {name}");
                assert!(
                    param["schema"]["minimum"].is_number(),
                    "{method} {path} {name} has no minimum"
                );
                if name == "limit" {
                    assert!(
                        param["schema"]["maximum"].is_number(),
                        "{method} {path} limit has no maximum"
                    );
                    limits += 1;
                }
            }
        }
    }
    assert!(limits >= 7, "only {limits} limit parameters");
}

/// Signs up, makes the owner a superuser, and creates a monitor and a status page.
async fn tenant(api: &Api) -> (Session, String, String) {
    let owner = api.signup("alpha", "ann@alpha.example").await;
    sqlx::query("UPDATE users SET is_superuser = 1 WHERE id = $1")
        .bind(&owner.user_id)
        .execute(api.state.db.pool())
        .await
        .unwrap();
    let monitor = api
        .post(
            "/api/monitors",
            Some(&owner.access),
            json!({ "name": "site", "kind": "tcp", "host": "db.alpha.example", "port": 5432 }),
        )
        .await;
    assert_eq!(monitor.status, StatusCode::CREATED, "{:?}", monitor.body);
    let page = api
        .post(
            "/api/status-pages",
            Some(&owner.access),
            json!({ "title": "Alpha status" }),
        )
        .await;
    assert_eq!(page.status, StatusCode::CREATED, "{:?}", page.body);
    (
        owner,
        monitor.body["id"].as_str().unwrap().to_owned(),
        page.body["id"].as_str().unwrap().to_owned(),
    )
}

/// Every `limit` of the document: its bounds are accepted, one past them is a 422 naming it.
#[tokio::test]
async fn every_documented_limit_is_enforced() {
    for test_db in TestDb::both_migrated().await {
        let api = Api::new(state(test_db.db()));
        let (owner, monitor, page) = tenant(&api).await;
        let doc = document();
        let mut checked = 0;
        for (path, method, op) in operations(&doc) {
            let Some(limit) = op["parameters"]
                .as_array()
                .into_iter()
                .flatten()
                .find(|p| p["name"] == "limit")
            else {
                continue;
            };
            let id = if path.starts_with("/api/monitors/") {
                &monitor
            } else {
                &page
            };
            let url = path.replace("{id}", id);
            let min = limit["schema"]["minimum"].as_i64().unwrap();
            let max = limit["schema"]["maximum"].as_i64().unwrap();
            for (value, ok) in [(min, true), (max, true), (min - 1, false), (max + 1, false)] {
                let reply = api
                    .call(
                        method.clone(),
                        &format!("{url}?limit={value}"),
                        Some(&owner.access),
                        None,
                    )
                    .await;
                if ok {
                    assert_eq!(
                        reply.status,
                        StatusCode::OK,
                        "{url}?limit={value}: {:?}",
                        reply.body
                    );
                } else {
                    assert_eq!(
                        (reply.status, reply.body["field"].as_str()),
                        (StatusCode::UNPROCESSABLE_ENTITY, Some("limit")),
                        "{url}?limit={value}: {:?}",
                        reply.body
                    );
                }
            }
            checked += 1;
        }
        assert!(checked >= 7, "only {checked} limits checked");
    }
}

/// A request with a raw body and content type.
async fn raw(api: &Api, path: &str, token: &str, content_type: Option<&str>, body: &str) -> Reply {
    let mut builder = Request::builder()
        .method(Method::POST)
        .uri(path)
        .header(header::AUTHORIZATION, format!("Bearer {token}"));
    if let Some(content_type) = content_type {
        builder = builder.header(header::CONTENT_TYPE, content_type);
    }
    api.send(builder.body(Body::from(body.to_owned())).unwrap())
        .await
}

/// What the document forbids is refused with the documented status and names the field.
#[tokio::test]
async fn bad_input_is_refused_as_documented() {
    let test_db = TestDb::sqlite().await;
    test_db.db().migrations().run().await.unwrap();
    let api = Api::new(state(test_db.db()));
    let (owner, monitor, page) = tenant(&api).await;
    let token = owner.access.as_str();
    let doc = document();
    let op_of = |path: &str, method: &str| doc["paths"][path][method].clone();

    // The body's shape: not JSON, not declared JSON, not an object.
    let malformed = raw(&api, "/api/monitors", token, Some("application/json"), "{").await;
    assert_eq!(
        (malformed.status, malformed.code()),
        (StatusCode::BAD_REQUEST, "malformed_json")
    );
    let untyped = raw(&api, "/api/monitors", token, None, "{}").await;
    assert_eq!(
        (untyped.status, untyped.code()),
        (StatusCode::UNSUPPORTED_MEDIA_TYPE, "expected_json")
    );
    let array = raw(
        &api,
        &format!("/api/status-pages/{page}/groups"),
        token,
        Some("application/json"),
        r#"["core", 1]"#,
    )
    .await;
    assert_eq!(
        (array.status, array.code()),
        (StatusCode::UNPROCESSABLE_ENTITY, "invalid_body"),
        "a struct must not be read from an array: {:?}",
        array.body
    );

    // Fields: (path, body, field at fault or the `invalid_body` code).
    let cases = [
        (
            "/api/monitors",
            json!({ "name": "x", "kind": "ftp" }),
            "kind",
        ),
        (
            "/api/monitors",
            json!({ "name": "x", "kind": "tcp", "host": "a.example", "port": 1, "interval_seconds": 86_401 }),
            "interval_seconds",
        ),
        (
            "/api/monitors",
            json!({ "name": "", "kind": "tcp", "host": "a.example", "port": 1 }),
            "name",
        ),
        (
            "/api/maintenance-windows",
            json!({ "title": "t", "starts_at": i64::MIN, "ends_at": i64::MAX }),
            "starts_at",
        ),
        (
            "/api/alert-channels",
            json!({ "name": "ops", "kind": "pager" }),
            "kind",
        ),
        (
            "/api/alert-channels",
            json!({ "name": "ops", "kind": "email", "to": "not-an-address" }),
            "to",
        ),
        (
            "/api/invitations",
            json!({ "email": "x@", "role": "member" }),
            "email",
        ),
        (
            "/api/api-keys",
            json!({ "name": "ci", "scope": "admin" }),
            "invalid_body",
        ),
        (
            "/api/billing/paused",
            json!({ "kind": "tenant", "id": monitor, "paused": true }),
            "kind",
        ),
    ];
    for (path, body, fault) in cases {
        let reply = api.post(path, Some(token), body.clone()).await;
        assert_eq!(
            reply.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{path} {body}: {:?}",
            reply.body
        );
        if fault == "invalid_body" {
            assert_eq!(reply.code(), "invalid_body", "{path} {body}");
        } else {
            assert_eq!(
                reply.body["field"], fault,
                "{path} {body}: {:?}",
                reply.body
            );
        }
        assert!(documented(&op_of(path, "post"), reply.status), "{path}");
    }
    let signup = |slug: &str, email: &str| json!({ "organization": "Org", "slug": slug, "email": email, "password": crate::api::PASSWORD });
    for (body, field) in [
        (signup("a_b", "b@b.example"), "slug"),
        (signup("-ab", "b@b.example"), "slug"),
        (signup("ab", "b@b.example"), "slug"),
        (signup("bravo", "b@"), "email"),
    ] {
        let reply = api.post("/api/auth/signup", None, body).await;
        assert_eq!(
            (reply.status, reply.body["field"].as_str()),
            (StatusCode::UNPROCESSABLE_ENTITY, Some(field)),
            "{:?}",
            reply.body
        );
    }

    // Query values: an unknown enum value or a non-number names the parameter.
    for url in [
        format!("/api/status-pages/{page}/incidents?kind=outage"),
        format!("/api/status-pages/{page}/incidents?open=perhaps"),
        format!("/api/monitors/{monitor}/results?limit=ten"),
        "/api/incidents?before=yesterday".to_owned(),
        format!("/api/status-pages/{page}/subscribers?offset=-1"),
        "/admin/api/tenants?offset=-1".to_owned(),
    ] {
        let reply = api.get(&url, Some(token)).await;
        assert_eq!(
            reply.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{url}: {:?}",
            reply.body
        );
        let field = reply.body["field"].as_str().unwrap_or_default().to_owned();
        assert!(url.contains(&format!("{field}=")), "{url} names `{field}`");
    }
    let unknown = api.get("/api/incidents?colour=red", Some(token)).await;
    assert_eq!(
        (unknown.status, unknown.code()),
        (StatusCode::BAD_REQUEST, "invalid_query")
    );
    assert!(documented(&op_of("/api/incidents", "get"), unknown.status));

    // Access: a non-superuser on admin routes, then a session that has ended.
    let other = api.signup("bravo", "bob@bravo.example").await;
    let admin = api.get("/admin/api/tenants", Some(&other.access)).await;
    assert_eq!(
        (admin.status, admin.code()),
        (StatusCode::FORBIDDEN, "superuser_required")
    );
    let out = api
        .post("/api/auth/logout", Some(&other.access), json!({}))
        .await;
    assert_eq!(out.status, StatusCode::NO_CONTENT, "{:?}", out.body);
    let ended = api.get("/api/monitors", Some(&other.access)).await;
    assert_eq!(
        (ended.status, ended.code()),
        (StatusCode::UNAUTHORIZED, "session_revoked")
    );
    assert!(documented(&op_of("/api/monitors", "get"), ended.status));
}

/// Every operation that reads a JSON body answers a malformed one with a
/// status its own entry documents.
#[tokio::test]
async fn malformed_bodies_get_a_documented_answer_everywhere() {
    let test_db = TestDb::sqlite().await;
    test_db.db().migrations().run().await.unwrap();
    let api = Api::new(state(test_db.db()));
    let (owner, _, _) = tenant(&api).await;
    let doc = document();
    let mut checked = 0;
    for (path, method, op) in operations(&doc) {
        if op["requestBody"]["content"]["application/json"].is_null() {
            continue;
        }
        let url = path
            .split('/')
            .map(|seg| {
                if seg.starts_with('{') {
                    "00000000-0000-0000-0000-000000000000"
                } else {
                    seg
                }
            })
            .collect::<Vec<_>>()
            .join("/");
        let request = Request::builder()
            .method(method.clone())
            .uri(&url)
            .header(header::AUTHORIZATION, format!("Bearer {}", owner.access))
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from("{\"truncated\": "))
            .unwrap();
        let reply = api.send(request).await;
        assert!(
            documented(&op, reply.status) && reply.status.is_client_error(),
            "{method} {path} answered an undocumented {}: {:?}",
            reply.status,
            reply.body
        );
        checked += 1;
    }
    assert!(checked > 30, "only {checked} operations checked");
}
