//! Planted secrets never leave: with known values for the secret key, the
//! SMTP password, the Stripe keys, the edge admin token and the database
//! password, the main flows and their error paths run, and none of the values
//! appears in the logs, answers, metrics or `config check` output.

use std::time::Duration;

use serde_json::{Value, json};

use crate::harness::{Server, output, statuswatch};

const SECRET_KEY: &str = "planted-secret-key-Zq8Lr2Vx9Tn4Wm7Kp3Hs6Jd1Fb5Gc0Yw";
const SMTP_PASSWORD: &str = "planted-smtp-password-Xy7Qe2Lm";
const STRIPE_SECRET: &str = "sk_test_plantedStripeSecret8Hk2Pw";
const STRIPE_WEBHOOK: &str = "whsec_plantedWebhookSecret4Mn6Rt";
const ADMIN_TOKEN: &str = "planted-admin-token-Rv5Tz9Lq2Wx8Bn";
const DB_PASSWORD: &str = "plantedDbPassword7Jc3Vk";
const PASSWORD: &str = "planted-user-password-Gh4Ty8";

/// Every planted value, with the forms it could leak in (as is and
/// percent-encoded, the way it sits inside a URL).
fn planted() -> Vec<String> {
    let mut all = Vec::new();
    for secret in [
        SECRET_KEY,
        SMTP_PASSWORD,
        STRIPE_SECRET,
        STRIPE_WEBHOOK,
        ADMIN_TOKEN,
        DB_PASSWORD,
        PASSWORD,
    ] {
        all.push(secret.to_owned());
        all.push(secret.replace('-', "%2D"));
        // A distinctive middle part catches truncated or re-encoded copies.
        all.push(secret[8..secret.len() - 4].to_owned());
    }
    all
}

fn assert_clean(what: &str, text: &str) {
    for secret in planted() {
        assert!(
            !text.contains(&secret),
            "{what} contains the planted secret `{secret}`:\n{text}"
        );
    }
}

fn with_secrets(command: &mut std::process::Command, database_url: &str) {
    command
        .env("STATUSWATCH__SECRET_KEY", SECRET_KEY)
        .env("STATUSWATCH__DATABASE__URL", database_url)
        .env("STATUSWATCH__EDGE__ADMIN_TOKEN", ADMIN_TOKEN)
        // Mail goes to a port where nothing listens: every send fails and is logged.
        .env("STATUSWATCH__EMAIL__ENABLED", "true")
        .env("STATUSWATCH__EMAIL__SMTP_HOST", "127.0.0.1")
        .env("STATUSWATCH__EMAIL__SMTP_PORT", "9")
        .env("STATUSWATCH__EMAIL__SMTP_SECURITY", "none")
        .env("STATUSWATCH__EMAIL__SMTP_USERNAME", "mailer")
        .env("STATUSWATCH__EMAIL__SMTP_PASSWORD", SMTP_PASSWORD)
        .env("STATUSWATCH__BILLING__ENABLED", "true")
        .env(
            "STATUSWATCH__BILLING__STRIPE_API_BASE",
            "http://127.0.0.1:9",
        )
        .env(
            "STATUSWATCH__BILLING__STRIPE_PUBLISHABLE_KEY",
            "pk_test_public",
        )
        .env("STATUSWATCH__BILLING__STRIPE_SECRET_KEY", STRIPE_SECRET)
        .env(
            "STATUSWATCH__BILLING__STRIPE_WEBHOOK_SECRET",
            STRIPE_WEBHOOK,
        )
        .env(
            "STATUSWATCH__BILLING__PLANS__PRO__STRIPE_PRICE_ID",
            "price_pro",
        )
        .env("STATUSWATCH__LOG__LEVEL", "debug");
}

