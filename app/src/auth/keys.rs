//! Keys derived from the configured `secret_key`, one per purpose, so a leak
//! of one use never forges another.

use hmac::{Hmac, Mac};
use sha2::Sha256;

/// Per-purpose keys derived with HMAC-SHA256 from the secret key.
#[derive(Clone)]
pub struct Keys {
    /// Signs access tokens.
    pub access: [u8; 32],
    /// Signs email links (verification, password reset).
    pub links: [u8; 32],
}

impl std::fmt::Debug for Keys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Keys([redacted])")
    }
}

impl Keys {
    /// Derives every key from `secret`.
    pub fn derive(secret: &[u8]) -> Self {
        Self {
            access: derive(secret, b"statuswatch access token v1"),
            links: derive(secret, b"statuswatch email link v1"),
        }
    }
}

fn derive(secret: &[u8], purpose: &[u8]) -> [u8; 32] {
    // HMAC accepts keys of any length, so this cannot fail.
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(secret)
        .unwrap_or_else(|_| unreachable!("HMAC takes any key length"));
    mac.update(purpose);
    mac.finalize().into_bytes().into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn purposes_get_different_keys() {
        let keys = Keys::derive(b"secret");
        assert_ne!(keys.access, keys.links);
        assert_eq!(keys.access, Keys::derive(b"secret").access);
        assert_ne!(keys.access, Keys::derive(b"other").access);
        assert_eq!(format!("{keys:?}"), "Keys([redacted])");
    }
}
