//! `[edge]` configuration: listeners, upstreams, static root, admin access.

use std::net::SocketAddr;
use std::path::PathBuf;

use acme::config::redacted;
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};

/// The shortest admin bearer token accepted; shorter ones are guessable.
const MIN_ADMIN_TOKEN_LEN: usize = 24;

/// Listeners and routing of the edge.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct EdgeConfig {
    /// Plain-HTTP listener: ACME HTTP-01 challenges and redirects to https.
    pub http_listen: SocketAddr,
    /// TLS listener for tenants' sites, the SPA and the API.
    pub https_listen: SocketAddr,
    /// Operator admin API listener; loopback unless `admin_token` is set.
    pub admin_listen: SocketAddr,
    /// Bearer token required by the admin API (mandatory off loopback).
    #[serde(default, serialize_with = "redacted")]
    pub admin_token: Option<SecretString>,
    /// App upstreams as `host:port`; empty means the local app's `app.listen`.
    #[serde(default)]
    pub app_upstreams: Vec<String>,
    /// Directory of the built SPA.
    pub static_root: PathBuf,
    /// HSTS max-age in seconds; 0 sends no HSTS header.
    #[serde(default)]
    pub hsts_max_age: u64,
    /// HSTS `includeSubDomains`.
    #[serde(default)]
    pub hsts_include_subdomains: bool,
    /// HSTS `preload` (only with a max-age of at least a year).
    #[serde(default)]
    pub hsts_preload: bool,
    /// Content-Security-Policy of the SPA's pages; unset means the strict default.
    #[serde(default)]
    pub csp: Option<String>,
    /// Largest request body forwarded to the app, in bytes.
    #[serde(default = "default_max_body")]
    pub max_body_bytes: u64,
    /// Largest request line plus headers, in bytes (431 above).
    #[serde(default = "default_max_header")]
    pub max_header_bytes: usize,
    /// Seconds a request may take to arrive in full from its first byte (slowloris guard).
    #[serde(default = "default_read_timeout")]
    pub read_timeout_seconds: u64,
    /// Seconds a write to a client may wait for it to read (slow-read guard).
    #[serde(default = "default_write_timeout")]
    pub write_timeout_seconds: u64,
    /// Seconds an idle keep-alive connection stays open.
    #[serde(default = "default_keepalive")]
    pub keepalive_seconds: u64,
    /// Seconds allowed for a TLS handshake (including issuance).
    #[serde(default = "default_handshake_timeout")]
    pub handshake_timeout_seconds: u64,
    /// Client connections open at once; more are refused.
    #[serde(default = "default_max_connections")]
    pub max_connections: usize,
    /// Of those, open at once from one client address (IPv6: one /64).
    #[serde(default = "default_max_connections_per_address")]
    pub max_connections_per_address: usize,
    /// Answer `/health/` on the plain listener instead of redirecting (load balancers).
    #[serde(default = "default_true")]
    pub health_over_http: bool,
    /// Unix socket a successor waits on during a binary upgrade; unset means `<data_dir>/upgrade.sock`.
    #[serde(default)]
    pub upgrade_socket: Option<PathBuf>,
    /// Seconds to wait for open connections on shutdown.
    #[serde(default = "default_drain")]
    pub drain_seconds: u64,
    /// Bytes the cache of public app answers may hold (headers, bodies and
    /// their coded forms); 0 turns the cache off.
    #[serde(default = "default_cache_max_bytes")]
    pub cache_max_bytes: u64,
    /// Largest single answer the cache stores, in bytes.
    #[serde(default = "default_cache_max_object_bytes")]
    pub cache_max_object_bytes: u64,
}

/// Smallest non-zero cache: below this a handful of pages would not fit.
const MIN_CACHE_BYTES: u64 = 1024 * 1024;
/// Largest cache: the edge holds it in memory.
const MAX_CACHE_BYTES: u64 = 64 * 1024 * 1024 * 1024;

fn default_max_body() -> u64 {
    1024 * 1024
}
fn default_max_header() -> usize {
    32 * 1024
}
fn default_read_timeout() -> u64 {
    15
}
fn default_write_timeout() -> u64 {
    30
}
fn default_keepalive() -> u64 {
    60
}
fn default_handshake_timeout() -> u64 {
    10
}
fn default_max_connections() -> usize {
    10_000
}
fn default_max_connections_per_address() -> usize {
    // A tenth of the default total: ten addresses, not one, to fill the edge,
    // while a large office behind one NAT still gets a thousand.
    1_000
}
fn default_true() -> bool {
    true
}
fn default_drain() -> u64 {
    10
}
fn default_cache_max_bytes() -> u64 {
    64 * 1024 * 1024
}
fn default_cache_max_object_bytes() -> u64 {
    8 * 1024 * 1024
}

