//! Alerts: channels (email, webhook, Slack, Discord), the queue of deliveries
//! a state change writes, and the worker that sends them with retries.

pub mod channels;
pub mod delivery;
mod send;

use serde::{Deserialize, Serialize};
use sqlx::AnyConnection;
use utoipa::ToSchema;

use super::state::Change;
use crate::clock::new_id;

pub use send::{SendError, Sender};

/// What an alert says; stored with each delivery and rendered per channel.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct AlertPayload {
    /// `down`, `up`, `degraded` or `test`.
    pub event: String,
    /// The monitor (`/api/monitors/{id}`).
    pub monitor_id: String,
    /// Its display name, for the message.
    pub monitor_name: String,
    /// Monitor kind.
    pub kind: String,
    /// What is checked.
    pub target: String,
    /// State now.
    pub state: String,
    /// State before.
    pub previous_state: String,
    /// Why (the check's error), if any.
    pub reason: Option<String>,
    /// The incident, if any.
    pub incident_id: Option<String>,
    /// When the state changed, ms.
    pub at: i64,
}

/// Queues `event` for every enabled channel of the tenant; returns how many.
/// The unique `(channel, key)` makes a replay queue nothing more.
pub(crate) async fn queue(
    conn: &mut AnyConnection,
    change: &Change<'_>,
    event: &str,
    key: &str,
    incident_id: Option<&str>,
) -> Result<u64, sqlx::Error> {
    let payload = AlertPayload {
        event: event.to_owned(),
        monitor_id: change.monitor_id.to_owned(),
        monitor_name: change.monitor_name.to_owned(),
        kind: change.kind.to_owned(),
        target: change.target.to_owned(),
        state: change.after.as_str().to_owned(),
        previous_state: change.before.as_str().to_owned(),
        reason: change.reason.map(str::to_owned),
        incident_id: incident_id.map(str::to_owned),
        at: change.at,
    };
    let payload = serde_json::to_string(&payload).unwrap_or_default();
    let channels: Vec<String> = sqlx::query_scalar(
        // Channels the plan paused stay quiet until an upgrade.
        "SELECT id FROM alert_channels WHERE tenant_id = $1 AND enabled = 1 \
         AND paused_reason IS NULL ORDER BY id",
    )
    .bind(change.tenant_id)
    .fetch_all(&mut *conn)
    .await?;
    let mut queued = 0;
    for channel in channels {
        let done = sqlx::query(
            "INSERT INTO alert_deliveries (id, tenant_id, channel_id, monitor_id, event_key, event, \
             payload, status, next_attempt_at, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, 'pending', $8, $8) \
             ON CONFLICT (channel_id, event_key) DO NOTHING",
        )
        .bind(new_id())
        .bind(change.tenant_id)
        .bind(&channel)
        .bind(change.monitor_id)
        .bind(key)
        .bind(event)
        .bind(&payload)
        .bind(change.at)
        .execute(&mut *conn)
        .await?;
        queued += done.rows_affected();
    }
    Ok(queued)
}
