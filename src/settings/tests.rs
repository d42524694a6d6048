//! Loading and validating the composed configuration.

use std::io::Write;

use super::*;

fn sources(environment: Option<&str>, vars: &[(&str, &str)]) -> Sources {
    Sources {
        environment: environment.map(str::to_owned),
        vars: vars
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect(),
        ..Sources::default()
    }
}

fn file(text: &str) -> tempfile::NamedTempFile {
    let mut file = tempfile::Builder::new().suffix(".toml").tempfile().unwrap();
    file.write_all(text.as_bytes()).unwrap();
    file
}

fn source_error(sources: &Sources) -> String {
    match load(sources) {
        Err(ConfigError::Source(message)) => message,
        other => panic!("expected a source error, got {other:?}"),
    }
}

#[test]
fn development_needs_no_configuration() {
    let loaded = load(&sources(None, &[])).unwrap().validated().unwrap();
    assert_eq!(loaded.environment, Environment::Development);
    let s = &loaded.settings;
    assert_eq!(s.app.listen.to_string(), "127.0.0.1:8000");
    assert_eq!(s.edge.http_listen.to_string(), "0.0.0.0:8080");
    assert_eq!(s.edge.https_listen.to_string(), "0.0.0.0:8443");
    assert_eq!(s.edge.admin_listen.to_string(), "127.0.0.1:2019");
    assert_eq!(s.tenancy.domain_suffix, "localhost");
    assert_eq!(s.data_dir, Path::new("./data"));
    assert_eq!(
        loaded.database_url(),
        "sqlite://./data/statuswatch.db?mode=rwc"
    );
}

#[test]
fn layers_apply_in_order_file_then_env_then_flag() {
    let config = file(
        "data_dir = '/from/file'\n[app]\nlisten = '127.0.0.1:9000'\n[tenancy]\ndomain_suffix = 'file.example'",
    );
    let mut sources = sources(
        None,
        &[
            ("STATUSWATCH__APP__LISTEN", "127.0.0.1:9100"),
            ("STATUSWATCH__DATA_DIR", "/from/env"),
        ],
    );
    sources.config_file = Some(config.path().to_owned());
    let loaded = load(&sources).unwrap();
    assert_eq!(loaded.settings.app.listen.to_string(), "127.0.0.1:9100");
    assert_eq!(loaded.settings.tenancy.domain_suffix, "file.example");
    assert_eq!(loaded.settings.data_dir, Path::new("/from/env"));
    sources.data_dir = Some("/from/flag".into());
    assert_eq!(
        load(&sources).unwrap().settings.data_dir,
        Path::new("/from/flag")
    );
}

#[test]
fn production_lists_every_problem_at_once() {
    let config = file(
        "debug = true\nsecret_key = 'insecure-short'\n\
         [tenancy]\ndomain_suffix = 'localhost'\n\
         [acme]\ndirectory_url = 'https://acme-staging-v02.api.letsencrypt.org/directory'\n\
         [billing]\nenabled = true\nstripe_publishable_key = 'pk_test_x'\n\
         stripe_secret_key = 'sk_test_x'\nstripe_webhook_secret = 'nope'\n\
         [billing.plans.pro]\nstripe_price_id = 'price_1'\n\
         [email]\nenabled = true\n",
    );
    let mut sources = sources(Some("production"), &[]);
    sources.config_file = Some(config.path().to_owned());
    let err = load(&sources).unwrap().validated().unwrap_err();
    let ConfigError::Invalid { problems, .. } = &err else {
        panic!("{err:?}")
    };
    let keys: Vec<&str> = problems
        .iter()
        .map(|p| p.split(':').next().unwrap())
        .collect();
    for key in [
        "secret_key",
        "debug",
        "database.url",
        "tenancy.domain_suffix",
        "acme.directory_url",
        "billing.stripe_publishable_key",
        "billing.stripe_secret_key",
        "billing.stripe_webhook_secret",
        "email.smtp_host",
    ] {
        assert!(keys.contains(&key), "{key} missing from {problems:#?}");
    }
    // Short and "insecure" are two separate problems of one key.
    assert_eq!(keys.iter().filter(|k| **k == "secret_key").count(), 2);
    let text = err.to_string();
    assert!(
        text.starts_with("configuration is not valid for production"),
        "{text}"
    );
    assert!(!text.contains("sk_test_x"), "secret in message: {text}");
}

#[test]
fn a_safe_production_configuration_passes() {
    let config = file(
        "secret_key = 'k3Jx9vQ2mP8wL5tR7yB4nC6dF1gH0jZaXsEuIoWqVbNmKlPoIuY'\n\
         [database]\nurl = 'postgres://sw:pw@db/sw'\n\
         [tenancy]\ndomain_suffix = 'status.example.com'\n\
         [acme]\ndirectory_url = 'https://acme-v02.api.letsencrypt.org/directory'\n",
    );
    let mut sources = sources(Some("production"), &[]);
    sources.config_file = Some(config.path().to_owned());
    let loaded = load(&sources).unwrap().validated().unwrap();
    assert_eq!(loaded.settings.edge.https_listen.to_string(), "0.0.0.0:443");
    assert_eq!(loaded.settings.log.format, LogFormat::Json);
    let printed = loaded.to_redacted_toml().unwrap();
    assert!(!printed.contains("k3Jx9"), "{printed}");
    assert!(!printed.contains(":pw@"), "{printed}");
    assert!(printed.contains("secret_key = \"[redacted]\""), "{printed}");
}

