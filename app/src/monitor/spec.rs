//! A monitor's definition as submitted, and its validation into a [`MonitorSpec`]
//! whose values the prober can use without checking them again.
//!
//! The same validation runs for API input and for definitions read back from
//! the database, so a stored monitor is always one the API would accept.

use std::collections::BTreeMap;
use std::net::IpAddr;

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::kinds::{Check, DnsRecordType, HttpCheck, JsonPath, Kind};

/// Largest request body a monitor may send.
const MAX_PROBE_BODY: usize = 64 * 1024;

/// A monitor as submitted (`POST`), or the fields to change (`PATCH`).
///
/// Kind-specific fields: `url`, `method`, `headers`, `body`, `expected_status`,
/// `keyword`, `keyword_absent`, `json_path`, `json_equals`, `max_latency_ms`,
/// `follow_redirects`, `verify_tls` (http); `host`, `port` (tcp, tls);
/// `host`, `record_type`, `expected_answer` (dns); `warn_days` (tls);
/// `grace_seconds` (heartbeat).
#[derive(Debug, Clone, Default, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MonitorInput {
    /// Display name, 1–100 characters.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// `http`, `tcp`, `dns`, `tls` or `heartbeat`; cannot change later.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    /// Seconds between checks (or between expected pings, for heartbeats).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub interval_seconds: Option<u64>,
    /// Deadline of one check, seconds (1–60, at most the interval).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub timeout_seconds: Option<u64>,
    /// Consecutive failed checks before the monitor is down (1–10, default 2).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub confirmations: Option<u32>,
    /// Distinct prober regions that must see a failure before the monitor is
    /// down (1–5, default 1): a second opinion against one location's trouble.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub regions: Option<u32>,
    /// Stop checking (state `paused`) or resume.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub paused: Option<bool>,
    /// http: the URL to request.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// http: request method (default `GET`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub method: Option<String>,
    /// http: request headers.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub headers: Option<BTreeMap<String, String>>,
    /// http: request body.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub body: Option<String>,
    /// http: statuses that count as up (default: any 2xx).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expected_status: Option<Vec<u16>>,
    /// http: text the body must contain.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub keyword: Option<String>,
    /// http: text the body must not contain.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub keyword_absent: Option<String>,
    /// http: JSON path into the body (`$.a.b[0]`), compared with `json_equals`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub json_path: Option<String>,
    /// http: the value `json_path` must hold.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub json_equals: Option<serde_json::Value>,
    /// http: slower answers than this make the monitor `degraded`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_latency_ms: Option<u64>,
    /// http: follow up to 10 redirects (default true).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub follow_redirects: Option<bool>,
    /// http: verify the server's certificate (default true).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub verify_tls: Option<bool>,
    /// tcp, tls, dns: host name or IP address.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub host: Option<String>,
    /// tcp, tls: port (tls default 443).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub port: Option<u16>,
    /// dns: `A`, `AAAA`, `CNAME`, `MX`, `NS` or `TXT` (default `A`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub record_type: Option<String>,
    /// dns: a value one of the answers must equal.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expected_answer: Option<String>,
    /// tls: `degraded` this many days before the certificate expires (default 14).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub warn_days: Option<u32>,
    /// heartbeat: seconds after a missed ping before the monitor is down (default 60).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub grace_seconds: Option<u64>,
}

/// Plan limits validation needs.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Shortest interval allowed.
    pub min_interval_seconds: u64,
}

/// A validated monitor definition.
#[derive(Debug, Clone)]
pub struct MonitorSpec {
    /// Display name.
    pub name: String,
    /// What is checked, and how.
    pub check: Check,
    /// Seconds between checks.
    pub interval_seconds: u64,
    /// Check deadline, ms.
    pub timeout_ms: u64,
    /// Failures before down.
    pub confirmations: u32,
    /// Regions that must agree before down.
    pub regions: u32,
    /// Whether checks are paused.
    pub paused: bool,
    /// Target column: URL, `host:port` or host.
    pub target: String,
    /// The kind-specific fields as stored (`settings` column), defaults filled in.
    pub settings: MonitorInput,
}

