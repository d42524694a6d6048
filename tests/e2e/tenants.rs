//! `statuswatch tenants …` and `users …`, including while `serve` runs on the same SQLite file.

use serde_json::{Value, json};

use crate::harness::{Server, assert_clean_failure, output, statuswatch};

#[tokio::test]
async fn tenant_commands_work_beside_a_running_server() {
    let dir = tempfile::tempdir().unwrap();
    let mut server = Server::start(statuswatch(dir.path()), "serve", dir.path());
    server.wait_for("/health/ready/", 200).await;

    let (status, stdout, stderr) = output(statuswatch(dir.path()).args([
        "tenants",
        "create",
        "--slug",
        "Acme",
        "--name",
        "Acme Corp",
        "--owner-email",
        "ann@acme.example",
    ]));
    assert!(status.success(), "{stderr}");
    let (id, domain) = stdout.trim().split_once('\t').unwrap();
    assert_eq!(domain, "acme.localhost");
    assert_eq!(id.len(), 36, "{stdout}");
    // The new owner is told how to set a password (mail is off in development, so it is logged).
    assert!(stderr.contains("reset-password?token="), "{stderr}");

    let (status, _, stderr) = output(statuswatch(dir.path()).args([
        "tenants",
        "create",
        "--slug",
        "acme",
        "--name",
        "Again",
        "--owner-email",
        "x@acme.example",
    ]));
    assert_clean_failure(status, &stderr);
    assert!(stderr.contains("`acme` is already taken"), "{stderr}");
    let (status, _, stderr) = output(statuswatch(dir.path()).args([
        "tenants",
        "create",
        "--slug",
        "www",
        "--name",
        "W",
        "--owner-email",
        "w@w.example",
    ]));
    assert_clean_failure(status, &stderr);
    assert!(stderr.contains("slug: `www` is reserved"), "{stderr}");

    let csv = dir.path().join("tenants.csv");
    std::fs::write(
        &csv,
        "slug,name,owner_email\nbeta,Beta Labs,bob@beta.example\nacme,Dup,dup@acme.example\nbad slug,Bad,b@b.example\ngamma,Gamma\ndelta,Delta,not-an-email\nepsilon,\"Epsilon, Inc\",eve@eps.example\n",
    )
    .unwrap();
    let (status, stdout, _) = output(
        statuswatch(dir.path())
            .args(["tenants", "import"])
            .arg(&csv),
    );
    assert_eq!(status.code(), Some(1), "rows were skipped: {stdout}");
    for expected in [
        "line 2: created beta",
        "line 3: skipped acme",
        "line 4: skipped bad slug",
        "line 5: skipped: expected 3 fields",
        "line 6: skipped delta: owner email",
        "line 7: created epsilon",
        "2 created, 4 skipped",
    ] {
        assert!(stdout.contains(expected), "{expected}: {stdout}");
    }

    let (status, stdout, _) = output(statuswatch(dir.path()).args(["tenants", "list", "--json"]));
    assert!(status.success());
    let tenants: Value = serde_json::from_str(&stdout).unwrap();
    let mut slugs: Vec<&str> = tenants
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["slug"].as_str().unwrap())
        .collect();
    slugs.sort_unstable();
    assert_eq!(slugs, ["acme", "beta", "epsilon"]);
    let (_, table, _) = output(statuswatch(dir.path()).args(["tenants", "list"]));
    assert!(table.lines().next().unwrap().starts_with("SLUG"), "{table}");
    assert!(table.contains("Epsilon, Inc"), "{table}");

    // The running server sees what the CLI wrote: signing up with a taken slug is refused.
    let client = reqwest::Client::new();
    let signup = client
        .post(format!("{}/api/auth/signup", server.base))
        .json(&json!({ "organization": "X", "slug": "beta", "email": "x@x.example", "password": "tangerine-umbrella-42" }))
        .send()
        .await
        .unwrap();
    assert_eq!(signup.status(), 409);

    let (status, stdout, _) = output(statuswatch(dir.path()).args(["tenants", "suspend", "beta"]));
    assert!(status.success());
    assert_eq!(stdout.trim(), "beta: suspended");
    let (_, stdout, _) = output(statuswatch(dir.path()).args(["tenants", "list", "--json"]));
    assert!(stdout.contains("\"suspended\""), "{stdout}");
    let (status, stdout, _) = output(statuswatch(dir.path()).args(["tenants", "resume", "beta"]));
    assert!(status.success());
    assert_eq!(stdout.trim(), "beta: active");
    let (status, _, stderr) = output(statuswatch(dir.path()).args(["tenants", "suspend", "nope"]));
    assert_clean_failure(status, &stderr);
    assert!(stderr.contains("no tenant `nope`"), "{stderr}");

    let (status, stdout, stderr) =
        output(statuswatch(dir.path()).args(["users", "superuser", "bob@beta.example"]));
    assert!(status.success(), "{stderr}");
    assert_eq!(stdout.trim(), "bob@beta.example: superuser granted");
    let (status, _, stderr) =
        output(statuswatch(dir.path()).args(["users", "superuser", "ghost@x.example"]));
    assert_clean_failure(status, &stderr);
    assert!(server.stop().success(), "{}", server.log());
}

