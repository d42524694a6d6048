//! TLS on :443: read the ClientHello ourselves, resolve the certificate for
//! its SNI name asynchronously, then finish the handshake.

mod names;
mod stream;

use std::os::fd::AsRawFd;
use std::sync::Arc;
use std::time::Duration;

use acme::CertResolver;
use rustls::server::{Acceptor, ClientHello, ResolvesServerCert};
use rustls::sign::CertifiedKey;
use rustls::{CipherSuite, ServerConfig, version};
use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;
use tokio_rustls::StartHandshake;
use tokio_util::sync::CancellationToken;

pub use names::{ConnectionName, Connections};
pub use stream::TlsConnection;

/// A fatal `unrecognized_name` alert, sent in clear before any handshake.
const UNRECOGNIZED_NAME: [u8; 7] = [0x15, 0x03, 0x03, 0x00, 0x02, 0x02, 0x70];

/// How a handshake ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Finished.
    Ok,
    /// The name has no certificate and no right to one.
    UnknownName,
    /// Not TLS, or a malformed ClientHello.
    Malformed,
    /// The client was too slow.
    Timeout,
    /// The certificate could not be obtained in time.
    IssueFailed,
    /// The connection failed during the handshake.
    Failed,
    /// An ACME TLS-ALPN-01 validator was answered (and the connection closed).
    AcmeChallenge,
}

impl Outcome {
    /// Label for metrics.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Ok => "ok",
            Self::UnknownName => "unknown_name",
            Self::Malformed => "malformed",
            Self::Timeout => "timeout",
            Self::IssueFailed => "issue_failed",
            Self::Failed => "failed",
            Self::AcmeChallenge => "acme_challenge",
        }
    }
}

/// The certificate resolved (asynchronously, before rustls starts) for this one connection.
#[derive(Debug)]
struct ConnectionCert(Arc<CertifiedKey>);

impl ResolvesServerCert for ConnectionCert {
    fn resolve(&self, _hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        Some(self.0.clone())
    }
}

/// Everything the accept path needs.
pub struct TlsAcceptor {
    resolver: Arc<dyn CertResolver>,
    handshake_timeout: Duration,
    request_deadline: Duration,
    sessions: Arc<dyn rustls::server::StoresServerSessions>,
    ticketer: Arc<dyn rustls::server::ProducesTickets>,
    provider: Arc<rustls::crypto::CryptoProvider>,
    connections: Arc<Connections>,
}

impl std::fmt::Debug for TlsAcceptor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TlsAcceptor")
    }
}

impl TlsAcceptor {
    /// An acceptor resolving certificates through `resolver`; a request must
    /// arrive in full within `request_deadline` of its first byte.
    pub fn new(
        resolver: Arc<dyn CertResolver>,
        handshake_timeout: Duration,
        request_deadline: Duration,
    ) -> Result<Self, rustls::Error> {
        Ok(Self {
            resolver,
            handshake_timeout,
            request_deadline,
            // Shared across per-name configs so session resumption works for every name.
            sessions: rustls::server::ServerSessionMemoryCache::new(20_000),
            ticketer: rustls::crypto::ring::Ticketer::new()?,
            provider: Arc::new(aes128_first(rustls::crypto::ring::default_provider())),
            connections: Arc::default(),
        })
    }

    /// Registers every connection's name in `connections` (the edge's), so
    /// requests for a site the connection was not made for can be refused.
    pub fn with_connections(mut self, connections: Arc<Connections>) -> Self {
        self.connections = connections;
        self
    }

    /// TLS 1.2/1.3 with our provider, presenting `key`.
    fn base_config(&self, key: Arc<CertifiedKey>) -> Result<ServerConfig, rustls::Error> {
        Ok(ServerConfig::builder_with_provider(self.provider.clone())
            .with_protocol_versions(&[&version::TLS13, &version::TLS12])?
            .with_no_client_auth()
            .with_cert_resolver(Arc::new(ConnectionCert(key))))
    }

    /// The configuration of one handshake; `client_order` follows the
    /// client's cipher-suite ranking instead of ours.
    fn config_for(
        &self,
        key: Arc<CertifiedKey>,
        client_order: bool,
    ) -> Result<Arc<ServerConfig>, rustls::Error> {
        let mut config = self.base_config(key)?;
        config.ignore_client_order = !client_order;
        config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
        config.session_storage = self.sessions.clone();
        config.ticketer = self.ticketer.clone();
        Ok(Arc::new(config))
    }

