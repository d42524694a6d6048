//! Open connections per client address, so that one address (an IPv4
//! address, or an IPv6 /64, which one host is given whole) cannot take every
//! place of `edge.max_connections` and lock everyone else out.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex, PoisonError};

/// Counts open connections by client address, up to a limit each.
#[derive(Debug)]
pub struct AddressLimit {
    limit: usize,
    open: Mutex<HashMap<u128, usize>>,
}

/// One open connection's place; dropping it frees the place.
#[derive(Debug)]
pub struct AddressPlace {
    owner: Arc<AddressLimit>,
    key: u128,
}

/// The address a connection is counted under: IPv4 (also when mapped into
/// IPv6 by a dual-stack socket) as it is, IPv6 by its /64.
fn key(ip: IpAddr) -> u128 {
    match ip {
        IpAddr::V4(v4) => u128::from(v4.to_ipv6_mapped()),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => u128::from(v4.to_ipv6_mapped()),
            None => u128::from(v6) & !(u128::MAX >> 64),
        },
    }
}

impl AddressLimit {
    /// At most `limit` connections open at once per address.
    pub fn new(limit: usize) -> Arc<Self> {
        Arc::new(Self {
            limit,
            open: Mutex::new(HashMap::new()),
        })
    }

    /// A place for a new connection from `ip`, or `None` when that address
    /// has `limit` open already.
    pub fn try_take(self: &Arc<Self>, ip: IpAddr) -> Option<AddressPlace> {
        let key = key(ip);
        let mut open = self.open.lock().unwrap_or_else(PoisonError::into_inner);
        let count = open.entry(key).or_insert(0);
        if *count >= self.limit {
            return None;
        }
        *count += 1;
        Some(AddressPlace {
            owner: Arc::clone(self),
            key,
        })
    }

    /// Addresses with a connection open now.
    pub fn addresses(&self) -> usize {
        self.open
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .len()
    }
}

impl Drop for AddressPlace {
    fn drop(&mut self) {
        let mut open = self
            .owner
            .open
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        // Addresses with nothing open are forgotten: the map holds only
        // addresses connected now, however many have come and gone.
        if let Some(count) = open.get_mut(&self.key) {
            *count -= 1;
            if *count == 0 {
                open.remove(&self.key);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn each_address_gets_its_limit_and_closed_connections_free_theirs() {
        let limit = AddressLimit::new(2);
        let a = [
            limit.try_take(ip("203.0.113.7")),
            limit.try_take(ip("203.0.113.7")),
        ];
        assert!(a.iter().all(Option::is_some));
        assert!(limit.try_take(ip("203.0.113.7")).is_none());
        // Another address is not affected.
        let b = limit.try_take(ip("203.0.113.8"));
        assert!(b.is_some());
        assert_eq!(limit.addresses(), 2);
        drop(a);
        assert!(limit.try_take(ip("203.0.113.7")).is_some());
        drop(b);
        assert_eq!(
            limit.addresses(),
            0,
            "addresses with nothing open are forgotten"
        );
    }

    #[test]
    fn an_ipv6_slash_64_is_one_address_and_mapped_ipv4_is_ipv4() {
        let limit = AddressLimit::new(1);
        let held = limit.try_take(ip("2001:db8:1:2::1"));
        assert!(held.is_some());
        assert!(limit.try_take(ip("2001:db8:1:2:ffff::9")).is_none());
        assert!(limit.try_take(ip("2001:db8:1:3::1")).is_some());
        let v4 = limit.try_take(ip("198.51.100.1"));
        assert!(v4.is_some());
        assert!(limit.try_take(ip("::ffff:198.51.100.1")).is_none());
    }
}