/// A field and what is wrong with it.
pub type FieldError = (&'static str, String);

fn bad(field: &'static str, message: impl Into<String>) -> FieldError {
    (field, message.into())
}

/// Fields of HTTP monitors.
const HTTP_FIELDS: &[&str] = &[
    "url",
    "method",
    "headers",
    "body",
    "expected_status",
    "keyword",
    "keyword_absent",
    "json_path",
    "json_equals",
    "max_latency_ms",
    "follow_redirects",
    "verify_tls",
];

/// Fields of the other kinds.
const OTHER_FIELDS: &[&str] = &[
    "host",
    "port",
    "record_type",
    "expected_answer",
    "warn_days",
    "grace_seconds",
];

/// Fields each kind takes besides the common ones.
fn kind_fields(kind: Kind) -> &'static [&'static str] {
    match kind {
        Kind::Http => HTTP_FIELDS,
        Kind::Tcp => &["host", "port"],
        Kind::Dns => &["host", "record_type", "expected_answer"],
        Kind::Tls => &["host", "port", "warn_days"],
        Kind::Heartbeat => &["grace_seconds"],
    }
}

impl MonitorInput {
    /// Names of the kind-specific fields that are set.
    fn set_fields(&self) -> Vec<&'static str> {
        let value = serde_json::to_value(self).unwrap_or_default();
        let Some(map) = value.as_object() else {
            return Vec::new();
        };
        HTTP_FIELDS
            .iter()
            .chain(OTHER_FIELDS)
            .copied()
            .filter(|f| map.contains_key(*f))
            .collect()
    }

    /// This input with the fields `patch` sets replaced.
    pub fn merged(&self, patch: &MonitorInput) -> Result<MonitorInput, FieldError> {
        let mut base = serde_json::to_value(self).unwrap_or_default();
        let over = serde_json::to_value(patch).unwrap_or_default();
        if let (Some(base), Some(over)) = (base.as_object_mut(), over.as_object()) {
            for (key, value) in over {
                base.insert(key.clone(), value.clone());
            }
        }
        serde_json::from_value(base).map_err(|e| bad("body", e.to_string()))
    }

    /// Checks every field, fills in defaults, and returns the definition.
    pub fn validate(&self, limits: Limits) -> Result<MonitorSpec, FieldError> {
        let name = self.name.as_deref().map(str::trim).unwrap_or_default();
        if name.is_empty() || name.chars().count() > 100 {
            return Err(bad("name", "must be 1–100 characters"));
        }
        let kind_name = self.kind.as_deref().unwrap_or_default();
        let kind = Kind::parse(kind_name).ok_or_else(|| {
            bad(
                "kind",
                format!("`{kind_name}` is not one of http, tcp, dns, tls, heartbeat"),
            )
        })?;
        for field in self.set_fields() {
            if !kind_fields(kind).contains(&field) {
                return Err(bad(
                    field,
                    format!("is not used by {} monitors", kind.as_str()),
                ));
            }
        }
        let min = limits.min_interval_seconds;
        let interval = self.interval_seconds.unwrap_or(60.max(min));
        if interval < min || interval > 86_400 {
            return Err(bad(
                "interval_seconds",
                format!("must be between {min} (your plan's minimum) and 86400"),
            ));
        }
        let timeout = self.timeout_seconds.unwrap_or(10.min(interval));
        if timeout == 0 || timeout > 60 || timeout > interval {
            return Err(bad(
                "timeout_seconds",
                "must be between 1 and 60 and at most interval_seconds",
            ));
        }
        let confirmations = self.confirmations.unwrap_or(2);
        if !(1..=10).contains(&confirmations) {
            return Err(bad("confirmations", "must be between 1 and 10"));
        }
        let regions = self.regions.unwrap_or(1);
        if !(1..=5).contains(&regions) {
            return Err(bad("regions", "must be between 1 and 5"));
        }
        if kind == Kind::Heartbeat && regions > 1 {
            return Err(bad(
                "regions",
                "heartbeats are pushed, not probed from regions; must be 1",
            ));
        }
        let mut settings = MonitorInput {
            confirmations: Some(confirmations),
            regions: Some(regions),
            ..MonitorInput::default()
        };
        let (check, target) = match kind {
            Kind::Http => http_check(self, timeout * 1000, &mut settings)?,
            Kind::Tcp => {
                let host = host(self.host.as_deref())?;
                let port = self
                    .port
                    .filter(|p| *p > 0)
                    .ok_or_else(|| bad("port", "is required for tcp monitors (1–65535)"))?;
                settings.host = Some(host.clone());
                settings.port = Some(port);
                let target = join_host_port(&host, port);
                (Check::Tcp { host, port }, target)
            }
            Kind::Dns => {
                let host = host(self.host.as_deref())?;
                let name = self.record_type.as_deref().unwrap_or("A");
                let record_type = DnsRecordType::parse(name).ok_or_else(|| {
                    bad(
                        "record_type",
                        format!("`{name}` is not one of A, AAAA, CNAME, MX, NS, TXT"),
                    )
                })?;
                let expected = match self.expected_answer.as_deref().map(str::trim) {
                    Some("") => return Err(bad("expected_answer", "must not be empty")),
                    Some(value) if value.len() > 1000 => {
                        return Err(bad("expected_answer", "must be at most 1000 characters"));
                    }
                    other => other.map(str::to_owned),
                };
                settings.host = Some(host.clone());
                settings.record_type = Some(record_type.as_str().to_owned());
                settings.expected_answer.clone_from(&expected);
                (
                    Check::Dns {
                        host: host.clone(),
                        record_type,
                        expected,
                    },
                    host,
                )
            }
            Kind::Tls => {
                let host = host(self.host.as_deref())?;
                let port = match self.port {
                    Some(0) => return Err(bad("port", "must be 1–65535")),
                    Some(port) => port,
                    None => 443,
                };
                let warn_days = self.warn_days.unwrap_or(14);
                if !(1..=365).contains(&warn_days) {
                    return Err(bad("warn_days", "must be between 1 and 365"));
                }
                settings.host = Some(host.clone());
                settings.port = Some(port);
                settings.warn_days = Some(warn_days);
                let target = join_host_port(&host, port);
                (
                    Check::Tls {
                        host,
                        port,
                        warn_days,
                    },
                    target,
                )
            }
            Kind::Heartbeat => {
                let grace = self.grace_seconds.unwrap_or(60);
                if grace > 86_400 {
                    return Err(bad("grace_seconds", "must be between 0 and 86400"));
                }
                settings.grace_seconds = Some(grace);
                (
                    Check::Heartbeat {
                        grace_seconds: grace,
                    },
                    String::new(),
                )
            }
        };
        Ok(MonitorSpec {
            name: name.to_owned(),
            check,
            interval_seconds: interval,
            timeout_ms: timeout * 1000,
            confirmations,
            regions,
            paused: self.paused.unwrap_or(false),
            target,
            settings,
        })
    }
}

