//! Commands, help texts, `config check`, and bad configuration.

use std::path::Path;

use crate::harness::{assert_clean_failure, output, statuswatch};

#[test]
fn every_command_has_help() {
    let dir = tempfile::tempdir().unwrap();
    for args in [
        &["--help"][..],
        &["serve", "--help"],
        &["edge", "--help"],
        &["app", "--help"],
        &["prober", "--help"],
        &["migrate", "--help"],
        &["config", "--help"],
        &["config", "check", "--help"],
    ] {
        let (status, stdout, stderr) = output(statuswatch(dir.path()).args(args));
        assert!(status.success(), "{args:?}: {stderr}");
        assert!(stdout.contains("Usage: statuswatch"), "{args:?}: {stdout}");
        assert!(stdout.contains("--data-dir"), "{args:?}: {stdout}");
    }
}

#[test]
fn single_roles_need_postgres() {
    let dir = tempfile::tempdir().unwrap();
    // Single roles are for PostgreSQL clusters.
    for role in ["edge", "prober"] {
        let (status, _, stderr) = output(statuswatch(dir.path()).arg(role));
        assert_clean_failure(status, &stderr);
        assert!(stderr.contains("needs PostgreSQL"), "{role}: {stderr}");
    }
}

#[test]
fn config_check_prints_the_effective_configuration() {
    let dir = tempfile::tempdir().unwrap();
    let mut command = statuswatch(dir.path());
    for key in ["HTTP_LISTEN", "HTTPS_LISTEN", "ADMIN_LISTEN"] {
        command.env_remove(format!("STATUSWATCH__EDGE__{key}"));
    }
    let (status, stdout, stderr) = output(command.args(["config", "check"]));
    assert!(status.success(), "{stderr}");
    assert!(stderr.contains("configuration is valid"), "{stderr}");
    assert!(stdout.starts_with("# environment: development"), "{stdout}");
    let printed: toml::Table = stdout.parse().unwrap();
    assert_eq!(printed["app"]["listen"].as_str(), Some("127.0.0.1:8000"));
    assert_eq!(
        printed["edge"]["https_listen"].as_str(),
        Some("0.0.0.0:8443")
    );
    assert_eq!(printed["secret_key"].as_str(), Some("[redacted]"));
    assert!(!stdout.contains("insecure-development"), "{stdout}");
    assert_eq!(
        printed["data_dir"].as_str(),
        Some(dir.path().to_str().unwrap())
    );
}

#[test]
fn production_check_lists_every_problem_and_hides_secrets() {
    let dir = tempfile::tempdir().unwrap();
    let (status, stdout, stderr) = output(
        statuswatch(dir.path())
            .args(["config", "check"])
            .env("STATUSWATCH_ENV", "production")
            .env("STATUSWATCH__SECRET_KEY", "too-short-but-secret")
            .env("STATUSWATCH__DEBUG", "true")
            .env("STATUSWATCH__DATABASE__URL", "postgres://sw:hunter2@db/sw")
            .env("STATUSWATCH__BILLING__ENABLED", "true")
            .env(
                "STATUSWATCH__BILLING__STRIPE_SECRET_KEY",
                "sk_test_verysecret",
            )
            .env("STATUSWATCH__EMAIL__ENABLED", "true"),
    );
    assert_eq!(status.code(), Some(1), "{stderr}");
    for key in [
        "secret_key:",
        "debug:",
        "tenancy.domain_suffix:",
        "acme.directory_url:",
        "billing.stripe_publishable_key:",
        "billing.stripe_secret_key:",
        "billing.stripe_webhook_secret:",
        "billing.plans.pro.stripe_price_id:",
        "email.smtp_host:",
    ] {
        assert!(
            stderr.contains(&format!("  - {key}")),
            "{key} missing: {stderr}"
        );
    }
    for secret in ["too-short-but-secret", "hunter2", "sk_test_verysecret"] {
        assert!(
            !stdout.contains(secret) && !stderr.contains(secret),
            "{secret} leaked"
        );
    }
    assert!(stdout.contains("postgres://sw:REDACTED@db/sw"), "{stdout}");

    // The same configuration stops `serve` before it opens anything.
    let (status, _, stderr) = output(
        statuswatch(dir.path())
            .arg("serve")
            .env("STATUSWATCH_ENV", "production"),
    );
    assert_clean_failure(status, &stderr);
    assert!(
        stderr.contains("configuration is not valid for production"),
        "{stderr}"
    );
    assert!(!dir.path().join("statuswatch.db").exists());
}

fn write(dir: &Path, name: &str, text: &str) -> std::path::PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

#[test]
fn bad_configuration_files_fail_clearly() {
    let dir = tempfile::tempdir().unwrap();
    let cases = [
        (
            "malformed.toml",
            "[database\nurl = 1\n",
            "is not valid TOML",
        ),
        (
            "unknown.toml",
            "[app]\nlistn = '127.0.0.1:1'\n",
            "unknown configuration key `app.listn`",
        ),
        (
            "type.toml",
            "[database]\nmax_connections = 'ten'\n",
            "key `database.max_connections`",
        ),
    ];
    for (name, text, expected) in cases {
        let path = write(dir.path(), name, text);
        for command in [&["config", "check"][..], &["serve"], &["migrate"]] {
            let (status, _, stderr) = output(
                statuswatch(dir.path())
                    .args(command)
                    .arg("--config")
                    .arg(&path),
            );
            assert_clean_failure(status, &stderr);
            assert!(stderr.contains(expected), "{name} {command:?}: {stderr}");
            assert!(
                stderr.contains(&path.display().to_string()),
                "{name}: {stderr}"
            );
        }
    }
    let (status, _, stderr) =
        output(statuswatch(dir.path()).args(["serve", "--config", "/no/such/file.toml"]));
    assert_clean_failure(status, &stderr);
    assert!(
        stderr.contains("cannot read configuration file /no/such/file.toml"),
        "{stderr}"
    );
    assert!(
        !dir.path().join("statuswatch.db").exists(),
        "bad config still created a database"
    );
}

#[test]
fn bad_environment_variables_fail_clearly() {
    let dir = tempfile::tempdir().unwrap();
    let cases = [
        ("STATUSWATCH__APP__LISTN", "x", "STATUSWATCH__APP__LISTN"),
        (
            "STATUSWATCH__APP__LISTEN",
            "nowhere",
            "STATUSWATCH__APP__LISTEN",
        ),
        ("STATUSWATCH_ENV", "staging", "STATUSWATCH_ENV"),
    ];
    for (name, value, expected) in cases {
        let (status, _, stderr) = output(statuswatch(dir.path()).arg("serve").env(name, value));
        assert_clean_failure(status, &stderr);
        assert!(stderr.contains(expected), "{name}: {stderr}");
    }
}
