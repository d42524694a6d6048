//! On-demand ACME against Debian's pebble: issuance through TLS-ALPN-01,
//! HTTP-01 and DNS-01 (wildcard, answered by the edge's own responder);
//! single flight, no order for unauthorised names, restart reuse, renewal
//! under a live connection, a CA outage, and two edges on one PostgreSQL.

use std::path::Path;
use std::time::{Duration, Instant};

use serde_json::json;

use crate::harness::{Server, free_port, get_on, output, statuswatch, tls_connect};
use crate::pebble::{Pebble, leaf};

const SUFFIX: &str = "status.test";

type Ports = (u16, u16, u16, u16);

fn ports() -> Ports {
    (free_port(), free_port(), free_port(), free_port())
}

fn command(dir: &Path, pebble: &Pebble, extra: &[(&str, String)]) -> std::process::Command {
    let mut command = statuswatch(dir);
    command.envs(pebble.env());
    command.env("STATUSWATCH__TENANCY__DOMAIN_SUFFIX", SUFFIX);
    // The handshake path is what these tests exercise; the queue has its own test.
    command.env("STATUSWATCH__ACME__PREISSUE", "false");
    for (key, value) in extra {
        command.env(key, value);
    }
    command
}

async fn signup(server: &Server, slug: &str) {
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

async fn admin(server: &Server, method: reqwest::Method, path: &str) -> (u16, serde_json::Value) {
    let response = reqwest::Client::new()
        .request(
            method,
            format!("http://127.0.0.1:{}{path}", server.admin_port),
        )
        .timeout(Duration::from_secs(30))
        .send()
        .await
        .unwrap();
    (
        response.status().as_u16(),
        response.json().await.unwrap_or_default(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tls_alpn_issuance_single_flight_restart_renewal_and_ca_outage() {
    let dir = tempfile::tempdir().unwrap();
    let ports = ports();
    let mut pebble = Pebble::start(dir.path(), ports.1, ports.2, None);
    let root = pebble.root_pem().await;
    let start = || {
        Server::start_on(
            command(dir.path(), &pebble, &[]),
            &["serve"],
            dir.path(),
            ports,
        )
    };
    let mut server = start();
    server.wait_for("/health/ready/", 200).await;
    signup(&server, "acme").await;
    signup(&server, "beta").await;
    assert_eq!(pebble.orders(), 0, "nothing ordered before a handshake");

    let first = leaf(&root, ports.2, "acme.status.test")
        .await
        .unwrap_or_else(|e| panic!("{e}\n{}", server.log()));
    assert_eq!(pebble.orders(), 1);

    // An unauthorised name: refused, and no order reaches the CA.
    for _ in 0..5 {
        let err = leaf(&root, ports.2, "evil.status.test").await.unwrap_err();
        assert!(
            err.to_lowercase().contains("unrecognisedname") || err.contains("UnrecognisedName"),
            "{err}"
        );
    }
    assert_eq!(pebble.orders(), 1, "no order for an unauthorised name");

    // 50 handshakes at once for a new name: one order, all served.
    let mut handshakes = Vec::new();
    for _ in 0..50 {
        let root = root.clone();
        handshakes.push(tokio::spawn(async move {
            leaf(&root, ports.2, "beta.status.test").await
        }));
    }
    let mut leaves = std::collections::HashSet::new();
    for handshake in handshakes {
        leaves.insert(handshake.await.unwrap().unwrap());
    }
    assert_eq!(leaves.len(), 1, "every handshake got the one certificate");
    assert_eq!(pebble.orders(), 2, "one order for 50 concurrent handshakes");

    // Renewal under a live connection: the open connection keeps working,
    // new handshakes get the new certificate.
    let mut live = tls_connect(&root, ports.2, "acme.status.test")
        .await
        .unwrap();
    let (head, _) = get_on(&mut live, "acme.status.test", "/health/").await;
    assert!(head.starts_with("http/1.1 200"), "{head}");
    let (status, detail) = admin(
        &server,
        reqwest::Method::POST,
        "/certs/acme.status.test/renew",
    )
    .await;
    assert_eq!(status, 200, "{detail}");
    assert_eq!(detail["issuer"], "acme", "{detail}");
    let renewed = leaf(&root, ports.2, "acme.status.test").await.unwrap();
    assert_ne!(renewed, first, "the renewed certificate is served");
    let (head, _) = get_on(&mut live, "acme.status.test", "/health/").await;
    assert!(
        head.starts_with("http/1.1 200"),
        "live connection survived: {head}"
    );
    assert_eq!(pebble.orders(), 3);
    let (status, detail) = admin(&server, reqwest::Method::GET, "/certs/acme.status.test").await;
    assert_eq!(
        (status, detail["state"].as_str()),
        (200, Some("ready")),
        "{detail}"
    );
    let (status, _) = admin(&server, reqwest::Method::GET, "/certs/not a name").await;
    assert_eq!(status, 422);

    let log = server.log();
    assert!(log.contains("ACME TLS-ALPN-01 challenge answered"), "{log}");
    assert!(!log.contains("PRIVATE KEY"), "a key reached the log");

    // A restart serves the stored certificate: no new order.
    assert!(server.stop().success());
    let mut server = start();
    server.wait_for("/health/ready/", 200).await;
    assert_eq!(
        leaf(&root, ports.2, "acme.status.test").await.unwrap(),
        renewed
    );
    assert_eq!(pebble.orders(), 3, "restart reused the stored certificate");

    // The CA goes away: held names keep working, new names fail fast.
    pebble.stop();
    signup(&server, "gamma").await;
    let began = Instant::now();
    assert!(leaf(&root, ports.2, "gamma.status.test").await.is_err());
    assert!(
        began.elapsed() < Duration::from_secs(5),
        "failed in {:?}",
        began.elapsed()
    );
    assert_eq!(
        leaf(&root, ports.2, "beta.status.test").await.unwrap(),
        *leaves.iter().next().unwrap()
    );
    let (_, queue) = admin(&server, reqwest::Method::GET, "/acme/queue").await;
    assert!(
        queue["backoff"].to_string().contains("gamma.status.test"),
        "{queue}"
    );
    assert!(
        !server.log().contains("PRIVATE KEY"),
        "a key reached the log"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn http01_issuance_is_answered_on_port_80() {
    let dir = tempfile::tempdir().unwrap();
    let ports = ports();
    let pebble = Pebble::start(dir.path(), ports.1, ports.2, None);
    let root = pebble.root_pem().await;
    let extra = [("STATUSWATCH__ACME__CHALLENGE", "http-01".to_owned())];
    let mut server = Server::start_on(
        command(dir.path(), &pebble, &extra),
        &["serve"],
        dir.path(),
        ports,
    );
    server.wait_for("/health/ready/", 200).await;
    signup(&server, "acme").await;
    leaf(&root, ports.2, "acme.status.test")
        .await
        .unwrap_or_else(|e| panic!("{e}\n{}", server.log()));
    assert_eq!(pebble.orders(), 1);
    assert!(
        server.log().contains("http-01") || server.log().contains("Http01"),
        "challenge kind logged"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_wildcard_is_proven_through_the_edges_own_dns_responder() {
    let dir = tempfile::tempdir().unwrap();
    let ports = ports();
    let dns_port = free_port();
    // Pebble asks our responder, and only it, for the DNS-01 TXT records.
    let pebble = Pebble::start(
        dir.path(),
        ports.1,
        ports.2,
        Some(([127, 0, 0, 1], dns_port).into()),
    );
    let root = pebble.root_pem().await;
    let extra = [
        ("STATUSWATCH__ACME__WILDCARD", "true".to_owned()),
        (
            "STATUSWATCH__ACME__DNS_LISTEN",
            format!("127.0.0.1:{dns_port}"),
        ),
    ];
    let mut server = Server::start_on(
        command(dir.path(), &pebble, &extra),
        &["serve"],
        dir.path(),
        ports,
    );
    server.wait_for("/health/ready/", 200).await;
    signup(&server, "acme").await;
    signup(&server, "beta").await;
    let acme = leaf(&root, ports.2, "acme.status.test").await.unwrap();
    let beta = leaf(&root, ports.2, "beta.status.test").await.unwrap();
    assert_eq!(acme, beta, "tenant subdomains share the wildcard");
    assert_eq!(pebble.orders(), 1);
    let (_, cert) = x509_parser::parse_x509_certificate(&acme).unwrap();
    let names = format!(
        "{:?}",
        cert.subject_alternative_name().unwrap().unwrap().value
    );
    assert!(names.contains("*.status.test"), "{names}");
    // Only tenants' names: the wildcard does not make unknown labels valid.
    assert!(leaf(&root, ports.2, "nobody.status.test").await.is_err());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_edges_on_one_postgres_place_one_order() {
    let dir = tempfile::tempdir().unwrap();
    let pg = app::test_support::PgTestDb::create().await;
    let (a_ports, b_ports) = (ports(), ports());
    // Pebble validates on edge A only: when edge B wins the lease, A answers
    // the challenge from the shared database.
    let pebble = Pebble::start(dir.path(), a_ports.1, a_ports.2, None);
    let root = pebble.root_pem().await;
    let database = [("STATUSWATCH__DATABASE__URL", pg.url().to_owned())];
    let (status, _, stderr) = output(command(dir.path(), &pebble, &database).arg("migrate"));
    assert!(status.success(), "{stderr}");
    let (status, _, stderr) = output(
        command(dir.path(), &pebble, &database)
            .args(["tenants", "create", "--slug", "acme", "--name", "Acme"])
            .args(["--owner-email", "owner@acme.example"]),
    );
    assert!(status.success(), "{stderr}");
    let edge = |ports: Ports| {
        Server::start_on(
            command(dir.path(), &pebble, &database),
            &["edge"],
            dir.path(),
            ports,
        )
    };
    // The edge role has no app listener: readiness is its admin API.
    let (mut a, mut b) = (edge(a_ports), edge(b_ports));
    let (a_admin, b_admin) = (a.admin_port, b.admin_port);
    a.wait_for_url(&format!("http://127.0.0.1:{a_admin}/health"), 200)
        .await;
    b.wait_for_url(&format!("http://127.0.0.1:{b_admin}/health"), 200)
        .await;
    let (on_a, on_b) = tokio::join!(
        leaf(&root, a_ports.2, "acme.status.test"),
        leaf(&root, b_ports.2, "acme.status.test"),
    );
    assert_eq!(
        on_a.unwrap(),
        on_b.unwrap(),
        "both edges serve the stored certificate"
    );
    assert_eq!(pebble.orders(), 1, "one order across the cluster");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn authorised_names_are_ordered_before_their_first_visitor() {
    let dir = tempfile::tempdir().unwrap();
    let ports = ports();
    let pebble = Pebble::start(dir.path(), ports.1, ports.2, None);
    let root = pebble.root_pem().await;
    let extra = [
        ("STATUSWATCH__ACME__PREISSUE", "true".to_owned()),
        ("STATUSWATCH__ACME__RENEW_CHECK_SECONDS", "1".to_owned()),
    ];
    let mut server = Server::start_on(
        command(dir.path(), &pebble, &extra),
        &["serve"],
        dir.path(),
        ports,
    );
    server.wait_for("/health/ready/", 200).await;
    signup(&server, "early").await;
    // No handshake yet: the background queue orders the certificate.
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let (status, stdout, _) =
            output(command(dir.path(), &pebble, &[]).args(["certs", "list", "--json"]));
        assert!(status.success());
        let listed: serde_json::Value = serde_json::from_str(&stdout).unwrap();
        if listed["certificates"]
            .to_string()
            .contains("early.status.test")
        {
            assert_eq!(listed["queue"], json!([]), "dequeued once issued");
            break;
        }
        assert!(
            Instant::now() < deadline,
            "never pre-issued:\n{}",
            server.log()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let orders = pebble.orders();
    assert_eq!(orders, 1);
    leaf(&root, ports.2, "early.status.test").await.unwrap();
    assert_eq!(pebble.orders(), orders, "the first visitor found it ready");

    // `certs why` names the rule either way.
    let (status, stdout, _) =
        output(command(dir.path(), &pebble, &[]).args(["certs", "why", "early.status.test"]));
    assert!(status.success(), "{stdout}");
    assert!(
        stdout.contains("allowed") && stdout.contains("subdomain of tenant `early`"),
        "{stdout}"
    );
    assert!(stdout.contains("issued by acme"), "{stdout}");
    let (status, stdout, _) =
        output(command(dir.path(), &pebble, &[]).args(["certs", "why", "nobody.status.test"]));
    assert_eq!(status.code(), Some(1));
    assert!(
        stdout.contains("refused") && stdout.contains("no tenant has the subdomain"),
        "{stdout}"
    );
    let (status, stdout, _) =
        output(command(dir.path(), &pebble, &[]).args(["certs", "why", "10.0.0.1"]));
    assert_eq!(status.code(), Some(1));
    assert!(stdout.contains("not a DNS name"), "{stdout}");

    // `certs renew` orders from the command line; the challenge is answered
    // by the running edge from the shared database.
    let (status, stdout, stderr) =
        output(command(dir.path(), &pebble, &[]).args(["certs", "renew", "early.status.test"]));
    assert!(status.success(), "{stdout}{stderr}");
    assert!(stdout.contains("renewed early.status.test"), "{stdout}");
    assert_eq!(pebble.orders(), orders + 1);
    let (status, _, stderr) =
        output(command(dir.path(), &pebble, &[]).args(["certs", "renew", "nobody.status.test"]));
    assert_eq!(status.code(), Some(1));
    assert!(stderr.contains("not authorised"), "{stderr}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_the_ca_unreachable_held_names_serve_new_names_fail_fast_and_retry_with_backoff() {
    let dir = tempfile::tempdir().unwrap();
    let ports = ports();
    let pebble = Pebble::start(dir.path(), ports.1, ports.2, None);
    let root = pebble.root_pem().await;
    // Pebble reached through a switch: off is a CA that refuses connections.
    let mut ca = crate::harness::Switch::start(pebble.acme_addr()).await;
    let mut command = statuswatch(dir.path());
    command
        .envs(pebble.env_via(ca.addr))
        .env("STATUSWATCH__TENANCY__DOMAIN_SUFFIX", SUFFIX)
        .env("STATUSWATCH__ACME__PREISSUE", "false")
        .env("STATUSWATCH__ACME__RETRY_MIN_SECONDS", "2")
        .env("STATUSWATCH__ACME__RETRY_MAX_SECONDS", "8");
    let mut server = Server::start_on(command, &["serve"], dir.path(), ports);
    server.wait_for("/health/ready/", 200).await;
    signup(&server, "held").await;
    signup(&server, "fresh").await;
    let held = leaf(&root, ports.2, "held.status.test")
        .await
        .unwrap_or_else(|e| panic!("{e}\n{}", server.log()));
    assert_eq!(pebble.orders(), 1);

    ca.off();
    // The held name keeps its certificate on new handshakes.
    for _ in 0..5 {
        assert_eq!(
            leaf(&root, ports.2, "held.status.test").await.unwrap(),
            held
        );
    }
    // A new name fails fast, then waits out a growing backoff without
    // asking the CA on every handshake.
    let mut failures = Vec::new();
    for _ in 0..3 {
        let began = Instant::now();
        assert!(leaf(&root, ports.2, "fresh.status.test").await.is_err());
        failures.push(began.elapsed());
    }
    assert!(
        failures.iter().all(|t| *t < Duration::from_secs(3)),
        "new names fail fast: {failures:?}"
    );
    let (_, queue) = admin(&server, reqwest::Method::GET, "/acme/queue").await;
    let waiting = queue["backoff"].to_string();
    assert!(waiting.contains("fresh.status.test"), "{queue}");
    let (_, detail) = admin(&server, reqwest::Method::GET, "/certs/fresh.status.test").await;
    assert!(
        detail.to_string().to_lowercase().contains("connect")
            || detail.to_string().to_lowercase().contains("refused")
            || detail.to_string().contains("error"),
        "the failure is named: {detail}"
    );
    // Attempts while waiting are refused before reaching the CA: the log
    // has one failed issuance per backoff period, not one per handshake.
    let attempts = server.log().matches("issuance failed").count();
    assert!(
        attempts <= 2,
        "{attempts} issuances for 3 handshakes in backoff\n{}",
        server.log()
    );

    // The CA comes back: after the backoff the next handshake is served.
    ca.on();
    let began = Instant::now();
    let fresh = loop {
        match leaf(&root, ports.2, "fresh.status.test").await {
            Ok(leaf) => break leaf,
            Err(e) if began.elapsed() > Duration::from_secs(30) => {
                panic!("{e}\n{}", server.log())
            }
            Err(_) => tokio::time::sleep(Duration::from_millis(250)).await,
        }
    };
    assert_ne!(fresh, held);
    assert_eq!(pebble.orders(), 2, "one order once the CA was back");
    assert_eq!(
        leaf(&root, ports.2, "held.status.test").await.unwrap(),
        held
    );
    eprintln!(
        "drill: CA away; held name served 5/5, new name failed in {failures:?}, issued {:?} after the CA returned",
        began.elapsed()
    );
}
