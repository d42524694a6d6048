//! The prober role: in-process under `serve` on SQLite, and two `statuswatch
//! prober` processes on one PostgreSQL, one of them killed mid-lease.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use app::clock::now_ms;
use app::monitor::spec::Limits;
use app::monitor::{MonitorInput, store};
use app::test_support::PgTestDb;
use axum::Router;
use axum::routing::get;
use serde_json::{Value, json};

use crate::harness::{Server, output, statuswatch};

/// A target that answers after `delay_ms`, so checks are in flight for a while.
async fn slow_target(delay_ms: u64) -> String {
    let app = Router::new().route(
        "/",
        get(move || async move {
            tokio::time::sleep(Duration::from_millis(delay_ms)).await;
            "ok"
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    url
}

#[tokio::test]
async fn serve_checks_a_new_monitor_within_five_seconds() {
    let dir = tempfile::tempdir().unwrap();
    let target = slow_target(0).await;
    let mut server = Server::start(statuswatch(dir.path()), "serve", dir.path());
    server.wait_for("/health/ready/", 200).await;
    let client = reqwest::Client::new();
    let signup: Value = client
        .post(format!("{}/api/auth/signup", server.base))
        .json(&json!({ "organization": "Alpha", "slug": "alpha", "email": "ann@alpha.example", "password": "tangerine-umbrella-42" }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let token = signup["access_token"].as_str().unwrap();
    let created: Value = client
        .post(format!("{}/api/monitors", server.base))
        .bearer_auth(token)
        .json(&json!({ "name": "site", "kind": "http", "url": target }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let id = created["id"].as_str().unwrap();
    let start = Instant::now();
    loop {
        let monitor: Value = client
            .get(format!("{}/api/monitors/{id}", server.base))
            .bearer_auth(token)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        if monitor["state"] == "up" {
            let after = monitor["last_checked_at"].as_i64().unwrap()
                - created["created_at"].as_i64().unwrap();
            assert!(after <= 5000, "first check {after} ms after creation");
            break;
        }
        assert!(
            start.elapsed() < Duration::from_secs(6),
            "not up in time: {monitor}\n{}",
            server.log()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let metrics = client
        .get(format!("{}/metrics", server.base))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(metrics.contains("prober_checks_total{"), "{metrics}");
    assert!(server.stop().success(), "{}", server.log());
}

/// The lease owner id a prober logged at start.
fn owner_in(log: &str) -> Option<String> {
    let at = log.find("prober-")?;
    let id: String = log[at..]
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '-')
        .collect();
    (id.len() > "prober-".len() + 30).then_some(id)
}

/// A fresh PostgreSQL database migrated by `statuswatch migrate`, and a data directory.
async fn migrated_postgres() -> (PgTestDb, tempfile::TempDir) {
    let pg = PgTestDb::create().await;
    let dir = tempfile::tempdir().unwrap();
    let (status, _, stderr) = output(
        statuswatch(dir.path())
            .arg("migrate")
            .env("STATUSWATCH__DATABASE__URL", pg.url()),
    );
    assert!(status.success(), "{stderr}");
    (pg, dir)
}

#[tokio::test]
async fn a_killed_probers_leased_work_is_taken_over_after_the_grace_period() {
    let (pg, dir) = migrated_postgres().await;
    let db = pg.connect().await;
    let tenant = app::clock::new_id();
    sqlx::query("INSERT INTO tenants (id, slug, name, created_at, updated_at) VALUES ($1, 'alpha', 'Alpha', 0, 0)")
        .bind(&tenant)
        .execute(db.pool())
        .await
        .unwrap();
    let target = slow_target(700).await;
    for n in 0..20 {
        let input: MonitorInput = serde_json::from_value(json!({
            "name": format!("m{n}"), "kind": "http", "url": target,
            "interval_seconds": 2, "timeout_seconds": 2
        }))
        .unwrap();
        store::create(
            &db,
            &tenant,
            &input,
            Limits {
                min_interval_seconds: 1,
            },
            100,
            "",
        )
        .await
        .unwrap();
    }
    let prober = |region: &str| {
        let mut command = statuswatch(dir.path());
        command
            .env("STATUSWATCH__DATABASE__URL", pg.url())
            .env("STATUSWATCH__PROBER__ALLOW_PRIVATE_TARGETS", "true")
            .env("STATUSWATCH__PROBER__LEASE_GRACE_SECONDS", "5")
            .env("STATUSWATCH__PROBER__REGION", region);
        Server::start(command, "prober", dir.path())
    };
    let mut east = prober("east");
    let mut west = prober("west");
    // Both work.
    let start = Instant::now();
    loop {
        let regions: Vec<String> =
            sqlx::query_scalar("SELECT DISTINCT region FROM check_results ORDER BY 1")
                .fetch_all(db.pool())
                .await
                .unwrap();
        if regions == ["east", "west"] {
            break;
        }
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "regions {regions:?}\n{}\n{}",
            east.log(),
            west.log()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let east_owner = owner_in(&east.log()).unwrap_or_else(|| panic!("no owner in {}", east.log()));
    // Kill east while it holds leases. It is frozen first, so the leases read
    // are exactly those it held when it died: between a read and a plain kill
    // it could still finish a check and release that lease.
    let (leased, killed_at): (BTreeMap<String, i64>, i64) = loop {
        east.signal("STOP");
        // Let statements east had already sent settle in PostgreSQL.
        tokio::time::sleep(Duration::from_millis(100)).await;
        let frozen_at = now_ms();
        let rows: Vec<(String, i64)> =
            sqlx::query_as("SELECT id, lease_expires_at FROM monitors WHERE lease_owner = $1")
                .bind(&east_owner)
                .fetch_all(db.pool())
                .await
                .unwrap();
        if !rows.is_empty() {
            east.signal("KILL");
            break (rows.into_iter().collect(), frozen_at);
        }
        east.signal("CONT");
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    let _ = east.wait_exit(Duration::from_secs(5));
    // Every monitor east held is checked by west, only once its lease has expired.
    let start = Instant::now();
    let firsts = loop {
        let mut firsts = BTreeMap::new();
        for monitor in leased.keys() {
            let first: Option<i64> = sqlx::query_scalar(
                "SELECT MIN(checked_at) FROM check_results WHERE monitor_id = $1 AND checked_at > $2",
            )
            .bind(monitor)
            .bind(killed_at)
            .fetch_one(db.pool())
            .await
            .unwrap();
            if let Some(first) = first {
                firsts.insert(monitor.clone(), first);
            }
        }
        if firsts.len() == leased.len() {
            break firsts;
        }
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "only {firsts:?} of {leased:?} were checked again\n{}",
            west.log()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    for (monitor, expires) in &leased {
        let first = firsts[monitor];
        assert!(
            first >= *expires - 50,
            "checked at {first}, before the lease expired at {expires}"
        );
        assert!(
            first - killed_at >= 5000,
            "taken over only {} ms after the kill",
            first - killed_at
        );
    }
    // No check of one monitor ran twice at once, across both probers.
    let rows: Vec<(String, i64)> = sqlx::query_as(
        "SELECT monitor_id, checked_at FROM check_results ORDER BY monitor_id, checked_at",
    )
    .fetch_all(db.pool())
    .await
    .unwrap();
    for pair in rows.windows(2) {
        if pair[0].0 == pair[1].0 {
            let gap = pair[1].1 - pair[0].1;
            assert!(
                gap >= 900,
                "monitor {} checked twice {gap} ms apart",
                pair[0].0
            );
        }
    }
    assert!(west.stop().success(), "{}", west.log());
    let left: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM monitors WHERE lease_owner IS NOT NULL AND lease_owner <> $1",
    )
    .bind(&east_owner)
    .fetch_one(db.pool())
    .await
    .unwrap();
    assert_eq!(left, 0, "a clean stop releases its leases");
}

#[tokio::test]
async fn a_lone_prober_shows_its_metrics_on_its_own_listener() {
    let (pg, dir) = migrated_postgres().await;

    // A taken port is named before anything runs.
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let address = taken.local_addr().unwrap().to_string();
    let (status, _, stderr) = output(
        statuswatch(dir.path())
            .arg("prober")
            .env("STATUSWATCH__DATABASE__URL", pg.url())
            .env("STATUSWATCH__PROBER__METRICS_LISTEN", &address),
    );
    crate::harness::assert_clean_failure(status, &stderr);
    assert!(
        stderr.contains(&format!("cannot listen on prober.metrics_listen {address}")),
        "{stderr}"
    );
    drop(taken);

    let port = crate::harness::free_port();
    let mut command = statuswatch(dir.path());
    command.env("STATUSWATCH__DATABASE__URL", pg.url()).env(
        "STATUSWATCH__PROBER__METRICS_LISTEN",
        format!("127.0.0.1:{port}"),
    );
    let mut prober = Server::start(command, "prober", dir.path());
    prober
        .wait_for_url(&format!("http://127.0.0.1:{port}/health/"), 200)
        .await;
    let metrics = reqwest::get(format!("http://127.0.0.1:{port}/metrics"))
        .await
        .unwrap();
    assert_eq!(metrics.status(), 200);
    assert!(
        metrics.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("application/openmetrics-text"),
        "{:?}",
        metrics.headers()
    );
    let text = metrics.text().await.unwrap();
    for family in [
        "prober_checks",
        "prober_check_start_lateness_seconds",
        "prober_checks_in_flight",
    ] {
        assert!(
            text.contains(&format!("# TYPE {family}")),
            "{family} missing:\n{text}"
        );
    }
    assert!(prober.stop().success(), "{}", prober.log());
}
