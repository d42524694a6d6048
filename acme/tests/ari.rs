//! ACME Renewal Information: the renewal window comes from the CA's
//! `renewalInfo` endpoint when the directory offers one. Pebble has no ARI,
//! so a small local HTTPS endpoint plays the CA here.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;
use std::time::Duration;

use acme::manager::Issuer;
use acme::store::Accounts;
use acme::{AcmeIssuer, AcmeOptions, Challenge, LocalCa, MemoryStore, Sealer};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rcgen::{CertificateParams, KeyPair};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// Serves `/dir` and `/ari/<id>` over TLS until the test ends; returns the base URL and the paths asked.
async fn fake_ca(ca: &LocalCa, ari: bool) -> (String, Arc<std::sync::Mutex<Vec<String>>>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!(
        "https://127.0.0.1:{}",
        listener.local_addr().unwrap().port()
    );
    let key = ca.issue("127.0.0.1").unwrap();
    let mut config = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_no_client_auth()
    .with_cert_resolver(Arc::new(rustls::sign::SingleCertAndKey::from(key)));
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    let seen = Arc::new(std::sync::Mutex::new(Vec::new()));
    let (base2, seen2) = (base.clone(), seen.clone());
    tokio::spawn(async move {
        loop {
            let (tcp, _) = listener.accept().await.unwrap();
            let (acceptor, base, seen) = (acceptor.clone(), base2.clone(), seen2.clone());
            tokio::spawn(async move {
                let Ok(mut tls) = acceptor.accept(tcp).await else {
                    return;
                };
                let mut buf = Vec::new();
                let mut chunk = [0_u8; 2048];
                while !buf.windows(4).any(|w| w == b"\r\n\r\n") {
                    let n = tls.read(&mut chunk).await.unwrap_or(0);
                    if n == 0 {
                        return;
                    }
                    buf.extend_from_slice(&chunk[..n]);
                }
                let head = String::from_utf8_lossy(&buf).into_owned();
                let path = head.split_whitespace().nth(1).unwrap_or("/").to_owned();
                seen.lock().unwrap().push(path.clone());
                let body = if path == "/dir" {
                    let mut dir = serde_json::json!({
                        "newNonce": format!("{base}/nonce"), "newAccount": format!("{base}/acct"),
                        "newOrder": format!("{base}/order"), "revokeCert": format!("{base}/revoke"),
                        "keyChange": format!("{base}/key"),
                    });
                    if ari {
                        dir["renewalInfo"] = serde_json::json!(format!("{base}/ari"));
                    }
                    dir.to_string()
                } else {
                    r#"{"suggestedWindow":{"start":"2030-01-02T00:00:00Z","end":"2030-01-03T00:00:00Z"}}"#.to_owned()
                };
                let response = format!(
                    "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nRetry-After: 21600\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                    body.len()
                );
                let _ = tls.write_all(response.as_bytes()).await;
                let _ = tls.shutdown().await;
            });
        }
    });
    (base, seen)
}

/// A leaf that carries an Authority Key Identifier, as real CAs' leaves do
/// (only its AKI and serial matter to ARI).
fn leaf_with_aki() -> String {
    let mut ca = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    let issuer = rcgen::Issuer::new(ca, KeyPair::generate().unwrap());
    let mut params = CertificateParams::new(vec!["x.test".to_owned()]).unwrap();
    params.use_authority_key_identifier_extension = true;
    params.serial_number = Some(vec![0x01, 0x02, 0x03].into());
    let key = KeyPair::generate().unwrap();
    params.signed_by(&key, &issuer).unwrap().pem()
}

async fn issuer_for(base: &str, root_pem: &str) -> AcmeIssuer {
    let directory = format!("{base}/dir");
    let store = Arc::new(MemoryStore::default());
    let sealer = Arc::new(Sealer::derive(b"ari test").unwrap());
    // Stored credentials, as after an earlier `new account`: no account request is made.
    let key = KeyPair::generate().unwrap();
    let credentials = serde_json::json!({
        "id": format!("{base}/acct/1"),
        "key_pkcs8": URL_SAFE_NO_PAD.encode(key.serialize_der()),
        "directory": directory,
    });
    let sealed = sealer
        .seal(&directory, credentials.to_string().as_bytes())
        .unwrap();
    store.save_account(&directory, &sealed).await.unwrap();
    AcmeIssuer::new(
        AcmeOptions {
            directory_url: directory,
            contact_email: None,
            extra_roots: acme::certs::pem_certificates(root_pem),
            challenge: Challenge::TlsAlpn01,
            poll_initial: Duration::from_millis(20),
            order_timeout: Duration::from_secs(5),
        },
        store.clone(),
        store.clone(),
        store,
        sealer,
    )
}

#[tokio::test]
async fn the_renewal_window_comes_from_ari_when_offered() {
    let generated = LocalCa::generate().unwrap();
    let root = generated.cert_pem.as_str();
    let chain = leaf_with_aki();

    let (base, seen) = fake_ca(&generated.ca, true).await;
    let issuer = issuer_for(&base, root).await;
    let (start, end) = issuer.renewal_window(&chain).await.expect("ARI window");
    assert_eq!(start, 1_893_542_400_000, "2030-01-02T00:00:00Z");
    assert_eq!(end, 1_893_628_800_000, "2030-01-03T00:00:00Z");
    let asked = seen.lock().unwrap().clone();
    let ari_path = asked
        .iter()
        .find(|p| p.starts_with("/ari/"))
        .expect("ARI asked");
    // <base64url AKI>.<base64url serial>: the serial we set is 01 02 03.
    assert!(ari_path.ends_with(".AQID"), "{ari_path}");

    // A directory without renewalInfo: no window, the one-third rule applies.
    let (base, _) = fake_ca(&generated.ca, false).await;
    let issuer = issuer_for(&base, root).await;
    assert_eq!(issuer.renewal_window(&chain).await, None);
}
