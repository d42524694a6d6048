//! The :443 application: API paths, tenants' status pages and custom
//! domains to the app pool (through the cache), everything else from the SPA.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime};

use arc_swap::ArcSwap;
use async_trait::async_trait;
use bytes::Bytes;
use http::HeaderValue;
use pingora_cache::{CacheKey, CacheMeta, CachePhase, ForcedFreshness, HitHandler, RespCacheable};
use pingora_core::modules::http::compression::{ResponseCompression, ResponseCompressionBuilder};
use pingora_core::prelude::HttpPeer;
use pingora_core::{Error, ErrorSource, ErrorType, OrErr, Result};
use pingora_http::{RequestHeader, ResponseHeader};
use pingora_load_balancing::LoadBalancer;
use pingora_load_balancing::selection::RoundRobin;
use pingora_proxy::{FailToProxy, ProxyHttp, Session};

use crate::cache::store::{Entry, Hit};
use crate::cache::{EdgeCache, cache_key, request_cacheable, response_cacheable};
use crate::encoding::{Coding, etag_matches, negotiate, variant_etag};
use crate::headers::SecurityHeaders;
use crate::metrics::EdgeMetrics;
use crate::site::Site;
use crate::tls::Connections;

/// Level of on-the-fly compression (gzip, br, zstd) for clients that ask.
const COMPRESSION_LEVEL: u32 = 5;

/// Where a request goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Route {
    /// Not yet classified.
    #[default]
    Unknown,
    /// The app pool (`/api`, `/admin`, `/health`, status pages, custom domains).
    App,
    /// A file of the SPA or its `index.html`.
    Static,
    /// Refused before routing (limits, internal paths).
    Refused,
}

impl Route {
    /// Label for metrics.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Unknown => "unknown",
            Self::App => "app",
            Self::Static => "static",
            Self::Refused => "refused",
        }
    }
}

/// Limits on what a client may send.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Largest request body forwarded to the app.
    pub max_body_bytes: u64,
    /// Largest request line plus headers.
    pub max_header_bytes: usize,
    /// Idle time allowed between reads of a request.
    pub read_timeout: Duration,
    /// Longest a write waits for a client that does not read.
    pub write_timeout: Duration,
    /// Keep-alive time of an idle connection.
    pub keepalive: Duration,
}

/// State shared by every connection; the swappable parts change on reload.
pub struct Edge {
    /// The SPA.
    pub site: ArcSwap<Site>,
    /// The app pool.
    pub upstreams: ArcSwap<LoadBalancer<RoundRobin>>,
    /// Headers added to answers.
    pub headers: SecurityHeaders,
    /// Client limits.
    pub limits: Limits,
    /// Counters.
    pub metrics: EdgeMetrics,
    request_ids: AtomicU64,
    id_prefix: String,
    /// Set on shutdown or upgrade: answers carry `Connection: close`.
    pub draining: std::sync::atomic::AtomicBool,
    /// Tenants' domain suffix (lowercase, no surrounding dots).
    pub suffix: String,
    /// Cache of public app answers (`None` when `edge.cache_max_bytes` is 0).
    pub cache: Option<EdgeCache>,
    /// The site each open TLS connection was made for.
    pub connections: Arc<Connections>,
    /// Cleared when the last health-check round found no app node ready:
    /// stale answers are then given at once (read per request, so it is a
    /// flag and not a walk over the pool).
    pub app_reachable: std::sync::atomic::AtomicBool,
}

impl std::fmt::Debug for Edge {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Edge")
    }
}

/// A random 64-bit prefix for this process's request ids, so ids stay unique
/// across nodes (the process id is 1 in every container).
fn node_prefix() -> String {
    format!("{:016x}", rand::random::<u64>())
}

impl Edge {
    /// Shared state with a site and an app pool.
    pub fn new(
        site: Site,
        upstreams: LoadBalancer<RoundRobin>,
        headers: SecurityHeaders,
        limits: Limits,
        metrics: EdgeMetrics,
    ) -> Self {
        let prefix = node_prefix();
        Self {
            site: ArcSwap::from_pointee(site),
            upstreams: ArcSwap::from_pointee(upstreams),
            headers,
            limits,
            metrics,
            request_ids: AtomicU64::new(0),
            id_prefix: prefix,
            draining: std::sync::atomic::AtomicBool::new(false),
            suffix: String::new(),
            cache: None,
            connections: Arc::default(),
            app_reachable: std::sync::atomic::AtomicBool::new(true),
        }
    }

    /// Routes by host against `suffix` and caches app answers in `cache`.
    pub fn with_routing(mut self, suffix: &str, cache: Option<EdgeCache>) -> Self {
        self.suffix = suffix.trim_matches('.').to_ascii_lowercase();
        self.cache = cache;
        self
    }

    fn next_request_id(&self) -> HeaderValue {
        let id = format!(
            "{}-{:x}",
            self.id_prefix,
            self.request_ids.fetch_add(1, Ordering::Relaxed)
        );
        // A hex prefix, a dash and hex digits: always a valid header value.
        HeaderValue::try_from(id).unwrap_or_else(|_| HeaderValue::from_static("0"))
    }
}

/// Per-request state.
#[derive(Debug, Default)]
pub struct Ctx {
    route: Route,
    // A header value, so forwarding and echoing it are reference-count bumps.
    request_id: Option<HeaderValue>,
    started: Option<Instant>,
    tries: u32,
    body_seen: u64,
    // The request's host name (lowercase, no port): routing and the cache key.
    host: String,
    // The coded form of a cached answer being sent, if any.
    coding: Option<Coding>,
    // A cached answer with coded forms: its answers vary by Accept-Encoding.
    varies: bool,
    // A stale answer given at once because no app node is healthy.
    stale_unasked: bool,
    // A fresh stored answer sent straight from the store (`answer_from_store`).
    fresh_hit: bool,
}

