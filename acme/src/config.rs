//! `[acme]` configuration: which ACME directory to order from, and as whom.

use std::net::SocketAddr;
use std::path::PathBuf;

use serde::{Deserialize, Serialize, Serializer};
use url::Url;

/// Hosts whose ACME directories issue untrusted test certificates.
const TEST_DIRECTORY_MARKERS: &[&str] = &["staging", "pebble", "localhost", "127.0.0.1", "[::1]"];

/// Which challenge proves control of a plain (non-wildcard) name.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize)]
pub enum Challenge {
    /// TLS-ALPN-01 on :443 (no :80 needed).
    #[default]
    #[serde(rename = "tls-alpn-01")]
    TlsAlpn01,
    /// HTTP-01 on :80.
    #[serde(rename = "http-01")]
    Http01,
}

/// How the edge obtains certificates.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct AcmeConfig {
    /// ACME directory URL; unset means the embedded local CA issues certificates.
    pub directory_url: Option<Url>,
    /// Contact address registered with the ACME account.
    pub contact_email: Option<String>,
    /// PEM file of an extra trusted root for the directory's TLS (test CAs such as pebble);
    /// the binary reads and checks it, this crate takes the certificates.
    pub extra_root_pem: Option<PathBuf>,
    /// Allow a staging or test directory in production (certificates browsers do not trust).
    pub allow_test_directory: bool,
    /// Challenge for plain names: `tls-alpn-01` or `http-01`.
    pub challenge: Challenge,
    /// Longest a handshake waits for a new certificate.
    pub issue_timeout_seconds: u64,
    /// New orders per hour across the cluster (Let's Encrypt allows 300 per 3 hours).
    pub orders_per_hour: u32,
    /// New orders per tenant per day.
    pub tenant_orders_per_day: u32,
    /// First wait after a failed issuance; doubles per failure.
    pub retry_min_seconds: u64,
    /// Longest wait between failed issuances.
    pub retry_max_seconds: u64,
    /// How often renewals and queued names are looked at.
    pub renew_check_seconds: u64,
    /// Order certificates as soon as a name is authorised, before its first handshake.
    pub preissue: bool,
    /// How long an authorisation is trusted before a background re-check.
    pub positive_ttl_seconds: u64,
    /// How long a refusal is remembered.
    pub negative_ttl_seconds: u64,
    /// Serve tenant subdomains from one `*.<suffix>` certificate (DNS-01 with ACME).
    pub wildcard: bool,
    /// Where the DNS-01 responder for `_acme-challenge.<suffix>` listens (UDP and TCP).
    pub dns_listen: Option<SocketAddr>,
}

impl Default for AcmeConfig {
    fn default() -> Self {
        Self {
            directory_url: None,
            contact_email: None,
            extra_root_pem: None,
            allow_test_directory: false,
            challenge: Challenge::TlsAlpn01,
            issue_timeout_seconds: 10,
            orders_per_hour: 30,
            tenant_orders_per_day: 20,
            retry_min_seconds: 60,
            retry_max_seconds: 6 * 3600,
            renew_check_seconds: 60,
            preissue: true,
            positive_ttl_seconds: 300,
            negative_ttl_seconds: 60,
            wildcard: false,
            dns_listen: None,
        }
    }
}

impl AcmeConfig {
    /// Whether the directory URL looks like a staging or test CA.
    pub fn is_test_directory(&self) -> bool {
        self.directory_url.as_ref().is_some_and(|url| {
            let url = url.as_str().to_ascii_lowercase();
            TEST_DIRECTORY_MARKERS
                .iter()
                .any(|marker| url.contains(marker))
        })
    }

    /// Appends one message per problem, each naming its key; `production` adds
    /// the strict rules. Files are not looked at here: the binary checks
    /// `extra_root_pem` when it reads it.
    pub fn validate(&self, production: bool, problems: &mut Vec<String>) {
        if let Some(url) = &self.directory_url
            && url.scheme() != "https"
        {
            problems.push(format!(
                "acme.directory_url: must be an https:// URL, got scheme `{}`",
                url.scheme()
            ));
        }
        if let Some(email) = &self.contact_email
            && !looks_like_email(email)
        {
            problems.push(format!(
                "acme.contact_email: `{email}` is not an email address"
            ));
        }
        for (key, value) in [
            ("acme.issue_timeout_seconds", self.issue_timeout_seconds),
            ("acme.renew_check_seconds", self.renew_check_seconds),
            ("acme.retry_min_seconds", self.retry_min_seconds),
        ] {
            if value == 0 {
                problems.push(format!("{key}: must be at least 1"));
            }
        }
        if self.retry_max_seconds < self.retry_min_seconds {
            problems.push(format!(
                "acme.retry_max_seconds: {} is below acme.retry_min_seconds ({})",
                self.retry_max_seconds, self.retry_min_seconds
            ));
        }
        // A real CA's limits bind; a local test CA (pebble) may be driven harder.
        let cap = if self.is_test_directory() && !production {
            u32::MAX
        } else {
            100
        };
        if self.orders_per_hour == 0 || self.orders_per_hour > cap {
            problems.push(format!(
                "acme.orders_per_hour: {} must be 1–100 (Let's Encrypt allows 300 new orders per 3 hours per account)",
                self.orders_per_hour
            ));
        }
        if self.wildcard && self.directory_url.is_some() && self.dns_listen.is_none() {
            problems.push(
                "acme.dns_listen: required with acme.wildcard and an ACME directory (the wildcard is proven through DNS-01 answered by the edge)"
                    .to_owned(),
            );
        }
        if !production {
            return;
        }
        match &self.directory_url {
            None => problems.push(
                "acme.directory_url: required in production (the local CA is for development)"
                    .to_owned(),
            ),
            Some(url) if self.is_test_directory() && !self.allow_test_directory => {
                problems.push(format!(
                    "acme.directory_url: `{url}` is a staging/test directory; \
                     set acme.allow_test_directory = true if that is intended"
                ))
            }
            Some(_) => {}
        }
    }
}

