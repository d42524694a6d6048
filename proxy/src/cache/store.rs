//! A memory store for Pingora's cache: whole answers in a hash map, bounded
//! in bytes by Pingora's sharded LRU eviction manager.
//!
//! Pingora's bundled `MemCache` is marked "for testing only": it has no size
//! bound, copies the body on every hit and ignores entry ids, so an eviction
//! decided for an old answer could delete its fresh replacement. Here each
//! stored answer gets an id; the LRU (`pingora_cache::eviction::lru`) weighs
//! every entry by all the bytes it holds (headers, body, coded forms) and an
//! eviction or purge removes exactly the entry it names. Bodies are
//! reference-counted `Bytes`, so a hit copies nothing.
//!
//! Nothing expires by age here: an entry stays until the LRU needs its room
//! or it is purged, so a stale answer remains available for
//! `stale-if-error` (24 h and more) while the app is down. Pingora decides
//! freshness from the stored metadata on every lookup; the edge answers a
//! plain GET for a still-fresh entry itself, from the parts of that metadata
//! kept parsed beside it ([`Freshness`]), without the cache phases.
//!
//! Writes are not streamed to concurrent readers: the cache lock makes them
//! wait for the one upstream answer, which the status pages keep small.

use std::any::Any;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock, RwLockReadGuard, RwLockWriteGuard};
use std::time::SystemTime;

use async_trait::async_trait;
use bytes::{Bytes, BytesMut};
use pingora_cache::eviction::{CacheEntryId, CacheEntryKey, CacheEntryKeyRef, EvictionManager};
use pingora_cache::key::{CacheHashKey, CompactCacheKey, HashBinary};
use pingora_cache::storage::{
    HandleHit, HandleMiss, HitHandler, MissFinishType, MissHandler, PurgeOutcome, PurgeTarget,
    PurgeType,
};
use pingora_cache::trace::SpanHandle;
use pingora_cache::{CacheKey, CacheMeta, Storage};
use pingora_core::{Error, ErrorType, Result};
use pingora_http::ResponseHeader;

use crate::encoding::{Coding, Effort, Variants};

/// One stored answer.
#[derive(Debug)]
pub struct Entry {
    id: u64,
    key: CompactCacheKey,
    meta: (Vec<u8>, Vec<u8>),
    /// What a fresh hit needs of the metadata, parsed once when stored
    /// instead of deserialized on every hit.
    pub fresh: Freshness,
    /// Identity body.
    pub body: Bytes,
    /// Coded forms made when stored.
    pub variants: Variants,
    // The second of the last `touch` that reached the LRU.
    touched_secs: AtomicU64,
}

/// The parts of Pingora's `CacheMeta` that answering a fresh hit reads.
#[derive(Debug, Clone)]
pub struct Freshness {
    /// Fresh until then (Pingora computed it from `s-maxage` when storing).
    pub fresh_until: SystemTime,
    /// Seconds past `fresh_until` it may be served stale when the app fails.
    pub stale_if_error_sec: u32,
    /// What the answer's age counts from (stored or last revalidated).
    pub epoch: SystemTime,
    /// The stored response header.
    pub header: ResponseHeader,
}

impl Freshness {
    /// Whether it may be served stale at `now` when the app fails, as
    /// `CacheMeta::serve_stale_if_error` reads it (an overflow is "for ever").
    pub fn serve_stale_if_error(&self, now: SystemTime) -> bool {
        self.fresh_until
            .checked_add(std::time::Duration::from_secs(
                self.stale_if_error_sec.into(),
            ))
            .is_none_or(|until| until >= now)
    }

    fn of(meta: &CacheMeta) -> Self {
        Self {
            fresh_until: meta.fresh_until(),
            stale_if_error_sec: meta.stale_if_error_sec(),
            epoch: meta.epoch(),
            header: meta.response_header_copy(),
        }
    }
}

