//! Subscribing, confirming and unsubscribing (the tenant's list is in
//! [`super::listing`]). Every function takes the tenant id it is scoped to.

use sqlx::AnyConnection;

use super::{
    CONFIRM_EVERY_MS, MAX_CHOSEN_COMPONENTS, SubscribeRequest, Subscribed, SubscriberError,
    SubscriberKind,
};
use crate::auth::Keys;
use crate::auth::session::random_secret;
use crate::clock::new_id;
use crate::db::Database;
use crate::tenancy::EmailAddress;

/// A new random stamp for a subscription's links.
fn new_stamp() -> i64 {
    i64::try_from(rand::random::<u64>() >> 1).unwrap_or(1)
}

/// The address of a request, checked: exactly one of `email` and `webhook_url`.
fn address(request: &SubscribeRequest) -> Result<(SubscriberKind, String), SubscriberError> {
    let email = request
        .email
        .as_deref()
        .map(str::trim)
        .filter(|e| !e.is_empty());
    let url = request
        .webhook_url
        .as_deref()
        .map(str::trim)
        .filter(|u| !u.is_empty());
    match (email, url) {
        (Some(_), Some(_)) => Err(SubscriberError::Invalid(
            "webhook_url",
            "give either an email address or a webhook URL, not both".into(),
        )),
        (None, None) => Err(SubscriberError::Invalid(
            "email",
            "is required: the address that should get the updates".into(),
        )),
        (Some(email), None) => EmailAddress::parse(email)
            .map(|e| (SubscriberKind::Email, e.as_str().to_owned()))
            .map_err(|m| SubscriberError::Invalid("email", m)),
        (None, Some(url)) => crate::monitor::alerts::channels::endpoint(Some(url))
            .map(|u| (SubscriberKind::Webhook, u))
            .map_err(|e| SubscriberError::Invalid("webhook_url", e.to_string())),
    }
}

/// The chosen components, checked against the page; empty means all.
async fn chosen(
    conn: &mut AnyConnection,
    tenant_id: &str,
    page_id: &str,
    ids: Option<&[String]>,
) -> Result<Vec<String>, SubscriberError> {
    let mut ids: Vec<String> = ids
        .unwrap_or_default()
        .iter()
        .map(|id| id.trim().to_owned())
        .filter(|id| !id.is_empty())
        .collect();
    ids.sort();
    ids.dedup();
    if ids.len() > MAX_CHOSEN_COMPONENTS {
        return Err(SubscriberError::Invalid(
            "components",
            format!("choose at most {MAX_CHOSEN_COMPONENTS} components"),
        ));
    }
    for id in &ids {
        let found: Option<String> = sqlx::query_scalar(
            "SELECT id FROM status_components WHERE id = $1 AND page_id = $2 AND tenant_id = $3",
        )
        .bind(id)
        .bind(page_id)
        .bind(tenant_id)
        .fetch_optional(&mut *conn)
        .await?;
        if found.is_none() {
            let shown: String = id.chars().take(64).collect();
            return Err(SubscriberError::Invalid(
                "components",
                format!("`{shown}` is not a component of this status page"),
            ));
        }
    }
    Ok(ids)
}

async fn set_components(
    conn: &mut AnyConnection,
    tenant_id: &str,
    subscriber_id: &str,
    ids: &[String],
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "DELETE FROM status_subscriber_components WHERE subscriber_id = $1 AND tenant_id = $2",
    )
    .bind(subscriber_id)
    .bind(tenant_id)
    .execute(&mut *conn)
    .await?;
    for id in ids {
        sqlx::query(
            "INSERT INTO status_subscriber_components (tenant_id, subscriber_id, component_id) \
             VALUES ($1, $2, $3)",
        )
        .bind(tenant_id)
        .bind(subscriber_id)
        .bind(id)
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}

/// Queues the confirmation mail of `subscriber_id`.
async fn queue_confirmation(
    conn: &mut AnyConnection,
    tenant_id: &str,
    subscriber_id: &str,
    now: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO status_deliveries (id, tenant_id, subscriber_id, notice_id, event, event_key, \
         status, next_attempt_at, created_at) \
         VALUES ($1, $2, $3, NULL, 'subscription.confirm', $4, 'pending', $5, $5) \
         ON CONFLICT (subscriber_id, event_key) DO NOTHING",
    )
    .bind(new_id())
    .bind(tenant_id)
    .bind(subscriber_id)
    .bind(format!("confirm:{now}"))
    .bind(now)
    .execute(conn)
    .await?;
    Ok(())
}

type Existing = (String, Option<i64>, Option<i64>, Option<i64>);

