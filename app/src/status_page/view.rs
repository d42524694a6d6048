//! The read model of a public status page: which page a Host names, and the
//! page's components with their current status and 90 daily uptime bars,
//! its open incidents and maintenance, and the overall indicator. The HTML
//! page, the Statuspage-compatible JSON, the feeds and the badges are all
//! rendered from this one model, so they always agree.

use std::collections::BTreeMap;

use super::StatusPageError;
use super::components::{self, Component, Group};
use super::incidents::{self, ListQuery, PublicIncident};
use super::model::{ComponentStatus, Impact, Kind};
use super::pages::{self, StatusPage};
use crate::db::Database;

/// Days of uptime bars.
pub const BAR_DAYS: i64 = 90;
const DAY: i64 = 86_400_000;

/// What a request's Host names.
#[derive(Debug, Clone)]
pub struct Site {
    /// Owner.
    pub tenant_id: String,
    /// Organization name.
    pub tenant_name: String,
    /// The organization is suspended: its page says so and nothing else.
    pub suspended: bool,
    /// The page served; `None` when the organization has none.
    pub page: Option<StatusPage>,
    /// The Host is a custom domain assigned to the page (served at `/` too).
    pub at_root: bool,
}

/// Strips the port and trailing dot and lowercases a Host header.
pub fn normalize_host(host: &str) -> String {
    let host = host.trim();
    // A bracketed IPv6 literal keeps its colons.
    let name = if host.starts_with('[') {
        host.split(']')
            .next()
            .map(|h| format!("{h}]"))
            .unwrap_or_default()
    } else {
        host.split(':').next().unwrap_or_default().to_owned()
    };
    name.trim_end_matches('.').to_ascii_lowercase()
}

/// The site a Host names: a tenant's verified subdomain or custom domain.
/// Unknown and unverified hosts name none.
pub async fn site_for_host(db: &Database, host: &str) -> Result<Option<Site>, StatusPageError> {
    let host = normalize_host(host);
    if host.is_empty() {
        return Ok(None);
    }
    let found: Option<(String, String, String, String, String)> = sqlx::query_as(
        "SELECT d.id, d.kind, t.id, t.name, t.status FROM domains d JOIN tenants t ON t.id = d.tenant_id \
         WHERE d.hostname = $1 AND d.verified_at IS NOT NULL AND d.paused_reason IS NULL",
    )
    .bind(&host)
    .fetch_optional(db.pool())
    .await?;
    let Some((domain_id, kind, tenant_id, tenant_name, status)) = found else {
        return Ok(None);
    };
    let assigned: Option<String> = if kind == "custom" {
        // Pages the plan paused are not served.
        sqlx::query_scalar(
            "SELECT id FROM status_pages WHERE domain_id = $1 AND tenant_id = $2 \
             AND paused_reason IS NULL",
        )
        .bind(&domain_id)
        .bind(&tenant_id)
        .fetch_optional(db.pool())
        .await?
    } else {
        None
    };
    let page_id = match &assigned {
        Some(id) => Some(id.clone()),
        None => {
            sqlx::query_scalar(
                "SELECT id FROM status_pages WHERE tenant_id = $1 AND is_default = 1 \
                 AND paused_reason IS NULL",
            )
            .bind(&tenant_id)
            .fetch_optional(db.pool())
            .await?
        }
    };
    let page = match page_id {
        Some(id) => Some(pages::get(db, &tenant_id, &id).await?),
        None => None,
    };
    Ok(Some(Site {
        tenant_id,
        tenant_name,
        suspended: status == "suspended",
        page,
        at_root: assigned.is_some(),
    }))
}

/// One day's bar.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Day {
    /// Start of the day, ms.
    pub start: i64,
    /// Checks that day.
    pub checks: i64,
    /// Failed checks.
    pub failures: i64,
}

impl Day {
    /// Uptime percentage, `None` without checks.
    pub fn uptime(&self) -> Option<f64> {
        uptime(self.checks, self.failures)
    }
}

fn uptime(checks: i64, failures: i64) -> Option<f64> {
    (checks > 0).then(|| ((checks - failures) as f64 * 100_000.0 / checks as f64).floor() / 1000.0)
}

/// A component with what visitors see of it.
#[derive(Debug, Clone)]
pub struct ComponentView {
    /// The stored component.
    pub component: Component,
    /// Its status now.
    pub status: ComponentStatus,
    /// Oldest first, [`BAR_DAYS`] of them; empty for components without monitors.
    pub days: Vec<Day>,
    /// Uptime over the bars' days.
    pub uptime: Option<f64>,
}

impl ComponentView {
    /// Shown on the HTML page (hidden while operational if so configured).
    pub fn visible(&self) -> bool {
        !(self.component.only_show_if_degraded && self.status == ComponentStatus::Operational)
    }
}

/// A group with its status (the worst of its components').
#[derive(Debug, Clone)]
pub struct GroupView {
    /// The stored group.
    pub group: Group,
    /// Worst status of its components.
    pub status: ComponentStatus,
    /// Ids of its components, in order.
    pub component_ids: Vec<String>,
}

