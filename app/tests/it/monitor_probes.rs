//! Probes of every kind against servers these tests start: successes, each
//! kind of failure, and the SSRF guard's refusals.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use app::clock::now_ms;
use app::config::ProberConfig;
use app::monitor::MonitorInput;
use app::monitor::kinds::Check;
use app::monitor::probe::{Outcome, ProbeResult, Probes};
use app::monitor::spec::Limits;
use app::test_support::ChallTestSrv;
use axum::Router;
use axum::http::StatusCode;
use axum::routing::get;
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

/// Local HTTP target: `/ok`, `/json`, `/fail`, `/slow`, `/redirect`, `/big`.
pub async fn http_target() -> SocketAddr {
    let app = Router::new()
        .route("/ok", get(|| async { "all systems ok" }))
        .route(
            "/json",
            get(|| async { axum::Json(json!({"db": {"status": "ok"}})) }),
        )
        .route(
            "/fail",
            get(|| async { (StatusCode::INTERNAL_SERVER_ERROR, "boom") }),
        )
        .route(
            "/slow",
            // Later than the 1 s timeout and the 1000 ms latency limit the
            // tests set: never earlier, however loaded the machine.
            get(|| async {
                tokio::time::sleep(Duration::from_millis(1200)).await;
                "late"
            }),
        )
        .route(
            "/redirect",
            get(|| async { axum::response::Redirect::temporary("/ok") }),
        )
        .route(
            "/big",
            // The keyword sits past the body limit the test sets.
            get(|| async { format!("{}needle", "x".repeat(8192)) }),
        );
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    addr
}

/// A TLS server whose certificate expired in 2021 (made with rcgen).
async fn expired_tls_target() -> SocketAddr {
    let key = rcgen::KeyPair::generate().unwrap();
    let mut params = rcgen::CertificateParams::new(vec!["localhost".to_owned()]).unwrap();
    params.not_before = rcgen::date_time_ymd(2020, 1, 1);
    params.not_after = rcgen::date_time_ymd(2021, 1, 1);
    let cert = params.self_signed(&key).unwrap();
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(
            vec![cert.der().clone()],
            rustls::pki_types::PrivateKeyDer::Pkcs8(key.serialize_der().into()),
        )
        .unwrap();
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        loop {
            let Ok((tcp, _)) = listener.accept().await else {
                return;
            };
            let acceptor = acceptor.clone();
            tokio::spawn(async move {
                if let Ok(mut tls) = acceptor.accept(tcp).await {
                    let mut buf = [0_u8; 4096];
                    let _ = tls.read(&mut buf).await;
                    let _ = tls
                        .write_all(
                            b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok",
                        )
                        .await;
                    let _ = tls.shutdown().await;
                }
            });
        }
    });
    addr
}

fn probes(allow_private: bool, dns: Option<SocketAddr>) -> Probes {
    let config = ProberConfig {
        allow_private_targets: allow_private,
        dns_server: dns,
        max_body_bytes: 4096,
        ..ProberConfig::defaults()
    };
    Probes::new(&config).unwrap()
}

fn check(json: serde_json::Value) -> Check {
    let mut json = json;
    json["name"] = json!("test");
    let input: MonitorInput = serde_json::from_value(json).unwrap();
    input
        .validate(Limits {
            min_interval_seconds: 1,
        })
        .unwrap()
        .check
}

async fn run(probes: &Probes, json: serde_json::Value) -> ProbeResult {
    probes
        .run(&check(json), Duration::from_secs(1), 60, None, now_ms())
        .await
}

fn assert_down(result: &ProbeResult, needle: &str) {
    assert_eq!(result.outcome, Outcome::Down, "{result:?}");
    let error = result.error.as_deref().unwrap_or_default();
    assert!(error.contains(needle), "`{error}` lacks `{needle}`");
}

#[tokio::test]
async fn http_checks_pass_and_fail_for_the_right_reasons() {
    let target = http_target().await;
    let p = probes(true, None);
    let base = format!("http://{target}");
    let ok = run(
        &p,
        json!({"kind": "http", "url": format!("{base}/ok"), "keyword": "ok"}),
    )
    .await;
    assert_eq!(ok.outcome, Outcome::Up, "{ok:?}");
    assert_eq!(ok.status_code, Some(200));
    let json_ok = run(
        &p,
        json!({"kind": "http", "url": format!("{base}/json"), "json_path": "$.db.status", "json_equals": "ok"}),
    )
    .await;
    assert_eq!(json_ok.outcome, Outcome::Up, "{json_ok:?}");
    let json_bad = run(
        &p,
        json!({"kind": "http", "url": format!("{base}/json"), "json_path": "$.db.status", "json_equals": "degraded"}),
    )
    .await;
    assert_down(&json_bad, "JSON path holds");
    let status = run(&p, json!({"kind": "http", "url": format!("{base}/fail")})).await;
    assert_down(&status, "status 500, expected 2xx");
    assert_eq!(status.status_code, Some(500));
    let expected = run(
        &p,
        json!({"kind": "http", "url": format!("{base}/fail"), "expected_status": [500]}),
    )
    .await;
    assert_eq!(expected.outcome, Outcome::Up);
    let keyword = run(
        &p,
        json!({"kind": "http", "url": format!("{base}/ok"), "keyword": "database"}),
    )
    .await;
    assert_down(&keyword, "keyword `database` not found");
    let absent = run(
        &p,
        json!({"kind": "http", "url": format!("{base}/ok"), "keyword_absent": "ok"}),
    )
    .await;
    assert_down(&absent, "keyword `ok` found");
    let slow = run(&p, json!({"kind": "http", "url": format!("{base}/slow")})).await;
    assert_down(&slow, "timed out");
    let followed = run(
        &p,
        json!({"kind": "http", "url": format!("{base}/redirect"), "keyword": "ok"}),
    )
    .await;
    assert_eq!(followed.outcome, Outcome::Up, "{followed:?}");
    let not_followed = run(
        &p,
        json!({"kind": "http", "url": format!("{base}/redirect"), "follow_redirects": false}),
    )
    .await;
    assert_down(&not_followed, "status 307");
    // The body is read only up to max_body_bytes (4096 here).
    let big = run(
        &p,
        json!({"kind": "http", "url": format!("{base}/big"), "keyword": "needle"}),
    )
    .await;
    assert_down(&big, "not found");
    let degraded = p
        .run(
            &check(json!({"kind": "http", "url": format!("{base}/slow"), "max_latency_ms": 1000, "timeout_seconds": 5})),
            Duration::from_secs(5),
            60,
            None,
            now_ms(),
        )
        .await;
    assert_eq!(degraded.outcome, Outcome::Degraded, "{degraded:?}");
    let refused = run(&p, json!({"kind": "http", "url": "http://127.0.0.1:1/"})).await;
    assert_down(&refused, "onnect");
}

