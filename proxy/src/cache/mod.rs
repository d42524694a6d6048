//! The edge's HTTP cache of app answers (status pages, their JSON, feeds and
//! badges), built on Pingora's cache: RFC 9111 freshness, RFC 5861
//! `stale-while-revalidate` and `stale-if-error`, and its cache lock, so many
//! requests for a cold or expired page make one request to the app.
//!
//! What may be stored is deliberately narrower than RFC 9111 allows: only
//! answers the app marks `public` with an `s-maxage`, never one with
//! `Set-Cookie`, `private`, `no-store` or `no-cache`, and only for requests
//! without credentials (no `Authorization`, no session cookie), which bypass
//! the cache entirely. The key is host, scheme, path and query.
//!
//! A fresh hit for a plain GET (no conditions, no range), and a stale one
//! within `stale-if-error` while no app node is healthy, is answered in the
//! edge's request filter straight from the store, as a static file is
//! (`edge::answer_from_store`): Pingora's phases cost about a quarter of the
//! request against the static path (bench/status). Everything else goes
//! through them.

pub mod store;

use std::time::Duration;

use pingora_cache::cache_control::CacheControl;
use pingora_cache::eviction::lru::Manager;
use pingora_cache::filters::resp_cacheable;
use pingora_cache::lock::{CacheKeyLockImpl, CacheLock};
use pingora_cache::{CacheKey, CacheMeta, CacheMetaDefaults, NoCacheReason, RespCacheable};
use pingora_http::{RequestHeader, ResponseHeader};

pub use store::MemoryStore;

/// Shards of the LRU: evictions lock one shard, not the whole cache.
const LRU_SHARDS: usize = 16;

/// How long the first request for a cold page may hold the others waiting
/// before they give up and go to the app themselves.
const LOCK_TIMEOUT: Duration = Duration::from_secs(10);

/// Session cookies of the app (`app/src/auth/principal.rs`): a request
/// carrying one is someone's, and never touches the cache.
pub const SESSION_COOKIES: [&str; 2] = ["sw_access", "sw_refresh"];

/// Used when an answer names no `stale-if-error`: the last good page is
/// served for a day while the app or its database is down.
const DEFAULT_STALE_IF_ERROR_SECS: u32 = 86_400;

/// No freshness without an explicit `s-maxage` (checked before this is used),
/// no `stale-while-revalidate` unless the answer grants it.
const DEFAULTS: CacheMetaDefaults =
    CacheMetaDefaults::new(|_| None, 0, DEFAULT_STALE_IF_ERROR_SECS);

/// The cache: store, LRU and lock, all `'static` as Pingora requires.
pub struct EdgeCache {
    /// Stored answers.
    pub store: &'static MemoryStore,
    /// Bounds the store in bytes.
    pub eviction: &'static Manager<LRU_SHARDS>,
    /// Coalesces fills of the same key.
    pub lock: &'static CacheKeyLockImpl,
    /// Largest answer stored.
    pub max_object_bytes: usize,
    /// The byte bound.
    pub max_bytes: usize,
}

impl std::fmt::Debug for EdgeCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EdgeCache")
            .field("max_bytes", &self.max_bytes)
            .field("store", &self.store)
            .finish()
    }
}

impl EdgeCache {
    /// A cache of at most `max_bytes`, storing answers up to `max_object_bytes`.
    ///
    /// Pingora takes its storage, eviction manager and lock as `&'static`;
    /// they are leaked once per edge, and an edge lives as long as its process.
    pub fn new(max_bytes: usize, max_object_bytes: usize) -> Self {
        let eviction: &'static Manager<LRU_SHARDS> =
            Box::leak(Box::new(Manager::with_capacity(max_bytes, 1024)));
        let store: &'static MemoryStore = Box::leak(Box::new(MemoryStore::new(eviction)));
        let lock: &'static CacheLock = Box::leak(Box::new(CacheLock::new(LOCK_TIMEOUT)));
        Self {
            store,
            eviction,
            lock,
            max_object_bytes,
            max_bytes,
        }
    }

    /// Bytes held now (as the LRU weighs them).
    pub fn bytes(&self) -> usize {
        pingora_cache::eviction::EvictionManager::total_size(self.eviction)
    }
}

