//! Throwaway databases for tests of this crate and of the binary.
//!
//! Each PostgreSQL test gets its own database, created from the server named
//! by `STATUSWATCH_TEST_PG_URL` (default `postgres://postgres@127.0.0.1:5432/test`)
//! and dropped when the handle is dropped, so tests run in parallel.

use std::time::Duration;

use sqlx::{Connection, Executor, PgConnection};

use crate::db::{Database, PoolSettings};

/// Where the test PostgreSQL server is reached.
pub fn pg_admin_url() -> String {
    std::env::var("STATUSWATCH_TEST_PG_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".to_owned())
}

/// Pool settings small enough for many parallel tests.
pub fn test_pool_settings() -> PoolSettings {
    PoolSettings {
        max_connections: 4,
        connect_timeout: Duration::from_secs(10),
    }
}

/// A PostgreSQL database that exists for one test.
#[derive(Debug)]
pub struct PgTestDb {
    name: String,
    url: String,
}

impl PgTestDb {
    /// Creates an empty database with a unique name.
    pub async fn create() -> Self {
        let admin = pg_admin_url();
        let name = format!("sw_test_{}", uuid::Uuid::now_v7().simple());
        let mut conn = PgConnection::connect(&admin)
            .await
            .unwrap_or_else(|e| panic!("test PostgreSQL at {admin} is unreachable: {e}"));
        conn.execute(format!("CREATE DATABASE {name}").as_str())
            .await
            .unwrap_or_else(|e| panic!("CREATE DATABASE {name}: {e}"));
        let _ = conn.close().await;
        let url = match admin.rsplit_once('/') {
            Some((server, _)) => format!("{server}/{name}"),
            None => panic!("STATUSWATCH_TEST_PG_URL has no database part: {admin}"),
        };
        Self { name, url }
    }

    /// URL of the test database.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Connects a pool to the test database.
    pub async fn connect(&self) -> Database {
        Database::connect(&self.url, test_pool_settings())
            .await
            .unwrap_or_else(|e| panic!("connect {}: {e}", self.url))
    }

    /// Drops the database now, closing whatever is still connected.
    pub async fn drop_now(&self) {
        if let Ok(mut conn) = PgConnection::connect(&pg_admin_url()).await {
            let _ = conn
                .execute(format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name).as_str())
                .await;
            let _ = conn.close().await;
        }
    }
}

impl Drop for PgTestDb {
    fn drop(&mut self) {
        // Drop runs inside the test's runtime; a separate thread with its own
        // runtime can block on the async DROP without stalling it.
        let name = self.name.clone();
        let url = self.url.clone();
        let handle = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build();
            if let Ok(runtime) = runtime {
                runtime.block_on(PgTestDb { name, url }.drop_now_forget());
            }
        });
        let _ = handle.join();
    }
}

impl PgTestDb {
    /// Drops the database and forgets `self`, so `Drop` does not run again.
    async fn drop_now_forget(self) {
        self.drop_now().await;
        std::mem::forget(self);
    }
}

/// Request-time settings from the built-in configuration files, as `serve` would load them.
pub fn app_settings(production: bool) -> crate::AppSettings {
    let mut table: toml::Table = include_str!("../../config/default.toml")
        .parse()
        .unwrap_or_else(|e| panic!("config/default.toml: {e}"));
    let layer: toml::Table = if production {
        include_str!("../../config/production.toml")
    } else {
        include_str!("../../config/development.toml")
    }
    .parse()
    .unwrap_or_else(|e| panic!("environment layer: {e}"));
    for (section, values) in layer {
        match (table.get_mut(&section), values) {
            (Some(toml::Value::Table(base)), toml::Value::Table(over)) => base.extend(over),
            (_, value) => {
                table.insert(section, value);
            }
        }
    }
    let section = |name: &str| {
        table
            .get(name)
            .cloned()
            .unwrap_or(toml::Value::Table(Default::default()))
    };
    crate::AppSettings {
        production,
        auth: section("auth")
            .try_into()
            .unwrap_or_else(|e| panic!("[auth]: {e}")),
        tenancy: section("tenancy")
            .try_into()
            .unwrap_or_else(|e| panic!("[tenancy]: {e}")),
        prober: section("prober")
            .try_into()
            .unwrap_or_else(|e| panic!("[prober]: {e}")),
        billing: section("billing")
            .try_into()
            .unwrap_or_else(|e| panic!("[billing]: {e}")),
    }
}

