//! State changes and their alerts: one per change and channel, flap damping.

use app::clock::now_ms;
use app::monitor::incidents::record_change;
use app::monitor::state::{Change, State};
use axum::http::StatusCode;
use serde_json::json;

use crate::api::Api;
use crate::helpers::{TestDb, state};

async fn deliveries(db: &app::db::Database) -> Vec<(String, String)> {
    sqlx::query_as("SELECT event, event_key FROM alert_deliveries ORDER BY created_at, event")
        .fetch_all(db.pool())
        .await
        .unwrap()
}

#[tokio::test]
async fn each_change_alerts_once_and_flapping_monitors_go_quiet() {
    for test_db in TestDb::both_migrated().await {
        let db = test_db.db();
        let api = Api::new(state(db));
        let a = api.signup("alpha", "ann@alpha.example").await;
        let channel = api
            .post(
                "/api/alert-channels",
                Some(&a.access),
                json!({"name": "ops", "kind": "email", "to": "ops@alpha.example"}),
            )
            .await;
        assert_eq!(channel.status, StatusCode::CREATED);
        let monitor = api
            .post(
                "/api/monitors",
                Some(&a.access),
                json!({"name": "db", "kind": "tcp", "host": "db.example", "port": 5432}),
            )
            .await;
        let id = monitor.body["id"].as_str().unwrap().to_owned();
        let mut conn = db.pool().acquire().await.unwrap();
        let start = now_ms();
        let change = |before, after, at| Change {
            tenant_id: &a.tenant_id,
            monitor_id: &id,
            monitor_name: "db",
            kind: "tcp",
            target: "db.example:5432",
            before,
            after,
            reason: Some("refused"),
            at,
            flap_threshold: 4,
        };
        // Two outages in an hour alert; the third (six changes > 4) does not.
        for n in 0..3 {
            let at = start + n * 60_000;
            record_change(&mut conn, &change(State::Up, State::Down, at))
                .await
                .unwrap();
            record_change(&mut conn, &change(State::Down, State::Up, at + 1000))
                .await
                .unwrap();
            // Replaying a recovery queues nothing more.
            record_change(&mut conn, &change(State::Down, State::Up, at + 1000))
                .await
                .unwrap();
        }
        let events: Vec<String> = deliveries(db).await.into_iter().map(|(e, _)| e).collect();
        assert_eq!(
            events,
            ["down", "up", "down", "up"],
            "{}",
            db.dialect().name()
        );
        let incidents = api
            .get(&format!("/api/incidents?monitor_id={id}"), Some(&a.access))
            .await;
        assert_eq!(incidents.body.as_array().unwrap().len(), 3);
        let newest = incidents.body[0]["id"].as_str().unwrap();
        let timeline = api
            .get(&format!("/api/incidents/{newest}"), Some(&a.access))
            .await;
        let kinds: Vec<&str> = timeline.body["timeline"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["kind"].as_str().unwrap())
            .collect();
        assert_eq!(
            kinds,
            ["opened", "alerts_muted", "resolved", "alerts_muted"]
        );
        // An hour later the monitor has settled: degraded is a change too, and alerts once.
        record_change(
            &mut conn,
            &change(State::Up, State::Degraded, start + 3_900_000),
        )
        .await
        .unwrap();
        record_change(
            &mut conn,
            &change(State::Up, State::Degraded, start + 3_900_000),
        )
        .await
        .unwrap();
        assert_eq!(deliveries(db).await.len(), 5);
    }
}