/// The HTTPS proxy.
#[derive(Debug, Clone)]
pub struct EdgeProxy(pub Arc<Edge>);

/// Paths the app answers on every host.
pub fn is_app_path(path: &str) -> bool {
    ["/api/", "/admin/", "/health/"]
        .iter()
        .any(|p| path.starts_with(p))
        || matches!(path, "/api" | "/admin" | "/health")
}

/// What kind of name a request was sent to, which decides its routes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HostKind {
    /// The domain suffix itself, an IP address or no name: the SPA and the API.
    Root,
    /// `<slug>.<suffix>`: the SPA, the API and the tenant's status page under `/status`.
    Tenant,
    /// Any other name (a tenant's custom domain): the status page lives at `/`,
    /// so every path goes to the app.
    Custom,
}

/// Classifies a host name (as [`host_name`] gives it) against the tenants'
/// domain suffix (lowercase, no surrounding dots).
pub fn host_kind(name: &str, suffix: &str) -> HostKind {
    if name.is_empty() || name.parse::<std::net::IpAddr>().is_ok() || name == suffix {
        return HostKind::Root;
    }
    match name.strip_suffix(suffix) {
        Some(rest) if rest.ends_with('.') && !suffix.is_empty() => HostKind::Tenant,
        _ => HostKind::Custom,
    }
}

/// The name of a `Host` value: lowercase, without port, brackets or a trailing dot.
pub fn host_name(host: &str) -> String {
    let name = match host.strip_prefix('[') {
        Some(v6) => v6.split_once(']').map_or(v6, |(h, _)| h),
        None => host.rsplit_once(':').map_or(host, |(h, _)| h),
    };
    name.trim_end_matches('.').to_ascii_lowercase()
}

/// `/status` and everything under it: the tenant's public status page.
pub fn is_status_path(path: &str) -> bool {
    path == "/status" || path.starts_with("/status/")
}

/// Decodes `%XX` escapes; `None` for malformed escapes or non-UTF-8 results.
pub fn percent_decode(path: &str) -> Option<String> {
    // The crate passes a malformed escape through as text; a path with one is refused instead.
    let well_formed = path
        .split('%')
        .skip(1)
        .all(|rest| rest.len() >= 2 && rest.as_bytes()[..2].iter().all(u8::is_ascii_hexdigit));
    if !well_formed {
        return None;
    }
    percent_encoding::percent_decode_str(path)
        .decode_utf8()
        .ok()
        .map(std::borrow::Cow::into_owned)
}

#[async_trait]
impl ProxyHttp for EdgeProxy {
    type CTX = Ctx;

    fn new_ctx(&self) -> Ctx {
        Ctx::default()
    }

    fn init_downstream_modules(&self, modules: &mut pingora_core::modules::http::HttpModules) {
        // gzip, br or zstd by Accept-Encoding for anything not already encoded.
        modules.add_module(ResponseCompressionBuilder::enable(COMPRESSION_LEVEL));
    }

    async fn early_request_filter(&self, session: &mut Session, _ctx: &mut Ctx) -> Result<()> {
        // A client that names no encoding gets identity: switch the module off
        // before it parses the request or inspects (and regex-matches) the answer.
        // Identity answers need no `Vary`, since every client accepts them.
        if !session
            .req_header()
            .headers
            .contains_key(http::header::ACCEPT_ENCODING)
            && let Some(compression) = session
                .downstream_modules_ctx
                .get_mut::<ResponseCompression>()
        {
            compression.adjust_level(0);
        }
        Ok(())
    }

