//! A monitor's definition as submitted, and its validation into a [`MonitorSpec`]
//! whose values the prober can use without checking them again: the common
//! fields here, the kind's fields as a [`KindFields`] of that kind only.
//!
//! The same validation runs for API input and for definitions read back from
//! the database, so a stored monitor is always one the API would accept.

use std::collections::BTreeMap;
use std::net::IpAddr;

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::fields::{DnsFields, HeartbeatFields, HttpFields, KindFields, TcpFields, TlsFields};
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
    #[schema(min_length = 1, max_length = 100)]
    pub name: Option<String>,
    /// `http`, `tcp`, `dns`, `tls` or `heartbeat`; cannot change later.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(schema_with = kind_schema)]
    pub kind: Option<String>,
    /// Seconds between checks (or between expected pings, for heartbeats):
    /// from the plan's minimum (1 s with billing off) to 86400 (default 60).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(minimum = 1, maximum = 86_400)]
    pub interval_seconds: Option<u64>,
    /// Deadline of one check, seconds (1–60, at most the interval).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(minimum = 1, maximum = 60)]
    pub timeout_seconds: Option<u64>,
    /// Consecutive failed checks before the monitor is down (1–10, default 2).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(minimum = 1, maximum = 10)]
    pub confirmations: Option<u32>,
    /// Distinct prober regions that must see a failure before the monitor is
    /// down (1–5, default 1): a second opinion against one location's trouble.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(minimum = 1, maximum = 5)]
    pub regions: Option<u32>,
    /// Stop checking (state `paused`) or resume.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub paused: Option<bool>,
    /// http: the `http://` or `https://` URL to request, at most 2048 characters, without credentials.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(format = "uri", max_length = 2048)]
    pub url: Option<String>,
    /// http: request method (default `GET`).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(schema_with = method_schema)]
    pub method: Option<String>,
    /// http: request headers, at most 20; values at most 4096 bytes.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub headers: Option<BTreeMap<String, String>>,
    /// http: request body, at most 64 KiB; not with `GET` or `HEAD`.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(max_length = 65_536)]
    pub body: Option<String>,
    /// http: statuses that count as up (default: any 2xx), at most 20, each 100–599.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(max_items = 20)]
    pub expected_status: Option<Vec<u16>>,
    /// http: text the body must contain.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(min_length = 1, max_length = 1000)]
    pub keyword: Option<String>,
    /// http: text the body must not contain.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(min_length = 1, max_length = 1000)]
    pub keyword_absent: Option<String>,
    /// http: JSON path into the body (`$.a.b[0]`), compared with `json_equals`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub json_path: Option<String>,
    /// http: the value `json_path` must hold.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub json_equals: Option<serde_json::Value>,
    /// http: slower answers than this make the monitor `degraded`; 1 to the timeout in ms.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(minimum = 1, maximum = 60_000)]
    pub max_latency_ms: Option<u64>,
    /// http: follow up to 10 redirects (default true).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub follow_redirects: Option<bool>,
    /// http: verify the server's certificate (default true).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub verify_tls: Option<bool>,
    /// tcp, tls, dns: host name or IP address.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(min_length = 1, max_length = 253)]
    pub host: Option<String>,
    /// tcp, tls: port (tls default 443).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(minimum = 1, maximum = 65_535)]
    pub port: Option<u16>,
    /// dns: `A`, `AAAA`, `CNAME`, `MX`, `NS` or `TXT` (default `A`).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(schema_with = record_type_schema)]
    pub record_type: Option<String>,
    /// dns: a value one of the answers must equal, 1–1000 characters.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(min_length = 1, max_length = 1000)]
    pub expected_answer: Option<String>,
    /// tls: `degraded` this many days before the certificate expires (default 14).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(minimum = 1, maximum = 365)]
    pub warn_days: Option<u32>,
    /// heartbeat: seconds after a missed ping before the monitor is down, 0–86400 (default 60).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(minimum = 0, maximum = 86_400)]
    pub grace_seconds: Option<u64>,
}