impl EdgeConfig {
    /// Appends one message per problem, each naming its key.
    pub fn validate(&self, production: bool, problems: &mut Vec<String>) {
        let _production = production;
        let token = self
            .admin_token
            .as_ref()
            .map(|t| t.expose_secret().trim().to_owned());
        if let Some(token) = &token
            && token.len() < MIN_ADMIN_TOKEN_LEN
        {
            problems.push(format!(
                "edge.admin_token: must be at least {MIN_ADMIN_TOKEN_LEN} characters"
            ));
        }
        if !self.admin_listen.ip().is_loopback() && token.is_none() {
            problems.push(format!(
                "edge.admin_listen: {} is not a loopback address, so edge.admin_token must be set",
                self.admin_listen
            ));
        }
        for (i, upstream) in self.app_upstreams.iter().enumerate() {
            if !is_host_port(upstream) {
                problems.push(format!(
                    "edge.app_upstreams[{i}]: `{upstream}` is not host:port"
                ));
            }
        }
        if self.hsts_preload && (self.hsts_max_age < 31_536_000 || !self.hsts_include_subdomains) {
            problems.push(
                "edge.hsts_preload: needs hsts_max_age >= 31536000 and hsts_include_subdomains"
                    .to_owned(),
            );
        }
        if let Some(csp) = &self.csp
            && (csp.trim().is_empty() || !csp.bytes().all(|b| b == b' ' || b.is_ascii_graphic()))
        {
            problems.push(
                "edge.csp: must be a non-empty policy of printable ASCII on one line".to_owned(),
            );
        }
        if _production && self.hsts_max_age == 0 {
            problems
                .push("edge.hsts_max_age: must be set in production (e.g. 31536000)".to_owned());
        }
        for (key, value, range) in [
            (
                "edge.read_timeout_seconds",
                self.read_timeout_seconds,
                1..=600,
            ),
            (
                "edge.write_timeout_seconds",
                self.write_timeout_seconds,
                1..=600,
            ),
            ("edge.keepalive_seconds", self.keepalive_seconds, 1..=3600),
            (
                "edge.handshake_timeout_seconds",
                self.handshake_timeout_seconds,
                1..=120,
            ),
            ("edge.drain_seconds", self.drain_seconds, 0..=600),
        ] {
            if !range.contains(&value) {
                problems.push(format!(
                    "{key}: must be between {} and {}",
                    range.start(),
                    range.end()
                ));
            }
        }
        if !(1024..=1024 * 1024).contains(&self.max_header_bytes) {
            problems.push("edge.max_header_bytes: must be between 1024 and 1048576".to_owned());
        }
        if self.max_body_bytes == 0 {
            problems.push("edge.max_body_bytes: must be at least 1".to_owned());
        }
        if self.cache_max_bytes != 0
            && !(MIN_CACHE_BYTES..=MAX_CACHE_BYTES).contains(&self.cache_max_bytes)
        {
            problems.push(format!(
                "edge.cache_max_bytes: must be 0 (off) or between {MIN_CACHE_BYTES} and {MAX_CACHE_BYTES}"
            ));
        }
        if self.cache_max_object_bytes < 1024
            || (self.cache_max_bytes != 0 && self.cache_max_object_bytes > self.cache_max_bytes / 4)
        {
            problems.push(
                "edge.cache_max_object_bytes: must be at least 1024 and at most a quarter of edge.cache_max_bytes"
                    .to_owned(),
            );
        }
        if self.max_connections == 0 {
            problems.push("edge.max_connections: must be at least 1".to_owned());
        }
        if self.max_connections_per_address == 0 {
            problems.push("edge.max_connections_per_address: must be at least 1".to_owned());
        }
        let ports = [
            ("edge.http_listen", self.http_listen),
            ("edge.https_listen", self.https_listen),
            ("edge.admin_listen", self.admin_listen),
        ];
        for (i, (key, addr)) in ports.iter().enumerate() {
            for (other, other_addr) in &ports[i + 1..] {
                if addr.port() != 0 && addr.port() == other_addr.port() {
                    problems.push(format!(
                        "{key}: port {} is also used by {other}",
                        addr.port()
                    ));
                }
            }
        }
    }
}

