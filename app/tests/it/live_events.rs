//! `GET /api/events` over real HTTP, in both dialects: a prober's checks,
//! state changes and incidents arrive live; a reconnect with `Last-Event-ID`
//! gets exactly the events it missed; another tenant's events never arrive;
//! credentials are required.

use std::sync::Arc;
use std::sync::atomic::{AtomicU16, Ordering};
use std::time::Duration;

use app::AppSettings;
use app::events::store;
use app::monitor::metrics::ProberMetrics;
use app::monitor::probe::Probes;
use app::monitor::scheduler::{Scheduler, Tuning};
use app::test_support::app_settings;
use axum::Router;
use axum::http::StatusCode;
use axum::routing::get;
use serde_json::{Value, json};
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

use crate::api::{Api, Session};
use crate::helpers::{TestDb, state};

/// One message of the stream.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Message {
    pub id: Option<String>,
    pub event: Option<String>,
    pub data: String,
    pub retry: Option<u64>,
    pub comment: Option<String>,
}

impl Message {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.data).unwrap_or_else(|e| panic!("{e}: {:?}", self.data))
    }
}

/// A reader of a `text/event-stream` answer.
pub struct EventStream {
    response: reqwest::Response,
    buffer: String,
    /// Everything read so far, for checks of the exact wire format.
    pub raw: String,
}

impl EventStream {
    /// The next message, or `None` when none comes within `wait` (or the stream ends).
    pub async fn next(&mut self, wait: Duration) -> Option<Message> {
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            if let Some(end) = self.buffer.find("\n\n") {
                let block: String = self.buffer.drain(..end + 2).collect();
                return Some(parse(&block));
            }
            let chunk = tokio::time::timeout_at(deadline, self.response.chunk())
                .await
                .ok()?
                .unwrap()?;
            let text = std::str::from_utf8(&chunk).unwrap();
            self.buffer.push_str(text);
            self.raw.push_str(text);
        }
    }

    /// The next message that is an event (skipping comments and `retry`).
    pub async fn next_event(&mut self, wait: Duration) -> Option<Message> {
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            let message = self.next(left).await?;
            if message.event.is_some() {
                return Some(message);
            }
        }
    }

    /// Events until one matches `done`, failing after `secs`.
    pub async fn until(
        &mut self,
        secs: u64,
        what: &str,
        done: impl Fn(&Message) -> bool,
    ) -> Vec<Message> {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(secs);
        let mut seen = Vec::new();
        loop {
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            let Some(message) = self.next_event(left).await else {
                panic!("no {what} within {secs} s; got {seen:#?}");
            };
            let last = done(&message);
            seen.push(message);
            if last {
                return seen;
            }
        }
    }
}

fn parse(block: &str) -> Message {
    let mut message = Message::default();
    for line in block.lines().filter(|l| !l.is_empty()) {
        if let Some(comment) = line.strip_prefix(':') {
            message.comment = Some(comment.trim().to_owned());
            continue;
        }
        let (field, value) = line.split_once(':').unwrap_or((line, ""));
        let value = value.strip_prefix(' ').unwrap_or(value);
        match field {
            "id" => message.id = Some(value.to_owned()),
            "event" => message.event = Some(value.to_owned()),
            "data" => message.data.push_str(value),
            "retry" => message.retry = Some(value.parse().unwrap()),
            other => panic!("unknown field {other} in {block:?}"),
        }
    }
    message
}

