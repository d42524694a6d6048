//! `IpRange`: an address or a CIDR block (`10.0.0.0/8`, `fd00::/8`), so a
//! trusted-proxy list can name a container network whose addresses are not
//! known in advance.

use std::fmt;
use std::net::IpAddr;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A block of addresses: `addr/prefix`, or one address (a full-length prefix).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IpRange {
    network: IpAddr,
    prefix: u8,
}

/// Why a range does not parse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IpRangeError {
    /// The address part is not an IPv4 or IPv6 address.
    #[error("`{0}` is not an IP address or CIDR range (e.g. 10.0.0.0/8)")]
    Address(String),
    /// The prefix is not a number within the address family's length.
    #[error("`{0}`: the prefix length must be 0-32 for IPv4 and 0-128 for IPv6")]
    Prefix(String),
    /// Bits are set below the prefix, which usually means a typo.
    #[error("`{0}` has host bits set; did you mean {1}?")]
    HostBits(String, String),
}

impl IpRange {
    /// True when `ip` lies in the range. IPv4-mapped IPv6 addresses are the
    /// IPv4 peers they stand for: they match IPv4 ranges (and ranges written
    /// as mapped addresses, which parse as IPv4), not other IPv6 ranges.
    pub fn contains(&self, ip: IpAddr) -> bool {
        let ip = match ip {
            IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
            v4 => v4,
        };
        match (self.network, ip) {
            (IpAddr::V4(net), IpAddr::V4(ip)) => {
                masked(u128::from(u32::from(ip)), self.prefix, 32) == u128::from(u32::from(net))
            }
            (IpAddr::V6(net), IpAddr::V6(ip)) => {
                masked(u128::from(ip), self.prefix, 128) == u128::from(net)
            }
            _ => false,
        }
    }
}

/// `value` with every bit past `prefix` (of `bits`) cleared.
fn masked(value: u128, prefix: u8, bits: u8) -> u128 {
    if prefix == 0 {
        return 0;
    }
    let keep = u32::from(bits - prefix);
    (value >> keep) << keep
}

impl FromStr for IpRange {
    type Err = IpRangeError;

    fn from_str(raw: &str) -> Result<Self, Self::Err> {
        let raw = raw.trim();
        let (addr, prefix) = match raw.split_once('/') {
            Some((addr, prefix)) => (addr, Some(prefix)),
            None => (raw, None),
        };
        let network: IpAddr = addr
            .parse()
            .map_err(|_| IpRangeError::Address(raw.to_owned()))?;
        let bits = if network.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            None => bits,
            Some(p) => p
                .parse::<u8>()
                .ok()
                .filter(|p| *p <= bits)
                .ok_or_else(|| IpRangeError::Prefix(raw.to_owned()))?,
        };
        let value = match network {
            IpAddr::V4(v4) => u128::from(u32::from(v4)),
            IpAddr::V6(v6) => u128::from(v6),
        };
        let clean = masked(value, prefix, bits);
        if clean != value {
            let fixed = match network {
                IpAddr::V4(_) => IpAddr::V4(std::net::Ipv4Addr::from(
                    u32::try_from(clean).map_err(|_| IpRangeError::Address(raw.to_owned()))?,
                )),
                IpAddr::V6(_) => IpAddr::V6(std::net::Ipv6Addr::from(clean)),
            };
            return Err(IpRangeError::HostBits(
                raw.to_owned(),
                format!("{fixed}/{prefix}"),
            ));
        }
        // `::ffff:10.0.0.1` names the IPv4 peer a dual-stack socket reports
        // that way; peers are compared in their IPv4 form, so the range is too.
        if let IpAddr::V6(v6) = network
            && let Some(v4) = v6.to_ipv4_mapped()
            && prefix >= 96
        {
            return Ok(Self {
                network: IpAddr::V4(v4),
                prefix: prefix - 96,
            });
        }
        Ok(Self { network, prefix })
    }
}

impl fmt::Display for IpRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let full = if self.network.is_ipv4() { 32 } else { 128 };
        if self.prefix == full {
            write!(f, "{}", self.network)
        } else {
            write!(f, "{}/{}", self.network, self.prefix)
        }
    }
}

impl Serialize for IpRange {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for IpRange {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let raw = String::deserialize(deserializer)?;
        raw.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn range(s: &str) -> IpRange {
        s.parse().unwrap()
    }

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn blocks_and_single_addresses() {
        assert!(range("10.0.0.0/8").contains(ip("10.200.3.4")));
        assert!(!range("10.0.0.0/8").contains(ip("11.0.0.1")));
        assert!(range("172.16.0.0/12").contains(ip("172.31.255.255")));
        assert!(!range("172.16.0.0/12").contains(ip("172.32.0.0")));
        assert!(range("192.0.2.7").contains(ip("192.0.2.7")));
        assert!(!range("192.0.2.7").contains(ip("192.0.2.8")));
        assert!(range("0.0.0.0/0").contains(ip("203.0.113.1")));
        assert!(range("fd00::/8").contains(ip("fd12::1")));
        assert!(!range("fd00::/8").contains(ip("fe80::1")));
        // A v4 peer seen through a dual-stack socket.
        assert!(range("10.0.0.0/8").contains(ip("::ffff:10.1.2.3")));
        assert!(!range("10.0.0.0/8").contains(ip("fd00::1")));
        assert_eq!(range("10.0.0.0/8").to_string(), "10.0.0.0/8");
        assert_eq!(range("192.0.2.7/32").to_string(), "192.0.2.7");
    }