/// Everything the public renderings need.
#[derive(Debug, Clone)]
pub struct PageView {
    /// Organization name.
    pub tenant_name: String,
    /// The page as stored: title, description, logo, domain.
    pub page: StatusPage,
    /// Groups in order.
    pub groups: Vec<GroupView>,
    /// Components in order.
    pub components: Vec<ComponentView>,
    /// Open incidents, newest first.
    pub incidents: Vec<PublicIncident>,
    /// Maintenance not completed (upcoming or under way), soonest first.
    pub maintenance: Vec<PublicIncident>,
    /// Overall indicator.
    pub indicator: Impact,
    /// Last change of anything shown (page, components, incidents, monitor states), ms.
    pub updated_at: i64,
    /// When this was read, ms.
    pub now: i64,
}

/// Maintenance under way at `now`: started by hand, or inside its schedule.
pub fn maintenance_active(m: &PublicIncident, now: i64) -> bool {
    match m.status.as_str() {
        "in_progress" | "verifying" => true,
        "scheduled" => {
            m.scheduled_for.is_some_and(|f| f <= now) && m.scheduled_until.is_some_and(|u| now < u)
        }
        _ => false,
    }
}

/// The status monitors in these states imply (paused and unchecked ones do not count).
pub fn from_monitors<'a>(states: impl IntoIterator<Item = &'a str>) -> ComponentStatus {
    let (mut counted, mut down, mut degraded) = (0, 0, 0);
    for state in states {
        match state {
            "up" => counted += 1,
            "down" => {
                counted += 1;
                down += 1;
            }
            "degraded" => {
                counted += 1;
                degraded += 1;
            }
            _ => {}
        }
    }
    if down > 0 && down == counted {
        ComponentStatus::MajorOutage
    } else if down > 0 {
        ComponentStatus::PartialOutage
    } else if degraded > 0 {
        ComponentStatus::DegradedPerformance
    } else {
        ComponentStatus::Operational
    }
}

type Sums = BTreeMap<(String, i64), (i64, i64)>;

/// Checks and failures per component and day, from roll-ups of `period` in `[from, to)`.
async fn rolled(
    db: &Database,
    tenant_id: &str,
    page_id: &str,
    period: &str,
    from: i64,
    to: i64,
) -> Result<Sums, sqlx::Error> {
    let rows: Vec<(String, i64, i64, i64)> = sqlx::query_as(
        "SELECT l.component_id, r.bucket_start, CAST(SUM(r.checks) AS BIGINT), CAST(SUM(r.failures) AS BIGINT) \
         FROM status_component_monitors l JOIN status_components c ON c.id = l.component_id \
         JOIN check_rollups r ON r.monitor_id = l.monitor_id AND r.tenant_id = l.tenant_id \
         WHERE c.page_id = $1 AND l.tenant_id = $2 AND r.period = $3 AND r.bucket_start >= $4 AND r.bucket_start < $5 \
         GROUP BY l.component_id, r.bucket_start",
    )
    .bind(page_id)
    .bind(tenant_id)
    .bind(period)
    .bind(from)
    .bind(to)
    .fetch_all(db.pool())
    .await?;
    let mut sums = Sums::new();
    for (component, start, checks, failures) in rows {
        let day = start.div_euclid(DAY) * DAY;
        let entry = sums.entry((component, day)).or_default();
        entry.0 += checks;
        entry.1 += failures;
    }
    Ok(sums)
}

/// Daily bars of every component of a page: daily roll-ups; hourly ones for
/// the days whose daily roll-up is not written yet; raw results for today.
async fn bars(
    db: &Database,
    tenant_id: &str,
    page_id: &str,
    now: i64,
) -> Result<Sums, sqlx::Error> {
    let today = now.div_euclid(DAY) * DAY;
    let first = today - (BAR_DAYS - 1) * DAY;
    let mut sums = rolled(db, tenant_id, page_id, "day", first, today).await?;
    for (key, value) in rolled(db, tenant_id, page_id, "hour", today - 2 * DAY, today).await? {
        sums.entry(key).or_insert(value);
    }
    let raw: Vec<(String, i64, i64)> = sqlx::query_as(
        "SELECT l.component_id, COUNT(*), CAST(COALESCE(SUM(1 - r.ok), 0) AS BIGINT) \
         FROM status_component_monitors l JOIN status_components c ON c.id = l.component_id \
         JOIN check_results r ON r.monitor_id = l.monitor_id AND r.tenant_id = l.tenant_id \
         WHERE c.page_id = $1 AND l.tenant_id = $2 AND r.checked_at >= $3 \
         GROUP BY l.component_id",
    )
    .bind(page_id)
    .bind(tenant_id)
    .bind(today)
    .fetch_all(db.pool())
    .await?;
    for (component, checks, failures) in raw {
        sums.insert((component, today), (checks, failures));
    }
    Ok(sums)
}