/// How a request authenticates.
pub enum Auth<'a> {
    Bearer(&'a str),
    Cookie(&'a str),
    None,
}

/// Opens `GET /api/events` on `base`; panics unless it answers 200 with an event stream.
pub async fn open(base: &str, auth: Auth<'_>, last_event_id: Option<&str>) -> EventStream {
    let response = request(base, auth, last_event_id).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(
        response.headers()["content-type"].to_str().unwrap(),
        "text/event-stream"
    );
    EventStream {
        response,
        buffer: String::new(),
        raw: String::new(),
    }
}

pub async fn request(base: &str, auth: Auth<'_>, last_event_id: Option<&str>) -> reqwest::Response {
    let mut request = reqwest::Client::new().get(format!("{base}/api/events"));
    request = match auth {
        Auth::Bearer(token) => request.bearer_auth(token),
        Auth::Cookie(token) => request.header("cookie", format!("sw_access={token}")),
        Auth::None => request,
    };
    if let Some(id) = last_event_id {
        request = request.header("last-event-id", id);
    }
    request.send().await.unwrap()
}

/// Serves the app on a free loopback port; returns its base URL.
pub async fn serve(api: &Api) -> (String, CancellationToken) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let stop = CancellationToken::new();
    tokio::spawn(app::server::run(listener, api.state.clone(), stop.clone()));
    (base, stop)
}

/// An HTTP target answering with the status the test sets.
async fn target() -> (String, Arc<AtomicU16>) {
    let status = Arc::new(AtomicU16::new(200));
    let shared = status.clone();
    let app = Router::new().route(
        "/health",
        get(move || {
            let code = shared.load(Ordering::SeqCst);
            async move { StatusCode::from_u16(code).unwrap() }
        }),
    );
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/health", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    (url, status)
}

fn settings() -> AppSettings {
    let mut settings = app_settings(false);
    settings.prober.allow_private_targets = true;
    settings.prober.plan_min_interval_seconds = Some(1);
    settings.prober.lease_grace_seconds = 5;
    settings
}

fn start_prober(
    db: &app::db::Database,
    settings: &AppSettings,
) -> (CancellationToken, tokio::task::JoinHandle<()>) {
    let stop = CancellationToken::new();
    let scheduler = Scheduler::new(
        db.clone(),
        Probes::new(&settings.prober).unwrap(),
        settings.prober.clone(),
        ProberMetrics::default(),
    )
    .with_tuning(Tuning {
        lookahead_ms: 300,
        poll_ms: 50,
        claim_batch: 100,
    });
    let running = tokio::spawn(scheduler.run(stop.clone()));
    (stop, running)
}

async fn create_monitor(api: &Api, s: &Session, url: &str) -> String {
    let created = api
        .post(
            "/api/monitors",
            Some(&s.access),
            json!({"name": "Site", "kind": "http", "url": url, "interval_seconds": 1,
                   "timeout_seconds": 1, "confirmations": 2}),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{:?}", created.body);
    created.body["id"].as_str().unwrap().to_owned()
}

fn is(kind: &str) -> impl Fn(&Message) -> bool + '_ {
    move |m| m.event.as_deref() == Some(kind)
}

