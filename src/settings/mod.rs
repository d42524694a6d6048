//! The whole configuration: each crate's section composed, loaded in layers
//! and validated at once, so every problem is reported together.

mod layers;
mod validate;

use std::fmt;
use std::path::{Path, PathBuf};

use acme::AcmeConfig;
use acme::config::redacted;
use app::config::{
    AppConfig, AuthConfig, BillingConfig, DatabaseConfig, EmailConfig, ProberConfig, TenancyConfig,
};
use proxy::EdgeConfig;
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};

pub use layers::ENV_PREFIX;
use layers::{Layer, Origin, merge, origin_of};

/// Built-in layers, embedded so the binary runs from any directory.
const DEFAULT_TOML: &str = include_str!("../../config/default.toml");
const DEVELOPMENT_TOML: &str = include_str!("../../config/development.toml");
const PRODUCTION_TOML: &str = include_str!("../../config/production.toml");

/// Variable that selects the environment layer.
pub const ENV_SELECTOR: &str = "STATUSWATCH_ENV";

/// Which environment's defaults and rules apply.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Environment {
    /// Zero-configuration local use: SQLite, local CA, relaxed rules.
    Development,
    /// Internet-facing: strict rules, refuses unsafe settings.
    Production,
}

impl Environment {
    /// Reads `STATUSWATCH_ENV`; unset means development.
    pub fn parse(value: Option<&str>) -> Result<Self, String> {
        match value.map(str::trim) {
            None | Some("") | Some("development") => Ok(Self::Development),
            Some("production") => Ok(Self::Production),
            Some(other) => Err(format!(
                "{ENV_SELECTOR}: `{other}` is not `development` or `production`"
            )),
        }
    }

    /// Lowercase name, as in the file names.
    pub fn name(self) -> &'static str {
        match self {
            Self::Development => "development",
            Self::Production => "production",
        }
    }

    fn builtin(self) -> &'static str {
        match self {
            Self::Development => DEVELOPMENT_TOML,
            Self::Production => PRODUCTION_TOML,
        }
    }
}

impl fmt::Display for Environment {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// `[log]`: what is logged and how.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct LogConfig {
    /// `tracing` filter directives, e.g. `info,app=debug`; `RUST_LOG` overrides.
    pub level: String,
    /// `pretty` for people, `json` for log collectors.
    pub format: LogFormat,
    /// Also write JSON lines to this file (rotated by size); empty: standard error only.
    #[serde(default)]
    pub file: Option<std::path::PathBuf>,
    /// Rotate the file once it would grow past this many bytes.
    pub max_bytes: u64,
    /// Rotated files kept (`FILE.1` … `FILE.N`); older ones are deleted.
    pub max_files: u32,
}

impl LogConfig {
    /// Appends one message per problem, each naming its key.
    pub fn validate(&self, problems: &mut Vec<String>) {
        if self.max_bytes < 4096 {
            problems.push("log.max_bytes: must be at least 4096".to_owned());
        }
        if !(1..=100).contains(&self.max_files) {
            problems.push("log.max_files: must be between 1 and 100".to_owned());
        }
        if let Some(file) = &self.file
            && (file.as_os_str().is_empty() || file.is_dir())
        {
            problems.push(format!("log.file: `{}` is not a file path", file.display()));
        }
    }
}

/// `[telemetry]`: where errors are reported besides the logs.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct TelemetryConfig {
    /// Sentry-protocol DSN (Sentry or GlitchTip); error events go there, scrubbed of secrets.
    #[serde(default, serialize_with = "redacted")]
    pub sentry_dsn: Option<SecretString>,
}

impl TelemetryConfig {
    /// Appends one message per problem, each naming its key.
    pub fn validate(&self, problems: &mut Vec<String>) {
        if let Some(dsn) = &self.sentry_dsn {
            let dsn = dsn.expose_secret();
            if !dsn.is_empty() && dsn.parse::<sentry::types::Dsn>().is_err() {
                // The DSN holds a key: name the problem, not the value.
                problems.push(
                    "telemetry.sentry_dsn: not a DSN like https://KEY@sentry.example.com/PROJECT"
                        .to_owned(),
                );
            }
        }
    }
}

/// Log line format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// Human-readable lines.
    Pretty,
    /// One JSON object per line.
    Json,
}

/// Every setting of the binary, one section per crate.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    /// Key material for tokens and for encrypting private keys at rest.
    #[serde(default, serialize_with = "redacted")]
    pub secret_key: Option<SecretString>,
    /// Development conveniences; refused in production.
    pub debug: bool,
    /// Directory of the embedded database and the local CA.
    pub data_dir: PathBuf,
    /// Logging.
    pub log: LogConfig,
    /// Error reporting.
    #[serde(default)]
    pub telemetry: TelemetryConfig,
    /// The shared database.
    pub database: DatabaseConfig,
    /// The API server.
    pub app: AppConfig,
    /// The edge proxy.
    pub edge: EdgeConfig,
    /// Tenant hostnames.
    pub tenancy: TenancyConfig,
    /// Sessions, passwords, rate limits.
    pub auth: AuthConfig,
    /// Certificate issuance.
    pub acme: AcmeConfig,
    /// Stripe billing.
    pub billing: BillingConfig,
    /// SMTP.
    pub email: EmailConfig,
    /// Probing.
    pub prober: ProberConfig,
}

/// What the operator supplied on top of the built-in layers.
#[derive(Debug, Default, Clone)]
pub struct Sources {
    /// Value of `STATUSWATCH_ENV`.
    pub environment: Option<String>,
    /// `--config FILE`.
    pub config_file: Option<PathBuf>,
    /// All environment variables; only `STATUSWATCH__…` ones are read.
    pub vars: Vec<(String, String)>,
    /// `--data-dir DIR`.
    pub data_dir: Option<PathBuf>,
}