fn kind_schema() -> utoipa::openapi::Object {
    crate::schema_docs::one_of(&["http", "tcp", "dns", "tls", "heartbeat"])
}

fn method_schema() -> utoipa::openapi::Object {
    crate::schema_docs::one_of(&["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"])
}

fn record_type_schema() -> utoipa::openapi::Object {
    crate::schema_docs::one_of(&["A", "AAAA", "CNAME", "MX", "NS", "TXT"])
}

/// Plan limits validation needs.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Shortest interval allowed.
    pub min_interval_seconds: u64,
}

/// A validated monitor definition.
#[derive(Debug, Clone, PartialEq)]
pub struct MonitorSpec {
    /// Display name, trimmed.
    pub name: String,
    /// What is checked, and how.
    pub check: Check,
    /// Seconds between checks.
    pub interval_seconds: u64,
    /// Check deadline, ms.
    pub timeout_ms: u64,
    /// Failures in a row before the monitor is down.
    pub confirmations: u32,
    /// Regions that must see the failure before the monitor is down.
    pub regions: u32,
    /// Whether checks are paused.
    pub paused: bool,
    /// The `target` column: URL, `host:port` or host (empty for heartbeats).
    pub target: String,
    /// The kind's fields with defaults filled in, as the `settings` column keeps them.
    pub fields: KindFields,
}