impl Entry {
    /// Bytes this entry holds (what the LRU weighs it by); the parsed header
    /// is counted as its serialized size again.
    pub fn weight(&self) -> usize {
        self.meta.0.len()
            + 2 * self.meta.1.len()
            + self.body.len()
            + self.variants.bytes()
            + self.key.user_tag.len()
            + 160
    }

    /// The host the answer was for (the key's user tag).
    pub fn host(&self) -> &str {
        &self.key.user_tag
    }

    /// Tells the LRU this entry was used, as Pingora does on its own hits, at
    /// most once a second (`now_secs`): the order among entries used within
    /// the same second does not matter for evicting, and telling it costs a
    /// key copy and a lock on every hit otherwise.
    pub fn touch(&self, eviction: &(dyn EvictionManager + Sync), now_secs: u64) {
        if self.touched_secs.swap(now_secs, Ordering::Relaxed) == now_secs {
            return;
        }
        let key = CacheEntryKey::from_entry_id(self.key.clone(), Some(CacheEntryId::new(self.id)));
        eviction.access(&key, self.weight(), self.fresh.fresh_until);
    }
}

/// The store (one per process: Pingora wants `&'static` storage).
pub struct MemoryStore {
    entries: RwLock<HashMap<HashBinary, Arc<Entry>>>,
    next_id: AtomicU64,
    eviction: &'static (dyn EvictionManager + Sync),
}

impl std::fmt::Debug for MemoryStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MemoryStore")
            .field("entries", &self.len())
            .finish()
    }
}

fn combined(key: &impl CacheHashKey) -> HashBinary {
    key.combined_bin()
}

impl MemoryStore {
    /// A store whose entries `eviction` weighs.
    pub fn new(eviction: &'static (dyn EvictionManager + Sync)) -> Self {
        Self {
            entries: RwLock::new(HashMap::new()),
            next_id: AtomicU64::new(1),
            eviction,
        }
    }

    fn read(&self) -> RwLockReadGuard<'_, HashMap<HashBinary, Arc<Entry>>> {
        // A panic while holding the lock leaves the map itself consistent.
        self.entries
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn write(&self) -> RwLockWriteGuard<'_, HashMap<HashBinary, Arc<Entry>>> {
        self.entries
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Number of stored answers.
    pub fn len(&self) -> usize {
        self.read().len()
    }

    /// Whether nothing is stored.
    pub fn is_empty(&self) -> bool {
        self.read().is_empty()
    }

    /// Removes every answer stored for `host`; returns how many.
    pub fn purge_host(&self, host: &str) -> usize {
        let removed: Vec<Arc<Entry>> = {
            let mut entries = self.write();
            let keys: Vec<HashBinary> = entries
                .iter()
                .filter(|(_, e)| e.host() == host)
                .map(|(k, _)| *k)
                .collect();
            keys.iter().filter_map(|k| entries.remove(k)).collect()
        };
        for entry in &removed {
            self.eviction.remove(CacheEntryKeyRef::Identified {
                key: &entry.key,
                id: CacheEntryId::new(entry.id),
            });
        }
        removed.len()
    }

    /// The stored entry for `key`, if any.
    pub fn get(&self, key: &CacheKey) -> Option<Arc<Entry>> {
        self.read().get(&combined(key)).cloned()
    }

    fn remove_target(&self, target: PurgeTarget<'_>) -> PurgeOutcome {
        let hash = combined(target.key());
        let mut entries = self.write();
        let matches = entries.get(&hash).is_some_and(|entry| match target {
            PurgeTarget::Active(_) => true,
            PurgeTarget::Exact(exact) => exact.entry_id().is_none_or(|id| id.get() == entry.id),
        });
        if !matches {
            return PurgeOutcome::NotFound;
        }
        match entries.remove(&hash) {
            Some(entry) => PurgeOutcome::Purged(Some(CacheEntryId::new(entry.id))),
            None => PurgeOutcome::NotFound,
        }
    }
}

/// Reads one stored answer: the identity body or one coded form.
#[derive(Debug)]
pub struct Hit {
    /// The stored entry.
    pub entry: Arc<Entry>,
    /// The form to send; `None` is identity.
    pub coding: Option<Coding>,
    range: Option<(usize, usize)>,
    done: bool,
}

