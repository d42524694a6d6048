//! Reading configuration layers and merging them, remembering where each key came from.

use std::path::Path;

use toml::{Table, Value};

/// Prefix of configuration environment variables; `__` separates sections and keys.
pub const ENV_PREFIX: &str = "STATUSWATCH__";

/// Where a layer's keys were written, for error messages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    /// A TOML file: built in (embedded) or given by the operator.
    File(String),
    /// `STATUSWATCH__…` environment variables.
    Environment,
    /// A command-line flag.
    Flag(&'static str),
}

impl Origin {
    /// Names `key` the way the operator wrote it in this layer.
    pub fn describe_key(&self, key: &str) -> String {
        match self {
            Self::File(name) => format!("key `{key}` in {name}"),
            Self::Environment => {
                format!(
                    "{ENV_PREFIX}{}",
                    key.replace('.', "__").to_ascii_uppercase()
                )
            }
            Self::Flag(flag) => format!("command-line flag {flag}"),
        }
    }
}

/// One source of configuration.
#[derive(Debug, Clone)]
pub struct Layer {
    /// Where it came from.
    pub origin: Origin,
    /// Its keys.
    pub table: Table,
}

impl Layer {
    /// Parses TOML text; a syntax error names the file, line and column.
    pub fn from_toml(name: &str, text: &str) -> Result<Self, String> {
        let table = text
            .parse::<Table>()
            .map_err(|err| format!("{name} is not valid TOML: {err}"))?;
        Ok(Self {
            origin: Origin::File(name.to_owned()),
            table,
        })
    }

    /// Reads and parses an operator's TOML file.
    pub fn from_file(path: &Path) -> Result<Self, String> {
        let name = path.display().to_string();
        let text = std::fs::read_to_string(path)
            .map_err(|err| format!("cannot read configuration file {name}: {err}"))?;
        Self::from_toml(&name, &text)
    }

    /// Turns `STATUSWATCH__SECTION__KEY=value` variables into keys. A value
    /// replacing a string default stays a string; one replacing a list is a
    /// TOML array or a comma list; otherwise it is read as a TOML value
    /// (number, boolean) when it is one.
    pub fn from_env<I>(vars: I, defaults: &Table) -> Result<Self, String>
    where
        I: IntoIterator<Item = (String, String)>,
    {
        let mut table = Table::new();
        for (name, raw) in vars {
            let Some(rest) = name.strip_prefix(ENV_PREFIX) else {
                continue;
            };
            let path: Vec<String> = rest.split("__").map(str::to_ascii_lowercase).collect();
            if path.iter().any(String::is_empty) {
                return Err(format!(
                    "environment variable {name}: empty section or key name (use single `__` between parts)"
                ));
            }
            let value = env_value(&raw, lookup(defaults, &path));
            insert(&mut table, &path, value).map_err(|conflict| {
                format!("environment variable {name}: `{conflict}` is set both as a value and as a section")
            })?;
        }
        Ok(Self {
            origin: Origin::Environment,
            table,
        })
    }
}

fn env_value(raw: &str, default: Option<&Value>) -> Value {
    match default {
        Some(Value::String(_)) | None => Value::String(raw.to_owned()),
        // A TOML array (`["a", "b"]`) as written; anything else is a comma
        // list of strings, so one item that reads as a number stays an item.
        Some(Value::Array(_)) => parse_scalar(raw)
            .filter(Value::is_array)
            .unwrap_or_else(|| {
                Value::Array(
                    raw.split(',')
                        .map(str::trim)
                        .filter(|item| !item.is_empty())
                        .map(|item| Value::String(item.to_owned()))
                        .collect(),
                )
            }),
        Some(_) => parse_scalar(raw).unwrap_or_else(|| Value::String(raw.to_owned())),
    }
}

/// Reads `raw` as a TOML value, if it is one.
fn parse_scalar(raw: &str) -> Option<Value> {
    format!("v = {raw}")
        .parse::<Table>()
        .ok()
        .and_then(|mut t| t.remove("v"))
}

fn lookup<'a>(table: &'a Table, path: &[String]) -> Option<&'a Value> {
    let (last, parents) = path.split_last()?;
    let mut current = table;
    for key in parents {
        current = current.get(key)?.as_table()?;
    }
    current.get(last)
}

