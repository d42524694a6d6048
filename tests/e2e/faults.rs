//! Fault drills: the database goes away under traffic and comes back. The
//! app, edge and prober run as separate nodes on PostgreSQL, reaching it
//! through a switch that can cut every connection and refuse new ones, which
//! is what the nodes see of a stopped database server.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::harness::{Server, Switch, output, statuswatch};

/// How long the database stays away (a minute in the Drills table's run).
fn outage() -> Duration {
    let seconds = std::env::var("SW_DRILL_OUTAGE_SECONDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(15);
    Duration::from_secs(seconds)
}

async fn check_results(db: &app::db::Database) -> i64 {
    sqlx::query_scalar("SELECT COUNT(*) FROM check_results")
        .fetch_one(db.pool())
        .await
        .unwrap()
}

/// A client of the edge for `names`, on fresh connections each time (so
/// every request is a new handshake for a held certificate).
fn edge_client(ca: &str, port: u16, names: &[&str]) -> reqwest::Client {
    let mut builder = reqwest::Client::builder()
        .add_root_certificate(reqwest::Certificate::from_pem(ca.as_bytes()).unwrap())
        .pool_max_idle_per_host(0)
        .timeout(Duration::from_secs(10));
    for name in names {
        builder = builder.resolve(name, SocketAddr::from(([127, 0, 0, 1], port)));
    }
    builder.build().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_database_stopped_under_traffic_then_back() {
    let pg = app::test_support::PgTestDb::create().await;
    let direct = pg.connect().await;
    let mut switch = Switch::start(SocketAddr::from(([127, 0, 0, 1], 5432))).await;
    let url = pg.url().replace("127.0.0.1:5432", &switch.addr.to_string());
    assert_ne!(
        url,
        pg.url(),
        "the nodes must reach the database through the switch"
    );
    let dirs: Vec<tempfile::TempDir> = (0..3).map(|_| tempfile::tempdir().unwrap()).collect();
    let (status, _, stderr) = output(
        statuswatch(dirs[0].path())
            .arg("migrate")
            .env("STATUSWATCH__DATABASE__URL", &url),
    );
    assert!(status.success(), "{stderr}");

    let target = {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/", listener.local_addr().unwrap());
        let app = axum::Router::new().fallback(|| async { "ok" });
        tokio::spawn(async move { axum::serve(listener, app).await });
        url
    };
    let node = |dir: &tempfile::TempDir| {
        let mut command = statuswatch(dir.path());
        command
            .env("STATUSWATCH__DATABASE__URL", &url)
            .env("STATUSWATCH__DATABASE__CONNECT_TIMEOUT_SECONDS", "3")
            .env("STATUSWATCH__PROBER__ALLOW_PRIVATE_TARGETS", "true")
            .env("STATUSWATCH__PROBER__PLAN_MIN_INTERVAL_SECONDS", "1")
            .env("STATUSWATCH__PROBER__LEASE_GRACE_SECONDS", "5");
        command
    };
    let mut app_node = Server::start(node(&dirs[0]), "app", dirs[0].path());
    app_node.wait_for("/health/ready/", 200).await;
    let site = dirs[1].path().join("site");
    std::fs::create_dir_all(&site).unwrap();
    std::fs::write(site.join("index.html"), "<!doctype html><p>spa</p>").unwrap();
    let mut edge_command = node(&dirs[1]);
    edge_command
        .env("STATUSWATCH__EDGE__STATIC_ROOT", &site)
        .env(
            "STATUSWATCH__EDGE__APP_UPSTREAMS",
            app_node.base.trim_start_matches("http://"),
        );
    let mut edge_node = Server::start(edge_command, "edge", dirs[1].path());
    edge_node
        .wait_for_url(
            &format!("http://127.0.0.1:{}/health", edge_node.admin_port),
            200,
        )
        .await;
    let mut prober = Server::start(node(&dirs[2]), "prober", dirs[2].path());

    let api = reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap();
    let token = crate::harness::sign_up(&app_node.base, "acme").await;
    let created = api
        .post(format!("{}/api/monitors", app_node.base))
        .bearer_auth(&token)
        .json(&json!({ "name": "site", "kind": "http", "url": target, "interval_seconds": 1 }))
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), 201, "{}", created.text().await.unwrap());
    let started = Instant::now();
    while check_results(&direct).await < 2 {
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "no checks:\n{}",
            prober.log()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }

    // Certificates for both names are held before the outage.
    let ca = crate::harness::wait_for_file(&dirs[1].path().join("ca/root.pem")).await;
    let port = edge_node.https_port;
    let edge = edge_client(&ca, port, &["localhost", "acme.localhost"]);
    for host in ["localhost", "acme.localhost"] {
        let spa = edge
            .get(format!("https://{host}:{port}/"))
            .send()
            .await
            .unwrap();
        assert_eq!(spa.status(), 200, "{host}");
    }

    switch.off();
    let stored_before = check_results(&direct).await;
    let down_at = Instant::now();
    let mut rounds = 0;
    let mut slowest_api = Duration::ZERO;
    while down_at.elapsed() < outage() {
        rounds += 1;
        // The edge: the SPA and every held certificate, on new handshakes.
        for host in ["localhost", "acme.localhost"] {
            let spa = edge.get(format!("https://{host}:{port}/")).send().await;
            let spa = spa.unwrap_or_else(|e| panic!("{host} during the outage: {e}"));
            assert_eq!(spa.status(), 200, "{host} during the outage");
        }
        // Readiness says why; the API answers a clear 503, not a hang.
        let ready = api
            .get(format!("{}/health/ready/", app_node.base))
            .send()
            .await
            .unwrap();
        assert_eq!(ready.status(), 503);
        let ready: Value = ready.json().await.unwrap();
        assert!(
            ready["code"]
                .as_str()
                .unwrap_or_default()
                .starts_with("database_"),
            "{ready}"
        );
        let asked = Instant::now();
        let answer = api
            .get(format!("{}/api/monitors", app_node.base))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap();
        slowest_api = slowest_api.max(asked.elapsed());
        assert_eq!(answer.status(), 503);
        assert_eq!(answer.headers()["retry-after"], "5");
        let body: Value = answer.json().await.unwrap();
        assert_eq!(body["code"], "database_unavailable", "{body}");
        assert!(
            prober.try_status().is_none(),
            "the prober exited:\n{}",
            prober.log()
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    assert!(
        slowest_api < Duration::from_secs(6),
        "an API answer took {slowest_api:?} (connect timeout 3 s)"
    );
    assert!(rounds >= 3);

    switch.on();
    let back_at = Instant::now();
    app_node.wait_for("/health/ready/", 200).await;
    let listed = api
        .get(format!("{}/api/monitors", app_node.base))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(listed.status(), 200);
    // Nothing written before the outage is gone; checks resume.
    while check_results(&direct).await < stored_before + 3 {
        assert!(
            back_at.elapsed() < Duration::from_secs(30),
            "checks did not resume:\n{}",
            prober.log()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    eprintln!(
        "drill: database away {:?}, {rounds} rounds answered, slowest API answer {slowest_api:?}, \
         checks resumed {:?} after it came back",
        outage(),
        back_at.elapsed()
    );
    for node in [&mut prober, &mut edge_node, &mut app_node] {
        assert!(node.stop().success(), "{}", node.log());
    }
}
