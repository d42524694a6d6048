//! `[tenancy]`: how tenants' hostnames are formed.

use std::net::{IpAddr, SocketAddr};

use serde::{Deserialize, Serialize};
use url::Url;

/// Settings for tenant subdomains.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct TenancyConfig {
    /// Every tenant gets `<slug>.<domain_suffix>`.
    pub domain_suffix: String,
    /// Base URL of links in mails; unset means `https://<domain_suffix>`.
    #[serde(default)]
    pub public_url: Option<Url>,
    /// Slugs nobody may take, besides the built-in list (`www`, `api`, `admin`, …).
    #[serde(default)]
    pub reserved_slugs: Vec<String>,
    /// DNS server for custom-domain checks (`ip:port`); unset means the system resolver.
    #[serde(default)]
    pub dns_server: Option<SocketAddr>,
}

impl TenancyConfig {
    /// The suffix as stored: lowercase, without surrounding dots.
    pub fn normalized_suffix(&self) -> String {
        self.domain_suffix
            .trim()
            .trim_matches('.')
            .to_ascii_lowercase()
    }

    /// Base URL of links in mails.
    pub fn public_base(&self) -> String {
        match &self.public_url {
            Some(url) => url.as_str().trim_end_matches('/').to_owned(),
            None => format!("https://{}", self.normalized_suffix()),
        }
    }

    /// Appends one message per problem, each naming its key.
    pub fn validate(&self, production: bool, problems: &mut Vec<String>) {
        if let Some(url) = &self.public_url
            && !matches!(url.scheme(), "http" | "https")
        {
            problems.push(format!("tenancy.public_url: `{url}` is not an http(s) URL"));
        }
        if production
            && self
                .public_url
                .as_ref()
                .is_some_and(|u| u.scheme() != "https")
        {
            problems.push("tenancy.public_url: must be https in production".to_owned());
        }
        let suffix = self.normalized_suffix();
        if suffix.is_empty() {
            problems.push("tenancy.domain_suffix: must not be empty".to_owned());
            return;
        }
        if suffix
            .trim_matches(|c| c == '[' || c == ']')
            .parse::<IpAddr>()
            .is_ok()
        {
            if production {
                problems.push(format!(
                    "tenancy.domain_suffix: `{suffix}` is an IP address; tenants need a DNS name (e.g. status.example.com)"
                ));
            }
            return;
        }
        if let Err(problem) = acme::name::DnsName::parse(&suffix) {
            problems.push(format!(
                "tenancy.domain_suffix: `{suffix}` is not a DNS name: {problem}"
            ));
            return;
        }
        if production && (suffix == "localhost" || suffix.ends_with(".localhost")) {
            problems.push(format!(
                "tenancy.domain_suffix: `{suffix}` only resolves on the local machine; set the public domain"
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn problems(suffix: &str, production: bool) -> Vec<String> {
        let mut problems = Vec::new();
        TenancyConfig {
            domain_suffix: suffix.to_owned(),
            public_url: None,
            reserved_slugs: Vec::new(),
            dns_server: None,
        }
        .validate(production, &mut problems);
        problems
    }

    #[test]
    fn development_accepts_localhost() {
        assert!(problems("localhost", false).is_empty());
        assert!(problems("127.0.0.1", false).is_empty());
    }

    #[test]
    fn production_refuses_empty_localhost_and_ips() {
        for bad in [
            "",
            " . ",
            "localhost",
            "LOCALHOST.",
            "dev.localhost",
            "10.0.0.1",
            "::1",
            "[::1]",
        ] {
            let found = problems(bad, true);
            assert_eq!(found.len(), 1, "{bad}: {found:?}");
            assert!(found[0].starts_with("tenancy.domain_suffix:"), "{found:?}");
        }
        assert!(problems("status.example.com", true).is_empty());
        assert!(problems(".Status.Example.com.", true).is_empty());
    }

    #[test]
    fn malformed_names_are_refused_everywhere() {
        for bad in ["exa mple.com", "-bad.com", "a..b", "under_score.com"] {
            assert_eq!(problems(bad, false).len(), 1, "{bad}");
        }
    }
}
