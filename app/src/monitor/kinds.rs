//! What a monitor checks: its kind and the validated parameters of each kind.

use std::collections::BTreeMap;

/// Kinds of monitor.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// An HTTP(S) request.
    Http,
    /// A TCP connection.
    Tcp,
    /// A DNS query.
    Dns,
    /// A TLS handshake, watching certificate expiry.
    Tls,
    /// Pings pushed to a secret URL.
    Heartbeat,
}

impl Kind {
    /// Parses a stored or submitted name.
    pub fn parse(value: &str) -> Option<Self> {
        Some(match value {
            "http" => Self::Http,
            "tcp" => Self::Tcp,
            "dns" => Self::Dns,
            "tls" => Self::Tls,
            "heartbeat" => Self::Heartbeat,
            _ => return None,
        })
    }

    /// Stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Http => "http",
            Self::Tcp => "tcp",
            Self::Dns => "dns",
            Self::Tls => "tls",
            Self::Heartbeat => "heartbeat",
        }
    }
}

/// A validated check.
#[derive(Debug, Clone, PartialEq)]
pub enum Check {
    /// HTTP(S) request and the conditions on its answer.
    Http(Box<HttpCheck>),
    /// TCP connect to `host:port`.
    Tcp {
        /// Host name or IP.
        host: String,
        /// Port, never 0.
        port: u16,
    },
    /// DNS query.
    Dns {
        /// Name queried.
        host: String,
        /// Record type asked for; any answer of it is up unless `expected` is set.
        record_type: DnsRecordType,
        /// A value one answer must equal.
        expected: Option<String>,
    },
    /// TLS handshake and certificate expiry.
    Tls {
        /// Host name (also the SNI name) or IP.
        host: String,
        /// Port, 443 unless the definition gave another.
        port: u16,
        /// Degraded this many days before expiry.
        warn_days: u32,
    },
    /// No ping within interval + grace means down.
    Heartbeat {
        /// Seconds of slack after the interval.
        grace_seconds: u64,
    },
}

impl Check {
    /// The kind of this check.
    pub fn kind(&self) -> Kind {
        match self {
            Self::Http(_) => Kind::Http,
            Self::Tcp { .. } => Kind::Tcp,
            Self::Dns { .. } => Kind::Dns,
            Self::Tls { .. } => Kind::Tls,
            Self::Heartbeat { .. } => Kind::Heartbeat,
        }
    }
}

/// An HTTP check.
#[derive(Debug, Clone, PartialEq)]
pub struct HttpCheck {
    /// URL requested.
    pub url: url::Url,
    /// Method, uppercase.
    pub method: String,
    /// Request headers.
    pub headers: BTreeMap<String, String>,
    /// Request body.
    pub body: Option<String>,
    /// Statuses that count as up; empty means any 2xx.
    pub expected_status: Vec<u16>,
    /// Text the body must contain.
    pub keyword: Option<String>,
    /// Text the body must not contain.
    pub keyword_absent: Option<String>,
    /// A JSON path and the value it must hold.
    pub json: Option<(JsonPath, serde_json::Value)>,
    /// Slower than this is degraded.
    pub max_latency_ms: Option<u64>,
    /// Follow up to 10 redirects; otherwise a 3xx is the answer judged.
    pub follow_redirects: bool,
    /// Verify the certificate.
    pub verify_tls: bool,
}

/// DNS record types a monitor may query.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DnsRecordType {
    /// IPv4 address.
    A,
    /// IPv6 address.
    Aaaa,
    /// Alias.
    Cname,
    /// Mail exchanger.
    Mx,
    /// Name server.
    Ns,
    /// Text.
    Txt,
}

impl DnsRecordType {
    /// Parses `A`, `aaaa`, ….
    pub fn parse(value: &str) -> Option<Self> {
        Some(match value.to_ascii_uppercase().as_str() {
            "A" => Self::A,
            "AAAA" => Self::Aaaa,
            "CNAME" => Self::Cname,
            "MX" => Self::Mx,
            "NS" => Self::Ns,
            "TXT" => Self::Txt,
            _ => return None,
        })
    }

    /// Canonical name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::A => "A",
            Self::Aaaa => "AAAA",
            Self::Cname => "CNAME",
            Self::Mx => "MX",
            Self::Ns => "NS",
            Self::Txt => "TXT",
        }
    }
}

/// One step of a [`JsonPath`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JsonStep {
    /// Object member.
    Key(String),
    /// Array element.
    Index(usize),
}

/// A simple JSON path: `$.a.b[0].c` (also without the leading `$`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JsonPath(pub Vec<JsonStep>);

impl JsonPath {
    /// Parses dotted keys and `[n]` indexes.
    pub fn parse(text: &str) -> Result<Self, String> {
        let rest = text.trim();
        let rest = rest.strip_prefix('$').unwrap_or(rest);
        let mut steps = Vec::new();
        let mut chars = rest.chars().peekable();
        let malformed = || format!("`{text}` is not a path like $.a.b[0]");
        while let Some(c) = chars.next() {
            match c {
                '.' => {
                    let mut key = String::new();
                    while let Some(&n) = chars.peek() {
                        if n == '.' || n == '[' {
                            break;
                        }
                        key.push(n);
                        chars.next();
                    }
                    if key.is_empty() {
                        return Err(malformed());
                    }
                    steps.push(JsonStep::Key(key));
                }
                '[' => {
                    let mut digits = String::new();
                    for n in chars.by_ref() {
                        if n == ']' {
                            break;
                        }
                        digits.push(n);
                    }
                    let index = digits.parse().map_err(|_| malformed())?;
                    steps.push(JsonStep::Index(index));
                }
                _ if steps.is_empty() && text.trim() != "$" && !text.trim().starts_with('$') => {
                    // `a.b` without `$.`: treat as a leading key.
                    let mut key = String::from(c);
                    while let Some(&n) = chars.peek() {
                        if n == '.' || n == '[' {
                            break;
                        }
                        key.push(n);
                        chars.next();
                    }
                    steps.push(JsonStep::Key(key));
                }
                _ => return Err(malformed()),
            }
        }
        if steps.is_empty() || text.len() > 500 {
            return Err(malformed());
        }
        Ok(Self(steps))
    }

    /// The value at this path in `value`, if any.
    pub fn find<'v>(&self, value: &'v serde_json::Value) -> Option<&'v serde_json::Value> {
        self.0.iter().try_fold(value, |v, step| match step {
            JsonStep::Key(key) => v.get(key),
            JsonStep::Index(i) => v.get(i),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_paths_parse_and_find() {
        let doc = serde_json::json!({"a": {"b": [1, {"c": "ok"}]}});
        let path = JsonPath::parse("$.a.b[1].c").unwrap();
        assert_eq!(path.find(&doc), Some(&serde_json::json!("ok")));
        assert_eq!(
            JsonPath::parse("a.b[0]").unwrap().find(&doc),
            Some(&serde_json::json!(1))
        );
        assert_eq!(JsonPath::parse("$.a.x").unwrap().find(&doc), None);
        for bad in ["$", "$..a", "$.a[x]", ""] {
            assert!(JsonPath::parse(bad).is_err(), "{bad}");
        }
    }
}
