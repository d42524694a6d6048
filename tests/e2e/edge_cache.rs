//! The edge's cache of public app answers, with real TLS clients: fresh
//! hits, revalidation, stale-if-error with the upstream stopped, one upstream
//! request for many cold ones, nothing private stored or served, hosts kept
//! apart, purge through the admin API, and coded forms.
//!
//! The upstream is a small server run by each test that answers like the
//! status pages do and counts what it is asked.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::http::{HeaderMap, HeaderValue, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use crate::harness::{Server, statuswatch, wait_for_file};

/// What the status pages send, but fresh long enough that no test here sees
/// it expire by accident (the freshness test uses the app's own value).
const PUBLIC: &str =
    "public, max-age=0, s-maxage=60, stale-while-revalidate=30, stale-if-error=86400";
/// The same, fresh for one second only.
const SHORT: &str = "public, max-age=0, s-maxage=1, stale-while-revalidate=0, stale-if-error=86400";

/// Requests the upstream received, by path, and the 304s it sent.
#[derive(Default)]
struct Seen {
    by_path: HashMap<String, usize>,
    not_modified: usize,
    /// What `/status/versioned` shows: the test bumps it as a state change.
    version: u64,
}

/// A status-page-like upstream on its own runtime, so stopping it closes
/// every socket it holds, as a stopped app process would.
struct Upstream {
    addr: SocketAddr,
    seen: Arc<Mutex<Seen>>,
    stop: Option<std::sync::mpsc::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Upstream {
    fn start() -> Self {
        let seen = Arc::new(Mutex::new(Seen::default()));
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let addr = listener.local_addr().unwrap();
        let (stop, stopped) = std::sync::mpsc::channel::<()>();
        let state = seen.clone();
        let thread = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .unwrap();
            runtime.spawn(async move {
                let listener = tokio::net::TcpListener::from_std(listener).unwrap();
                let app = axum::Router::new().fallback(move |uri: Uri, headers: HeaderMap| {
                    let seen = state.clone();
                    async move { answer(&seen, &uri, &headers).await }
                });
                axum::serve(listener, app).await.unwrap();
            });
            let _ = stopped.recv();
            runtime.shutdown_background();
        });
        Self {
            addr,
            seen,
            stop: Some(stop),
            thread: Some(thread),
        }
    }

    fn count(&self, path: &str) -> usize {
        self.seen
            .lock()
            .unwrap()
            .by_path
            .get(path)
            .copied()
            .unwrap_or(0)
    }

    fn bump_version(&self) {
        self.seen.lock().unwrap().version += 1;
    }

    fn not_modified(&self) -> usize {
        self.seen.lock().unwrap().not_modified
    }

    /// Stops serving: listener and open connections close.
    fn stop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            thread.join().unwrap();
        }
    }
}

impl Drop for Upstream {
    fn drop(&mut self) {
        self.stop();
    }
}

/// A page of about 6 KB naming the host it was asked for.
fn page(host: &str) -> String {
    let mut html = format!("<!doctype html><title>Status of {host}</title><h1>{host}</h1><ul>");
    for i in 0..50 {
        html.push_str(&format!(
            "<li class=\"component\">Component {i}: <span>operational</span></li>"
        ));
    }
    html + "</ul>"
}