impl Hit {
    /// Sends the coded form `coding` instead of the identity body.
    pub fn select(&mut self, coding: Option<Coding>) {
        self.coding = coding.filter(|c| self.entry.variants.get(*c).is_some());
    }

    fn body(&self) -> &Bytes {
        self.coding
            .and_then(|c| self.entry.variants.get(c))
            .unwrap_or(&self.entry.body)
    }
}

#[async_trait]
impl HandleHit for Hit {
    async fn read_body(&mut self) -> Result<Option<Bytes>> {
        if self.done {
            return Ok(None);
        }
        self.done = true;
        let body = self.body();
        Ok(Some(match self.range {
            Some((start, end)) => body.slice(start..end.min(body.len())),
            None => body.clone(),
        }))
    }

    async fn finish(
        self: Box<Self>,
        _storage: &'static (dyn Storage + Sync),
        _key: &CacheKey,
        _trace: &SpanHandle,
    ) -> Result<()> {
        Ok(())
    }

    fn can_seek(&self) -> bool {
        // Ranges are of the identity body only.
        self.coding.is_none()
    }

    fn seek(&mut self, start: usize, end: Option<usize>) -> Result<()> {
        let len = self.body().len();
        if start >= len {
            return Error::e_explain(ErrorType::InternalError, "seek past the end of the body");
        }
        self.range = Some((start, end.unwrap_or(len).min(len)));
        self.done = false;
        Ok(())
    }

    fn get_eviction_weight(&self) -> usize {
        self.entry.weight()
    }

    fn entry_id(&self) -> Option<CacheEntryId> {
        Some(CacheEntryId::new(self.entry.id))
    }

    fn as_any(&self) -> &(dyn Any + Send + Sync) {
        self
    }

    fn as_any_mut(&mut self) -> &mut (dyn Any + Send + Sync) {
        self
    }
}

/// Collects one upstream answer and stores it whole when it ends.
struct Fill {
    store: &'static MemoryStore,
    id: u64,
    key: CompactCacheKey,
    meta: (Vec<u8>, Vec<u8>),
    fresh: Freshness,
    content_type: String,
    body: BytesMut,
}

#[async_trait]
impl HandleMiss for Fill {
    async fn write_body(&mut self, data: Bytes, _eof: bool) -> Result<()> {
        self.body.extend_from_slice(&data);
        Ok(())
    }

    async fn finish(self: Box<Self>) -> Result<MissFinishType> {
        let body = self.body.freeze();
        // Compressed once here, so every hit in a coding costs a lookup, not a
        // compression; on a blocking thread, so other connections go on meanwhile.
        let (coded, content_type) = (body.clone(), self.content_type);
        let variants = tokio::task::spawn_blocking(move || {
            Variants::build(&coded, &content_type, Effort::Fast)
        })
        .await
        .unwrap_or_default();
        let entry = Entry {
            id: self.id,
            key: self.key,
            meta: self.meta,
            fresh: self.fresh,
            body,
            variants,
            touched_secs: AtomicU64::new(0),
        };
        let weight = entry.weight();
        let hash = combined(&entry.key);
        let replaced = self.store.write().insert(hash, Arc::new(entry));
        if let Some(old) = replaced {
            // The old answer leaves the LRU with the map; Pingora admits the new one.
            self.store.eviction.remove(CacheEntryKeyRef::Identified {
                key: &old.key,
                id: CacheEntryId::new(old.id),
            });
        }
        Ok(MissFinishType::Created(weight))
    }

    fn entry_id(&self) -> Option<CacheEntryId> {
        Some(CacheEntryId::new(self.id))
    }
}

