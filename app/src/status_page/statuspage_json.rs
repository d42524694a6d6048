//! Atlassian Statuspage's public API v2 shapes (`summary.json`,
//! `status.json`, `components.json`, `incidents.json`, …), rendered from a
//! [`PageView`] with the same field names, nesting and status values, so
//! widgets and aggregators written for Statuspage read ours unchanged.

use serde::Serialize;

use super::dates::rfc3339;
use super::incidents::PublicIncident;
use super::view::{ComponentView, PageView};

/// Where the page lives, for `page.url` and incidents' `shortlink`.
#[derive(Debug, Clone)]
pub struct Urls {
    /// `https://host` (scheme and authority, no slash).
    pub origin: String,
    /// The page's own URL (`…/status/` or `…/` on its custom domain).
    pub page: String,
}

/// `page`.
#[derive(Debug, Serialize)]
pub struct JsonPage {
    id: String,
    name: String,
    url: String,
    time_zone: &'static str,
    updated_at: String,
}

/// `status`.
#[derive(Debug, Serialize)]
pub struct JsonStatus {
    indicator: &'static str,
    description: &'static str,
}

/// One entry of `components` (a component, or a group with `group: true`).
#[derive(Debug, Clone, Serialize)]
pub struct JsonComponent {
    id: String,
    name: String,
    status: &'static str,
    created_at: String,
    updated_at: String,
    position: i64,
    description: Option<String>,
    showcase: bool,
    start_date: Option<String>,
    group_id: Option<String>,
    page_id: String,
    group: bool,
    only_show_if_degraded: bool,
    /// Member ids, on groups only.
    #[serde(skip_serializing_if = "Option::is_none")]
    components: Option<Vec<String>>,
}

/// One `incident_updates` entry.
#[derive(Debug, Serialize)]
pub struct JsonUpdate {
    id: String,
    status: String,
    body: String,
    incident_id: String,
    created_at: String,
    updated_at: String,
    display_at: String,
    deliver_notifications: bool,
    custom_tweet: Option<String>,
    tweet_id: Option<String>,
}

/// An incident or scheduled maintenance.
#[derive(Debug, Serialize)]
pub struct JsonIncident {
    id: String,
    name: String,
    status: String,
    created_at: String,
    updated_at: String,
    monitoring_at: Option<String>,
    resolved_at: Option<String>,
    impact: &'static str,
    shortlink: String,
    started_at: String,
    page_id: String,
    incident_updates: Vec<JsonUpdate>,
    components: Vec<JsonComponent>,
    scheduled_for: Option<String>,
    scheduled_until: Option<String>,
}

/// `page` of every answer.
pub fn page(view: &PageView, urls: &Urls) -> JsonPage {
    JsonPage {
        id: view.page.id.clone(),
        name: view.page.title.clone(),
        url: urls.page.clone(),
        time_zone: "Etc/UTC",
        updated_at: rfc3339(view.updated_at),
    }
}

/// `status`: the overall indicator.
pub fn status(view: &PageView) -> JsonStatus {
    JsonStatus {
        indicator: view.indicator.as_str(),
        description: view.indicator.description(),
    }
}

fn component(view: &PageView, c: &ComponentView) -> JsonComponent {
    JsonComponent {
        id: c.component.id.clone(),
        name: c.component.name.clone(),
        status: c.status.as_str(),
        created_at: rfc3339(c.component.created_at),
        updated_at: rfc3339(c.component.updated_at),
        position: c.component.position + 1,
        description: (!c.component.description.is_empty()).then(|| c.component.description.clone()),
        showcase: c.component.showcase,
        start_date: Some(rfc3339(c.component.created_at).chars().take(10).collect()),
        group_id: c.component.group_id.clone(),
        page_id: view.page.id.clone(),
        group: false,
        only_show_if_degraded: c.component.only_show_if_degraded,
        components: None,
    }
}

/// `components`: groups (with `group: true` and their members' ids), each
/// followed by its members, then the ungrouped components.
pub fn components(view: &PageView) -> Vec<JsonComponent> {
    let mut out = Vec::new();
    for g in &view.groups {
        out.push(JsonComponent {
            id: g.group.id.clone(),
            name: g.group.name.clone(),
            status: g.status.as_str(),
            created_at: rfc3339(g.group.created_at),
            updated_at: rfc3339(g.group.updated_at),
            position: g.group.position + 1,
            description: None,
            showcase: false,
            start_date: None,
            group_id: None,
            page_id: view.page.id.clone(),
            group: true,
            only_show_if_degraded: false,
            components: Some(g.component_ids.clone()),
        });
        for c in view
            .components
            .iter()
            .filter(|c| c.component.group_id.as_deref() == Some(g.group.id.as_str()))
        {
            out.push(component(view, c));
        }
    }
    for c in view
        .components
        .iter()
        .filter(|c| c.component.group_id.is_none())
    {
        out.push(component(view, c));
    }
    out
}

/// One incident or maintenance, with its updates (newest first) and components.
pub fn incident(view: &PageView, urls: &Urls, i: &PublicIncident) -> JsonIncident {
    JsonIncident {
        id: i.id.clone(),
        name: i.title.clone(),
        status: i.status.clone(),
        created_at: rfc3339(i.created_at),
        updated_at: rfc3339(i.updated_at),
        monitoring_at: i.monitoring_at.map(rfc3339),
        resolved_at: i.resolved_at.map(rfc3339),
        impact: i.impact.as_str(),
        shortlink: format!("{}/status/incidents/{}", urls.origin, i.id),
        started_at: rfc3339(i.started_at),
        page_id: view.page.id.clone(),
        incident_updates: i
            .updates
            .iter()
            .map(|u| JsonUpdate {
                id: u.id.clone(),
                status: u.status.clone(),
                body: u.body.clone(),
                incident_id: i.id.clone(),
                created_at: rfc3339(u.created_at),
                updated_at: rfc3339(u.created_at),
                display_at: rfc3339(u.created_at),
                deliver_notifications: true,
                custom_tweet: None,
                tweet_id: None,
            })
            .collect(),
        components: view
            .components
            .iter()
            .filter(|c| i.component_ids.contains(&c.component.id))
            .map(|c| component(view, c))
            .collect(),
        scheduled_for: i.scheduled_for.map(rfc3339),
        scheduled_until: i.scheduled_until.map(rfc3339),
    }
}

/// `summary.json`.
#[derive(Debug, Serialize)]
pub struct Summary {
    page: JsonPage,
    components: Vec<JsonComponent>,
    incidents: Vec<JsonIncident>,
    scheduled_maintenances: Vec<JsonIncident>,
    status: JsonStatus,
}

/// `summary.json`: page, components, unresolved incidents, upcoming and
/// in-progress maintenance, and the overall status.
pub fn summary(view: &PageView, urls: &Urls) -> Summary {
    Summary {
        page: page(view, urls),
        components: components(view),
        incidents: view
            .incidents
            .iter()
            .map(|i| incident(view, urls, i))
            .collect(),
        scheduled_maintenances: view
            .maintenance
            .iter()
            .map(|m| incident(view, urls, m))
            .collect(),
        status: status(view),
    }
}
