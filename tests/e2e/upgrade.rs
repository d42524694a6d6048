//! A rolling deploy on PostgreSQL, as docs/operations.md describes it, with a
//! client counting failed requests throughout: the previous release runs
//! (two app nodes, an edge, a prober), the new release migrates the database
//! under it (so the previous release's queries must still work on the new
//! schema), app nodes are replaced one at a time behind the edge's health
//! checks, the edge hands its sockets to the new binary, the prober is
//! replaced, and finally the rollback path: the previous release's app on the
//! new schema.
//!
//! The previous release is built by `scripts/test.sh` (see
//! `scripts/previous-release`) and named by `STATUSWATCH_PREVIOUS_BIN`.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::time::Duration;

use serde_json::{Value, json};

use crate::harness::{Server, free_port, output, statuswatch_at, wait_for_path};

fn previous_release() -> Option<PathBuf> {
    let path = std::env::var_os("STATUSWATCH_PREVIOUS_BIN").map(PathBuf::from).expect(
        "STATUSWATCH_PREVIOUS_BIN is not set: scripts/test.sh builds the previous release and sets it",
    );
    if path.as_os_str() == "unavailable" {
        // A shallow clone has no previous release to build; scripts/test.sh said so.
        eprintln!("SKIPPED: the previous release is not in this clone");
        return None;
    }
    assert!(
        path.is_file(),
        "{} is not the previous release's binary",
        path.display()
    );
    Some(path)
}

/// One role on PostgreSQL with private targets allowed (the test's target is local).
fn role(exe: &Path, dir: &Path, pg: &str) -> std::process::Command {
    let mut command = statuswatch_at(exe, dir);
    command
        .env("STATUSWATCH__DATABASE__URL", pg)
        .env("STATUSWATCH__DATABASE__MIGRATE_ON_START", "false")
        .env("STATUSWATCH__PROBER__ALLOW_PRIVATE_TARGETS", "true")
        .env("STATUSWATCH__PROBER__PLAN_MIN_INTERVAL_SECONDS", "1");
    command
}

fn app_node(exe: &Path, dir: &Path, pg: &str, port: u16) -> Server {
    Server::start_on(
        role(exe, dir, pg),
        &["app"],
        dir,
        (port, free_port(), free_port(), free_port()),
    )
}

