//! Debian's `pebble` ACME server (and `pebble-challtestsrv` as its DNS),
//! started per test on free ports, validating against the edge's ports.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use rcgen::{BasicConstraints, CertificateParams, IsCa, Issuer, KeyPair};

use crate::harness::free_port;

/// A running pebble.
pub struct Pebble {
    child: Option<Child>,
    /// Directory URL.
    pub directory: String,
    /// PEM of the CA that signed pebble's own HTTPS certificate (acme.extra_root_pem).
    pub listener_ca: PathBuf,
    log: PathBuf,
    management: SocketAddr,
    _dns: Option<app::test_support::ChallTestSrv>,
}

impl Pebble {
    /// Starts pebble validating HTTP-01 on `http_port` and TLS-ALPN-01 on
    /// `tls_port` of 127.0.0.1; `dns` is where it resolves names (None: a
    /// challtestsrv answering 127.0.0.1 for everything).
    pub fn start(dir: &Path, http_port: u16, tls_port: u16, dns: Option<SocketAddr>) -> Self {
        Self::launch(dir, http_port, tls_port, dns, None)
    }

    /// Like [`Pebble::start`], but its validator sleeps up to `max_sleep_s`
    /// seconds before each validation (pebble's default behaviour), so an
    /// order stays in flight long enough to kill its orderer.
    pub fn start_sleeping(dir: &Path, http_port: u16, tls_port: u16, max_sleep_s: u32) -> Self {
        Self::launch(dir, http_port, tls_port, None, Some(max_sleep_s))
    }

    fn launch(
        dir: &Path,
        http_port: u16,
        tls_port: u16,
        dns: Option<SocketAddr>,
        sleep: Option<u32>,
    ) -> Self {
        let (listener_ca, cert, key) = listener_certificate(dir);
        let (listen, management): (SocketAddr, SocketAddr) = (
            ([127, 0, 0, 1], free_port()).into(),
            ([127, 0, 0, 1], free_port()).into(),
        );
        let config = dir.join("pebble.json");
        std::fs::write(
            &config,
            serde_json::json!({ "pebble": {
                "listenAddress": listen.to_string(),
                "managementListenAddress": management.to_string(),
                "certificate": cert, "privateKey": key,
                "httpPort": http_port, "tlsPort": tls_port,
                "ocspResponderURL": "", "externalAccountBindingRequired": false,
            }})
            .to_string(),
        )
        .unwrap();
        let (chall, dns) = match dns {
            Some(dns) => (None, dns),
            None => {
                // Every name is 127.0.0.1 and nothing is IPv6, so pebble's
                // validator reaches the edge on loopback.
                let chall = app::test_support::ChallTestSrv::start_with(&[
                    "-defaultIPv4",
                    "127.0.0.1",
                    "-defaultIPv6",
                    "",
                ]);
                let dns = chall.dns;
                (Some(chall), dns)
            }
        };
        let log = dir.join("pebble.log");
        let mut command = Command::new("pebble");
        command
            .arg("-config")
            .arg(&config)
            .arg("-dnsserver")
            .arg(dns.to_string());
        match sleep {
            Some(seconds) => command.env("PEBBLE_VA_SLEEPTIME", seconds.to_string()),
            // Deterministic: no validation sleeps.
            None => command.env("PEBBLE_VA_NOSLEEP", "1"),
        };
        let child = command
            // No rejected nonces, every order validated.
            .env("PEBBLE_WFE_NONCEREJECT", "0")
            .env("PEBBLE_AUTHZREUSE", "0")
            .stdin(Stdio::null())
            .stdout(std::fs::File::create(&log).unwrap())
            .stderr(Stdio::null())
            .spawn()
            .expect("pebble (Debian package pebble) must be installed");
        for _ in 0..200 {
            if std::net::TcpStream::connect(listen).is_ok()
                && std::net::TcpStream::connect(management).is_ok()
            {
                break;
            }
            std::thread::sleep(Duration::from_millis(25));
        }
        Self {
            child: Some(child),
            directory: format!("https://{listen}/dir"),
            listener_ca,
            log,
            management,
            _dns: chall,
        }
    }

    /// Orders pebble has received so far (its log has one line per new-order request).
    pub fn orders(&self) -> usize {
        std::fs::read_to_string(&self.log)
            .unwrap_or_default()
            .lines()
            .filter(|l| l.contains("POST /order-plz"))
            .count()
    }

    /// Pebble's log so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Pebble's issuing root (new on every launch), PEM.
    pub async fn root_pem(&self) -> String {
        let ca = std::fs::read(&self.listener_ca).unwrap();
        let client = reqwest::Client::builder()
            .add_root_certificate(reqwest::Certificate::from_pem(&ca).unwrap())
            .build()
            .unwrap();
        client
            .get(format!("https://{}/roots/0", self.management))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap()
    }

    /// Stops pebble (to show what fails fast and what keeps working).
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Pebble's ACME listener (directory and every resource under it).
    pub fn acme_addr(&self) -> SocketAddr {
        let authority = self.directory.trim_start_matches("https://");
        authority.split('/').next().unwrap().parse().unwrap()
    }

    /// Like [`Pebble::env`], but reaching pebble through `relay` (pebble
    /// builds its URLs from the Host it is asked on, so all of it goes there).
    pub fn env_via(&self, relay: SocketAddr) -> Vec<(&'static str, String)> {
        let mut env = self.env();
        env[0].1 = self
            .directory
            .replace(&self.acme_addr().to_string(), &relay.to_string());
        env
    }

    /// The ACME environment variables pointing `statuswatch` at this pebble.
    pub fn env(&self) -> Vec<(&'static str, String)> {
        vec![
            ("STATUSWATCH__ACME__DIRECTORY_URL", self.directory.clone()),
            (
                "STATUSWATCH__ACME__EXTRA_ROOT_PEM",
                self.listener_ca.display().to_string(),
            ),
        ]
    }
}

impl Drop for Pebble {
    fn drop(&mut self) {
        self.stop();
    }
}

/// A CA and a `localhost`/`127.0.0.1` certificate it signed, for pebble's HTTPS.
fn listener_certificate(dir: &Path) -> (PathBuf, PathBuf, PathBuf) {
    let ca_key = KeyPair::generate().unwrap();
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params
        .distinguished_name
        .push(rcgen::DnType::CommonName, "pebble listener test CA");
    let ca_cert = ca_params.self_signed(&ca_key).unwrap();
    let issuer = Issuer::new(ca_params, ca_key);
    let key = KeyPair::generate().unwrap();
    let params = CertificateParams::new(vec!["localhost".into(), "127.0.0.1".into()]).unwrap();
    let cert = params.signed_by(&key, &issuer).unwrap();
    let paths = (
        dir.join("pebble-ca.pem"),
        dir.join("pebble-cert.pem"),
        dir.join("pebble-key.pem"),
    );
    std::fs::write(&paths.0, ca_cert.pem()).unwrap();
    std::fs::write(&paths.1, cert.pem()).unwrap();
    std::fs::write(&paths.2, key.serialize_pem()).unwrap();
    paths
}

/// The leaf certificate (DER) a verified handshake for `sni` presents.
pub async fn leaf(root_pem: &str, port: u16, sni: &str) -> Result<Vec<u8>, String> {
    let stream = crate::harness::tls_connect(root_pem, port, sni).await?;
    let (_, conn) = stream.get_ref();
    Ok(conn.peer_certificates().unwrap()[0].to_vec())
}
