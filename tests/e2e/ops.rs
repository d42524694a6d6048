//! Operations commands: `backup` of a running server and a restore that
//! serves, and `db-check` on SQLite and PostgreSQL.

use serde_json::Value;

use crate::harness::{Server, assert_clean_failure, output, statuswatch};

fn create_tenant(dir: &std::path::Path, slug: &str, database: Option<&str>) {
    let mut command = statuswatch(dir);
    if let Some(url) = database {
        command.env("STATUSWATCH__DATABASE__URL", url);
    }
    let (status, _, stderr) = output(command.args([
        "tenants",
        "create",
        "--slug",
        slug,
        "--name",
        slug,
        "--owner-email",
        &format!("o@{slug}.example"),
    ]));
    assert!(status.success(), "{stderr}");
}

#[tokio::test]
async fn a_backup_taken_while_serving_restores_into_a_server_that_serves() {
    let live = tempfile::tempdir().unwrap();
    let mut server = Server::start(statuswatch(live.path()), "serve", live.path());
    server.wait_for("/health/ready/", 200).await;
    create_tenant(live.path(), "acme", None);

    let file = live.path().join("backup.db");
    let (status, stdout, stderr) = output(statuswatch(live.path()).arg("backup").arg(&file));
    assert!(status.success(), "{stderr}");
    assert!(stdout.starts_with(&file.display().to_string()), "{stdout}");
    assert!(!live.path().join("backup.partial").exists());
    let (status, _, stderr) = output(statuswatch(live.path()).arg("backup").arg(&file));
    assert_clean_failure(status, &stderr);
    assert!(stderr.contains("already exists"), "{stderr}");
    let (status, _, stderr) = output(
        statuswatch(live.path())
            .arg("backup")
            .arg(live.path().join("no/such/dir/b.db")),
    );
    assert_clean_failure(status, &stderr);
    assert!(stderr.contains("cannot write"), "{stderr}");
    // Written after the backup: not in it.
    create_tenant(live.path(), "later", None);
    server.stop();

    let restored = tempfile::tempdir().unwrap();
    std::fs::copy(&file, restored.path().join("statuswatch.db")).unwrap();
    let mut server = Server::start(statuswatch(restored.path()), "serve", restored.path());
    server.wait_for("/health/ready/", 200).await;
    let site: Value = reqwest::Client::new()
        .get(format!("{}/api/site", server.base))
        .header("host", "acme.localhost")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(site["tenant"]["slug"], "acme", "{site}");
    let (status, stdout, _) =
        output(statuswatch(restored.path()).args(["tenants", "list", "--json"]));
    assert!(status.success());
    let slugs: Vec<String> = serde_json::from_str::<Vec<Value>>(&stdout)
        .unwrap()
        .iter()
        .map(|t| t["slug"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(slugs, ["acme"]);
    server.stop();
}

#[tokio::test]
async fn db_check_reports_tenants_and_tables_on_both_databases() {
    let dir = tempfile::tempdir().unwrap();
    let (status, _, stderr) = output(statuswatch(dir.path()).arg("migrate"));
    assert!(status.success(), "{stderr}");
    create_tenant(dir.path(), "acme", None);
    let (status, stdout, stderr) = output(statuswatch(dir.path()).args(["db-check", "--json"]));
    assert!(status.success(), "{stderr}");
    let report: Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(report["dialect"], "sqlite");
    assert!(report["size_bytes"].as_i64().unwrap() > 0, "{report}");
    assert_eq!(report["tenants"][0]["slug"], "acme");
    assert_eq!(report["tenants"][0]["domains"][0], "acme.localhost");
    assert!(
        report["tenants"][0]["rows"]
            .as_array()
            .unwrap()
            .contains(&serde_json::json!(["memberships", 1])),
        "{report}"
    );
    assert!(!report["largest_tables"].as_array().unwrap().is_empty());
    let (status, stdout, _) = output(statuswatch(dir.path()).arg("db-check"));
    assert!(status.success());
    assert!(stdout.contains("acme\tactive\tacme.localhost"), "{stdout}");
    assert!(
        stdout.contains("slow queries\tnot available on SQLite"),
        "{stdout}"
    );

    let pg = app::test_support::PgTestDb::create().await;
    let pg_dir = tempfile::tempdir().unwrap();
    let with_pg = || {
        let mut command = statuswatch(pg_dir.path());
        command.env("STATUSWATCH__DATABASE__URL", pg.url());
        command
    };
    let (status, _, stderr) = output(with_pg().arg("db-check"));
    assert_clean_failure(status, &stderr);
    assert!(
        stderr.contains("migrat"),
        "an unmigrated database is named: {stderr}"
    );
    let (status, _, stderr) = output(with_pg().arg("migrate"));
    assert!(status.success(), "{stderr}");
    create_tenant(pg_dir.path(), "beta", Some(pg.url()));
    let (status, stdout, stderr) = output(with_pg().args(["db-check", "--json"]));
    assert!(status.success(), "{stderr}");
    let report: Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(report["dialect"], "postgres");
    assert_eq!(report["tenants"][0]["slug"], "beta");
    assert!(
        !report["connections"].as_array().unwrap().is_empty(),
        "{report}"
    );
    let tables = report["largest_tables"].as_array().unwrap();
    assert!(
        tables.iter().all(|t| t["dead_ratio"].is_number()),
        "{report}"
    );
    // Either the slowest statements or why they are missing.
    assert!(
        report["slow_queries"]["Ok"].is_array() || report["slow_queries"]["Err"].is_string(),
        "{report}"
    );
    let (status, _, stderr) = output(with_pg().arg("backup").arg(pg_dir.path().join("x.db")));
    assert_clean_failure(status, &stderr);
    assert!(stderr.contains("pg_dump"), "{stderr}");
    pg.drop_now().await;
}

#[tokio::test]
async fn doctor_passes_on_a_healthy_node_and_names_what_is_down() {
    let dir = tempfile::tempdir().unwrap();
    let mut server = Server::start(statuswatch(dir.path()), "serve", dir.path());
    server.wait_for("/health/ready/", 200).await;
    let app_listen = server.base.trim_start_matches("http://").to_owned();
    let edge = format!("127.0.0.1:{}", server.https_port);
    let doctor = |extra: &[&str]| {
        let mut command = statuswatch(dir.path());
        command
            .env("STATUSWATCH__APP__LISTEN", &app_listen)
            .args(["doctor", "--edge", &edge])
            .args(extra);
        output(&mut command)
    };
    // The edge's certificate for the platform name may still be on its way.
    let mut last = String::new();
    for _ in 0..50 {
        let (status, stdout, _) = doctor(&[]);
        last = stdout;
        if status.success() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    for name in [
        "database",
        "migrations",
        "app",
        "edge",
        "disk",
        "memory",
        "certificates",
        "prober_lag",
    ] {
        assert!(
            last.lines()
                .any(|l| l.contains(name) && !l.starts_with("FAIL")),
            "{name} missing or failing:\n{last}"
        );
    }
    assert!(last.contains(&format!("via {edge}")), "{last}");

    let (status, stdout, _) = doctor(&["--json", "--quick"]);
    assert!(status.success(), "{stdout}");
    let checks: Vec<Value> = serde_json::from_str(&stdout).unwrap();
    let names: Vec<&str> = checks.iter().map(|c| c["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["database", "migrations", "app", "edge"]);

    // The container health check.
    let ready = format!("{}/health/ready/", server.base);
    let (status, stdout, _) = output(statuswatch(dir.path()).args(["probe", &ready]));
    assert!(status.success(), "{stdout}");
    let (status, _, _) =
        output(statuswatch(dir.path()).args(["probe", &format!("{}/nope", server.base)]));
    assert_eq!(status.code(), Some(1));
    let (status, _, stderr) = output(statuswatch(dir.path()).args(["probe", "ftp://x"]));
    assert_clean_failure(status, &stderr);

    server.stop();
    let (status, stdout, _) = output(statuswatch(dir.path()).args(["probe", &ready]));
    assert_eq!(status.code(), Some(1), "{stdout}");
    let (status, stdout, _) = doctor(&["--json", "--quick"]);
    assert_eq!(status.code(), Some(1), "{stdout}");
    let checks: Vec<Value> = serde_json::from_str(&stdout).unwrap();
    for name in ["app", "edge"] {
        let check = checks.iter().find(|c| c["name"] == name).unwrap();
        assert_eq!(check["status"], "fail", "{check}");
    }
    let (status, stdout, _) =
        output(statuswatch(dir.path()).args(["doctor", "--quick", "--edge", "nowhere"]));
    assert_eq!(status.code(), Some(1));
    assert!(
        stdout.contains("--edge `nowhere` is not an address"),
        "{stdout}"
    );
}

#[test]
fn doctor_warns_about_error_lines_of_the_last_15_minutes() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("sw.log");
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let stamp = |secs_ago: u64| {
        let out = std::process::Command::new("date")
            .args([
                "-u",
                "-d",
                &format!("@{}", now - secs_ago),
                "+%Y-%m-%dT%H:%M:%S",
            ])
            .output()
            .unwrap();
        String::from_utf8(out.stdout).unwrap().trim().to_owned()
    };
    let line = |secs_ago: u64, level: &str, message: &str| {
        format!(
            r#"{{"timestamp":"{}.000Z","level":"{level}","target":"app","message":"{message}"}}"#,
            stamp(secs_ago)
        )
    };
    // An old error in the rotated file, a fresh one and a warning in the current file.
    std::fs::write(
        dir.path().join("sw.log.1"),
        line(3600, "ERROR", "an hour ago") + "\n",
    )
    .unwrap();
    std::fs::write(
        &log,
        [
            line(120, "ERROR", "database went away"),
            line(60, "WARN", "slow query"),
        ]
        .join("\n")
            + "\n",
    )
    .unwrap();
    let doctor = |file: Option<&std::path::Path>| {
        let mut command = statuswatch(dir.path());
        if let Some(file) = file {
            command.env("STATUSWATCH__LOG__FILE", file);
        }
        let (_, stdout, stderr) =
            output(command.args(["doctor", "--json", "--edge", "127.0.0.1:9"]));
        let checks: Vec<Value> =
            serde_json::from_str(&stdout).unwrap_or_else(|_| panic!("{stdout}{stderr}"));
        checks
            .into_iter()
            .find(|c| c["name"] == "recent_errors")
            .unwrap_or_else(|| panic!("no recent_errors check: {stdout}"))
    };
    let check = doctor(Some(&log));
    assert_eq!(check["status"], "warn", "{check}");
    let detail = check["detail"].as_str().unwrap();
    assert!(detail.starts_with("1 error line(s)"), "{detail}");
    assert!(detail.contains("database went away"), "{detail}");
    std::fs::write(&log, line(60, "INFO", "fine") + "\n").unwrap();
    std::fs::remove_file(dir.path().join("sw.log.1")).unwrap();
    assert_eq!(doctor(Some(&log))["status"], "ok");
    let unset = doctor(None);
    assert_eq!(unset["status"], "ok");
    assert!(
        unset["detail"]
            .as_str()
            .unwrap()
            .contains("log.file is not set"),
        "{unset}"
    );
}

#[tokio::test]
async fn the_edges_request_id_is_in_the_apps_log_lines_and_logs_reads_rotated_files() {
    let dir = tempfile::tempdir().unwrap();
    let log_file = dir.path().join("logs/sw.log");
    let mut command = statuswatch(dir.path());
    command
        .env("STATUSWATCH__LOG__FILE", &log_file)
        .env("STATUSWATCH__LOG__MAX_BYTES", "4096")
        .env("STATUSWATCH__LOG__MAX_FILES", "3");
    let mut server = Server::start(command, "serve", dir.path());
    server.wait_for("/health/ready/", 200).await;
    let ca = std::fs::read(dir.path().join("ca/root.pem")).unwrap();
    let client = reqwest::Client::builder()
        .add_root_certificate(reqwest::Certificate::from_pem(&ca).unwrap())
        .resolve(
            "localhost",
            std::net::SocketAddr::from(([127, 0, 0, 1], server.https_port)),
        )
        .build()
        .unwrap();
    let mut ids = Vec::new();
    for _ in 0..40 {
        let response = client
            .get(format!("https://localhost:{}/api/site", server.https_port))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
        let id = response.headers()["x-request-id"]
            .to_str()
            .unwrap()
            .to_owned();
        ids.push(id);
    }
    let logs = |extra: &[&str]| {
        let mut command = statuswatch(dir.path());
        command
            .env("STATUSWATCH__LOG__FILE", &log_file)
            .env("STATUSWATCH__LOG__MAX_FILES", "3")
            .arg("logs")
            .args(extra);
        output(&mut command)
    };
    let (status, stdout, stderr) = logs(&[]);
    assert!(status.success(), "{stderr}");
    assert!(
        log_file.with_extension("log.1").exists(),
        "the file rotated"
    );
    let last = ids.last().unwrap();
    assert!(
        stdout
            .lines()
            .any(|l| l.contains(&format!("request_id={last}")) && l.contains("path=/api/site")),
        "the edge's request id {last} is on the app's line:\n{stdout}"
    );
    // Lines come oldest first, across the rotated files.
    let times: Vec<&str> = stdout.lines().filter_map(|l| l.split(' ').next()).collect();
    assert!(times.windows(2).all(|w| w[0] <= w[1]), "{stdout}");

    let (status, stdout, _) = logs(&["--errors"]);
    assert!(status.success());
    assert!(!stdout.contains("request done"), "{stdout}");
    let (status, stdout, _) = logs(&["--since", "1h"]);
    assert!(status.success());
    assert!(stdout.contains(last.as_str()));
    let (status, _, stderr) = logs(&["--since", "soon"]);
    assert_clean_failure(status, &stderr);
    assert!(stderr.contains("--since `soon`"), "{stderr}");

    // --follow prints what is logged after it started.
    let mut follow = statuswatch(dir.path());
    follow
        .env("STATUSWATCH__LOG__FILE", &log_file)
        .args(["logs", "--follow", "--since", "1s"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null());
    let mut child = follow.spawn().unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    let response = client
        .get(format!("https://localhost:{}/api/site", server.https_port))
        .header("x-request-id", "follow-me-42")
        .send()
        .await
        .unwrap();
    assert_eq!(response.headers()["x-request-id"], "follow-me-42");
    let stdout = child.stdout.take().unwrap();
    let found = tokio::task::spawn_blocking(move || {
        use std::io::BufRead;
        std::io::BufReader::new(stdout)
            .lines()
            .map_while(Result::ok)
            .any(|l| l.contains("request_id=follow-me-42"))
    });
    let found = tokio::time::timeout(std::time::Duration::from_secs(10), found).await;
    let _ = child.kill();
    let _ = child.wait();
    assert!(
        matches!(found, Ok(Ok(true))),
        "--follow never showed the new line"
    );
    server.stop();

    let (status, _, stderr) = output(statuswatch(dir.path()).arg("logs"));
    assert_clean_failure(status, &stderr);
    assert!(stderr.contains("log.file is not set"), "{stderr}");
}

/// A Sentry-protocol server that keeps every envelope it is sent.
async fn sentry_sink() -> (String, std::sync::Arc<std::sync::Mutex<Vec<String>>>) {
    let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::<String>::new()));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let store = seen.clone();
    let app = axum::Router::new().route(
        "/api/{project}/envelope/",
        axum::routing::post(move |body: axum::body::Bytes| {
            let store = store.clone();
            async move {
                store
                    .lock()
                    .unwrap()
                    .push(String::from_utf8_lossy(&body).into_owned());
                axum::Json(serde_json::json!({ "id": "0" }))
            }
        }),
    );
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (format!("http://publickey@{addr}/42"), seen)
}

#[tokio::test]
async fn errors_reach_a_sentry_server_with_secrets_scrubbed() {
    let (dsn, seen) = sentry_sink().await;
    let dir = tempfile::tempdir().unwrap();
    // A failing command whose error names a database URL with its password.
    let (status, _, stderr) = output(
        statuswatch(dir.path())
            .env("STATUSWATCH__TELEMETRY__SENTRY_DSN", &dsn)
            .env(
                "STATUSWATCH__DATABASE__URL",
                "postgres://sw:hunter2secret@127.0.0.1:1/sw",
            )
            .env("STATUSWATCH__DATABASE__CONNECT_TIMEOUT_SECONDS", "1")
            .arg("migrate"),
    );
    assert_clean_failure(status, &stderr);
    // An error log line naming a Stripe key (a log file that cannot be opened).
    let blocker = dir.path().join("file");
    std::fs::write(&blocker, "").unwrap();
    let (status, _, stderr) = output(
        statuswatch(dir.path())
            .env("STATUSWATCH__TELEMETRY__SENTRY_DSN", &dsn)
            .env(
                "STATUSWATCH__LOG__FILE",
                blocker.join("sk_live_abc123secret/x.log"),
            )
            .arg("migrate"),
    );
    assert!(status.success(), "{stderr}");
    let mut envelopes = String::new();
    for _ in 0..50 {
        envelopes = seen.lock().unwrap().join("\n");
        if envelopes.contains("cannot open log.file") && envelopes.contains("cannot connect") {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(
        envelopes.contains("cannot connect to database"),
        "{envelopes}"
    );
    assert!(envelopes.contains("cannot open log.file"), "{envelopes}");
    assert!(envelopes.contains("[REDACTED]"), "{envelopes}");
    for secret in ["hunter2secret", "abc123secret"] {
        assert!(
            !envelopes.contains(secret),
            "{secret} reached Sentry: {envelopes}"
        );
    }

    // A malformed DSN is a configuration error that does not echo it.
    let (status, _, stderr) = output(
        statuswatch(dir.path())
            .env("STATUSWATCH__TELEMETRY__SENTRY_DSN", "not a dsn secretish")
            .arg("migrate"),
    );
    assert_clean_failure(status, &stderr);
    assert!(
        stderr.contains("telemetry.sentry_dsn: not a DSN"),
        "{stderr}"
    );
    assert!(!stderr.contains("secretish"), "{stderr}");
}