    async fn request_filter(&self, session: &mut Session, ctx: &mut Ctx) -> Result<bool> {
        ctx.started = Some(Instant::now());
        let edge = &self.0;
        session.set_read_timeout(Some(edge.limits.read_timeout));
        // A client that stops reading would hold its connection and the
        // answer's buffers for ever.
        session.set_write_timeout(Some(edge.limits.write_timeout));
        if edge.draining.load(Ordering::Relaxed) {
            // Close after this answer, so the client does not reuse a connection about to end.
            session.set_keepalive(None);
        } else {
            session.set_keepalive(Some(edge.limits.keepalive.as_secs()));
        }
        let request_id = session
            .req_header()
            .headers
            .get("x-request-id")
            .filter(|v| {
                !v.is_empty() && v.len() <= 128 && v.as_bytes().iter().all(u8::is_ascii_graphic)
            })
            .cloned()
            .unwrap_or_else(|| edge.next_request_id());
        let request_id = ctx.request_id.insert(request_id).clone();
        let uri = &session.req_header().uri;
        let header_bytes: usize = uri.path_and_query().map_or(0, |pq| pq.as_str().len())
            + uri.authority().map_or(0, |a| a.as_str().len())
            + session
                .req_header()
                .headers
                .iter()
                .map(|(k, v)| k.as_str().len() + v.len() + 4)
                .sum::<usize>();
        if header_bytes > edge.limits.max_header_bytes {
            ctx.route = Route::Refused;
            respond_plain(
                session,
                &edge.headers,
                431,
                "request header fields too large",
                &request_id,
            )
            .await?;
            return Ok(true);
        }
        if session
            .as_downstream()
            .as_http1()
            .is_some_and(|h1| has_ambiguous_framing(&h1.get_headers_raw_bytes()))
        {
            // RFC 9112 §6.1: the body's end would be read one way here and
            // perhaps another way by the next hop, which is how requests are
            // smuggled. Refuse, and close: the rest of the bytes are not ours to parse.
            ctx.route = Route::Refused;
            session.set_keepalive(None);
            respond_plain(
                session,
                &edge.headers,
                400,
                "bad request: both Content-Length and Transfer-Encoding",
                &request_id,
            )
            .await?;
            return Ok(true);
        }
        let path = session.req_header().uri.path();
        // The app's metrics and its Caddy-compatible ask hook are for operators, not the internet.
        if path == "/metrics" || path.starts_with("/metrics/") || path.starts_with("/api/internal/")
        {
            ctx.route = Route::Refused;
            respond_plain(session, &edge.headers, 404, "not found", &request_id).await?;
            return Ok(true);
        }
        let host = session
            .req_header()
            .headers
            .get(http::header::HOST)
            .and_then(|v| v.to_str().ok())
            .or_else(|| session.req_header().uri.authority().map(|a| a.as_str()))
            .unwrap_or_default();
        ctx.host = host_name(host);
        if !ctx.host.is_empty()
            && let Some(connection) = session
                .digest()
                .and_then(|d| d.socket_digest.as_ref())
                .and_then(|d| edge.connections.get(d))
            && !connection.covers(&ctx.host)
        {
            // Another site than the handshake named, and not one its
            // certificate covers: the client must ask on a connection of its own.
            ctx.route = Route::Refused;
            respond_plain(
                session,
                &edge.headers,
                421,
                "misdirected request: this connection was made for another site",
                &request_id,
            )
            .await?;
            return Ok(true);
        }
        let to_app = is_app_path(path)
            || match host_kind(&ctx.host, &edge.suffix) {
                HostKind::Root => false,
                HostKind::Tenant => is_status_path(path),
                HostKind::Custom => true,
            };
        if to_app {
            ctx.route = Route::App;
            let declared = session
                .req_header()
                .headers
                .get(http::header::CONTENT_LENGTH)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.parse::<u64>().ok());
            if declared.is_some_and(|len| len > edge.limits.max_body_bytes) {
                ctx.route = Route::Refused;
                respond_plain(
                    session,
                    &edge.headers,
                    413,
                    "request body too large",
                    &request_id,
                )
                .await?;
                return Ok(true);
            }
            if let Some(cache) = &edge.cache
                && let Some((entry, coding, stale)) =
                    stored_answer(edge, cache, session.req_header(), &ctx.host)
            {
                ctx.fresh_hit = !stale;
                ctx.stale_unasked = stale;
                answer_from_store(session, edge, cache, &entry, coding, stale, &request_id).await?;
                return Ok(true);
            }
            return Ok(false);
        }
        ctx.route = Route::Static;
        let path = path.to_owned();
        serve_static(session, edge, &path, &request_id).await?;
        Ok(true)
    }

    async fn request_body_filter(
        &self,
        _session: &mut Session,
        body: &mut Option<Bytes>,
        _end: bool,
        ctx: &mut Ctx,
    ) -> Result<()> {
        if let Some(chunk) = body {
            ctx.body_seen += chunk.len() as u64;
            if ctx.body_seen > self.0.limits.max_body_bytes {
                return Err(Error::explain(
                    ErrorType::HTTPStatus(413),
                    "request body too large",
                ));
            }
        }
        Ok(())
    }

    fn request_cache_filter(&self, session: &mut Session, ctx: &mut Ctx) -> Result<()> {
        let Some(cache) = &self.0.cache else {
            return Ok(());
        };
        if ctx.route != Route::App {
            return Ok(());
        }
        if !request_cacheable(session.req_header()) {
            // Someone's own request: neither answered from nor stored in the cache.
            self.0.metrics.observe_cache("bypass");
            return Ok(());
        }
        session.cache.enable(
            cache.store,
            Some(cache.eviction),
            None,
            Some(cache.lock),
            None,
        );
        session
            .cache
            .set_max_file_size_bytes(cache.max_object_bytes);
        Ok(())
    }

    fn cache_key_callback(&self, session: &Session, ctx: &mut Ctx) -> Result<CacheKey> {
        let path = session
            .req_header()
            .uri
            .path_and_query()
            .map_or("/", |pq| pq.as_str());
        Ok(cache_key(&ctx.host, path))
    }

    async fn cache_hit_filter(
        &self,
        session: &mut Session,
        meta: &CacheMeta,
        hit_handler: &mut HitHandler,
        is_fresh: bool,
        ctx: &mut Ctx,
    ) -> Result<Option<ForcedFreshness>> {
        // Pick the coded form made when the answer was stored; ranges are of identity.
        let headers = &session.req_header().headers;
        let accept = headers
            .get(http::header::ACCEPT_ENCODING)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default();
        let ranged = headers.contains_key(http::header::RANGE);
        if let Some(hit) = hit_handler.as_any_mut().downcast_mut::<Hit>() {
            ctx.varies = !hit.entry.variants.is_empty();
            let coding = if ranged {
                None
            } else {
                negotiate(accept, |c| hit.entry.variants.get(c).is_some())
            };
            hit.select(coding);
            ctx.coding = hit.coding;
        }
        let now = std::time::SystemTime::now();
        if !is_fresh
            && !meta.serve_stale_while_revalidate(now)
            && meta.serve_stale_if_error(now)
            && !self.0.app_reachable.load(Ordering::Relaxed)
        {
            // Every app node is down by the health checks: the stale answer is
            // stale-if-error's to give. Asking a dead upstream first would send
            // each request through the cache lock in turn, about 10 answers a
            // second for the whole edge (bench/status).
            ctx.stale_unasked = true;
            return Ok(Some(ForcedFreshness::ForceFresh));
        }
        Ok(None)
    }

    fn response_cache_filter(
        &self,
        _session: &Session,
        response: &ResponseHeader,
        _ctx: &mut Ctx,
    ) -> Result<RespCacheable> {
        Ok(response_cacheable(response))
    }

    fn cache_not_modified_filter(
        &self,
        session: &Session,
        response: &ResponseHeader,
        ctx: &mut Ctx,
    ) -> Result<bool> {
        // The tag the client holds is that of the form it was sent.
        let request = session.req_header();
        if let (Some(tags), Some(etag)) = (
            request
                .headers
                .get(http::header::IF_NONE_MATCH)
                .and_then(|v| v.to_str().ok()),
            response
                .headers
                .get(http::header::ETAG)
                .and_then(|v| v.to_str().ok()),
        ) {
            let served = match ctx.coding {
                Some(coding) if served_from_cache(session.cache.phase()) => {
                    variant_etag(etag, coding)
                }
                _ => etag.to_owned(),
            };
            return Ok(etag_matches(tags, &served));
        }
        Ok(
            pingora_core::protocols::http::conditional_filter::not_modified_filter(
                request, response,
            ),
        )
    }

    fn should_serve_stale(
        &self,
        _session: &mut Session,
        _ctx: &mut Ctx,
        error: Option<&Error>,
    ) -> bool {
        // While revalidating (no error), the answer's stale-while-revalidate
        // decides (Pingora checks it). On an error, anything but the client's
        // own failure: refused connects, no healthy node, timeouts and 5xx alike.
        error.is_none_or(|e| e.esource() != &ErrorSource::Downstream)
    }

    async fn upstream_peer(&self, _session: &mut Session, ctx: &mut Ctx) -> Result<Box<HttpPeer>> {
        ctx.tries += 1;
        let upstreams = self.0.upstreams.load();
        // Round robin: the key is not used for choosing.
        let backend = upstreams
            .select(b"", 16)
            .ok_or_else(|| Error::explain(ErrorType::ConnectNoRoute, "no healthy app upstream"))?;
        Ok(Box::new(HttpPeer::new(backend.addr, false, String::new())))
    }

    fn fail_to_connect(
        &self,
        _session: &mut Session,
        _peer: &HttpPeer,
        ctx: &mut Ctx,
        mut e: Box<Error>,
    ) -> Box<Error> {
        // Only a refused connection is safe to retry: the app never saw the request.
        if ctx.tries < 3 {
            e.set_retry(true);
        }
        e
    }

    async fn upstream_request_filter(
        &self,
        session: &mut Session,
        upstream: &mut RequestHeader,
        ctx: &mut Ctx,
    ) -> Result<()> {
        // Ready `HeaderValue`s: inserting them copies and validates nothing.
        let client = session
            .client_addr()
            .and_then(|a| a.as_inet())
            .map(|a| a.ip().to_string());
        let prior = upstream
            .headers
            .get("x-forwarded-for")
            .and_then(|v| v.to_str().ok());
        let forwarded = match (prior, client) {
            (Some(prior), Some(ip)) => Some(format!("{prior}, {ip}")),
            (None, Some(ip)) => Some(ip),
            (Some(_), None) | (None, None) => None,
        };
        if let Some(forwarded) = forwarded {
            upstream.insert_header("x-forwarded-for", forwarded)?;
        }
        upstream.insert_header("x-forwarded-proto", HeaderValue::from_static("https"))?;
        match session
            .req_header()
            .headers
            .get(http::header::HOST)
            .cloned()
        {
            Some(host) => upstream.insert_header("x-forwarded-host", host)?,
            None => {
                // HTTP/2 carries the host in :authority; the app reads Host.
                if let Some(authority) = session.req_header().uri.authority() {
                    let host = HeaderValue::from_str(authority.as_str())
                        .or_err(ErrorType::InvalidHTTPHeader, "authority as Host")?;
                    upstream.insert_header("x-forwarded-host", host.clone())?;
                    upstream.insert_header("host", host)?;
                }
            }
        }
        if let Some(id) = &ctx.request_id {
            upstream.insert_header("x-request-id", id.clone())?;
        }
        if session.cache.enabled() {
            // The cache stores identity and makes its own coded forms.
            upstream.remove_header(&http::header::ACCEPT_ENCODING);
        }
        Ok(())
    }

    async fn response_filter(
        &self,
        session: &mut Session,
        response: &mut ResponseHeader,
        ctx: &mut Ctx,
    ) -> Result<()> {
        if !served_from_cache(session.cache.phase()) {
            // A stale entry was looked at, then a fresh answer fetched: its own headers stand.
            ctx.coding = None;
            ctx.varies = false;
        }
        let coded = match ctx.coding {
            Some(_) if response.status == 200 => session
                .cache
                .hit_handler()
                .as_any()
                .downcast_ref::<Hit>()
                .and_then(|hit| hit.coding.and_then(|c| hit.entry.variants.get(c)))
                .map(Bytes::len),
            _ => None,
        };
        dress_coded(response, ctx.varies, ctx.coding, coded)?;
        if (served_from_cache(session.cache.phase()) || is_event_stream(response))
            && let Some(compression) = session
                .downstream_modules_ctx
                .get_mut::<ResponseCompression>()
        {
            // Cached: the coded forms were made when stored; the choice above
            // stands, identity included (no compressing the same page on every
            // hit). Event streams: a compressor holds events back until its
            // buffer fills, so a browser would see none of them.
            compression.adjust_level(0);
        }
        if session.cache.enabled() || matches!(session.cache.phase(), CachePhase::Bypass) {
            response.insert_header("cache-status", cache_status(shown_phase(session, ctx)))?;
        }
        self.0.headers.apply(response, false);
        if let Some(id) = &ctx.request_id {
            response.insert_header("x-request-id", id.clone())?;
        }
        Ok(())
    }

    async fn fail_to_proxy(&self, session: &mut Session, e: &Error, ctx: &mut Ctx) -> FailToProxy {
        let code = failure_status(e);
        if code > 0 && session.response_written().is_none() {
            let path = session.req_header().uri.path();
            let wants_json = path.starts_with("/api")
                || path.starts_with("/health")
                || session
                    .req_header()
                    .headers
                    .get(http::header::ACCEPT)
                    .and_then(|v| v.to_str().ok())
                    .is_some_and(|a| a.contains("json") && !a.contains("text/html"));
            let request_id = ctx
                .request_id
                .clone()
                .unwrap_or_else(|| self.0.next_request_id());
            if let Err(err) =
                respond_failure(session, &self.0.headers, code, wants_json, &request_id).await
            {
                tracing::debug!(error = %err, "the error answer could not be sent");
            }
        }
        FailToProxy {
            error_code: code,
            // Whatever the client sent may not have been read to its end.
            can_reuse_downstream: false,
        }
    }

    async fn logging(&self, session: &mut Session, _e: Option<&Error>, ctx: &mut Ctx) {
        if ctx.route == Route::App
            && let Some(result) = cache_result(shown_phase(session, ctx))
        {
            self.0.metrics.observe_cache(result);
        }
        let status = session.response_written().map_or(0, |r| r.status.as_u16());
        let elapsed = ctx.started.map_or(0.0, |s| s.elapsed().as_secs_f64());
        self.0
            .metrics
            .observe_request(ctx.route.as_str(), status, elapsed);
    }
}

