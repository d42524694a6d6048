//! The edge with real TLS clients: per-SNI certificates, unknown names,
//! HTTP/2, the SPA, proxying with forwarded headers, :80, admin API, limits.

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use axum::http::HeaderMap;
use serde_json::{Value, json};

use crate::harness::{Server, get_on, statuswatch, tls_connect};

/// A site like the SPA's build: index, a hashed asset of ~150 KB with a brotli sibling.
fn write_site(root: &Path) {
    std::fs::create_dir_all(root.join("assets")).unwrap();
    std::fs::write(
        root.join("index.html"),
        "<!doctype html><title>StatusWatch</title><p>spa</p>",
    )
    .unwrap();
    let js = "console.log('statuswatch');\n".repeat(5500);
    std::fs::write(root.join("assets/app-1a2b3c.js"), &js).unwrap();
    std::fs::write(root.join("assets/app-1a2b3c.js.br"), b"pretend-brotli").unwrap();
    std::fs::write(root.join("robots.txt"), "User-agent: *\n").unwrap();
}

/// An upstream that answers with what it received.
async fn echo_upstream() -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let app = axum::Router::new().fallback(
        |uri: axum::http::Uri, headers: HeaderMap, body: axum::body::Bytes| async move {
            let headers: serde_json::Map<String, Value> = headers
                .iter()
                .map(|(k, v)| (k.to_string(), json!(v.to_str().unwrap_or_default())))
                .collect();
            axum::Json(
                json!({ "path": uri.to_string(), "headers": headers, "body_len": body.len() }),
            )
        },
    );
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    addr
}

struct Edge {
    server: Server,
    _dir: tempfile::TempDir,
    ca_pem: String,
}

impl Edge {
    async fn start(extra: &[(&str, String)]) -> Self {
        Self::start_with(extra, &[]).await
    }

    /// Like [`Edge::start`], with `files` (path under the site, bytes) added to the site.
    async fn start_with(extra: &[(&str, String)], files: &[(&str, &[u8])]) -> Self {
        let dir = tempfile::tempdir().unwrap();
        write_site(&dir.path().join("site"));
        for (path, bytes) in files {
            std::fs::write(dir.path().join("site").join(path), bytes).unwrap();
        }
        let mut command = statuswatch(dir.path());
        command.env("STATUSWATCH__EDGE__STATIC_ROOT", dir.path().join("site"));
        for (key, value) in extra {
            command.env(key, value);
        }
        let mut server = Server::start(command, "serve", dir.path());
        server.wait_for("/health/ready/", 200).await;
        let ca = crate::harness::wait_for_file(&dir.path().join("ca/root.pem")).await;
        Self {
            server,
            _dir: dir,
            ca_pem: ca,
        }
    }

