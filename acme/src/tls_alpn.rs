//! TLS-ALPN-01 (RFC 8737): the self-signed certificate a validator must see
//! when it connects with ALPN `acme-tls/1`.

use std::sync::Arc;

use rcgen::{CertificateParams, CustomExtension, KeyPair};
use rustls::pki_types::{PrivateKeyDer, PrivatePkcs8KeyDer};
use rustls::sign::CertifiedKey;

use crate::{Error, Result};

/// The ALPN protocol a TLS-ALPN-01 validator offers.
pub const ACME_TLS_ALPN: &[u8] = b"acme-tls/1";

/// SHA-256 of a key authorisation, as the acmeIdentifier extension carries it.
pub fn digest(key_authorization: &str) -> [u8; 32] {
    let digest = ring::digest::digest(&ring::digest::SHA256, key_authorization.as_bytes());
    let mut out = [0_u8; 32];
    out.copy_from_slice(digest.as_ref());
    out
}

/// The challenge certificate for `name` and `key_authorization`.
///
/// Built with `CertifiedKey::new` rather than a consistency-checked
/// constructor: webpki refuses the critical acmeIdentifier extension.
pub fn challenge_cert(name: &str, key_authorization: &str) -> Result<Arc<CertifiedKey>> {
    let fail = |e: &dyn std::fmt::Display| Error::Ca {
        name: name.to_owned(),
        message: format!("TLS-ALPN-01 certificate: {e}"),
    };
    let key = KeyPair::generate().map_err(|e| fail(&e))?;
    let mut params = CertificateParams::new(vec![name.to_owned()]).map_err(|e| fail(&e))?;
    params.custom_extensions = vec![CustomExtension::new_acme_identifier(&digest(
        key_authorization,
    ))];
    let cert = params.self_signed(&key).map_err(|e| fail(&e))?;
    let private = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der()));
    let signing = rustls::crypto::ring::default_provider()
        .key_provider
        .load_private_key(private)
        .map_err(|e| fail(&e))?;
    Ok(Arc::new(CertifiedKey::new(
        vec![cert.der().clone()],
        signing,
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn challenge_certificate_carries_the_digest() {
        let cert = challenge_cert("a.example", "token.thumbprint").unwrap();
        let (_, parsed) = x509_parser::parse_x509_certificate(cert.cert[0].as_ref()).unwrap();
        let ext = parsed
            .extensions()
            .iter()
            .find(|e| e.oid.to_id_string() == "1.3.6.1.5.5.7.1.31")
            .expect("acmeIdentifier present");
        assert!(ext.critical);
        // OCTET STRING (0x04, 32) wrapping the digest.
        assert_eq!(&ext.value[2..], &digest("token.thumbprint"));
    }
}