fn join_host_port(host: &str, port: u16) -> String {
    if host.contains(':') {
        format!("[{host}]:{port}")
    } else {
        format!("{host}:{port}")
    }
}

/// A host name or IP address, lowercase.
fn host(value: Option<&str>) -> Result<String, FieldError> {
    let value = value
        .map(|h| h.trim().trim_end_matches('.').to_ascii_lowercase())
        .unwrap_or_default();
    if value.is_empty() {
        return Err(bad("host", "is required"));
    }
    if value.parse::<IpAddr>().is_ok() {
        return Ok(value);
    }
    // A DNS check may look up `_dmarc.example.com`: record-name rules, not host-name ones.
    acme::name::record_name(&value).map_err(|_| {
        bad(
            "host",
            format!("`{value}` is neither a host name nor an IP address"),
        )
    })
}

fn http_check(
    input: &MonitorInput,
    timeout_ms: u64,
    settings: &mut MonitorInput,
) -> Result<(Check, String), FieldError> {
    let raw = input.url.as_deref().map(str::trim).unwrap_or_default();
    if raw.is_empty() {
        return Err(bad("url", "is required for http monitors"));
    }
    let url = url::Url::parse(raw).map_err(|e| bad("url", format!("`{raw}` is not a URL: {e}")))?;
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() || raw.len() > 2048 {
        return Err(bad("url", "must be an http:// or https:// URL with a host"));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(bad(
            "url",
            "must not carry credentials; send them in headers",
        ));
    }
    let method = input
        .method
        .as_deref()
        .unwrap_or("GET")
        .to_ascii_uppercase();
    if !matches!(
        method.as_str(),
        "GET" | "HEAD" | "POST" | "PUT" | "PATCH" | "DELETE" | "OPTIONS"
    ) {
        return Err(bad(
            "method",
            "must be GET, HEAD, POST, PUT, PATCH, DELETE or OPTIONS",
        ));
    }
    let headers = input.headers.clone().unwrap_or_default();
    if headers.len() > 20 {
        return Err(bad("headers", "at most 20 headers"));
    }
    for (name, value) in &headers {
        if axum::http::HeaderName::from_bytes(name.as_bytes()).is_err() {
            return Err(bad("headers", format!("`{name}` is not a header name")));
        }
        if axum::http::HeaderValue::from_str(value).is_err() || value.len() > 4096 {
            return Err(bad(
                "headers",
                format!("the value of `{name}` is not valid"),
            ));
        }
    }
    if let Some(body) = &input.body {
        if body.len() > MAX_PROBE_BODY {
            return Err(bad("body", "must be at most 64 KiB"));
        }
        if matches!(method.as_str(), "GET" | "HEAD") {
            return Err(bad("body", format!("cannot be sent with {method}")));
        }
    }
    let expected_status = input.expected_status.clone().unwrap_or_default();
    if expected_status.len() > 20 || expected_status.iter().any(|s| !(100..=599).contains(s)) {
        return Err(bad(
            "expected_status",
            "at most 20 statuses, each between 100 and 599",
        ));
    }
    for (field, value) in [
        ("keyword", &input.keyword),
        ("keyword_absent", &input.keyword_absent),
    ] {
        if value
            .as_deref()
            .is_some_and(|k| k.is_empty() || k.len() > 1000)
        {
            return Err(bad(field, "must be 1–1000 characters"));
        }
    }
    let json = match (&input.json_path, &input.json_equals) {
        (Some(path), Some(value)) => Some((
            JsonPath::parse(path).map_err(|m| bad("json_path", m))?,
            value.clone(),
        )),
        (Some(_), None) => return Err(bad("json_equals", "is required with json_path")),
        (None, Some(_)) => return Err(bad("json_path", "is required with json_equals")),
        (None, None) => None,
    };
    if let Some(max) = input.max_latency_ms
        && (max == 0 || max > timeout_ms)
    {
        return Err(bad(
            "max_latency_ms",
            "must be between 1 and the timeout in ms",
        ));
    }
    let follow_redirects = input.follow_redirects.unwrap_or(true);
    let verify_tls = input.verify_tls.unwrap_or(true);
    settings.url = Some(url.to_string());
    settings.method = Some(method.clone());
    settings.headers = (!headers.is_empty()).then(|| headers.clone());
    settings.body.clone_from(&input.body);
    settings.expected_status = (!expected_status.is_empty()).then(|| expected_status.clone());
    settings.keyword.clone_from(&input.keyword);
    settings.keyword_absent.clone_from(&input.keyword_absent);
    settings.json_path.clone_from(&input.json_path);
    settings.json_equals.clone_from(&input.json_equals);
    settings.max_latency_ms = input.max_latency_ms;
    settings.follow_redirects = Some(follow_redirects);
    settings.verify_tls = Some(verify_tls);
    let target = url.to_string();
    Ok((
        Check::Http(Box::new(HttpCheck {
            url,
            method,
            headers,
            body: input.body.clone(),
            expected_status,
            keyword: input.keyword.clone(),
            keyword_absent: input.keyword_absent.clone(),
            json,
            max_latency_ms: input.max_latency_ms,
            follow_redirects,
            verify_tls,
        })),
        target,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input(json: serde_json::Value) -> MonitorInput {
        serde_json::from_value(json).unwrap()
    }

    const LIMITS: Limits = Limits {
        min_interval_seconds: 30,
    };

    #[test]
    fn each_bad_field_is_named() {
        let cases = [
            (
                serde_json::json!({"kind": "http", "url": "http://a"}),
                "name",
            ),
            (serde_json::json!({"name": "x", "kind": "ftp"}), "kind"),
            (serde_json::json!({"name": "x", "kind": "http"}), "url"),
            (
                serde_json::json!({"name": "x", "kind": "http", "url": "ftp://a"}),
                "url",
            ),
            (
                serde_json::json!({"name": "x", "kind": "http", "url": "http://a", "interval_seconds": 5}),
                "interval_seconds",
            ),
            (
                serde_json::json!({"name": "x", "kind": "http", "url": "http://a", "timeout_seconds": 61}),
                "timeout_seconds",
            ),
            (
                serde_json::json!({"name": "x", "kind": "http", "url": "http://a", "expected_status": [99]}),
                "expected_status",
            ),
            (
                serde_json::json!({"name": "x", "kind": "http", "url": "http://a", "json_path": "$.a"}),
                "json_equals",
            ),
            (
                serde_json::json!({"name": "x", "kind": "http", "url": "http://a", "json_path": "$..a", "json_equals": 1}),
                "json_path",
            ),
            (
                serde_json::json!({"name": "x", "kind": "http", "url": "http://a", "headers": {"bad header": "v"}}),
                "headers",
            ),
            (
                serde_json::json!({"name": "x", "kind": "http", "url": "http://a", "body": "b"}),
                "body",
            ),
            (
                serde_json::json!({"name": "x", "kind": "http", "url": "http://a", "port": 80}),
                "port",
            ),
            (
                serde_json::json!({"name": "x", "kind": "tcp", "host": "a.example"}),
                "port",
            ),
            (
                serde_json::json!({"name": "x", "kind": "tcp", "host": "bad host", "port": 1}),
                "host",
            ),
            (
                serde_json::json!({"name": "x", "kind": "dns", "host": "a.example", "record_type": "SOA"}),
                "record_type",
            ),
            (
                serde_json::json!({"name": "x", "kind": "tls", "host": "a.example", "warn_days": 0}),
                "warn_days",
            ),
            (
                serde_json::json!({"name": "x", "kind": "heartbeat", "grace_seconds": 100000}),
                "grace_seconds",
            ),
            (
                serde_json::json!({"name": "x", "kind": "heartbeat", "confirmations": 0}),
                "confirmations",
            ),
        ];
        for (json, field) in cases {
            let err = input(json.clone()).validate(LIMITS).unwrap_err();
            assert_eq!(err.0, field, "{json}: {err:?}");
        }
    }

    #[test]
    fn defaults_are_filled_in_and_survive_a_round_trip() {
        let spec = input(
            serde_json::json!({"name": " Site ", "kind": "http", "url": "https://example.com"}),
        )
        .validate(LIMITS)
        .unwrap();
        assert_eq!(spec.name, "Site");
        assert_eq!(
            (spec.interval_seconds, spec.timeout_ms, spec.confirmations),
            (60, 10_000, 2)
        );
        assert_eq!(spec.settings.method.as_deref(), Some("GET"));
        assert_eq!(spec.target, "https://example.com/");
        // Read back from storage, the definition validates to the same.
        let mut stored = spec.settings.clone();
        stored.name = Some(spec.name.clone());
        stored.kind = Some("http".into());
        stored.interval_seconds = Some(60);
        stored.timeout_seconds = Some(10);
        let again = stored.validate(LIMITS).unwrap();
        assert_eq!(again.target, spec.target);
    }

    #[test]
    fn patches_merge_over_the_stored_definition() {
        let base = input(
            serde_json::json!({"name": "a", "kind": "tcp", "host": "db.example", "port": 5432}),
        );
        let merged = base
            .merged(&input(serde_json::json!({"port": 6432})))
            .unwrap();
        assert_eq!(merged.validate(LIMITS).unwrap().target, "db.example:6432");
    }
}
