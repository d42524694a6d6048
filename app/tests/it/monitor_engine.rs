//! The engine end to end in-process: scheduler, state machine, incidents,
//! alerts to a real SMTP server and a signature-checking webhook receiver,
//! maintenance, heartbeats, leases shared by two probers, roll-ups and retention.

use std::sync::atomic::{AtomicU16, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use app::AppSettings;
use app::clock::now_ms;
use app::db::Database;
use app::mail::Mailer;
use app::monitor::alerts::Sender;
use app::monitor::alerts::delivery::DeliveryWorker;
use app::monitor::metrics::ProberMetrics;
use app::monitor::probe::Probes;
use app::monitor::scheduler::{Scheduler, Tuning};
use app::test_support::{SmtpSink, app_settings};
use axum::Router;
use axum::http::{HeaderMap, Method, StatusCode};
use axum::routing::{get, post};
use hmac::{Hmac, Mac};
use serde_json::{Value, json};
use sha2::Sha256;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

use crate::api::{Api, Session};
use crate::helpers::{TestDb, state_with};

/// An HTTP target whose `/health` answers with a status the test sets.
struct Target {
    url: String,
    status: Arc<AtomicU16>,
}

async fn target() -> Target {
    let status = Arc::new(AtomicU16::new(200));
    let shared = status.clone();
    let app = Router::new().route(
        "/health",
        get(move || {
            let code = shared.load(Ordering::SeqCst);
            async move { (StatusCode::from_u16(code).unwrap(), "status ok") }
        }),
    );
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/health", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    Target { url, status }
}

/// Webhook receiver keeping each request's headers and body.
type Received = Arc<Mutex<Vec<(HeaderMap, String)>>>;

async fn receiver() -> (String, Received) {
    let got: Received = Arc::default();
    let shared = got.clone();
    let app = Router::new().route(
        "/hook",
        post(move |headers: HeaderMap, body: String| {
            shared.lock().unwrap().push((headers, body));
            async { StatusCode::NO_CONTENT }
        }),
    );
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    (url, got)
}

fn settings() -> AppSettings {
    let mut settings = app_settings(false);
    settings.prober.allow_private_targets = true;
    settings.prober.plan_min_interval_seconds = Some(1);
    settings.prober.lease_grace_seconds = 5;
    settings
}

fn log_mailer() -> Mailer {
    Mailer::Log {
        include_body: false,
    }
}

/// A migrated SQLite database, the engine's test settings, the API over them and a signed-up owner.
async fn sqlite_setup() -> (TestDb, AppSettings, Api, Session) {
    let test_db = TestDb::sqlite().await;
    test_db.db().migrations().run().await.unwrap();
    let settings = settings();
    let api = Api::new(state_with(test_db.db(), settings.clone(), log_mailer()));
    let a = api.signup("alpha", "ann@alpha.example").await;
    (test_db, settings, api, a)
}

fn scheduler(db: &Database, settings: &AppSettings) -> Scheduler {
    let probes = Probes::new(&settings.prober).unwrap();
    Scheduler::new(
        db.clone(),
        probes,
        settings.prober.clone(),
        ProberMetrics::default(),
    )
    .with_tuning(Tuning {
        lookahead_ms: 300,
        poll_ms: 50,
        claim_batch: 100,
    })
}

/// Starts a prober and an alert worker; cancel the token to stop both.
fn start_engine(db: &Database, settings: &AppSettings, mailer: Mailer) -> CancellationToken {
    let stop = CancellationToken::new();
    let probes = Probes::new(&settings.prober).unwrap();
    let sender = Sender::new(
        mailer,
        probes.webhook_client().clone(),
        probes.guard().clone(),
    );
    let worker = DeliveryWorker::new(
        db.clone(),
        sender,
        "worker".into(),
        200,
        ProberMetrics::default(),
    );
    tokio::spawn(worker.run(stop.clone()));
    tokio::spawn(scheduler(db, settings).run(stop.clone()));
    stop
}

/// Polls `probe` until it returns `Some`, failing after `secs`.
async fn wait_for<T, F, Fut>(secs: u64, what: &str, mut probe: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let start = Instant::now();
    while start.elapsed() < Duration::from_secs(secs) {
        if let Some(value) = probe().await {
            return value;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("timed out after {secs} s waiting for {what}");
}

async fn monitor(api: &Api, s: &Session, id: &str) -> Value {
    api.get(&format!("/api/monitors/{id}"), Some(&s.access))
        .await
        .body
}

async fn wait_state(api: &Api, s: &Session, id: &str, state: &str, secs: u64) -> Value {
    wait_for(secs, &format!("state {state}"), || async {
        let m = monitor(api, s, id).await;
        (m["state"] == state).then_some(m)
    })
    .await
}

fn events(got: &Received, event: &str) -> Vec<(HeaderMap, String)> {
    got.lock()
        .unwrap()
        .iter()
        .filter(|(h, _)| h.get("x-statuswatch-event").is_some_and(|v| v == event))
        .cloned()
        .collect()
}

fn verify_signature(headers: &HeaderMap, body: &str, secret: &str) {
    let header = headers
        .get("x-statuswatch-signature")
        .unwrap()
        .to_str()
        .unwrap();
    let (t, v1) = header.split_once(",v1=").unwrap();
    let t = t.strip_prefix("t=").unwrap();
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(format!("{t}.{body}").as_bytes());
    let expected: String = mac
        .finalize()
        .into_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    assert_eq!(v1, expected, "signature does not verify");
}

#[tokio::test]
async fn a_failing_monitor_goes_down_after_confirmation_alerts_once_and_recovers() {
    for test_db in TestDb::both_migrated().await {
        let db = test_db.db();
        let sink = SmtpSink::start();
        let mailer = Mailer::from_config(&sink.email_config(), false).unwrap();
        let settings = settings();
        let api = Api::new(state_with(db, settings.clone(), mailer.clone()));
        let a = api.signup("alpha", "ann@alpha.example").await;
        let site = target().await;
        let (hook, got) = receiver().await;
        let webhook = api
            .post(
                "/api/alert-channels",
                Some(&a.access),
                json!({"name": "ops hook", "kind": "webhook", "url": hook}),
            )
            .await;
        assert_eq!(webhook.status, StatusCode::CREATED, "{:?}", webhook.body);
        let secret = webhook.body["secret"].as_str().unwrap().to_owned();
        let email = api
            .post(
                "/api/alert-channels",
                Some(&a.access),
                json!({"name": "ops mail", "kind": "email", "to": "ops@alpha.example"}),
            )
            .await;
        assert_eq!(email.status, StatusCode::CREATED, "{:?}", email.body);
        let created = api
            .post(
                "/api/monitors",
                Some(&a.access),
                json!({"name": "Site", "kind": "http", "url": site.url, "interval_seconds": 5,
                       "timeout_seconds": 2, "confirmations": 2}),
            )
            .await;
        assert_eq!(created.status, StatusCode::CREATED, "{:?}", created.body);
        let id = created.body["id"].as_str().unwrap().to_owned();
        let stop = start_engine(db, &settings, mailer);

        // First checked within 5 s of creation.
        let up = wait_state(&api, &a, &id, "up", 5).await;
        let first =
            up["last_checked_at"].as_i64().unwrap() - created.body["created_at"].as_i64().unwrap();
        assert!(first <= 5000, "first check {first} ms after creation");

        // Failing: an immediate re-check confirms it, well before the 5 s interval.
        site.status.store(503, Ordering::SeqCst);
        let failing_since = now_ms();
        let down = wait_state(&api, &a, &id, "down", 12).await;
        assert!(
            down["last_error"].as_str().unwrap().contains("status 503"),
            "{down}"
        );
        let results = api
            .get(
                &format!("/api/monitors/{id}/results?limit=2"),
                Some(&a.access),
            )
            .await;
        let items = results.body["items"].as_array().unwrap();
        assert!(items.iter().all(|r| r["ok"] == false), "{results:?}");
        let confirm_gap =
            items[0]["checked_at"].as_i64().unwrap() - items[1]["checked_at"].as_i64().unwrap();
        assert!(
            confirm_gap < 3000,
            "re-check came {confirm_gap} ms after the failure"
        );
        assert!(now_ms() - failing_since < 12_000);
        let incidents = api.get("/api/incidents", Some(&a.access)).await;
        assert_eq!(
            incidents.body[0]["monitor_id"],
            id.as_str(),
            "{:?}",
            incidents.body
        );
        assert_eq!(incidents.body[0]["state"], "open");

        // One signed webhook and one mail for the change.
        let downs = wait_for(10, "down webhook", || async {
            let found = events(&got, "down");
            (!found.is_empty()).then_some(found)
        })
        .await;
        verify_signature(&downs[0].0, &downs[0].1, &secret);
        let body: Value = serde_json::from_str(&downs[0].1).unwrap();
        assert_eq!(body["monitor_id"], id.as_str());
        assert_eq!(body["state"], "down");
        let mail = sink.wait_for("ops@alpha.example", "is DOWN").await;
        assert!(
            mail.contains("Content-Type: text/html") && mail.contains("Content-Type: text/plain"),
            "{mail}"
        );

        // Recovery resolves the incident, with its timeline.
        site.status.store(200, Ordering::SeqCst);
        wait_state(&api, &a, &id, "up", 10).await;
        let incident_id = incidents.body[0]["id"].as_str().unwrap();
        let incident = api
            .get(&format!("/api/incidents/{incident_id}"), Some(&a.access))
            .await;
        assert_eq!(incident.body["state"], "resolved");
        let kinds: Vec<&str> = incident.body["timeline"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["kind"].as_str().unwrap())
            .collect();
        assert_eq!(
            kinds,
            ["opened", "alerted", "resolved", "alerted"],
            "{:?}",
            incident.body
        );
        let ups = wait_for(10, "up webhook", || async {
            let found = events(&got, "up");
            (!found.is_empty()).then_some(found)
        })
        .await;
        verify_signature(&ups[0].0, &ups[0].1, &secret);
        sink.wait_for("ops@alpha.example", "is back UP").await;
        // Exactly one alert per change and channel, however many checks ran:
        // alerts are queued with the change they announce, so once every
        // queued delivery has gone out, a duplicate would have arrived.
        let log = wait_for(10, "every delivery to go out", || async {
            let log = api.get("/api/alert-deliveries", Some(&a.access)).await.body;
            log.as_array()
                .unwrap()
                .iter()
                .all(|d| d["status"] != "pending")
                .then_some(log)
        })
        .await;
        assert_eq!(events(&got, "down").len(), 1);
        assert_eq!(events(&got, "up").len(), 1);
        let statuses: Vec<(&str, &str)> = log
            .as_array()
            .unwrap()
            .iter()
            .map(|d| (d["event"].as_str().unwrap(), d["status"].as_str().unwrap()))
            .collect();
        assert_eq!(statuses.len(), 4, "{statuses:?}");
        assert!(statuses.iter().all(|(_, s)| *s == "sent"), "{statuses:?}");

        // Paging and uptime.
        let page = api
            .get(
                &format!("/api/monitors/{id}/results?limit=1"),
                Some(&a.access),
            )
            .await;
        let cursor = page.body["next_cursor"]
            .as_str()
            .unwrap_or_else(|| panic!("{} {:?}", db.dialect().name(), page.body));
        let next = api
            .get(
                &format!("/api/monitors/{id}/results?limit=1&cursor={cursor}"),
                Some(&a.access),
            )
            .await;
        assert!(
            next.body["items"][0]["checked_at"].as_i64()
                <= page.body["items"][0]["checked_at"].as_i64()
        );
        assert_ne!(next.body["items"][0]["id"], page.body["items"][0]["id"]);
        let uptime = api
            .get(&format!("/api/monitors/{id}/uptime"), Some(&a.access))
            .await;
        assert!(
            uptime.body["h24"]["failures"].as_i64().unwrap() >= 2,
            "{:?}",
            uptime.body
        );
        let pct = uptime.body["h24"]["uptime_percent"].as_f64().unwrap();
        assert!(pct > 0.0 && pct < 100.0, "{pct}");
        stop.cancel();
    }
}

#[tokio::test]
async fn maintenance_windows_mute_alerts_but_incidents_are_still_recorded() {
    let (test_db, settings, api, a) = sqlite_setup().await;
    let db = test_db.db();
    let mailer = log_mailer();
    let (hook, got) = receiver().await;
    api.post(
        "/api/alert-channels",
        Some(&a.access),
        json!({"name": "hook", "kind": "webhook", "url": hook}),
    )
    .await;
    let now = now_ms();
    let window = api
        .post(
            "/api/maintenance-windows",
            Some(&a.access),
            json!({"title": "db upgrade", "starts_at": now - 1000, "ends_at": now + 600_000}),
        )
        .await;
    assert_eq!(window.status, StatusCode::CREATED, "{:?}", window.body);
    let bad = api
        .post(
            "/api/maintenance-windows",
            Some(&a.access),
            json!({"title": "x", "starts_at": now, "ends_at": now - 1}),
        )
        .await;
    assert_eq!(bad.body["field"], "ends_at");
    let created = api
        .post(
            "/api/monitors",
            Some(&a.access),
            json!({"name": "db", "kind": "tcp", "host": "127.0.0.1", "port": 1, "confirmations": 1, "interval_seconds": 60}),
        )
        .await;
    let id = created.body["id"].as_str().unwrap().to_owned();
    let stop = start_engine(db, &settings, mailer);
    wait_state(&api, &a, &id, "down", 5).await;
    let incidents = api
        .get(&format!("/api/incidents?monitor_id={id}"), Some(&a.access))
        .await;
    let incident_id = incidents.body[0]["id"].as_str().unwrap();
    let incident = api
        .get(&format!("/api/incidents/{incident_id}"), Some(&a.access))
        .await;
    let timeline = incident.body["timeline"].as_array().unwrap();
    assert_eq!(timeline[1]["kind"], "alerts_muted", "{timeline:?}");
    tokio::time::sleep(Duration::from_millis(800)).await;
    assert!(got.lock().unwrap().is_empty());
    let log = api.get("/api/alert-deliveries", Some(&a.access)).await;
    assert_eq!(log.body, json!([]));
    stop.cancel();
}

#[tokio::test]
async fn a_missed_heartbeat_is_down_and_a_ping_brings_it_back() {
    let (test_db, settings, api, a) = sqlite_setup().await;
    let db = test_db.db();
    let mailer = log_mailer();
    let created = api
        .post(
            "/api/monitors",
            Some(&a.access),
            json!({"name": "cron", "kind": "heartbeat", "interval_seconds": 1, "timeout_seconds": 1,
                   "grace_seconds": 1, "confirmations": 1}),
        )
        .await;
    let id = created.body["id"].as_str().unwrap().to_owned();
    let url = created.body["heartbeat_url"].as_str().unwrap();
    let path = url[url.find("/api/heartbeat/").unwrap()..].to_owned();
    let stop = start_engine(db, &settings, mailer);
    wait_state(&api, &a, &id, "up", 5).await;
    let down = wait_state(&api, &a, &id, "down", 8).await;
    assert!(
        down["last_error"]
            .as_str()
            .unwrap()
            .starts_with("no ping for"),
        "{down}"
    );
    let ping = api.call(Method::GET, &path, None, None).await;
    assert_eq!(ping.status, StatusCode::NO_CONTENT);
    wait_state(&api, &a, &id, "up", 3).await;
    stop.cancel();
}

#[tokio::test]
async fn suspended_organizations_are_not_probed() {
    let (test_db, settings, api, a) = sqlite_setup().await;
    let db = test_db.db();
    api.post(
        "/api/monitors",
        Some(&a.access),
        json!({"name": "db", "kind": "tcp", "host": "127.0.0.1", "port": 1}),
    )
    .await;
    sqlx::query("UPDATE tenants SET status = 'suspended' WHERE id = $1")
        .bind(&a.tenant_id)
        .execute(db.pool())
        .await
        .unwrap();
    // Due now: only the suspension can keep it from being claimed.
    sqlx::query("UPDATE monitors SET next_check_at = $1")
        .bind(now_ms())
        .execute(db.pool())
        .await
        .unwrap();
    assert!(scheduler(db, &settings).claim(10).await.unwrap().is_empty());
    sqlx::query("UPDATE tenants SET status = 'active' WHERE id = $1")
        .bind(&a.tenant_id)
        .execute(db.pool())
        .await
        .unwrap();
    assert_eq!(scheduler(db, &settings).claim(10).await.unwrap().len(), 1);
}

#[tokio::test]
async fn two_probers_share_the_work_and_take_over_a_dead_ones_leases() {
    let test_db = TestDb::postgres().await;
    let db = test_db.db();
    db.migrations().run().await.unwrap();
    let mut settings = settings();
    settings.prober.plan_max_monitors = Some(100);
    let api = Api::new(state_with(db, settings.clone(), log_mailer()));
    let a = api.signup("alpha", "ann@alpha.example").await;
    let site = target().await;
    for n in 0..30 {
        let reply = api
            .post(
                "/api/monitors",
                Some(&a.access),
                json!({"name": format!("m{n}"), "kind": "http", "url": site.url, "interval_seconds": 2, "timeout_seconds": 1}),
            )
            .await;
        assert_eq!(reply.status, StatusCode::CREATED, "{:?}", reply.body);
    }
    let stop = CancellationToken::new();
    let one = scheduler(db, &settings);
    let two = scheduler(db, &settings);
    let (one_id, two_id) = (one.owner().to_owned(), two.owner().to_owned());
    tokio::spawn(one.run(stop.clone()));
    tokio::spawn(two.run(stop.clone()));
    // Two rounds of checks of every monitor (interval 2 s).
    wait_for(20, "two rounds of checks", || async {
        let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM check_results")
            .fetch_one(db.pool())
            .await
            .unwrap();
        (n >= 60).then_some(())
    })
    .await;
    stop.cancel();
    tokio::time::sleep(Duration::from_millis(500)).await;
    // No monitor was checked twice for one slot: results of a monitor are an interval apart.
    let rows: Vec<(String, i64)> = sqlx::query_as(
        "SELECT monitor_id, checked_at FROM check_results ORDER BY monitor_id, checked_at",
    )
    .fetch_all(db.pool())
    .await
    .unwrap();
    assert!(rows.len() >= 60, "only {} results", rows.len());
    for pair in rows.windows(2) {
        if pair[0].0 == pair[1].0 {
            let gap = pair[1].1 - pair[0].1;
            // A first check is followed by the next one half to one interval later.
            assert!(
                gap >= 900,
                "monitor {} checked twice {gap} ms apart",
                pair[0].0
            );
        }
    }
    assert!(!one_id.is_empty() && one_id != two_id);

    // A prober leases work and dies: nobody else checks it until the grace period has passed.
    let dead = scheduler(db, &settings);
    sqlx::query("UPDATE monitors SET next_check_at = $1, lease_owner = NULL")
        .bind(now_ms())
        .execute(db.pool())
        .await
        .unwrap();
    let leased = dead.claim(100).await.unwrap();
    assert_eq!(leased.len(), 30);
    let died_at = now_ms();
    let stop = CancellationToken::new();
    tokio::spawn(scheduler(db, &settings).run(stop.clone()));
    // The first check after the death shows when the leases were taken over.
    let taken_at = wait_for(10, "the dead prober's work to be taken over", || async {
        let first: Option<i64> =
            sqlx::query_scalar("SELECT MIN(checked_at) FROM check_results WHERE checked_at > $1")
                .bind(died_at)
                .fetch_one(db.pool())
                .await
                .unwrap();
        first
    })
    .await;
    // Lease = lookahead + timeout (1 s) + grace (5 s).
    assert!(
        taken_at - died_at >= 5000,
        "taken over after {} ms",
        taken_at - died_at
    );
    wait_for(10, "every monitor to be checked again", || async {
        let n: i64 = sqlx::query_scalar(
            "SELECT COUNT(DISTINCT monitor_id) FROM check_results WHERE checked_at > $1",
        )
        .bind(died_at)
        .fetch_one(db.pool())
        .await
        .unwrap();
        (n == 30).then_some(())
    })
    .await;
    stop.cancel();
}

#[tokio::test]
async fn test_alerts_go_out_at_once_and_internal_endpoints_are_refused() {
    for allow_private in [true, false] {
        let test_db = TestDb::sqlite().await;
        let db = test_db.db();
        db.migrations().run().await.unwrap();
        let mut settings = settings();
        settings.prober.allow_private_targets = allow_private;
        let api = Api::new(state_with(db, settings, log_mailer()));
        let a = api.signup("alpha", "ann@alpha.example").await;
        let bad = api
            .post(
                "/api/alert-channels",
                Some(&a.access),
                json!({"name": "x", "kind": "pager", "url": "https://a.example"}),
            )
            .await;
        assert_eq!(bad.body["field"], "kind");
        let bad = api
            .post(
                "/api/alert-channels",
                Some(&a.access),
                json!({"name": "x", "kind": "email", "to": "not-an-address"}),
            )
            .await;
        assert_eq!(bad.body["field"], "to");
        let (hook, got) = receiver().await;
        for kind in ["webhook", "slack", "discord"] {
            let channel = api
                .post(
                    "/api/alert-channels",
                    Some(&a.access),
                    json!({"name": kind, "kind": kind, "url": hook}),
                )
                .await;
            assert_eq!(channel.status, StatusCode::CREATED, "{:?}", channel.body);
            assert_eq!(channel.body["secret"].is_string(), kind == "webhook");
            let id = channel.body["id"].as_str().unwrap();
            let sent = api
                .post(
                    &format!("/api/alert-channels/{id}/test"),
                    Some(&a.access),
                    json!({}),
                )
                .await;
            assert_eq!(sent.status, StatusCode::OK, "{:?}", sent.body);
            if allow_private {
                assert_eq!(sent.body["status"], "sent", "{:?}", sent.body);
            } else {
                assert_eq!(sent.body["status"], "failed");
                assert!(
                    sent.body["last_error"]
                        .as_str()
                        .unwrap()
                        .contains("probes may not reach it")
                );
            }
        }
        let bodies: Vec<Value> = got
            .lock()
            .unwrap()
            .iter()
            .map(|(_, b)| serde_json::from_str(b).unwrap())
            .collect();
        if allow_private {
            assert_eq!(bodies[0]["event"], "test");
            assert!(
                bodies[1]["text"].as_str().unwrap().contains("test alert"),
                "slack: {}",
                bodies[1]
            );
            assert!(
                bodies[2]["content"]
                    .as_str()
                    .unwrap()
                    .contains("test alert"),
                "discord: {}",
                bodies[2]
            );
        } else {
            assert!(bodies.is_empty());
        }
        let log = api.get("/api/alert-deliveries", Some(&a.access)).await;
        assert_eq!(log.body.as_array().unwrap().len(), 3);
        let listed = api.get("/api/alert-channels", Some(&a.access)).await;
        assert!(
            listed
                .body
                .as_array()
                .unwrap()
                .iter()
                .all(|c| c.get("secret").is_none()),
            "secrets stay hidden"
        );
    }
}

#[tokio::test]
async fn a_second_region_must_agree_before_a_monitor_is_down() {
    use app::test_support::ChallTestSrv;
    let (test_db, base, api, a) = sqlite_setup().await;
    let db = test_db.db();
    // East resolves the site to an address where nothing listens; west to the site.
    let (east_dns, west_dns) = (ChallTestSrv::start(), ChallTestSrv::start());
    east_dns.set_a("site.regions.test", &["127.0.0.2"]);
    west_dns.set_a("site.regions.test", &["127.0.0.1"]);
    let site = target().await;
    let port = site
        .url
        .split(':')
        .nth(2)
        .unwrap()
        .split('/')
        .next()
        .unwrap()
        .to_owned();
    let created = api
        .post(
            "/api/monitors",
            Some(&a.access),
            json!({"name": "site", "kind": "http", "url": format!("http://site.regions.test:{port}/health"),
                   "interval_seconds": 2, "timeout_seconds": 1, "confirmations": 2, "regions": 2}),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{:?}", created.body);
    let id = created.body["id"].as_str().unwrap().to_owned();
    let stop = CancellationToken::new();
    let start = |region: &str, dns: &ChallTestSrv| {
        let mut settings = base.clone();
        settings.prober.region = region.into();
        settings.prober.dns_server = Some(dns.dns);
        tokio::spawn(scheduler(db, &settings).run(stop.clone()));
    };
    let results = |region: &'static str| async move {
        let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM check_results WHERE region = $1")
            .bind(region)
            .fetch_one(db.pool())
            .await
            .unwrap();
        n
    };
    // East alone first: its failure waits for another region's opinion (the
    // state is written with the result, so it can be read at once).
    start("east", &east_dns);
    wait_for(5, "east's failure", || async {
        (results("east").await > 0).then_some(())
    })
    .await;
    let m = monitor(&api, &a, &id).await;
    assert_eq!(m["state"], "pending", "east alone cannot decide: {m}");
    // West's opinions let east check again: wait until east has failed as
    // often as would confirm (2), and west has answered as often. Once west
    // has cleared east's failure, whichever prober polls first takes the
    // next check, so east's second may wait several ~2 s rounds of coin
    // flips (one in 2^n to lose n): the bound leaves room for that.
    start("west", &west_dns);
    wait_for(60, "two checks in each region", || async {
        (results("east").await >= 2 && results("west").await >= 2).then_some(())
    })
    .await;
    let regions: Vec<(String, i64)> = sqlx::query_as(
        "SELECT region, MIN(ok) FROM check_results WHERE monitor_id = $1 GROUP BY region ORDER BY region",
    )
    .bind(&id)
    .fetch_all(db.pool())
    .await
    .unwrap();
    assert_eq!(
        regions,
        [("east".to_owned(), 0), ("west".to_owned(), 1)],
        "east failed, west did not"
    );
    let m = monitor(&api, &a, &id).await;
    assert_ne!(
        m["state"], "down",
        "one region's failures made it down: {m}"
    );
    assert_eq!(
        api.get("/api/incidents", Some(&a.access)).await.body,
        json!([])
    );
    // Now both regions see it fail.
    site.status.store(500, Ordering::SeqCst);
    wait_state(&api, &a, &id, "down", 10).await;
    stop.cancel();
}

#[tokio::test]
async fn failed_deliveries_are_retried_with_backoff_and_logged() {
    use std::sync::atomic::AtomicUsize;
    let (test_db, settings, api, a) = sqlite_setup().await;
    let db = test_db.db();
    // The endpoint fails its first request, then accepts.
    let calls = Arc::new(AtomicUsize::new(0));
    let seen = calls.clone();
    let app = Router::new().route(
        "/hook",
        post(move || {
            let n = seen.fetch_add(1, Ordering::SeqCst);
            async move {
                if n == 0 {
                    StatusCode::BAD_GATEWAY
                } else {
                    StatusCode::NO_CONTENT
                }
            }
        }),
    );
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let hook = format!("http://{}/hook", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    api.post(
        "/api/alert-channels",
        Some(&a.access),
        json!({"name": "flaky", "kind": "webhook", "url": hook}),
    )
    .await;
    api.post(
        "/api/monitors",
        Some(&a.access),
        json!({"name": "db", "kind": "tcp", "host": "127.0.0.1", "port": 1, "confirmations": 1}),
    )
    .await;
    let stop = start_engine(db, &settings, log_mailer());
    let first = wait_for(10, "a failed first attempt", || async {
        let log = api.get("/api/alert-deliveries", Some(&a.access)).await;
        (log.body[0]["attempts"] == 1).then_some(log.body[0].clone())
    })
    .await;
    assert_eq!(first["status"], "pending", "{first}");
    assert!(
        first["last_error"].as_str().unwrap().contains("502"),
        "{first}"
    );
    let sent = wait_for(10, "the retry", || async {
        let log = api.get("/api/alert-deliveries", Some(&a.access)).await;
        (log.body[0]["status"] == "sent").then_some(log.body[0].clone())
    })
    .await;
    assert_eq!(sent["attempts"], 2, "{sent}");
    assert!(sent["last_error"].is_null());
    assert_eq!(
        calls.load(Ordering::SeqCst),
        2,
        "one failure, one success, nothing more"
    );
    stop.cancel();
}