#[test]
fn unknown_keys_name_the_file_or_variable() {
    let config = file("[database]\nurll = 'x'\n");
    let mut with_file = sources(None, &[]);
    with_file.config_file = Some(config.path().to_owned());
    let err = source_error(&with_file);
    assert!(err.contains("database.urll"), "{err}");
    assert!(err.contains(&config.path().display().to_string()), "{err}");

    let err = source_error(&sources(None, &[("STATUSWATCH__DATABSE__URL", "x")]));
    assert!(err.contains("STATUSWATCH__DATABSE"), "{err}");
    let err = source_error(&sources(None, &[("STATUSWATCH__FOO", "x")]));
    assert!(err.contains("STATUSWATCH__FOO"), "{err}");
}

#[test]
fn wrong_types_name_the_key_and_source() {
    let config = file("[database]\nmax_connections = 'many'\n");
    let mut with_file = sources(None, &[]);
    with_file.config_file = Some(config.path().to_owned());
    let err = source_error(&with_file);
    assert!(err.contains("database.max_connections"), "{err}");
    assert!(err.contains(&config.path().display().to_string()), "{err}");

    let err = source_error(&sources(
        None,
        &[("STATUSWATCH__APP__LISTEN", "not-an-address")],
    ));
    assert!(err.contains("STATUSWATCH__APP__LISTEN"), "{err}");
    let err = source_error(&sources(
        None,
        &[("STATUSWATCH__DATABASE__MAX_CONNECTIONS", "lots")],
    ));
    assert!(
        err.contains("STATUSWATCH__DATABASE__MAX_CONNECTIONS"),
        "{err}"
    );
}

#[test]
fn malformed_and_missing_files_are_named() {
    let config = file("[database\nurl = 'x'\n");
    let mut with_file = sources(None, &[]);
    with_file.config_file = Some(config.path().to_owned());
    let err = source_error(&with_file);
    assert!(err.contains("is not valid TOML"), "{err}");
    assert!(err.contains(&config.path().display().to_string()), "{err}");

    with_file.config_file = Some("/nonexistent/statuswatch.toml".into());
    let err = source_error(&with_file);
    assert!(
        err.contains("cannot read configuration file /nonexistent/statuswatch.toml"),
        "{err}"
    );

    let err = source_error(&sources(Some("staging"), &[]));
    assert!(err.contains("STATUSWATCH_ENV"), "{err}");
}

#[test]
fn built_in_layers_parse() {
    for text in [DEFAULT_TOML, DEVELOPMENT_TOML, PRODUCTION_TOML] {
        text.parse::<toml::Table>().unwrap();
    }
}

#[test]
fn trusted_proxies_take_cidr_ranges_from_the_environment() {
    let loaded = load(&sources(
        None,
        &[(
            "STATUSWATCH__AUTH__TRUSTED_PROXIES",
            "172.16.0.0/12,fd00::/8,192.0.2.7",
        )],
    ))
    .unwrap();
    let ranges: Vec<String> = loaded
        .settings
        .auth
        .trusted_proxies
        .iter()
        .map(ToString::to_string)
        .collect();
    assert_eq!(ranges, ["172.16.0.0/12", "fd00::/8", "192.0.2.7"]);

    let err = source_error(&sources(
        None,
        &[("STATUSWATCH__AUTH__TRUSTED_PROXIES", "10.1.2.3/8")],
    ));
    assert!(err.contains("STATUSWATCH__AUTH__TRUSTED_PROXIES"), "{err}");
    assert!(err.contains("did you mean 10.0.0.0/8"), "{err}");
    let err = source_error(&sources(
        None,
        &[("STATUSWATCH__AUTH__TRUSTED_PROXIES", "edge.internal")],
    ));
    assert!(err.contains("is not an IP address or CIDR range"), "{err}");
}

#[test]
fn an_unusable_extra_root_is_named_by_its_key_and_path() {
    let not_pem = file("this is not a certificate");
    let path = not_pem.path().to_str().unwrap().to_owned();
    let err = load(&sources(
        None,
        &[("STATUSWATCH__ACME__EXTRA_ROOT_PEM", path.as_str())],
    ))
    .unwrap()
    .validated()
    .unwrap_err()
    .to_string();
    assert!(err.contains("acme.extra_root_pem: `"), "{err}");
    assert!(err.contains("no certificate in the file"), "{err}");
    let err = load(&sources(
        None,
        &[("STATUSWATCH__ACME__EXTRA_ROOT_PEM", "/nonexistent/root.pem")],
    ))
    .unwrap()
    .validated()
    .unwrap_err()
    .to_string();
    assert!(err.contains("/nonexistent/root.pem"), "{err}");
}

#[test]
fn zero_connection_limits_are_named_by_key() {
    let loaded = load(&sources(
        None,
        &[
            ("STATUSWATCH__EDGE__MAX_CONNECTIONS", "0"),
            ("STATUSWATCH__EDGE__MAX_CONNECTIONS_PER_ADDRESS", "0"),
        ],
    ))
    .unwrap();
    let err = loaded.validated().unwrap_err();
    let ConfigError::Invalid { problems, .. } = &err else {
        panic!("{err:?}")
    };
    for key in ["edge.max_connections", "edge.max_connections_per_address"] {
        assert!(
            problems.contains(&format!("{key}: must be at least 1")),
            "{key} missing from {problems:#?}"
        );
    }
    let ok = load(&sources(
        None,
        &[("STATUSWATCH__EDGE__MAX_CONNECTIONS_PER_ADDRESS", "5")],
    ))
    .unwrap()
    .validated()
    .unwrap();
    assert_eq!(ok.settings.edge.max_connections_per_address, 5);
}
