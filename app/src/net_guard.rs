//! The network guard against SSRF: targets of probes and alert webhooks are
//! resolved here, every address is checked, and connections go to the checked
//! addresses only (no second look-up that a rebinding DNS server could answer
//! differently). Its resolver also serves custom-domain verification.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use hickory_resolver::TokioAsyncResolver;
use hickory_resolver::config::{NameServerConfig, Protocol, ResolverConfig, ResolverOpts};

/// Why a target may not be reached.
#[derive(Debug, Clone, thiserror::Error)]
pub enum GuardError {
    /// The name did not resolve.
    #[error("cannot resolve {host}: {reason}")]
    Resolve {
        /// The name.
        host: String,
        /// Resolver's message.
        reason: String,
    },
    /// The name resolves to an address probes may not reach.
    #[error(
        "{host} resolves to {ip}, a private, loopback, link-local or metadata address; probes may not reach it"
    )]
    Forbidden {
        /// The name.
        host: String,
        /// The refused address.
        ip: IpAddr,
    },
}

/// Builds a resolver for `server`, or the system's when `None`.
pub fn resolver(server: Option<SocketAddr>, cache: bool) -> TokioAsyncResolver {
    let mut opts = ResolverOpts::default();
    opts.timeout = Duration::from_secs(3);
    opts.attempts = 2;
    if !cache {
        opts.cache_size = 0;
    }
    let config = match server {
        Some(addr) => {
            let mut config = ResolverConfig::new();
            config.add_name_server(NameServerConfig::new(addr, Protocol::Udp));
            config.add_name_server(NameServerConfig::new(addr, Protocol::Tcp));
            config
        }
        None => match hickory_resolver::system_conf::read_system_conf() {
            Ok((config, _)) => config,
            Err(err) => {
                tracing::warn!(error = %err, "no system DNS configuration; look-ups will fail");
                ResolverConfig::new()
            }
        },
    };
    TokioAsyncResolver::tokio(config, opts)
}

/// Resolves and checks probe targets.
#[derive(Debug, Clone)]
pub struct Guard {
    resolver: TokioAsyncResolver,
    allow_private: bool,
}

impl Guard {
    /// A guard resolving through `resolver`; `allow_private` turns the address check off.
    pub fn new(resolver: TokioAsyncResolver, allow_private: bool) -> Self {
        Self {
            resolver,
            allow_private,
        }
    }

    /// Whether private addresses are allowed (development and tests).
    pub fn allows_private(&self) -> bool {
        self.allow_private
    }

    /// Refuses `ip` unless allowed.
    pub fn check(&self, host: &str, ip: IpAddr) -> Result<(), GuardError> {
        if !self.allow_private && is_forbidden(ip) {
            return Err(GuardError::Forbidden {
                host: host.to_owned(),
                ip,
            });
        }
        Ok(())
    }

    /// The addresses of `host` (a name or IP literal) with `port`; refused as
    /// a whole when any of them is forbidden, so a name cannot mix a public
    /// address with an internal one.
    pub async fn resolve(&self, host: &str, port: u16) -> Result<Vec<SocketAddr>, GuardError> {
        let bare = host.trim_start_matches('[').trim_end_matches(']');
        if let Ok(ip) = bare.parse::<IpAddr>() {
            self.check(host, ip)?;
            return Ok(vec![SocketAddr::new(ip, port)]);
        }
        let fqdn = format!("{}.", host.trim_end_matches('.'));
        let lookup = self
            .resolver
            .lookup_ip(fqdn)
            .await
            .map_err(|e| GuardError::Resolve {
                host: host.to_owned(),
                reason: e.to_string(),
            })?;
        let ips: Vec<IpAddr> = lookup.iter().collect();
        if ips.is_empty() {
            return Err(GuardError::Resolve {
                host: host.to_owned(),
                reason: "no addresses".into(),
            });
        }
        for ip in &ips {
            self.check(host, *ip)?;
        }
        Ok(ips
            .into_iter()
            .map(|ip| SocketAddr::new(ip, port))
            .collect())
    }
}

/// The guard as reqwest's resolver: HTTP connections go to checked addresses only.
#[derive(Debug, Clone)]
pub struct GuardResolver(pub Arc<Guard>);

impl reqwest::dns::Resolve for GuardResolver {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let guard = self.0.clone();
        Box::pin(async move {
            // reqwest puts the URL's port on the addresses.
            let addrs = guard.resolve(name.as_str(), 0).await?;
            Ok(Box::new(addrs.into_iter()) as reqwest::dns::Addrs)
        })
    }
}

