//! Encryption at rest for private keys and ACME account credentials.
//!
//! The stores (database, memory) only ever see sealed bytes: the manager seals
//! before saving and opens after loading, with a key derived from the
//! configured secret. AES-256-GCM with a random nonce; the record's name is
//! bound as associated data, so a sealed key moved to another row fails to open.

use ring::aead::{AES_256_GCM, Aad, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
use ring::hkdf;
use ring::rand::{SecureRandom, SystemRandom};

use crate::{Error, Result};

/// Version byte in front of every sealed value, so the format can change later.
const VERSION: u8 = 1;

/// Seals and opens secrets with one derived key.
pub struct Sealer {
    key: LessSafeKey,
    rng: SystemRandom,
}

impl std::fmt::Debug for Sealer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Sealer")
    }
}

impl Sealer {
    /// A sealer whose key is derived (HKDF-SHA256) from `secret`.
    pub fn derive(secret: &[u8]) -> Result<Self> {
        let salt = hkdf::Salt::new(hkdf::HKDF_SHA256, b"statuswatch acme seal v1");
        let mut bytes = [0_u8; 32];
        salt.extract(secret)
            .expand(&[b"private keys"], &AES_256_GCM)
            .and_then(|okm| okm.fill(&mut bytes))
            .map_err(|_| Error::Seal("key derivation failed".into()))?;
        let unbound = UnboundKey::new(&AES_256_GCM, &bytes)
            .map_err(|_| Error::Seal("key derivation failed".into()))?;
        Ok(Self {
            key: LessSafeKey::new(unbound),
            rng: SystemRandom::new(),
        })
    }

    /// Encrypts `plain`, bound to `context` (e.g. the certificate's name).
    pub fn seal(&self, context: &str, plain: &[u8]) -> Result<Vec<u8>> {
        let mut nonce = [0_u8; NONCE_LEN];
        self.rng
            .fill(&mut nonce)
            .map_err(|_| Error::Seal("no randomness".into()))?;
        let mut out = plain.to_vec();
        self.key
            .seal_in_place_append_tag(
                Nonce::assume_unique_for_key(nonce),
                Aad::from(context.as_bytes()),
                &mut out,
            )
            .map_err(|_| Error::Seal("encryption failed".into()))?;
        let mut sealed = Vec::with_capacity(1 + NONCE_LEN + out.len());
        sealed.push(VERSION);
        sealed.extend_from_slice(&nonce);
        sealed.extend_from_slice(&out);
        Ok(sealed)
    }

    /// Decrypts what [`Sealer::seal`] produced for the same `context`.
    pub fn open(&self, context: &str, sealed: &[u8]) -> Result<Vec<u8>> {
        if sealed.len() < 1 + NONCE_LEN || sealed[0] != VERSION {
            return Err(Error::Seal(format!(
                "sealed value for {context} has an unknown format"
            )));
        }
        let mut nonce = [0_u8; NONCE_LEN];
        nonce.copy_from_slice(&sealed[1..1 + NONCE_LEN]);
        let mut buf = sealed[1 + NONCE_LEN..].to_vec();
        let plain = self
            .key
            .open_in_place(
                Nonce::assume_unique_for_key(nonce),
                Aad::from(context.as_bytes()),
                &mut buf,
            )
            .map_err(|_| {
                Error::Seal(format!(
                    "cannot decrypt the stored key of {context}: was secret_key changed?"
                ))
            })?;
        Ok(plain.to_vec())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_bound_to_context_and_secret() {
        let sealer = Sealer::derive(b"secret one").unwrap();
        let sealed = sealer
            .seal("a.example", b"-----BEGIN PRIVATE KEY-----")
            .unwrap();
        assert!(
            !sealed.windows(5).any(|w| w == b"BEGIN"),
            "plaintext leaked"
        );
        assert_eq!(
            sealer.open("a.example", &sealed).unwrap(),
            b"-----BEGIN PRIVATE KEY-----"
        );
        assert!(sealer.open("b.example", &sealed).is_err(), "moved row");
        let other = Sealer::derive(b"secret two").unwrap();
        let err = other.open("a.example", &sealed).unwrap_err();
        assert!(err.to_string().contains("secret_key"), "{err}");
        assert!(sealer.open("a.example", b"\x02junk").is_err());
        assert_ne!(
            sealer.seal("x", b"same").unwrap(),
            sealer.seal("x", b"same").unwrap(),
            "fresh nonce per seal"
        );
    }
}