#[async_trait]
impl Storage for MemoryStore {
    async fn lookup(
        &'static self,
        key: &CacheKey,
        _trace: &SpanHandle,
    ) -> Result<Option<(CacheMeta, HitHandler)>> {
        let Some(entry) = self.get(key) else {
            return Ok(None);
        };
        let meta = CacheMeta::deserialize(&entry.meta.0, &entry.meta.1)?;
        let hit = Hit {
            entry,
            coding: None,
            range: None,
            done: false,
        };
        Ok(Some((meta, Box::new(hit))))
    }

    async fn get_miss_handler(
        &'static self,
        key: &CacheKey,
        meta: &CacheMeta,
        _trace: &SpanHandle,
    ) -> Result<MissHandler> {
        // An answer the app already coded is stored as it is, with no forms of its own.
        let content_type = if meta.headers().contains_key(http::header::CONTENT_ENCODING) {
            String::new()
        } else {
            meta.headers()
                .get(http::header::CONTENT_TYPE)
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default()
                .to_owned()
        };
        Ok(Box::new(Fill {
            store: self,
            id: self.next_id.fetch_add(1, Ordering::Relaxed),
            key: key.to_compact(),
            meta: meta.serialize()?,
            fresh: Freshness::of(meta),
            content_type,
            body: BytesMut::new(),
        }))
    }

    async fn purge(
        &'static self,
        target: PurgeTarget<'_>,
        _purge_type: PurgeType,
        _trace: &SpanHandle,
    ) -> Result<PurgeOutcome> {
        Ok(self.remove_target(target))
    }

    async fn expire(
        &'static self,
        target: PurgeTarget<'_>,
        _trace: &SpanHandle,
    ) -> Result<PurgeOutcome> {
        let hash = combined(target.key());
        let mut entries = self.write();
        let Some(entry) = entries.get(&hash) else {
            return Ok(PurgeOutcome::NotFound);
        };
        if let PurgeTarget::Exact(exact) = target
            && exact.entry_id().is_some_and(|id| id.get() != entry.id)
        {
            return Ok(PurgeOutcome::NotFound);
        }
        let mut meta = CacheMeta::deserialize(&entry.meta.0, &entry.meta.1)?;
        meta.expire_at(SystemTime::now());
        let replaced = Entry {
            id: entry.id,
            key: entry.key.clone(),
            meta: meta.serialize()?,
            fresh: Freshness::of(&meta),
            body: entry.body.clone(),
            variants: entry.variants.clone(),
            touched_secs: AtomicU64::new(0),
        };
        entries.insert(hash, Arc::new(replaced));
        Ok(PurgeOutcome::Expired)
    }

    async fn update_meta(
        &'static self,
        key: &CacheKey,
        meta: &CacheMeta,
        _trace: &SpanHandle,
    ) -> Result<bool> {
        // A revalidation (304) refreshes the headers and freshness; the body stays.
        let hash = combined(key);
        let mut entries = self.write();
        let Some(entry) = entries.get(&hash) else {
            return Ok(false);
        };
        let replaced = Entry {
            id: entry.id,
            key: entry.key.clone(),
            meta: meta.serialize()?,
            fresh: Freshness::of(meta),
            body: entry.body.clone(),
            variants: entry.variants.clone(),
            touched_secs: AtomicU64::new(0),
        };
        entries.insert(hash, Arc::new(replaced));
        Ok(true)
    }

    fn as_any(&self) -> &(dyn Any + Send + Sync + 'static) {
        self
    }
}

/// How Pingora names an entry to the LRU (the tests admit entries as it does).
#[cfg(test)]
fn entry_key(key: &CacheKey, id: Option<CacheEntryId>) -> pingora_cache::eviction::CacheEntryKey {
    pingora_cache::eviction::CacheEntryKey::from_entry_id(key.to_compact(), id)
}

#[cfg(test)]
mod tests {
    use pingora_cache::eviction::lru::Manager;
    use pingora_cache::trace::Span;

    use super::*;

    fn meta(content_type: &str) -> CacheMeta {
        let mut header = ResponseHeader::build(200, None).unwrap();
        header.insert_header("content-type", content_type).unwrap();
        let now = SystemTime::now();
        CacheMeta::new(
            now + std::time::Duration::from_secs(10),
            now,
            30,
            86_400,
            header,
        )
    }

