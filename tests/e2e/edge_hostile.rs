//! Hostile HTTP/1.1 at the edge: request smuggling attempts (conflicting
//! `Content-Length`/`Transfer-Encoding`, obs-fold, bare CR, malformed framing)
//! get 400 and never reach the app as a second request; a request for
//! another site than the TLS name of its connection gets 421.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::harness::{Server, statuswatch, tls_connect};

/// An app stand-in that records the path of every request it parses.
async fn recording_upstream() -> (SocketAddr, Arc<Mutex<Vec<String>>>) {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let record = seen.clone();
    let app = axum::Router::new().fallback(move |uri: axum::http::Uri| {
        let record = record.clone();
        async move {
            record.lock().unwrap().push(uri.path().to_owned());
            "ok"
        }
    });
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (addr, seen)
}

/// Sends `raw` on a new TLS connection and reads until the edge closes it
/// (or 3 s pass); returns everything it answered.
async fn send_raw(ca: &str, port: u16, raw: &[u8]) -> String {
    send_raw_to(ca, port, "localhost", raw).await
}

/// [`send_raw`] on a connection whose handshake names `sni`.
async fn send_raw_to(ca: &str, port: u16, sni: &str, raw: &[u8]) -> String {
    let mut stream = tls_connect(ca, port, sni).await.unwrap();
    stream.write_all(raw).await.unwrap();
    let mut answer = Vec::new();
    let mut chunk = [0_u8; 4096];
    let deadline = tokio::time::Instant::now() + Duration::from_secs(3);
    loop {
        match tokio::time::timeout_at(deadline, stream.read(&mut chunk)).await {
            Ok(Ok(n)) if n > 0 => answer.extend_from_slice(&chunk[..n]),
            _ => break,
        }
    }
    String::from_utf8_lossy(&answer).into_owned()
}

/// `serve` whose edge forwards to a [`recording_upstream`]; with its
/// data dir (kept alive by the caller), local CA and the recorded paths.
async fn serve_before_recorder() -> (Server, tempfile::TempDir, String, Arc<Mutex<Vec<String>>>) {
    let (upstream, seen) = recording_upstream().await;
    let dir = tempfile::tempdir().unwrap();
    let mut command = statuswatch(dir.path());
    command.env("STATUSWATCH__EDGE__APP_UPSTREAMS", upstream.to_string());
    let mut server = Server::start(command, "serve", dir.path());
    server.wait_for("/health/ready/", 200).await;
    let ca = crate::harness::wait_for_file(&dir.path().join("ca/root.pem")).await;
    (server, dir, ca, seen)
}

