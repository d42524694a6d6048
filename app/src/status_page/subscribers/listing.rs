//! The tenant's view of a page's subscribers: the list (also the CSV
//! export's rows), removing one, and the count billing limits. Every
//! function takes the tenant id it is scoped to.

use std::collections::BTreeMap;

use super::{Subscriber, SubscriberError, SubscriberKind};
use crate::db::Database;

/// Confirmed, still subscribed subscribers of a page. Billing's
/// "subscribers per page" plan limit is checked against this number.
pub async fn confirmed_count(
    db: &Database,
    tenant_id: &str,
    page_id: &str,
) -> Result<i64, SubscriberError> {
    Ok(sqlx::query_scalar(
        "SELECT COUNT(*) FROM status_subscribers WHERE tenant_id = $1 AND page_id = $2 \
         AND confirmed_at IS NOT NULL AND unsubscribed_at IS NULL",
    )
    .bind(tenant_id)
    .bind(page_id)
    .fetch_one(db.pool())
    .await?)
}

type Row = (
    String,
    String,
    String,
    String,
    i64,
    i64,
    Option<i64>,
    Option<i64>,
);

/// Subscribers of a page, oldest first (`offset`/`limit` paging).
pub async fn list(
    db: &Database,
    tenant_id: &str,
    page_id: &str,
    limit: i64,
    offset: i64,
) -> Result<Vec<Subscriber>, SubscriberError> {
    let rows: Vec<Row> = sqlx::query_as(
        "SELECT id, page_id, kind, address, all_components, created_at, confirmed_at, unsubscribed_at \
         FROM status_subscribers WHERE tenant_id = $1 AND page_id = $2 \
         ORDER BY created_at, id LIMIT $3 OFFSET $4",
    )
    .bind(tenant_id)
    .bind(page_id)
    .bind(limit)
    .bind(offset)
    .fetch_all(db.pool())
    .await?;
    let chosen: Vec<(String, String)> = sqlx::query_as(
        "SELECT sc.subscriber_id, sc.component_id FROM status_subscriber_components sc \
         JOIN status_subscribers s ON s.id = sc.subscriber_id \
         WHERE sc.tenant_id = $1 AND s.page_id = $2 ORDER BY sc.component_id",
    )
    .bind(tenant_id)
    .bind(page_id)
    .fetch_all(db.pool())
    .await?;
    let mut by_subscriber: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (subscriber, component) in chosen {
        by_subscriber.entry(subscriber).or_default().push(component);
    }
    Ok(rows
        .into_iter()
        .map(|r| Subscriber {
            status: match (r.6, r.7) {
                (_, Some(_)) => "unsubscribed",
                (Some(_), None) => "active",
                (None, None) => "pending",
            }
            .to_owned(),
            component_ids: (r.4 == 0).then(|| by_subscriber.remove(&r.0).unwrap_or_default()),
            kind: SubscriberKind::parse(&r.2),
            id: r.0,
            page_id: r.1,
            address: r.3,
            created_at: r.5,
            confirmed_at: r.6,
            unsubscribed_at: r.7,
        })
        .collect())
}

/// Removes a subscriber and whatever is queued for it.
pub async fn delete(
    db: &Database,
    tenant_id: &str,
    page_id: &str,
    id: &str,
) -> Result<(), SubscriberError> {
    let done = sqlx::query(
        "DELETE FROM status_subscribers WHERE id = $1 AND page_id = $2 AND tenant_id = $3",
    )
    .bind(id)
    .bind(page_id)
    .bind(tenant_id)
    .execute(db.pool())
    .await?;
    if done.rows_affected() == 0 {
        return Err(SubscriberError::NotFound);
    }
    Ok(())
}
