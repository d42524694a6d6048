//! PEM texts to ready-to-use rustls keys, and what a certificate says of its validity.

use std::sync::Arc;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::sign::CertifiedKey;

use crate::{Error, Result};

/// DER certificates in a PEM text, in order.
pub fn pem_certificates(pem: &str) -> Vec<CertificateDer<'static>> {
    CertificateDer::pem_slice_iter(pem.as_bytes())
        .filter_map(std::result::Result::ok)
        .collect()
}

/// A signing-ready key for `chain_pem` (leaf first) and `key_pem`.
pub fn certified_key(name: &str, chain_pem: &str, key_pem: &str) -> Result<Arc<CertifiedKey>> {
    let bad = |what: &str| Error::BadCertificate {
        name: name.to_owned(),
        message: what.to_owned(),
    };
    let chain = pem_certificates(chain_pem);
    if chain.is_empty() {
        return Err(bad("the chain holds no certificate"));
    }
    let key = PrivateKeyDer::from_pem_slice(key_pem.as_bytes())
        .map_err(|_| bad("the private key is not PEM"))?;
    let signing = rustls::crypto::ring::default_provider()
        .key_provider
        .load_private_key(key)
        .map_err(|e| bad(&format!("the private key is unusable: {e}")))?;
    Ok(Arc::new(CertifiedKey::new(chain, signing)))
}

/// Validity of the leaf (first certificate) in `chain_pem`: (not before, not after), ms since the epoch.
pub fn validity_ms(name: &str, chain_pem: &str) -> Result<(i64, i64)> {
    let chain = pem_certificates(chain_pem);
    let leaf = chain.first().ok_or_else(|| Error::BadCertificate {
        name: name.to_owned(),
        message: "the chain holds no certificate".to_owned(),
    })?;
    let (_, parsed) =
        x509_parser::parse_x509_certificate(leaf.as_ref()).map_err(|e| Error::BadCertificate {
            name: name.to_owned(),
            message: format!("the leaf does not parse: {e}"),
        })?;
    let validity = parsed.validity();
    Ok((
        validity.not_before.timestamp().saturating_mul(1000),
        validity.not_after.timestamp().saturating_mul(1000),
    ))
}

/// The DNS names a certificate (DER) is for: its subject alternative names.
/// An unparsable certificate is for no name.
pub fn dns_names(der: &[u8]) -> Vec<String> {
    let Ok((_, parsed)) = x509_parser::parse_x509_certificate(der) else {
        return Vec::new();
    };
    let Ok(Some(san)) = parsed.subject_alternative_name() else {
        return Vec::new();
    };
    san.value
        .general_names
        .iter()
        .filter_map(|name| match name {
            x509_parser::extensions::GeneralName::DNSName(dns) => Some(dns.to_ascii_lowercase()),
            _ => None,
        })
        .collect()
}

/// Whether a certificate for `pattern` (a name or `*.` and a name) covers
/// `host` (lowercase): the same name, or for a wildcard exactly one more
/// label in front (RFC 6125 6.4.3, the wildcard only as the whole left label).
pub fn name_covers(pattern: &str, host: &str) -> bool {
    match pattern.strip_prefix("*.") {
        Some(parent) => host
            .split_once('.')
            .is_some_and(|(label, rest)| !label.is_empty() && rest == parent),
        None => pattern == host,
    }
}

/// When a certificate is due for renewal without ARI: one third of its lifetime before expiry.
pub fn default_renew_after_ms(not_before_ms: i64, not_after_ms: i64) -> i64 {
    let lifetime = (not_after_ms - not_before_ms).max(0);
    not_after_ms - lifetime / 3
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::LocalCa;

    #[test]
    fn local_leaf_round_trips_through_pem() {
        let ca = LocalCa::generate().unwrap().ca;
        let (chain, key) = ca.issue_pem("a.localhost").unwrap();
        let certified = certified_key("a.localhost", &chain, &key).unwrap();
        assert_eq!(certified.cert.len(), 2);
        let (nb, na) = validity_ms("a.localhost", &chain).unwrap();
        assert!(na > nb && na > crate::time::now_ms());
        let renew = default_renew_after_ms(nb, na);
        assert!(renew > nb && renew < na);
        let err = certified_key("a.localhost", "junk", &key).unwrap_err();
        assert!(err.to_string().contains("a.localhost"), "{err}");
        assert!(certified_key("a.localhost", &chain, "junk").is_err());
    }

    #[test]
    fn wildcards_cover_one_label() {
        assert!(name_covers("a.example", "a.example"));
        assert!(!name_covers("a.example", "b.example"));
        assert!(name_covers("*.status.example", "acme.status.example"));
        assert!(!name_covers("*.status.example", "status.example"));
        assert!(!name_covers("*.status.example", "a.b.status.example"));
        assert!(!name_covers("*.status.example", ".status.example"));
    }

    #[test]
    fn names_of_a_certificate() {
        let ca = LocalCa::generate().unwrap().ca;
        let (chain, _) = ca.issue_pem("a.localhost").unwrap();
        let leaf = pem_certificates(&chain).remove(0);
        assert_eq!(dns_names(&leaf), ["a.localhost"]);
        assert!(dns_names(b"not a certificate").is_empty());
        let key = rcgen::KeyPair::generate().unwrap();
        let params =
            rcgen::CertificateParams::new(vec!["a.example".into(), "*.b.example".into()]).unwrap();
        let wildcard = params.self_signed(&key).unwrap();
        assert_eq!(dns_names(wildcard.der()), ["a.example", "*.b.example"]);
    }
}
