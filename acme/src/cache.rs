//! In-memory answers for SNI names: ready-to-use certificates, and
//! short-lived refusals so a flood of unknown names costs no repeated queries.

use std::collections::{HashMap, HashSet, VecDeque};
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

/// A certificate held for one name.
#[derive(Clone)]
struct Held {
    key: Arc<CertifiedKey>,
    not_after: SystemTime,
    next_check: Instant,
    version: i64,
}

impl Held {
    fn answer(&self) -> Cached {
        Cached::Ready {
            key: self.key.clone(),
            not_after: self.not_after,
            next_check: self.next_check,
            version: self.version,
        }
    }
}

/// A map of names that evicts its oldest name when full, in O(1).
///
/// The queue of names in the order they were added may keep a name that
/// left the map or was added again; such entries are skipped when evicting,
/// and the queue is rebuilt from the map once they outnumber the live ones,
/// so it never outgrows twice the map.
struct Bounded<V> {
    map: HashMap<String, V>,
    order: VecDeque<String>,
}

impl<V> Bounded<V> {
    fn new() -> Self {
        Self {
            map: HashMap::new(),
            order: VecDeque::new(),
        }
    }

    /// Sets `name` to `value`, first evicting the oldest name when the map
    /// holds `capacity` names and `name` is new to it.
    fn put(&mut self, capacity: usize, name: &str, value: V) {
        if !self.map.contains_key(name) {
            if self.map.len() >= capacity {
                self.evict_oldest();
            }
            self.order.push_back(name.to_owned());
        }
        self.map.insert(name.to_owned(), value);
        self.compact();
    }

    fn evict_oldest(&mut self) {
        while let Some(name) = self.order.pop_front() {
            if self.map.remove(&name).is_some() {
                return;
            }
        }
    }

    /// Drops stale queue entries once they outnumber the live ones (amortised O(1) per put).
    fn compact(&mut self) {
        if self.order.len() <= 2 * self.map.len() + 64 {
            return;
        }
        let mut seen = HashSet::with_capacity(self.map.len());
        let map = &self.map;
        self.order
            .retain(|name| map.contains_key(name) && seen.insert(name.clone()));
    }
}

/// Certificates and refusals, apart.
struct Entries {
    ready: Bounded<Held>,
    refused: Bounded<Instant>,
}

/// Bounded maps of name → answer: at most `capacity` certificates and as many
/// refusals, kept apart so that neither kind pushes the other out (a flood of
/// unknown names must not cost tenants their certificates, nor tenants' names
/// leave no room to remember refusals), each evicting its oldest entry.
pub struct CertCache {
    entries: RwLock<Entries>,
    capacity: usize,
}

impl std::fmt::Debug for CertCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "CertCache({} entries)", self.len())
    }
}

