//! TLS checks: a handshake with the target, then the leaf certificate's validity.
//!
//! The handshake accepts any certificate so an expired one can be reported as
//! such (with its dates) rather than as a failed handshake; whether the chain
//! is trusted is what `https` monitors with `verify_tls` check.

use std::sync::Arc;
use std::time::Instant;

use rustls::DigitallySignedStruct;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::CryptoProvider;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;

use super::{Outcome, ProbeResult, elapsed_ms};
use crate::net_guard::Guard;

const DAY_MS: i64 = 86_400_000;

/// Accepts every certificate, checking only the handshake signatures.
#[derive(Debug)]
struct AnyCertificate(Arc<CryptoProvider>);

impl ServerCertVerifier for AnyCertificate {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

/// The client configuration of TLS checks.
pub(super) fn any_certificate_config() -> Arc<rustls::ClientConfig> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map(|b| {
            b.dangerous()
                .with_custom_certificate_verifier(Arc::new(AnyCertificate(provider)))
                .with_no_client_auth()
        });
    match config {
        Ok(config) => Arc::new(config),
        // The ring provider supports the default versions; this cannot happen.
        Err(err) => unreachable!("ring supports TLS 1.2 and 1.3: {err}"),
    }
}

/// Handshakes with `host:port` and judges the leaf certificate's dates at `now` (ms).
pub(super) async fn probe(
    guard: &Guard,
    config: &Arc<rustls::ClientConfig>,
    host: &str,
    port: u16,
    warn_days: u32,
    now: i64,
) -> ProbeResult {
    let addrs = match guard.resolve(host, port).await {
        Ok(addrs) => addrs,
        Err(err) => return ProbeResult::down(err.to_string(), None),
    };
    let start = Instant::now();
    let Some(addr) = addrs.first() else {
        return ProbeResult::down(format!("no address for {host}"), None);
    };
    let tcp = match TcpStream::connect(addr).await {
        Ok(tcp) => tcp,
        Err(err) => {
            return ProbeResult::down(
                format!("connect to {addr} failed: {err}"),
                Some(elapsed_ms(start)),
            );
        }
    };
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    let name = match ServerName::try_from(bare.to_owned()) {
        Ok(name) => name,
        Err(err) => {
            return ProbeResult::down(format!("{host} is not a TLS server name: {err}"), None);
        }
    };
    let stream = match TlsConnector::from(config.clone()).connect(name, tcp).await {
        Ok(stream) => stream,
        Err(err) => {
            return ProbeResult::down(
                format!("TLS handshake failed: {err}"),
                Some(elapsed_ms(start)),
            );
        }
    };
    let latency = elapsed_ms(start);
    let leaf = stream
        .get_ref()
        .1
        .peer_certificates()
        .and_then(|certs| certs.first().cloned());
    let Some(leaf) = leaf else {
        return ProbeResult::down("the server sent no certificate", Some(latency));
    };
    let (not_before, not_after) = match x509_parser::parse_x509_certificate(leaf.as_ref()) {
        Ok((_, cert)) => (
            cert.validity().not_before.timestamp() * 1000,
            cert.validity().not_after.timestamp() * 1000,
        ),
        Err(err) => {
            return ProbeResult::down(format!("unreadable certificate: {err}"), Some(latency));
        }
    };
    judge(not_before, not_after, warn_days, now, latency)
}

/// Down when outside its validity, degraded within `warn_days` of expiry.
fn judge(not_before: i64, not_after: i64, warn_days: u32, now: i64, latency: i64) -> ProbeResult {
    let mut result = ProbeResult::up(latency);
    if now < not_before {
        result = ProbeResult::down("the certificate is not valid yet", Some(latency));
    } else if now > not_after {
        result = ProbeResult::down(
            format!(
                "the certificate expired {} days ago",
                (now - not_after) / DAY_MS
            ),
            Some(latency),
        );
    } else if not_after - now < i64::from(warn_days) * DAY_MS {
        result.outcome = Outcome::Degraded;
        result.error = Some(format!(
            "the certificate expires in {} days",
            (not_after - now) / DAY_MS
        ));
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn certificates_are_judged_by_their_dates() {
        let now = 100 * DAY_MS;
        assert_eq!(judge(0, now + 30 * DAY_MS, 14, now, 1).outcome, Outcome::Up);
        let soon = judge(0, now + 3 * DAY_MS, 14, now, 1);
        assert_eq!(soon.outcome, Outcome::Degraded);
        assert_eq!(
            soon.error.as_deref(),
            Some("the certificate expires in 3 days")
        );
        assert_eq!(
            judge(0, now - 2 * DAY_MS, 14, now, 1).error.as_deref(),
            Some("the certificate expired 2 days ago")
        );
        assert_eq!(
            judge(now + 1, now + DAY_MS, 14, now, 1).outcome,
            Outcome::Down
        );
    }
}