/// Subscribes to a page: email subscribers get a confirmation mail (at most
/// one per address and page per hour; none once subscribed), webhooks are
/// active at once. `origin` is where the subscriber found the page; links
/// in mails lead there.
pub async fn subscribe(
    db: &Database,
    keys: &Keys,
    page: PageSlot<'_>,
    origin: &str,
    request: &SubscribeRequest,
    now: i64,
) -> Result<Subscribed, SubscriberError> {
    let PageSlot {
        tenant_id,
        page_id,
        room,
    } = page;
    let (kind, address) = address(request)?;
    let mut tx = db.begin_write().await?;
    let components = chosen(&mut tx, tenant_id, page_id, request.components.as_deref()).await?;
    let all = i64::from(components.is_empty());
    let existing: Option<Existing> = sqlx::query_as(
        "SELECT id, confirm_sent_at, confirmed_at, unsubscribed_at FROM status_subscribers \
         WHERE page_id = $1 AND tenant_id = $2 AND kind = $3 AND address = $4",
    )
    .bind(page_id)
    .bind(tenant_id)
    .bind(kind.as_str())
    .bind(&address)
    .fetch_optional(&mut *tx)
    .await?;
    let active = |e: &Existing| e.2.is_some() && e.3.is_none();
    if !existing.as_ref().is_some_and(active) {
        // No confirmation mail for a place that does not exist.
        room.check(&mut tx, tenant_id, page_id).await?;
    }
    let outcome = match (kind, existing) {
        (SubscriberKind::Email, Some(e)) if active(&e) => Subscribed::NothingSent,
        (SubscriberKind::Email, Some(e)) if e.1.is_some_and(|at| now - at < CONFIRM_EVERY_MS) => {
            Subscribed::NothingSent
        }
        (SubscriberKind::Email, Some(e)) => {
            // Pending for over an hour, or unsubscribed: start over with new
            // links (old ones stop working) and the components asked for now.
            sqlx::query(
                "UPDATE status_subscribers SET all_components = $1, origin = $2, token_stamp = $3, \
                 confirm_sent_at = $4, confirmed_at = NULL, unsubscribed_at = NULL, updated_at = $4 \
                 WHERE id = $5 AND tenant_id = $6",
            )
            .bind(all)
            .bind(origin)
            .bind(new_stamp())
            .bind(now)
            .bind(&e.0)
            .bind(tenant_id)
            .execute(&mut *tx)
            .await?;
            set_components(&mut tx, tenant_id, &e.0, &components).await?;
            queue_confirmation(&mut tx, tenant_id, &e.0, now).await?;
            Subscribed::ConfirmationQueued
        }
        (SubscriberKind::Webhook, Some(e)) if active(&e) => {
            return Err(SubscriberError::Conflict(
                "webhook_url",
                "this webhook is subscribed to this page already".into(),
            ));
        }
        (kind, existing) => {
            let (id, secret) = match kind {
                SubscriberKind::Webhook => {
                    (existing.map_or_else(new_id, |e| e.0), Some(random_secret()))
                }
                SubscriberKind::Email => (new_id(), None),
            };
            let stamp = new_stamp();
            let confirmed = (kind == SubscriberKind::Webhook).then_some(now);
            let confirm_sent = (kind == SubscriberKind::Email).then_some(now);
            // A webhook subscribed before (and unsubscribed) is replaced.
            sqlx::query("DELETE FROM status_subscribers WHERE id = $1 AND tenant_id = $2")
                .bind(&id)
                .bind(tenant_id)
                .execute(&mut *tx)
                .await?;
            let inserted = sqlx::query(
                "INSERT INTO status_subscribers (id, tenant_id, page_id, kind, address, secret, \
                 all_components, origin, token_stamp, confirm_sent_at, confirmed_at, created_at, updated_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $12)",
            )
            .bind(&id)
            .bind(tenant_id)
            .bind(page_id)
            .bind(kind.as_str())
            .bind(&address)
            .bind(&secret)
            .bind(all)
            .bind(origin)
            .bind(stamp)
            .bind(confirm_sent)
            .bind(confirmed)
            .bind(now)
            .execute(&mut *tx)
            .await;
            match inserted {
                Ok(_) => {}
                // Two requests for one address at once: the other one mails.
                Err(err) if crate::tenancy::store::is_unique_violation(&err) => {
                    return Ok(Subscribed::NothingSent);
                }
                Err(err) => return Err(err.into()),
            }
            set_components(&mut tx, tenant_id, &id, &components).await?;
            match (kind, secret) {
                (SubscriberKind::Webhook, Some(secret)) => Subscribed::Webhook {
                    unsubscribe_token: super::tokens::unsubscribe_token(keys, &id, stamp),
                    id,
                    secret,
                },
                _ => {
                    queue_confirmation(&mut tx, tenant_id, &id, now).await?;
                    Subscribed::ConfirmationQueued
                }
            }
        }
    };
    tx.commit().await?;
    Ok(outcome)
}