/// Reads the whole page at `now`.
pub async fn load(
    db: &Database,
    site: &Site,
    page: &StatusPage,
    now: i64,
) -> Result<PageView, StatusPageError> {
    let tenant_id = site.tenant_id.as_str();
    let stored = components::list(db, tenant_id, &page.id).await?;
    let groups = components::list_groups(db, tenant_id, &page.id).await?;
    let states: Vec<(String, String, Option<i64>)> = sqlx::query_as(
        "SELECT l.component_id, m.state, m.state_changed_at FROM status_component_monitors l \
         JOIN status_components c ON c.id = l.component_id JOIN monitors m ON m.id = l.monitor_id \
         WHERE c.page_id = $1 AND l.tenant_id = $2 AND m.tenant_id = $2",
    )
    .bind(&page.id)
    .bind(tenant_id)
    .fetch_all(db.pool())
    .await?;
    let mut updated_at = page.updated_at;
    let mut monitor_states: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for (component, state, changed) in &states {
        monitor_states.entry(component).or_default().push(state);
        updated_at = updated_at.max(changed.unwrap_or(0));
    }
    let open = incidents::list(
        db,
        tenant_id,
        &page.id,
        ListQuery {
            open_only: true,
            limit: 200,
            ..ListQuery::default()
        },
    )
    .await?;
    let (mut maintenance, incidents): (Vec<_>, Vec<_>) =
        open.into_iter().partition(|i| i.kind == Kind::Maintenance);
    maintenance.sort_by_key(|m| (m.scheduled_for.unwrap_or(m.started_at), m.id.clone()));
    let sums = bars(db, tenant_id, &page.id, now).await?;
    let today = now.div_euclid(DAY) * DAY;
    let mut views = Vec::with_capacity(stored.len());
    for component in stored {
        let mut status = match component.manual_status {
            Some(manual) => manual,
            None => from_monitors(
                monitor_states
                    .get(component.id.as_str())
                    .into_iter()
                    .flatten()
                    .copied(),
            ),
        };
        for incident in incidents
            .iter()
            .filter(|i| i.component_ids.contains(&component.id))
        {
            status = status.max(incident.impact.component_status());
        }
        if maintenance
            .iter()
            .any(|m| maintenance_active(m, now) && m.component_ids.contains(&component.id))
        {
            status = ComponentStatus::UnderMaintenance;
        }
        let days: Vec<Day> = if component.monitor_ids.is_empty() {
            Vec::new()
        } else {
            (0..BAR_DAYS)
                .map(|i| {
                    let start = today - (BAR_DAYS - 1 - i) * DAY;
                    let (checks, failures) = sums
                        .get(&(component.id.clone(), start))
                        .copied()
                        .unwrap_or_default();
                    Day {
                        start,
                        checks,
                        failures,
                    }
                })
                .collect()
        };
        let (checks, failures) = days
            .iter()
            .fold((0, 0), |(c, f), d| (c + d.checks, f + d.failures));
        views.push(ComponentView {
            component,
            status,
            days,
            uptime: uptime(checks, failures),
        });
    }
    let groups = groups
        .into_iter()
        .map(|group| {
            let members: Vec<&ComponentView> = views
                .iter()
                .filter(|c| c.component.group_id.as_deref() == Some(group.id.as_str()))
                .collect();
            GroupView {
                status: members
                    .iter()
                    .map(|c| c.status)
                    .max()
                    .unwrap_or(ComponentStatus::Operational),
                component_ids: members.iter().map(|c| c.component.id.clone()).collect(),
                group,
            }
        })
        .collect();
    let mut indicator = views
        .iter()
        .map(|c| c.status.indicator())
        .max()
        .unwrap_or(Impact::None);
    for incident in &incidents {
        indicator = indicator.max(incident.impact);
    }
    if maintenance.iter().any(|m| maintenance_active(m, now)) {
        indicator = indicator.max(Impact::Maintenance);
    }
    Ok(PageView {
        tenant_name: site.tenant_name.clone(),
        page: page.clone(),
        groups,
        components: views,
        incidents,
        maintenance,
        indicator,
        updated_at,
        now,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn monitors_make_the_component_status() {
        assert_eq!(from_monitors([]), ComponentStatus::Operational);
        assert_eq!(
            from_monitors(["up", "paused", "pending"]),
            ComponentStatus::Operational
        );
        assert_eq!(
            from_monitors(["up", "degraded"]),
            ComponentStatus::DegradedPerformance
        );
        assert_eq!(
            from_monitors(["up", "down", "degraded"]),
            ComponentStatus::PartialOutage
        );
        assert_eq!(
            from_monitors(["down", "down", "paused"]),
            ComponentStatus::MajorOutage
        );
    }

    #[test]
    fn hosts_are_normalized() {
        assert_eq!(normalize_host("Acme.Localhost:8443"), "acme.localhost");
        assert_eq!(normalize_host("status.example.com."), "status.example.com");
        assert_eq!(normalize_host("[::1]:80"), "[::1]");
        assert_eq!(uptime(1000, 1), Some(99.9));
        assert_eq!(uptime(0, 0), None);
    }
}