impl Sources {
    /// The process's own environment plus the given flags.
    pub fn from_process(config_file: Option<PathBuf>, data_dir: Option<PathBuf>) -> Self {
        Self {
            environment: std::env::var(ENV_SELECTOR).ok(),
            config_file,
            vars: std::env::vars_os()
                .filter_map(|(k, v)| Some((k.into_string().ok()?, v.into_string().ok()?)))
                .collect(),
            data_dir,
        }
    }
}

/// Why configuration could not be used.
#[derive(Debug)]
pub enum ConfigError {
    /// A source could not be read or parsed, or a key has the wrong name or type.
    Source(String),
    /// Values parsed but break the rules; every problem is listed.
    Invalid {
        /// The environment whose rules were applied.
        environment: Environment,
        /// One line per problem, each starting with the key.
        problems: Vec<String>,
    },
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Source(message) => f.write_str(message),
            Self::Invalid {
                environment,
                problems,
            } => {
                write!(
                    f,
                    "configuration is not valid for {environment} ({} problem{}):",
                    problems.len(),
                    if problems.len() == 1 { "" } else { "s" }
                )?;
                for problem in problems {
                    write!(f, "\n  - {problem}")?;
                }
                Ok(())
            }
        }
    }
}

impl std::error::Error for ConfigError {}

/// Loaded settings with the environment they were loaded for.
#[derive(Debug, Clone)]
pub struct Loaded {
    /// Development or production.
    pub environment: Environment,
    /// The `--config` file it was read with, for reloads.
    pub config_file: Option<PathBuf>,
    /// The effective settings.
    pub settings: Settings,
}

impl Loaded {
    /// Problems under the environment's rules; empty when the settings may be used.
    pub fn problems(&self) -> Vec<String> {
        validate::problems(&self.settings, self.environment)
    }

    /// Fails with every problem at once.
    pub fn validated(self) -> Result<Self, ConfigError> {
        let problems = self.problems();
        if problems.is_empty() {
            Ok(self)
        } else {
            Err(ConfigError::Invalid {
                environment: self.environment,
                problems,
            })
        }
    }

    /// The database URL after defaults (the SQLite file in the data directory).
    pub fn database_url(&self) -> String {
        self.settings.database.resolved_url(&self.settings.data_dir)
    }

    /// Effective configuration as TOML, secrets and passwords redacted.
    pub fn to_redacted_toml(&self) -> Result<String, ConfigError> {
        toml::to_string_pretty(&self.settings)
            .map_err(|err| ConfigError::Source(format!("cannot render configuration: {err}")))
    }
}

/// Reads every layer, merges them and deserializes the result (not yet validated).
pub fn load(sources: &Sources) -> Result<Loaded, ConfigError> {
    let environment =
        Environment::parse(sources.environment.as_deref()).map_err(ConfigError::Source)?;
    let builtin = |name: &str, text: &str| {
        Layer::from_toml(&format!("built-in config/{name}"), text).map_err(ConfigError::Source)
    };
    let mut layers = vec![
        builtin("default.toml", DEFAULT_TOML)?,
        builtin(&format!("{environment}.toml"), environment.builtin())?,
    ];
    if let Some(path) = &sources.config_file {
        layers.push(Layer::from_file(path).map_err(ConfigError::Source)?);
    }
    let mut merged = toml::Table::new();
    for layer in &layers {
        merge(&mut merged, &layer.table);
    }
    let env_layer =
        Layer::from_env(sources.vars.iter().cloned(), &merged).map_err(ConfigError::Source)?;
    merge(&mut merged, &env_layer.table);
    layers.push(env_layer);
    if let Some(dir) = &sources.data_dir {
        let mut flag = toml::Table::new();
        flag.insert(
            "data_dir".to_owned(),
            toml::Value::String(dir.to_string_lossy().into_owned()),
        );
        merge(&mut merged, &flag);
        layers.push(Layer {
            origin: Origin::Flag("--data-dir"),
            table: flag,
        });
    }
    let settings = serde_path_to_error::deserialize::<_, Settings>(toml::Value::Table(merged))
        .map_err(|err| ConfigError::Source(describe_error(&layers, &err)))?;
    Ok(Loaded {
        environment,
        config_file: sources.config_file.clone(),
        settings,
    })
}

/// Names the key and the layer that set it; unknown keys get a hint of their own.
fn describe_error(layers: &[Layer], err: &serde_path_to_error::Error<toml::de::Error>) -> String {
    let path = err.path().to_string();
    let message = err.inner().message().trim().to_owned();
    let unknown = message
        .strip_prefix("unknown field `")
        .and_then(|rest| rest.split_once('`'))
        .map(|(field, _)| field.to_owned());
    let key = match (&unknown, path.as_str()) {
        (Some(field), "." | "") => field.clone(),
        (Some(field), parent) if !parent.ends_with(field.as_str()) => format!("{parent}.{field}"),
        _ => path.clone(),
    };
    // A list item (`auth.trusted_proxies[1]`) comes from its list's source.
    let key = key.split('[').next().unwrap_or_default().to_owned();
    let place = origin_of(layers, &key)
        .map(|origin| origin.describe_key(&key))
        .unwrap_or_else(|| format!("key `{key}`"));
    if unknown.is_some() {
        format!("unknown configuration {place}: {message}")
    } else {
        format!("configuration {place}: {message}")
    }
}

/// The data directory, created if missing, with a clear error otherwise.
pub fn ensure_data_dir(dir: &Path) -> Result<(), String> {
    std::fs::create_dir_all(dir)
        .map_err(|err| format!("cannot create data directory {}: {err}", dir.display()))
}

#[cfg(test)]
mod properties;
#[cfg(test)]
mod tests;