/// An HTTP/1 request head (raw bytes, as the client sent them) that declares
/// its body length twice, by `Content-Length` and by `Transfer-Encoding`.
/// Pingora drops the `Content-Length` of such a request before the filters
/// run, so the raw head is the only place the conflict is still visible.
fn has_ambiguous_framing(head: &[u8]) -> bool {
    let (mut length, mut transfer) = (false, false);
    for line in head.split(|b| *b == b'\n') {
        let name = line.split(|b| *b == b':').next().unwrap_or_default();
        length |= name.eq_ignore_ascii_case(b"content-length");
        transfer |= name.eq_ignore_ascii_case(b"transfer-encoding");
    }
    length && transfer
}

/// A server-sent events stream (`text/event-stream`, any parameters).
fn is_event_stream(response: &ResponseHeader) -> bool {
    response
        .headers
        .get(http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|v| v.trim().eq_ignore_ascii_case("text/event-stream"))
}

/// The cache phase as reported and counted: a stale answer forced fresh
/// because no app node was healthy is still a stale answer.
fn shown_phase(session: &Session, ctx: &Ctx) -> CachePhase {
    if ctx.stale_unasked {
        CachePhase::Stale
    } else if ctx.fresh_hit {
        CachePhase::Hit
    } else {
        session.cache.phase()
    }
}

