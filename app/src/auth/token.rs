//! Compact signed tokens (JWT, HS256 only) for access tokens and email links.
//!
//! Only the one algorithm is produced or accepted, so `alg` confusion is impossible.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use serde::Serialize;
use serde::de::DeserializeOwned;
use sha2::Sha256;

/// The fixed header of every token.
const HEADER: &str = r#"{"alg":"HS256","typ":"JWT"}"#;

/// Why a token was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    /// Not three base64url parts, or not our header, or not JSON.
    #[error("token is malformed")]
    Malformed,
    /// The signature does not match: tampered, or signed with another key.
    #[error("token signature is invalid")]
    BadSignature,
    /// Past its `exp`.
    #[error("token has expired")]
    Expired,
    /// Signed for another purpose.
    #[error("token is for another purpose")]
    WrongPurpose,
}

/// Claims every token carries.
pub trait Claims: Serialize + DeserializeOwned {
    /// Expiry, seconds since the epoch.
    fn exp(&self) -> i64;
    /// What the token is for (`access`, `verify_email`, …).
    fn purpose(&self) -> &str;
}

/// Signs `claims` with `key`.
pub fn sign<C: Claims>(claims: &C, key: &[u8; 32]) -> String {
    let payload = serde_json::to_vec(claims).unwrap_or_default();
    let signing_input = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(HEADER),
        URL_SAFE_NO_PAD.encode(payload)
    );
    let signature = mac(key, signing_input.as_bytes()).finalize().into_bytes();
    format!("{signing_input}.{}", URL_SAFE_NO_PAD.encode(signature))
}

/// Checks signature, purpose and expiry (`now` in seconds), then returns the claims.
pub fn verify<C: Claims>(
    token: &str,
    key: &[u8; 32],
    purpose: &str,
    now: i64,
) -> Result<C, TokenError> {
    if token.len() > 4096 {
        return Err(TokenError::Malformed);
    }
    let mut parts = token.split('.');
    let (Some(header), Some(payload), Some(signature), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(TokenError::Malformed);
    };
    let header = URL_SAFE_NO_PAD
        .decode(header)
        .map_err(|_| TokenError::Malformed)?;
    if header != HEADER.as_bytes() {
        return Err(TokenError::Malformed);
    }
    let signature = URL_SAFE_NO_PAD
        .decode(signature)
        .map_err(|_| TokenError::Malformed)?;
    let signing_input = &token[..token.len() - token.rsplit('.').next().map_or(0, str::len) - 1];
    mac(key, signing_input.as_bytes())
        .verify_slice(&signature)
        .map_err(|_| TokenError::BadSignature)?;
    let payload = URL_SAFE_NO_PAD
        .decode(payload)
        .map_err(|_| TokenError::Malformed)?;
    let claims: C = serde_json::from_slice(&payload).map_err(|_| TokenError::Malformed)?;
    if claims.purpose() != purpose {
        return Err(TokenError::WrongPurpose);
    }
    if claims.exp() <= now {
        return Err(TokenError::Expired);
    }
    Ok(claims)
}

fn mac(key: &[u8; 32], data: &[u8]) -> Hmac<Sha256> {
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(key)
        .unwrap_or_else(|_| unreachable!("HMAC takes any key length"));
    mac.update(data);
    mac
}

#[cfg(test)]
mod tests {
    use serde::Deserialize;

    use super::*;

    #[derive(Debug, PartialEq, Serialize, Deserialize)]
    struct Test {
        sub: String,
        pur: String,
        exp: i64,
    }

    impl Claims for Test {
        fn exp(&self) -> i64 {
            self.exp
        }
        fn purpose(&self) -> &str {
            &self.pur
        }
    }

    fn claims(exp: i64) -> Test {
        Test {
            sub: "u1".into(),
            pur: "access".into(),
            exp,
        }
    }

    #[test]
    fn round_trip_and_every_refusal() {
        let key = [7; 32];
        let token = sign(&claims(100), &key);
        assert_eq!(verify::<Test>(&token, &key, "access", 99), Ok(claims(100)));
        assert_eq!(
            verify::<Test>(&token, &key, "access", 100),
            Err(TokenError::Expired)
        );
        assert_eq!(
            verify::<Test>(&token, &key, "verify_email", 99),
            Err(TokenError::WrongPurpose)
        );
        assert_eq!(
            verify::<Test>(&token, &[8; 32], "access", 99),
            Err(TokenError::BadSignature)
        );

        // Changing the payload (e.g. the subject) breaks the signature.
        let mut parts: Vec<&str> = token.split('.').collect();
        let forged = URL_SAFE_NO_PAD.encode(r#"{"sub":"admin","pur":"access","exp":100}"#);
        parts[1] = &forged;
        assert_eq!(
            verify::<Test>(&parts.join("."), &key, "access", 99),
            Err(TokenError::BadSignature)
        );

        // An unsigned token with alg "none" is not ours.
        let none = format!(
            "{}.{}.",
            URL_SAFE_NO_PAD.encode(r#"{"alg":"none","typ":"JWT"}"#),
            URL_SAFE_NO_PAD.encode(r#"{"sub":"u1","pur":"access","exp":100}"#)
        );
        assert_eq!(
            verify::<Test>(&none, &key, "access", 99),
            Err(TokenError::Malformed)
        );
        for junk in ["", "a.b", "a.b.c.d", "!!.!!.!!", &"x".repeat(5000)] {
            assert_eq!(
                verify::<Test>(junk, &key, "access", 99),
                Err(TokenError::Malformed),
                "{junk}"
            );
        }
    }
}
