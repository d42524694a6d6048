//! Signed links of subscribers: confirm (two days) and unsubscribe (a year,
//! signed afresh in every mail). They are the app's mailed-link tokens
//! ([`crate::auth::links::LinkClaims`] under the links key) with purposes of
//! their own, carrying the subscriber id and its subscription's stamp.

use super::SubscriberError;
use crate::auth::Keys;
use crate::auth::links::LinkClaims;
use crate::auth::token::{self, TokenError};
use crate::clock::now_ms;

/// Purpose of a confirmation link.
pub const CONFIRM: &str = "status_subscribe_confirm";
/// Purpose of an unsubscribe link.
pub const UNSUBSCRIBE: &str = "status_unsubscribe";

/// How long a confirmation link works, seconds.
const CONFIRM_TTL_S: i64 = 2 * 86_400;
/// How long an unsubscribe link works, seconds.
const UNSUBSCRIBE_TTL_S: i64 = 365 * 86_400;

fn sign(keys: &Keys, purpose: &str, subscriber_id: &str, stamp: i64, ttl: i64) -> String {
    token::sign(
        &LinkClaims {
            sub: subscriber_id.to_owned(),
            pur: purpose.to_owned(),
            exp: now_ms() / 1000 + ttl,
            email: None,
            stamp: Some(stamp),
        },
        &keys.links,
    )
}

/// The token of a confirmation link.
pub fn confirm_token(keys: &Keys, subscriber_id: &str, stamp: i64) -> String {
    sign(keys, CONFIRM, subscriber_id, stamp, CONFIRM_TTL_S)
}

/// The token of an unsubscribe link.
pub fn unsubscribe_token(keys: &Keys, subscriber_id: &str, stamp: i64) -> String {
    sign(keys, UNSUBSCRIBE, subscriber_id, stamp, UNSUBSCRIBE_TTL_S)
}

/// The link's subscriber id and stamp, if `token` is a valid one for `purpose`.
pub fn verify(keys: &Keys, token: &str, purpose: &str) -> Result<(String, i64), SubscriberError> {
    let claims: LinkClaims =
        token::verify(token, &keys.links, purpose, now_ms() / 1000).map_err(|err| {
            SubscriberError::BadToken(match err {
                TokenError::Expired if purpose == CONFIRM => {
                    "this confirmation link has expired; subscribe again".to_owned()
                }
                TokenError::Expired => "this link has expired".to_owned(),
                TokenError::WrongPurpose => "this link is not for this page".to_owned(),
                TokenError::Malformed | TokenError::BadSignature => {
                    "this link is invalid; copy the whole link from the mail".to_owned()
                }
            })
        })?;
    let stamp = claims.stamp.ok_or_else(|| {
        SubscriberError::BadToken("this link is invalid; copy the whole link from the mail".into())
    })?;
    Ok((claims.sub, stamp))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_round_trip_only_for_their_purpose() {
        let keys = Keys::derive(b"k");
        let confirm = confirm_token(&keys, "s1", 42);
        assert_eq!(verify(&keys, &confirm, CONFIRM).unwrap(), ("s1".into(), 42));
        assert!(matches!(
            verify(&keys, &confirm, UNSUBSCRIBE),
            Err(SubscriberError::BadToken(_))
        ));
        let unsubscribe = unsubscribe_token(&keys, "s1", 42);
        assert!(verify(&keys, &unsubscribe, UNSUBSCRIBE).is_ok());
        assert!(verify(&Keys::derive(b"other"), &unsubscribe, UNSUBSCRIBE).is_err());
        // Email-verification tokens (same key, other purpose) are refused.
        let verify_email = crate::auth::links::verify_email_token(&keys, "s1", "a@b.example");
        assert!(verify(&keys, &verify_email, UNSUBSCRIBE).is_err());
    }
}
