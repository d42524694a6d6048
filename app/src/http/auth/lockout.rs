//! A known account's password checked with its lockout, for signing in and
//! for accepting an invitation as an existing user (both are ways to try a
//! password, so both count towards the same lockout).

use std::net::IpAddr;

use crate::AppState;
use crate::auth::password;
use crate::clock::now_ms;
use crate::http::AppError;
use crate::tenancy::audit::{self, Entry};
use crate::tenancy::store::UserRow;

/// Whether `password` is `user`'s. The attempt is counted before the check,
/// so guesses sent at once cannot all be checked before the lockout: past
/// `auth.lockout_threshold` in a row they are refused unchecked. A wrong
/// password is `Ok(false)`; a locked account is 429 `account_locked`.
pub(crate) async fn check_password(
    state: &AppState,
    user: &UserRow,
    password: String,
    ip: IpAddr,
) -> Result<bool, AppError> {
    let now = now_ms();
    let pool = state.db.pool();
    let attempt: Option<i64> = sqlx::query_scalar(
        "UPDATE users SET failed_logins = failed_logins + 1 \
         WHERE id = $1 AND (locked_until IS NULL OR locked_until <= $2) RETURNING failed_logins",
    )
    .bind(&user.id)
    .bind(now)
    .fetch_optional(pool)
    .await?;
    let Some(attempt) = attempt else {
        let until: Option<i64> = sqlx::query_scalar("SELECT locked_until FROM users WHERE id = $1")
            .bind(&user.id)
            .fetch_one(pool)
            .await?;
        return Err(locked(until.unwrap_or(now), now));
    };
    let threshold = i64::from(state.settings.auth.lockout_threshold);
    if attempt > threshold {
        return Err(lock(state, user, ip, now).await?);
    }
    let matches = match password::verify(password, user.password_hash.clone()).await {
        Ok(matches) => matches,
        Err(busy) => {
            // Not checked, so not counted.
            sqlx::query(
                "UPDATE users SET failed_logins = failed_logins - 1 WHERE id = $1 AND failed_logins > 0",
            )
            .bind(&user.id)
            .execute(pool)
            .await?;
            return Err(busy.into());
        }
    };
    if matches {
        sqlx::query("UPDATE users SET failed_logins = 0, locked_until = NULL WHERE id = $1")
            .bind(&user.id)
            .execute(pool)
            .await?;
        return Ok(true);
    }
    if attempt == threshold {
        return Err(lock(state, user, ip, now).await?);
    }
    audit::record(
        &state.db,
        Entry {
            actor_id: Some(&user.id),
            action: "auth.login_failed",
            ip: Some(ip.to_string()),
            ..Entry::default()
        },
    )
    .await;
    Ok(false)
}

/// Locks the account for `auth.lockout_minutes`, once: attempts that arrive
/// together find it locked and add no second lock or audit entry.
async fn lock(
    state: &AppState,
    user: &UserRow,
    ip: IpAddr,
    now: i64,
) -> Result<AppError, AppError> {
    let minutes = state.settings.auth.lockout_minutes;
    let until = now + i64::try_from(minutes * 60_000).unwrap_or(i64::MAX);
    let locked_now = sqlx::query(
        "UPDATE users SET failed_logins = 0, locked_until = $1 \
         WHERE id = $2 AND (locked_until IS NULL OR locked_until <= $3)",
    )
    .bind(until)
    .bind(&user.id)
    .bind(now)
    .execute(state.db.pool())
    .await?
    .rows_affected()
        == 1;
    if locked_now {
        audit::record(
            &state.db,
            Entry {
                actor_id: Some(&user.id),
                action: "auth.locked",
                ip: Some(ip.to_string()),
                details: Some(serde_json::json!({ "until": until })),
                ..Entry::default()
            },
        )
        .await;
    }
    Ok(locked(until, now))
}

/// 429 `account_locked` until `until`, with `Retry-After`.
fn locked(until: i64, now: i64) -> AppError {
    let seconds = u64::try_from((until - now + 999) / 1000)
        .unwrap_or(1)
        .max(1);
    AppError::TooManyRequests {
        code: "account_locked",
        message: format!(
            "too many failed logins; the account is locked for {seconds} more seconds"
        ),
        retry_after: seconds,
        locked_until: Some(until),
    }
}