#[test]
fn tenant_commands_refuse_an_unmigrated_database_and_a_missing_file() {
    let dir = tempfile::tempdir().unwrap();
    let (status, _, stderr) = output(
        statuswatch(dir.path())
            .args(["tenants", "list"])
            .env("STATUSWATCH__DATABASE__MIGRATE_ON_START", "false"),
    );
    assert_clean_failure(status, &stderr);
    assert!(stderr.contains("pending"), "{stderr}");
    let (status, _, _) = output(statuswatch(dir.path()).arg("migrate"));
    assert!(status.success());
    let (status, _, stderr) =
        output(statuswatch(dir.path()).args(["tenants", "import", "/no/such.csv"]));
    assert_clean_failure(status, &stderr);
    assert!(stderr.contains("cannot read /no/such.csv"), "{stderr}");
}

#[tokio::test]
async fn rename_suffix_moves_subdomains_and_reports() {
    let dir = tempfile::tempdir().unwrap();
    let (status, _, stderr) = output(statuswatch(dir.path()).arg("migrate"));
    assert!(status.success(), "{stderr}");
    for slug in ["acme", "beta"] {
        let (status, _, stderr) = output(statuswatch(dir.path()).args([
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
    let rename = |extra: &[&str]| {
        let mut command = statuswatch(dir.path());
        command.args([
            "tenants",
            "rename-suffix",
            "--from",
            "localhost",
            "--to",
            "status.example.com",
        ]);
        command.args(extra);
        output(&mut command)
    };
    let (status, stdout, stderr) = rename(&["--dry-run"]);
    assert!(status.success(), "{stderr}");
    assert!(
        stdout.contains("would move\tacme\tacme.localhost -> acme.status.example.com"),
        "{stdout}"
    );
    assert!(
        stdout.contains("2 would move, 0 skipped (dry run"),
        "{stdout}"
    );

    let (status, stdout, stderr) = rename(&["--json"]);
    assert!(status.success(), "{stderr}");
    let report: Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(report["moved"].as_array().unwrap().len(), 2, "{report}");
    assert!(
        stderr.contains("set it to `status.example.com`"),
        "{stderr}"
    );
    let (status, stdout, _) = rename(&[]);
    assert!(status.success());
    assert!(stdout.contains("0 moved, 0 skipped"), "{stdout}");

    let (status, _, stderr) = output(statuswatch(dir.path()).args([
        "tenants",
        "rename-suffix",
        "--from",
        "localhost",
        "--to",
        "not a suffix",
    ]));
    assert_clean_failure(status, &stderr);
    assert!(
        stderr.contains("--to: `not a suffix` is not a domain name"),
        "{stderr}"
    );
}