/// The headers of a cached answer sent in `coding`, a form made when it was
/// stored (`coded_len` its length, for a 200): `Vary` when it has forms, the
/// form's own ETag, its encoding and length, and no ranges (they are of identity).
fn dress_coded(
    response: &mut ResponseHeader,
    varies: bool,
    coding: Option<Coding>,
    coded_len: Option<usize>,
) -> Result<()> {
    if varies {
        response.insert_header(http::header::VARY, "Accept-Encoding")?;
    }
    let Some(coding) = coding else {
        return Ok(());
    };
    if let Some(etag) = response
        .headers
        .get(http::header::ETAG)
        .and_then(|v| v.to_str().ok())
    {
        let etag = variant_etag(etag, coding);
        response.insert_header(http::header::ETAG, etag)?;
    }
    if let Some(length) = coded_len {
        response.insert_header(http::header::CONTENT_ENCODING, coding.token())?;
        response.insert_header(http::header::CONTENT_LENGTH, length)?;
        response.remove_header(&http::header::ACCEPT_RANGES);
    }
    Ok(())
}

/// A stored answer that may be sent as it is, without Pingora's cache phases:
/// a plain GET without credentials, conditions or ranges, for an entry still
/// fresh by the freshness Pingora computed when it was stored, or within its
/// `stale-if-error` while no app node is healthy (the third value: stale).
/// Anything else (a miss, an expired entry the app can refresh, a conditional
/// or ranged request) goes through those phases, with their lock,
/// revalidation and stale-while-revalidate answers.
fn stored_answer(
    edge: &Edge,
    cache: &EdgeCache,
    request: &RequestHeader,
    host: &str,
) -> Option<(Arc<Entry>, Option<Coding>, bool)> {
    use http::header;
    if !request_cacheable(request) {
        return None;
    }
    let headers = &request.headers;
    let conditional = [
        header::RANGE,
        header::IF_NONE_MATCH,
        header::IF_MODIFIED_SINCE,
        header::IF_MATCH,
        header::IF_UNMODIFIED_SINCE,
        header::IF_RANGE,
    ];
    if conditional.iter().any(|name| headers.contains_key(name)) {
        return None;
    }
    let path = request.uri.path_and_query().map_or("/", |pq| pq.as_str());
    let entry = cache.store.get(&cache_key(host, path))?;
    let now = SystemTime::now();
    // Pingora's own tests (`CacheMeta::is_fresh`, `serve_stale_if_error`):
    // up to and including the instant.
    let stale = entry.fresh.fresh_until < now;
    if stale
        && (!entry.fresh.serve_stale_if_error(now) || edge.app_reachable.load(Ordering::Relaxed))
    {
        return None;
    }
    let accept = headers
        .get(header::ACCEPT_ENCODING)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let coding = negotiate(accept, |c| entry.variants.get(c).is_some());
    Some((entry, coding, stale))
}