async fn answer(seen: &Mutex<Seen>, uri: &Uri, headers: &HeaderMap) -> Response {
    let path = uri.path().to_owned();
    *seen
        .lock()
        .unwrap()
        .by_path
        .entry(path.clone())
        .or_default() += 1;
    let host = headers
        .get("host")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let host = host.split(':').next().unwrap_or_default().to_owned();
    let html = |control: &'static str, body: String| {
        (
            [
                ("content-type", "text/html; charset=utf-8"),
                ("cache-control", control),
                ("etag", "\"v1\""),
            ],
            body,
        )
            .into_response()
    };
    match path.as_str() {
        "/status/" => html(PUBLIC, page(&host)),
        "/status/short" => {
            if headers.get("if-none-match") == Some(&HeaderValue::from_static("\"v1\"")) {
                seen.lock().unwrap().not_modified += 1;
                return (
                    StatusCode::NOT_MODIFIED,
                    [("cache-control", SHORT), ("etag", "\"v1\"")],
                )
                    .into_response();
            }
            html(SHORT, page(&host))
        }
        "/status/versioned" => {
            let version = seen.lock().unwrap().version;
            let control = app::http::public_status::CACHE_CONTROL;
            html(control, format!("version {version}"))
        }
        "/status/slow" => {
            tokio::time::sleep(Duration::from_millis(500)).await;
            html(PUBLIC, page(&host))
        }
        "/status/cookie" => {
            let mut response = html(PUBLIC, page(&host));
            response.headers_mut().insert(
                "set-cookie",
                HeaderValue::from_static("sw_csrf=abc; Path=/"),
            );
            response
        }
        "/status/who" => {
            let credentialed = headers.contains_key("authorization")
                || headers
                    .get("cookie")
                    .and_then(|v| v.to_str().ok())
                    .is_some_and(|c| c.contains("sw_access") || c.contains("sw_refresh"));
            // Marked public on purpose: the edge must still not store or serve it for these.
            let who = if credentialed { "someone" } else { "anyone" };
            html(PUBLIC, format!("{who} {}", page(&host)))
        }
        _ => (StatusCode::NOT_FOUND, "no such page").into_response(),
    }
}

/// The edge in front of `upstream`, with tenants `acme` and `beta` signed up.
struct Edge {
    server: Server,
    dir: tempfile::TempDir,
    ca_pem: String,
}

impl Edge {
    async fn start(upstream: &Upstream) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let site = dir.path().join("site");
        std::fs::create_dir_all(&site).unwrap();
        std::fs::write(site.join("index.html"), "<!doctype html><p>spa</p>").unwrap();
        let mut command = statuswatch(dir.path());
        command.env("STATUSWATCH__EDGE__STATIC_ROOT", &site).env(
            "STATUSWATCH__EDGE__APP_UPSTREAMS",
            upstream.addr.to_string(),
        );
        let mut server = Server::start(command, "serve", dir.path());
        server.wait_for("/health/ready/", 200).await;
        let ca_pem = wait_for_file(&dir.path().join("ca/root.pem")).await;
        for slug in ["acme", "beta"] {
            let response = reqwest::Client::new()
                .post(format!("{}/api/auth/signup", server.base))
                .json(&json!({
                    "organization": slug, "slug": slug,
                    "email": format!("owner@{slug}.example"), "password": "tangerine-umbrella-42",
                }))
                .send()
                .await
                .unwrap();
            assert_eq!(response.status(), 201, "{}", response.text().await.unwrap());
        }
        Self {
            server,
            dir,
            ca_pem,
        }
    }

    fn client(&self) -> reqwest::Client {
        let mut builder = reqwest::Client::builder()
            .add_root_certificate(reqwest::Certificate::from_pem(self.ca_pem.as_bytes()).unwrap())
            .timeout(Duration::from_secs(15));
        for name in ["localhost", "acme.localhost", "beta.localhost"] {
            builder = builder.resolve(
                name,
                SocketAddr::from(([127, 0, 0, 1], self.server.https_port)),
            );
        }
        builder.build().unwrap()
    }

    fn url(&self, host: &str, path: &str) -> String {
        format!("https://{host}:{}{path}", self.server.https_port)
    }

    async fn get(
        &self,
        host: &str,
        path: &str,
        headers: &[(&str, &str)],
    ) -> (u16, HeaderMap, Vec<u8>) {
        let mut request = self.client().get(self.url(host, path));
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let response = request.send().await.unwrap();
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        (status, headers, response.bytes().await.unwrap().to_vec())
    }

    async fn admin(&self, method: reqwest::Method, path: &str) -> Value {
        reqwest::Client::new()
            .request(
                method,
                format!("http://127.0.0.1:{}{path}", self.server.admin_port),
            )
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    }

    async fn metrics(&self) -> String {
        reqwest::get(format!(
            "http://127.0.0.1:{}/metrics",
            self.server.admin_port
        ))
        .await
        .unwrap()
        .text()
        .await
        .unwrap()
    }
}

