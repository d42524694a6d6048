//! The kind-specific part of a monitor definition: an enum tagged by `kind`
//! whose variants hold only their kind's fields, so an HTTP monitor with a
//! `port` cannot be written down. Validation turns these fields into the
//! [`Check`] the prober runs, with defaults filled in.

use std::collections::BTreeMap;
use std::net::IpAddr;

use serde::{Deserialize, Serialize};

use super::kinds::{Check, DnsRecordType, HttpCheck, JsonPath, Kind};

/// A field (by its name in the API) and what is wrong with it.
pub type FieldError = (&'static str, String);

/// The error for `field`.
pub(crate) fn bad(field: &'static str, message: impl Into<String>) -> FieldError {
    (field, message.into())
}

/// Largest request body a monitor may send.
const MAX_PROBE_BODY: usize = 64 * 1024;

/// A monitor kind and its fields, as submitted or (validated) as stored.
/// As JSON: `{"kind": "tcp", "host": …, "port": …}`, the names of the API.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum KindFields {
    /// An HTTP(S) request and the conditions on its answer.
    Http(HttpFields),
    /// A TCP connection.
    Tcp(TcpFields),
    /// A DNS query.
    Dns(DnsFields),
    /// A TLS handshake, watching certificate expiry.
    Tls(TlsFields),
    /// Pings pushed to a secret URL.
    Heartbeat(HeartbeatFields),
}

/// Fields of an HTTP monitor; see `MonitorInput` for what each means.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[expect(
    missing_docs,
    reason = "each field is documented once, on MonitorInput"
)]
pub struct HttpFields {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub method: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub headers: Option<BTreeMap<String, String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub body: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expected_status: Option<Vec<u16>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub keyword: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub keyword_absent: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub json_path: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub json_equals: Option<serde_json::Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_latency_ms: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub follow_redirects: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub verify_tls: Option<bool>,
}

/// Fields of a TCP monitor.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[expect(
    missing_docs,
    reason = "each field is documented once, on MonitorInput"
)]
pub struct TcpFields {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub host: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub port: Option<u16>,
}

/// Fields of a DNS monitor.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[expect(
    missing_docs,
    reason = "each field is documented once, on MonitorInput"
)]
pub struct DnsFields {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub host: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub record_type: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expected_answer: Option<String>,
}

/// Fields of a TLS monitor.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[expect(
    missing_docs,
    reason = "each field is documented once, on MonitorInput"
)]
pub struct TlsFields {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub host: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub port: Option<u16>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub warn_days: Option<u32>,
}

/// Fields of a heartbeat monitor.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[expect(
    missing_docs,
    reason = "each field is documented once, on MonitorInput"
)]
pub struct HeartbeatFields {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub grace_seconds: Option<u64>,
}

/// What validating a kind's fields gives: the check, the fields with
/// defaults filled in (to store), and the target column.
pub(crate) type Validated = (Check, KindFields, String);

impl KindFields {
    /// The kind these fields belong to.
    pub fn kind(&self) -> Kind {
        match self {
            Self::Http(_) => Kind::Http,
            Self::Tcp(_) => Kind::Tcp,
            Self::Dns(_) => Kind::Dns,
            Self::Tls(_) => Kind::Tls,
            Self::Heartbeat(_) => Kind::Heartbeat,
        }
    }

    /// The `settings` column: these fields without the tag (the kind has its
    /// own column), with `confirmations` and `regions`, which have none.
    pub(crate) fn stored(&self, confirmations: u32, regions: u32) -> String {
        #[derive(Serialize)]
        struct Stored<'a, T> {
            confirmations: u32,
            regions: u32,
            #[serde(flatten)]
            fields: &'a T,
        }
        fn json<T: Serialize>(fields: &T, confirmations: u32, regions: u32) -> String {
            let stored = Stored {
                confirmations,
                regions,
                fields,
            };
            serde_json::to_string(&stored).unwrap_or_else(|_| "{}".to_owned())
        }
        match self {
            Self::Http(f) => json(f, confirmations, regions),
            Self::Tcp(f) => json(f, confirmations, regions),
            Self::Dns(f) => json(f, confirmations, regions),
            Self::Tls(f) => json(f, confirmations, regions),
            Self::Heartbeat(f) => json(f, confirmations, regions),
        }
    }

    /// Checks every field of the kind and fills in defaults; `timeout_ms` bounds
    /// an HTTP monitor's `max_latency_ms`.
    pub(crate) fn validate(&self, timeout_ms: u64) -> Result<Validated, FieldError> {
        match self {
            Self::Http(f) => f.validate(timeout_ms),
            Self::Tcp(f) => {
                let host = host(f.host.as_deref())?;
                let port = f
                    .port
                    .filter(|p| *p > 0)
                    .ok_or_else(|| bad("port", "is required for tcp monitors (1–65535)"))?;
                let target = join_host_port(&host, port);
                let stored = Self::Tcp(TcpFields {
                    host: Some(host.clone()),
                    port: Some(port),
                });
                Ok((Check::Tcp { host, port }, stored, target))
            }
            Self::Dns(f) => {
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
                let stored = Self::Dns(DnsFields {
                    host: Some(host.clone()),
                    record_type: Some(record_type.as_str().to_owned()),
                    expected_answer: expected.clone(),
                });
                let check = Check::Dns {
                    host: host.clone(),
                    record_type,
                    expected,
                };
                Ok((check, stored, host))
            }
            Self::Tls(f) => {
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
                let target = join_host_port(&host, port);
                let stored = Self::Tls(TlsFields {
                    host: Some(host.clone()),
                    port: Some(port),
                    warn_days: Some(warn_days),
                });
                let check = Check::Tls {
                    host,
                    port,
                    warn_days,
                };
                Ok((check, stored, target))
            }
            Self::Heartbeat(f) => {
                let grace_seconds = f.grace_seconds.unwrap_or(60);
                if grace_seconds > 86_400 {
                    return Err(bad("grace_seconds", "must be between 0 and 86400"));
                }
                let stored = Self::Heartbeat(HeartbeatFields {
                    grace_seconds: Some(grace_seconds),
                });
                Ok((Check::Heartbeat { grace_seconds }, stored, String::new()))
            }
        }
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
    // The edge's SNI rules are the DNS-name rules we want here too.
    acme::name::normalize(&value).ok_or_else(|| {
        bad(
            "host",
            format!("`{value}` is neither a host name nor an IP address"),
        )
    })
}

