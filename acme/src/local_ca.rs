//! The embedded default's certificate authority: a root kept in the data
//! directory (by the binary) that signs short-lived leaf certificates.
//!
//! Reloading needs only the root's key: the issuer is rebuilt from the same
//! name and key, so leaves chain to the root file operators already trust.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa,
    Issuer as RcgenIssuer, KeyPair, KeyUsagePurpose,
};
use rustls::pki_types::CertificateDer;
use rustls::sign::CertifiedKey;

use crate::{Error, Result};

/// Common name of the root.
const ROOT_NAME: &str = "StatusWatch Local CA";
/// Leaf lifetime: short, since leaves are re-issued freely.
const LEAF_DAYS: u64 = 30;

/// A root CA able to sign leaves.
pub struct LocalCa {
    issuer: RcgenIssuer<'static, KeyPair>,
    root_der: CertificateDer<'static>,
    root_pem: String,
}

impl std::fmt::Debug for LocalCa {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("LocalCa")
    }
}

/// A new root: the CA and the PEM texts to store (certificate, private key).
pub struct Generated {
    /// The usable CA.
    pub ca: LocalCa,
    /// Root certificate, PEM (public: give it to browsers and curl).
    pub cert_pem: String,
    /// Root private key, PEM (secret: mode 0600).
    pub key_pem: String,
}

fn root_params() -> Result<CertificateParams> {
    let mut params =
        CertificateParams::new(Vec::<String>::new()).map_err(|e| Error::LocalCa(e.to_string()))?;
    let mut dn = DistinguishedName::new();
    dn.push(DnType::CommonName, ROOT_NAME);
    dn.push(DnType::OrganizationName, "StatusWatch");
    params.distinguished_name = dn;
    params.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
    params.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    let now = SystemTime::now();
    params.not_before = (now - Duration::from_secs(3600)).into();
    params.not_after = (now + Duration::from_secs(10 * 365 * 86_400)).into();
    Ok(params)
}

impl LocalCa {
    /// Creates a new root.
    pub fn generate() -> Result<Generated> {
        let key = KeyPair::generate().map_err(|e| Error::LocalCa(e.to_string()))?;
        let params = root_params()?;
        let cert = params
            .self_signed(&key)
            .map_err(|e| Error::LocalCa(e.to_string()))?;
        let cert_pem = cert.pem();
        let key_pem = key.serialize_pem();
        let ca = Self {
            root_der: cert.der().clone(),
            issuer: RcgenIssuer::new(params, key),
            root_pem: cert_pem.clone(),
        };
        Ok(Generated {
            ca,
            cert_pem,
            key_pem,
        })
    }

    /// Loads a root from its stored PEM texts.
    pub fn from_pem(cert_pem: &str, key_pem: &str) -> Result<Self> {
        let key =
            KeyPair::from_pem(key_pem).map_err(|e| Error::LocalCa(format!("private key: {e}")))?;
        let root_der = pem_certificates(cert_pem)
            .into_iter()
            .next()
            .ok_or_else(|| Error::LocalCa("certificate file holds no certificate".to_owned()))?;
        Ok(Self {
            issuer: RcgenIssuer::new(root_params()?, key),
            root_der,
            root_pem: cert_pem.to_owned(),
        })
    }

    /// The root certificate, DER.
    pub fn root_der(&self) -> &CertificateDer<'static> {
        &self.root_der
    }

    /// The root certificate, PEM.
    pub fn root_pem(&self) -> &str {
        &self.root_pem
    }

    /// Signs a leaf for `name`, returning the chain (leaf, root) and its key.
    pub fn issue(&self, name: &str) -> Result<Arc<CertifiedKey>> {
        let (chain, key) = self.issue_pem(name)?;
        crate::certs::certified_key(name, &chain, &key)
    }

    /// Signs a leaf for `name`: PEM chain (leaf, root) and PEM private key.
    pub fn issue_pem(&self, name: &str) -> Result<(String, String)> {
        let fail = |e: &dyn std::fmt::Display| Error::Ca {
            name: name.to_owned(),
            message: e.to_string(),
        };
        let key = KeyPair::generate().map_err(|e| fail(&e))?;
        let mut params = CertificateParams::new(vec![name.to_owned()]).map_err(|e| fail(&e))?;
        params.distinguished_name.push(DnType::CommonName, name);
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        params.key_usages = vec![
            KeyUsagePurpose::DigitalSignature,
            KeyUsagePurpose::KeyEncipherment,
        ];
        let now = SystemTime::now();
        params.not_before = (now - Duration::from_secs(3600)).into();
        params.not_after = (now + Duration::from_secs(LEAF_DAYS * 86_400)).into();
        let leaf = params.signed_by(&key, &self.issuer).map_err(|e| fail(&e))?;
        Ok((
            format!("{}{}", leaf.pem(), self.root_pem),
            key.serialize_pem(),
        ))
    }
}

use crate::certs::pem_certificates;

#[cfg(test)]
mod tests {
    use rustls::client::danger::ServerCertVerifier;

    use super::*;

    #[test]
    fn a_reloaded_root_signs_leaves_that_chain_to_the_stored_root() {
        let generated = LocalCa::generate().unwrap();
        let reloaded = LocalCa::from_pem(&generated.cert_pem, &generated.key_pem).unwrap();
        let leaf = reloaded.issue("acme.localhost").unwrap();
        assert_eq!(leaf.cert.len(), 2);
        assert_eq!(leaf.cert[1], generated.ca.root_der);

        let mut roots = rustls::RootCertStore::empty();
        roots.add(generated.ca.root_der.clone()).unwrap();
        let verifier = rustls::client::WebPkiServerVerifier::builder_with_provider(
            Arc::new(roots),
            Arc::new(rustls::crypto::ring::default_provider()),
        )
        .build()
        .unwrap();
        let name = rustls::pki_types::ServerName::try_from("acme.localhost").unwrap();
        verifier
            .verify_server_cert(
                &leaf.cert[0],
                &leaf.cert[1..],
                &name,
                &[],
                rustls::pki_types::UnixTime::now(),
            )
            .unwrap();
        let other = rustls::pki_types::ServerName::try_from("other.localhost").unwrap();
        assert!(
            verifier
                .verify_server_cert(
                    &leaf.cert[0],
                    &[],
                    &other,
                    &[],
                    rustls::pki_types::UnixTime::now()
                )
                .is_err()
        );
    }

    #[test]
    fn broken_files_are_reported() {
        assert!(LocalCa::from_pem("nope", "nope").is_err());
        let generated = LocalCa::generate().unwrap();
        assert!(LocalCa::from_pem("", &generated.key_pem).is_err());
    }
}