    /// Runs the handshake on `tcp`; on success returns the decrypted connection,
    /// which closes between requests once `drain` is cancelled.
    pub async fn accept(
        &self,
        mut tcp: TcpStream,
        drain: CancellationToken,
    ) -> (Outcome, Option<TlsConnection>) {
        let fd = tcp.as_raw_fd();
        let hello = tokio::time::timeout(self.handshake_timeout, read_client_hello(&mut tcp)).await;
        let accepted = match hello {
            Err(_) => return (Outcome::Timeout, None),
            Ok(Err(outcome)) => return (outcome, None),
            Ok(Ok(accepted)) => accepted,
        };
        let sni = accepted
            .client_hello()
            .server_name()
            .map(str::to_owned)
            .unwrap_or_default();
        let validator = accepted
            .client_hello()
            .alpn()
            .is_some_and(|mut offered| offered.any(|p| p == acme::tls_alpn::ACME_TLS_ALPN));
        if validator {
            return (self.answer_validator(tcp, accepted, &sni).await, None);
        }
        let key = match self.resolver.resolve(&sni).await {
            Ok(Some(key)) => key,
            Ok(None) => {
                let _ = tcp.write_all(&UNRECOGNIZED_NAME).await;
                return (Outcome::UnknownName, None);
            }
            Err(err) => {
                tracing::warn!(sni, error = %err.report(), "no certificate");
                let _ = tcp.write_all(&UNRECOGNIZED_NAME).await;
                return (Outcome::IssueFailed, None);
            }
        };
        let chacha = prefers_chacha(accepted.client_hello().cipher_suites());
        let name = ConnectionName::new(&sni, key.clone());
        let config = match self.config_for(key, chacha) {
            Ok(config) => config,
            Err(err) => {
                tracing::error!(error = %err, "TLS configuration");
                return (Outcome::Failed, None);
            }
        };
        let transport: pingora_core::protocols::l4::stream::Stream = tcp.into();
        let start = StartHandshake::from_parts(accepted, transport);
        match tokio::time::timeout(self.handshake_timeout, start.into_stream(config)).await {
            Ok(Ok(stream)) => (
                Outcome::Ok,
                Some(
                    TlsConnection::new(stream, fd, self.request_deadline, drain)
                        .registered(self.connections.clone(), name),
                ),
            ),
            Ok(Err(_)) => (Outcome::Failed, None),
            Err(_) => (Outcome::Timeout, None),
        }
    }
}

impl TlsAcceptor {
    /// TLS-ALPN-01: present the challenge certificate for `sni`, finish the
    /// handshake so the validator can read it, and close.
    async fn answer_validator(
        &self,
        mut tcp: TcpStream,
        accepted: rustls::server::Accepted,
        sni: &str,
    ) -> Outcome {
        let Some(cert) = self.resolver.challenge_cert(sni).await else {
            let _ = tcp.write_all(&UNRECOGNIZED_NAME).await;
            return Outcome::UnknownName;
        };
        let Ok(mut config) = self.base_config(cert) else {
            return Outcome::Failed;
        };
        config.alpn_protocols = vec![acme::tls_alpn::ACME_TLS_ALPN.to_vec()];
        let start = StartHandshake::from_parts(accepted, tcp);
        match tokio::time::timeout(self.handshake_timeout, start.into_stream(Arc::new(config)))
            .await
        {
            Ok(Ok(mut stream)) => {
                tracing::info!(sni, "ACME TLS-ALPN-01 challenge answered");
                let _ = stream.shutdown().await;
                Outcome::AcmeChallenge
            }
            Ok(Err(_)) => Outcome::Failed,
            Err(_) => Outcome::Timeout,
        }
    }
}

/// Our suite order: AES-128-GCM first in each TLS version, the rest as rustls ranks them.
///
/// With AES hardware, AES-128-GCM is the cheapest suite, and its SHA-256 key
/// schedule runs on the CPU's SHA instructions, where SHA-384 (AES-256-GCM's)
/// has none: a resumed TLS 1.3 handshake spent 12% of its time in SHA-512
/// blocks while following OpenSSL clients' AES-256-first order.
fn aes128_first(mut provider: rustls::crypto::CryptoProvider) -> rustls::crypto::CryptoProvider {
    provider.cipher_suites.sort_by_key(|suite| {
        !matches!(
            suite.suite(),
            CipherSuite::TLS13_AES_128_GCM_SHA256
                | CipherSuite::TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256
                | CipherSuite::TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256
        )
    });
    provider
}

/// Whether the client ranks ChaCha20 above AES-GCM, which is how clients
/// without AES hardware say so (the rule Go's TLS server uses): then its
/// order is followed, since ChaCha20 is the faster suite for it.
fn prefers_chacha(offered: &[CipherSuite]) -> bool {
    offered
        .iter()
        .find_map(|suite| match *suite {
            CipherSuite::TLS13_CHACHA20_POLY1305_SHA256
            | CipherSuite::TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256
            | CipherSuite::TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256 => Some(true),
            CipherSuite::TLS13_AES_128_GCM_SHA256
            | CipherSuite::TLS13_AES_256_GCM_SHA384
            | CipherSuite::TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256
            | CipherSuite::TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384
            | CipherSuite::TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256
            | CipherSuite::TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384 => Some(false),
            _ => None,
        })
        .unwrap_or(false)
}