impl HttpFields {
    fn validate(&self, timeout_ms: u64) -> Result<Validated, FieldError> {
        let raw = self.url.as_deref().map(str::trim).unwrap_or_default();
        if raw.is_empty() {
            return Err(bad("url", "is required for http monitors"));
        }
        let url =
            url::Url::parse(raw).map_err(|e| bad("url", format!("`{raw}` is not a URL: {e}")))?;
        if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() || raw.len() > 2048
        {
            return Err(bad("url", "must be an http:// or https:// URL with a host"));
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err(bad(
                "url",
                "must not carry credentials; send them in headers",
            ));
        }
        let method = self.method.as_deref().unwrap_or("GET").to_ascii_uppercase();
        if !matches!(
            method.as_str(),
            "GET" | "HEAD" | "POST" | "PUT" | "PATCH" | "DELETE" | "OPTIONS"
        ) {
            return Err(bad(
                "method",
                "must be GET, HEAD, POST, PUT, PATCH, DELETE or OPTIONS",
            ));
        }
        let headers = self.headers.clone().unwrap_or_default();
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
        if let Some(body) = &self.body {
            if body.len() > MAX_PROBE_BODY {
                return Err(bad("body", "must be at most 64 KiB"));
            }
            if matches!(method.as_str(), "GET" | "HEAD") {
                return Err(bad("body", format!("cannot be sent with {method}")));
            }
        }
        let expected_status = self.expected_status.clone().unwrap_or_default();
        if expected_status.len() > 20 || expected_status.iter().any(|s| !(100..=599).contains(s)) {
            return Err(bad(
                "expected_status",
                "at most 20 statuses, each between 100 and 599",
            ));
        }
        for (field, value) in [
            ("keyword", &self.keyword),
            ("keyword_absent", &self.keyword_absent),
        ] {
            if value
                .as_deref()
                .is_some_and(|k| k.is_empty() || k.len() > 1000)
            {
                return Err(bad(field, "must be 1–1000 characters"));
            }
        }
        let json = match (&self.json_path, &self.json_equals) {
            (Some(path), Some(value)) => Some((
                JsonPath::parse(path).map_err(|m| bad("json_path", m))?,
                value.clone(),
            )),
            (Some(_), None) => return Err(bad("json_equals", "is required with json_path")),
            (None, Some(_)) => return Err(bad("json_path", "is required with json_equals")),
            (None, None) => None,
        };
        if let Some(max) = self.max_latency_ms
            && (max == 0 || max > timeout_ms)
        {
            return Err(bad(
                "max_latency_ms",
                "must be between 1 and the timeout in ms",
            ));
        }
        let follow_redirects = self.follow_redirects.unwrap_or(true);
        let verify_tls = self.verify_tls.unwrap_or(true);
        let stored = KindFields::Http(Self {
            url: Some(url.to_string()),
            method: Some(method.clone()),
            headers: (!headers.is_empty()).then(|| headers.clone()),
            expected_status: (!expected_status.is_empty()).then(|| expected_status.clone()),
            follow_redirects: Some(follow_redirects),
            verify_tls: Some(verify_tls),
            ..self.clone()
        });
        let target = url.to_string();
        let check = Check::Http(Box::new(HttpCheck {
            url,
            method,
            headers,
            body: self.body.clone(),
            expected_status,
            keyword: self.keyword.clone(),
            keyword_absent: self.keyword_absent.clone(),
            json,
            max_latency_ms: self.max_latency_ms,
            follow_redirects,
            verify_tls,
        }));
        Ok((check, stored, target))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_tag_is_the_kind_and_other_kinds_fields_are_refused() {
        let tcp: KindFields =
            serde_json::from_value(serde_json::json!({"kind": "tcp", "host": "db", "port": 5432}))
                .unwrap();
        assert_eq!(
            tcp,
            KindFields::Tcp(TcpFields {
                host: Some("db".into()),
                port: Some(5432)
            })
        );
        assert_eq!(
            serde_json::to_value(&tcp).unwrap(),
            serde_json::json!({"kind": "tcp", "host": "db", "port": 5432})
        );
        let err = serde_json::from_value::<KindFields>(
            serde_json::json!({"kind": "http", "url": "http://a", "port": 80}),
        )
        .unwrap_err();
        assert!(err.to_string().contains("unknown field `port`"), "{err}");
    }

    #[test]
    fn the_stored_settings_have_no_tag() {
        let (_, stored, _) = KindFields::Heartbeat(HeartbeatFields::default())
            .validate(10_000)
            .unwrap();
        assert_eq!(
            serde_json::from_str::<serde_json::Value>(&stored.stored(2, 1)).unwrap(),
            serde_json::json!({"confirmations": 2, "regions": 1, "grace_seconds": 60})
        );
    }
}