#[tokio::test]
async fn tcp_checks_see_listeners_and_refusals() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let p = probes(true, None);
    let up = run(
        &p,
        json!({"kind": "tcp", "host": "127.0.0.1", "port": port}),
    )
    .await;
    assert_eq!(up.outcome, Outcome::Up, "{up:?}");
    drop(listener);
    let refused = run(
        &p,
        json!({"kind": "tcp", "host": "127.0.0.1", "port": port}),
    )
    .await;
    assert_down(&refused, "refused");
}

#[tokio::test]
async fn expired_certificates_are_caught() {
    let target = expired_tls_target().await;
    let p = probes(true, None);
    let tls = run(
        &p,
        json!({"kind": "tls", "host": "127.0.0.1", "port": target.port()}),
    )
    .await;
    assert_down(&tls, "the certificate expired");
    let https = run(
        &p,
        json!({"kind": "http", "url": format!("https://127.0.0.1:{}/", target.port())}),
    )
    .await;
    assert_down(&https, "certificate");
    let unverified = run(
        &p,
        json!({"kind": "http", "url": format!("https://127.0.0.1:{}/", target.port()), "verify_tls": false}),
    )
    .await;
    assert_eq!(unverified.outcome, Outcome::Up, "{unverified:?}");
}

#[tokio::test]
async fn dns_checks_compare_the_answer() {
    let dns = ChallTestSrv::start();
    dns.set_a("api.watched.test", &["192.0.2.10"]);
    dns.set_txt("_check.watched.test", "v=ok");
    let p = probes(false, Some(dns.dns));
    let right = run(
        &p,
        json!({"kind": "dns", "host": "api.watched.test", "expected_answer": "192.0.2.10"}),
    )
    .await;
    assert_eq!(right.outcome, Outcome::Up, "{right:?}");
    let wrong = run(
        &p,
        json!({"kind": "dns", "host": "api.watched.test", "expected_answer": "192.0.2.99"}),
    )
    .await;
    assert_down(&wrong, "answered 192.0.2.10, expected 192.0.2.99");
    let txt = run(
        &p,
        json!({"kind": "dns", "host": "_check.watched.test", "record_type": "TXT", "expected_answer": "v=ok"}),
    )
    .await;
    assert_eq!(txt.outcome, Outcome::Up, "{txt:?}");
    let missing = run(
        &p,
        json!({"kind": "dns", "host": "nothing.watched.test", "record_type": "TXT"}),
    )
    .await;
    assert_down(&missing, "no TXT records");
}

#[tokio::test]
async fn the_guard_refuses_internal_targets_unless_allowed() {
    let dns = ChallTestSrv::start();
    // challtestsrv answers every other name with 127.0.0.1.
    dns.set_a("metadata.evil.test", &["169.254.169.254"]);
    let target = http_target().await;
    let strict = probes(false, Some(dns.dns));
    for url in [
        format!("http://{target}/ok"),
        format!("http://localhost.evil.test:{}/ok", target.port()),
        "http://metadata.evil.test/latest/meta-data/".to_owned(),
        "http://[::1]:9/".to_owned(),
        "http://[::ffff:127.0.0.1]:9/".to_owned(),
    ] {
        let result = run(&strict, json!({"kind": "http", "url": url})).await;
        assert_down(&result, "probes may not reach it");
    }
    let tcp = run(
        &strict,
        json!({"kind": "tcp", "host": "localhost.evil.test", "port": target.port()}),
    )
    .await;
    assert_down(&tcp, "probes may not reach it");
    let tls = run(
        &strict,
        json!({"kind": "tls", "host": "10.0.0.1", "port": 443}),
    )
    .await;
    assert_down(&tls, "probes may not reach it");
    // Allowed in development and tests.
    let open = probes(true, Some(dns.dns));
    let allowed = run(
        &open,
        json!({"kind": "http", "url": format!("http://localhost.evil.test:{}/ok", target.port())}),
    )
    .await;
    assert_eq!(allowed.outcome, Outcome::Up, "{allowed:?}");
}