/// `host:port` with a non-empty host and a numeric port.
fn is_host_port(value: &str) -> bool {
    match value.rsplit_once(':') {
        Some((host, port)) => {
            !host.is_empty() && !host.contains('/') && port.parse::<u16>().is_ok_and(|p| p != 0)
        }
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(extra: &str) -> EdgeConfig {
        toml::from_str(&format!(
            "http_listen = '0.0.0.0:8080'\nhttps_listen = '0.0.0.0:8443'\n\
             admin_listen = '127.0.0.1:2019'\nstatic_root = 'static/dist'\nhsts_max_age = 31536000\n{extra}"
        ))
        .unwrap()
    }

    fn problems(config: &EdgeConfig) -> Vec<String> {
        let mut problems = Vec::new();
        config.validate(true, &mut problems);
        problems
    }

    #[test]
    fn defaults_are_valid() {
        assert!(problems(&parse("")).is_empty());
    }

    #[test]
    fn public_admin_listener_needs_a_token() {
        let open = parse("").clone();
        let open = EdgeConfig {
            admin_listen: "0.0.0.0:2019".parse().unwrap(),
            ..open
        };
        let found = problems(&open);
        assert_eq!(found.len(), 1, "{found:?}");
        assert!(found[0].starts_with("edge.admin_listen:"));

        let guarded = EdgeConfig {
            admin_token: Some("a-long-enough-admin-token-123".into()),
            ..open
        };
        assert!(problems(&guarded).is_empty());
    }

    #[test]
    fn bad_upstreams_short_tokens_and_clashing_ports_are_named() {
        let config = parse(
            "app_upstreams = ['127.0.0.1:8000', 'nope', 'http://x:1']\nadmin_token = 'short'",
        );
        let config = EdgeConfig {
            admin_listen: "127.0.0.1:8443".parse().unwrap(),
            ..config
        };
        let found = problems(&config);
        assert!(
            found
                .iter()
                .any(|p| p.starts_with("edge.app_upstreams[1]:")),
            "{found:?}"
        );
        assert!(
            found
                .iter()
                .any(|p| p.starts_with("edge.app_upstreams[2]:")),
            "{found:?}"
        );
        assert!(
            found.iter().any(|p| p.starts_with("edge.admin_token:")),
            "{found:?}"
        );
        assert!(
            found
                .iter()
                .any(|p| p.starts_with("edge.https_listen: port 8443")),
            "{found:?}"
        );
    }

    #[test]
    fn a_policy_that_cannot_be_a_header_is_named() {
        for bad in [
            "default-src 'self'\nscript-src 'none'",
            "  ",
            "default-src \u{e9}",
        ] {
            let config = EdgeConfig {
                csp: Some(bad.to_owned()),
                ..parse("")
            };
            let found = problems(&config);
            assert!(
                found.iter().any(|p| p.starts_with("edge.csp:")),
                "{bad:?}: {found:?}"
            );
        }
        let good = EdgeConfig {
            csp: Some("default-src 'self'".to_owned()),
            ..parse("")
        };
        assert!(problems(&good).is_empty());
    }

    #[test]
    fn cache_sizes_are_bounded_and_named() {
        assert_eq!(parse("").cache_max_bytes, 64 * 1024 * 1024);
        assert!(
            problems(&parse("cache_max_bytes = 0")).is_empty(),
            "0 turns it off"
        );
        for (extra, key) in [
            ("cache_max_bytes = 1000", "edge.cache_max_bytes:"),
            ("cache_max_bytes = 99999999999999", "edge.cache_max_bytes:"),
            (
                "cache_max_object_bytes = 10",
                "edge.cache_max_object_bytes:",
            ),
            (
                "cache_max_bytes = 2097152\ncache_max_object_bytes = 1048576",
                "edge.cache_max_object_bytes:",
            ),
        ] {
            let found = problems(&parse(extra));
            assert!(
                found.iter().any(|p| p.starts_with(key)),
                "{extra}: {found:?}"
            );
        }
        assert!(
            toml::from_str::<EdgeConfig>("cache_max_bytes = 'big'").is_err(),
            "a size is a number"
        );
    }

    #[test]
    fn the_token_is_never_serialized() {
        let config = parse("admin_token = 'a-long-enough-admin-token-123'");
        let text = toml::to_string(&config).unwrap();
        assert!(!text.contains("a-long-enough"), "{text}");
        assert!(text.contains("[redacted]"), "{text}");
    }
}
