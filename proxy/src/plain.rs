//! The :80 application: ACME HTTP-01 answers, optionally `/health/` for load
//! balancers, and a 308 to https for everything else.

use std::sync::Arc;

use acme::ChallengeStore;
use async_trait::async_trait;
use bytes::Bytes;
use pingora_core::prelude::HttpPeer;
use pingora_core::{Error, ErrorType, Result};
use pingora_http::ResponseHeader;
use pingora_proxy::{ProxyHttp, Session};

use crate::edge::EdgeProxy;

/// Prefix of HTTP-01 challenge paths.
const CHALLENGE_PREFIX: &str = "/.well-known/acme-challenge/";

/// The plain-HTTP proxy.
pub struct PlainProxy {
    /// Pending challenges.
    pub challenges: Arc<dyn ChallengeStore>,
    /// Port of the https listener, for redirects (omitted when 443).
    pub https_port: u16,
    /// Forward `/health/` to the app instead of redirecting.
    pub health_over_http: bool,
    /// The https proxy, whose upstream pool `/health/` uses.
    pub edge: EdgeProxy,
}

impl std::fmt::Debug for PlainProxy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PlainProxy")
    }
}

/// `Host` without its port, if it is a plausible host name.
fn host_without_port(host: &str) -> Option<&str> {
    let host = match host.strip_prefix('[') {
        Some(v6) => {
            return v6
                .split_once(']')
                .map(|(h, _)| h)
                .filter(|h| h.parse::<std::net::Ipv6Addr>().is_ok());
        }
        None => host.rsplit_once(':').map_or(host, |(h, _)| h),
    };
    (!host.is_empty()
        && host.len() <= 253
        && host
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.'))
    .then_some(host)
}

#[async_trait]
impl ProxyHttp for PlainProxy {
    type CTX = ();

    fn new_ctx(&self) {}

    async fn request_filter(&self, session: &mut Session, _ctx: &mut ()) -> Result<bool> {
        let path = session.req_header().uri.path().to_owned();
        if let Some(token) = path.strip_prefix(CHALLENGE_PREFIX) {
            let answer = if token.is_empty() || token.len() > 256 {
                None
            } else {
                self.challenges.http01(token).await
            };
            tracing::info!(
                answered = answer.is_some(),
                "ACME HTTP-01 challenge request"
            );
            let (status, body) = match answer {
                Some(key_authorization) => (200, Bytes::from(key_authorization)),
                None => (404, Bytes::from_static(b"no such challenge")),
            };
            let mut response = ResponseHeader::build(status, Some(3))?;
            response.insert_header(http::header::CONTENT_TYPE, "text/plain")?;
            response.insert_header(http::header::CONTENT_LENGTH, body.len())?;
            session
                .write_response_header(Box::new(response), false)
                .await?;
            session.write_response_body(Some(body), true).await?;
            return Ok(true);
        }
        if self.health_over_http && (path == "/health/" || path.starts_with("/health/")) {
            return Ok(false);
        }
        let host = session
            .req_header()
            .headers
            .get(http::header::HOST)
            .and_then(|v| v.to_str().ok())
            .and_then(host_without_port)
            .map(str::to_owned);
        let Some(host) = host else {
            let mut response = ResponseHeader::build(400, Some(2))?;
            response.insert_header(http::header::CONTENT_LENGTH, 0)?;
            session
                .write_response_header(Box::new(response), true)
                .await?;
            return Ok(true);
        };
        let authority = if self.https_port == 443 {
            host
        } else {
            format!("{host}:{}", self.https_port)
        };
        let target = match session.req_header().uri.path_and_query() {
            Some(pq) => format!("https://{authority}{pq}"),
            None => format!("https://{authority}/"),
        };
        let mut response = ResponseHeader::build(308, Some(3))?;
        response.insert_header(http::header::LOCATION, target)?;
        response.insert_header(http::header::CONTENT_LENGTH, 0)?;
        session
            .write_response_header(Box::new(response), true)
            .await?;
        Ok(true)
    }

    async fn upstream_peer(&self, _session: &mut Session, _ctx: &mut ()) -> Result<Box<HttpPeer>> {
        let upstreams = self.edge.0.upstreams.load();
        let backend = upstreams
            .select(b"health", 16)
            .ok_or_else(|| Error::explain(ErrorType::ConnectNoRoute, "no healthy app upstream"))?;
        Ok(Box::new(HttpPeer::new(backend.addr, false, String::new())))
    }
}

#[cfg(test)]
mod tests {
    use super::host_without_port;

    #[test]
    fn hosts() {
        assert_eq!(
            host_without_port("acme.localhost:8080"),
            Some("acme.localhost")
        );
        assert_eq!(host_without_port("example.com"), Some("example.com"));
        assert_eq!(host_without_port("[::1]:80"), Some("::1"));
        assert_eq!(host_without_port("evil.com/@x"), None);
        assert_eq!(host_without_port(""), None);
    }
}
