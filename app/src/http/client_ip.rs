//! The client's address: the peer, or the edge's `X-Forwarded-For` when the peer is a trusted proxy.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};

use axum::extract::ConnectInfo;
use axum::http::request::Parts;

use crate::config::IpRange;

/// Client address for rate limits and the audit log.
pub fn client_ip(parts: &Parts, trusted: &[IpRange]) -> IpAddr {
    let is_trusted = |ip: &IpAddr| ip.is_loopback() || trusted.iter().any(|r| r.contains(*ip));
    let peer = parts
        .extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map_or(IpAddr::V4(Ipv4Addr::LOCALHOST), |c| c.0.ip());
    if !is_trusted(&peer) {
        return peer;
    }
    // The rightmost address not added by a trusted proxy is the client;
    // anything left of it could have been written by the client itself.
    let forwarded: Vec<IpAddr> = parts
        .headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .filter_map(|item| item.trim().parse().ok())
        .collect();
    forwarded
        .into_iter()
        .rev()
        .find(|ip| !is_trusted(ip))
        .unwrap_or(peer)
}

#[cfg(test)]
mod tests {
    use axum::http::Request;

    use super::*;

    fn parts(peer: &str, xff: Option<&str>) -> Parts {
        let mut builder = Request::get("/");
        if let Some(xff) = xff {
            builder = builder.header("x-forwarded-for", xff);
        }
        let (mut parts, ()) = builder.body(()).unwrap().into_parts();
        parts
            .extensions
            .insert(ConnectInfo(peer.parse::<SocketAddr>().unwrap()));
        parts
    }

    #[test]
    fn forwarded_for_is_believed_only_from_trusted_peers() {
        let edge: IpRange = "10.0.0.5".parse().unwrap();
        let network: IpRange = "172.18.0.0/16".parse().unwrap();
        assert_eq!(
            client_ip(&parts("203.0.113.9:1", Some("1.1.1.1")), &[]).to_string(),
            "203.0.113.9"
        );
        assert_eq!(
            client_ip(&parts("127.0.0.1:1", Some("6.6.6.6, 198.51.100.7")), &[]).to_string(),
            "198.51.100.7"
        );
        assert_eq!(
            client_ip(
                &parts("10.0.0.5:1", Some("198.51.100.7, 10.0.0.5")),
                &[edge]
            )
            .to_string(),
            "198.51.100.7"
        );
        // A container network: any edge address in it is believed, and its
        // own hops are skipped.
        assert_eq!(
            client_ip(
                &parts("172.18.0.9:1", Some("198.51.100.7, 172.18.0.3")),
                &[network]
            )
            .to_string(),
            "198.51.100.7"
        );
        assert_eq!(
            client_ip(&parts("172.19.0.9:1", Some("198.51.100.7")), &[network]).to_string(),
            "172.19.0.9"
        );
        assert_eq!(
            client_ip(&parts("127.0.0.1:1", None), &[]).to_string(),
            "127.0.0.1"
        );
        assert_eq!(
            client_ip(&parts("127.0.0.1:1", Some("garbage")), &[]).to_string(),
            "127.0.0.1"
        );
    }
}

/// Extractor of the client's address (see [`client_ip`]).
#[derive(Debug, Clone, Copy)]
pub struct ClientIp(pub IpAddr);

impl axum::extract::FromRequestParts<crate::AppState> for ClientIp {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &crate::AppState,
    ) -> Result<Self, Self::Rejection> {
        Ok(Self(client_ip(parts, &state.settings.auth.trusted_proxies)))
    }
}
