//! Live events: what changed in a tenant's monitoring, as `GET /api/events`
//! sends it.
//!
//! An event is a row of the append-only `events` table, written in the same
//! transaction as the change it describes ([`store::append`]), so an event
//! exists exactly when its change does, whichever process (app or prober,
//! on any machine) made the change. Each app node polls the table once per
//! interval for all tenants and fans new rows out in memory to its open
//! streams ([`hub::Hub`]); a stream that resumes (`Last-Event-ID`) or falls
//! behind reads the table itself.
//!
//! `monitor.check` events (one per check) are written only for tenants with
//! a stream open on some node (the `event_watchers` table, renewed while a
//! stream is open), so the prober's hot path writes nothing extra for the
//! tenants nobody is watching. State and incident events are always written.

pub mod hub;
pub mod store;

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// How long events are kept for streams that resume, ms.
pub const RETENTION_MS: i64 = 3_600_000;

/// Data of `monitor.state`: a monitor's state changed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct MonitorStateData {
    /// The monitor (`/api/monitors/{id}`).
    pub monitor_id: String,
    /// New state: `pending`, `up`, `degraded`, `down` or `paused`.
    pub state: String,
    /// State before, if any.
    #[schema(required = true)]
    pub previous: Option<String>,
    /// When, ms since the epoch.
    pub at: i64,
}

/// Data of `monitor.check`: a check finished.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct MonitorCheckData {
    /// The monitor (`/api/monitors/{id}`).
    pub monitor_id: String,
    /// The check succeeded (up or degraded).
    pub ok: bool,
    /// The monitor's state after the check.
    pub state: String,
    /// Time to the answer, ms; `null` when there was none.
    #[schema(required = true)]
    pub latency_ms: Option<i64>,
    /// HTTP status code (HTTP monitors).
    #[schema(required = true)]
    pub status_code: Option<i64>,
    /// Why the check failed.
    #[schema(required = true)]
    pub error: Option<String>,
    /// Start of the check, ms since the epoch.
    pub at: i64,
}

/// Data of `incident.opened`: a monitor went down.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct IncidentOpenedData {
    /// The incident (`/api/incidents/{id}`).
    pub incident_id: String,
    /// The monitor (`/api/monitors/{id}`).
    pub monitor_id: String,
    /// Opened, ms since the epoch.
    pub started_at: i64,
    /// Why the monitor is down.
    #[schema(required = true)]
    pub cause: Option<String>,
}

/// Data of `incident.resolved`: a monitor recovered.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct IncidentResolvedData {
    /// The incident (`/api/incidents/{id}`).
    pub incident_id: String,
    /// The monitor (`/api/monitors/{id}`).
    pub monitor_id: String,
    /// Resolved, ms since the epoch.
    pub resolved_at: i64,
}

/// One message of the stream, for the API description: `event:` is the tag,
/// `data:` the JSON of the content, `id:` the position to resume after.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(tag = "event", content = "data")]
pub enum LiveEvent {
    /// A monitor's state changed.
    #[serde(rename = "monitor.state")]
    MonitorState(MonitorStateData),
    /// A check finished (sent while someone watches the organisation).
    #[serde(rename = "monitor.check")]
    MonitorCheck(MonitorCheckData),
    /// An incident opened.
    #[serde(rename = "incident.opened")]
    IncidentOpened(IncidentOpenedData),
    /// An incident resolved.
    #[serde(rename = "incident.resolved")]
    IncidentResolved(IncidentResolvedData),
}

impl LiveEvent {
    /// The `event:` name.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::MonitorState(_) => "monitor.state",
            Self::MonitorCheck(_) => "monitor.check",
            Self::IncidentOpened(_) => "incident.opened",
            Self::IncidentResolved(_) => "incident.resolved",
        }
    }

    /// When it happened, ms.
    fn at(&self) -> i64 {
        match self {
            Self::MonitorState(d) => d.at,
            Self::MonitorCheck(d) => d.at,
            Self::IncidentOpened(d) => d.started_at,
            Self::IncidentResolved(d) => d.resolved_at,
        }
    }

    /// The `data:` line: one line of JSON.
    fn data(&self) -> String {
        let json = match self {
            Self::MonitorState(d) => serde_json::to_string(d),
            Self::MonitorCheck(d) => serde_json::to_string(d),
            Self::IncidentOpened(d) => serde_json::to_string(d),
            Self::IncidentResolved(d) => serde_json::to_string(d),
        };
        // Plain structs of strings and integers always serialise.
        json.unwrap_or_else(|_| "{}".to_owned())
    }
}

/// An event to append, in a tenant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewEvent {
    /// Owner.
    pub tenant_id: String,
    /// `event:` name.
    pub kind: &'static str,
    /// JSON data.
    pub data: String,
    /// When, ms.
    pub at: i64,
}

impl NewEvent {
    /// `event` in `tenant_id`.
    pub fn new(tenant_id: &str, event: &LiveEvent) -> Self {
        Self {
            tenant_id: tenant_id.to_owned(),
            kind: event.kind(),
            data: event.data(),
            at: event.at(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn data_is_one_line_of_the_contract_fields() {
        let event = NewEvent::new(
            "t1",
            &LiveEvent::MonitorCheck(MonitorCheckData {
                monitor_id: "m1".to_owned(),
                ok: false,
                state: "up".to_owned(),
                latency_ms: None,
                status_code: Some(503),
                error: Some("HTTP 503\nService Unavailable".to_owned()),
                at: 42,
            }),
        );
        assert_eq!(event.kind, "monitor.check");
        assert_eq!(event.at, 42);
        assert!(!event.data.contains('\n'), "{}", event.data);
        let back: serde_json::Value = serde_json::from_str(&event.data).unwrap();
        assert_eq!(
            back,
            serde_json::json!({"monitor_id": "m1", "ok": false, "state": "up", "latency_ms": null,
                "status_code": 503, "error": "HTTP 503\nService Unavailable", "at": 42})
        );
        let state = NewEvent::new(
            "t1",
            &LiveEvent::MonitorState(MonitorStateData {
                monitor_id: "m1".to_owned(),
                state: "down".to_owned(),
                previous: None,
                at: 7,
            }),
        );
        assert_eq!(
            state.data,
            r#"{"monitor_id":"m1","state":"down","previous":null,"at":7}"#
        );
    }
}