/// Whether a request may be answered from, or fill, the cache: a GET, and
/// nothing that identifies a user. HEAD goes to the app: through Pingora's
/// cache its HTTP/2 answers ended in PROTOCOL_ERROR (a length and no body).
pub fn request_cacheable(request: &RequestHeader) -> bool {
    if request.method != http::Method::GET {
        return false;
    }
    if request.headers.contains_key(http::header::AUTHORIZATION) {
        return false;
    }
    !request
        .headers
        .get_all(http::header::COOKIE)
        .iter()
        .any(|value| has_session_cookie(value.as_bytes()))
}

/// Whether a `Cookie` value carries one of [`SESSION_COOKIES`].
pub fn has_session_cookie(value: &[u8]) -> bool {
    value.split(|b| *b == b';').any(|pair| {
        let name = pair.split(|b| *b == b'=').next().unwrap_or_default();
        let name = name.trim_ascii();
        SESSION_COOKIES.iter().any(|c| c.as_bytes() == name)
    })
}

/// Whether an app answer may be stored, and with which freshness.
pub fn response_cacheable(response: &ResponseHeader) -> RespCacheable {
    let refuse = |why| RespCacheable::Uncacheable(NoCacheReason::Custom(why));
    if response.headers.contains_key(http::header::SET_COOKIE) {
        return refuse("set-cookie");
    }
    if !matches!(
        response.status.as_u16(),
        200 | 203 | 204 | 300 | 301 | 404 | 410
    ) {
        return refuse("status");
    }
    // Only Accept-Encoding may vary: the edge fetches identity and codes it itself.
    let varies_otherwise = response
        .headers
        .get_all(http::header::VARY)
        .iter()
        .flat_map(|v| v.to_str().unwrap_or("*").split(','))
        .any(|name| !name.trim().eq_ignore_ascii_case("accept-encoding"));
    if varies_otherwise {
        return refuse("vary");
    }
    let Some(control) = CacheControl::from_resp_headers(response) else {
        return refuse("no cache-control");
    };
    let shared_ttl = control.s_maxage().ok().flatten();
    if !control.public()
        || shared_ttl.is_none()
        || control.private()
        || control.no_store()
        || control.no_cache()
    {
        return refuse("not public with s-maxage");
    }
    match resp_cacheable(Some(&control), response.clone(), false, &DEFAULTS) {
        RespCacheable::Cacheable(meta) => {
            // RFC 9111 5.2.2.10 reads `s-maxage` as also meaning
            // `proxy-revalidate` (no stale answers), and Pingora applies that.
            // This cache is the app operator's own gateway, and the app grants
            // stale answers explicitly with RFC 5861's directives next to
            // `s-maxage`: that is the out-of-band permission RFC 9111 4.2.4
            // allows, so those directives are honoured as written (a
            // `must-revalidate` or `proxy-revalidate` still forbids them).
            let forbidden = control.must_revalidate() || control.proxy_revalidate();
            let grant = |directive: Option<u32>, default: u32| match forbidden {
                true => 0,
                false => directive.unwrap_or(default),
            };
            let swr = grant(control.stale_while_revalidate().ok().flatten(), 0);
            let sie = grant(
                control.stale_if_error().ok().flatten(),
                DEFAULT_STALE_IF_ERROR_SECS,
            );
            RespCacheable::Cacheable(CacheMeta::new(
                meta.fresh_until(),
                meta.created(),
                swr,
                sie,
                meta.response_header_copy(),
            ))
        }
        uncacheable => uncacheable,
    }
}

/// The cache key: host (lowercase, without port), scheme and path with query,
/// each length-prefixed so no two different triples hash alike. The host is
/// also the user tag, by which the admin API purges one host.
pub fn cache_key(host: &str, path_and_query: &str) -> CacheKey {
    let mut primary = Vec::with_capacity(host.len() + path_and_query.len() + 29);
    for part in [host, "https", path_and_query] {
        primary.extend_from_slice(&(part.len() as u64).to_be_bytes());
        primary.extend_from_slice(part.as_bytes());
    }
    CacheKey::new(primary, host)
}

#[cfg(test)]
mod tests {
    use pingora_cache::key::CacheHashKey;

    use super::*;

