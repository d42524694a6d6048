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
    hex(&mac(secret, &timestamp.to_string(), payload))
}

/// HMAC-SHA256 of `"{timestamp}.{payload}"`, the timestamp as the header wrote it.
fn mac(secret: &str, timestamp: &str, payload: &[u8]) -> Vec<u8> {
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(secret.as_bytes()) else {
        unreachable!("HMAC takes keys of any length")
    };
    mac.update(timestamp.as_bytes());
    mac.update(b".");
    mac.update(payload);
    mac.finalize().into_bytes().to_vec()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Lowercase hex as Stripe writes it; anything else (`+a`, `AB`) is not a
/// signature, so no other spelling of the same bytes verifies.
fn unhex(text: &str) -> Option<Vec<u8>> {
    let digit = |b: u8| match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        _ => None,
    };
    let bytes = text.as_bytes();
    if !bytes.len().is_multiple_of(2) {
        return None;
    }
    bytes
        .chunks_exact(2)
        .map(|pair| Some(digit(pair[0])? << 4 | digit(pair[1])?))
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
            // Unix seconds in digits only: `+1000` or `1e3` is not a timestamp.
            "t" if !value.is_empty() && value.bytes().all(|b| b.is_ascii_digit()) => {
                let seconds = value
                    .parse::<i64>()
                    .map_err(|_| SignatureError::Malformed)?;
                timestamp = Some((value, seconds));
            }
            "t" => return Err(SignatureError::Malformed),
            "v1" => signatures.push(value),
            _ => {}
        }
    }
    let (text, timestamp) = timestamp.ok_or(SignatureError::Malformed)?;
    if signatures.is_empty() {
        return Err(SignatureError::Malformed);
    }
    // abs_diff: no overflow however far apart the two are.
    if now.abs_diff(timestamp) > TOLERANCE_SECONDS.unsigned_abs() {
        return Err(SignatureError::Expired);
    }
    let expected = mac(secret, text, payload);
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

    /// Found by `arbitrary_headers_never_panic_or_verify`: `now - t` overflowed (a panic in
    /// debug builds) for a timestamp far from now.
    #[test]
    fn extreme_timestamps_do_not_overflow() {
        let header = format!("t={},v1={}", i64::MAX, "0".repeat(64));
        assert_eq!(
            verify(Some(&header), BODY, SECRET, -1),
            Err(SignatureError::Expired)
        );
        assert_eq!(
            verify(Some("t=-9223372036854775808,v1=00"), BODY, SECRET, 1000),
            Err(SignatureError::Malformed)
        );
        assert_eq!(
            verify(Some("t=99999999999999999999,v1=00"), BODY, SECRET, 1000),
            Err(SignatureError::Malformed)
        );
    }

    /// Found by `any_change_fails`: `t=+1000` and `t=01000` verified with
    /// the signature of `t=1000`, and `+a` decoded as the hex byte `0a`.
    #[test]
    fn the_timestamp_and_signature_are_taken_as_written() {
        let good = sign(SECRET, 1000, BODY);
        for t in ["+1000", "01000", " 1000"] {
            let header = format!("t={t},v1={good}");
            assert!(
                verify(Some(&header), BODY, SECRET, 1000).is_err(),
                "{header}"
            );
        }
        let plus = format!("+{}", &good[1..]);
        if good.starts_with('0') {
            let header = format!("t=1000,v1={plus}");
            assert!(verify(Some(&header), BODY, SECRET, 1000).is_err());
        }
        assert_eq!(unhex("+a"), None);
        assert_eq!(unhex("0A"), None);
        assert_eq!(unhex("0a"), Some(vec![10]));
        let upper = format!("t=1000,v1={}", good.to_ascii_uppercase());
        assert_eq!(
            verify(Some(&upper), BODY, SECRET, 1000),
            Err(SignatureError::Mismatch)
        );
    }

    mod properties {
        use proptest::prelude::*;

        use super::*;

        /// Header parts in any order: the timestamp, the good signature,
        /// other schemes and wrong `v1`s, with optional spaces around.
        fn header(t: &str, good: &str, noise: &[(u8, String)], spaces: bool) -> String {
            let pad = |p: String| if spaces { format!(" {p} ") } else { p };
            let mut parts = vec![pad(format!("t={t}")), pad(format!("v1={good}"))];
            for (at, part) in noise {
                let at = usize::from(*at) % (parts.len() + 1);
                parts.insert(at, pad(part.clone()));
            }
            parts.join(",")
        }

        fn noise() -> impl Strategy<Value = Vec<(u8, String)>> {
            let part = prop_oneof![
                "[0-9a-f]{64}".prop_map(|h| format!("v1={h}")),
                "[0-9a-f]{0,70}".prop_map(|h| format!("v0={h}")),
                "[a-z0-9]{1,4}=[ -~&&[^,]]{0,20}"
                    .prop_filter("another scheme", |p| !p.starts_with("t=")
                        && !p.starts_with("v1=")),
                "[ -~&&[^,=]]{0,10}",
            ];
            prop::collection::vec((any::<u8>(), part), 0..4)
        }

        proptest! {
            #![proptest_config(ProptestConfig::with_cases(2048))]

            /// Any header at all, with any clock: no panic, and nothing
            /// without the right signature verifies.
            #[test]
            fn arbitrary_headers_never_panic_or_verify(
                raw in "\\PC{0,120}|[tv01=, +a-fA-F-]{0,120}|t=-?[0-9]{0,22},v1=[0-9a-fA-F+]{0,66}",
                payload in prop::collection::vec(any::<u8>(), 0..64),
                now in any::<i64>(),
            ) {
                prop_assert!(verify(Some(&raw), &payload, SECRET, now).is_err(), "{}", raw);
            }
        }

        proptest! {
            #![proptest_config(ProptestConfig::with_cases(4096))]

            /// A payload signed at t verifies at any now within the tolerance,
            /// whatever else the header holds; outside it is Expired.
            #[test]
            fn signed_payloads_verify_within_the_tolerance(
                payload in prop::collection::vec(any::<u8>(), 0..256),
                t in 0_i64..10_000_000_000,
                skew in -400_i64..=400,
                noise in noise(),
                spaces in any::<bool>(),
            ) {
                let good = sign(SECRET, t, &payload);
                let header = header(&t.to_string(), &good, &noise, spaces);
                let got = verify(Some(&header), &payload, SECRET, t + skew);
                if skew.abs() <= TOLERANCE_SECONDS {
                    prop_assert_eq!(got, Ok(()), "{}", header);
                } else {
                    prop_assert_eq!(got, Err(SignatureError::Expired), "{}", header);
                }
            }

            /// Changing the payload, the timestamp as written, the signature or
            /// the secret makes the header fail.
            #[test]
            fn any_change_fails(
                payload in prop::collection::vec(any::<u8>(), 1..256),
                t in 1_i64..10_000_000_000,
                change in 0_u8..7,
                at in any::<prop::sample::Index>(),
                byte in any::<u8>(),
                digit in "[0-9A-Fa-z+ -]",
            ) {
                let good = sign(SECRET, t, &payload);
                let (mut body, mut stamp, mut signature, mut secret) =
                    (payload.clone(), t.to_string(), good.clone(), SECRET.to_owned());
                match change {
                    0 => {
                        let i = at.index(body.len());
                        prop_assume!(body[i] != byte);
                        body[i] = byte;
                    }
                    1 => body.push(byte),
                    2 => { body.remove(at.index(body.len())); }
                    3 => stamp = (t + 1 + i64::from(byte % 100)).to_string(),
                    4 => stamp = format!("{}{stamp}", if byte % 2 == 0 { "0" } else { "+" }),
                    5 => {
                        let i = at.index(signature.len());
                        prop_assume!(signature[i..=i] != digit);
                        signature.replace_range(i..=i, &digit);
                    }
                    _ => secret.push(char::from(b'a' + byte % 26)),
                }
                let header = format!("t={stamp},v1={signature}");
                prop_assert!(verify(Some(&header), &body, &secret, t).is_err(), "change {} {}", change, header);
            }
        }
    }
}