/// Sends a stored answer with the headers Pingora's hit path and
/// [`EdgeProxy::response_filter`] would give it (`Age`, forms, `Cache-Status`,
/// security headers, request id), as the static files are sent.
async fn answer_from_store(
    session: &mut Session,
    edge: &Edge,
    cache: &EdgeCache,
    entry: &Entry,
    coding: Option<Coding>,
    stale: bool,
    request_id: &HeaderValue,
) -> Result<()> {
    let now = SystemTime::now();
    let since_epoch = now
        .duration_since(SystemTime::UNIX_EPOCH)
        .unwrap_or_default();
    entry.touch(cache.eviction, since_epoch.as_secs());
    let mut response = Box::new(entry.fresh.header.clone());
    let age = now
        .duration_since(entry.fresh.epoch)
        .unwrap_or_default()
        .as_secs();
    response.insert_header(http::header::AGE, age)?;
    response.set_version(http::Version::HTTP_11);
    response.remove_header(&http::header::TRANSFER_ENCODING);
    let coded = coding.and_then(|c| entry.variants.get(c));
    let body = match coded {
        Some(body) if response.status == 200 => body.clone(),
        _ => entry.body.clone(),
    };
    let coding = coding.filter(|_| response.status == 200);
    dress_coded(
        &mut response,
        !entry.variants.is_empty(),
        coding,
        coded.map(Bytes::len).filter(|_| coding.is_some()),
    )?;
    response.insert_header(http::header::CONTENT_LENGTH, body.len())?;
    if coding.is_none() && response.status == 200 {
        // Ranges of the identity body are served (through the cache phases).
        response.insert_header(http::header::ACCEPT_RANGES, "bytes")?;
    }
    let phase = match stale {
        true => CachePhase::Stale,
        false => CachePhase::Hit,
    };
    response.insert_header("cache-status", cache_status(phase))?;
    edge.headers.apply(&mut response, false);
    response.insert_header("x-request-id", request_id.clone())?;
    if let Some(compression) = session
        .downstream_modules_ctx
        .get_mut::<ResponseCompression>()
    {
        // Coded when stored: nothing is compressed per request, identity included.
        compression.adjust_level(0);
    }
    let no_body = body.is_empty();
    session.write_response_header(response, no_body).await?;
    if !no_body {
        session.write_response_body(Some(body), true).await?;
    }
    Ok(())
}

/// The outcome counted in `edge_cache_requests_total`, if the cache was asked.
fn cache_result(phase: CachePhase) -> Option<&'static str> {
    match phase {
        CachePhase::Hit => Some("hit"),
        CachePhase::Miss | CachePhase::Expired => Some("miss"),
        CachePhase::Stale | CachePhase::StaleUpdating => Some("stale"),
        CachePhase::Revalidated | CachePhase::RevalidatedNoCache(_) => Some("revalidated"),
        // A request with credentials was counted when it was found to carry
        // them (the cache was never enabled); an answer that turned out
        // uncacheable disables it with a reason.
        CachePhase::Disabled(pingora_cache::NoCacheReason::NeverEnabled) => None,
        CachePhase::Disabled(_) | CachePhase::Bypass => Some("bypass"),
        CachePhase::Uninit | CachePhase::CacheKey => None,
    }
}

/// Whether the body sent comes from a stored entry (its hit handler).
fn served_from_cache(phase: CachePhase) -> bool {
    matches!(
        phase,
        CachePhase::Hit
            | CachePhase::Stale
            | CachePhase::StaleUpdating
            | CachePhase::Revalidated
            | CachePhase::RevalidatedNoCache(_)
    )
}

/// RFC 9211 `Cache-Status` of an answer, for operators and tests.
fn cache_status(phase: CachePhase) -> &'static str {
    match phase {
        CachePhase::Hit => "edge; hit",
        CachePhase::Stale | CachePhase::StaleUpdating => "edge; hit; fwd=stale",
        CachePhase::Miss => "edge; fwd=uri-miss; stored",
        CachePhase::Expired => "edge; fwd=stale; stored",
        CachePhase::Revalidated => "edge; fwd=stale; fwd-status=304",
        _ => "edge; fwd=bypass",
    }
}

/// The status of an answer that could not be proxied, as Pingora's default
/// has it, with timeouts of the app as 504; 0 when the client is gone.
fn failure_status(e: &Error) -> u16 {
    match (e.etype(), e.esource()) {
        (ErrorType::HTTPStatus(code), _) => *code,
        (
            ErrorType::ConnectTimedout | ErrorType::ReadTimedout | ErrorType::WriteTimedout,
            ErrorSource::Upstream,
        ) => 504,
        (_, ErrorSource::Upstream)
        | (ErrorType::ConnectNoRoute | ErrorType::ConnectRefused | ErrorType::ConnectError, _) => {
            502
        }
        (
            ErrorType::WriteError | ErrorType::ReadError | ErrorType::ConnectionClosed,
            ErrorSource::Downstream,
        ) => 0,
        (_, ErrorSource::Downstream) => 400,
        (_, ErrorSource::Internal | ErrorSource::Unset) => 500,
    }
}

