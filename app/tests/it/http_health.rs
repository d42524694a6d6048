//! `/health/`, `/health/ready/`, `/metrics` and JSON errors, through the real router.

use app::http::router;
use axum::body::Body;
use axum::http::{Request, StatusCode};
use http_body_util::BodyExt;
use serde_json::Value;
use tower::ServiceExt;

use crate::helpers::{TestDb, state};

async fn get(state: &app::AppState, path: &str) -> (StatusCode, String) {
    let response = router(state.clone())
        .oneshot(Request::get(path).body(Body::empty()).unwrap())
        .await
        .unwrap();
    let status = response.status();
    let body = response.into_body().collect().await.unwrap().to_bytes();
    (status, String::from_utf8(body.to_vec()).unwrap())
}

fn json(text: &str) -> Value {
    serde_json::from_str(text).unwrap_or_else(|e| panic!("not JSON ({e}): {text}"))
}

#[tokio::test]
async fn liveness_answers_without_the_database() {
    let test_db = TestDb::sqlite().await;
    let state = state(test_db.db());
    test_db.db().close().await;
    for path in ["/health/"] {
        let (status, body) = get(&state, path).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(json(&body)["status"], "ok");
    }
}

#[tokio::test]
async fn readiness_needs_current_migrations() {
    for test_db in TestDb::both().await {
        let state = state(test_db.db());
        let (status, body) = get(&state, "/health/ready/").await;
        assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
        let body = json(&body);
        assert_eq!(body["code"], "migrations_not_current");
        assert!(
            body["message"]
                .as_str()
                .unwrap()
                .contains("statuswatch migrate")
        );

        test_db.db().migrations().run().await.unwrap();
        let (status, body) = get(&state, "/health/ready/").await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let body = json(&body);
        assert_eq!(body["status"], "ready");
        assert_eq!(body["database"], test_db.db().dialect().name());
        assert_eq!(body["migrations"]["state"], "current");
    }
}

#[tokio::test]
async fn readiness_reports_an_unreachable_database() {
    let TestDb::Postgres(pg, db) = TestDb::postgres().await else {
        unreachable!()
    };
    db.migrations().run().await.unwrap();
    let state = state(&db);
    assert_eq!(get(&state, "/health/ready/").await.0, StatusCode::OK);
    pg.drop_now().await;
    let (status, body) = get(&state, "/health/ready/").await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
    let body = json(&body);
    assert!(
        matches!(
            body["code"].as_str(),
            Some("database_unreachable" | "database_timeout")
        ),
        "{body}"
    );
    let (_, metrics) = get(&state, "/metrics").await;
    assert!(metrics.contains("app_database_ready 0"), "{metrics}");
}

#[tokio::test]
async fn metrics_count_requests_by_route_template() {
    let test_db = TestDb::sqlite().await;
    test_db.db().migrations().run().await.unwrap();
    let state = state(test_db.db());
    get(&state, "/health/ready/").await;
    get(&state, "/no/such/page").await;
    let (status, text) = get(&state, "/metrics").await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        text.contains(
            r#"app_http_requests_total{route="/health/ready/",method="GET",status="200"} 1"#
        ),
        "{text}"
    );
    assert!(
        text.contains(r#"app_http_requests_total{route="unmatched",method="GET",status="404"} 1"#),
        "{text}"
    );
    assert!(text.contains("app_database_ready 1"), "{text}");
    assert!(
        text.contains("app_http_request_duration_seconds_bucket"),
        "{text}"
    );
    assert!(text.trim_end().ends_with("# EOF"), "{text}");
}

#[tokio::test]
async fn unknown_routes_get_a_json_404() {
    let test_db = TestDb::sqlite().await;
    let (status, body) = get(&state(test_db.db()), "/api/nothing-here").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let body = json(&body);
    assert_eq!(body["code"], "not_found");
    assert!(body["message"].is_string());
}