#[tokio::test]
async fn checks_state_changes_and_incidents_stream_live_and_resume_exactly() {
    for test_db in TestDb::both_migrated().await {
        let db = test_db.db();
        let dialect = db.dialect().name();
        let settings = settings();
        let api = Api::new(crate::helpers::state_with(
            db,
            settings.clone(),
            app::mail::Mailer::Log {
                include_body: false,
            },
        ));
        let a = api.signup("alpha", "ann@alpha.example").await;
        let b = api.signup("beta", "bob@beta.example").await;
        let (base, stop_server) = serve(&api).await;

        // Credentials are required, and a garbage resume id is refused.
        let anonymous = request(&base, Auth::None, None).await;
        assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED, "{dialect}");
        let body: Value = anonymous.json().await.unwrap();
        assert_eq!(body["code"], "not_authenticated");
        let bad = request(&base, Auth::Bearer(&a.access), Some("yesterday")).await;
        assert_eq!(bad.status(), StatusCode::BAD_REQUEST, "{dialect}");
        let body: Value = bad.json().await.unwrap();
        assert_eq!(body["code"], "invalid_last_event_id");
        assert!(body["message"].as_str().unwrap().contains("Last-Event-ID"));

        let mut alpha = open(&base, Auth::Bearer(&a.access), None).await;
        // Cookie sessions work too (a GET needs no CSRF header).
        let mut beta = open(&base, Auth::Cookie(&b.access), None).await;
        let first = alpha.next(Duration::from_secs(5)).await.unwrap();
        assert_eq!(first.retry, Some(3000), "{dialect}");
        assert!(alpha.raw.starts_with("retry: 3000\n"), "{:?}", alpha.raw);

        let (alpha_url, alpha_status) = target().await;
        let (beta_url, _) = target().await;
        let alpha_monitor = create_monitor(&api, &a, &alpha_url).await;
        let beta_monitor = create_monitor(&api, &b, &beta_url).await;
        let (stop_prober, prober) = start_prober(db, &settings);

        // A check, then pending -> up.
        let seen = alpha
            .until(10, "monitor.state up", is("monitor.state"))
            .await;
        let check = seen
            .iter()
            .find(|m| is("monitor.check")(m))
            .unwrap_or_else(|| panic!("{dialect}: no check before the state change: {seen:#?}"));
        let check = check.json();
        assert_eq!(check["monitor_id"], alpha_monitor.as_str());
        assert_eq!(check["ok"], true);
        assert_eq!(check["state"], "up");
        assert_eq!(check["status_code"], 200);
        assert!(
            check["latency_ms"].is_i64() && check["at"].is_i64(),
            "{check}"
        );
        assert_eq!(check["error"], Value::Null);
        let up = seen.last().unwrap().json();
        assert_eq!(up["monitor_id"], alpha_monitor.as_str());
        assert_eq!(
            (up["state"].as_str(), up["previous"].as_str()),
            (Some("up"), Some("pending"))
        );
        let resume_after = seen.last().unwrap().id.clone().unwrap();

        // Failing: a failed check that keeps it up, the confirmation, down, the incident.
        alpha_status.store(503, Ordering::SeqCst);
        let seen = alpha
            .until(15, "incident.opened", is("incident.opened"))
            .await;
        let failed = seen
            .iter()
            .find(|m| is("monitor.check")(m) && m.json()["ok"] == false)
            .unwrap()
            .json();
        assert_eq!(failed["status_code"], 503, "{failed}");
        assert!(failed["error"].is_string(), "{failed}");
        let down = seen.iter().find(|m| is("monitor.state")(m)).unwrap().json();
        assert_eq!(
            (down["state"].as_str(), down["previous"].as_str()),
            (Some("down"), Some("up"))
        );
        let opened = seen.last().unwrap().json();
        assert_eq!(opened["monitor_id"], alpha_monitor.as_str());
        assert!(
            opened["incident_id"].is_string() && opened["cause"].is_string(),
            "{opened}"
        );
        assert_eq!(opened["started_at"], down["at"]);

        // Recovering resolves the incident.
        alpha_status.store(200, Ordering::SeqCst);
        let seen = alpha
            .until(15, "incident.resolved", is("incident.resolved"))
            .await;
        let resolved = seen.last().unwrap().json();
        assert_eq!(resolved["incident_id"], opened["incident_id"]);
        assert!(
            resolved["resolved_at"].as_i64().unwrap() >= opened["started_at"].as_i64().unwrap()
        );

        // Pausing is a state change too.
        let paused = api
            .call(
                axum::http::Method::PATCH,
                &format!("/api/monitors/{alpha_monitor}"),
                Some(&a.access),
                Some(json!({"paused": true})),
            )
            .await;
        assert_eq!(paused.status, StatusCode::OK, "{:?}", paused.body);
        let seen = alpha
            .until(10, "paused", |m| {
                is("monitor.state")(m) && m.json()["state"] == "paused"
            })
            .await;
        assert_eq!(seen.last().unwrap().json()["previous"], "up");
        let last_seen = seen.last().unwrap().id.clone().unwrap();

        // Another tenant's stream has only its own monitor's events.
        let mut beta_events = Vec::new();
        while let Some(message) = beta.next_event(Duration::from_millis(300)).await {
            beta_events.push(message);
        }
        assert!(!beta_events.is_empty(), "{dialect}: beta saw nothing");
        for message in &beta_events {
            assert_eq!(
                message.json()["monitor_id"],
                beta_monitor.as_str(),
                "{message:?}"
            );
        }
        stop_prober.cancel();
        prober.await.unwrap();

        // Resuming gets exactly what came after the id: the same events, in order, then nothing.
        drop(alpha);
        let expected = store::tenant_between(
            db,
            &a.tenant_id,
            resume_after.parse().unwrap(),
            i64::MAX,
            10_000,
        )
        .await
        .unwrap();
        assert!(expected.iter().any(|e| e.seq.to_string() == last_seen));
        let mut resumed = open(&base, Auth::Bearer(&a.access), Some(&resume_after)).await;
        let mut got = Vec::new();
        while let Some(message) = resumed.next_event(Duration::from_secs(2)).await {
            got.push(message);
        }
        let got: Vec<(String, String, String)> = got
            .into_iter()
            .map(|m| (m.id.unwrap(), m.event.unwrap(), m.data))
            .collect();
        let expected: Vec<(String, String, String)> = expected
            .into_iter()
            .map(|e| (e.seq.to_string(), e.kind, e.data))
            .collect();
        assert_eq!(got, expected, "{dialect}");
        assert!(got.iter().all(|(_, _, data)| !data.contains(&beta_monitor)));
        stop_server.cancel();
    }
}

