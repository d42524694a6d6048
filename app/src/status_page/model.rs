//! The vocabulary of status pages: component statuses, impacts and incident
//! statuses, spelled as Atlassian Statuspage spells them so its widgets read
//! our JSON unchanged, plus the field checks every write shares.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// A field at fault and why.
pub type FieldError = (&'static str, String);

/// What a component's visitors see, best to worst (`under_maintenance` sits
/// apart: it is announced, not a failure).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum ComponentStatus {
    /// Working.
    Operational,
    /// In planned maintenance.
    UnderMaintenance,
    /// Slow or partly failing.
    DegradedPerformance,
    /// Down for some.
    PartialOutage,
    /// Down.
    MajorOutage,
}

impl ComponentStatus {
    /// Every status, for validation messages and tests.
    pub const ALL: [Self; 5] = [
        Self::Operational,
        Self::UnderMaintenance,
        Self::DegradedPerformance,
        Self::PartialOutage,
        Self::MajorOutage,
    ];

    /// The stored and serialised name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Operational => "operational",
            Self::UnderMaintenance => "under_maintenance",
            Self::DegradedPerformance => "degraded_performance",
            Self::PartialOutage => "partial_outage",
            Self::MajorOutage => "major_outage",
        }
    }

    /// Parses a stored name.
    pub fn parse(value: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.as_str() == value)
    }

    /// Words for people.
    pub fn label(self) -> &'static str {
        match self {
            Self::Operational => "Operational",
            Self::UnderMaintenance => "Under maintenance",
            Self::DegradedPerformance => "Degraded performance",
            Self::PartialOutage => "Partial outage",
            Self::MajorOutage => "Major outage",
        }
    }

    /// The page indicator this status implies on its own.
    pub fn indicator(self) -> Impact {
        match self {
            Self::Operational => Impact::None,
            Self::UnderMaintenance => Impact::Maintenance,
            Self::DegradedPerformance => Impact::Minor,
            Self::PartialOutage => Impact::Major,
            Self::MajorOutage => Impact::Critical,
        }
    }
}

/// How bad an incident is; also the page's overall `indicator`.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Impact {
    /// No impact (or all operational).
    None,
    /// Planned maintenance (only as an indicator or a maintenance's impact).
    Maintenance,
    /// Minor.
    Minor,
    /// Major.
    Major,
    /// Critical.
    Critical,
}

impl Impact {
    /// Every impact.
    pub const ALL: [Self; 5] = [
        Self::None,
        Self::Maintenance,
        Self::Minor,
        Self::Major,
        Self::Critical,
    ];

    /// Stored and serialised name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::None => "none",
            Self::Maintenance => "maintenance",
            Self::Minor => "minor",
            Self::Major => "major",
            Self::Critical => "critical",
        }
    }

    /// Parses a stored name.
    pub fn parse(value: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.as_str() == value)
    }

    /// The component status an unresolved incident of this impact implies.
    pub fn component_status(self) -> ComponentStatus {
        match self {
            Self::None => ComponentStatus::Operational,
            Self::Maintenance => ComponentStatus::UnderMaintenance,
            Self::Minor => ComponentStatus::DegradedPerformance,
            Self::Major => ComponentStatus::PartialOutage,
            Self::Critical => ComponentStatus::MajorOutage,
        }
    }

    /// Statuspage's description of a page with this indicator.
    pub fn description(self) -> &'static str {
        match self {
            Self::None => "All Systems Operational",
            Self::Maintenance => "Service Under Maintenance",
            Self::Minor => "Minor Service Outage",
            Self::Major => "Partial System Outage",
            Self::Critical => "Major System Outage",
        }
    }
}

/// An incident written by people, or a scheduled maintenance.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    /// Something broke.
    Incident,
    /// Planned work.
    Maintenance,
}

impl Kind {
    /// Stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Incident => "incident",
            Self::Maintenance => "maintenance",
        }
    }

    /// Parses a stored name.
    pub fn parse(value: &str) -> Option<Self> {
        match value {
            "incident" => Some(Self::Incident),
            "maintenance" => Some(Self::Maintenance),
            _ => None,
        }
    }

    /// The statuses updates of this kind may have, in their usual order.
    pub fn statuses(self) -> &'static [&'static str] {
        match self {
            Self::Incident => &["investigating", "identified", "monitoring", "resolved"],
            Self::Maintenance => &["scheduled", "in_progress", "verifying", "completed"],
        }
    }

    /// The status that closes an incident or maintenance.
    pub fn final_status(self) -> &'static str {
        match self {
            Self::Incident => "resolved",
            Self::Maintenance => "completed",
        }
    }

    /// The status a new one starts with unless told otherwise.
    pub fn first_status(self) -> &'static str {
        self.statuses()[0]
    }
}

