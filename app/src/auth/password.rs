//! Password policy and argon2id hashing (run off the async threads, on a
//! bounded pool: it is slow on purpose).

use std::sync::LazyLock;

use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};

use super::hashing::{Busy, Pool};

/// Longest password accepted: hashing cost grows with length, so cap it.
pub const MAX_PASSWORD_LEN: usize = 256;

/// Passwords seen most in breach corpora; refused whatever their length.
const COMMON: &[&str] = &[
    "123456789012",
    "1234567890",
    "12345678910",
    "123123123123",
    "0123456789",
    "1111111111",
    "0000000000",
    "1234512345",
    "1q2w3e4r5t",
    "1qaz2wsx3edc",
    "qwertyuiop",
    "qwertyuiop123",
    "qwerty123456",
    "qwerty12345",
    "asdfghjkl1",
    "zxcvbnm123",
    "password12",
    "password123",
    "password1234",
    "passw0rd123",
    "password!",
    "p@ssw0rd123",
    "iloveyou12",
    "letmein123",
    "welcome123",
    "welcome1234",
    "admin12345",
    "administrator",
    "changeme123",
    "football123",
    "baseball123",
    "superman123",
    "princess123",
    "sunshine123",
    "starwars123",
    "trustno1trustno1",
    "monkey12345",
    "dragon12345",
    "master12345",
    "shadow12345",
    "michael123",
    "jennifer123",
    "abc123abc123",
    "abcdefghij",
    "abcd123456",
    "aaaaaaaaaa",
    "qazwsxedcrfv",
    "1q2w3e4r5t6y",
    "q1w2e3r4t5",
    "iloveyou123",
    "statuswatch",
    "statuswatch1",
    "statuswatch123",
    "uptime12345",
    "correcthorsebatterystaple",
    "passwordpassword",
    "1234567890qwerty",
    "qwertyqwerty",
];

/// Why a password is refused; the message is shown to the user.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PasswordError {
    /// Shorter than the configured minimum.
    #[error("must be at least {0} characters")]
    TooShort(usize),
    /// Longer than [`MAX_PASSWORD_LEN`].
    #[error("must be at most {MAX_PASSWORD_LEN} characters")]
    TooLong,
    /// On the list of common passwords, or made of the account's own email.
    #[error("is too common or too easy to guess; choose another")]
    Common,
}

/// Checks a new password against the policy.
pub fn check(password: &str, min_len: usize, email: &str) -> Result<(), PasswordError> {
    let length = password.chars().count();
    if length < min_len {
        return Err(PasswordError::TooShort(min_len));
    }
    if password.len() > MAX_PASSWORD_LEN {
        return Err(PasswordError::TooLong);
    }
    let lower = password.to_lowercase();
    let local = email.split('@').next().unwrap_or_default().to_lowercase();
    let one_char = lower.chars().all(|c| lower.starts_with(c));
    if one_char
        || COMMON.contains(&lower.as_str())
        || lower == email.to_lowercase()
        || (!local.is_empty() && lower == local)
    {
        return Err(PasswordError::Common);
    }
    Ok(())
}

/// Why a password could not be hashed.
#[derive(Debug, thiserror::Error)]
pub enum HashError {
    /// Too many passwords are being hashed at once; try again shortly.
    #[error(transparent)]
    Busy(#[from] Busy),
    /// Argon2 failed (never expected with fixed parameters).
    #[error("password hashing failed: {0}")]
    Argon2(argon2::password_hash::Error),
}

/// Every password hashed or verified by this process goes through it.
static POOL: LazyLock<Pool> = LazyLock::new(Pool::for_this_machine);

/// The pool passwords are hashed on (its capacity, for tests and figures).
pub fn pool() -> &'static Pool {
    &POOL
}

fn hasher() -> Argon2<'static> {
    // OWASP's argon2id baseline: 19 MiB, 2 passes, 1 lane.
    let params = Params::new(19 * 1024, 2, 1, None).unwrap_or_default();
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

/// Hashes on this thread, with a fresh salt.
fn hash_here(password: &str) -> Result<String, argon2::password_hash::Error> {
    let salt = SaltString::generate(&mut OsRng);
    hasher()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
}

/// Hashes a password (PHC string with salt and parameters).
pub async fn hash(password: String) -> Result<String, HashError> {
    POOL.run(move || hash_here(&password))
        .await?
        .map_err(HashError::Argon2)
}

/// Whether `password` matches `stored`; a malformed stored hash never matches.
pub async fn verify(password: String, stored: String) -> Result<bool, Busy> {
    if password.len() > MAX_PASSWORD_LEN {
        return Ok(false);
    }
    POOL.run(move || {
        PasswordHash::new(&stored)
            .map(|parsed| {
                hasher()
                    .verify_password(password.as_bytes(), &parsed)
                    .is_ok()
            })
            .unwrap_or(false)
    })
    .await
}

/// A hash of a random password, verified against when the account does not
/// exist, so a login costs the same time either way. Made once, off the pool
/// (a flood must not be able to make it fail).
pub async fn dummy_hash() -> String {
    static DUMMY: tokio::sync::OnceCell<String> = tokio::sync::OnceCell::const_new();
    DUMMY
        .get_or_init(|| async {
            let password = crate::clock::new_id();
            tokio::task::spawn_blocking(move || hash_here(&password).unwrap_or_default())
                .await
                .unwrap_or_default()
        })
        .await
        .clone()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn policy() {
        assert_eq!(
            check("short", 10, "a@b.co"),
            Err(PasswordError::TooShort(10))
        );
        assert_eq!(
            check(&"x".repeat(300), 10, "a@b.co"),
            Err(PasswordError::TooLong)
        );
        assert_eq!(
            check("Password123", 10, "a@b.co"),
            Err(PasswordError::Common)
        );
        assert_eq!(
            check("zzzzzzzzzzzz", 10, "a@b.co"),
            Err(PasswordError::Common)
        );
        assert_eq!(
            check("alice.smith", 10, "alice.smith@example.com"),
            Err(PasswordError::Common)
        );
        assert_eq!(check("tangerine-umbrella-42", 10, "a@b.co"), Ok(()));
        // Length counts characters, not bytes.
        assert_eq!(
            check("ééééé-ééé", 10, "a@b.co"),
            Err(PasswordError::TooShort(10))
        );
    }

    #[tokio::test]
    async fn hashes_verify_and_differ() {
        let a = hash("tangerine-umbrella-42".into()).await.unwrap();
        let b = hash("tangerine-umbrella-42".into()).await.unwrap();
        assert_ne!(a, b, "salted");
        assert!(a.starts_with("$argon2id$"));
        assert_eq!(
            verify("tangerine-umbrella-42".into(), a.clone()).await,
            Ok(true)
        );
        assert_eq!(verify("tangerine-umbrella-43".into(), a).await, Ok(false));
        assert_eq!(verify("x".into(), "not a hash".into()).await, Ok(false));
    }
}