/// Sets `path` in `table`, creating sections; fails with the clashing key.
fn insert(table: &mut Table, path: &[String], value: Value) -> Result<(), String> {
    let Some((last, parents)) = path.split_last() else {
        return Ok(());
    };
    let mut current = table;
    for key in parents {
        let entry = current
            .entry(key.clone())
            .or_insert_with(|| Value::Table(Table::new()));
        current = entry.as_table_mut().ok_or_else(|| key.clone())?;
    }
    if current.get(last).is_some_and(Value::is_table) {
        return Err(last.clone());
    }
    current.insert(last.clone(), value);
    Ok(())
}

/// Deep-merges `over` into `base`: tables merge key by key, anything else replaces.
pub fn merge(base: &mut Table, over: &Table) {
    for (key, value) in over {
        match (base.get_mut(key), value) {
            (Some(Value::Table(base_table)), Value::Table(over_table)) => {
                merge(base_table, over_table)
            }
            _ => {
                base.insert(key.clone(), value.clone());
            }
        }
    }
}

/// The highest-precedence layer that sets `key` (dotted), if any.
pub fn origin_of<'a>(layers: &'a [Layer], key: &str) -> Option<&'a Origin> {
    let path: Vec<String> = key.split('.').map(str::to_owned).collect();
    layers
        .iter()
        .rev()
        .find(|layer| lookup(&layer.table, &path).is_some())
        .map(|layer| &layer.origin)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table(text: &str) -> Table {
        text.parse().unwrap()
    }

    fn vars(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn env_values_follow_the_type_of_the_default() {
        let defaults = table(
            "[database]\nurl = ''\nmax_connections = 10\n[edge]\napp_upstreams = []\n[billing]\nenabled = false",
        );
        let layer = Layer::from_env(
            vars(&[
                ("STATUSWATCH__DATABASE__URL", "12345"),
                ("STATUSWATCH__DATABASE__MAX_CONNECTIONS", "20"),
                ("STATUSWATCH__EDGE__APP_UPSTREAMS", "a:1, b:2"),
                ("STATUSWATCH__BILLING__ENABLED", "true"),
                ("STATUSWATCH__SECRET_KEY", "0123"),
                ("STATUSWATCH_ENV", "production"),
                ("HOME", "/root"),
            ]),
            &defaults,
        )
        .unwrap();
        let expected = table(
            "secret_key = '0123'\n[database]\nurl = '12345'\nmax_connections = 20\n\
             [edge]\napp_upstreams = ['a:1', 'b:2']\n[billing]\nenabled = true",
        );
        assert_eq!(layer.table, expected);
    }

    #[test]
    fn malformed_env_names_are_refused() {
        let err = Layer::from_env(
            vars(&[("STATUSWATCH__DATABASE____URL", "x")]),
            &Table::new(),
        )
        .unwrap_err();
        assert!(err.contains("STATUSWATCH__DATABASE____URL"), "{err}");
        let err = Layer::from_env(
            vars(&[
                ("STATUSWATCH__DATABASE", "x"),
                ("STATUSWATCH__DATABASE__URL", "y"),
            ]),
            &Table::new(),
        )
        .unwrap_err();
        assert!(err.contains("both as a value and as a section"), "{err}");
    }

    #[test]
    fn merging_is_deep_and_origins_are_found() {
        let mut merged = table("a = 1\n[s]\nx = 1\ny = 2");
        let file = Layer::from_toml("mine.toml", "[s]\ny = 3\nz = 4").unwrap();
        merge(&mut merged, &file.table);
        assert_eq!(merged, table("a = 1\n[s]\nx = 1\ny = 3\nz = 4"));
        let base = Layer::from_toml("base.toml", "a = 1\n[s]\nx = 1\ny = 2").unwrap();
        let layers = [base, file];
        assert_eq!(
            origin_of(&layers, "s.y"),
            Some(&Origin::File("mine.toml".into()))
        );
        assert_eq!(
            origin_of(&layers, "s.x"),
            Some(&Origin::File("base.toml".into()))
        );
        assert_eq!(origin_of(&layers, "s.nope"), None);
        assert_eq!(
            Origin::Environment.describe_key("database.url"),
            "STATUSWATCH__DATABASE__URL"
        );
    }

    #[test]
    fn bad_toml_names_the_file_and_line() {
        let err = Layer::from_toml("custom.toml", "[database\nurl = 1").unwrap_err();
        assert!(err.starts_with("custom.toml is not valid TOML"), "{err}");
        assert!(err.contains("line 1"), "{err}");
    }
}
