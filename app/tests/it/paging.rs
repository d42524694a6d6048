//! Paging parameters over HTTP, as properties: following `next_cursor`
//! from any page size and window gives every result once, newest first,
//! including results that share a time; and any `from`, `to`, `cursor` and
//! `limit` at all is answered 200 exactly when the rules allow it,
//! otherwise 400 (not a number) or 422 (out of range, not a cursor this API
//! gave out) naming the parameter, never a server error.

use axum::http::StatusCode;
use percent_encoding::{NON_ALPHANUMERIC, utf8_percent_encode};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use serde_json::json;

use crate::api::{Api, Session};
use crate::helpers::{TestDb, on_both_dialects, state};

/// Start of the stored results, ms.
const BASE: i64 = 1_700_000_000_000;
/// Results stored, at 17 distinct times (so many share one).
const RESULTS: i64 = 60;

struct Monitor {
    api: Api,
    owner: Session,
    id: String,
    /// `(checked_at, id)` of every stored result.
    stored: Vec<(i64, i64)>,
}

async fn monitor_with_results(test_db: &TestDb) -> Monitor {
    let api = Api::new(state(test_db.db()));
    let owner = api.signup("alpha", "ann@alpha.example").await;
    let created = api
        .post(
            "/api/monitors",
            Some(&owner.access),
            json!({ "name": "db", "kind": "tcp", "host": "db.example", "port": 5432 }),
        )
        .await;
    let id = created.body["id"].as_str().unwrap().to_owned();
    for n in 0..RESULTS {
        sqlx::query(
            "INSERT INTO check_results (tenant_id, monitor_id, checked_at, ok, region) \
             VALUES ($1, $2, $3, 1, 'local')",
        )
        .bind(&owner.tenant_id)
        .bind(&id)
        .bind(BASE + (n * 7 % 17) * 1000)
        .execute(api.state.db.pool())
        .await
        .unwrap();
    }
    let stored: Vec<(i64, i64)> = sqlx::query_as(
        "SELECT checked_at, CAST(id AS BIGINT) FROM check_results WHERE monitor_id = $1",
    )
    .bind(&id)
    .fetch_all(api.state.db.pool())
    .await
    .unwrap();
    Monitor {
        api,
        owner,
        id,
        stored,
    }
}

impl Monitor {
    async fn page(&self, query: &str) -> (StatusCode, serde_json::Value) {
        let path = format!("/api/monitors/{}/results?{query}", self.id);
        let reply = self.api.get(&path, Some(&self.owner.access)).await;
        (reply.status, reply.body)
    }

    /// Follows `next_cursor` from the first page; the `(checked_at, id)` of everything seen.
    async fn walk(&self, from: i64, to: i64, limit: i64) -> Result<Vec<(i64, i64)>, String> {
        let mut seen = Vec::new();
        let mut cursor: Option<String> = None;
        for _ in 0..=RESULTS + 1 {
            let mut query = format!("from={from}&to={to}&limit={limit}");
            if let Some(c) = &cursor {
                query.push_str(&format!("&cursor={c}"));
            }
            let (status, body) = self.page(&query).await;
            if status != StatusCode::OK {
                return Err(format!("{query}: {status} {body}"));
            }
            let items = body["items"].as_array().unwrap();
            if items.len() as i64 > limit {
                return Err(format!("{query}: {} items", items.len()));
            }
            seen.extend(
                items
                    .iter()
                    .map(|r| (r["checked_at"].as_i64().unwrap(), r["id"].as_i64().unwrap())),
            );
            match body["next_cursor"].as_str() {
                Some(next) => cursor = Some(next.to_owned()),
                None => return Ok(seen),
            }
        }
        Err("the cursors did not end".to_owned())
    }
}

/// A value for a paging parameter: in range, out of range, extreme or not a number.
fn value() -> impl Strategy<Value = String> {
    prop_oneof![
        (-5_i64..2000).prop_map(|n| n.to_string()),
        any::<i64>().prop_map(|n| n.to_string()),
        Just(i64::MIN.to_string()),
        Just(format!("{}0", i64::MAX)),
        (any::<i64>(), any::<i64>()).prop_map(|(a, b)| format!("{a}-{b}")),
        "\\PC{0,12}",
        "[-+0-9 e.]{0,12}",
    ]
}

