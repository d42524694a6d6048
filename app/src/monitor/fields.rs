//! The kind-specific part of a monitor definition: an enum tagged by `kind`
//! whose variants hold only their kind's fields, so an HTTP monitor with a
//! `port` cannot be written down. Validation (`spec.rs`) turns these fields
//! into the [`Check`](super::kinds::Check) the prober runs, with defaults
//! filled in.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::kinds::Kind;

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
#[allow(
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
#[allow(
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
#[allow(
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
#[allow(
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
#[allow(
    missing_docs,
    reason = "each field is documented once, on MonitorInput"
)]
pub struct HeartbeatFields {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub grace_seconds: Option<u64>,
}

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
        let stored = KindFields::Heartbeat(HeartbeatFields {
            grace_seconds: Some(60),
        });
        assert_eq!(
            serde_json::from_str::<serde_json::Value>(&stored.stored(2, 1)).unwrap(),
            serde_json::json!({"confirmations": 2, "regions": 1, "grace_seconds": 60})
        );
    }
}