/// Private, loopback, link-local, unique-local, multicast, reserved and cloud
/// metadata addresses, IPv4 and IPv6 (IPv4 embedded in IPv6 included).
pub fn is_forbidden(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => forbidden_v4(v4),
        IpAddr::V6(v6) => forbidden_v6(v6),
    }
}

fn forbidden_v4(ip: Ipv4Addr) -> bool {
    let [a, b, c, _] = ip.octets();
    ip.is_unspecified()
        || ip.is_loopback()
        || ip.is_private()
        || ip.is_link_local() // 169.254/16, with the cloud metadata 169.254.169.254
        || ip.is_multicast()
        || ip.is_broadcast()
        || ip.is_documentation()
        || a == 0
        || a >= 240 // reserved
        || (a == 100 && (64..128).contains(&b)) // shared address space (CGNAT; Alibaba metadata)
        || (a == 192 && b == 0 && c == 0) // IETF protocol assignments
        || (a == 198 && (b == 18 || b == 19)) // benchmarking
}

fn forbidden_v6(ip: Ipv6Addr) -> bool {
    let segments = ip.segments();
    if let Some(v4) = embedded_v4(ip) {
        return forbidden_v4(v4);
    }
    ip.is_unspecified()
        || ip.is_loopback()
        || ip.is_multicast()
        || (segments[0] & 0xfe00) == 0xfc00 // unique local fc00::/7 (AWS metadata fd00:ec2::254)
        || (segments[0] & 0xffc0) == 0xfe80 // link-local fe80::/10
        || (segments[0] & 0xffc0) == 0xfec0 // site-local fec0::/10 (deprecated)
        || (segments[0] == 0x2001 && segments[1] == 0x0db8) // documentation
        || (segments[0] == 0x0100 && segments[1..4] == [0, 0, 0]) // discard-only 100::/64
}

/// IPv4 addresses carried in IPv6: mapped, compatible, NAT64 and 6to4.
fn embedded_v4(ip: Ipv6Addr) -> Option<Ipv4Addr> {
    let s = ip.segments();
    let tail =
        |hi: u16, lo: u16| Ipv4Addr::new((hi >> 8) as u8, hi as u8, (lo >> 8) as u8, lo as u8);
    if let Some(v4) = ip.to_ipv4_mapped() {
        return Some(v4);
    }
    if s[0..6] == [0, 0, 0, 0, 0, 0] && !ip.is_loopback() && !ip.is_unspecified() {
        return Some(tail(s[6], s[7])); // IPv4-compatible ::a.b.c.d
    }
    if s[0..6] == [0x64, 0xff9b, 0, 0, 0, 0] {
        return Some(tail(s[6], s[7])); // NAT64
    }
    if s[0] == 0x2002 {
        return Some(tail(s[1], s[2])); // 6to4
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn internal_addresses_are_forbidden_and_public_ones_not() {
        for ip in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "100.100.100.200",
            "0.0.0.0",
            "224.0.0.1",
            "255.255.255.255",
            "::1",
            "::",
            "fe80::1",
            "fd00:ec2::254",
            "fc00::1",
            "ff02::1",
            "::ffff:127.0.0.1",
            "::ffff:169.254.169.254",
            "64:ff9b::a9fe:a9fe",
            "2002:0a00:0001::1",
        ] {
            assert!(
                is_forbidden(ip.parse().unwrap()),
                "{ip} should be forbidden"
            );
        }
        for ip in [
            "93.184.216.34",
            "1.1.1.1",
            "2606:4700:4700::1111",
            "::ffff:8.8.8.8",
        ] {
            assert!(!is_forbidden(ip.parse().unwrap()), "{ip} should be allowed");
        }
    }

    #[tokio::test]
    async fn literals_are_checked_without_resolving() {
        let guard = Guard::new(resolver(None, true), false);
        let err = guard.resolve("127.0.0.1", 80).await.unwrap_err();
        assert!(matches!(err, GuardError::Forbidden { .. }), "{err}");
        let err = guard.resolve("[::1]", 80).await.unwrap_err();
        assert!(matches!(err, GuardError::Forbidden { .. }), "{err}");
        let open = Guard::new(resolver(None, true), true);
        assert_eq!(
            open.resolve("127.0.0.1", 80).await.unwrap(),
            vec!["127.0.0.1:80".parse().unwrap()]
        );
    }
}