/// Reads until rustls has a whole ClientHello;
/// malformed input gets rustls' alert.
///
/// The bytes go straight from the socket into rustls's own buffer, so a
/// handshake allocates and zeroes no read buffer of ours.
async fn read_client_hello(tcp: &mut TcpStream) -> Result<rustls::server::Accepted, Outcome> {
    let mut acceptor = Acceptor::default();
    loop {
        tcp.readable().await.map_err(|_| Outcome::Failed)?;
        let mut socket = ReadyBytes { tcp, failed: false };
        match acceptor.read_tls(&mut socket) {
            Ok(0) => return Err(Outcome::Failed),
            Ok(_) => {}
            Err(err) if err.kind() == std::io::ErrorKind::WouldBlock => continue,
            // The socket failed, or rustls refused more bytes for a hello.
            Err(_) if socket.failed => return Err(Outcome::Failed),
            Err(_) => return Err(Outcome::Malformed),
        }
        match acceptor.accept() {
            Ok(Some(accepted)) => return Ok(accepted),
            Ok(None) => continue,
            Err((_, mut alert)) => {
                let mut out = Vec::new();
                let _ = alert.write(&mut out);
                let _ = tcp.write_all(&out).await;
                return Err(Outcome::Malformed);
            }
        }
    }
}

/// What the socket holds now, as a blocking-style reader for rustls.
struct ReadyBytes<'a> {
    tcp: &'a TcpStream,
    // Set when the socket itself failed, to tell that from rustls refusing input.
    failed: bool,
}

impl std::io::Read for ReadyBytes<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let read = self.tcp.try_read(buf);
        self.failed = matches!(&read, Err(e) if e.kind() != std::io::ErrorKind::WouldBlock);
        read
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aes128_leads_and_the_rest_keep_their_rank() {
        let default = rustls::crypto::ring::default_provider();
        let ours = aes128_first(rustls::crypto::ring::default_provider());
        let names = |p: &rustls::crypto::CryptoProvider| -> Vec<CipherSuite> {
            p.cipher_suites.iter().map(|s| s.suite()).collect()
        };
        assert_eq!(names(&ours)[0], CipherSuite::TLS13_AES_128_GCM_SHA256);
        let mut sorted = names(&ours);
        sorted.sort_by_key(|s| u16::from(*s));
        let mut expected = names(&default);
        expected.sort_by_key(|s| u16::from(*s));
        assert_eq!(sorted, expected, "same suites, only reordered");
        let tls13: Vec<_> = names(&ours)
            .into_iter()
            .filter(|s| format!("{s:?}").starts_with("TLS13"))
            .collect();
        assert_eq!(
            tls13,
            [
                CipherSuite::TLS13_AES_128_GCM_SHA256,
                CipherSuite::TLS13_AES_256_GCM_SHA384,
                CipherSuite::TLS13_CHACHA20_POLY1305_SHA256
            ]
        );
    }

    /// A connected pair: the server side, and the client's stream.
    async fn socket_pair() -> (TcpStream, TcpStream) {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let client = TcpStream::connect(listener.local_addr().unwrap())
            .await
            .unwrap();
        (listener.accept().await.unwrap().0, client)
    }

    /// The bytes of a real ClientHello for `name`.
    fn client_hello(name: &str) -> Vec<u8> {
        let config = rustls::ClientConfig::builder_with_provider(Arc::new(
            rustls::crypto::ring::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(rustls::RootCertStore::empty())
        .with_no_client_auth();
        let name = rustls::pki_types::ServerName::try_from(name.to_owned()).unwrap();
        let mut conn = rustls::ClientConnection::new(Arc::new(config), name).unwrap();
        let mut hello = Vec::new();
        conn.write_tls(&mut hello).unwrap();
        hello
    }

    #[tokio::test]
    async fn a_hello_in_pieces_is_read_whole_and_bad_input_is_named() {
        let (mut server, mut client) = socket_pair().await;
        let hello = client_hello("piecewise.example");
        let (first, rest) = hello.split_at(7);
        let reading = tokio::spawn(async move { read_client_hello(&mut server).await });
        client.write_all(first).await.unwrap();
        tokio::time::sleep(Duration::from_millis(50)).await;
        client.write_all(rest).await.unwrap();
        let accepted = reading.await.unwrap().unwrap();
        assert_eq!(
            accepted.client_hello().server_name(),
            Some("piecewise.example")
        );

        let (mut server, mut client) = socket_pair().await;
        client.write_all(b"GET / HTTP/1.1\r\n\r\n").await.unwrap();
        assert_eq!(
            read_client_hello(&mut server).await.unwrap_err(),
            Outcome::Malformed
        );

        let (mut server, client) = socket_pair().await;
        drop(client);
        assert_eq!(
            read_client_hello(&mut server).await.unwrap_err(),
            Outcome::Failed,
            "a client that leaves before its hello"
        );
    }

    #[test]
    fn chacha_is_preferred_only_when_the_client_ranks_it_above_aes() {
        use CipherSuite::*;
        assert!(prefers_chacha(&[
            TLS_EMPTY_RENEGOTIATION_INFO_SCSV,
            TLS13_CHACHA20_POLY1305_SHA256,
            TLS13_AES_128_GCM_SHA256
        ]));
        assert!(!prefers_chacha(&[
            TLS13_AES_256_GCM_SHA384,
            TLS13_CHACHA20_POLY1305_SHA256
        ]));
        assert!(!prefers_chacha(&[TLS_EMPTY_RENEGOTIATION_INFO_SCSV]));
        assert!(!prefers_chacha(&[]));
    }
}
