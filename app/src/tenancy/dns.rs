//! DNS look-ups that prove a tenant controls a custom hostname.

use hickory_resolver::TokioAsyncResolver;
use hickory_resolver::error::ResolveErrorKind;
use std::net::SocketAddr;

/// A resolver that never caches, so a record just created is seen at once.
#[derive(Debug, Clone)]
pub struct DnsChecker {
    resolver: TokioAsyncResolver,
}

impl DnsChecker {
    /// Uses `server` when given (tests, split-horizon setups), else the system's resolvers.
    pub fn new(server: Option<SocketAddr>) -> Self {
        Self {
            resolver: crate::net_guard::resolver(server, false),
        }
    }

    /// CNAME targets of `name`, lowercase without the trailing dot; empty when none.
    pub async fn cname(&self, name: &str) -> Result<Vec<String>, String> {
        let fqdn = format!("{}.", name.trim_end_matches('.'));
        match self
            .resolver
            .lookup(fqdn, hickory_resolver::proto::rr::RecordType::CNAME)
            .await
        {
            Ok(lookup) => Ok(lookup
                .iter()
                .filter_map(|rdata| {
                    rdata
                        .as_cname()
                        .map(|c| c.0.to_ascii().to_ascii_lowercase())
                })
                .map(|target| target.trim_end_matches('.').to_owned())
                .collect()),
            Err(err) if matches!(err.kind(), ResolveErrorKind::NoRecordsFound { .. }) => {
                Ok(Vec::new())
            }
            Err(err) => Err(err.to_string()),
        }
    }

    /// TXT strings at `name`; empty when none.
    pub async fn txt(&self, name: &str) -> Result<Vec<String>, String> {
        let fqdn = format!("{}.", name.trim_end_matches('.'));
        match self.resolver.txt_lookup(fqdn).await {
            Ok(lookup) => Ok(lookup
                .iter()
                .map(|txt| {
                    txt.txt_data()
                        .iter()
                        .map(|part| String::from_utf8_lossy(part).into_owned())
                        .collect::<String>()
                })
                .collect()),
            Err(err) if matches!(err.kind(), ResolveErrorKind::NoRecordsFound { .. }) => {
                Ok(Vec::new())
            }
            Err(err) => Err(err.to_string()),
        }
    }
}