/// What the rules say of a query: the status and the parameter a refusal names, if any.
fn refused_by_the_rules(params: &[(&str, String)], now: i64) -> Option<(StatusCode, &'static str)> {
    // Integers must parse (422 naming the parameter); the first that does not is named.
    for (key, value) in params {
        if *key != "cursor" && value.parse::<i64>().is_err() {
            let key = match *key {
                "from" => "from",
                "to" => "to",
                _ => "limit",
            };
            return Some((StatusCode::UNPROCESSABLE_ENTITY, key));
        }
    }
    let invalid = |key| Some((StatusCode::UNPROCESSABLE_ENTITY, key));
    let get = |k: &str| {
        params
            .iter()
            .find(|(key, _)| *key == k)
            .map(|(_, v)| v.as_str())
    };
    let number = |k: &str, default: i64| get(k).map_or(default, |v| v.parse().unwrap_or(default));
    if !(1..=1000).contains(&number("limit", 100)) {
        return invalid("limit");
    }
    if number("from", now - 86_400_000) >= number("to", now + 1) {
        return invalid("from");
    }
    if let Some(cursor) = get("cursor")
        && app::monitor::history::parse_cursor(cursor).is_none()
    {
        return invalid("cursor");
    }
    None
}

fn run(cases: u32, check: impl Fn(&tokio::runtime::Runtime, &Monitor, u32)) {
    on_both_dialects(cases, |runtime, test_db, cases| {
        let monitor = runtime.block_on(monitor_with_results(test_db));
        check(runtime, &monitor, cases);
    });
}

#[test]
fn following_next_cursor_gives_every_result_once_newest_first() {
    run(256, |runtime, monitor, cases| {
        let mut runner = TestRunner::new(Config {
            cases,
            failure_persistence: None,
            ..Config::default()
        });
        let window = (0_i64..20, 0_i64..20, 1_i64..=70);
        runner
            .run(&window, |(a, b, limit)| {
                let (from, to) = (BASE + a.min(b) * 1000, BASE + a.max(b) * 1000 + 1);
                let seen = runtime
                    .block_on(monitor.walk(from, to, limit))
                    .map_err(TestCaseError::fail)?;
                let mut expected: Vec<(i64, i64)> = monitor
                    .stored
                    .iter()
                    .copied()
                    .filter(|(at, _)| (from..to).contains(at))
                    .collect();
                expected.sort_unstable_by(|x, y| y.cmp(x));
                prop_assert_eq!(seen, expected, "from {} to {} by {}", from, to, limit);
                Ok(())
            })
            .unwrap();
    });
}

#[test]
fn any_paging_parameters_are_used_or_named() {
    run(512, |runtime, monitor, cases| {
        let mut runner = TestRunner::new(Config {
            cases,
            failure_persistence: None,
            ..Config::default()
        });
        let key = prop::sample::select(vec!["from", "to", "cursor", "limit"]);
        let params = prop::collection::vec((key, value()), 0..4);
        runner
            .run(&params, |params| {
                let query: Vec<String> = params
                    .iter()
                    .map(|(k, v)| format!("{k}={}", utf8_percent_encode(v, NON_ALPHANUMERIC)))
                    .collect();
                let (status, body) = runtime.block_on(monitor.page(&query.join("&")));
                prop_assert!(
                    !status.is_server_error(),
                    "{:?}: {} {}",
                    query,
                    status,
                    body
                );
                // A key given twice is the query's own refusal.
                let mut keys: Vec<&str> = params.iter().map(|(k, _)| *k).collect();
                keys.sort_unstable();
                keys.dedup();
                if keys.len() < params.len() {
                    prop_assert!(status.is_client_error(), "{:?}: {}", query, status);
                    return Ok(());
                }
                match refused_by_the_rules(&params, app::clock::now_ms()) {
                    None => prop_assert_eq!(status, StatusCode::OK, "{:?}: {}", query, body),
                    Some((expected, field)) => {
                        prop_assert_eq!(status, expected, "{:?}: {}", query, body);
                        let named = body["field"].as_str().unwrap_or_default().to_owned()
                            + body["message"].as_str().unwrap_or_default();
                        prop_assert!(
                            named.contains(field),
                            "{:?} should name {}: {}",
                            query,
                            field,
                            body
                        );
                    }
                }
                Ok(())
            })
            .unwrap();
    });
}