/// A real SMTP server (aiosmtpd, `tests/support/smtp_sink.py`) that keeps every message.
#[derive(Debug)]
pub struct SmtpSink {
    /// Port it listens on (127.0.0.1).
    pub port: u16,
    dir: tempfile_dir::Dir,
    child: std::process::Child,
}

/// A directory removed on drop, without a dependency on `tempfile` here.
mod tempfile_dir {
    /// Owned temporary directory.
    #[derive(Debug)]
    pub struct Dir(pub std::path::PathBuf);

    impl Drop for Dir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }
}

impl SmtpSink {
    /// Starts the sink on a free port and waits until it listens.
    pub fn start() -> Self {
        use std::io::BufRead;
        let port = free_port();
        let dir = std::env::temp_dir().join(format!("sw-smtp-{}", uuid::Uuid::now_v7().simple()));
        let script = concat!(env!("CARGO_MANIFEST_DIR"), "/../tests/support/smtp_sink.py");
        let mut child = std::process::Command::new("python3")
            .arg(script)
            .arg(port.to_string())
            .arg(&dir)
            .stdout(std::process::Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start python3 {script}: {e}"));
        let stdout = child
            .stdout
            .take()
            .unwrap_or_else(|| panic!("smtp sink has no stdout"));
        let mut line = String::new();
        let _ = std::io::BufReader::new(stdout).read_line(&mut line);
        assert_eq!(
            line.trim(),
            "ready",
            "smtp sink did not start (is aiosmtpd installed?)"
        );
        Self {
            port,
            dir: tempfile_dir::Dir(dir),
            child,
        }
    }

    /// `[email]` settings that deliver to this sink.
    pub fn email_config(&self) -> crate::config::EmailConfig {
        crate::config::EmailConfig {
            enabled: true,
            smtp_host: Some("127.0.0.1".to_owned()),
            smtp_port: self.port,
            smtp_security: crate::config::SmtpSecurity::None,
            smtp_username: None,
            smtp_password: None,
            from: "StatusWatch <noreply@statuswatch.test>".to_owned(),
        }
    }

    /// Every message so far, oldest first, as raw text.
    pub fn messages(&self) -> Vec<String> {
        let mut paths: Vec<_> = std::fs::read_dir(&self.dir.0)
            .map(|entries| {
                entries
                    .filter_map(Result::ok)
                    .map(|e| e.path())
                    .filter(|p| p.extension().is_some_and(|x| x == "eml"))
                    .collect()
            })
            .unwrap_or_default();
        paths.sort();
        paths
            .iter()
            .filter_map(|p| std::fs::read_to_string(p).ok())
            .collect()
    }

    /// Waits up to 10 s for a message to `to` whose text contains `needle`.
    pub async fn wait_for(&self, to: &str, needle: &str) -> String {
        for _ in 0..200 {
            if let Some(found) = self.messages().into_iter().find(|m| {
                m.lines().next().is_some_and(|l| l.contains(to)) && unfold(m).contains(needle)
            }) {
                return unfold(&found);
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        panic!(
            "no mail to {to} containing {needle:?}; got {:#?}",
            self.messages()
        );
    }
}

/// Undoes quoted-printable soft line breaks and `=3D`, so links can be read back.
fn unfold(raw: &str) -> String {
    raw.replace("=\r\n", "")
        .replace("=\n", "")
        .replace("=3D", "=")
}

/// The value of `token=` in the first link of `mail`.
pub fn token_in(mail: &str) -> String {
    let start = mail
        .find("token=")
        .map(|i| i + "token=".len())
        .unwrap_or_else(|| panic!("no token in {mail}"));
    mail[start..]
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
        .collect()
}

impl Drop for SmtpSink {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Debian's `pebble-challtestsrv` as a DNS server whose records tests set.
#[derive(Debug)]
pub struct ChallTestSrv {
    /// Its DNS listener (UDP and TCP on 127.0.0.1).
    pub dns: std::net::SocketAddr,
    management: std::net::SocketAddr,
    child: std::process::Child,
}

/// Where [`free_port`] records the ports it has handed out.
const PORT_CLAIMS: &str = "statuswatch-test-ports";

/// Ports [`free_port`] picks from: below Linux's ephemeral range (32768+),
/// so no outgoing connection of any process can take one between the test
/// choosing it and the server binding it.
const PORT_RANGE: std::ops::Range<u16> = 10_000..24_000;

/// A claim older than this belongs to a test that ended; it may be reused.
const STALE_CLAIM: std::time::Duration = std::time::Duration::from_secs(15 * 60);

/// A loopback port (TCP and UDP) that is free now and that no other test
/// process will be handed for the next quarter hour.
///
/// `bind(0)`-and-release is racy: the kernel gives the released port to the
/// next outgoing connection on the machine, and parallel test processes
/// cannot see each other's picks. A lock file per port shared by every test
/// process, and a range outside the ephemeral one, close both gaps.
pub fn free_port() -> u16 {
    use std::hash::{BuildHasher, Hasher};
    let dir = std::env::temp_dir().join(PORT_CLAIMS);
    std::fs::create_dir_all(&dir)
        .unwrap_or_else(|e| panic!("cannot create {}: {e}", dir.display()));
    let span = u64::from(PORT_RANGE.end - PORT_RANGE.start);
    for _ in 0..10_000 {
        let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
        hasher.write_u32(std::process::id());
        let offset = u16::try_from(hasher.finish() % span).unwrap_or(0);
        let port = PORT_RANGE.start + offset;
        let claim = dir.join(port.to_string());
        let fresh = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&claim)
            .is_ok();
        if !fresh {
            let stale = std::fs::metadata(&claim)
                .and_then(|m| m.modified())
                .ok()
                .and_then(|t| t.elapsed().ok())
                .is_some_and(|age| age > STALE_CLAIM);
            if stale {
                let _ = std::fs::remove_file(&claim);
            }
            continue;
        }
        // Something outside the tests may hold it; the claim stays so no
        // test tries it again soon.
        let free = std::net::TcpListener::bind(("127.0.0.1", port)).is_ok()
            && std::net::UdpSocket::bind(("127.0.0.1", port)).is_ok();
        if free {
            return port;
        }
    }
    panic!(
        "no free port in {PORT_RANGE:?}; remove {} if it is full of stale claims",
        dir.display()
    )
}

impl ChallTestSrv {
    /// Starts it with DNS only, and waits for its management API.
    pub fn start() -> Self {
        Self::start_with(&[])
    }

    /// Like [`ChallTestSrv::start`], with extra command-line arguments
    /// (e.g. `-defaultIPv6 ""` so every name resolves to IPv4 loopback only).
    pub fn start_with(extra_args: &[&str]) -> Self {
        let dns: std::net::SocketAddr = ([127, 0, 0, 1], free_port()).into();
        let management: std::net::SocketAddr = ([127, 0, 0, 1], free_port()).into();
        let child = std::process::Command::new("pebble-challtestsrv")
            .args([
                "-dns01",
                &dns.to_string(),
                "-management",
                &management.to_string(),
            ])
            .args(["-http01", "", "-https01", "", "-tlsalpn01", ""])
            .args(extra_args)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap_or_else(|e| {
                panic!("cannot start pebble-challtestsrv (Debian package pebble): {e}")
            });
        let server = Self {
            dns,
            management,
            child,
        };
        for _ in 0..100 {
            if std::net::TcpStream::connect(management).is_ok() {
                return server;
            }
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        panic!("pebble-challtestsrv did not start");
    }

    fn post(&self, path: &str, body: &str) {
        use std::io::{Read, Write};
        let mut stream = std::net::TcpStream::connect(self.management)
            .unwrap_or_else(|e| panic!("challtestsrv: {e}"));
        let request = format!(
            "POST {path} HTTP/1.1\r\nHost: {}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            self.management,
            body.len()
        );
        stream
            .write_all(request.as_bytes())
            .unwrap_or_else(|e| panic!("challtestsrv: {e}"));
        let mut answer = String::new();
        let _ = stream.read_to_string(&mut answer);
        assert!(
            answer.starts_with("HTTP/1.1 200"),
            "challtestsrv {path}: {answer}"
        );
    }

    /// Answers CNAME queries for `host` with `target`.
    pub fn set_cname(&self, host: &str, target: &str) {
        self.post(
            "/set-cname",
            &format!(r#"{{"host":"{host}.","target":"{target}."}}"#),
        );
    }

    /// Answers A queries for `host` with `addresses` (unset names answer 127.0.0.1).
    pub fn set_a(&self, host: &str, addresses: &[&str]) {
        let list = addresses
            .iter()
            .map(|a| format!("\"{a}\""))
            .collect::<Vec<_>>()
            .join(",");
        self.post(
            "/add-a",
            &format!(r#"{{"host":"{host}.","addresses":[{list}]}}"#),
        );
    }

    /// Answers TXT queries for `host` with `value`.
    pub fn set_txt(&self, host: &str, value: &str) {
        self.post(
            "/set-txt",
            &format!(r#"{{"host":"{host}.","value":"{value}"}}"#),
        );
    }
}

impl Drop for ChallTestSrv {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
