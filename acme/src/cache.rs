//! In-memory answers for SNI names: ready certificates, and short-lived
//! refusals so a flood of unknown names costs no repeated policy queries.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant, SystemTime};

use rustls::sign::CertifiedKey;

/// A cached answer for one name.
#[derive(Clone)]
pub enum Cached {
    /// A certificate to serve.
    Ready {
        /// Chain and key.
        key: Arc<CertifiedKey>,
        /// When it expires.
        not_after: SystemTime,
        /// When it should be replaced.
        renew_after: SystemTime,
    },
    /// The name was refused; ask again after this instant.
    Refused {
        /// End of the refusal.
        until: Instant,
    },
}

/// Bounded map of name → answer.
pub struct CertCache {
    entries: RwLock<HashMap<String, Cached>>,
    capacity: usize,
}

impl std::fmt::Debug for CertCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "CertCache({} entries)", self.len())
    }
}

impl CertCache {
    /// An empty cache holding at most `capacity` names.
    pub fn new(capacity: usize) -> Self {
        Self {
            entries: RwLock::new(HashMap::new()),
            capacity: capacity.max(1),
        }
    }

    /// The live answer for `name`: a certificate not yet due for renewal, or a current refusal.
    pub fn get(&self, name: &str) -> Option<Cached> {
        let entries = self.entries.read().unwrap_or_else(|p| p.into_inner());
        match entries.get(name)? {
            Cached::Ready { renew_after, .. } if *renew_after <= SystemTime::now() => None,
            Cached::Refused { until } if *until <= Instant::now() => None,
            answer => Some(answer.clone()),
        }
    }

    /// A certificate still valid, even if due for renewal (served while renewal fails).
    pub fn get_valid(&self, name: &str) -> Option<Arc<CertifiedKey>> {
        let entries = self.entries.read().unwrap_or_else(|p| p.into_inner());
        match entries.get(name)? {
            Cached::Ready { key, not_after, .. } if *not_after > SystemTime::now() => {
                Some(key.clone())
            }
            _ => None,
        }
    }

    /// Stores a certificate.
    pub fn insert_ready(
        &self,
        name: &str,
        key: Arc<CertifiedKey>,
        not_after: SystemTime,
        renew_after: SystemTime,
    ) {
        self.insert(
            name,
            Cached::Ready {
                key,
                not_after,
                renew_after,
            },
        );
    }

    /// Stores a refusal for `ttl`.
    pub fn insert_refused(&self, name: &str, ttl: Duration) {
        self.insert(
            name,
            Cached::Refused {
                until: Instant::now() + ttl,
            },
        );
    }

    /// Forgets `name` (a certificate was deleted or a domain authorised).
    pub fn remove(&self, name: &str) {
        self.entries
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .remove(name);
    }

    /// Number of names held.
    pub fn len(&self) -> usize {
        self.entries.read().unwrap_or_else(|p| p.into_inner()).len()
    }

    /// Whether nothing is held.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Every name with its answer, for the admin API.
    pub fn snapshot(&self) -> Vec<(String, Cached)> {
        let entries = self.entries.read().unwrap_or_else(|p| p.into_inner());
        let mut all: Vec<_> = entries
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        all.sort_by(|a, b| a.0.cmp(&b.0));
        all
    }

    fn insert(&self, name: &str, answer: Cached) {
        let mut entries = self.entries.write().unwrap_or_else(|p| p.into_inner());
        if entries.len() >= self.capacity && !entries.contains_key(name) {
            let now = Instant::now();
            let wall = SystemTime::now();
            entries.retain(|_, cached| match cached {
                Cached::Refused { until } => *until > now,
                Cached::Ready { not_after, .. } => *not_after > wall,
            });
            // Still full: refusals go first, they are cheap to learn again.
            if entries.len() >= self.capacity {
                let victim = entries
                    .iter()
                    .find(|(_, c)| matches!(c, Cached::Refused { .. }))
                    .or_else(|| entries.iter().next())
                    .map(|(k, _)| k.clone());
                if let Some(victim) = victim {
                    entries.remove(&victim);
                }
            }
        }
        entries.insert(name.to_owned(), answer);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::LocalCa;

    #[test]
    fn refusals_expire_and_capacity_is_kept() {
        let cache = CertCache::new(2);
        cache.insert_refused("a", Duration::from_millis(0));
        assert!(cache.get("a").is_none(), "an expired refusal is no answer");
        cache.insert_refused("b", Duration::from_secs(60));
        assert!(matches!(cache.get("b"), Some(Cached::Refused { .. })));
        let key = LocalCa::generate()
            .unwrap()
            .ca
            .issue("c.localhost")
            .unwrap();
        let later = SystemTime::now() + Duration::from_secs(3600);
        cache.insert_ready("c", key.clone(), later, later);
        cache.insert_ready("d", key, later, later);
        assert!(cache.len() <= 2);
        assert!(matches!(cache.get("d"), Some(Cached::Ready { .. })));
    }
}
