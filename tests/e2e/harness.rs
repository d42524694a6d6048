//! Starting the binary, waiting for it, and reading what it printed.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Output, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::net::{TcpSocket, TcpStream};
use tokio::task::{AbortHandle, JoinHandle};

/// How long a server may take to become ready.
const READY_TIMEOUT: Duration = Duration::from_secs(30);

/// A `statuswatch` command with a clean environment: no inherited configuration.
pub fn statuswatch(data_dir: &Path) -> Command {
    statuswatch_at(Path::new(env!("CARGO_BIN_EXE_statuswatch")), data_dir)
}

/// The same for another build of the binary (the previous release).
pub fn statuswatch_at(exe: &Path, data_dir: &Path) -> Command {
    let mut command = Command::new(exe);
    for (name, _) in std::env::vars_os() {
        let name = name.to_string_lossy();
        if name.starts_with("STATUSWATCH") || name == "RUST_LOG" {
            command.env_remove(name.as_ref());
        }
    }
    command.arg("--data-dir").arg(data_dir);
    // The edge's development ports are fixed; tests run in parallel on free ones.
    for key in ["HTTP_LISTEN", "ADMIN_LISTEN"] {
        command.env(
            format!("STATUSWATCH__EDGE__{key}"),
            format!("127.0.0.1:{}", free_port()),
        );
    }
    with_https_port(&mut command, free_port());
    command
}

/// Puts the edge's HTTPS listener on `port`, with mailed links (the public
/// URL) pointing at it, as development's `https://localhost:8443` does.
fn with_https_port(command: &mut Command, port: u16) {
    command
        .env(
            "STATUSWATCH__EDGE__HTTPS_LISTEN",
            format!("127.0.0.1:{port}"),
        )
        .env(
            "STATUSWATCH__TENANCY__PUBLIC_URL",
            format!("https://localhost:{port}"),
        );
}

/// Runs to completion and returns status, stdout and stderr.
pub fn output(command: &mut Command) -> (ExitStatus, String, String) {
    let Output {
        status,
        stdout,
        stderr,
    } = command.stdin(Stdio::null()).output().unwrap();
    (
        status,
        String::from_utf8_lossy(&stdout).into_owned(),
        String::from_utf8_lossy(&stderr).into_owned(),
    )
}

/// A port no other test holds (see [`app::test_support::free_port`]).
pub fn free_port() -> u16 {
    app::test_support::free_port()
}

/// No panic or backtrace ever reaches the operator.
pub fn assert_clean_failure(status: ExitStatus, stderr: &str) {
    assert!(!status.success(), "expected failure; stderr: {stderr}");
    assert_eq!(status.code(), Some(1), "stderr: {stderr}");
    assert!(!stderr.contains("panicked"), "panic: {stderr}");
    assert!(
        !stderr.contains("RUST_BACKTRACE"),
        "backtrace hint: {stderr}"
    );
    assert!(
        stderr.lines().any(|line| line.starts_with("error: ")),
        "no `error:` line: {stderr}"
    );
}

/// A running server process, stopped with SIGTERM when dropped.
pub struct Server {
    child: Option<Child>,
    /// Base URL of the app listener.
    pub base: String,
    /// Edge ports: plain, TLS, admin.
    pub http_port: u16,
    /// TLS port of the edge.
    pub https_port: u16,
    /// Admin API port of the edge.
    pub admin_port: u16,
    log: PathBuf,
}

impl Server {
    /// Starts `statuswatch <role>` with the app and edge on free ports; does not wait.
    pub fn start(command: Command, role: &str, log_dir: &Path) -> Self {
        let ports = (free_port(), free_port(), free_port(), free_port());
        Self::start_on(command, &[role], log_dir, ports)
    }

    /// Starts `statuswatch serve --upgrade` on this server's ports, to take over from it.
    pub fn successor(&self, command: Command, log_dir: &Path) -> Self {
        let port: u16 = self.base.rsplit(':').next().unwrap().parse().unwrap();
        Self::start_on(
            command,
            &["serve", "--upgrade"],
            log_dir,
            (port, self.http_port, self.https_port, self.admin_port),
        )
    }

    /// Starts `statuswatch <args>` on the given (app, http, https, admin) ports.
    pub fn start_on(
        mut command: Command,
        args: &[&str],
        log_dir: &Path,
        ports: (u16, u16, u16, u16),
    ) -> Self {
        let (port, http_port, https_port, admin_port) = ports;
        let log = log_dir.join(format!("{}-{port}-{}.log", args[0], args.len()));
        let log_file = std::fs::File::create(&log).unwrap();
        with_https_port(&mut command, https_port);
        let child = command
            .args(args)
            .env("STATUSWATCH__APP__LISTEN", format!("127.0.0.1:{port}"))
            .env(
                "STATUSWATCH__EDGE__HTTP_LISTEN",
                format!("127.0.0.1:{http_port}"),
            )
            .env(
                "STATUSWATCH__EDGE__ADMIN_LISTEN",
                format!("127.0.0.1:{admin_port}"),
            )
            .stdin(Stdio::null())
            .stdout(log_file.try_clone().unwrap())
            .stderr(log_file)
            .spawn()
            .unwrap();
        Self {
            child: Some(child),
            base: format!("http://127.0.0.1:{port}"),
            http_port,
            https_port,
            admin_port,
            log,
        }
    }

