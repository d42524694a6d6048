//! `acme.extra_root_pem`: the extra trusted root for the ACME directory's
//! own TLS (a test CA such as pebble). The binary reads the file; `acme`
//! takes the certificates and never opens a path.

use std::path::Path;

use rustls::pki_types::CertificateDer;

/// The certificates in the PEM file at `path`, or why it is unusable
/// (the message names the key and the path).
pub fn read(path: &Path) -> Result<Vec<CertificateDer<'static>>, String> {
    let unusable = |why: &dyn std::fmt::Display| {
        format!("acme.extra_root_pem: `{}` unusable: {why}", path.display())
    };
    let pem = std::fs::read_to_string(path).map_err(|e| unusable(&e))?;
    let roots = acme::certs::pem_certificates(&pem);
    if roots.is_empty() {
        return Err(unusable(&"no certificate in the file"));
    }
    Ok(roots)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_or_empty_file_is_named() {
        let dir = tempfile::tempdir().unwrap();
        let missing = read(&dir.path().join("nope.pem")).unwrap_err();
        assert!(missing.starts_with("acme.extra_root_pem: `"), "{missing}");
        assert!(missing.contains("nope.pem"), "{missing}");
        let empty = dir.path().join("empty.pem");
        std::fs::write(&empty, "not a certificate").unwrap();
        let err = read(&empty).unwrap_err();
        assert!(err.contains("no certificate in the file"), "{err}");
        let root = dir.path().join("root.pem");
        std::fs::write(&root, acme::LocalCa::generate().unwrap().cert_pem).unwrap();
        assert_eq!(read(&root).unwrap().len(), 1);
    }
}
