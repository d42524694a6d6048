//! `[prober]`: where probes run from, what they may reach, and how long results are kept.

use std::net::SocketAddr;

use serde::{Deserialize, Serialize};

/// Settings of the probing role.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ProberConfig {
    /// Region name this prober reports its results under.
    pub region: String,
    /// Allow probes to private, loopback and link-local addresses (development and tests).
    pub allow_private_targets: bool,
    /// DNS server for target resolution and DNS monitors (`ip:port`); unset means the system's.
    #[serde(default)]
    pub dns_server: Option<SocketAddr>,
    /// A `/metrics` and `/health/` listener of the prober role's own; unset means none.
    #[serde(default)]
    pub metrics_listen: Option<SocketAddr>,
    /// Most checks one prober runs at the same time.
    pub max_concurrent_checks: usize,
    /// Seconds after a lease's check deadline before another prober may take the
    /// work of a prober that died (the old system's `PENDING_REQUEUE_GRACE_SECONDS`).
    pub lease_grace_seconds: u64,
    /// Largest part of a response body read (keyword and JSON checks see only this much).
    pub max_body_bytes: usize,
    /// Older key for `billing.plans.free.max_monitors`: the Free plan's monitor
    /// limit when billing is enabled (ignored when it is not: no limits then).
    #[serde(default, deserialize_with = "super::billing::opt_number")]
    pub plan_max_monitors: Option<u64>,
    /// Older key for `billing.plans.free.min_interval_seconds`, likewise.
    #[serde(default, deserialize_with = "super::billing::opt_number")]
    pub plan_min_interval_seconds: Option<u64>,
    /// Days raw check results are kept.
    pub raw_retention_days: u64,
    /// Days hourly roll-ups are kept.
    pub hourly_retention_days: u64,
    /// Days daily roll-ups are kept.
    pub daily_retention_days: u64,
    /// State changes within an hour after which a monitor counts as flapping and alerts pause.
    pub flap_threshold: u64,
}

impl ProberConfig {
    /// Appends one message per problem, each naming its key.
    pub fn validate(&self, _production: bool, problems: &mut Vec<String>) {
        let region = self.region.trim();
        if region.is_empty()
            || region.len() > 32
            || !region
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-')
        {
            problems.push(format!(
                "prober.region: `{region}` must be 1–32 letters, digits or hyphens"
            ));
        }
        let plan_keys = [
            ("plan_max_monitors", self.plan_max_monitors, 1, 10_000_000),
            (
                "plan_min_interval_seconds",
                self.plan_min_interval_seconds,
                1,
                86_400,
            ),
        ];
        for (key, value, min, max) in plan_keys {
            if let Some(value) = value
                && !(min..=max).contains(&value)
            {
                problems.push(format!(
                    "prober.{key}: {value} must be between {min} and {max}"
                ));
            }
        }
        let ranges: [(&str, u64, u64, u64); 7] = [
            (
                "max_concurrent_checks",
                self.max_concurrent_checks as u64,
                1,
                100_000,
            ),
            ("lease_grace_seconds", self.lease_grace_seconds, 5, 3600),
            ("max_body_bytes", self.max_body_bytes as u64, 1024, 10 << 20),
            // Daily roll-ups are computed from raw results of the last two days.
            ("raw_retention_days", self.raw_retention_days, 2, 3650),
            ("hourly_retention_days", self.hourly_retention_days, 1, 3650),
            ("daily_retention_days", self.daily_retention_days, 1, 3650),
            ("flap_threshold", self.flap_threshold, 2, 1000),
        ];
        for (key, value, min, max) in ranges {
            if !(min..=max).contains(&value) {
                problems.push(format!(
                    "prober.{key}: {value} must be between {min} and {max}"
                ));
            }
        }
    }

    /// The defaults of `config/default.toml`, for tests and tools.
    pub fn defaults() -> Self {
        Self {
            region: "local".into(),
            allow_private_targets: false,
            dns_server: None,
            metrics_listen: None,
            max_concurrent_checks: 2000,
            lease_grace_seconds: 90,
            max_body_bytes: 1 << 20,
            plan_max_monitors: None,
            plan_min_interval_seconds: None,
            raw_retention_days: 7,
            hourly_retention_days: 90,
            daily_retention_days: 400,
            flap_threshold: 4,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_valid_and_bad_values_are_named() {
        let mut problems = Vec::new();
        ProberConfig::defaults().validate(true, &mut problems);
        assert!(problems.is_empty(), "{problems:?}");
        let bad = ProberConfig {
            raw_retention_days: 1,
            max_concurrent_checks: 0,
            ..ProberConfig::defaults()
        };
        bad.validate(true, &mut problems);
        assert_eq!(problems.len(), 2, "{problems:?}");
        assert!(problems[0].starts_with("prober.max_concurrent_checks"));
        assert!(problems[1].starts_with("prober.raw_retention_days"));
    }
}
