//! Properties of the configuration layers: a value set in a file or in the
//! environment is the value the settings hold, the environment wins over the
//! file, and a key that is unknown or holds a value of the wrong type is
//! refused with an error naming it where the operator wrote it, never a panic.

use std::io::Write;

use proptest::prelude::*;
use toml::Value;

use super::*;

/// A key whose value the settings hold as given, with two values of its
/// type. Secrets and URLs are left out: they print redacted.
fn typed_values() -> impl Strategy<Value = (&'static str, Value, Value)> {
    fn two<S: Strategy<Value = Value> + Clone>(
        keys: Vec<&'static str>,
        values: S,
    ) -> impl Strategy<Value = (&'static str, Value, Value)> {
        (prop::sample::select(keys), values.clone(), values)
    }
    let text = "\\PC{0,24}|[ -~]{0,24}".prop_map(Value::String);
    let list = prop::collection::vec("[a-z0-9][a-z0-9.:-]{0,12}", 0..4)
        .prop_map(|items| Value::Array(items.into_iter().map(Value::String).collect()));
    let address = (any::<std::net::IpAddr>(), any::<u16>())
        .prop_map(|(ip, port)| Value::String(std::net::SocketAddr::new(ip, port).to_string()));
    let number = |max: u64| (0..=max).prop_map(|n| Value::Integer(n as i64));
    prop_oneof![
        two(
            vec![
                "data_dir",
                "log.level",
                "edge.static_root",
                "tenancy.domain_suffix",
                "email.from",
                "email.smtp_host",
                "email.smtp_username",
                "prober.region",
            ],
            text
        ),
        two(
            vec![
                "database.max_connections",
                "log.max_files",
                "auth.lockout_threshold"
            ],
            number(u64::from(u32::MAX))
        ),
        two(vec!["email.smtp_port"], number(u64::from(u16::MAX))),
        two(
            vec![
                "database.connect_timeout_seconds",
                "edge.hsts_max_age",
                "prober.flap_threshold",
                "billing.grace_period_days",
            ],
            number(i64::MAX as u64)
        ),
        two(
            vec![
                "debug",
                "database.migrate_on_start",
                "billing.enabled",
                "edge.hsts_preload",
                "acme.wildcard",
                "prober.allow_private_targets",
            ],
            any::<bool>().prop_map(Value::Boolean)
        ),
        two(vec!["tenancy.reserved_slugs", "edge.app_upstreams"], list),
        two(vec!["app.listen", "edge.http_listen"], address),
    ]
}

/// Every key the built-in files set, and some they leave unset.
fn known_keys() -> Vec<String> {
    fn walk(prefix: &str, table: &toml::Table, out: &mut Vec<String>) {
        for (key, value) in table {
            let path = if prefix.is_empty() {
                key.clone()
            } else {
                format!("{prefix}.{key}")
            };
            match value {
                Value::Table(inner) => walk(&path, inner, out),
                _ => out.push(path),
            }
        }
    }
    let mut keys = Vec::new();
    for text in [DEFAULT_TOML, DEVELOPMENT_TOML, PRODUCTION_TOML] {
        walk("", &text.parse().unwrap(), &mut keys);
    }
    keys.extend(
        [
            "tenancy.public_url",
            "tenancy.dns_server",
            "log.file",
            "billing.plans.pro.max_monitors",
            "billing.plans.team.stripe_price_id",
            "prober.plan_max_monitors",
            "auth.trusted_proxies",
            "acme.extra_root_pem",
        ]
        .map(str::to_owned),
    );
    keys.sort();
    keys.dedup();
    keys
}

/// `key` as a `STATUSWATCH__…` variable name.
fn var(key: &str) -> String {
    format!(
        "{ENV_PREFIX}{}",
        key.replace('.', "__").to_ascii_uppercase()
    )
}

/// What an operator types into a shell for `value`.
fn env_text(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        Value::Array(items) => items
            .iter()
            .filter_map(Value::as_str)
            .collect::<Vec<_>>()
            .join(","),
        other => other.to_string(),
    }
}

/// A TOML file setting `key` to `value`.
fn toml_text(key: &str, value: &Value) -> String {
    match key.rsplit_once('.') {
        Some((section, leaf)) => format!("[{section}]\n{leaf} = {value}\n"),
        None => format!("{key} = {value}\n"),
    }
}

fn file(text: &str) -> tempfile::NamedTempFile {
    let mut file = tempfile::Builder::new().suffix(".toml").tempfile().unwrap();
    file.write_all(text.as_bytes()).unwrap();
    file
}

/// The effective value of `key` in `loaded`, as the settings serialize it.
fn effective(loaded: &Loaded, key: &str) -> Option<Value> {
    let mut value = Value::try_from(&loaded.settings).ok()?;
    for part in key.split('.') {
        value = value.as_table()?.get(part)?.clone();
    }
    Some(value)
}

fn sources(vars: Vec<(String, String)>, config_file: Option<&tempfile::NamedTempFile>) -> Sources {
    Sources {
        vars,
        config_file: config_file.map(|f| f.path().to_owned()),
        ..Sources::default()
    }
}