/// Words for people for an update status.
pub fn status_label(status: &str) -> &'static str {
    match status {
        "investigating" => "Investigating",
        "identified" => "Identified",
        "monitoring" => "Monitoring",
        "resolved" => "Resolved",
        "scheduled" => "Scheduled",
        "in_progress" => "In progress",
        "verifying" => "Verifying",
        "completed" => "Completed",
        _ => "Update",
    }
}

/// A required one-line text of at most `max` characters, trimmed.
pub fn required_text(
    field: &'static str,
    value: Option<&str>,
    max: usize,
) -> Result<String, FieldError> {
    let text = value.map(str::trim).unwrap_or_default();
    if text.is_empty() {
        return Err((field, "is required".to_owned()));
    }
    line(field, text, max)
}

/// An optional one-line text (empty when absent), trimmed.
pub fn optional_text(
    field: &'static str,
    value: Option<&str>,
    max: usize,
) -> Result<String, FieldError> {
    let text = value.map(str::trim).unwrap_or_default();
    line(field, text, max)
}

fn line(field: &'static str, text: &str, max: usize) -> Result<String, FieldError> {
    if text.chars().count() > max {
        return Err((field, format!("must be at most {max} characters")));
    }
    if text.chars().any(char::is_control) {
        return Err((
            field,
            "must be one line without control characters".to_owned(),
        ));
    }
    Ok(text.to_owned())
}

/// A longer text (updates, descriptions): newlines allowed, other control characters not.
pub fn body_text(
    field: &'static str,
    value: Option<&str>,
    max: usize,
    required: bool,
) -> Result<String, FieldError> {
    let text = value.map(str::trim).unwrap_or_default();
    if required && text.is_empty() {
        return Err((field, "is required".to_owned()));
    }
    if text.chars().count() > max {
        return Err((field, format!("must be at most {max} characters")));
    }
    if text
        .chars()
        .any(|c| c.is_control() && c != '\n' && c != '\r' && c != '\t')
    {
        return Err((field, "must not contain control characters".to_owned()));
    }
    Ok(text.to_owned())
}

/// An absolute `https` URL (or `http` outside production) of at most 2,000 characters.
pub fn logo_url(value: &str, allow_http: bool) -> Result<String, FieldError> {
    let field = "logo_url";
    let value = value.trim();
    if value.len() > 2000 {
        return Err((field, "must be at most 2000 characters".to_owned()));
    }
    let url = url::Url::parse(value).map_err(|_| (field, "must be an absolute URL".to_owned()))?;
    match url.scheme() {
        "https" => {}
        "http" if allow_http => {}
        _ => return Err((field, "must be an https URL".to_owned())),
    }
    if url.host_str().is_none_or(str::is_empty)
        || !url.username().is_empty()
        || url.password().is_some()
    {
        return Err((
            field,
            "must name a host and carry no credentials".to_owned(),
        ));
    }
    Ok(url.to_string())
}

/// A display position: 0 to 10,000.
pub fn position(field: &'static str, value: i64) -> Result<i64, FieldError> {
    if (0..=10_000).contains(&value) {
        Ok(value)
    } else {
        Err((field, "must be between 0 and 10000".to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_order_by_severity() {
        for s in ComponentStatus::ALL {
            assert_eq!(ComponentStatus::parse(s.as_str()), Some(s));
        }
        for i in Impact::ALL {
            assert_eq!(Impact::parse(i.as_str()), Some(i));
        }
        assert!(ComponentStatus::MajorOutage > ComponentStatus::PartialOutage);
        assert!(ComponentStatus::DegradedPerformance > ComponentStatus::UnderMaintenance);
        assert!(Impact::Critical > Impact::Major && Impact::Minor > Impact::Maintenance);
        assert_eq!(
            Impact::Major.component_status(),
            ComponentStatus::PartialOutage
        );
        assert_eq!(ComponentStatus::MajorOutage.indicator(), Impact::Critical);
    }

    #[test]
    fn texts_and_urls_are_checked() {
        assert_eq!(
            required_text("title", Some("  API  "), 10),
            Ok("API".to_owned())
        );
        assert!(required_text("title", Some("   "), 10).is_err());
        assert!(required_text("title", None, 10).is_err());
        assert!(required_text("title", Some("a\nb"), 10).is_err());
        assert!(required_text("title", Some("abcdefghijk"), 10).is_err());
        assert!(body_text("body", Some("a\nb"), 10, true).is_ok());
        assert!(body_text("body", Some("a\u{7}"), 10, true).is_err());
        assert!(logo_url("https://cdn.example/logo.png", false).is_ok());
        assert!(logo_url("http://cdn.example/logo.png", false).is_err());
        assert!(logo_url("http://cdn.example/logo.png", true).is_ok());
        assert!(logo_url("javascript:alert(1)", true).is_err());
        assert!(logo_url("https://u:p@cdn.example/x", true).is_err());
        assert!(logo_url("/logo.png", true).is_err());
        assert!(position("position", -1).is_err());
        assert_eq!(Kind::Maintenance.final_status(), "completed");
        assert_eq!(Kind::Incident.first_status(), "investigating");
    }
}
