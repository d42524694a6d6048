//! Verifying `Stripe-Signature` exactly as Stripe specifies: the header is
//! `t=<unix seconds>,v1=<hex>,v1=<hex>,…` (other schemes such as `v0` are
//! ignored); each `v1` is HMAC-SHA256 of `"{t}.{raw body}"` keyed with the
//! whole `whsec_…` secret as bytes; one match in constant time suffices, and
//! the timestamp must be within the tolerance of now (300 s) against replays.

use hmac::{Hmac, Mac};
use sha2::Sha256;
use subtle::ConstantTimeEq;

/// Stripe's default tolerance between the signature's timestamp and now.
pub const TOLERANCE_SECONDS: i64 = 300;

/// Why a webhook was refused (400).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    /// No `Stripe-Signature` header.
    #[error("missing Stripe-Signature header")]
    Missing,
    /// The header has no `t=` or no `v1=` part, or `t` is not a number.
    #[error("malformed Stripe-Signature header")]
    Malformed,
    /// The timestamp is further than the tolerance from now.
    #[error("Stripe-Signature timestamp is outside the {TOLERANCE_SECONDS} s tolerance")]
    Expired,
    /// No `v1` signature matches.
    #[error("no Stripe-Signature v1 signature matches the payload")]
    Mismatch,
}

/// The `v1` signature of `payload` at `timestamp`, lowercase hex.
pub fn sign(secret: &str, timestamp: i64, payload: &[u8]) -> String {
    hex(&mac(secret, timestamp, payload))
}

fn mac(secret: &str, timestamp: i64, payload: &[u8]) -> Vec<u8> {
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(secret.as_bytes()) else {
        unreachable!("HMAC takes keys of any length")
    };
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(payload);
    mac.finalize().into_bytes().to_vec()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn unhex(text: &str) -> Option<Vec<u8>> {
    if !text.len().is_multiple_of(2) {
        return None;
    }
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(text.get(i..i + 2)?, 16).ok())
        .collect()
}

/// Checks `header` against the raw `payload` at `now` (unix seconds).
pub fn verify(
    header: Option<&str>,
    payload: &[u8],
    secret: &str,
    now: i64,
) -> Result<(), SignatureError> {
    let header = header.ok_or(SignatureError::Missing)?;
    let mut timestamp = None;
    let mut signatures = Vec::new();
    for part in header.split(',') {
        let Some((key, value)) = part.trim().split_once('=') else {
            continue;
        };
        match key {
            "t" => {
                timestamp = Some(
                    value
                        .parse::<i64>()
                        .map_err(|_| SignatureError::Malformed)?,
                )
            }
            "v1" => signatures.push(value),
            _ => {}
        }
    }
    let timestamp = timestamp.ok_or(SignatureError::Malformed)?;
    if signatures.is_empty() {
        return Err(SignatureError::Malformed);
    }
    if (now - timestamp).abs() > TOLERANCE_SECONDS {
        return Err(SignatureError::Expired);
    }
    let expected = mac(secret, timestamp, payload);
    // Every candidate is compared, so timing says nothing about which matched.
    let mut matched = subtle::Choice::from(0);
    for candidate in signatures {
        if let Some(bytes) = unhex(candidate)
            && bytes.len() == expected.len()
        {
            matched |= bytes.ct_eq(&expected);
        }
    }
    if bool::from(matched) {
        Ok(())
    } else {
        Err(SignatureError::Mismatch)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &str = "whsec_test_secret";
    const BODY: &[u8] = br#"{"id":"evt_1","object":"event"}"#;

    #[test]
    fn stripes_documented_scheme() {
        // Computed independently: printf '%s' '1700000000.{"id":"evt_1","object":"event"}' |
        //   openssl dgst -sha256 -hmac whsec_test_secret
        let signature = sign(SECRET, 1_700_000_000, BODY);
        assert_eq!(
            signature,
            "0c8670ed117751cc551a20e35839447075c42800ea3cf3e8a2fbda99cd1e6edd"
        );
        let header = format!("t=1700000000,v1={signature}");
        assert_eq!(verify(Some(&header), BODY, SECRET, 1_700_000_100), Ok(()));
    }

    #[test]
    fn any_v1_may_match_and_other_schemes_are_ignored() {
        let good = sign(SECRET, 1000, BODY);
        let header = format!("t=1000,v0=abc,v1={},v1={good}", "0".repeat(64));
        assert_eq!(verify(Some(&header), BODY, SECRET, 1000), Ok(()));
        // Rolling secrets: the old one signs too.
        let old = sign("whsec_old", 1000, BODY);
        let header = format!("t=1000,v1={old},v1={good}");
        assert_eq!(verify(Some(&header), BODY, SECRET, 1000), Ok(()));
    }

    #[test]
    fn bad_headers_are_refused() {
        let good = sign(SECRET, 1000, BODY);
        let cases = [
            (None, SignatureError::Missing),
            (Some("v1=abc".to_owned()), SignatureError::Malformed),
            (Some("t=1000".to_owned()), SignatureError::Malformed),
            (Some("t=soon,v1=ab".to_owned()), SignatureError::Malformed),
            (Some(format!("t=1000,v0={good}")), SignatureError::Malformed),
            (
                Some(format!("t=1000,v1={}", "ab".repeat(32))),
                SignatureError::Mismatch,
            ),
            (Some("t=1000,v1=zz".to_owned()), SignatureError::Mismatch),
            (Some(format!("t=999,v1={good}")), SignatureError::Mismatch),
        ];
        for (header, want) in cases {
            assert_eq!(
                verify(header.as_deref(), BODY, SECRET, 1000),
                Err(want),
                "{header:?}"
            );
        }
        // The body is signed byte for byte.
        let header = format!("t=1000,v1={good}");
        assert_eq!(
            verify(
                Some(&header),
                b"{\"id\":\"evt_1\", \"object\":\"event\"}",
                SECRET,
                1000
            ),
            Err(SignatureError::Mismatch)
        );
        // The key is the whole whsec_ string, not what follows the prefix.
        let wrong_key = sign("test_secret", 1000, BODY);
        assert_eq!(
            verify(Some(&format!("t=1000,v1={wrong_key}")), BODY, SECRET, 1000),
            Err(SignatureError::Mismatch)
        );
    }

    #[test]
    fn timestamps_outside_the_tolerance_are_refused() {
        let signature = sign(SECRET, 1000, BODY);
        let header = format!("t=1000,v1={signature}");
        assert_eq!(verify(Some(&header), BODY, SECRET, 1300), Ok(()));
        assert_eq!(
            verify(Some(&header), BODY, SECRET, 1301),
            Err(SignatureError::Expired)
        );
        assert_eq!(
            verify(Some(&header), BODY, SECRET, 699),
            Err(SignatureError::Expired)
        );
    }
}