    fn client(&self, names: &[&str]) -> reqwest::Client {
        let mut builder = reqwest::Client::builder()
            .add_root_certificate(reqwest::Certificate::from_pem(self.ca_pem.as_bytes()).unwrap())
            .redirect(reqwest::redirect::Policy::none())
            .timeout(Duration::from_secs(10));
        for name in names {
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

    /// A raw TLS client trusting the edge's local CA, offering `alpn`.
    fn tls_connector(&self, alpn: &[&[u8]]) -> tokio_rustls::TlsConnector {
        crate::harness::tls_connector(&self.ca_pem, alpn)
    }

    /// The certificate chain a raw TLS client gets for `sni`, or the TLS error.
    async fn handshake(
        &self,
        sni: &str,
        alpn: &[&[u8]],
    ) -> Result<(Vec<u8>, Option<Vec<u8>>), rustls::Error> {
        let connector = self.tls_connector(alpn);
        let tcp = tokio::net::TcpStream::connect(("127.0.0.1", self.server.https_port))
            .await
            .unwrap();
        let name = rustls::pki_types::ServerName::try_from(sni.to_owned()).unwrap();
        match connector.connect(name, tcp).await {
            Ok(stream) => {
                let (_, conn) = stream.get_ref();
                let leaf = conn.peer_certificates().unwrap()[0].to_vec();
                Ok((leaf, conn.alpn_protocol().map(<[u8]>::to_vec)))
            }
            Err(err) => Err(err
                .into_inner()
                .and_then(|e| e.downcast::<rustls::Error>().ok())
                .map_or_else(|| rustls::Error::General("io".into()), |e| *e)),
        }
    }
}

#[tokio::test]
async fn authorised_names_get_their_own_certificates_others_are_refused() {
    let edge = Edge::start(&[]).await;
    let client = edge.client(&["localhost", "acme.localhost", "beta.localhost"]);
    for (slug, email) in [("acme", "ann@acme.example"), ("beta", "bob@beta.example")] {
        let signup = client
            .post(edge.url("localhost", "/api/auth/signup"))
            .json(&json!({ "organization": slug, "slug": slug, "email": email, "password": "tangerine-umbrella-42" }))
            .send()
            .await
            .unwrap();
        assert_eq!(signup.status(), 201, "{}", signup.text().await.unwrap());
    }
    let (acme, _) = edge
        .handshake("acme.localhost", &[b"http/1.1"])
        .await
        .unwrap();
    let (beta, _) = edge
        .handshake("beta.localhost", &[b"http/1.1"])
        .await
        .unwrap();
    assert_ne!(acme, beta, "each name has its own certificate");
    let page = client
        .get(edge.url("acme.localhost", "/"))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 200);

    let refused = edge.handshake("evil.localhost", &[]).await.unwrap_err();
    assert_eq!(
        refused,
        rustls::Error::AlertReceived(rustls::AlertDescription::UnrecognisedName)
    );
    // A flood of the same unknown name costs no further policy queries (negative cache).
    for _ in 0..20 {
        assert!(edge.handshake("evil.localhost", &[]).await.is_err());
    }
    let certs: Value = reqwest::get(format!("http://127.0.0.1:{}/certs", edge.server.admin_port))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let states: Vec<(String, String)> = certs
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["name"].as_str().unwrap().to_owned(),
                c["state"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert!(
        states.contains(&("acme.localhost".into(), "ready".into())),
        "{states:?}"
    );
    assert!(
        states.contains(&("evil.localhost".into(), "refused".into())),
        "{states:?}"
    );
    let metrics = reqwest::get(format!(
        "http://127.0.0.1:{}/metrics",
        edge.server.admin_port
    ))
    .await
    .unwrap()
    .text()
    .await
    .unwrap();
    assert!(
        metrics.contains(r#"edge_tls_handshakes_total{outcome="unknown_name"} 21"#),
        "{metrics}"
    );
    // localhost, acme, beta and evil: one policy query each, however many handshakes.
    assert!(metrics.contains("edge_cert_policy_queries 4"), "{metrics}");
}

#[tokio::test]
async fn aes128_is_chosen_unless_the_client_ranks_chacha_first() {
    use rustls::CipherSuite::{
        TLS13_AES_128_GCM_SHA256, TLS13_AES_256_GCM_SHA384, TLS13_CHACHA20_POLY1305_SHA256,
    };
    let edge = Edge::start(&[]).await;
    for (offered, expected) in [
        // OpenSSL's default ranking: the server's choice wins.
        (
            vec![
                TLS13_AES_256_GCM_SHA384,
                TLS13_CHACHA20_POLY1305_SHA256,
                TLS13_AES_128_GCM_SHA256,
            ],
            TLS13_AES_128_GCM_SHA256,
        ),
        // A client without AES hardware: its ranking wins.
        (
            vec![
                TLS13_CHACHA20_POLY1305_SHA256,
                TLS13_AES_256_GCM_SHA384,
                TLS13_AES_128_GCM_SHA256,
            ],
            TLS13_CHACHA20_POLY1305_SHA256,
        ),
        // Whatever the ranking, only offered suites are used.
        (vec![TLS13_AES_256_GCM_SHA384], TLS13_AES_256_GCM_SHA384),
    ] {
        let connector = crate::harness::tls_connector_offering(&edge.ca_pem, &offered);
        let tcp = tokio::net::TcpStream::connect(("127.0.0.1", edge.server.https_port))
            .await
            .unwrap();
        let name = rustls::pki_types::ServerName::try_from("localhost").unwrap();
        let stream = connector.connect(name, tcp).await.unwrap();
        let suite = stream.get_ref().1.negotiated_cipher_suite().unwrap();
        assert_eq!(suite.suite(), expected, "offered {offered:?}");
    }
}

#[tokio::test]
async fn http2_and_http1_are_negotiated_by_alpn() {
    let edge = Edge::start(&[]).await;
    let (_, h2) = edge
        .handshake("localhost", &[b"h2", b"http/1.1"])
        .await
        .unwrap();
    assert_eq!(h2.as_deref(), Some(&b"h2"[..]));
    let (_, h1) = edge.handshake("localhost", &[b"http/1.1"]).await.unwrap();
    assert_eq!(h1.as_deref(), Some(&b"http/1.1"[..]));
    let client = edge.client(&["localhost"]);
    let response = client
        .get(edge.url("localhost", "/health/ready/"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.version(), reqwest::Version::HTTP_2);
    assert_eq!(response.status(), 200);
    // HEAD of an app path over HTTP/2: the head and a clean end of stream.
    for path in ["/health/ready/", "/api/me"] {
        let head = client
            .head(edge.url("localhost", path))
            .send()
            .await
            .unwrap_or_else(|e| panic!("HEAD {path} over HTTP/2: {e:?}"));
        assert_eq!(head.version(), reqwest::Version::HTTP_2);
        assert!(
            head.status() == 200 || head.status() == 401,
            "HEAD {path}: {}",
            head.status()
        );
        assert!(head.bytes().await.unwrap().is_empty());
    }
}

#[tokio::test]
async fn the_spa_is_served_with_validators_ranges_and_cache_policy() {
    let edge = Edge::start(&[]).await;
    let client = edge.client(&["localhost"]);
    let get = |path: &str| client.get(edge.url("localhost", path));

    let index = get("/").send().await.unwrap();
    assert_eq!(index.status(), 200);
    assert_eq!(index.headers()["cache-control"], "no-cache");
    assert!(
        index.headers()["content-security-policy"]
            .to_str()
            .unwrap()
            .contains("frame-ancestors 'none'")
    );
    assert_eq!(index.headers()["x-content-type-options"], "nosniff");
    assert!(index.text().await.unwrap().contains("spa"));

    let page = get("/dashboard/monitors").send().await.unwrap();
    assert_eq!(page.status(), 200, "pages fall back to index.html");
    assert_eq!(page.headers()["cache-control"], "no-cache");
    assert_eq!(
        get("/assets/missing-123.js").send().await.unwrap().status(),
        404
    );
    assert_eq!(get("/nope.png").send().await.unwrap().status(), 404);
    // Clients may normalise dot segments away; whatever arrives, nothing outside the root is served.
    for traversal in [
        "/assets/../../etc/passwd",
        "/%2e%2e/%2e%2e/etc/passwd",
        "/assets/..%2f..%2fCargo.toml",
    ] {
        let response = get(traversal).send().await.unwrap();
        let status = response.status();
        let body = response.text().await.unwrap();
        assert!(
            !body.contains("root:") && !body.contains("[package]"),
            "{traversal} leaked a file"
        );
        assert!(
            status == 404 || status == 400 || body.contains("<p>spa</p>"),
            "{traversal}: {status} {body}"
        );
    }

    let asset = get("/assets/app-1a2b3c.js").send().await.unwrap();
    assert_eq!(asset.status(), 200);
    assert_eq!(
        asset.headers()["cache-control"],
        "public, max-age=31536000, immutable"
    );
    let etag = asset.headers()["etag"].to_str().unwrap().to_owned();
    assert_eq!(asset.bytes().await.unwrap().len(), 28 * 5500);

    let revalidated = get("/assets/app-1a2b3c.js")
        .header("if-none-match", &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(revalidated.status(), 304);
    let ranged = get("/assets/app-1a2b3c.js")
        .header("range", "bytes=0-9")
        .send()
        .await
        .unwrap();
    assert_eq!(ranged.status(), 206);
    assert_eq!(
        ranged.headers()["content-range"],
        format!("bytes 0-9/{}", 28 * 5500)
    );
    assert_eq!(ranged.bytes().await.unwrap().as_ref(), b"console.lo");
    let unsatisfiable = get("/assets/app-1a2b3c.js")
        .header("range", "bytes=999999-")
        .send()
        .await
        .unwrap();
    assert_eq!(unsatisfiable.status(), 416);

    let brotli = get("/assets/app-1a2b3c.js")
        .header("accept-encoding", "br")
        .send()
        .await
        .unwrap();
    assert_eq!(brotli.headers()["content-encoding"], "br");
    assert_eq!(
        brotli.bytes().await.unwrap().as_ref(),
        b"pretend-brotli",
        "the precompressed sibling is served"
    );
    let gzip = get("/")
        .header("accept-encoding", "gzip")
        .send()
        .await
        .unwrap();
    assert_eq!(
        gzip.headers()
            .get("content-encoding")
            .map(|v| v.to_str().unwrap()),
        Some("gzip"),
        "compressed on the fly"
    );

    assert_eq!(
        client
            .post(edge.url("localhost", "/"))
            .send()
            .await
            .unwrap()
            .status(),
        405
    );
    assert_eq!(
        get("/metrics").send().await.unwrap().status(),
        404,
        "the app's metrics stay internal"
    );
}

#[tokio::test]
async fn api_paths_are_proxied_with_forwarded_headers_and_limits() {
    let upstream = echo_upstream().await;
    let edge = Edge::start(&[
        ("STATUSWATCH__EDGE__APP_UPSTREAMS", upstream.to_string()),
        ("STATUSWATCH__EDGE__MAX_BODY_BYTES", "1000".to_owned()),
    ])
    .await;
    let client = edge.client(&["localhost"]);
    let echoed: Value = client
        .get(edge.url("localhost", "/api/things?x=1"))
        .header("x-forwarded-for", "6.6.6.6")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(echoed["path"], "/api/things?x=1");
    let headers = &echoed["headers"];
    assert_eq!(
        headers["x-forwarded-for"], "6.6.6.6, 127.0.0.1",
        "appended, not replaced: {headers}"
    );
    assert_eq!(headers["x-forwarded-proto"], "https");
    assert_eq!(
        headers["x-forwarded-host"],
        format!("localhost:{}", edge.server.https_port)
    );
    assert!(
        headers["x-request-id"].as_str().unwrap().len() > 8,
        "{headers}"
    );

    // API answers are compressed for clients that ask, and only for them.
    let compressed = client
        .get(edge.url("localhost", "/api/things"))
        .header("accept-encoding", "gzip")
        .send()
        .await
        .unwrap();
    assert_eq!(compressed.headers()["content-encoding"], "gzip");
    assert!(
        compressed.headers()["vary"]
            .to_str()
            .unwrap()
            .eq_ignore_ascii_case("accept-encoding"),
        "{:?}",
        compressed.headers()
    );
    assert_eq!(&compressed.bytes().await.unwrap()[..2], b"\x1f\x8b");
    let identity = client
        .get(edge.url("localhost", "/api/things"))
        .send()
        .await
        .unwrap();
    assert!(identity.headers().get("content-encoding").is_none());
    let identity: Value = identity.json().await.unwrap();
    assert_eq!(identity["path"], "/api/things");

    let small = client
        .post(edge.url("localhost", "/api/things"))
        .body(vec![b'x'; 900])
        .send()
        .await
        .unwrap();
    assert_eq!(small.status(), 200);
    let large = client
        .post(edge.url("localhost", "/api/things"))
        .body(vec![b'x'; 5000])
        .send()
        .await
        .unwrap();
    assert_eq!(large.status(), 413);
    let huge_header = client
        .get(edge.url("localhost", "/api/things"))
        .header("x-big", "y".repeat(40 * 1024))
        .send()
        .await
        .unwrap();
    assert_eq!(huge_header.status(), 431);
}

/// An upstream whose every answer is an event stream that sends one event
/// at once and then stays open, as `GET /api/events` does.
async fn event_stream_upstream() -> SocketAddr {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        loop {
            let (mut socket, _) = listener.accept().await.unwrap();
            tokio::spawn(async move {
                let mut request = Vec::new();
                let mut buf = [0u8; 4096];
                while !request.windows(4).any(|w| w == b"\r\n\r\n") {
                    match socket.read(&mut buf).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => request.extend_from_slice(&buf[..n]),
                    }
                }
                let event = "retry: 3000\n\nid: 1\nevent: monitor.check\ndata: {\"ok\":true}\n\n";
                let head = "HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ncache-control: no-cache\r\ntransfer-encoding: chunked\r\n\r\n";
                let chunk = format!("{head}{:x}\r\n{event}\r\n", event.len());
                if socket.write_all(chunk.as_bytes()).await.is_ok() {
                    tokio::time::sleep(Duration::from_secs(30)).await;
                }
            });
        }
    });
    addr
}

#[tokio::test]
async fn event_streams_reach_the_client_at_once_and_uncompressed() {
    let upstream = event_stream_upstream().await;
    let edge = Edge::start(&[("STATUSWATCH__EDGE__APP_UPSTREAMS", upstream.to_string())]).await;
    let client = edge.client(&["localhost"]);
    // Browsers always offer gzip: a compressor would hold the event back.
    for encodings in ["gzip, deflate, br, zstd", "identity"] {
        let mut response = client
            .get(edge.url("localhost", "/api/events"))
            .header("accept-encoding", encodings)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
        assert!(
            response.headers().get("content-encoding").is_none(),
            "{encodings}: {:?}",
            response.headers()
        );
        let first = tokio::time::timeout(Duration::from_secs(5), response.chunk())
            .await
            .unwrap_or_else(|_| panic!("{encodings}: no event within 5 s"))
            .unwrap()
            .unwrap();
        let text = String::from_utf8_lossy(&first);
        assert!(text.starts_with("retry: 3000"), "{encodings}: {text}");
    }
}

#[tokio::test]
async fn plain_http_redirects_answers_challenges_and_health() {
    let edge = Edge::start(&[]).await;
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let base = format!("http://127.0.0.1:{}", edge.server.http_port);
    let redirect = client
        .get(format!("{base}/dashboard?tab=2"))
        .header("host", "acme.localhost")
        .send()
        .await
        .unwrap();
    assert_eq!(redirect.status(), 308);
    assert_eq!(
        redirect.headers()["location"],
        format!(
            "https://acme.localhost:{}/dashboard?tab=2",
            edge.server.https_port
        )
    );
    let challenge = client
        .get(format!("{base}/.well-known/acme-challenge/unknown-token"))
        .send()
        .await
        .unwrap();
    assert_eq!(challenge.status(), 404);
    let health = client.get(format!("{base}/health/")).send().await.unwrap();
    assert_eq!(
        health.status(),
        200,
        "load balancers may check /health/ over plain http"
    );
    let bad_host = client
        .get(format!("{base}/"))
        .header("host", "bad host/x")
        .send()
        .await
        .unwrap();
    assert_eq!(bad_host.status(), 400);
}

#[tokio::test]
async fn the_admin_api_needs_its_token_when_one_is_set() {
    let token = "an-admin-token-long-enough-123";
    let mut edge = Edge::start(&[("STATUSWATCH__EDGE__ADMIN_TOKEN", token.to_owned())]).await;
    let admin = format!("http://127.0.0.1:{}", edge.server.admin_port);
    let client = reqwest::Client::new();
    let refused = client.get(format!("{admin}/certs")).send().await.unwrap();
    assert_eq!(refused.status(), 401);
    let wrong = client
        .get(format!("{admin}/certs"))
        .bearer_auth("an-admin-token-long-enough-124")
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), 401);
    let ok = client
        .get(format!("{admin}/upstreams"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    assert_eq!(ok.status(), 200);
    let upstreams: Value = ok.json().await.unwrap();
    assert_eq!(
        upstreams[0]["address"],
        edge.server.base.trim_start_matches("http://")
    );
    let reloaded = client
        .post(format!("{admin}/reload"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    assert_eq!(reloaded.status(), 200, "{}", reloaded.text().await.unwrap());
    assert!(edge.server.stop().success(), "{}", edge.server.log());
}

#[tokio::test]
async fn a_slowloris_client_is_cut_off() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let edge = Edge::start(&[("STATUSWATCH__EDGE__READ_TIMEOUT_SECONDS", "2".to_owned())]).await;
    let tcp = tokio::net::TcpStream::connect(("127.0.0.1", edge.server.https_port))
        .await
        .unwrap();
    let name = rustls::pki_types::ServerName::try_from("localhost").unwrap();
    let mut tls = edge.tls_connector(&[]).connect(name, tcp).await.unwrap();
    tls.write_all(b"GET / HTTP/1.1\r\nHost: localhost\r\n")
        .await
        .unwrap();
    let started = std::time::Instant::now();
    // One header line every 300 ms: each byte is "on time", the request never ends.
    let cut_off = loop {
        if tls.write_all(b"X-Slow: 1\r\n").await.is_err() {
            break started.elapsed();
        }
        let mut buf = [0_u8; 64];
        match tokio::time::timeout(Duration::from_millis(300), tls.read(&mut buf)).await {
            Ok(Ok(0) | Err(_)) => break started.elapsed(),
            Ok(Ok(_)) => panic!("the server answered a request that never finished"),
            Err(_) => {}
        }
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "slowloris connection still open after 10 s"
        );
    };
    assert!(
        cut_off >= Duration::from_millis(1500) && cut_off < Duration::from_secs(6),
        "cut off after {cut_off:?}"
    );
}

#[tokio::test]
async fn a_slow_read_client_is_cut_off_and_others_are_served() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    // A 24 MB image (served as is, not compressed): far more than the
    // socket buffers between the edge and a client hold.
    const LARGE: usize = 24 * 1024 * 1024;
    let large: Vec<u8> = (0..LARGE).map(|i| (i % 251) as u8).collect();
    let edge = Edge::start_with(
        &[("STATUSWATCH__EDGE__WRITE_TIMEOUT_SECONDS", "2".to_owned())],
        &[("assets/large.png", &large)],
    )
    .await;
    // A small receive window, so the edge's writes block soon.
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.set_recv_buffer_size(4096).unwrap();
    let tcp = socket
        .connect(SocketAddr::from(([127, 0, 0, 1], edge.server.https_port)))
        .await
        .unwrap();
    let name = rustls::pki_types::ServerName::try_from("localhost").unwrap();
    let mut tls = edge.tls_connector(&[]).connect(name, tcp).await.unwrap();
    tls.write_all(b"GET /assets/large.png HTTP/1.1\r\nHost: localhost\r\n\r\n")
        .await
        .unwrap();
    // Read a little, then nothing for longer than the write timeout.
    let mut buf = vec![0_u8; 64 * 1024];
    let mut total = tls.read(&mut buf).await.unwrap();
    tokio::time::sleep(Duration::from_secs(6)).await;
    // Others are served while it stalls.
    let response = edge
        .client(&["localhost"])
        .get(format!("https://localhost:{}/", edge.server.https_port))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    // Now read as fast as possible: what the buffers held, then the end.
    let began = std::time::Instant::now();
    loop {
        match tokio::time::timeout(Duration::from_secs(10), tls.read(&mut buf)).await {
            Ok(Ok(0) | Err(_)) => break,
            Ok(Ok(n)) => total += n,
            Err(_) => panic!("the connection is still open after {total} bytes"),
        }
    }
    assert!(
        total < LARGE / 2,
        "the edge wrote {total} of {LARGE} bytes to a client that stopped reading"
    );
    assert!(began.elapsed() < Duration::from_secs(10));
}

#[tokio::test]
async fn the_local_ca_can_be_exported_for_browsers_and_curl() {
    let dir = tempfile::tempdir().unwrap();
    let (status, first, stderr) =
        crate::harness::output(statuswatch(dir.path()).args(["certs", "export-ca"]));
    assert!(status.success(), "{stderr}");
    assert!(first.starts_with("-----BEGIN CERTIFICATE-----"), "{first}");
    let (_, second, _) =
        crate::harness::output(statuswatch(dir.path()).args(["certs", "export-ca"]));
    assert_eq!(first, second, "the root is created once and kept");
    assert_eq!(
        std::fs::read_to_string(dir.path().join("ca/root.pem")).unwrap(),
        first
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(dir.path().join("ca/root.key"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o077, 0, "the CA key must be private");
    }
}

#[tokio::test]
async fn edge_and_app_run_as_separate_nodes_on_postgres() {
    let pg = app::test_support::PgTestDb::create().await;
    let (app_dir, edge_dir) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let mut app_command = statuswatch(app_dir.path());
    app_command.env("STATUSWATCH__DATABASE__URL", pg.url());
    let mut app_node = Server::start(app_command, "app", app_dir.path());
    app_node.wait_for("/health/ready/", 200).await;

    write_site(&edge_dir.path().join("site"));
    let mut edge_command = statuswatch(edge_dir.path());
    edge_command
        .env("STATUSWATCH__DATABASE__URL", pg.url())
        .env(
            "STATUSWATCH__EDGE__STATIC_ROOT",
            edge_dir.path().join("site"),
        )
        .env(
            "STATUSWATCH__EDGE__APP_UPSTREAMS",
            app_node.base.trim_start_matches("http://"),
        );
    let mut edge_node = Server::start(edge_command, "edge", edge_dir.path());
    let admin = format!("http://127.0.0.1:{}/health", edge_node.admin_port);
    edge_node.wait_for_url(&admin, 200).await;
    let ca = crate::harness::wait_for_file(&edge_dir.path().join("ca/root.pem")).await;
    let client = reqwest::Client::builder()
        .add_root_certificate(reqwest::Certificate::from_pem(ca.as_bytes()).unwrap())
        .resolve(
            "localhost",
            SocketAddr::from(([127, 0, 0, 1], edge_node.https_port)),
        )
        .http1_only()
        .build()
        .unwrap();
    let ready: Value = client
        .get(format!(
            "https://localhost:{}/health/ready/",
            edge_node.https_port
        ))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(ready["database"], "postgres", "{ready}");
    assert!(
        !edge_dir.path().join("statuswatch.db").exists(),
        "the edge node made a SQLite file"
    );
    // An idle HTTP/1.1 keep-alive connection does not hold the shutdown.
    let started = std::time::Instant::now();
    assert!(edge_node.stop().success(), "{}", edge_node.log());
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "shutdown took {:?}",
        started.elapsed()
    );
    assert!(app_node.stop().success(), "{}", app_node.log());
}

/// A client keeps requesting through the edge — on fresh connections and on
/// a keep-alive one — while a new process takes over the listening sockets.
/// (Several workers: the harness waits for the old process with blocking
/// calls, which must not stall the clients.)
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_binary_upgrade_drops_no_request() {
    let edge = Edge::start(&[]).await;
    let dir = edge._dir.path().to_owned();
    let port = edge.server.https_port;
    let ca = edge.ca_pem.clone();
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let client_for = |keepalive: bool| {
        let mut builder = reqwest::Client::builder()
            .add_root_certificate(reqwest::Certificate::from_pem(ca.as_bytes()).unwrap())
            .resolve("localhost", SocketAddr::from(([127, 0, 0, 1], port)))
            .http1_only()
            .timeout(Duration::from_secs(10));
        if !keepalive {
            builder = builder.pool_max_idle_per_host(0);
        }
        builder.build().unwrap()
    };
    let mut loads = Vec::new();
    let mut counters = Vec::new();
    for keepalive in [true, false] {
        let (client, stop) = (client_for(keepalive), stop.clone());
        let done = Arc::new(std::sync::atomic::AtomicU32::new(0));
        counters.push(done.clone());
        loads.push(tokio::spawn(async move {
            let (mut ok, mut failed) = (0_u32, Vec::new());
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                match client
                    .get(format!("https://localhost:{port}/health/ready/"))
                    .send()
                    .await
                {
                    Ok(response) if response.status() == 200 => ok += 1,
                    Ok(response) => failed.push(format!("status {}", response.status())),
                    Err(err) => failed.push(format!("keepalive={keepalive}: {err:?}")),
                }
                done.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
            (ok, failed)
        }));
    }
    // Counted in requests, not time: a loaded CI machine makes fewer per second.
    let made = |i: usize| counters[i].load(std::sync::atomic::Ordering::Relaxed);
    let wait_for_more = |base: [u32; 2]| {
        let made = &made;
        async move {
            let deadline = std::time::Instant::now() + Duration::from_secs(30);
            while (made(0) < base[0] + 10 || made(1) < base[1] + 10)
                && std::time::Instant::now() < deadline
            {
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        }
    };
    wait_for_more([0, 0]).await;

    let mut old = edge.server;
    let mut command = statuswatch(&dir);
    command.env("STATUSWATCH__EDGE__STATIC_ROOT", dir.join("site"));
    let mut new = old.successor(command, &dir);
    // The successor waits on the upgrade socket; then the old process hands over.
    crate::harness::wait_for_path(&dir.join("upgrade.sock")).await;
    old.signal("QUIT");
    let status = old.wait_exit(Duration::from_secs(15));
    assert!(status.success(), "old process: {status}\n{}", old.log());
    assert!(
        old.log().contains("handed to the successor"),
        "{}",
        old.log()
    );
    // Both clients keep going on the successor for a while.
    wait_for_more([made(0), made(1)]).await;
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    for load in loads {
        let (ok, failed) = load.await.unwrap();
        assert!(
            failed.is_empty(),
            "{} of {} requests failed across the upgrade: {failed:?}\nOLD:\n{}\nNEW:\n{}",
            failed.len(),
            ok as usize + failed.len(),
            old.log(),
            new.log()
        );
        assert!(ok >= 20, "only {ok} requests made");
    }
    let after = reqwest::get(format!("http://127.0.0.1:{}/health", new.admin_port))
        .await
        .unwrap();
    assert_eq!(
        after.status(),
        200,
        "the successor serves the admin API on the same port"
    );
    assert!(new.stop().success(), "{}", new.log());
}

#[tokio::test]
async fn hostile_tls_input_and_a_bad_reload_change_nothing() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let token = "an-admin-token-long-enough-123";
    let edge = Edge::start(&[("STATUSWATCH__EDGE__ADMIN_TOKEN", token.to_owned())]).await;
    // Plain HTTP and random bytes on the TLS port get an alert or a close, never an answer.
    for junk in [
        &b"GET / HTTP/1.1\r\nHost: localhost\r\n\r\n"[..],
        &[0x16, 0x03, 0x01, 0xff, 0xff, 0x00, 0x00][..],
    ] {
        let mut tcp = tokio::net::TcpStream::connect(("127.0.0.1", edge.server.https_port))
            .await
            .unwrap();
        tcp.write_all(junk).await.unwrap();
        let mut buf = Vec::new();
        let read = tokio::time::timeout(Duration::from_secs(5), tcp.read_to_end(&mut buf)).await;
        assert!(read.is_ok(), "the edge kept a junk connection open");
        assert!(
            !String::from_utf8_lossy(&buf).contains("HTTP/1.1"),
            "answered junk: {buf:?}"
        );
    }
    let admin = format!("http://127.0.0.1:{}", edge.server.admin_port);
    let metrics = reqwest::Client::new()
        .get(format!("{admin}/metrics"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        metrics.contains(r#"edge_tls_handshakes_total{outcome="malformed"}"#),
        "{metrics}"
    );

    // A reload that cannot read the new static root keeps serving the old site.
    let site = edge._dir.path().join("site");
    std::fs::rename(&site, edge._dir.path().join("moved")).unwrap();
    let reload = reqwest::Client::new()
        .post(format!("{admin}/reload"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    assert_eq!(reload.status(), 422);
    let body: Value = reload.json().await.unwrap();
    assert_eq!(body["code"], "static_root", "{body}");
    let page = edge
        .client(&["localhost"])
        .get(edge.url("localhost", "/"))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 200);
    assert!(page.text().await.unwrap().contains("<p>spa</p>"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idle_keep_alive_connections_do_not_hold_up_a_shutdown() {
    let mut edge = Edge::start(&[("STATUSWATCH__EDGE__DRAIN_SECONDS", "30".to_owned())]).await;
    let h2 = edge.client(&["localhost"]);
    let answer = h2
        .get(edge.url("localhost", "/health/ready/"))
        .send()
        .await
        .unwrap();
    assert_eq!(answer.version(), reqwest::Version::HTTP_2);
    let h1 = reqwest::Client::builder()
        .add_root_certificate(reqwest::Certificate::from_pem(edge.ca_pem.as_bytes()).unwrap())
        .resolve(
            "localhost",
            SocketAddr::from(([127, 0, 0, 1], edge.server.https_port)),
        )
        .http1_only()
        .build()
        .unwrap();
    let answer = h1
        .get(edge.url("localhost", "/health/ready/"))
        .send()
        .await
        .unwrap();
    assert_eq!(answer.version(), reqwest::Version::HTTP_11);

    // Both clients now hold an idle connection. HTTP/1 ones are closed
    // between requests, HTTP/2 ones get a GOAWAY: neither waits out the 30 s.
    let started = std::time::Instant::now();
    edge.server.signal("TERM");
    let status = tokio::task::block_in_place(|| edge.server.wait_exit(Duration::from_secs(25)));
    let took = started.elapsed();
    assert!(status.success(), "{}", edge.server.log());
    assert!(
        took < Duration::from_secs(5),
        "idle connections held the shutdown for {took:?}"
    );
    drop((h1, h2));
}

/// An upstream that reads one request per connection, counts it, and hangs up without answering.
async fn hang_up_upstream() -> (SocketAddr, Arc<std::sync::atomic::AtomicUsize>) {
    use tokio::io::AsyncReadExt;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let seen = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let counter = seen.clone();
    tokio::spawn(async move {
        loop {
            let (mut tcp, _) = listener.accept().await.unwrap();
            let counter = counter.clone();
            tokio::spawn(async move {
                let mut buf = vec![0_u8; 4096];
                if tcp.read(&mut buf).await.unwrap_or(0) > 0 {
                    counter.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                }
            });
        }
    });
    (addr, seen)
}

#[tokio::test]
async fn a_dead_app_node_is_skipped_and_only_connect_failures_are_retried() {
    // Two nodes; one dies after the edge's health check has seen it up. Until
    // the next check (every 2 s) round robin still picks it, and every request
    // is answered anyway, because a refused connect is retried on the next node.
    let live = echo_upstream().await;
    let mut dying = Some(tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap());
    let dead = dying.as_ref().unwrap().local_addr().unwrap().port();
    let edge = Edge::start(&[(
        "STATUSWATCH__EDGE__APP_UPSTREAMS",
        format!("127.0.0.1:{dead}, {live}"),
    )])
    .await;
    let client = edge.client(&["localhost"]);
    let admin = format!("http://127.0.0.1:{}/upstreams", edge.server.admin_port);
    let dead_is_healthy = || async {
        let nodes: Value = reqwest::get(&admin).await.unwrap().json().await.unwrap();
        let dead_node = nodes
            .as_array()
            .unwrap()
            .iter()
            .find(|n| n["address"] == format!("127.0.0.1:{dead}"))
            .cloned()
            .unwrap();
        dead_node["healthy"] == json!(true)
    };
    // If a health check happens to run between the node's death and the
    // requests, none of them was sent to it: revive it and try again.
    let mut proven = false;
    for _ in 0..5 {
        let listener = match dying.take() {
            Some(listener) => listener,
            None => tokio::net::TcpListener::bind(("127.0.0.1", dead))
                .await
                .unwrap(),
        };
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        while !dead_is_healthy().await {
            assert!(std::time::Instant::now() < deadline, "node never healthy");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        drop(listener);
        for i in 0..10 {
            let answer = client
                .get(edge.url("localhost", &format!("/api/n{i}")))
                .send()
                .await
                .unwrap();
            assert_eq!(answer.status(), 200, "request {i}");
        }
        if dead_is_healthy().await {
            proven = true;
            break;
        }
    }
    assert!(proven, "a health check ran in every window");
    // The active health check then marks the dead node down.
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while dead_is_healthy().await {
        assert!(
            std::time::Instant::now() < deadline,
            "dead node still healthy"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    drop(edge);

    // A node that took the request and then failed is not asked again, nor
    // is any other: the app may have acted on it.
    let (hang_up, seen) = hang_up_upstream().await;
    let edge = Edge::start(&[(
        "STATUSWATCH__EDGE__APP_UPSTREAMS",
        format!("{hang_up}, {live}"),
    )])
    .await;
    let client = edge.client(&["localhost"]);
    let mut failed = 0;
    for i in 0..4 {
        let answer = client
            .post(edge.url("localhost", &format!("/api/pay{i}")))
            .body("once")
            .send()
            .await
            .unwrap();
        if answer.status() == 502 {
            failed += 1;
        } else {
            assert_eq!(answer.status(), 200);
        }
    }
    // Round robin sends half of them to the node that hangs up; each reached it once.
    assert_eq!(failed, 2);
    assert_eq!(seen.load(std::sync::atomic::Ordering::SeqCst), 2);
}

#[tokio::test]
async fn the_connection_cap_idle_timeout_and_hsts_are_applied() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let edge = Edge::start(&[
        ("STATUSWATCH__EDGE__MAX_CONNECTIONS", "2".to_owned()),
        ("STATUSWATCH__EDGE__KEEPALIVE_SECONDS", "1".to_owned()),
        ("STATUSWATCH__EDGE__HSTS_MAX_AGE", "31536000".to_owned()),
        (
            "STATUSWATCH__EDGE__HSTS_INCLUDE_SUBDOMAINS",
            "true".to_owned(),
        ),
        ("STATUSWATCH__EDGE__HSTS_PRELOAD", "true".to_owned()),
    ])
    .await;
    let connect = || tls_connect(&edge.ca_pem, edge.server.https_port, "localhost");
    let first = connect().await.unwrap();
    let mut second = connect().await.unwrap();
    assert!(
        connect().await.is_err(),
        "a third connection was served with a cap of two"
    );

    // An answer carries the configured HSTS; then the idle connection is closed
    // after its keep-alive second, not held open, and with a TLS close_notify
    // (without one, rustls's `read_to_end` fails with an unexpected EOF).
    second
        .write_all(b"GET /health/ready/ HTTP/1.1\r\nHost: localhost\r\n\r\n")
        .await
        .unwrap();
    let started = std::time::Instant::now();
    let mut answer = Vec::new();
    tokio::time::timeout(Duration::from_secs(10), second.read_to_end(&mut answer))
        .await
        .expect("the idle connection was never closed")
        .unwrap();
    let took = started.elapsed();
    let answer = String::from_utf8_lossy(&answer).to_ascii_lowercase();
    assert!(answer.starts_with("http/1.1 200"), "{answer}");
    assert!(
        answer.contains("strict-transport-security: max-age=31536000; includesubdomains; preload"),
        "{answer}"
    );
    assert!(
        took >= Duration::from_millis(900) && took < Duration::from_secs(5),
        "closed after {took:?}"
    );

    // Closed connections free their places.
    drop((first, second));
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    while connect().await.is_err() {
        assert!(
            std::time::Instant::now() < deadline,
            "no place freed after both connections closed"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// A plain-HTTP connection to the edge from the loopback address `source`.
async fn plain_from(source: &str, port: u16) -> tokio::net::TcpStream {
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.bind(format!("{source}:0").parse().unwrap()).unwrap();
    socket
        .connect(SocketAddr::from(([127, 0, 0, 1], port)))
        .await
        .unwrap()
}

/// Whether the edge answers `GET /health/` on `stream` (rather than closing it unanswered).
async fn answered(mut stream: tokio::net::TcpStream) -> bool {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let asked = stream
        .write_all(b"GET /health/ HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
        .await;
    let mut answer = Vec::new();
    let read = tokio::time::timeout(Duration::from_secs(5), stream.read_to_end(&mut answer))
        .await
        .expect("neither answered nor closed");
    asked.is_ok() && read.is_ok() && answer.starts_with(b"HTTP/1.1 200")
}

#[tokio::test]
async fn one_client_address_cannot_take_every_connection() {
    let edge = Edge::start(&[
        ("STATUSWATCH__EDGE__MAX_CONNECTIONS", "8".to_owned()),
        (
            "STATUSWATCH__EDGE__MAX_CONNECTIONS_PER_ADDRESS",
            "3".to_owned(),
        ),
    ])
    .await;
    let port = edge.server.http_port;
    // One address holds its three places with idle connections.
    let mut held = Vec::new();
    for _ in 0..3 {
        held.push(plain_from("127.0.0.2", port).await);
    }
    // Held means accepted: wait until the edge counts all three.
    let admin = format!("http://127.0.0.1:{}/metrics", edge.server.admin_port);
    let scrape = || async { reqwest::get(&admin).await.unwrap().text().await.unwrap() };
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    while !scrape().await.contains("edge_connections_open 3") {
        assert!(std::time::Instant::now() < deadline, "{}", scrape().await);
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(
        !answered(plain_from("127.0.0.2", port).await).await,
        "a fourth connection from one address was served with a share of three"
    );
    // Every other address is served meanwhile.
    assert!(answered(plain_from("127.0.0.3", port).await).await);
    assert!(answered(plain_from("127.0.0.4", port).await).await);
    let metrics = scrape().await;
    assert!(
        metrics.contains(r#"edge_connections_refused_total{reason="per_address"} 1"#),
        "{metrics}"
    );
    // A closed connection frees its address's place.
    held.pop();
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    while !answered(plain_from("127.0.0.2", port).await).await {
        assert!(
            std::time::Instant::now() < deadline,
            "no place freed after a connection closed"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// An upstream answering its `name` to every request.
async fn named_upstream(name: &'static str) -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let app = axum::Router::new().fallback(move || async move { name });
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    addr
}

#[tokio::test]
async fn a_reload_switches_site_and_app_nodes_without_dropping_connections() {
    let dir = tempfile::tempdir().unwrap();
    let (old_site, new_site) = (dir.path().join("site"), dir.path().join("site-v2"));
    write_site(&old_site);
    write_site(&new_site);
    std::fs::write(new_site.join("index.html"), "<!doctype html><p>v2</p>").unwrap();
    let (old_app, new_app) = (named_upstream("old").await, named_upstream("new").await);
    let config = dir.path().join("edge.toml");
    let write_config = |root: &Path, app: SocketAddr| {
        let text = format!(
            "[edge]\nstatic_root = {:?}\napp_upstreams = [\"{app}\"]\n",
            root.display().to_string()
        );
        std::fs::write(&config, text).unwrap();
    };
    write_config(&old_site, old_app);
    let mut command = statuswatch(dir.path());
    command.arg("--config").arg(&config);
    let mut server = Server::start(command, "serve", dir.path());
    server.wait_for("/health/ready/", 200).await;
    let ca = crate::harness::wait_for_file(&dir.path().join("ca/root.pem")).await;

    let mut held = tls_connect(&ca, server.https_port, "localhost")
        .await
        .unwrap();
    assert!(get_on(&mut held, "localhost", "/").await.1.contains("spa"));
    assert_eq!(get_on(&mut held, "localhost", "/api/who").await.1, "old");

    write_config(&new_site, new_app);
    let admin = format!("http://127.0.0.1:{}", server.admin_port);
    let reloaded = reqwest::Client::new()
        .post(format!("{admin}/reload"))
        .send()
        .await
        .unwrap();
    assert_eq!(reloaded.status(), 200, "{}", reloaded.text().await.unwrap());

    // The connection opened before the reload is still served, by the new site and node.
    assert_eq!(
        get_on(&mut held, "localhost", "/").await.1,
        "<!doctype html><p>v2</p>"
    );
    assert_eq!(get_on(&mut held, "localhost", "/api/who").await.1, "new");

    // What happened is in the edge's metrics, by route class and status.
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    let metrics = loop {
        let metrics = reqwest::get(format!("{admin}/metrics"))
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        // Health checks of the new node run every 2 s.
        if metrics.contains(&format!(
            "edge_upstream_healthy{{upstream=\"{new_app}\"}} 1"
        )) {
            break metrics;
        }
        assert!(std::time::Instant::now() < deadline, "{metrics}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    for line in [
        r#"edge_requests_total{route="static",status="200"} 2"#,
        r#"edge_requests_total{route="app",status="200"} 2"#,
        r#"edge_request_duration_seconds_count{route="app"} 2"#,
        r#"edge_request_duration_seconds_bucket{le="+Inf",route="static"} 2"#,
        r#"edge_tls_handshakes_total{outcome="ok"} 1"#,
        r#"edge_certificates{state="ready"} 1"#,
    ] {
        assert!(metrics.contains(line), "{line} missing:\n{metrics}");
    }
    assert!(
        !metrics.contains(&format!("upstream=\"{old_app}\"")),
        "the removed node is still reported:\n{metrics}"
    );
    assert!(server.stop().success(), "{}", server.log());
}

/// Every app node down: people get a page, programs JSON with a stable code,
/// both with `Retry-After`; once a node answers again the health checks bring
/// it back without a restart.
#[tokio::test]
async fn with_every_app_node_down_pages_and_the_api_answer_clearly_until_one_is_back() {
    let reserved = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = reserved.local_addr().unwrap();
    drop(reserved);
    let edge = Edge::start(&[("STATUSWATCH__EDGE__APP_UPSTREAMS", addr.to_string())]).await;
    crate::harness::sign_up(&edge.server.base, "acme").await;
    let client = edge.client(&["localhost", "acme.localhost"]);

    let page = client
        .get(edge.url("acme.localhost", "/status/"))
        .header("accept", "text/html,application/xhtml+xml")
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 502);
    assert_eq!(page.headers()["retry-after"], "5");
    assert!(
        page.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    let text = page.text().await.unwrap();
    assert!(text.contains("We will be right back"), "{text}");

    for path in ["/api/monitors", "/health/ready/"] {
        let api = client
            .get(edge.url("localhost", path))
            .send()
            .await
            .unwrap();
        assert_eq!(api.status(), 502, "{path}");
        assert_eq!(api.headers()["retry-after"], "5");
        let body: Value = api.json().await.unwrap();
        assert_eq!(body["code"], "app_unavailable", "{body}");
        assert!(
            body["message"].as_str().unwrap().contains("try again"),
            "{body}"
        );
    }

    // A node comes up at the configured address: back within a few health checks.
    let listener = tokio::net::TcpListener::bind(addr).await.unwrap();
    let app = axum::Router::new().fallback(|| async { "back" });
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    let deadline = tokio::time::Instant::now() + Duration::from_secs(15);
    loop {
        let answer = client
            .get(edge.url("localhost", "/api/monitors"))
            .send()
            .await
            .unwrap();
        if answer.status() == 200 {
            assert_eq!(answer.text().await.unwrap(), "back");
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the node was not taken back: {}",
            answer.status()
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}