    /// Sends a signal by name (`QUIT`, `TERM`).
    pub fn signal(&self, name: &str) {
        let pid = self.child.as_ref().expect("running").id().to_string();
        let _ = Command::new("kill")
            .args([&format!("-{name}"), &pid])
            .status();
    }

    /// Waits up to `limit` for the process to exit by itself.
    pub fn wait_exit(&mut self, limit: Duration) -> ExitStatus {
        let mut child = self.child.take().expect("server already stopped");
        let deadline = Instant::now() + limit;
        loop {
            if let Some(status) = child.try_wait().unwrap() {
                return status;
            }
            if Instant::now() > deadline {
                let _ = child.kill();
                panic!("server did not exit:\n{}", self.log());
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// How the process ended, if it has.
    pub fn try_status(&mut self) -> Option<ExitStatus> {
        self.child.as_mut().and_then(|c| c.try_wait().unwrap())
    }

    /// What the server has logged so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Polls `path` of the app until it answers `status`, failing with the server log otherwise.
    pub async fn wait_for(&mut self, path: &str, status: u16) -> reqwest::Response {
        let url = format!("{}{path}", self.base);
        self.wait_for_url(&url, status).await
    }

    /// Polls `url` until it answers `status`, failing with the server log otherwise.
    pub async fn wait_for_url(&mut self, url: &str, status: u16) -> reqwest::Response {
        let path = url;
        let client = reqwest::Client::new();
        let deadline = Instant::now() + READY_TIMEOUT;
        loop {
            if let Some(exit) = self.child.as_mut().and_then(|c| c.try_wait().unwrap()) {
                panic!("server exited early ({exit}):\n{}", self.log());
            }
            if let Ok(response) = client.get(url).send().await
                && response.status().as_u16() == status
            {
                return response;
            }
            assert!(
                Instant::now() < deadline,
                "{path} never answered {status}:\n{}",
                self.log()
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Sends SIGTERM and waits for a clean exit.
    pub fn stop(&mut self) -> ExitStatus {
        let mut child = self.child.take().expect("server already stopped");
        let _ = Command::new("kill")
            .args(["-TERM", &child.id().to_string()])
            .status();
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            if let Some(status) = child.try_wait().unwrap() {
                return status;
            }
            if Instant::now() > deadline {
                let _ = child.kill();
                panic!("server ignored SIGTERM:\n{}", self.log());
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// Waits up to 10 s for a file to exist, then returns its text.
pub async fn wait_for_file(path: &Path) -> String {
    for _ in 0..200 {
        if let Ok(text) = std::fs::read_to_string(path)
            && !text.is_empty()
        {
            return text;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("{} never appeared", path.display());
}

/// Waits up to 10 s for a path (of any kind, e.g. a socket) to exist.
pub async fn wait_for_path(path: &Path) {
    for _ in 0..200 {
        if path.exists() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("{} never appeared", path.display());
}

/// A TLS client trusting the certificates in `root_pem`, offering `alpn`.
pub fn tls_connector(root_pem: &str, alpn: &[&[u8]]) -> tokio_rustls::TlsConnector {
    tls_connector_with(root_pem, alpn, rustls::crypto::ring::default_provider())
}

/// A verified HTTP/1.1 TLS connection to loopback `port` for `sni`, trusting `root_pem`.
pub async fn tls_connect(
    root_pem: &str,
    port: u16,
    sni: &str,
) -> Result<tokio_rustls::client::TlsStream<tokio::net::TcpStream>, String> {
    let tcp = tokio::net::TcpStream::connect(("127.0.0.1", port))
        .await
        .map_err(|e| e.to_string())?;
    let name = rustls::pki_types::ServerName::try_from(sni.to_owned()).unwrap();
    tls_connector(root_pem, &[b"http/1.1"])
        .connect(name, tcp)
        .await
        .map_err(|e| e.to_string())
}

/// Like [`tls_connector`], offering only `suites`, ranked in that order.
pub fn tls_connector_offering(
    root_pem: &str,
    suites: &[rustls::CipherSuite],
) -> tokio_rustls::TlsConnector {
    let mut provider = rustls::crypto::ring::default_provider();
    provider.cipher_suites = suites
        .iter()
        .map(|wanted| {
            *provider
                .cipher_suites
                .iter()
                .find(|s| s.suite() == *wanted)
                .expect("a suite ring supports")
        })
        .collect();
    tls_connector_with(root_pem, &[b"http/1.1"], provider)
}

fn tls_connector_with(
    root_pem: &str,
    alpn: &[&[u8]],
    provider: rustls::crypto::CryptoProvider,
) -> tokio_rustls::TlsConnector {
    use rustls::pki_types::pem::PemObject;
    let mut roots = rustls::RootCertStore::empty();
    for cert in rustls::pki_types::CertificateDer::pem_slice_iter(root_pem.as_bytes()) {
        roots.add(cert.unwrap()).unwrap();
    }
    let mut config = rustls::ClientConfig::builder_with_provider(std::sync::Arc::new(provider))
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    config.alpn_protocols = alpn.iter().map(|p| p.to_vec()).collect();
    tokio_rustls::TlsConnector::from(std::sync::Arc::new(config))
}

/// One HTTP/1.1 GET of `path` for `host` on an open connection: the head,
/// lower-cased, and the body (read to its `Content-Length`).
pub async fn get_on<S>(stream: &mut S, host: &str, path: &str) -> (String, String)
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
{
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let request = format!("GET {path} HTTP/1.1\r\nHost: {host}\r\n\r\n");
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut data = Vec::new();
    let mut chunk = [0_u8; 4096];
    let (head, length) = loop {
        let n = stream.read(&mut chunk).await.unwrap();
        assert!(n > 0, "connection closed mid-answer");
        data.extend_from_slice(&chunk[..n]);
        if let Some(end) = data.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&data[..end]).to_ascii_lowercase();
            let length: usize = head
                .lines()
                .find_map(|l| l.strip_prefix("content-length: "))
                .expect("a content-length")
                .trim()
                .parse()
                .unwrap();
            data.drain(..end + 4);
            break (head, length);
        }
    };
    while data.len() < length {
        let n = stream.read(&mut chunk).await.unwrap();
        assert!(n > 0, "connection closed mid-body");
        data.extend_from_slice(&chunk[..n]);
    }
    (head, String::from_utf8_lossy(&data).into_owned())
}

/// Signs up organization `slug` (owner `owner@<slug>.example`) at the app
/// at `base`; returns the owner's access token.
pub async fn sign_up(base: &str, slug: &str) -> String {
    let response = reqwest::Client::new()
        .post(format!("{base}/api/auth/signup"))
        .json(&serde_json::json!({
            "organization": slug, "slug": slug,
            "email": format!("owner@{slug}.example"), "password": "tangerine-umbrella-42",
        }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 201, "sign-up of {slug}");
    let body: serde_json::Value = response.json().await.unwrap();
    body["access_token"].as_str().unwrap().to_owned()
}

/// The relay's accept loop and the connections it relays.
type Relay = (JoinHandle<()>, Arc<Mutex<Vec<AbortHandle>>>);

/// A TCP relay that can be switched off and on: what a client sees of a
/// server (PostgreSQL, a CA) that stops and comes back on the same address.
pub struct Switch {
    /// Where the relay listens.
    pub addr: SocketAddr,
    target: SocketAddr,
    running: Option<Relay>,
}

impl Switch {
    /// Relays `target` on a free loopback port.
    pub async fn start(target: SocketAddr) -> Self {
        let mut switch = Self {
            addr: SocketAddr::from(([127, 0, 0, 1], 0)),
            target,
            running: None,
        };
        switch.on();
        switch
    }

    /// Listens (again, on the same port) and relays every connection.
    pub fn on(&mut self) {
        let socket = TcpSocket::new_v4().unwrap();
        socket.set_reuseaddr(true).unwrap();
        socket.bind(self.addr).unwrap();
        let listener = socket.listen(128).unwrap();
        self.addr = listener.local_addr().unwrap();
        let pipes: Arc<Mutex<Vec<AbortHandle>>> = Arc::default();
        let (target, held) = (self.target, pipes.clone());
        let accept = tokio::spawn(async move {
            while let Ok((mut client, _)) = listener.accept().await {
                let pipe = tokio::spawn(async move {
                    if let Ok(mut server) = TcpStream::connect(target).await {
                        let _ = tokio::io::copy_bidirectional(&mut client, &mut server).await;
                    }
                });
                held.lock().unwrap().push(pipe.abort_handle());
            }
        });
        self.running = Some((accept, pipes));
    }

    /// Cuts every relayed connection and refuses new ones.
    pub fn off(&mut self) {
        if let Some((accept, pipes)) = self.running.take() {
            accept.abort();
            for pipe in pipes.lock().unwrap().drain(..) {
                pipe.abort();
            }
        }
    }
}

impl Drop for Switch {
    fn drop(&mut self) {
        self.off();
    }
}