fn describe(result: Result<Loaded, ConfigError>) -> Result<Loaded, String> {
    result.map_err(|err| err.to_string())
}

/// Sections of the settings, and names that are no key of theirs: the
/// tail of the section's own name (`[log] g`) and names with a digit.
fn unknown_key() -> impl Strategy<Value = String> {
    let sections = vec![
        "log",
        "telemetry",
        "database",
        "app",
        "edge",
        "tenancy",
        "auth",
        "acme",
        "billing",
        "email",
        "prober",
    ];
    prop_oneof![
        "[a-z][a-z0-9]{0,7}[0-9]",
        (
            prop::sample::select(sections.clone()),
            "[a-z][a-z0-9]{0,7}[0-9]"
        )
            .prop_map(|(s, k)| format!("{s}.{k}")),
        (prop::sample::select(sections), any::<prop::sample::Index>()).prop_map(|(s, at)| {
            let tail = &s[1 + at.index(s.len() - 1)..];
            format!("{s}.{tail}")
        }),
    ]
}

/// `[log] g` is the key `log.g`, not the section `log` that ends in `g`
/// (the error path and the unknown field's name are joined with care).
#[test]
fn an_unknown_key_that_ends_its_sections_name_is_named_in_full() {
    let err = describe(load(&sources(
        vec![("STATUSWATCH__LOG__G".into(), "1".into())],
        None,
    )))
    .unwrap_err();
    assert!(err.contains("STATUSWATCH__LOG__G:"), "{err}");
    let config = file("[database]\nbase = 1\n");
    let err = describe(load(&sources(vec![], Some(&config)))).unwrap_err();
    assert!(err.contains("key `database.base`"), "{err}");
}

/// Found by `set_values_are_the_effective_values`: one list item that reads
/// as a TOML number or boolean (`STATUSWATCH__TENANCY__RESERVED_SLUGS=123`)
/// became that scalar instead of a list of one.
#[test]
fn one_list_item_from_the_environment_is_a_list() {
    for item in ["123", "true", "1.5"] {
        let loaded = load(&sources(
            vec![("STATUSWATCH__TENANCY__RESERVED_SLUGS".into(), item.into())],
            None,
        ))
        .unwrap();
        assert_eq!(loaded.settings.tenancy.reserved_slugs, [item]);
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1024))]

    /// A value set in the file or the environment is the effective value.
    #[test]
    fn set_values_are_the_effective_values((key, value, _) in typed_values(), from_env in any::<bool>()) {
        let config = file(&toml_text(key, &value));
        let loaded = if from_env {
            describe(load(&sources(vec![(var(key), env_text(&value))], None)))
        } else {
            describe(load(&sources(vec![], Some(&config))))
        };
        let loaded = loaded.map_err(TestCaseError::fail)?;
        prop_assert_eq!(effective(&loaded, key), Some(value));
    }

    /// The environment wins over the file, key by key.
    #[test]
    fn the_environment_wins_over_the_file((key, in_file, in_env) in typed_values()) {
        let config = file(&toml_text(key, &in_file));
        let loaded = describe(load(&sources(vec![(var(key), env_text(&in_env))], Some(&config))))
            .map_err(TestCaseError::fail)?;
        prop_assert_eq!(effective(&loaded, key), Some(in_env));
    }

    /// An unknown key is refused naming the variable or the file and key.
    #[test]
    fn unknown_keys_are_named(key in unknown_key(), raw in "[ -~]{0,12}", from_env in any::<bool>()) {
        let config = file(&toml_text(&key, &Value::String(raw.clone())));
        let err = if from_env {
            describe(load(&sources(vec![(var(&key), raw)], None)))
        } else {
            describe(load(&sources(vec![], Some(&config))))
        };
        let err = err.err().ok_or_else(|| TestCaseError::fail(format!("{key} accepted")))?;
        prop_assert!(err.starts_with("unknown configuration"), "{}", err);
        if from_env {
            prop_assert!(err.contains(&format!("{}:", var(&key))), "{}: {}", key, err);
        } else {
            prop_assert!(err.contains(&format!("key `{key}` in {}", config.path().display())), "{}", err);
        }
    }

    /// Whatever text a known key is given from the environment: no panic;
    /// a refusal names the variable, and every rule broken names its key.
    #[test]
    fn any_text_for_a_known_key_is_used_or_named(key in prop::sample::select(known_keys()), raw in "\\PC{0,16}|-?[0-9]{1,22}|\\[.{0,10}\\]|\\{.{0,10}\\}") {
        match describe(load(&sources(vec![(var(&key), raw.clone())], None))) {
            Err(err) => prop_assert!(err.contains(&format!("{}:", var(&key))), "{}={:?}: {}", key, raw, err),
            Ok(loaded) => {
                let sections = Value::try_from(&loaded.settings).unwrap();
                for problem in loaded.problems() {
                    let named = problem.split_once(": ").map(|(k, _)| k).unwrap_or_default();
                    let top = named.split(['.', '[']).next().unwrap_or_default();
                    prop_assert!(
                        top == "secret_key" || sections.get(top).is_some(),
                        "{}={:?}: {}", key, raw, problem
                    );
                }
            }
        }
    }
}
