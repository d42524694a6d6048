//! Database URLs: building the SQLite one, hiding passwords in any.

use std::path::Path;

use percent_encoding::{AsciiSet, CONTROLS, utf8_percent_encode};

/// Characters that would end the path part of a `sqlite://` URL early.
const SQLITE_PATH: &AsciiSet = &CONTROLS.add(b' ').add(b'%').add(b'?').add(b'#');

/// The `sqlite://` URL of a database file, created if missing.
pub fn sqlite_url_for(path: &Path) -> String {
    let path = path.to_string_lossy();
    format!(
        "sqlite://{}?mode=rwc",
        utf8_percent_encode(&path, SQLITE_PATH)
    )
}

/// The URL with any password replaced, safe for logs and errors.
pub fn redact_url(url: &str) -> String {
    match ::url::Url::parse(url) {
        Ok(mut parsed) if parsed.password().is_some() => {
            // Only fails for URLs that cannot have a password, which this one has.
            let _ = parsed.set_password(Some("REDACTED"));
            parsed.to_string()
        }
        Ok(_) => url.to_owned(),
        // Unparseable: keep only what cannot hold credentials.
        Err(_) => match url.split_once("://") {
            Some((scheme, rest)) if rest.contains('@') => {
                let host = rest.rsplit_once('@').map_or(rest, |(_, host)| host);
                format!("{scheme}://REDACTED@{host}")
            }
            _ => url.to_owned(),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_never_survive() {
        assert_eq!(
            redact_url("postgres://sw:hunter2@db:5432/sw"),
            "postgres://sw:REDACTED@db:5432/sw"
        );
        assert_eq!(redact_url("postgres://db/sw"), "postgres://db/sw");
        let odd = redact_url("postgres://sw:hun ter2@[bad/sw");
        assert!(!odd.contains("hun"), "{odd}");
    }

    #[test]
    fn sqlite_paths_are_escaped() {
        assert_eq!(
            sqlite_url_for(Path::new("/tmp/a b/sw?.db")),
            "sqlite:///tmp/a%20b/sw%3F.db?mode=rwc"
        );
    }
}
