//! `serve`, `app` and `migrate` against real databases.

use serde_json::Value;

use crate::harness::{Server, assert_clean_failure, free_port, output, statuswatch};
use app::test_support::PgTestDb;

#[tokio::test]
async fn serve_on_a_fresh_data_dir_is_ready_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let mut server = Server::start(statuswatch(&data), "serve", dir.path());
    let ready: Value = server
        .wait_for("/health/ready/", 200)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(ready["status"], "ready");
    assert_eq!(ready["database"], "sqlite");
    assert!(
        data.join("statuswatch.db").is_file(),
        "database file not created"
    );

    let live: Value = server.wait_for("/health/", 200).await.json().await.unwrap();
    assert_eq!(live["status"], "ok");
    let metrics = server.wait_for("/metrics", 200).await.text().await.unwrap();
    assert!(metrics.contains("app_http_requests_total"), "{metrics}");

    let status = server.stop();
    assert!(status.success(), "exit {status}:\n{}", server.log());
    assert!(
        server.log().contains("shutdown requested"),
        "{}",
        server.log()
    );
}

#[tokio::test]
async fn serve_without_migrating_waits_for_migrate_run_beside_it() {
    let dir = tempfile::tempdir().unwrap();
    let mut command = statuswatch(dir.path());
    command.env("STATUSWATCH__DATABASE__MIGRATE_ON_START", "false");
    let mut server = Server::start(command, "serve", dir.path());
    let body: Value = server
        .wait_for("/health/ready/", 503)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(body["code"], "migrations_not_current");

    let (status, stdout, stderr) = output(statuswatch(dir.path()).arg("migrate"));
    assert!(status.success(), "{stderr}");
    assert!(
        stdout.starts_with("migrated: schema is current"),
        "{stdout}"
    );
    server.wait_for("/health/ready/", 200).await;
    server.stop();
}

#[tokio::test]
async fn app_role_runs_on_postgres_and_migrate_is_idempotent() {
    let pg = PgTestDb::create().await;
    let dir = tempfile::tempdir().unwrap();
    let with_pg = |command: &mut std::process::Command| {
        command.env("STATUSWATCH__DATABASE__URL", pg.url());
    };

    let mut first = statuswatch(dir.path());
    with_pg(first.arg("migrate"));
    let (status, stdout, stderr) = output(&mut first);
    assert!(status.success(), "{stderr}");
    assert!(stdout.starts_with("migrated: "), "{stdout}");
    let mut again = statuswatch(dir.path());
    with_pg(again.arg("migrate"));
    let (status, stdout, stderr) = output(&mut again);
    assert!(status.success(), "{stderr}");
    assert!(
        stdout.starts_with("nothing to do: schema is current"),
        "{stdout}"
    );

    let mut command = statuswatch(dir.path());
    with_pg(&mut command);
    let mut server = Server::start(command, "app", dir.path());
    let ready: Value = server
        .wait_for("/health/ready/", 200)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(ready["database"], "postgres");
    assert!(server.stop().success(), "{}", server.log());
    assert!(
        !dir.path().join("statuswatch.db").exists(),
        "app on PostgreSQL created a SQLite file"
    );
}

#[tokio::test]
async fn app_role_refuses_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let (status, _, stderr) = output(statuswatch(dir.path()).arg("app"));
    assert_clean_failure(status, &stderr);
    assert!(stderr.contains("needs PostgreSQL"), "{stderr}");
}

#[tokio::test]
async fn unreachable_database_is_named_without_its_password() {
    let dir = tempfile::tempdir().unwrap();
    for command in ["migrate", "serve"] {
        let (status, _, stderr) = output(
            statuswatch(dir.path())
                .arg(command)
                .env(
                    "STATUSWATCH__APP__LISTEN",
                    format!("127.0.0.1:{}", free_port()),
                )
                .env(
                    "STATUSWATCH__DATABASE__URL",
                    "postgres://sw:hunter2@127.0.0.1:1/sw",
                )
                .env("STATUSWATCH__DATABASE__CONNECT_TIMEOUT_SECONDS", "3"),
        );
        assert_clean_failure(status, &stderr);
        assert!(
            stderr.contains("cannot connect to database postgres://sw:REDACTED@127.0.0.1:1/sw"),
            "{command}: {stderr}"
        );
        assert!(
            !stderr.contains("hunter2"),
            "{command} leaked the password: {stderr}"
        );
    }
}

#[tokio::test]
async fn a_taken_port_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let address = taken.local_addr().unwrap().to_string();
    let (status, _, stderr) = output(
        statuswatch(dir.path())
            .arg("serve")
            .env("STATUSWATCH__APP__LISTEN", &address),
    );
    assert_clean_failure(status, &stderr);
    assert!(
        stderr.contains(&format!("cannot listen on app.listen {address}")),
        "{stderr}"
    );
    assert!(
        !dir.path().join("statuswatch.db").exists(),
        "created a database before failing"
    );
}