/// A field and what is wrong with it.
pub type FieldError = (&'static str, String);

fn bad(field: &'static str, message: impl Into<String>) -> FieldError {
    (field, message.into())
}

impl MonitorInput {
    /// The fields of `kind`, refusing (by name) a field of another kind.
    fn kind_fields(&self, kind: Kind) -> Result<KindFields, FieldError> {
        let mut rest = self.clone();
        let fields = match kind {
            Kind::Http => KindFields::Http(HttpFields {
                url: rest.url.take(),
                method: rest.method.take(),
                headers: rest.headers.take(),
                body: rest.body.take(),
                expected_status: rest.expected_status.take(),
                keyword: rest.keyword.take(),
                keyword_absent: rest.keyword_absent.take(),
                json_path: rest.json_path.take(),
                json_equals: rest.json_equals.take(),
                max_latency_ms: rest.max_latency_ms.take(),
                follow_redirects: rest.follow_redirects.take(),
                verify_tls: rest.verify_tls.take(),
            }),
            Kind::Tcp => KindFields::Tcp(TcpFields {
                host: rest.host.take(),
                port: rest.port.take(),
            }),
            Kind::Dns => KindFields::Dns(DnsFields {
                host: rest.host.take(),
                record_type: rest.record_type.take(),
                expected_answer: rest.expected_answer.take(),
            }),
            Kind::Tls => KindFields::Tls(TlsFields {
                host: rest.host.take(),
                port: rest.port.take(),
                warn_days: rest.warn_days.take(),
            }),
            Kind::Heartbeat => KindFields::Heartbeat(HeartbeatFields {
                grace_seconds: rest.grace_seconds.take(),
            }),
        };
        match rest.kind_specific_set().first() {
            Some(field) => Err(bad(
                field,
                format!("is not used by {} monitors", kind.as_str()),
            )),
            None => Ok(fields),
        }
    }

    /// Names of the kind-specific fields that are set, http's first.
    fn kind_specific_set(&self) -> Vec<&'static str> {
        // Spelled out, so a new field does not compile until it is listed.
        let Self {
            name: _,
            kind: _,
            interval_seconds: _,
            timeout_seconds: _,
            confirmations: _,
            regions: _,
            paused: _,
            url,
            method,
            headers,
            body,
            expected_status,
            keyword,
            keyword_absent,
            json_path,
            json_equals,
            max_latency_ms,
            follow_redirects,
            verify_tls,
            host,
            port,
            record_type,
            expected_answer,
            warn_days,
            grace_seconds,
        } = self;
        [
            ("url", url.is_some()),
            ("method", method.is_some()),
            ("headers", headers.is_some()),
            ("body", body.is_some()),
            ("expected_status", expected_status.is_some()),
            ("keyword", keyword.is_some()),
            ("keyword_absent", keyword_absent.is_some()),
            ("json_path", json_path.is_some()),
            ("json_equals", json_equals.is_some()),
            ("max_latency_ms", max_latency_ms.is_some()),
            ("follow_redirects", follow_redirects.is_some()),
            ("verify_tls", verify_tls.is_some()),
            ("host", host.is_some()),
            ("port", port.is_some()),
            ("record_type", record_type.is_some()),
            ("expected_answer", expected_answer.is_some()),
            ("warn_days", warn_days.is_some()),
            ("grace_seconds", grace_seconds.is_some()),
        ]
        .into_iter()
        .filter_map(|(name, set)| set.then_some(name))
        .collect()
    }

    /// This input with the fields `patch` sets replaced.
    pub fn merged(&self, patch: &MonitorInput) -> MonitorInput {
        let Self {
            name,
            kind,
            interval_seconds,
            timeout_seconds,
            confirmations,
            regions,
            paused,
            url,
            method,
            headers,
            body,
            expected_status,
            keyword,
            keyword_absent,
            json_path,
            json_equals,
            max_latency_ms,
            follow_redirects,
            verify_tls,
            host,
            port,
            record_type,
            expected_answer,
            warn_days,
            grace_seconds,
        } = patch.clone();
        let base = self.clone();
        Self {
            name: name.or(base.name),
            kind: kind.or(base.kind),
            interval_seconds: interval_seconds.or(base.interval_seconds),
            timeout_seconds: timeout_seconds.or(base.timeout_seconds),
            confirmations: confirmations.or(base.confirmations),
            regions: regions.or(base.regions),
            paused: paused.or(base.paused),
            url: url.or(base.url),
            method: method.or(base.method),
            headers: headers.or(base.headers),
            body: body.or(base.body),
            expected_status: expected_status.or(base.expected_status),
            keyword: keyword.or(base.keyword),
            keyword_absent: keyword_absent.or(base.keyword_absent),
            json_path: json_path.or(base.json_path),
            json_equals: json_equals.or(base.json_equals),
            max_latency_ms: max_latency_ms.or(base.max_latency_ms),
            follow_redirects: follow_redirects.or(base.follow_redirects),
            verify_tls: verify_tls.or(base.verify_tls),
            host: host.or(base.host),
            port: port.or(base.port),
            record_type: record_type.or(base.record_type),
            expected_answer: expected_answer.or(base.expected_answer),
            warn_days: warn_days.or(base.warn_days),
            grace_seconds: grace_seconds.or(base.grace_seconds),
        }
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
        let fields = self.kind_fields(kind)?;
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
        let (check, fields, target) = match fields {
            KindFields::Http(f) => http_check(&f, timeout * 1000)?,
            KindFields::Tcp(f) => {
                let host = host(f.host.as_deref())?;
                let port = f
                    .port
                    .filter(|p| *p > 0)
                    .ok_or_else(|| bad("port", "is required for tcp monitors (1–65535)"))?;
                let stored = KindFields::Tcp(TcpFields {
                    host: Some(host.clone()),
                    port: Some(port),
                });
                let target = join_host_port(&host, port);
                (Check::Tcp { host, port }, stored, target)
            }
            KindFields::Dns(f) => {
                let host = host(f.host.as_deref())?;
                let name = f.record_type.as_deref().unwrap_or("A");
                let record_type = DnsRecordType::parse(name).ok_or_else(|| {
                    bad(
                        "record_type",
                        format!("`{name}` is not one of A, AAAA, CNAME, MX, NS, TXT"),
                    )
                })?;
                let expected = match f.expected_answer.as_deref().map(str::trim) {
                    Some("") => return Err(bad("expected_answer", "must not be empty")),
                    Some(value) if value.len() > 1000 => {
                        return Err(bad("expected_answer", "must be at most 1000 characters"));
                    }
                    other => other.map(str::to_owned),
                };
                let stored = KindFields::Dns(DnsFields {
                    host: Some(host.clone()),
                    record_type: Some(record_type.as_str().to_owned()),
                    expected_answer: expected.clone(),
                });
                (
                    Check::Dns {
                        host: host.clone(),
                        record_type,
                        expected,
                    },
                    stored,
                    host,
                )
            }
            KindFields::Tls(f) => {
                let host = host(f.host.as_deref())?;
                let port = match f.port {
                    Some(0) => return Err(bad("port", "must be 1–65535")),
                    Some(port) => port,
                    None => 443,
                };
                let warn_days = f.warn_days.unwrap_or(14);
                if !(1..=365).contains(&warn_days) {
                    return Err(bad("warn_days", "must be between 1 and 365"));
                }
                let stored = KindFields::Tls(TlsFields {
                    host: Some(host.clone()),
                    port: Some(port),
                    warn_days: Some(warn_days),
                });
                let target = join_host_port(&host, port);
                (
                    Check::Tls {
                        host,
                        port,
                        warn_days,
                    },
                    stored,
                    target,
                )
            }
            KindFields::Heartbeat(f) => {
                let grace = f.grace_seconds.unwrap_or(60);
                if grace > 86_400 {
                    return Err(bad("grace_seconds", "must be between 0 and 86400"));
                }
                let stored = KindFields::Heartbeat(HeartbeatFields {
                    grace_seconds: Some(grace),
                });
                (
                    Check::Heartbeat {
                        grace_seconds: grace,
                    },
                    stored,
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
            fields,
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
    input: &HttpFields,
    timeout_ms: u64,
) -> Result<(Check, KindFields, String), FieldError> {
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
    let stored = KindFields::Http(HttpFields {
        url: Some(url.to_string()),
        method: Some(method.clone()),
        headers: (!headers.is_empty()).then(|| headers.clone()),
        expected_status: (!expected_status.is_empty()).then(|| expected_status.clone()),
        follow_redirects: Some(follow_redirects),
        verify_tls: Some(verify_tls),
        ..input.clone()
    });
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
        stored,
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

    /// The definition read back from storage, as `MonitorRow::input` reads it.
    fn stored(spec: &MonitorSpec) -> MonitorInput {
        let mut input: MonitorInput =
            serde_json::from_str(&spec.fields.stored(spec.confirmations, spec.regions)).unwrap();
        input.name = Some(spec.name.clone());
        input.kind = Some(spec.check.kind().as_str().to_owned());
        input.interval_seconds = Some(spec.interval_seconds);
        input.timeout_seconds = Some(spec.timeout_ms / 1000);
        input.paused = Some(spec.paused);
        input
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
        let KindFields::Http(fields) = &spec.fields else {
            panic!("{:?}", spec.fields);
        };
        assert_eq!(fields.method.as_deref(), Some("GET"));
        assert_eq!(spec.target, "https://example.com/");
        // Read back from storage, the definition validates to the same.
        assert_eq!(stored(&spec).validate(LIMITS).unwrap(), spec);
    }

    #[test]
    fn a_field_of_another_kind_is_named() {
        let fields = [
            ("url", serde_json::json!("http://a")),
            ("method", serde_json::json!("GET")),
            ("headers", serde_json::json!({})),
            ("body", serde_json::json!("b")),
            ("expected_status", serde_json::json!([200])),
            ("keyword", serde_json::json!("k")),
            ("keyword_absent", serde_json::json!("k")),
            ("json_path", serde_json::json!("$.a")),
            ("json_equals", serde_json::json!(1)),
            ("max_latency_ms", serde_json::json!(5)),
            ("follow_redirects", serde_json::json!(true)),
            ("verify_tls", serde_json::json!(false)),
            ("host", serde_json::json!("a.example")),
            ("port", serde_json::json!(1)),
            ("record_type", serde_json::json!("A")),
            ("expected_answer", serde_json::json!("1.2.3.4")),
            ("warn_days", serde_json::json!(3)),
            ("grace_seconds", serde_json::json!(5)),
        ];
        for (field, value) in &fields {
            let mut one = serde_json::json!({});
            one[field] = value.clone();
            assert_eq!(input(one).kind_specific_set(), [*field]);
        }
        let own: [(&str, &[&str]); 5] = [
            (
                "http",
                &[
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
                ],
            ),
            ("tcp", &["host", "port"]),
            ("dns", &["host", "record_type", "expected_answer"]),
            ("tls", &["host", "port", "warn_days"]),
            ("heartbeat", &["grace_seconds"]),
        ];
        for (kind, takes) in own {
            for (field, value) in &fields {
                let mut json = serde_json::json!({"name": "x", "kind": kind});
                json[field] = value.clone();
                let result = input(json).kind_fields(Kind::parse(kind).unwrap());
                if takes.contains(field) {
                    assert!(result.is_ok(), "{kind} {field}: {result:?}");
                } else {
                    let err = result.unwrap_err();
                    assert_eq!(err.0, *field, "{kind}: {err:?}");
                    assert_eq!(err.1, format!("is not used by {kind} monitors"));
                }
            }
        }
    }

    #[test]
    fn patches_merge_over_the_stored_definition() {
        let base = input(
            serde_json::json!({"name": "a", "kind": "tcp", "host": "db.example", "port": 5432}),
        );
        let merged = base.merged(&input(serde_json::json!({"port": 6432})));
        assert_eq!(merged.validate(LIMITS).unwrap().target, "db.example:6432");
        let unchanged = base.merged(&MonitorInput::default());
        assert_eq!(
            serde_json::to_value(&unchanged).unwrap(),
            serde_json::to_value(&base).unwrap()
        );
    }

    mod properties {
        use proptest::prelude::*;
        use serde_json::{Value, json};

        use super::*;

        /// Every field of the API's definition.
        const FIELDS: &[&str] = &[
            "name",
            "kind",
            "interval_seconds",
            "timeout_seconds",
            "confirmations",
            "regions",
            "paused",
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
            "host",
            "port",
            "record_type",
            "expected_answer",
            "warn_days",
            "grace_seconds",
        ];

        fn text() -> impl Strategy<Value = Value> {
            prop_oneof![
                Just(json!("")),
                Just(json!("x")),
                Just(json!(" Site ")),
                Just(json!("a.example")),
                Just(json!("10.0.0.1")),
                Just(json!("::1")),
                Just(json!("bad host")),
                Just(json!("https://example.com/health")),
                Just(json!("http://user:pw@a.example")),
                Just(json!("ftp://a.example")),
                Just(json!("$.a.b[0]")),
                Just(json!("$..a")),
                Just(json!("aaaa")),
                Just(json!("post")),
                Just(json!("SOA")),
                "\\PC{0,12}".prop_map(Value::from),
            ]
        }

        fn number() -> impl Strategy<Value = Value> {
            prop_oneof![
                Just(json!(0)),
                Just(json!(1)),
                Just(json!(2)),
                Just(json!(10)),
                Just(json!(30)),
                Just(json!(61)),
                Just(json!(443)),
                Just(json!(5000)),
                Just(json!(86_400)),
                Just(json!(100_000)),
                (0u32..70_000).prop_map(Value::from),
            ]
        }

        /// A value of the type `field` has, so the body parses and validation decides.
        fn value_of(field: &'static str) -> BoxedStrategy<Value> {
            match field {
                "kind" => prop_oneof![
                    3 => Just(json!("http")),
                    2 => Just(json!("tcp")),
                    2 => Just(json!("dns")),
                    2 => Just(json!("tls")),
                    2 => Just(json!("heartbeat")),
                    1 => Just(json!("ftp")),
                ]
                .boxed(),
                "paused" | "follow_redirects" | "verify_tls" => {
                    any::<bool>().prop_map(Value::from).boxed()
                }
                "headers" => prop_oneof![
                    Just(json!({})),
                    Just(json!({"accept": "text/html"})),
                    Just(json!({"bad header": "v"})),
                ]
                .boxed(),
                "expected_status" => prop::collection::vec(
                    prop_oneof![Just(99u16), Just(200), Just(301), Just(599), Just(600)],
                    0..3,
                )
                .prop_map(|v| json!(v))
                .boxed(),
                "json_equals" => prop_oneof![
                    Just(json!(1)),
                    Just(json!("ok")),
                    Just(json!({"a": [true]}))
                ]
                .boxed(),
                "host" => prop_oneof![
                    3 => Just(json!("a.example")),
                    1 => Just(json!("DB.Example.")),
                    1 => Just(json!("10.0.0.1")),
                    1 => Just(json!("::1")),
                    1 => text(),
                ]
                .boxed(),
                "confirmations" | "regions" => prop_oneof![4 => 0u32..12, 1 => any::<u32>()]
                    .prop_map(Value::from)
                    .boxed(),
                "url" => prop_oneof![
                    4 => Just(json!("https://example.com/health")),
                    2 => Just(json!("http://10.0.0.1:8080/")),
                    1 => Just(json!("http://user:pw@a.example")),
                    1 => Just(json!("ftp://a.example")),
                    1 => text(),
                ]
                .boxed(),
                "port" => prop_oneof![Just(0u16), Just(1), Just(443), any::<u16>()]
                    .prop_map(Value::from)
                    .boxed(),
                "interval_seconds" | "timeout_seconds" | "max_latency_ms" | "warn_days"
                | "grace_seconds" => number().boxed(),
                _ => text().boxed(),
            }
        }

        /// The fields `kind` takes besides the common ones.
        fn own_fields(kind: &str) -> &'static [&'static str] {
            match kind {
                "http" => &FIELDS[7..19],
                "tcp" => &["host", "port"],
                "dns" => &["host", "record_type", "expected_answer"],
                "tls" => &["host", "port", "warn_days"],
                "heartbeat" => &["grace_seconds"],
                _ => &[],
            }
        }

        /// A definition: a kind (mostly a known one), a name (mostly), often
        /// its kind's fields, rarely another kind's.
        fn definition() -> impl Strategy<Value = Value> {
            proptest::option::weighted(0.95, value_of("kind")).prop_flat_map(|kind| {
                let own = own_fields(kind.as_ref().and_then(Value::as_str).unwrap_or(""));
                let fields: Vec<_> = FIELDS[..]
                    .iter()
                    .filter(|f| **f != "kind")
                    .map(|f| {
                        let odds = match *f {
                            "name" => 0.95,
                            "url" | "host" if own.contains(f) => 0.9,
                            _ if own.contains(f) => 0.3,
                            "interval_seconds" | "timeout_seconds" | "confirmations"
                            | "regions" | "paused" => 0.2,
                            _ => 0.02,
                        };
                        proptest::option::weighted(odds, value_of(f)).prop_map(move |v| (*f, v))
                    })
                    .collect();
                fields.prop_map(move |pairs| {
                    let mut object = serde_json::Map::new();
                    if let Some(kind) = &kind {
                        object.insert("kind".to_owned(), kind.clone());
                    }
                    for (field, value) in pairs {
                        if let Some(value) = value {
                            object.insert(field.to_owned(), value);
                        }
                    }
                    Value::Object(object)
                })
            })
        }

        proptest! {
            #![proptest_config(ProptestConfig::with_cases(2048))]

            /// A definition is accepted and comes back the same from storage
            /// (its kind's fields through the tagged enum too), or is refused
            /// naming one of the API's fields.
            #[test]
            fn definitions_round_trip_or_name_the_field(json in definition()) {
                let submitted: MonitorInput = serde_json::from_value(json.clone()).unwrap();
                match submitted.validate(LIMITS) {
                    Ok(spec) => {
                        prop_assert_eq!(stored(&spec).validate(LIMITS), Ok(spec.clone()), "{}", json);
                        let tagged = serde_json::to_value(&spec.fields).unwrap();
                        prop_assert_eq!(&tagged["kind"], &json["kind"]);
                        let back: KindFields = serde_json::from_value(tagged).unwrap();
                        prop_assert_eq!(back, spec.fields.clone());
                    }
                    Err((field, message)) => {
                        prop_assert!(FIELDS.contains(&field), "{}: {} {}", json, field, message);
                        prop_assert!(!message.is_empty());
                    }
                }
            }
        }
    }
}