#[tokio::test]
async fn a_stream_sees_events_another_process_wrote_and_only_its_tenants() {
    for test_db in TestDb::both_migrated().await {
        let db = test_db.db();
        let api = Api::new(state(db));
        let a = api.signup("alpha", "ann@alpha.example").await;
        let b = api.signup("beta", "bob@beta.example").await;
        let (base, stop_server) = serve(&api).await;
        let mut alpha = open(&base, Auth::Bearer(&a.access), None).await;

        // Written straight into the table, as a prober on another machine would.
        let write = |tenant: &str, monitor: &str| {
            let event = app::events::LiveEvent::MonitorState(app::events::MonitorStateData {
                monitor_id: monitor.to_owned(),
                state: "down".to_owned(),
                previous: Some("up".to_owned()),
                at: 1,
            });
            app::events::NewEvent::new(tenant, &event)
        };
        let mut tx = db.begin_write().await.unwrap();
        store::append(
            &mut tx,
            db.dialect(),
            &[write(&b.tenant_id, "theirs"), write(&a.tenant_id, "ours-1")],
        )
        .await
        .unwrap();
        tx.commit().await.unwrap();
        let mut tx = db.begin_write().await.unwrap();
        store::append(&mut tx, db.dialect(), &[write(&a.tenant_id, "ours-2")])
            .await
            .unwrap();
        tx.commit().await.unwrap();

        let one = alpha.next_event(Duration::from_secs(5)).await.unwrap();
        let two = alpha.next_event(Duration::from_secs(5)).await.unwrap();
        assert_eq!(one.json()["monitor_id"], "ours-1");
        assert_eq!(two.json()["monitor_id"], "ours-2");
        let (one_id, two_id): (i64, i64) = (
            one.id.unwrap().parse().unwrap(),
            two.id.unwrap().parse().unwrap(),
        );
        assert!(two_id > one_id);
        assert!(
            alpha
                .next_event(Duration::from_millis(1500))
                .await
                .is_none()
        );

        // A resume id from the future (another database) starts live, not never.
        let mut ahead = open(&base, Auth::Bearer(&a.access), Some("999999")).await;
        let mut tx = db.begin_write().await.unwrap();
        store::append(&mut tx, db.dialect(), &[write(&a.tenant_id, "ours-3")])
            .await
            .unwrap();
        tx.commit().await.unwrap();
        let three = ahead.next_event(Duration::from_secs(5)).await.unwrap();
        assert_eq!(three.json()["monitor_id"], "ours-3");
        stop_server.cancel();
    }
}