    #[test]
    fn bad_ranges_name_the_problem() {
        assert_eq!(
            "10.0.0.0/33".parse::<IpRange>(),
            Err(IpRangeError::Prefix("10.0.0.0/33".to_owned()))
        );
        assert_eq!(
            "proxy.local".parse::<IpRange>(),
            Err(IpRangeError::Address("proxy.local".to_owned()))
        );
        assert_eq!(
            "10.0.0.0/x".parse::<IpRange>(),
            Err(IpRangeError::Prefix("10.0.0.0/x".to_owned()))
        );
        let err = "10.1.2.3/8".parse::<IpRange>().unwrap_err();
        assert_eq!(
            err.to_string(),
            "`10.1.2.3/8` has host bits set; did you mean 10.0.0.0/8?"
        );
    }

    /// Found by `networks_round_trip_and_contain_their_addresses`: a range
    /// written as a mapped address (as a dual-stack socket shows an IPv4
    /// peer) matched nothing, since peers are compared in their IPv4 form.
    #[test]
    fn a_mapped_address_range_matches_the_mapped_peer() {
        assert!(range("::ffff:172.17.0.1").contains(ip("::ffff:172.17.0.1")));
        assert!(range("::ffff:172.17.0.1").contains(ip("172.17.0.1")));
        assert!(range("::ffff:10.0.0.0/104").contains(ip("10.9.8.7")));
        assert_eq!(range("::ffff:10.0.0.0/104").to_string(), "10.0.0.0/8");
        assert!(!range("::/0").contains(ip("::ffff:10.0.0.1")));
    }

    mod properties {
        use std::net::{Ipv4Addr, Ipv6Addr};

        use proptest::prelude::*;

        use super::*;

        /// `ip` with every bit past `prefix` cleared.
        fn network(ip: IpAddr, prefix: u8) -> IpAddr {
            match ip {
                IpAddr::V4(v4) => IpAddr::V4(Ipv4Addr::from(
                    u32::from(v4) & u32::MAX.checked_shl(32 - u32::from(prefix)).unwrap_or(0),
                )),
                IpAddr::V6(v6) => IpAddr::V6(Ipv6Addr::from(
                    u128::from(v6) & u128::MAX.checked_shl(128 - u32::from(prefix)).unwrap_or(0),
                )),
            }
        }

        fn ip_and_prefix() -> impl Strategy<Value = (IpAddr, u8)> {
            any::<IpAddr>().prop_flat_map(|ip| {
                let bits: u8 = if ip.is_ipv4() { 32 } else { 128 };
                (Just(ip), 0..=bits)
            })
        }

        proptest! {
            #![proptest_config(ProptestConfig::with_cases(4096))]

            /// Any text: no panic; an accepted range prints as something that
            /// parses back to it, and a host-bits refusal suggests a range
            /// that parses.
            #[test]
            fn arbitrary_text_is_a_range_or_a_named_problem(raw in "\\PC{0,50}|[0-9a-fA-F.:/ %\\[\\]]{0,50}") {
                match raw.parse::<IpRange>() {
                    Ok(range) => prop_assert_eq!(range.to_string().parse::<IpRange>(), Ok(range)),
                    Err(IpRangeError::HostBits(given, fixed)) => {
                        prop_assert_eq!(given, raw.trim());
                        prop_assert!(fixed.parse::<IpRange>().is_ok(), "{}", fixed);
                    }
                    Err(IpRangeError::Address(given) | IpRangeError::Prefix(given)) => {
                        prop_assert_eq!(given, raw.trim());
                    }
                }
            }

            /// Every network/prefix round-trips through its text and contains
            /// exactly the addresses that share its prefix.
            #[test]
            fn networks_round_trip_and_contain_their_addresses((ip, prefix) in ip_and_prefix(), probe in any::<IpAddr>()) {
                let net = network(ip, prefix);
                let range: IpRange = format!("{net}/{prefix}").parse().unwrap();
                prop_assert_eq!(range.to_string().parse::<IpRange>(), Ok(range));
                // Mapped addresses are their IPv4 selves, in ranges of 96 bits or more too.
                let v4 = |ip: IpAddr| match ip {
                    IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
                    v4 => v4,
                };
                let (base, bits) = match ip {
                    IpAddr::V6(_) if prefix >= 96 && v4(ip).is_ipv4() => (v4(ip), prefix - 96),
                    _ => (ip, prefix),
                };
                for probe in [ip, probe] {
                    let probe = v4(probe);
                    let inside = probe.is_ipv4() == base.is_ipv4() && network(probe, bits) == network(base, bits);
                    prop_assert_eq!(range.contains(probe), inside, "{} in {}", probe, range);
                }
                if net != ip {
                    let refused = format!("{ip}/{prefix}").parse::<IpRange>();
                    prop_assert_eq!(
                        refused,
                        Err(IpRangeError::HostBits(format!("{ip}/{prefix}"), format!("{net}/{prefix}")))
                    );
                }
            }
        }
    }
}
