//! In-memory answers for SNI names: ready-to-use certificates, and
//! short-lived refusals so a flood of unknown names costs no repeated queries.

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
        /// When it expires: past this it is never served.
        not_after: SystemTime,
        /// When to look again (authorisation re-check, renewal): the
        /// certificate is still served meanwhile.
        next_check: Instant,
        /// `updated_ms` of the stored certificate it was opened from.
        version: i64,
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

    /// The live answer for `name`: an unexpired certificate, or a current refusal.
    pub fn get(&self, name: &str) -> Option<Cached> {
        let entries = self.entries.read().unwrap_or_else(|p| p.into_inner());
        match entries.get(name)? {
            Cached::Ready { not_after, .. } if *not_after <= SystemTime::now() => None,
            Cached::Refused { until } if *until <= Instant::now() => None,
            answer => Some(answer.clone()),
        }
    }

    /// A certificate still valid (served while the policy or store is down).
    pub fn get_valid(&self, name: &str) -> Option<Arc<CertifiedKey>> {
        match self.get(name)? {
            Cached::Ready { key, .. } => Some(key),
            Cached::Refused { .. } => None,
        }
    }

    /// The key for `name` opened from stored `version`, to be looked at
    /// again at `next_check`: the key already held when it came from that
    /// version (only its next look moves), else `open()`'s, which replaces
    /// whatever was held. Opening (decrypting, parsing) runs outside the lock.
    pub fn install(
        &self,
        name: &str,
        version: i64,
        not_after: SystemTime,
        next_check: Instant,
        open: impl FnOnce() -> crate::Result<Arc<CertifiedKey>>,
    ) -> crate::Result<Arc<CertifiedKey>> {
        if let Some(key) = self.held(name, version) {
            self.postpone(name, next_check);
            return Ok(key);
        }
        let key = open()?;
        self.insert(
            name,
            Cached::Ready {
                key: key.clone(),
                not_after,
                next_check,
                version,
            },
        );
        Ok(key)
    }

    /// The key held for `name` if it was opened from stored `version`.
    fn held(&self, name: &str, version: i64) -> Option<Arc<CertifiedKey>> {
        match self.get(name)? {
            Cached::Ready {
                key, version: v, ..
            } if v == version => Some(key),
            _ => None,
        }
    }

    /// Moves the next look at `name` to `next_check` (after a check that changed nothing).
    pub fn postpone(&self, name: &str, next: Instant) {
        let mut entries = self.entries.write().unwrap_or_else(|p| p.into_inner());
        if let Some(Cached::Ready { next_check, .. }) = entries.get_mut(name) {
            *next_check = next;
        }
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
            // Still full: refusals go first, they are cheap to learn again;
            // an evicted certificate is reloaded from the store on demand.
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
        let now = Instant::now();
        let opened = |k: &Arc<CertifiedKey>| {
            let k = k.clone();
            move || Ok(k)
        };
        cache.install("c", 1, later, now, opened(&key)).unwrap();
        cache.install("d", 1, later, now, opened(&key)).unwrap();
        assert!(cache.len() <= 2);
        assert!(matches!(cache.get("d"), Some(Cached::Ready { .. })));
        // The same stored version: nothing is opened again, only the next look moves.
        let next = now + Duration::from_secs(60);
        let held = cache
            .install("d", 1, later, next, || unreachable!("opened twice"))
            .unwrap();
        assert!(Arc::ptr_eq(&held, &key));
        assert!(
            matches!(cache.get("d"), Some(Cached::Ready { next_check, .. }) if next_check == next)
        );
        // Another version is opened; a failure to open leaves the held key alone.
        let failed = cache.install("d", 2, later, now, || {
            Err(crate::Error::Seal("wrong secret".into()))
        });
        assert!(failed.is_err());
        assert!(cache.get("d").is_some());
        let past = SystemTime::now() - Duration::from_secs(1);
        cache.install("e", 1, past, now, opened(&key)).unwrap();
        assert!(
            cache.get("e").is_none(),
            "an expired certificate is never served"
        );
    }
}