#[tokio::test]
async fn smuggling_attempts_get_400_and_never_reach_the_app_twice() {
    let (server, _dir, ca, seen) = serve_before_recorder().await;
    let port = server.https_port;

    // A well-formed request goes through, so the refusals below mean something.
    let fine = send_raw(
        &ca,
        port,
        b"POST /api/fine HTTP/1.1\r\nHost: localhost\r\nContent-Length: 2\r\nConnection: close\r\n\r\nhi",
    )
    .await;
    assert!(fine.starts_with("HTTP/1.1 200"), "{fine}");

    let smuggled = "GET /api/smuggled HTTP/1.1\r\nHost: localhost\r\n\r\n";
    let attempts: Vec<(&str, String)> = vec![
        (
            "CL.TE",
            format!(
                "POST /api/a HTTP/1.1\r\nHost: localhost\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n{smuggled}"
            ),
        ),
        (
            "TE.CL",
            format!(
                "POST /api/a HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: chunked\r\nContent-Length: 60\r\n\r\n0\r\n\r\n{smuggled}"
            ),
        ),
        (
            "two different Content-Lengths",
            format!(
                "POST /api/a HTTP/1.1\r\nHost: localhost\r\nContent-Length: 0\r\nContent-Length: 49\r\n\r\n{smuggled}"
            ),
        ),
        (
            "a Content-Length list",
            format!(
                "POST /api/a HTTP/1.1\r\nHost: localhost\r\nContent-Length: 0, 49\r\n\r\n{smuggled}"
            ),
        ),
        (
            "Transfer-Encoding not ending in chunked",
            format!(
                "POST /api/a HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: chunked, identity\r\n\r\n0\r\n\r\n{smuggled}"
            ),
        ),
        (
            "an obfuscated Transfer-Encoding",
            format!(
                "POST /api/a HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: xchunked\r\n\r\n0\r\n\r\n{smuggled}"
            ),
        ),
        (
            "whitespace before the colon",
            format!(
                "POST /api/a HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding : chunked\r\nContent-Length: 4\r\n\r\n0\r\n\r\n{smuggled}"
            ),
        ),
        (
            "obs-fold",
            format!(
                "GET /api/a HTTP/1.1\r\nHost: localhost\r\nX-Folded: one\r\n two\r\n\r\n{smuggled}"
            ),
        ),
        (
            "a bare CR in a header",
            format!("GET /api/a HTTP/1.1\r\nHost: localhost\r\nX-Bare: one\rtwo\r\n\r\n{smuggled}"),
        ),
        (
            "a bare CR as line end",
            format!("GET /api/a HTTP/1.1\rHost: localhost\r\n\r\n{smuggled}"),
        ),
        (
            "two Host headers",
            format!(
                "GET /api/a HTTP/1.1\r\nHost: localhost\r\nHost: other.example\r\n\r\n{smuggled}"
            ),
        ),
        (
            "a bad chunk size",
            format!(
                "POST /api/a HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n\r\n{smuggled}"
            ),
        ),
    ];
    seen.lock().unwrap().clear();
    let mut failures = Vec::new();
    for (name, raw) in &attempts {
        let before = seen.lock().unwrap().len();
        let answer = send_raw(&ca, port, raw.as_bytes()).await;
        let status = answer.lines().next().unwrap_or_default().to_owned();
        let after = seen.lock().unwrap().clone();
        if !status.starts_with("HTTP/1.1 400") {
            failures.push(format!("{name}: answered {status:?}, not 400"));
        }
        if answer.matches("HTTP/1.1 ").count() != 1 {
            failures.push(format!("{name}: not exactly one answer:\n{answer}"));
        }
        if after.iter().any(|p| p == "/api/smuggled") {
            failures.push(format!("{name}: the smuggled request reached the app"));
        }
        // A bad chunk is found only once the head went on; the app's request
        // is then cut short, which is not a second request.
        if after.len() != before && *name != "a bad chunk size" {
            failures.push(format!(
                "{name}: the refused request reached the app: {after:?}"
            ));
        }
        seen.lock().unwrap().clear();
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[tokio::test]
async fn a_request_for_another_site_than_its_tls_name_gets_421() {
    let (server, _dir, ca, seen) = serve_before_recorder().await;
    for slug in ["acme", "beta"] {
        crate::harness::sign_up(&server.base, slug).await;
    }
    let port = server.https_port;
    let ask = |host: String| {
        format!("GET /api/seen HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n")
    };

    // The name of the handshake, in any case and with the port: answered.
    for host in [
        "acme.localhost".to_owned(),
        format!("ACME.localhost:{port}"),
    ] {
        let answer = send_raw_to(&ca, port, "acme.localhost", ask(host.clone()).as_bytes()).await;
        assert!(answer.starts_with("HTTP/1.1 200"), "{host}: {answer}");
    }
    assert_eq!(seen.lock().unwrap().len(), 2);

    // Another tenant's name on acme's connection (its certificate is acme's
    // alone): refused before the app sees it.
    for host in ["beta.localhost", "localhost", "other.example"] {
        let answer =
            send_raw_to(&ca, port, "acme.localhost", ask(host.to_owned()).as_bytes()).await;
        assert!(answer.starts_with("HTTP/1.1 421"), "{host}: {answer}");
        assert!(answer.contains("misdirected request"), "{answer}");
    }
    assert_eq!(
        seen.lock().unwrap().len(),
        2,
        "no misdirected request reached the app"
    );

    // beta's own connection still works.
    let answer = send_raw_to(
        &ca,
        port,
        "beta.localhost",
        ask("beta.localhost".into()).as_bytes(),
    )
    .await;
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
}
