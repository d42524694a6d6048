//! `[database]`: which database, how many connections, when to migrate.

use std::path::Path;

use serde::{Deserialize, Serialize, Serializer};

use crate::db::{Dialect, redact_url, sqlite_url_for};

/// File name of the embedded SQLite database inside the data directory.
pub const SQLITE_FILE: &str = "statuswatch.db";

/// Connection settings of the one database every role shares.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct DatabaseConfig {
    /// `postgres://…` or `sqlite://…`; empty means `<data_dir>/statuswatch.db`.
    #[serde(default, serialize_with = "url_without_password")]
    pub url: Option<String>,
    /// Largest number of pooled connections.
    pub max_connections: u32,
    /// Seconds to wait for a connection before giving up.
    pub connect_timeout_seconds: u64,
    /// Apply pending migrations when `serve`/`app` start.
    pub migrate_on_start: bool,
}

impl DatabaseConfig {
    /// The URL to connect to: the configured one, or the SQLite file in `data_dir`.
    pub fn resolved_url(&self, data_dir: &Path) -> String {
        match self.url.as_deref().map(str::trim) {
            Some(url) if !url.is_empty() => url.to_owned(),
            _ => sqlite_url_for(&data_dir.join(SQLITE_FILE)),
        }
    }

    /// The dialect the resolved URL selects.
    pub fn dialect(&self) -> Option<Dialect> {
        match self.url.as_deref().map(str::trim) {
            Some(url) if !url.is_empty() => Dialect::from_url(url),
            _ => Some(Dialect::Sqlite),
        }
    }

    /// Appends one message per problem, each naming its key.
    pub fn validate(&self, production: bool, problems: &mut Vec<String>) {
        match self.dialect() {
            None => problems.push(format!(
                "database.url: `{}` is neither postgres:// nor sqlite://",
                redact_url(self.url.as_deref().unwrap_or_default())
            )),
            Some(Dialect::Sqlite) if production => problems.push(
                "database.url: production needs PostgreSQL (postgres://…); SQLite is the single-node embedded default"
                    .to_owned(),
            ),
            Some(_) => {}
        }
        if self.max_connections == 0 {
            problems.push("database.max_connections: must be at least 1".to_owned());
        }
        if !(1..=300).contains(&self.connect_timeout_seconds) {
            problems.push("database.connect_timeout_seconds: must be between 1 and 300".to_owned());
        }
    }
}

fn url_without_password<S: Serializer>(url: &Option<String>, s: S) -> Result<S::Ok, S::Error> {
    match url {
        Some(url) => s.serialize_str(&redact_url(url)),
        None => s.serialize_none(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(url: Option<&str>) -> DatabaseConfig {
        DatabaseConfig {
            url: url.map(str::to_owned),
            max_connections: 10,
            connect_timeout_seconds: 5,
            migrate_on_start: true,
        }
    }

    fn problems(config: &DatabaseConfig, production: bool) -> Vec<String> {
        let mut problems = Vec::new();
        config.validate(production, &mut problems);
        problems
    }

    #[test]
    fn empty_url_means_sqlite_in_the_data_dir() {
        let url = config(None).resolved_url(Path::new("/var/lib/sw"));
        assert_eq!(url, "sqlite:///var/lib/sw/statuswatch.db?mode=rwc");
        assert_eq!(config(Some("  ")).dialect(), Some(Dialect::Sqlite));
    }

    #[test]
    fn production_refuses_sqlite_and_unknown_schemes() {
        assert!(problems(&config(None), false).is_empty());
        let found = problems(&config(None), true);
        assert_eq!(found.len(), 1);
        assert!(found[0].starts_with("database.url: production needs PostgreSQL"));
        assert!(problems(&config(Some("postgres://db/sw")), true).is_empty());
        let found = problems(&config(Some("mysql://u:hunter2@db/sw")), false);
        assert_eq!(found.len(), 1);
        assert!(found[0].contains("neither postgres"), "{found:?}");
        assert!(!found[0].contains("hunter2"), "password leaked: {found:?}");
    }

    #[test]
    fn limits_are_checked() {
        let mut bad = config(None);
        bad.max_connections = 0;
        bad.connect_timeout_seconds = 0;
        let found = problems(&bad, false);
        assert_eq!(found.len(), 2, "{found:?}");
    }
}