/// What a person or a program reads when the app could not answer: JSON
/// with a stable `code` on API paths (and for clients asking for JSON), a
/// short page otherwise; `Retry-After` when waiting helps.
async fn respond_failure(
    session: &mut Session,
    headers: &SecurityHeaders,
    status: u16,
    json: bool,
    request_id: &HeaderValue,
) -> Result<()> {
    let (code, message) = match status {
        502 => (
            "app_unavailable",
            "StatusWatch could not reach its application servers; please try again shortly.",
        ),
        503 => (
            "app_unavailable",
            "StatusWatch is briefly unavailable; please try again shortly.",
        ),
        504 => (
            "app_timeout",
            "StatusWatch's application servers did not answer in time; please try again shortly.",
        ),
        413 => ("body_too_large", "The request body is too large."),
        400..=499 => ("bad_request", "The request could not be read."),
        _ => (
            "edge_error",
            "Something went wrong at StatusWatch's edge; please try again shortly.",
        ),
    };
    let body = if json {
        serde_json::json!({ "code": code, "message": message }).to_string()
    } else {
        format!(
            "<!doctype html><html lang=\"en\"><meta charset=\"utf-8\">\
             <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
             <title>{status} · StatusWatch</title>\
             <style>body{{font:1rem/1.5 system-ui,sans-serif;max-width:32rem;margin:15vh auto;padding:0 1rem}}\
             @media (prefers-color-scheme:dark){{body{{background:#111;color:#eee}}}}</style>\
             <main><h1>We will be right back</h1><p>{message}</p>\
             <p><small>Error {status} · request {}</small></p></main></html>",
            request_id.to_str().unwrap_or_default()
        )
    };
    let mut response = ResponseHeader::build(status, Some(6))?;
    let content_type = match json {
        true => "application/json",
        false => "text/html; charset=utf-8",
    };
    response.insert_header(http::header::CONTENT_TYPE, content_type)?;
    response.insert_header(http::header::CONTENT_LENGTH, body.len())?;
    response.insert_header(http::header::CACHE_CONTROL, "no-store")?;
    if matches!(status, 502..=504) {
        response.insert_header(http::header::RETRY_AFTER, "5")?;
    }
    response.insert_header("x-request-id", request_id.clone())?;
    headers.apply(&mut response, false);
    if !json {
        // The page's own policy: nothing but its inline style.
        response.insert_header(
            http::header::CONTENT_SECURITY_POLICY,
            "default-src 'none'; style-src 'unsafe-inline'",
        )?;
    }
    session.set_keepalive(None);
    session
        .write_response_header(Box::new(response), false)
        .await?;
    session
        .write_response_body(Some(Bytes::from(body)), true)
        .await
}

async fn respond_plain(
    session: &mut Session,
    headers: &SecurityHeaders,
    status: u16,
    text: &'static str,
    request_id: &HeaderValue,
) -> Result<()> {
    let mut response = ResponseHeader::build(status, Some(4))?;
    response.insert_header(http::header::CONTENT_TYPE, "text/plain; charset=utf-8")?;
    response.insert_header(http::header::CONTENT_LENGTH, text.len())?;
    response.insert_header("x-request-id", request_id.clone())?;
    headers.apply(&mut response, false);
    session
        .write_response_header(Box::new(response), false)
        .await?;
    session
        .write_response_body(Some(Bytes::from_static(text.as_bytes())), true)
        .await
}

/// Answers from the SPA: validators, Range, precompressed siblings, cache policy.
async fn serve_static(
    session: &mut Session,
    edge: &Edge,
    raw_path: &str,
    request_id: &HeaderValue,
) -> Result<()> {
    let method = session.req_header().method.clone();
    if method != http::Method::GET && method != http::Method::HEAD {
        let mut response = ResponseHeader::build(405, Some(3))?;
        response.insert_header(http::header::ALLOW, "GET, HEAD")?;
        response.insert_header(http::header::CONTENT_LENGTH, 0)?;
        edge.headers.apply(&mut response, false);
        return session
            .write_response_header(Box::new(response), true)
            .await;
    }
    let site = edge.site.load();
    let Some(path) = percent_decode(raw_path) else {
        return respond_plain(session, &edge.headers, 400, "malformed path", request_id).await;
    };
    let Some((asset, is_page)) = site.lookup(&path) else {
        return respond_plain(session, &edge.headers, 404, "not found", request_id).await;
    };
    let headers = &session.req_header().headers;
    let header = |name: http::header::HeaderName| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    let accept = header(http::header::ACCEPT_ENCODING).unwrap_or_default();
    let if_none_match = header(http::header::IF_NONE_MATCH);
    let range = header(http::header::RANGE);
    let html = asset.content_type.starts_with("text/html");
    // Ranges are of the identity body; otherwise the form the client prefers.
    let coded = match range {
        Some(_) => None,
        None => asset.variants.choose(&accept),
    };
    let etag = match coded {
        Some((coding, _)) => variant_etag(&asset.etag, coding),
        None => asset.etag.clone(),
    };
    if !asset.variants.is_empty()
        && let Some(compression) = session
            .downstream_modules_ctx
            .get_mut::<ResponseCompression>()
    {
        // Coded once at load: nothing is compressed per request, identity included.
        compression.adjust_level(0);
    }

    let mut response = ResponseHeader::build(200, Some(10))?;
    response.insert_header(http::header::CONTENT_TYPE, asset.content_type)?;
    response.insert_header(http::header::ETAG, etag.as_str())?;
    response.insert_header(http::header::VARY, "Accept-Encoding")?;
    response.insert_header(
        http::header::CACHE_CONTROL,
        if asset.immutable && !is_page {
            "public, max-age=31536000, immutable"
        } else {
            "no-cache"
        },
    )?;
    response.insert_header(http::header::ACCEPT_RANGES, "bytes")?;
    response.insert_header("x-request-id", request_id.clone())?;
    edge.headers.apply(&mut response, html);

    if if_none_match
        .as_deref()
        .is_some_and(|tags| etag_matches(tags, &etag))
    {
        response.set_status(304)?;
        response.remove_header(&http::header::CONTENT_TYPE);
        return session
            .write_response_header(Box::new(response), true)
            .await;
    }
    let body = match coded {
        Some((coding, body)) => {
            response.insert_header(http::header::CONTENT_ENCODING, coding.token())?;
            body.clone()
        }
        None => asset.body.clone(),
    };
    let body = match range.as_deref().map(|r| byte_range(r, body.len() as u64)) {
        None => body,
        Some(Some((start, end))) => {
            response.set_status(206)?;
            response.insert_header(
                http::header::CONTENT_RANGE,
                format!("bytes {start}-{end}/{}", body.len()),
            )?;
            body.slice(start as usize..=end as usize)
        }
        Some(None) => {
            response.set_status(416)?;
            response.insert_header(
                http::header::CONTENT_RANGE,
                format!("bytes */{}", body.len()),
            )?;
            Bytes::new()
        }
    };
    response.insert_header(http::header::CONTENT_LENGTH, body.len())?;
    let head = method == http::Method::HEAD;
    session
        .write_response_header(Box::new(response), head || body.is_empty())
        .await?;
    if !head && !body.is_empty() {
        session.write_response_body(Some(body), true).await?;
    }
    Ok(())
}

/// The one range of `bytes=a-b`, `bytes=a-` or `bytes=-n`, inclusive; `None` when unsatisfiable.
pub fn byte_range(header: &str, len: u64) -> Option<(u64, u64)> {
    let spec = header.trim().strip_prefix("bytes=")?;
    if spec.contains(',') || len == 0 {
        return None;
    }
    let (start, end) = spec.split_once('-')?;
    let (start, end) = match (start.trim(), end.trim()) {
        ("", suffix) => {
            let n: u64 = suffix.parse().ok()?;
            if n == 0 {
                return None;
            }
            (len.saturating_sub(n), len - 1)
        }
        (start, "") => (start.parse().ok()?, len - 1),
        (start, end) => (start.parse().ok()?, end.parse::<u64>().ok()?.min(len - 1)),
    };
    (start <= end && start < len).then_some((start, end))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn framing_declared_twice_is_ambiguous() {
        let head = |lines: &str| format!("POST / HTTP/1.1\r\nHost: a\r\n{lines}\r\n").into_bytes();
        assert!(has_ambiguous_framing(&head(
            "Content-Length: 4\r\nTransfer-Encoding: chunked\r\n"
        )));
        assert!(has_ambiguous_framing(&head(
            "transfer-encoding: chunked\r\nCONTENT-LENGTH: 4\r\n"
        )));
        assert!(!has_ambiguous_framing(&head("Content-Length: 4\r\n")));
        assert!(!has_ambiguous_framing(&head(
            "Transfer-Encoding: chunked\r\n"
        )));
        // A header merely mentioning the other name is not a second declaration.
        assert!(!has_ambiguous_framing(&head(
            "Content-Length: 4\r\nX-Note: transfer-encoding: chunked\r\n"
        )));
    }

    #[test]
    fn request_id_prefixes_differ_between_processes() {
        let (a, b) = (node_prefix(), node_prefix());
        assert_eq!(a.len(), 16);
        assert!(a.bytes().all(|c| c.is_ascii_hexdigit()), "{a}");
        assert_ne!(a, b, "two nodes would share request ids");
    }

    #[test]
    fn ranges() {
        assert_eq!(byte_range("bytes=0-9", 100), Some((0, 9)));
        assert_eq!(byte_range("bytes=90-", 100), Some((90, 99)));
        assert_eq!(byte_range("bytes=-10", 100), Some((90, 99)));
        assert_eq!(byte_range("bytes=95-200", 100), Some((95, 99)));
        for bad in [
            "bytes=100-",
            "bytes=5-1",
            "bytes=0-1,3-4",
            "items=0-1",
            "bytes=-0",
            "bytes=x-1",
        ] {
            assert_eq!(byte_range(bad, 100), None, "{bad}");
        }
    }

    #[test]
    fn hosts_decide_where_status_pages_live() {
        let kind = |host: &str| host_kind(&host_name(host), "status.example.com");
        for root in [
            "status.example.com",
            "STATUS.example.com.:443",
            "127.0.0.1:8443",
            "[::1]:443",
            "",
        ] {
            assert_eq!(kind(root), HostKind::Root, "{root}");
        }
        for tenant in [
            "acme.status.example.com",
            "Acme.Status.Example.Com:8443",
            "a.b.status.example.com.",
        ] {
            assert_eq!(kind(tenant), HostKind::Tenant, "{tenant}");
        }
        for custom in [
            "status.acme.io",
            "evilstatus.example.com",
            "example.com",
            "acme.status.example.com.evil",
        ] {
            assert_eq!(kind(custom), HostKind::Custom, "{custom}");
        }
        assert!(is_status_path("/status") && is_status_path("/status/incidents/1"));
        assert!(!is_status_path("/statuses") && !is_status_path("/"));
    }

    #[test]
    fn paths() {
        assert!(
            is_app_path("/api/me")
                && is_app_path("/health/ready/")
                && is_app_path("/admin/api/x")
                && is_app_path("/health")
        );
        assert!(!is_app_path("/apix") && !is_app_path("/") && !is_app_path("/assets/a.js"));
        assert_eq!(percent_decode("/a%2e%2E/b").as_deref(), Some("/a../b"));
        assert_eq!(percent_decode("/%zz"), None);
        assert_eq!(percent_decode("/%ff"), None);
        assert_eq!(percent_decode("/caf%C3%A9").as_deref(), Some("/caf\u{e9}"));
        assert_eq!(percent_decode("/plain").as_deref(), Some("/plain"));
        for cut_short in ["/%", "/%4", "/a%", "/%%41", "/%4g"] {
            assert_eq!(percent_decode(cut_short), None, "{cut_short}");
        }
    }
}
