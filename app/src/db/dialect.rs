//! The few places where SQLite and PostgreSQL need different SQL.

/// The SQL dialect of the configured database.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    /// The embedded single-node default.
    Sqlite,
    /// Production and multi-node deployments.
    Postgres,
}

impl Dialect {
    /// The dialect a connection URL selects, if any.
    pub fn from_url(url: &str) -> Option<Self> {
        let scheme = url.split_once(':')?.0.to_ascii_lowercase();
        match scheme.as_str() {
            "sqlite" => Some(Self::Sqlite),
            "postgres" | "postgresql" => Some(Self::Postgres),
            _ => None,
        }
    }

    /// Name for logs and health answers.
    pub fn name(self) -> &'static str {
        match self {
            Self::Sqlite => "sqlite",
            Self::Postgres => "postgres",
        }
    }

    /// Statements run on every new connection.
    pub(crate) fn connection_setup(self) -> Option<&'static str> {
        match self {
            // WAL lets readers run beside the single writer; the busy timeout
            // makes concurrent writers wait instead of failing at once.
            Self::Sqlite => Some(
                "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; \
                 PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 5000;",
            ),
            Self::Postgres => None,
        }
    }

    /// Row-lock clause for a read that a later write in the same transaction
    /// depends on; SQLite has none (it serialises writers on the whole file).
    pub fn for_update(self) -> &'static str {
        match self {
            Self::Sqlite => "",
            Self::Postgres => " FOR UPDATE",
        }
    }

    /// Clause that makes a queue-style claim skip rows another transaction
    /// holds (PostgreSQL); SQLite serialises writers, so it needs none.
    pub fn skip_locked(self) -> &'static str {
        match self {
            Self::Sqlite => "",
            Self::Postgres => " FOR UPDATE SKIP LOCKED",
        }
    }

    /// How a writing transaction starts, when not plain `BEGIN`.
    pub(crate) fn begin_write(self) -> Option<&'static str> {
        match self {
            Self::Sqlite => Some("BEGIN IMMEDIATE"),
            Self::Postgres => None,
        }
    }

    /// Counts tables named `$1` in the current schema.
    pub(crate) fn table_exists_query(self) -> &'static str {
        match self {
            Self::Sqlite => "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = $1",
            Self::Postgres => {
                "SELECT COUNT(*) FROM information_schema.tables \
                 WHERE table_schema = current_schema() AND table_name = $1"
            }
        }
    }

    /// Lists `(table, column, type, not null as 0/1)` of every user table, `_sqlx` tables excluded.
    pub fn columns_query(self) -> &'static str {
        match self {
            Self::Sqlite => {
                "SELECT m.name, p.name, lower(p.type), p.\"notnull\" \
                 FROM sqlite_master m JOIN pragma_table_info(m.name) p \
                 WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%' \
                   AND m.name NOT LIKE '\\_sqlx%' ESCAPE '\\' \
                 ORDER BY 1, 2"
            }
            Self::Postgres => {
                "SELECT table_name::text, column_name::text, data_type::text, \
                 CASE WHEN is_nullable = 'NO' THEN 1 ELSE 0 END \
                 FROM information_schema.columns \
                 WHERE table_schema = current_schema() AND table_name NOT LIKE '\\_sqlx%' \
                 ORDER BY 1, 2"
            }
        }
    }

    /// Lists the names of user indexes.
    pub fn indexes_query(self) -> &'static str {
        match self {
            Self::Sqlite => {
                "SELECT name FROM sqlite_master WHERE type = 'index' \
                 AND name NOT LIKE 'sqlite_%' ORDER BY 1"
            }
            Self::Postgres => {
                "SELECT indexname::text FROM pg_indexes WHERE schemaname = current_schema() \
                 AND indexname NOT LIKE '%\\_pkey' AND indexname NOT LIKE '\\_sqlx%' ORDER BY 1"
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_select_dialects() {
        assert_eq!(Dialect::from_url("sqlite://x.db"), Some(Dialect::Sqlite));
        assert_eq!(Dialect::from_url("SQLite::memory:"), Some(Dialect::Sqlite));
        assert_eq!(
            Dialect::from_url("postgres://h/db"),
            Some(Dialect::Postgres)
        );
        assert_eq!(
            Dialect::from_url("postgresql://h/db"),
            Some(Dialect::Postgres)
        );
        assert_eq!(Dialect::from_url("mysql://h/db"), None);
        assert_eq!(Dialect::from_url("no scheme"), None);
    }
}