/// The subscriber a link names, if it belongs to this page and the link is
/// of its current subscription.
async fn linked(
    db: &Database,
    tenant_id: &str,
    page_id: &str,
    id: &str,
    stamp: i64,
) -> Result<Option<(Option<i64>, Option<i64>)>, SubscriberError> {
    let row: Option<(i64, Option<i64>, Option<i64>)> = sqlx::query_as(
        "SELECT token_stamp, confirmed_at, unsubscribed_at FROM status_subscribers \
         WHERE id = $1 AND page_id = $2 AND tenant_id = $3",
    )
    .bind(id)
    .bind(page_id)
    .bind(tenant_id)
    .fetch_optional(db.pool())
    .await?;
    Ok(row
        .filter(|(s, ..)| *s == stamp)
        .map(|(_, confirmed, unsubscribed)| (confirmed, unsubscribed)))
}

/// The page a subscription is for, and how many subscribers it may have.
#[derive(Debug, Clone, Copy)]
pub struct PageSlot<'a> {
    /// Its organization.
    pub tenant_id: &'a str,
    /// The status page.
    pub page_id: &'a str,
    /// Its plan's number of subscribers.
    pub room: Room,
}

/// How many confirmed subscribers a page may have (the organization's plan),
/// or no limit (billing off).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Room(pub Option<u64>);

impl Room {
    /// Refuses one more confirmed subscriber when the page has its plan's number.
    /// Counted inside the write transaction, so two confirmations at once
    /// cannot both take the last place.
    async fn check(
        self,
        tx: &mut sqlx::Transaction<'static, sqlx::Any>,
        tenant_id: &str,
        page_id: &str,
    ) -> Result<(), SubscriberError> {
        let Some(max) = self.0 else {
            return Ok(());
        };
        let confirmed: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM status_subscribers WHERE tenant_id = $1 AND page_id = $2 \
             AND confirmed_at IS NOT NULL AND unsubscribed_at IS NULL",
        )
        .bind(tenant_id)
        .bind(page_id)
        .fetch_one(&mut **tx)
        .await?;
        if u64::try_from(confirmed).unwrap_or(0) >= max {
            return Err(SubscriberError::Full { max });
        }
        Ok(())
    }
}

/// Confirms the subscription a confirmation link names (again: no change).
pub async fn confirm(
    db: &Database,
    keys: &Keys,
    page: PageSlot<'_>,
    token: &str,
    now: i64,
) -> Result<(), SubscriberError> {
    let PageSlot {
        tenant_id,
        page_id,
        room,
    } = page;
    let (id, stamp) = super::tokens::verify(keys, token, super::tokens::CONFIRM)?;
    let stale = || {
        SubscriberError::BadToken(
            "this confirmation link is no longer valid; subscribe again on the status page".into(),
        )
    };
    match linked(db, tenant_id, page_id, &id, stamp).await? {
        None | Some((_, Some(_))) => Err(stale()),
        Some((Some(_), None)) => Ok(()),
        Some((None, None)) => {
            let mut tx = db.begin_write().await?;
            room.check(&mut tx, tenant_id, page_id).await?;
            sqlx::query(
                "UPDATE status_subscribers SET confirmed_at = $1, updated_at = $1 \
                 WHERE id = $2 AND tenant_id = $3 AND confirmed_at IS NULL",
            )
            .bind(now)
            .bind(&id)
            .bind(tenant_id)
            .execute(&mut *tx)
            .await?;
            tx.commit().await?;
            Ok(())
        }
    }
}

/// Ends the subscription an unsubscribe link names, and drops what is still
/// queued for it. Unknown (deleted) or earlier subscriptions need nothing
/// done, so they succeed as well; only a bad token fails.
pub async fn unsubscribe(
    db: &Database,
    keys: &Keys,
    tenant_id: &str,
    page_id: &str,
    token: &str,
    now: i64,
) -> Result<(), SubscriberError> {
    let (id, stamp) = super::tokens::verify(keys, token, super::tokens::UNSUBSCRIBE)?;
    if linked(db, tenant_id, page_id, &id, stamp).await?.is_none() {
        return Ok(());
    }
    let mut tx = db.begin_write().await?;
    sqlx::query(
        "UPDATE status_subscribers SET unsubscribed_at = $1, updated_at = $1 \
         WHERE id = $2 AND tenant_id = $3 AND unsubscribed_at IS NULL",
    )
    .bind(now)
    .bind(&id)
    .bind(tenant_id)
    .execute(&mut *tx)
    .await?;
    sqlx::query(
        "UPDATE status_deliveries SET status = 'skipped', last_error = 'unsubscribed' \
         WHERE subscriber_id = $1 AND tenant_id = $2 AND status = 'pending'",
    )
    .bind(&id)
    .bind(tenant_id)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(())
}