async fn target() -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let app = axum::Router::new().route("/", axum::routing::get(|| async { "ok" }));
        axum::serve(listener, app).await.unwrap();
    });
    format!("http://{addr}/")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_rolling_deploy_from_the_previous_release_drops_no_request() {
    let Some(previous) = previous_release() else {
        return;
    };
    let current = PathBuf::from(env!("CARGO_BIN_EXE_statuswatch"));
    let pg = app::test_support::PgTestDb::create().await;
    let dir = tempfile::tempdir().unwrap();
    let (a_dir, b_dir, edge_dir, prober_dir) = (
        dir.path().join("a"),
        dir.path().join("b"),
        dir.path().join("edge"),
        dir.path().join("prober"),
    );
    for d in [&a_dir, &b_dir, &edge_dir, &prober_dir] {
        std::fs::create_dir_all(d).unwrap();
    }
    std::fs::create_dir_all(edge_dir.join("site")).unwrap();
    std::fs::write(
        edge_dir.join("site/index.html"),
        "<!doctype html><title>t</title>",
    )
    .unwrap();

    // The previous release, running.
    let (status, _, stderr) = output(role(&previous, dir.path(), pg.url()).arg("migrate"));
    assert!(status.success(), "{stderr}");
    let (port_a, port_b) = (free_port(), free_port());
    let mut a = app_node(&previous, &a_dir, pg.url(), port_a);
    let mut b = app_node(&previous, &b_dir, pg.url(), port_b);
    a.wait_for("/health/ready/", 200).await;
    b.wait_for("/health/ready/", 200).await;
    let edge_command = |exe: &Path| {
        let mut command = role(exe, &edge_dir, pg.url());
        command
            .env("STATUSWATCH__EDGE__STATIC_ROOT", edge_dir.join("site"))
            .env(
                "STATUSWATCH__EDGE__APP_UPSTREAMS",
                format!("127.0.0.1:{port_a},127.0.0.1:{port_b}"),
            );
        command
    };
    let edge_ports = (free_port(), free_port(), free_port(), free_port());
    let mut edge = Server::start_on(edge_command(&previous), &["edge"], &edge_dir, edge_ports);
    edge.wait_for_url(&format!("http://127.0.0.1:{}/health", edge.admin_port), 200)
        .await;
    let mut prober = Server::start_on(
        role(&previous, &prober_dir, pg.url()),
        &["prober"],
        &prober_dir,
        (free_port(), free_port(), free_port(), free_port()),
    );

    let direct = reqwest::Client::new();
    let signup: Value = direct
        .post(format!("{}/api/auth/signup", a.base))
        .json(&json!({"organization": "Acme", "slug": "acme", "email": "o@acme.example", "password": "correct horse battery"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let token = signup["access_token"]
        .as_str()
        .expect("signed up")
        .to_owned();
    let target = target().await;
    let created = direct
        .post(format!("{}/api/monitors", b.base))
        .bearer_auth(&token)
        .json(&json!({"name": "site", "kind": "http", "url": target, "interval_seconds": 2, "timeout_seconds": 2}))
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), 201, "{}", created.text().await.unwrap());

    // A client through the edge for the whole deploy.
    let ca = crate::harness::wait_for_file(&edge_dir.join("ca/root.pem")).await;
    let https = edge.https_port;
    let client = reqwest::Client::builder()
        .add_root_certificate(reqwest::Certificate::from_pem(ca.as_bytes()).unwrap())
        .resolve("localhost", SocketAddr::from(([127, 0, 0, 1], https)))
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap();
    let stop = Arc::new(AtomicBool::new(false));
    let made = Arc::new(AtomicU32::new(0));
    let load = {
        let (client, stop, made, token) =
            (client.clone(), stop.clone(), made.clone(), token.clone());
        tokio::spawn(async move {
            let mut failed = Vec::new();
            while !stop.load(Ordering::Relaxed) {
                let request = client
                    .get(format!("https://localhost:{https}/api/monitors"))
                    .bearer_auth(&token);
                match request.send().await {
                    Ok(r) if r.status() == 200 => {}
                    Ok(r) => failed.push(format!("status {}", r.status())),
                    Err(err) => failed.push(format!("{err:?}")),
                }
                made.fetch_add(1, Ordering::Relaxed);
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
            failed
        })
    };
    let progress = |n: u32| {
        let made = made.clone();
        async move {
            let until = made.load(Ordering::Relaxed) + n;
            for _ in 0..1500 {
                if made.load(Ordering::Relaxed) >= until {
                    return;
                }
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            panic!("the client stalled");
        }
    };
    progress(20).await;

    // 1. Migrations first, under the running previous release.
    let (status, _, stderr) = output(role(&current, dir.path(), pg.url()).arg("migrate"));
    assert!(status.success(), "{stderr}");
    progress(20).await;

    // 2. App nodes one at a time: stop (drains), start the new one on its port.
    a.stop();
    a = app_node(&current, &a_dir, pg.url(), port_a);
    a.wait_for("/health/ready/", 200).await;
    progress(20).await;
    b.stop();
    b = app_node(&current, &b_dir, pg.url(), port_b);
    b.wait_for("/health/ready/", 200).await;
    progress(20).await;

    // 3. The edge hands its sockets to the new binary.
    let mut new_edge = Server::start_on(
        edge_command(&current),
        &["edge", "--upgrade"],
        &edge_dir,
        edge_ports,
    );
    wait_for_path(&edge_dir.join("upgrade.sock")).await;
    edge.signal("QUIT");
    let status = edge.wait_exit(Duration::from_secs(20));
    assert!(status.success(), "old edge: {status}\n{}", edge.log());
    progress(20).await;

    // 4. The prober.
    prober.stop();
    let mut new_prober = Server::start_on(
        role(&current, &prober_dir, pg.url()),
        &["prober"],
        &prober_dir,
        (free_port(), free_port(), free_port(), free_port()),
    );
    progress(20).await;
    stop.store(true, Ordering::Relaxed);
    let failed = load.await.unwrap();
    assert!(
        failed.is_empty(),
        "{} of {} requests failed during the deploy: {failed:?}\nEDGE:\n{}\nNEW EDGE:\n{}",
        failed.len(),
        made.load(Ordering::Relaxed),
        edge.log(),
        new_edge.log()
    );

    // The new prober checks what the previous release created.
    let mut checked = false;
    for _ in 0..100 {
        let list: Value = direct
            .get(format!("{}/api/monitors", a.base))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let text = list.to_string();
        if text.contains("\"up\"") {
            checked = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert!(
        checked,
        "the monitor never went up under the new prober\n{}",
        new_prober.log()
    );

    // 5. Rollback: the previous release's app on the new schema still serves.
    a.stop();
    let mut rolled_back = app_node(&previous, &a_dir, pg.url(), port_a);
    rolled_back.wait_for("/health/ready/", 200).await;
    let list = direct
        .get(format!("{}/api/monitors", rolled_back.base))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(list.status(), 200, "{}", list.text().await.unwrap());
    for server in [&mut rolled_back, &mut b, &mut new_edge, &mut new_prober] {
        server.stop();
    }
    pg.drop_now().await;
}