    fn request(method: &str, headers: &[(&str, &str)]) -> RequestHeader {
        let mut request = RequestHeader::build(method, b"/status/", None).unwrap();
        for (name, value) in headers {
            request.append_header(name.to_string(), *value).unwrap();
        }
        request
    }

    fn response(status: u16, headers: &[(&str, &str)]) -> ResponseHeader {
        let mut response = ResponseHeader::build(status, None).unwrap();
        for (name, value) in headers {
            response.append_header(name.to_string(), *value).unwrap();
        }
        response
    }

    const PUBLIC: &str =
        "public, max-age=0, s-maxage=10, stale-while-revalidate=30, stale-if-error=86400";

    #[test]
    fn credentials_and_unsafe_methods_bypass() {
        assert!(request_cacheable(&request("GET", &[])));
        assert!(request_cacheable(&request(
            "GET",
            &[("cookie", "sw_csrf=x; theme=dark")]
        )));
        assert!(!request_cacheable(&request("HEAD", &[])));
        assert!(!request_cacheable(&request("POST", &[])));
        assert!(!request_cacheable(&request(
            "GET",
            &[("authorization", "Bearer x")]
        )));
        assert!(!request_cacheable(&request(
            "GET",
            &[("cookie", "a=b; sw_access=t")]
        )));
        assert!(!request_cacheable(&request(
            "GET",
            &[("cookie", "sw_refresh=t")]
        )));
        assert!(request_cacheable(&request(
            "GET",
            &[("cookie", "not_sw_access=t")]
        )));
    }

    #[test]
    fn only_public_shared_answers_without_cookies_are_stored() {
        let stored =
            |r: &ResponseHeader| matches!(response_cacheable(r), RespCacheable::Cacheable(_));
        assert!(stored(&response(200, &[("cache-control", PUBLIC)])));
        assert!(stored(&response(
            200,
            &[("cache-control", PUBLIC), ("vary", "Accept-Encoding")]
        )));
        for refused in [
            response(200, &[("cache-control", "public, max-age=60")]),
            response(200, &[("cache-control", "s-maxage=60")]),
            response(200, &[("cache-control", "public, s-maxage=60, private")]),
            response(200, &[("cache-control", "public, s-maxage=60, no-store")]),
            response(200, &[("cache-control", PUBLIC), ("set-cookie", "a=b")]),
            response(200, &[("cache-control", PUBLIC), ("vary", "Cookie")]),
            response(502, &[("cache-control", PUBLIC)]),
            response(200, &[]),
        ] {
            assert!(!stored(&refused), "{refused:?}");
        }
        let RespCacheable::Cacheable(meta) =
            response_cacheable(&response(200, &[("cache-control", PUBLIC)]))
        else {
            panic!("cacheable");
        };
        assert_eq!(meta.stale_if_error_sec(), 86_400);
        assert_eq!(meta.stale_while_revalidate_sec(), 30);
        assert_eq!(
            meta.fresh_sec(),
            10,
            "s-maxage, not max-age, for a shared cache"
        );
        let RespCacheable::Cacheable(meta) =
            response_cacheable(&response(200, &[("cache-control", "public, s-maxage=5")]))
        else {
            panic!("cacheable");
        };
        assert_eq!(meta.stale_if_error_sec(), 86_400, "a day by default");
        let RespCacheable::Cacheable(meta) = response_cacheable(&response(
            200,
            &[(
                "cache-control",
                "public, s-maxage=5, must-revalidate, stale-if-error=60",
            )],
        )) else {
            panic!("cacheable");
        };
        assert_eq!(
            meta.stale_if_error_sec(),
            0,
            "must-revalidate forbids stale"
        );
    }

    #[test]
    fn keys_differ_by_host_and_query() {
        let a = cache_key("a.example", "/status/");
        assert_eq!(
            a.combined_bin(),
            cache_key("a.example", "/status/").combined_bin()
        );
        assert_ne!(
            a.combined_bin(),
            cache_key("b.example", "/status/").combined_bin()
        );
        assert_ne!(
            a.combined_bin(),
            cache_key("a.example", "/status/?page=2").combined_bin()
        );
        assert_ne!(
            cache_key("ab", "/c").combined_bin(),
            cache_key("a", "b/c").combined_bin()
        );
        assert_eq!(a.user_tag, "a.example");
    }
}