/// A deliberately loose check: one `@` with text on both sides and a dot in the domain.
fn looks_like_email(value: &str) -> bool {
    match value.split_once('@') {
        Some((local, domain)) => {
            !local.is_empty()
                && domain.contains('.')
                && !domain.starts_with('.')
                && !domain.ends_with('.')
        }
        None => false,
    }
}

/// Writes a secret of any configuration section as `"[redacted]"` when set
/// and as nothing when unset, so printed configuration (`config check`) shows
/// whether a secret is there, never its value. The crates above use this one
/// (`serialize_with = "acme::config::redacted"`), since `acme` is the crate they all share.
pub fn redacted<T, S: Serializer>(secret: &Option<T>, s: S) -> Result<S::Ok, S::Error> {
    match secret {
        Some(_) => s.serialize_str("[redacted]"),
        None => s.serialize_none(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> AcmeConfig {
        toml::from_str(text).unwrap()
    }

    #[test]
    fn production_requires_a_directory() {
        let mut problems = Vec::new();
        AcmeConfig::default().validate(true, &mut problems);
        assert_eq!(problems.len(), 1);
        assert!(problems[0].starts_with("acme.directory_url:"));
        problems.clear();
        AcmeConfig::default().validate(false, &mut problems);
        assert!(problems.is_empty());
    }

    #[test]
    fn staging_directory_needs_the_allow_flag() {
        let staging =
            parse(r#"directory_url = "https://acme-staging-v02.api.letsencrypt.org/directory""#);
        let mut problems = Vec::new();
        staging.validate(true, &mut problems);
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert!(problems[0].contains("staging/test"));

        let allowed = AcmeConfig {
            allow_test_directory: true,
            ..staging
        };
        problems.clear();
        allowed.validate(true, &mut problems);
        assert!(problems.is_empty(), "{problems:?}");
    }

    #[test]
    fn live_directory_passes_and_bad_values_are_named() {
        let live = parse(
            r#"directory_url = "https://acme-v02.api.letsencrypt.org/directory"
               contact_email = "ops@example.com""#,
        );
        let mut problems = Vec::new();
        live.validate(true, &mut problems);
        assert!(problems.is_empty(), "{problems:?}");

        let bad = parse(
            r#"directory_url = "http://acme.example.com/dir"
               contact_email = "not-an-email""#,
        );
        bad.validate(false, &mut problems);
        assert_eq!(problems.len(), 2, "{problems:?}");
        assert!(problems[0].starts_with("acme.directory_url:"));
        assert!(problems[1].starts_with("acme.contact_email:"));
    }

    #[test]
    fn issuance_limits_are_checked() {
        let mut problems = Vec::new();
        let config = parse(
            r#"directory_url = "https://acme-v02.api.letsencrypt.org/directory"
               orders_per_hour = 500
               retry_min_seconds = 600
               retry_max_seconds = 60
               wildcard = true"#,
        );
        config.validate(false, &mut problems);
        let keys: Vec<&str> = problems
            .iter()
            .map(|p| p.split(':').next().unwrap())
            .collect();
        assert_eq!(
            keys,
            [
                "acme.retry_max_seconds",
                "acme.orders_per_hour",
                "acme.dns_listen"
            ],
            "{problems:?}"
        );
        // Against a local test CA in development, the budget may be raised for benchmarks.
        let pebble = parse(
            r#"directory_url = "https://127.0.0.1:14000/dir"
               orders_per_hour = 100000"#,
        );
        problems.clear();
        pebble.validate(false, &mut problems);
        assert!(problems.is_empty(), "{problems:?}");
        let bad_challenge = toml::from_str::<AcmeConfig>(r#"challenge = "dns-02""#).unwrap_err();
        assert!(
            bad_challenge.to_string().contains("dns-02"),
            "{bad_challenge}"
        );
    }

    #[test]
    fn unknown_keys_are_refused() {
        let err = toml::from_str::<AcmeConfig>("directroy_url = 'x'").unwrap_err();
        assert!(err.to_string().contains("directroy_url"), "{err}");
    }
}