/// A script of about 150 KB, like the SPA's largest bundle.
fn script() -> String {
    (0..3000)
        .map(|i| format!("export const component{i} = () => render('component-{i}');\n"))
        .collect()
}

/// `body` decoded from `coding`.
fn decode(coding: &str, body: &[u8]) -> Vec<u8> {
    use std::io::Read;
    let mut out = Vec::new();
    match coding {
        "gzip" => {
            flate2::read::GzDecoder::new(body)
                .read_to_end(&mut out)
                .unwrap();
        }
        "br" => {
            brotli::BrotliDecompress(&mut &body[..], &mut out).unwrap();
        }
        "zstd" => out = zstd::decode_all(body).unwrap(),
        other => panic!("unexpected coding {other}"),
    }
    out
}

fn header<'a>(headers: &'a HeaderMap, name: &str) -> &'a str {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
}

#[tokio::test]
async fn fresh_hits_revalidation_hosts_and_purge() {
    let upstream = Upstream::start();
    let edge = Edge::start(&upstream).await;

    // The root host keeps the SPA at /status/: only tenant hosts route it to the app.
    let (status, _, body) = edge.get("localhost", "/status/", &[]).await;
    assert_eq!(
        (status, body.as_slice()),
        (200, &b"<!doctype html><p>spa</p>"[..])
    );
    assert_eq!(upstream.count("/status/"), 0);

    let (status, headers, body) = edge.get("acme.localhost", "/status/", &[]).await;
    assert_eq!(status, 200);
    assert_eq!(String::from_utf8(body).unwrap(), page("acme.localhost"));
    assert!(
        header(&headers, "cache-status").contains("fwd=uri-miss"),
        "{headers:?}"
    );
    let (status, headers, body) = edge.get("acme.localhost", "/status/", &[]).await;
    assert_eq!(status, 200);
    assert_eq!(header(&headers, "cache-status"), "edge; hit");
    assert_eq!(header(&headers, "cache-control"), PUBLIC);
    assert_eq!(header(&headers, "x-content-type-options"), "nosniff");
    assert_eq!(String::from_utf8(body).unwrap(), page("acme.localhost"));
    assert_eq!(upstream.count("/status/"), 1, "the second was a fresh hit");

    // Another tenant's host is another key: its own page, never acme's.
    let (_, headers, body) = edge.get("beta.localhost", "/status/", &[]).await;
    assert_eq!(String::from_utf8(body).unwrap(), page("beta.localhost"));
    assert!(header(&headers, "cache-status").contains("fwd=uri-miss"));
    let (_, _, body) = edge.get("beta.localhost", "/status/", &[]).await;
    assert_eq!(String::from_utf8(body).unwrap(), page("beta.localhost"));
    assert_eq!(upstream.count("/status/"), 2);
    // ... and the query is part of the key.
    edge.get("acme.localhost", "/status/?page=2", &[]).await;
    assert_eq!(upstream.count("/status/"), 3);

    // Expired after a second: revalidated with the stored ETag, answered 304, served from cache.
    let (_, _, first) = edge.get("acme.localhost", "/status/short", &[]).await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let (status, headers, body) = edge.get("acme.localhost", "/status/short", &[]).await;
    assert_eq!(status, 200);
    assert_eq!(body, first);
    assert_eq!(upstream.count("/status/short"), 2);
    assert_eq!(upstream.not_modified(), 1, "revalidated, not refetched");
    assert!(
        header(&headers, "cache-status").contains("fwd-status=304"),
        "{headers:?}"
    );
    // A client holding the tag gets a 304 from the cache.
    let (status, _, _) = edge
        .get(
            "acme.localhost",
            "/status/short",
            &[("if-none-match", "\"v1\"")],
        )
        .await;
    assert_eq!(status, 304);
    assert_eq!(upstream.count("/status/short"), 2);

    let cache = edge.admin(reqwest::Method::GET, "/cache").await;
    assert_eq!(cache["enabled"], true, "{cache}");
    assert_eq!(cache["entries"], 4, "{cache}");
    let held = cache["bytes"].as_u64().unwrap();
    assert!(held > 4 * page("acme.localhost").len() as u64, "{cache}");
    assert_eq!(cache["hits"], 3, "{cache}");
    assert_eq!(cache["misses"], 4, "{cache}");
    assert_eq!(cache["requests"]["revalidated"], 1, "{cache}");

    // Purging acme drops its three entries and nothing of beta's.
    let purged = edge
        .admin(reqwest::Method::DELETE, "/cache/acme.localhost")
        .await;
    assert_eq!(purged, json!({ "host": "acme.localhost", "purged": 3 }));
    let (_, headers, _) = edge.get("acme.localhost", "/status/", &[]).await;
    assert!(header(&headers, "cache-status").contains("fwd=uri-miss"));
    let (_, headers, _) = edge.get("beta.localhost", "/status/", &[]).await;
    assert_eq!(header(&headers, "cache-status"), "edge; hit");
    assert_eq!(upstream.count("/status/"), 4);

    let metrics = edge.metrics().await;
    assert!(
        metrics.contains(r#"edge_cache_requests_total{result="hit"} 4"#),
        "{metrics}"
    );
    assert!(
        metrics.contains(r#"edge_cache_requests_total{result="miss"} 5"#),
        "{metrics}"
    );
    assert!(metrics.contains("edge_cache_entries 2"), "{metrics}");
}

/// A fresh hit for a plain GET is answered straight from the store, without
/// Pingora's cache phases; a request with a condition that does not match
/// goes through them. The client cannot tell the two apart, in any coding.
#[tokio::test]
async fn a_fresh_hit_from_the_store_matches_a_hit_through_the_cache_phases() {
    let upstream = Upstream::start();
    let edge = Edge::start(&upstream).await;
    let (status, _, _) = edge.get("acme.localhost", "/status/", &[]).await;
    assert_eq!(status, 200);
    for coding in ["identity", "gzip", "br", "zstd"] {
        let plain = [("accept-encoding", coding)];
        let conditional = [("accept-encoding", coding), ("if-none-match", "\"other\"")];
        let (status, direct, direct_body) = edge.get("acme.localhost", "/status/", &plain).await;
        assert_eq!(status, 200);
        let (status, phased, phased_body) =
            edge.get("acme.localhost", "/status/", &conditional).await;
        assert_eq!(status, 200);
        assert_eq!(direct_body, phased_body, "{coding}");
        let decoded = match coding {
            "identity" => direct_body.clone(),
            coded => decode(coded, &direct_body),
        };
        assert_eq!(decoded, page("acme.localhost").as_bytes());
        let shown = |headers: &HeaderMap| {
            let mut shown: Vec<(String, String)> = headers
                .iter()
                .filter(|(name, _)| !matches!(name.as_str(), "x-request-id" | "age" | "date"))
                .map(|(name, value)| (name.to_string(), value.to_str().unwrap().to_owned()))
                .collect();
            shown.sort();
            shown
        };
        assert_eq!(shown(&direct), shown(&phased), "{coding}");
        assert_eq!(header(&direct, "cache-status"), "edge; hit");
        assert!(direct.contains_key("age"), "{direct:?}");
    }
    assert_eq!(upstream.count("/status/"), 1);
    let cache = edge.admin(reqwest::Method::GET, "/cache").await;
    assert_eq!(cache["hits"], 8, "both kinds of hit are counted: {cache}");
}

#[tokio::test]
async fn nothing_private_is_stored_or_served_from_cache() {
    let upstream = Upstream::start();
    let edge = Edge::start(&upstream).await;

    // An answer setting a cookie is never stored.
    for _ in 0..3 {
        let (status, headers, _) = edge.get("acme.localhost", "/status/cookie", &[]).await;
        assert_eq!(status, 200);
        assert!(headers.contains_key("set-cookie"));
    }
    assert_eq!(upstream.count("/status/cookie"), 3);

    // Requests with credentials bypass the cache entirely: what they get is
    // neither stored for others nor taken from what others stored.
    let credentials: [(&str, &str); 3] = [
        ("authorization", "Bearer token"),
        ("cookie", "theme=dark; sw_access=token"),
        ("cookie", "sw_refresh=token"),
    ];
    for (name, value) in credentials {
        let (_, _, body) = edge
            .get("acme.localhost", "/status/who", &[(name, value)])
            .await;
        assert!(body.starts_with(b"someone"), "{name}");
    }
    let (_, headers, body) = edge.get("acme.localhost", "/status/who", &[]).await;
    assert!(body.starts_with(b"anyone"));
    assert!(header(&headers, "cache-status").contains("fwd=uri-miss"));
    assert_eq!(upstream.count("/status/who"), 4);
    // Now an anonymous answer is stored; credentialed requests still go to the app.
    for (name, value) in credentials {
        let (_, _, body) = edge
            .get("acme.localhost", "/status/who", &[(name, value)])
            .await;
        assert!(body.starts_with(b"someone"), "{name}");
    }
    assert_eq!(upstream.count("/status/who"), 7);
    let (_, headers, body) = edge.get("acme.localhost", "/status/who", &[]).await;
    assert!(body.starts_with(b"anyone"));
    assert_eq!(header(&headers, "cache-status"), "edge; hit");

    // Other methods are never answered from cache.
    let response = edge
        .client()
        .post(edge.url("acme.localhost", "/status/who"))
        .send()
        .await
        .unwrap();
    assert!(response.text().await.unwrap().starts_with("anyone"));
    assert_eq!(upstream.count("/status/who"), 8);

    let cache = edge.admin(reqwest::Method::GET, "/cache").await;
    assert_eq!(cache["entries"], 1, "only the anonymous page: {cache}");
    assert_eq!(cache["requests"]["bypass"], 10, "{cache}");
}

#[tokio::test]
async fn fifty_concurrent_cold_requests_make_one_upstream_request() {
    let upstream = Upstream::start();
    let edge = Edge::start(&upstream).await;
    let client = edge.client();
    let url = edge.url("acme.localhost", "/status/slow");
    let requests = (0..50).map(|_| {
        let (client, url) = (client.clone(), url.clone());
        tokio::spawn(async move {
            let response = client.get(url).send().await.unwrap();
            (response.status().as_u16(), response.text().await.unwrap())
        })
    });
    let answers = futures_join(requests).await;
    assert!(
        answers
            .iter()
            .all(|(status, body)| *status == 200 && *body == page("acme.localhost")),
        "every request got the page"
    );
    assert_eq!(
        upstream.count("/status/slow"),
        1,
        "coalesced by the cache lock"
    );
}

/// The promise on the status page: a state change shows within 10 s, also for
/// a visitor who comes when the cached copy has long expired (a stale copy is
/// only served inside `stale-while-revalidate`, which the app keeps short).
#[tokio::test]
async fn a_state_change_shows_within_ten_seconds_however_sparse_the_visitors() {
    let upstream = Upstream::start();
    let edge = Edge::start(&upstream).await;
    let (status, _, body) = edge.get("acme.localhost", "/status/versioned", &[]).await;
    assert_eq!((status, body.as_slice()), (200, &b"version 0"[..]));
    let changed = std::time::Instant::now();
    upstream.bump_version();
    tokio::time::sleep(Duration::from_millis(10_200)).await;
    let (status, headers, body) = edge.get("acme.localhost", "/status/versioned", &[]).await;
    assert_eq!(status, 200);
    assert_eq!(
        String::from_utf8(body).unwrap(),
        "version 1",
        "{:?} after the change the edge still served the old page ({headers:?})",
        changed.elapsed()
    );
}

async fn futures_join<T: Send + 'static>(
    tasks: impl Iterator<Item = tokio::task::JoinHandle<T>>,
) -> Vec<T> {
    let mut out = Vec::new();
    for task in tasks.collect::<Vec<_>>() {
        out.push(task.await.unwrap());
    }
    out
}

#[tokio::test]
async fn the_last_good_page_is_served_while_the_upstream_is_down() {
    let mut upstream = Upstream::start();
    let edge = Edge::start(&upstream).await;
    let (status, _, good) = edge.get("acme.localhost", "/status/short", &[]).await;
    assert_eq!(status, 200);
    upstream.stop();
    // Expired, and the app gone: first refused connects, then (after the health
    // check marks the node down) no healthy node at all.
    for wait in [1500, 3000] {
        tokio::time::sleep(Duration::from_millis(wait)).await;
        let (status, headers, body) = edge.get("acme.localhost", "/status/short", &[]).await;
        assert_eq!(status, 200, "{headers:?}");
        assert_eq!(body, good);
        assert_eq!(header(&headers, "cache-status"), "edge; hit; fwd=stale");
    }
    // Many visitors at once while every node is down: each gets the last good
    // page at once, none waits its turn behind a doomed upstream attempt (which
    // held the whole edge to about 10 answers a second).
    let client = edge.client();
    let url = edge.url("acme.localhost", "/status/short");
    let started = std::time::Instant::now();
    let requests = (0..200).map(|_| {
        let (client, url) = (client.clone(), url.clone());
        tokio::spawn(async move {
            let response = client.get(url).send().await.unwrap();
            let stale = response
                .headers()
                .get("cache-status")
                .is_some_and(|v| v == "edge; hit; fwd=stale");
            (
                response.status().as_u16(),
                stale,
                response.bytes().await.unwrap().to_vec(),
            )
        })
    });
    let answers = futures_join(requests).await;
    let took = started.elapsed();
    assert!(
        answers
            .iter()
            .all(|(status, stale, body)| *status == 200 && *stale && *body == good),
        "every visitor got the stale page"
    );
    assert!(
        took < Duration::from_secs(8),
        "200 stale answers took {took:?}"
    );
    // A page never cached has nothing to fall back on.
    let (status, _, _) = edge.get("beta.localhost", "/status/short", &[]).await;
    assert!(status >= 500, "{status}");
    let cache = edge.admin(reqwest::Method::GET, "/cache").await;
    assert_eq!(cache["stale_served"], 202, "{cache}");
    let metrics = edge.metrics().await;
    assert!(
        metrics.contains(r#"edge_cache_requests_total{result="stale"} 202"#),
        "{metrics}"
    );
}

#[tokio::test]
async fn cached_pages_are_sent_in_the_coding_asked_for() {
    let upstream = Upstream::start();
    let edge = Edge::start(&upstream).await;
    let original = page("acme.localhost");
    let (_, headers, _) = edge.get("acme.localhost", "/status/", &[]).await;
    let identity_tag = header(&headers, "etag").to_owned();
    assert_eq!(identity_tag, "\"v1\"");
    let mut tags = vec![identity_tag];
    for (accept, coding) in [
        ("gzip", "gzip"),
        ("br;q=0.9, gzip;q=0.5", "br"),
        ("zstd, gzip;q=0.5", "zstd"),
        ("gzip, deflate, br, zstd", "br"),
    ] {
        let (status, headers, body) = edge
            .get("acme.localhost", "/status/", &[("accept-encoding", accept)])
            .await;
        assert_eq!(status, 200);
        assert_eq!(header(&headers, "content-encoding"), coding, "{accept}");
        assert_eq!(header(&headers, "vary"), "Accept-Encoding");
        assert_eq!(header(&headers, "cache-status"), "edge; hit");
        let decoded = String::from_utf8(decode(coding, &body)).unwrap();
        assert_eq!(decoded, original, "{accept}");
        assert!(
            body.len() < original.len() / 3,
            "{accept}: {} bytes",
            body.len()
        );
        let tag = header(&headers, "etag").to_owned();
        assert_eq!(tag, format!("\"v1-{coding}\""));
        if !tags.contains(&tag) {
            tags.push(tag.clone());
        }
        // The tag of a coded form revalidates that form.
        let (status, _, _) = edge
            .get(
                "acme.localhost",
                "/status/",
                &[("accept-encoding", accept), ("if-none-match", &tag)],
            )
            .await;
        assert_eq!(status, 304, "{accept}");
    }
    assert_eq!(tags.len(), 4, "one tag per form: {tags:?}");
    // Refused codings are not sent.
    let (_, headers, body) = edge
        .get(
            "acme.localhost",
            "/status/",
            &[("accept-encoding", "gzip;q=0, identity")],
        )
        .await;
    assert!(!headers.contains_key("content-encoding"));
    assert_eq!(body, original.as_bytes());
    assert_eq!(upstream.count("/status/"), 1);
}

#[tokio::test]
async fn static_files_are_coded_once_at_load() {
    let upstream = Upstream::start();
    let edge = Edge::start(&upstream).await;
    // New files arrive with a reload, which codes them.
    let site = edge.dir.path().join("site");
    std::fs::create_dir_all(site.join("assets")).unwrap();
    std::fs::write(site.join("assets/app-1a2b.js"), script()).unwrap();
    let css = "p{color:red}\n".repeat(100);
    std::fs::write(site.join("assets/shipped-1a2b.css"), &css).unwrap();
    std::fs::write(site.join("assets/shipped-1a2b.css.gz"), "pretend-gzip").unwrap();
    let reloaded = edge.admin(reqwest::Method::POST, "/reload").await;
    assert_eq!(reloaded["static_files"], 3, "{reloaded}");
    let original = script();
    let (status, headers, body) = edge.get("localhost", "/assets/app-1a2b.js", &[]).await;
    assert_eq!((status, body.as_slice()), (200, original.as_bytes()));
    assert_eq!(header(&headers, "vary"), "Accept-Encoding");
    let mut tags = vec![header(&headers, "etag").to_owned()];
    for coding in ["gzip", "br", "zstd"] {
        let (status, headers, body) = edge
            .get(
                "localhost",
                "/assets/app-1a2b.js",
                &[("accept-encoding", coding)],
            )
            .await;
        assert_eq!(status, 200);
        assert_eq!(header(&headers, "content-encoding"), coding);
        assert_eq!(header(&headers, "vary"), "Accept-Encoding");
        assert_eq!(
            header(&headers, "content-length"),
            body.len().to_string(),
            "{coding}"
        );
        assert_eq!(decode(coding, &body), original.as_bytes(), "{coding}");
        assert!(body.len() < original.len() / 4, "{coding}: {}", body.len());
        let tag = header(&headers, "etag").to_owned();
        assert!(!tags.contains(&tag), "{coding}: {tag} {tags:?}");
        let (status, _, _) = edge
            .get(
                "localhost",
                "/assets/app-1a2b.js",
                &[("accept-encoding", coding), ("if-none-match", &tag)],
            )
            .await;
        assert_eq!(status, 304, "{coding}");
        tags.push(tag);
    }
    // q-values: gzip preferred over br here; q=0 refuses.
    let (_, headers, _) = edge
        .get(
            "localhost",
            "/assets/app-1a2b.js",
            &[("accept-encoding", "br;q=0.4, gzip;q=0.9")],
        )
        .await;
    assert_eq!(header(&headers, "content-encoding"), "gzip");
    let (_, headers, body) = edge
        .get(
            "localhost",
            "/assets/app-1a2b.js",
            &[("accept-encoding", "br;q=0, gzip;q=0, zstd;q=0")],
        )
        .await;
    assert!(!headers.contains_key("content-encoding"));
    assert_eq!(body.len(), original.len());
    // A shipped sibling is sent as shipped; the other codings are made at load.
    let (_, headers, body) = edge
        .get(
            "localhost",
            "/assets/shipped-1a2b.css",
            &[("accept-encoding", "gzip")],
        )
        .await;
    assert_eq!(header(&headers, "content-encoding"), "gzip");
    assert_eq!(body, b"pretend-gzip");
    let (_, headers, body) = edge
        .get(
            "localhost",
            "/assets/shipped-1a2b.css",
            &[("accept-encoding", "zstd")],
        )
        .await;
    assert_eq!(header(&headers, "content-encoding"), "zstd");
    assert_eq!(decode("zstd", &body), css.as_bytes());
}