#[tokio::test]
async fn planted_secrets_appear_in_no_log_answer_metric_or_config_output() {
    let pg = app::test_support::PgTestDb::create().await;
    // Trust authentication ignores the password, so it travels but is never needed.
    let database_url = pg.url().replacen(
        "postgres://postgres@",
        &format!("postgres://postgres:{DB_PASSWORD}@"),
        1,
    );
    assert!(database_url.contains(DB_PASSWORD), "{database_url}");
    let dir = tempfile::tempdir().unwrap();
    let mut seen: Vec<(String, String)> = Vec::new();

    // Configuration output, valid and refused (production lists every problem).
    for env in ["development", "production"] {
        let mut command = statuswatch(dir.path());
        with_secrets(&mut command, &database_url);
        command
            .env("STATUSWATCH_ENV", env)
            .args(["config", "check"]);
        let (_, stdout, stderr) = output(&mut command);
        seen.push((format!("config check ({env})"), stdout + &stderr));
    }
    // A database that cannot be reached, named in the error.
    let mut command = statuswatch(dir.path());
    with_secrets(
        &mut command,
        &format!("postgres://postgres:{DB_PASSWORD}@127.0.0.1:9/nowhere"),
    );
    let (status, stdout, stderr) = output(command.arg("migrate"));
    assert!(!status.success());
    seen.push((
        "migrate on an unreachable database".into(),
        stdout + &stderr,
    ));

    let mut command = statuswatch(dir.path());
    with_secrets(&mut command, &database_url);
    let (status, _, stderr) = output(command.arg("migrate"));
    assert!(status.success(), "{stderr}");
    let mut command = statuswatch(dir.path());
    with_secrets(&mut command, &database_url);
    command.env("STATUSWATCH__DATABASE__MIGRATE_ON_START", "false");
    let mut server = Server::start(command, "serve", dir.path());
    server.wait_for("/health/ready/", 200).await;

    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(15))
        .build()
        .unwrap();
    let base = server.base.clone();
    let mut call =
        async |method: reqwest::Method, path: &str, token: Option<&str>, body: Option<Value>| {
            let mut request = http.request(method.clone(), format!("{base}{path}"));
            if let Some(token) = token {
                request = request.bearer_auth(token);
            }
            if let Some(body) = body {
                request = request.json(&body);
            }
            let response = request.send().await.unwrap();
            let status = response.status().as_u16();
            let headers = format!("{:?}", response.headers());
            let text = response.text().await.unwrap();
            seen.push((format!("{method} {path} ({status})"), headers + &text));
            (status, text)
        };

    let (status, text) = call(
        reqwest::Method::POST,
        "/api/auth/signup",
        None,
        Some(json!({ "organization": "Planted", "slug": "planted", "email": "owner@planted.example", "password": PASSWORD })),
    )
    .await;
    assert_eq!(status, 201, "{text}");
    let session: Value = serde_json::from_str(&text).unwrap();
    let token = session["access_token"].as_str().unwrap().to_owned();
    let (status, _) = call(
        reqwest::Method::POST,
        "/api/auth/login",
        None,
        Some(json!({ "email": "owner@planted.example", "password": format!("{PASSWORD}-wrong") })),
    )
    .await;
    assert_eq!(status, 401);
    // Error paths: a mail that cannot be sent, bad input, no credentials, a bad token.
    let (status, _) = call(
        reqwest::Method::POST,
        "/api/auth/password-reset",
        None,
        Some(json!({ "email": "owner@planted.example" })),
    )
    .await;
    assert!(status < 500, "{status}");
    let (status, _) = call(
        reqwest::Method::POST,
        "/api/monitors",
        Some(&token),
        Some(json!({ "name": "x", "kind": "http", "url": "ftp://nowhere" })),
    )
    .await;
    assert_eq!(status, 422);
    let (status, _) = call(reqwest::Method::GET, "/api/me", Some("not-a-token"), None).await;
    assert_eq!(status, 401);
    let (status, _) = call(reqwest::Method::GET, "/api/me", Some(&token), None).await;
    assert_eq!(status, 200);
    let (status, _) = call(
        reqwest::Method::GET,
        "/api/alert-channels",
        Some(&token),
        None,
    )
    .await;
    assert_eq!(status, 200);
    let (status, _) = call(
        reqwest::Method::POST,
        "/api/alert-channels",
        Some(&token),
        Some(json!({ "name": "mail", "kind": "email", "config": { "to": "ops@planted.example" } })),
    )
    .await;
    assert!(status < 500, "{status}");
    let (status, _) = call(reqwest::Method::GET, "/metrics", None, None).await;
    assert_eq!(status, 200);
    let (status, _) = call(reqwest::Method::GET, "/api/openapi.json", None, None).await;
    assert_eq!(status, 200);
    // Malformed JSON and a webhook with a made-up signature.
    let response = http
        .post(format!("{base}/api/auth/login"))
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    seen.push(("malformed JSON".into(), response.text().await.unwrap()));
    let response = http
        .post(format!("{base}/api/billing/webhook"))
        .header("stripe-signature", "t=1,v1=00")
        .body("{}")
        .send()
        .await
        .unwrap();
    seen.push(("billing webhook".into(), response.text().await.unwrap()));

    // The edge's admin API, with and without its token.
    let admin = format!("http://127.0.0.1:{}", server.admin_port);
    for (path, token) in [
        ("/metrics", Some(ADMIN_TOKEN)),
        ("/certs", Some(ADMIN_TOKEN)),
        ("/metrics", None),
        ("/certs", Some("wrong")),
    ] {
        let mut request = http.get(format!("{admin}{path}"));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        let response = request.send().await.unwrap();
        seen.push((format!("edge admin {path}"), response.text().await.unwrap()));
    }
    // Give the failing mail time to be tried and logged.
    tokio::time::sleep(Duration::from_millis(500)).await;
    server.stop();
    let log = server.log();
    assert!(
        log.contains("DEBUG"),
        "the log is at debug level, so it says as much as it ever would"
    );
    assert!(
        log.contains("mail not sent"),
        "the failing mail path ran:\n{log}"
    );
    seen.push(("server log".into(), log));

    for (what, text) in &seen {
        assert_clean(what, text);
    }
    pg.drop_now().await;
}
