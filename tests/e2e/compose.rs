//! The compose files and `.env.example`: every `STATUSWATCH__…` variable they
//! set is a real configuration key, the production stack's configuration
//! (filled from `.env.example`) passes `config check`, every `${VAR}` the
//! production file reads is documented in `.env.example`, and the image has
//! a health check. With a compose tool installed, the files are validated by it.

use std::collections::BTreeMap;
use std::path::Path;

use crate::harness::{output, statuswatch};

fn repo(file: &str) -> String {
    std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join(file)).unwrap()
}

/// `KEY=VALUE` lines of an env file.
fn env_file(text: &str) -> BTreeMap<String, String> {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| (k.trim().to_owned(), v.trim().to_owned()))
        .collect()
}

/// `${NAME}`, `${NAME:-default}` and `${NAME:?message}` replaced from `env`;
/// returns the text and the names it read.
fn substitute(text: &str, env: &BTreeMap<String, String>) -> (String, Vec<String>) {
    let mut out = String::new();
    let mut names = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find("${") {
        out.push_str(&rest[..start]);
        let end = rest[start..].find('}').unwrap() + start;
        let inner = &rest[start + 2..end];
        let (name, default) = match inner.split_once(":-") {
            Some((name, default)) => (name, Some(default)),
            None => (inner.split(":?").next().unwrap(), None),
        };
        names.push(name.to_owned());
        let value = env
            .get(name)
            .filter(|v| !v.is_empty())
            .map(String::as_str)
            .or(default)
            .unwrap_or_else(|| panic!("${{{name}}} has no value and no default"));
        out.push_str(value);
        rest = &rest[end + 1..];
    }
    out.push_str(rest);
    (out, names)
}

/// Every `STATUSWATCH…: value` line of a compose file.
fn statuswatch_vars(yaml: &str) -> BTreeMap<String, String> {
    yaml.lines()
        .filter_map(|l| l.trim().split_once(": "))
        .filter(|(k, _)| k.starts_with("STATUSWATCH"))
        .map(|(k, v)| (k.to_owned(), v.trim().trim_matches('"').to_owned()))
        .collect()
}

fn config_check(vars: &BTreeMap<String, String>) -> (bool, String) {
    let dir = tempfile::tempdir().unwrap();
    let mut command = statuswatch(dir.path());
    command.args(["config", "check"]).envs(vars);
    let (status, _, stderr) = output(&mut command);
    (status.success(), stderr)
}

#[test]
fn the_production_stack_configuration_is_valid_and_documented() {
    let example = env_file(&repo(".env.example"));
    // What an operator fills in: the secrets .env.example leaves empty.
    let mut env = example.clone();
    for (key, value) in [
        (
            "STATUSWATCH_SECRET_KEY",
            "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
        ),
        ("POSTGRES_PASSWORD", "a-long-database-password"),
        ("STATUSWATCH_ADMIN_TOKEN", "an-admin-token-of-enough-length"),
        ("STATUSWATCH_SMTP_USERNAME", "mailer"),
        ("STATUSWATCH_SMTP_PASSWORD", "mail-password"),
    ] {
        assert_eq!(
            example.get(key).map(String::as_str),
            Some(""),
            "{key} is a blank in .env.example"
        );
        env.insert(key.to_owned(), value.to_owned());
    }
    let (production, read) = substitute(&repo("compose.production.yaml"), &env);
    let mut vars = statuswatch_vars(&production);
    vars.insert(
        "STATUSWATCH__APP__LISTEN".to_owned(),
        "0.0.0.0:8000".to_owned(),
    );
    assert!(vars.len() > 15, "{vars:?}");
    let (ok, stderr) = config_check(&vars);
    assert!(
        ok,
        "compose.production.yaml's configuration fails `config check`:\n{stderr}"
    );

    for name in &read {
        assert!(
            example.contains_key(name) || repo(".env.example").contains(&format!("# {name}=")),
            "compose.production.yaml reads ${{{name}}}, which .env.example does not document"
        );
    }
    for name in example.keys() {
        assert!(
            read.contains(name),
            ".env.example sets {name}, which compose.production.yaml never reads"
        );
    }

    // A wrong key is caught by the same check, so the test can fail.
    vars.insert(
        "STATUSWATCH__EMAIL__SMTP_HOSTNAME".to_owned(),
        "x".to_owned(),
    );
    let (ok, stderr) = config_check(&vars);
    assert!(
        !ok && stderr.contains("STATUSWATCH__EMAIL__SMTP_HOSTNAME"),
        "{stderr}"
    );
    // And so is a production stack with billing on but no keys.
    vars.remove("STATUSWATCH__EMAIL__SMTP_HOSTNAME");
    vars.insert(
        "STATUSWATCH__BILLING__ENABLED".to_owned(),
        "true".to_owned(),
    );
    let (ok, stderr) = config_check(&vars);
    assert!(
        !ok && stderr.contains("billing.stripe_secret_key"),
        "{stderr}"
    );
}

#[test]
fn the_development_stack_and_image_are_consistent() {
    let vars = statuswatch_vars(&repo("compose.yaml"));
    assert!(
        vars.contains_key("STATUSWATCH__AUTH__TRUSTED_PROXIES"),
        "{vars:?}"
    );
    let (ok, stderr) = config_check(&vars);
    assert!(
        ok,
        "compose.yaml's configuration fails `config check`:\n{stderr}"
    );
    let compose = repo("compose.yaml");
    assert_eq!(
        compose.matches("healthcheck:").count(),
        4,
        "db, app, prober and edge each have a health check"
    );
    let dockerfile = repo("Dockerfile");
    assert!(
        dockerfile.contains("HEALTHCHECK"),
        "the image has a health check"
    );
    assert!(
        dockerfile.contains("USER statuswatch"),
        "the image runs as non-root"
    );
    let ignore = repo(".dockerignore");
    assert!(
        ignore.lines().any(|l| l.trim() == "target/"),
        "target/ stays out of the build context"
    );

    // With a compose tool present, it validates both files together.
    let compose_tool = std::process::Command::new("docker")
        .args(["compose", "version"])
        .output()
        .is_ok_and(|o| o.status.success());
    if compose_tool {
        let dir = tempfile::tempdir().unwrap();
        let env = dir.path().join(".env");
        let mut filled = repo(".env.example");
        for key in [
            "STATUSWATCH_SECRET_KEY",
            "POSTGRES_PASSWORD",
            "STATUSWATCH_ADMIN_TOKEN",
            "STATUSWATCH_SMTP_USERNAME",
            "STATUSWATCH_SMTP_PASSWORD",
        ] {
            filled = filled.replace(
                &format!("{key}=\n"),
                &format!("{key}=filled-in-value-for-the-test\n"),
            );
        }
        std::fs::write(&env, filled).unwrap();
        let root = env!("CARGO_MANIFEST_DIR");
        let status = std::process::Command::new("docker")
            .current_dir(root)
            .args([
                "compose",
                "-f",
                "compose.yaml",
                "-f",
                "compose.production.yaml",
                "--env-file",
            ])
            .arg(&env)
            .args(["config", "-q"])
            .status()
            .unwrap();
        assert!(status.success(), "docker compose config rejects the files");
    }
}