impl CertCache {
    /// An empty cache holding at most `capacity` certificates and `capacity` refusals.
    pub fn new(capacity: usize) -> Self {
        Self {
            entries: RwLock::new(Entries {
                ready: Bounded::new(),
                refused: Bounded::new(),
            }),
            capacity: capacity.max(1),
        }
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, Entries> {
        self.entries.read().unwrap_or_else(|p| p.into_inner())
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, Entries> {
        self.entries.write().unwrap_or_else(|p| p.into_inner())
    }

    /// The live answer for `name`: an unexpired certificate, or a current refusal.
    pub fn get(&self, name: &str) -> Option<Cached> {
        let entries = self.read();
        if let Some(held) = entries.ready.map.get(name) {
            return (held.not_after > SystemTime::now()).then(|| held.answer());
        }
        let until = *entries.refused.map.get(name)?;
        (until > Instant::now()).then_some(Cached::Refused { until })
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
        let held = Held {
            key: key.clone(),
            not_after,
            next_check,
            version,
        };
        let mut entries = self.write();
        entries.refused.map.remove(name);
        entries.ready.put(self.capacity, name, held);
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
        if let Some(held) = self.write().ready.map.get_mut(name) {
            held.next_check = next;
        }
    }

    /// Stores a refusal for `ttl`, replacing a certificate held for `name`.
    pub fn insert_refused(&self, name: &str, ttl: Duration) {
        let until = Instant::now() + ttl;
        let mut entries = self.write();
        entries.ready.map.remove(name);
        entries.refused.put(self.capacity, name, until);
    }

    /// Forgets `name` (a certificate was deleted or a domain authorised).
    pub fn remove(&self, name: &str) {
        let mut entries = self.write();
        entries.ready.map.remove(name);
        entries.refused.map.remove(name);
    }

    /// Number of names held.
    pub fn len(&self) -> usize {
        let (ready, refused) = self.counts();
        ready + refused
    }

    /// Certificates and refusals held, counted without listing them.
    pub fn counts(&self) -> (usize, usize) {
        let entries = self.read();
        (entries.ready.map.len(), entries.refused.map.len())
    }

    /// Whether nothing is held.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Every name with its answer, for the admin API.
    pub fn snapshot(&self) -> Vec<(String, Cached)> {
        let entries = self.read();
        let mut all: Vec<_> = entries
            .ready
            .map
            .iter()
            .map(|(name, held)| (name.clone(), held.answer()))
            .chain(
                entries
                    .refused
                    .map
                    .iter()
                    .map(|(name, until)| (name.clone(), Cached::Refused { until: *until })),
            )
            .collect();
        all.sort_by(|a, b| a.0.cmp(&b.0));
        all
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::LocalCa;

    /// The lengths of the eviction queues.
    fn queued(cache: &CertCache) -> (usize, usize) {
        let entries = cache.read();
        (entries.ready.order.len(), entries.refused.order.len())
    }

    fn test_key() -> Arc<CertifiedKey> {
        LocalCa::generate()
            .unwrap()
            .ca
            .issue("t.localhost")
            .unwrap()
    }

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
        assert_eq!(cache.counts().0, 2, "at most two certificates");
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

    #[test]
    fn a_flood_of_refusals_keeps_every_certificate_and_the_newest_refusals() {
        let cache = CertCache::new(3);
        let key = test_key();
        let later = SystemTime::now() + Duration::from_secs(3600);
        for name in ["c1", "c2", "c3"] {
            let k = key.clone();
            cache
                .install(name, 1, later, Instant::now(), move || Ok(k))
                .unwrap();
        }
        for i in 0..10 {
            cache.insert_refused(&format!("r{i}"), Duration::from_secs(60));
        }
        for name in ["c1", "c2", "c3"] {
            assert!(
                matches!(cache.get(name), Some(Cached::Ready { .. })),
                "{name} was pushed out by refusals"
            );
        }
        assert_eq!(cache.counts(), (3, 3));
        for i in 0..7 {
            assert!(
                cache.get(&format!("r{i}")).is_none(),
                "r{i} is among the oldest"
            );
        }
        for i in 7..10 {
            assert!(matches!(
                cache.get(&format!("r{i}")),
                Some(Cached::Refused { .. })
            ));
        }
        // A fourth certificate evicts the oldest certificate, not a refusal.
        let k = key.clone();
        cache
            .install("c4", 1, later, Instant::now(), move || Ok(k))
            .unwrap();
        assert!(cache.get("c1").is_none());
        assert!(cache.get("c4").is_some() && cache.get("c2").is_some());
        assert_eq!(cache.counts(), (3, 3));
    }

    #[test]
    fn a_name_has_one_answer_and_churn_keeps_the_queues_bounded() {
        let cache = CertCache::new(4);
        let key = test_key();
        let later = SystemTime::now() + Duration::from_secs(3600);
        for round in 0..1000_i64 {
            let k = key.clone();
            cache
                .install("x", round, later, Instant::now(), move || Ok(k))
                .unwrap();
            assert!(matches!(cache.get("x"), Some(Cached::Ready { .. })));
            cache.insert_refused("x", Duration::from_secs(60));
            assert!(matches!(cache.get("x"), Some(Cached::Refused { .. })));
            assert_eq!(cache.counts(), (0, 1), "one answer per name");
            if round % 3 == 0 {
                cache.remove("x");
                assert!(cache.is_empty());
            }
            let (ready, refused) = queued(&cache);
            assert!(
                ready <= 64 + 2 && refused <= 64 + 2,
                "queues grew: {ready}, {refused}"
            );
        }
        // Stale queue entries do not make eviction drop a live name early.
        for name in ["a", "b", "c", "d", "e"] {
            cache.insert_refused(name, Duration::from_secs(60));
        }
        assert_eq!(cache.counts().1, 4);
        assert!(cache.get("a").is_none(), "the oldest refusal went");
        assert!(cache.get("e").is_some() && cache.get("b").is_some());
    }
}