    fn store(limit: usize) -> &'static MemoryStore {
        let lru: &'static Manager<1> = Box::leak(Box::new(Manager::with_capacity(limit, 64)));
        Box::leak(Box::new(MemoryStore::new(lru)))
    }

    async fn fill(
        store: &'static MemoryStore,
        key: &CacheKey,
        body: &str,
    ) -> (usize, Option<CacheEntryId>) {
        let span = Span::inactive().handle();
        let mut miss = store
            .get_miss_handler(key, &meta("text/html"), &span)
            .await
            .unwrap();
        miss.write_body(Bytes::copy_from_slice(body.as_bytes()), true)
            .await
            .unwrap();
        let id = miss.entry_id();
        match miss.finish().await.unwrap() {
            MissFinishType::Created(size) => (size, id),
            MissFinishType::Appended(..) => panic!("whole answers only"),
        }
    }

    #[tokio::test]
    async fn stored_answers_come_back_with_their_forms() {
        let store = store(1 << 20);
        let span = Span::inactive().handle();
        let key = CacheKey::new("a.example/status/", "a.example");
        assert!(store.lookup(&key, &span).await.unwrap().is_none());
        let page = "<p>operational</p>".repeat(100);
        fill(store, &key, &page).await;
        let (meta, mut hit) = store.lookup(&key, &span).await.unwrap().unwrap();
        assert!(meta.is_fresh(SystemTime::now()));
        assert_eq!(hit.read_body().await.unwrap().unwrap(), page.as_bytes());
        assert!(hit.read_body().await.unwrap().is_none());
        let hit = hit.as_any_mut().downcast_mut::<Hit>().unwrap();
        hit.select(Some(Coding::Gzip));
        hit.done = false;
        assert!(hit.read_body().await.unwrap().unwrap().len() < page.len());
        assert!(!hit.can_seek(), "coded forms are not ranged");
    }

    #[tokio::test]
    async fn eviction_of_an_old_entry_spares_its_replacement() {
        let store = store(1 << 20);
        let span = Span::inactive().handle();
        let key = CacheKey::new("a.example/x", "a.example");
        let (_, old_id) = fill(store, &key, "old").await;
        fill(store, &key, "new").await;
        let outcome = store
            .purge(
                PurgeTarget::Exact(&entry_key(&key, old_id)),
                PurgeType::Eviction,
                &span,
            )
            .await
            .unwrap();
        assert_eq!(outcome, PurgeOutcome::NotFound);
        let (_, mut hit) = store.lookup(&key, &span).await.unwrap().unwrap();
        assert_eq!(hit.read_body().await.unwrap().unwrap(), "new");
    }

    #[tokio::test]
    async fn the_lru_keeps_the_store_within_its_bytes() {
        let limit = 4096;
        let lru: &'static Manager<1> = Box::leak(Box::new(Manager::with_capacity(limit, 64)));
        let store: &'static MemoryStore = Box::leak(Box::new(MemoryStore::new(lru)));
        let span = Span::inactive().handle();
        for i in 0..20 {
            let key = CacheKey::new(format!("h/{i}"), "h");
            let (size, id) = fill(store, &key, &"x".repeat(500)).await;
            // What Pingora does when a miss finishes.
            for gone in lru.admit(entry_key(&key, id), size, SystemTime::now()) {
                store
                    .purge(PurgeTarget::Exact(&gone), PurgeType::Eviction, &span)
                    .await
                    .unwrap();
            }
        }
        assert!(lru.total_size() <= limit, "{}", lru.total_size());
        assert!(store.len() < 20 && !store.is_empty());
        let newest = CacheKey::new("h/19", "h");
        assert!(store.get(&newest).is_some(), "least recently used go first");
        let before = store.len();
        assert_eq!(store.purge_host("other"), 0);
        assert_eq!(store.purge_host("h"), before);
        assert!(store.is_empty());
    }
}
