//! Status-page subscribers end to end, on both dialects, with a real SMTP
//! server and a real webhook receiver: subscribe (form and JSON) → confirm →
//! announcements → one-click unsubscribe → silence; component choices; bad
//! inputs and tokens; the hourly confirmation limit and per-IP limits;
//! tenant isolation of the admin API and its CSV export; signed webhooks;
//! the queue surviving a restart; maintenance announced as it starts.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use app::AppSettings;
use app::auth::Keys;
use app::auth::links::LinkClaims;
use app::db::Database;
use app::mail::Mailer;
use app::monitor::alerts::Sender;
use app::monitor::metrics::{DeliveryLabels, ProberMetrics};
use app::monitor::probe::Probes;
use app::status_page::subscribers::delivery::SubscriberDeliveryWorker;
use app::status_page::subscribers::notify::MaintenanceStarts;
use app::test_support::{SmtpSink, app_settings, token_in};
use axum::Router;
use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{HeaderMap, Method, Request, StatusCode, header};
use axum::routing::post;
use hmac::{Hmac, Mac};
use http_body_util::BodyExt;
use serde_json::{Value, json};
use sha2::Sha256;
use tokio::net::TcpListener;
use tower::ServiceExt;

use crate::api::{Api, Session};
use crate::helpers::{TestDb, enable_billing, state_with};

/// An answer as text.
struct Answer {
    status: StatusCode,
    headers: HeaderMap,
    text: String,
}

impl Answer {
    fn json(&self) -> Value {
        serde_json::from_str(&self.text).unwrap_or(Value::Null)
    }
}

/// Sends a request with `Host: host` through the real router, as from `client` (via the trusted loopback edge).
async fn send(
    api: &Api,
    method: Method,
    host: &str,
    path: &str,
    content_type: Option<&str>,
    body: impl Into<Body>,
    client: &str,
) -> Answer {
    let mut builder = Request::builder()
        .method(method)
        .uri(path)
        .header(header::HOST, host)
        .header("x-forwarded-for", client);
    if let Some(ct) = content_type {
        builder = builder.header(header::CONTENT_TYPE, ct);
    }
    let mut request = builder.body(body.into()).unwrap();
    let peer: SocketAddr = "127.0.0.1:40000".parse().unwrap();
    request.extensions_mut().insert(ConnectInfo(peer));
    let response = app::http::router(api.state.clone())
        .oneshot(request)
        .await
        .unwrap();
    let status = response.status();
    let headers = response.headers().clone();
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    Answer {
        status,
        headers,
        text: String::from_utf8_lossy(&bytes).into_owned(),
    }
}

const CLIENT: &str = "198.51.100.7";
const FORM: &str = "application/x-www-form-urlencoded";
const JSON: &str = "application/json";

async fn subscribe_json(api: &Api, host: &str, body: Value) -> Answer {
    send(
        api,
        Method::POST,
        host,
        "/status/subscribe",
        Some(JSON),
        body.to_string(),
        CLIENT,
    )
    .await
}

async fn subscribe_form(api: &Api, host: &str, form: &str, client: &str) -> Answer {
    send(
        api,
        Method::POST,
        host,
        "/status/subscribe",
        Some(FORM),
        form.to_owned(),
        client,
    )
    .await
}

fn settings() -> AppSettings {
    let mut settings = app_settings(false);
    // The webhook receiver listens on 127.0.0.1.
    settings.prober.allow_private_targets = true;
    settings
}

fn worker(db: &Database, mailer: Mailer) -> SubscriberDeliveryWorker {
    worker_with(db, mailer, ProberMetrics::default())
}

fn worker_with(db: &Database, mailer: Mailer, metrics: ProberMetrics) -> SubscriberDeliveryWorker {
    let probes = Probes::new(&settings().prober).unwrap();
    let sender = Sender::new(
        mailer,
        probes.webhook_client().clone(),
        probes.guard().clone(),
    );
    SubscriberDeliveryWorker::new(
        db.clone(),
        sender,
        Keys::derive(b"test-secret-key"),
        "test-worker".into(),
        50,
        metrics,
    )
}

/// Runs worker rounds until nothing is due.
async fn drain(worker: &SubscriberDeliveryWorker) {
    for _ in 0..50 {
        if worker.tick().await.unwrap() == 0 {
            return;
        }
    }
    panic!("the queue did not drain");
}

/// A tenant with a default page and two components.
struct Site {
    api: Api,
    owner: Session,
    host: String,
    page: String,
    api_component: String,
    web_component: String,
    sink: SmtpSink,
    mailer: Mailer,
}

async fn site(test_db: &TestDb, slug: &str) -> Site {
    site_with(test_db, slug, settings()).await
}

async fn site_with(test_db: &TestDb, slug: &str, settings: AppSettings) -> Site {
    let sink = SmtpSink::start();
    let mailer = Mailer::from_config(&sink.email_config(), false).unwrap();
    let api = Api::new(state_with(test_db.db(), settings, mailer.clone()));
    let owner = api.signup(slug, &format!("owner@{slug}.example")).await;
    let (page, api_component, web_component) = page_with_components(&api, &owner).await;
    Site {
        host: owner.domain.clone(),
        api,
        owner,
        page,
        api_component,
        web_component,
        sink,
        mailer,
    }
}

async fn page_with_components(api: &Api, owner: &Session) -> (String, String, String) {
    let token = Some(owner.access.as_str());
    let page = api
        .post(
            "/api/status-pages",
            token,
            json!({ "title": "Acme status" }),
        )
        .await;
    assert_eq!(page.status, StatusCode::CREATED, "{:?}", page.body);
    let page = page.body["id"].as_str().unwrap().to_owned();
    let mut ids = Vec::new();
    for name in ["API", "Website"] {
        let c = api
            .post(
                &format!("/api/status-pages/{page}/components"),
                token,
                json!({ "name": name, "manual_status": "operational" }),
            )
            .await;
        assert_eq!(c.status, StatusCode::CREATED, "{:?}", c.body);
        ids.push(c.body["id"].as_str().unwrap().to_owned());
    }
    (page, ids[0].clone(), ids[1].clone())
}

impl Site {
    async fn incident(&self, title: &str, components: &[&str]) -> String {
        let reply = self
            .api
            .post(
                &format!("/api/status-pages/{}/incidents", self.page),
                Some(&self.owner.access),
                json!({ "title": title, "body": format!("{title}: we are looking into it."), "component_ids": components }),
            )
            .await;
        assert_eq!(reply.status, StatusCode::CREATED, "{:?}", reply.body);
        reply.body["id"].as_str().unwrap().to_owned()
    }

    async fn update(&self, incident: &str, status: &str, body: &str) {
        let reply = self
            .api
            .post(
                &format!(
                    "/api/status-pages/{}/incidents/{incident}/updates",
                    self.page
                ),
                Some(&self.owner.access),
                json!({ "status": status, "body": body }),
            )
            .await;
        assert_eq!(reply.status, StatusCode::CREATED, "{:?}", reply.body);
    }

    /// Subscribes `email` by form, confirms through the mailed link; returns the confirmation mail.
    async fn subscribed(&self, email: &str, components: &[&str]) -> String {
        let mut form = format!(
            "email={}",
            email
                .replace('+', "%2B")
                .replace('=', "%3D")
                .replace('@', "%40")
        );
        for c in components {
            form.push_str(&format!("&components={c}"));
        }
        let answer = subscribe_form(&self.api, &self.host, &form, CLIENT).await;
        assert_eq!(answer.status, StatusCode::ACCEPTED, "{}", answer.text);
        drain(&worker(&self.api.state.db, self.mailer.clone())).await;
        let mail = self
            .sink
            .wait_for(email, "/status/subscribe/confirm?token=")
            .await;
        let token = token_in(&mail);
        let confirmed = send(
            &self.api,
            Method::POST,
            &self.host,
            &format!("/status/subscribe/confirm?token={token}"),
            Some(FORM),
            "",
            CLIENT,
        )
        .await;
        assert_eq!(confirmed.status, StatusCode::OK, "{}", confirmed.text);
        mail
    }

    fn worker(&self) -> SubscriberDeliveryWorker {
        worker(&self.api.state.db, self.mailer.clone())
    }

    /// Mails to `to` so far whose text contains `needle`.
    fn mails(&self, to: &str, needle: &str) -> Vec<String> {
        self.sink
            .messages()
            .into_iter()
            .map(|m| {
                m.replace("=\r\n", "")
                    .replace("=\n", "")
                    .replace("=3D", "=")
            })
            .filter(|m| m.lines().next().is_some_and(|l| l.contains(to)) && m.contains(needle))
            .collect()
    }
}

async fn count(db: &Database, sql: &str, bind: &str) -> i64 {
    sqlx::query_scalar(sql)
        .bind(bind)
        .fetch_one(db.pool())
        .await
        .unwrap()
}

#[tokio::test]
async fn subscribe_confirm_announce_and_one_click_unsubscribe() {
    for test_db in TestDb::both_migrated().await {
        let s = site(&test_db, "alpha").await;
        let db = s.api.state.db.clone();

        // The public page offers the form, stays cacheable, and names no visitor.
        let page = send(&s.api, Method::GET, &s.host, "/status/", None, "", CLIENT).await;
        assert_eq!(page.status, StatusCode::OK);
        assert!(
            page.text
                .contains("<form method=\"post\" action=\"/status/subscribe\">")
        );
        assert!(page.text.contains("name=\"email\""));
        assert!(page.text.contains(&format!(
            "name=\"components\" value=\"{}\"",
            s.api_component
        )));
        assert!(
            page.headers[header::CACHE_CONTROL]
                .to_str()
                .unwrap()
                .starts_with("public")
        );

        // A form post answers a page saying "check your mail", never stored by caches.
        let answer = subscribe_form(&s.api, &s.host, "email=Ann%40Example.com", CLIENT).await;
        assert_eq!(answer.status, StatusCode::ACCEPTED, "{}", answer.text);
        assert!(answer.text.contains("Check your mail"), "{}", answer.text);
        assert_eq!(answer.headers[header::CACHE_CONTROL], "no-store");
        assert!(answer.headers.get(header::SET_COOKIE).is_none());
        assert_eq!(
            count(&db, "SELECT COUNT(*) FROM status_subscribers WHERE address = $1 AND confirmed_at IS NULL", "ann@example.com").await,
            1
        );

        // Nothing is announced to an unconfirmed address.
        s.incident("Before confirming", &[]).await;
        drain(&s.worker()).await;
        let confirmation = s
            .sink
            .wait_for("ann@example.com", "/status/subscribe/confirm?token=")
            .await;
        assert!(confirmation.contains("Subject: Confirm your subscription to Acme status"));
        assert!(confirmation.contains("https://alpha.localhost/status/subscribe/confirm?token="));
        assert!(s.mails("ann@example.com", "Before confirming").is_empty());

        // Opening the link shows a button; it does not confirm by itself (mail scanners open links).
        let token = token_in(&confirmation);
        let opened = send(
            &s.api,
            Method::GET,
            &s.host,
            &format!("/status/subscribe/confirm?token={token}"),
            None,
            "",
            CLIENT,
        )
        .await;
        assert_eq!(opened.status, StatusCode::OK, "{}", opened.text);
        assert!(opened.text.contains("Confirm subscription"));
        assert_eq!(opened.headers[header::CACHE_CONTROL], "no-store");
        assert_eq!(opened.headers[header::REFERRER_POLICY], "no-referrer");
        assert_eq!(
            count(&db, "SELECT COUNT(*) FROM status_subscribers WHERE address = $1 AND confirmed_at IS NOT NULL", "ann@example.com").await,
            0
        );
        let confirmed = send(
            &s.api,
            Method::POST,
            &s.host,
            &format!("/status/subscribe/confirm?token={token}"),
            Some(FORM),
            "",
            CLIENT,
        )
        .await;
        assert_eq!(confirmed.status, StatusCode::OK, "{}", confirmed.text);
        assert!(confirmed.text.contains("You are subscribed"));
        // Confirming twice changes nothing.
        let again = send(
            &s.api,
            Method::POST,
            &s.host,
            &format!("/status/subscribe/confirm?token={token}"),
            Some(FORM),
            "",
            CLIENT,
        )
        .await;
        assert_eq!(again.status, StatusCode::OK);

        // Created, updated, resolved: one mail each, with one-click unsubscribe.
        let incident = s.incident("Database is slow", &[&s.api_component]).await;
        s.update(&incident, "identified", "A disk is failing.")
            .await;
        s.update(&incident, "resolved", "The disk is replaced.")
            .await;
        drain(&s.worker()).await;
        let created = s
            .sink
            .wait_for(
                "ann@example.com",
                "[Acme status] New incident: Database is slow",
            )
            .await;
        assert!(created.contains("Affected: API"), "{created}");
        assert!(created.contains(&format!(
            "https://alpha.localhost/status/incidents/{incident}"
        )));
        assert!(
            created
                .contains("List-Unsubscribe: <https://alpha.localhost/status/unsubscribe?token="),
            "{created}"
        );
        assert!(created.contains("List-Unsubscribe-Post: List-Unsubscribe=One-Click"));
        let unsubscribe_token = token_in(&created);
        // The same signed link is in the body.
        assert!(
            created
                .matches(&format!("/status/unsubscribe?token={unsubscribe_token}"))
                .count()
                >= 2,
            "{created}"
        );
        s.sink
            .wait_for("ann@example.com", "Incident update: Database is slow")
            .await;
        let resolved = s
            .sink
            .wait_for("ann@example.com", "Resolved: Database is slow")
            .await;
        assert!(resolved.contains("The disk is replaced."));
        assert_eq!(s.mails("ann@example.com", "Database is slow").len(), 3);

        // The unsubscribe link opens a page with a button; the RFC 8058 POST unsubscribes.
        let page = send(
            &s.api,
            Method::GET,
            &s.host,
            &format!("/status/unsubscribe?token={unsubscribe_token}"),
            None,
            "",
            CLIENT,
        )
        .await;
        assert_eq!(page.status, StatusCode::OK);
        assert!(
            page.text
                .contains("name=\"List-Unsubscribe\" value=\"One-Click\"")
        );
        let one_click = send(
            &s.api,
            Method::POST,
            &s.host,
            &format!("/status/unsubscribe?token={unsubscribe_token}"),
            Some(FORM),
            "List-Unsubscribe=One-Click",
            CLIENT,
        )
        .await;
        assert_eq!(one_click.status, StatusCode::OK, "{}", one_click.text);
        assert!(one_click.text.contains("You are unsubscribed"));
        assert_eq!(one_click.headers[header::CACHE_CONTROL], "no-store");
        assert!(one_click.headers.get(header::SET_COOKIE).is_none());
        // Idempotent, as mail programs may retry.
        // Leaving works even while the organization is suspended; joining does not.
        sqlx::query("UPDATE tenants SET status = 'suspended' WHERE id = $1")
            .bind(&s.owner.tenant_id)
            .execute(db.pool())
            .await
            .unwrap();
        let suspended = subscribe_form(&s.api, &s.host, "email=late%40example.com", CLIENT).await;
        assert_eq!(
            suspended.status,
            StatusCode::FORBIDDEN,
            "{}",
            suspended.text
        );
        let twice = send(
            &s.api,
            Method::POST,
            &s.host,
            &format!("/status/unsubscribe?token={unsubscribe_token}"),
            Some(FORM),
            "List-Unsubscribe=One-Click",
            CLIENT,
        )
        .await;
        assert_eq!(twice.status, StatusCode::OK, "{}", twice.text);
        sqlx::query("UPDATE tenants SET status = 'active' WHERE id = $1")
            .bind(&s.owner.tenant_id)
            .execute(db.pool())
            .await
            .unwrap();

        // No more mail.
        s.incident("After unsubscribing", &[]).await;
        drain(&s.worker()).await;
        let queued = count(
            &db,
            "SELECT COUNT(*) FROM status_deliveries d JOIN status_subscribers s ON s.id = d.subscriber_id \
             WHERE s.address = $1 AND d.event = 'incident.created' AND d.status = 'pending'",
            "ann@example.com",
        )
        .await;
        assert_eq!(queued, 0);
        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
        assert!(s.mails("ann@example.com", "After unsubscribing").is_empty());
        assert_eq!(
            s.mails("ann@example.com", "Subject:").len(),
            4,
            "confirmation + 3"
        );
    }
}

#[tokio::test]
async fn chosen_components_get_only_their_incidents() {
    for test_db in TestDb::both_migrated().await {
        let s = site(&test_db, "alpha").await;
        s.subscribed("api-only@example.com", &[&s.api_component])
            .await;
        s.subscribed("everything@example.com", &[]).await;
        s.incident("Website down", &[&s.web_component]).await;
        s.incident("API errors", &[&s.api_component]).await;
        s.incident("Everything is slow", &[]).await;
        drain(&s.worker()).await;
        s.sink
            .wait_for("everything@example.com", "Website down")
            .await;
        s.sink
            .wait_for("everything@example.com", "API errors")
            .await;
        s.sink
            .wait_for("everything@example.com", "Everything is slow")
            .await;
        s.sink.wait_for("api-only@example.com", "API errors").await;
        // An incident naming no component concerns every subscriber.
        s.sink
            .wait_for("api-only@example.com", "Everything is slow")
            .await;
        assert!(s.mails("api-only@example.com", "Website down").is_empty());

        // The admin list shows the choice.
        let list = s
            .api
            .get(
                &format!("/api/status-pages/{}/subscribers", s.page),
                Some(&s.owner.access),
            )
            .await;
        assert_eq!(list.status, StatusCode::OK, "{:?}", list.body);
        let rows = list.body.as_array().unwrap();
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0]["address"], "api-only@example.com");
        assert_eq!(rows[0]["status"], "active");
        assert_eq!(rows[0]["component_ids"], json!([s.api_component]));
        assert_eq!(rows[1]["component_ids"], Value::Null);
    }
}

#[tokio::test]
async fn bad_inputs_and_bad_links_get_clear_errors() {
    for test_db in TestDb::both_migrated().await {
        let s = site(&test_db, "alpha").await;
        let invalid = |a: &Answer, field: &str| {
            assert_eq!(a.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", a.text);
            assert_eq!(a.json()["field"], field, "{}", a.text);
        };
        invalid(&subscribe_json(&s.api, &s.host, json!({})).await, "email");
        invalid(
            &subscribe_json(&s.api, &s.host, json!({ "email": "not-an-address" })).await,
            "email",
        );
        invalid(
            &subscribe_json(
                &s.api,
                &s.host,
                json!({ "email": "a@example.com", "components": ["nope"] }),
            )
            .await,
            "components",
        );
        invalid(
            &subscribe_json(
                &s.api,
                &s.host,
                json!({ "email": "a@example.com", "webhook_url": "https://hooks.example/x" }),
            )
            .await,
            "webhook_url",
        );
        invalid(
            &subscribe_json(
                &s.api,
                &s.host,
                json!({ "webhook_url": "ftp://hooks.example/x" }),
            )
            .await,
            "webhook_url",
        );
        // Another tenant's component is unknown here.
        let other = s.api.signup("beta", "owner@beta.example").await;
        let (_, beta_component, _) = page_with_components(&s.api, &other).await;
        invalid(
            &subscribe_json(
                &s.api,
                &s.host,
                json!({ "email": "a@example.com", "components": [beta_component] }),
            )
            .await,
            "components",
        );
        let unknown = subscribe_json(
            &s.api,
            &s.host,
            json!({ "email": "a@example.com", "admin": true }),
        )
        .await;
        assert_eq!(unknown.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(unknown.json()["code"], "invalid_body");
        let malformed = send(
            &s.api,
            Method::POST,
            &s.host,
            "/status/subscribe",
            Some(JSON),
            "{",
            "203.0.113.3",
        )
        .await;
        assert_eq!(malformed.status, StatusCode::BAD_REQUEST);
        assert_eq!(malformed.json()["code"], "malformed_json");
        let text = send(
            &s.api,
            Method::POST,
            &s.host,
            "/status/subscribe",
            Some("text/plain"),
            "a@example.com",
            CLIENT,
        )
        .await;
        assert_eq!(text.status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
        let huge = format!("email=a%40example.com&components={}", "x".repeat(9000));
        let huge = subscribe_form(&s.api, &s.host, &huge, "203.0.113.1").await;
        assert_eq!(huge.status, StatusCode::PAYLOAD_TOO_LARGE, "{}", huge.text);
        // A form gets its error as a page.
        let form = subscribe_form(&s.api, &s.host, "email=nobody", "203.0.113.2").await;
        assert_eq!(form.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(
            form.headers[header::CONTENT_TYPE]
                .to_str()
                .unwrap()
                .starts_with("text/html")
        );
        assert!(
            form.text.contains("must be an email address"),
            "{}",
            form.text
        );
        let empty = subscribe_form(&s.api, &s.host, "", "203.0.113.2").await;
        assert_eq!(empty.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(empty.text.contains("email"), "{}", empty.text);
        // Unknown hosts have no page to subscribe to.
        let nowhere = send(
            &s.api,
            Method::POST,
            "nowhere.example",
            "/status/subscribe",
            Some(JSON),
            json!({ "email": "a@example.com" }).to_string(),
            "203.0.113.3",
        )
        .await;
        assert_eq!(nowhere.status, StatusCode::NOT_FOUND);
        assert_eq!(
            count(
                &s.api.state.db,
                "SELECT COUNT(*) FROM status_subscribers WHERE tenant_id = $1",
                &s.owner.tenant_id
            )
            .await,
            0,
            "nothing stored from bad requests"
        );

        // Links: missing, tampered, of another purpose, expired, of another page.
        let confirmation = s.subscribed("ann@example.com", &[]).await;
        let token = token_in(&confirmation);
        let keys = Keys::derive(b"test-secret-key");
        let subscriber: String = sqlx::query_scalar(
            "SELECT id FROM status_subscribers WHERE address = 'ann@example.com'",
        )
        .fetch_one(s.api.state.db.pool())
        .await
        .unwrap();
        let stamp: i64 =
            sqlx::query_scalar("SELECT token_stamp FROM status_subscribers WHERE id = $1")
                .bind(&subscriber)
                .fetch_one(s.api.state.db.pool())
                .await
                .unwrap();
        let expired = app::auth::token::sign(
            &LinkClaims {
                sub: subscriber.clone(),
                pur: "status_unsubscribe".into(),
                exp: app::clock::now_ms() / 1000 - 10,
                email: None,
                stamp: Some(stamp),
            },
            &keys.links,
        );
        let tampered: String = {
            let middle = token.len() / 2;
            let mut chars: Vec<char> = token.chars().collect();
            chars[middle] = if chars[middle] == 'A' { 'B' } else { 'A' };
            chars.into_iter().collect()
        };
        let other_host = other.domain.clone();
        for (host, path, why) in [
            (&s.host, "/status/unsubscribe".to_owned(), "incomplete"),
            (
                &s.host,
                "/status/unsubscribe?token=".to_owned(),
                "incomplete",
            ),
            (
                &s.host,
                format!("/status/unsubscribe?token={tampered}"),
                "invalid",
            ),
            (
                &s.host,
                format!("/status/unsubscribe?token={token}"),
                "not for this page",
            ),
            (
                &s.host,
                format!("/status/unsubscribe?token={expired}"),
                "expired",
            ),
        ] {
            for method in [Method::GET, Method::POST] {
                let a = send(
                    &s.api,
                    method.clone(),
                    host,
                    &path,
                    Some(FORM),
                    "List-Unsubscribe=One-Click",
                    CLIENT,
                )
                .await;
                assert_eq!(
                    a.status,
                    StatusCode::BAD_REQUEST,
                    "{method} {path}: {}",
                    a.text
                );
                assert!(a.text.contains(why), "{path}: {}", a.text);
                assert_eq!(a.headers[header::CACHE_CONTROL], "no-store");
            }
        }
        // A valid unsubscribe link on another tenant's host changes nothing there or here.
        let good =
            app::status_page::subscribers::tokens::unsubscribe_token(&keys, &subscriber, stamp);
        let elsewhere = send(
            &s.api,
            Method::POST,
            &other_host,
            &format!("/status/unsubscribe?token={good}"),
            Some(FORM),
            "",
            CLIENT,
        )
        .await;
        assert_eq!(elsewhere.status, StatusCode::OK);
        assert_eq!(
            count(
                &s.api.state.db,
                "SELECT COUNT(*) FROM status_subscribers WHERE id = $1 AND unsubscribed_at IS NULL",
                &subscriber
            )
            .await,
            1
        );
        let tampered_confirm = send(
            &s.api,
            Method::POST,
            &s.host,
            &format!("/status/subscribe/confirm?token={tampered}"),
            Some(FORM),
            "",
            CLIENT,
        )
        .await;
        assert_eq!(tampered_confirm.status, StatusCode::BAD_REQUEST);
        // Once unsubscribed, the confirmation link no longer works.
        let unsubscribed = send(
            &s.api,
            Method::POST,
            &s.host,
            &format!("/status/unsubscribe?token={good}"),
            Some(FORM),
            "",
            CLIENT,
        )
        .await;
        assert_eq!(unsubscribed.status, StatusCode::OK);
        let old_confirm = send(
            &s.api,
            Method::POST,
            &s.host,
            &format!("/status/subscribe/confirm?token={token}"),
            Some(FORM),
            "",
            CLIENT,
        )
        .await;
        assert_eq!(
            old_confirm.status,
            StatusCode::BAD_REQUEST,
            "{}",
            old_confirm.text
        );
        assert!(old_confirm.text.contains("no longer valid"));
    }
}

#[tokio::test]
async fn one_confirmation_per_address_and_page_per_hour() {
    for test_db in TestDb::both_migrated().await {
        let s = site(&test_db, "alpha").await;
        let db = s.api.state.db.clone();
        let deliveries = "SELECT COUNT(*) FROM status_deliveries d JOIN status_subscribers s ON s.id = d.subscriber_id \
                          WHERE s.address = $1 AND d.event = 'subscription.confirm'";
        let first = subscribe_json(&s.api, &s.host, json!({ "email": "victim@example.com" })).await;
        assert_eq!(first.status, StatusCode::ACCEPTED, "{}", first.text);
        let second =
            subscribe_json(&s.api, &s.host, json!({ "email": "VICTIM@example.com" })).await;
        assert_eq!(second.status, StatusCode::ACCEPTED);
        // The same answer, and one mail.
        assert_eq!(first.json(), second.json());
        assert_eq!(first.json()["status"], "pending");
        assert_eq!(count(&db, deliveries, "victim@example.com").await, 1);
        drain(&s.worker()).await;
        s.sink
            .wait_for("victim@example.com", "Confirm your subscription")
            .await;
        assert_eq!(
            s.mails("victim@example.com", "Confirm your subscription")
                .len(),
            1
        );

        // An hour later a new confirmation may go out, with a new link that voids the old one.
        let old = token_in(&s.mails("victim@example.com", "Confirm")[0]);
        sqlx::query("UPDATE status_subscribers SET confirm_sent_at = confirm_sent_at - 3600001")
            .execute(db.pool())
            .await
            .unwrap();
        let third = subscribe_json(&s.api, &s.host, json!({ "email": "victim@example.com" })).await;
        assert_eq!(third.json(), first.json());
        assert_eq!(count(&db, deliveries, "victim@example.com").await, 2);
        let stale = send(
            &s.api,
            Method::POST,
            &s.host,
            &format!("/status/subscribe/confirm?token={old}"),
            Some(FORM),
            "",
            CLIENT,
        )
        .await;
        assert_eq!(stale.status, StatusCode::BAD_REQUEST);

        // Once subscribed, asking again sends nothing at all.
        s.subscribed("ann@example.com", &[]).await;
        sqlx::query("UPDATE status_subscribers SET confirm_sent_at = 0")
            .execute(db.pool())
            .await
            .unwrap();
        let again = subscribe_json(&s.api, &s.host, json!({ "email": "ann@example.com" })).await;
        assert_eq!(again.json(), first.json());
        assert_eq!(count(&db, deliveries, "ann@example.com").await, 1);
    }
}

#[tokio::test]
async fn too_many_requests_from_one_address_get_429_with_retry_after() {
    let test_db = TestDb::sqlite().await;
    test_db.db().migrations().run().await.unwrap();
    let s = site(&test_db, "alpha").await;
    for n in 0..10 {
        let a = subscribe_form(
            &s.api,
            &s.host,
            &format!("email=p{n}%40example.com"),
            "192.0.2.10",
        )
        .await;
        assert_eq!(a.status, StatusCode::ACCEPTED, "{n}: {}", a.text);
    }
    let limited = subscribe_form(&s.api, &s.host, "email=p11%40example.com", "192.0.2.10").await;
    assert_eq!(
        limited.status,
        StatusCode::TOO_MANY_REQUESTS,
        "{}",
        limited.text
    );
    let retry: u64 = limited.headers[header::RETRY_AFTER]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=3600).contains(&retry));
    assert!(limited.text.contains("Too many requests"));
    let json = send(
        &s.api,
        Method::POST,
        &s.host,
        "/status/subscribe",
        Some(JSON),
        json!({ "email": "p12@example.com" }).to_string(),
        "192.0.2.10",
    )
    .await;
    assert_eq!(json.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(json.json()["code"], "rate_limited");
    assert!(json.headers.contains_key(header::RETRY_AFTER));
    // Another client is not affected.
    let other = subscribe_form(&s.api, &s.host, "email=p13%40example.com", "192.0.2.11").await;
    assert_eq!(other.status, StatusCode::ACCEPTED);
    // One address asked for from many clients is limited too.
    for n in 0..5 {
        let a = subscribe_form(
            &s.api,
            &s.host,
            "email=target%40example.com",
            &format!("192.0.2.{}", 20 + n),
        )
        .await;
        assert_eq!(a.status, StatusCode::ACCEPTED);
    }
    let bombed = subscribe_form(&s.api, &s.host, "email=target%40example.com", "192.0.2.40").await;
    assert_eq!(bombed.status, StatusCode::TOO_MANY_REQUESTS);

    // Opening links is limited per client too; the one-click unsubscribe is not
    // (mailbox providers post it for many people from few addresses).
    let keys = Keys::derive(b"test-secret-key");
    let confirm = app::status_page::subscribers::tokens::confirm_token(&keys, "nobody", 1);
    let unsubscribe = app::status_page::subscribers::tokens::unsubscribe_token(&keys, "nobody", 1);
    for n in 0..120 {
        let a = send(
            &s.api,
            Method::GET,
            &s.host,
            &format!("/status/subscribe/confirm?token={confirm}"),
            None,
            "",
            "192.0.2.50",
        )
        .await;
        assert_eq!(a.status, StatusCode::OK, "{n}: {}", a.text);
    }
    let limited = send(
        &s.api,
        Method::GET,
        &s.host,
        &format!("/status/subscribe/confirm?token={confirm}"),
        None,
        "",
        "192.0.2.50",
    )
    .await;
    assert_eq!(limited.status, StatusCode::TOO_MANY_REQUESTS);
    assert!(limited.headers.contains_key(header::RETRY_AFTER));
    let one_click = send(
        &s.api,
        Method::POST,
        &s.host,
        &format!("/status/unsubscribe?token={unsubscribe}"),
        Some(FORM),
        "List-Unsubscribe=One-Click",
        "192.0.2.50",
    )
    .await;
    assert_eq!(one_click.status, StatusCode::OK, "{}", one_click.text);
}

#[tokio::test]
async fn the_tenant_lists_exports_and_removes_only_its_own_subscribers() {
    for test_db in TestDb::both_migrated().await {
        let s = site(&test_db, "alpha").await;
        s.subscribed("=1+2@example.com", &[&s.api_component]).await;
        subscribe_json(&s.api, &s.host, json!({ "email": "-pending@example.com" })).await;
        let path = format!("/api/status-pages/{}/subscribers", s.page);

        let csv = csv_export(&s.api, &format!("{path}.csv"), &s.owner.access).await;
        assert_eq!(csv.status, StatusCode::OK);
        assert_eq!(csv.headers[header::CONTENT_TYPE], "text/csv; charset=utf-8");
        assert!(
            csv.headers[header::CONTENT_DISPOSITION]
                .to_str()
                .unwrap()
                .starts_with("attachment")
        );
        let text = csv.text;
        let lines: Vec<&str> = text.split("\r\n").collect();
        assert_eq!(
            lines[0],
            "id,kind,address,status,components,created_at,confirmed_at,unsubscribed_at"
        );
        assert!(
            lines[1].contains(",email,'=1+2@example.com,active,"),
            "{text}"
        );
        assert!(
            lines[1].contains(&format!(",{},", s.api_component)),
            "{text}"
        );
        assert!(
            lines[2].contains(",email,'-pending@example.com,pending,all,"),
            "{text}"
        );
        assert_eq!(lines.len(), 4, "{text}");

        // Another tenant's admin sees none of it.
        let beta = s.api.signup("beta", "owner@beta.example").await;
        let subscriber = s.api.get(&path, Some(&s.owner.access)).await.body[0]["id"]
            .as_str()
            .unwrap()
            .to_owned();
        for reply in [
            s.api.get(&path, Some(&beta.access)).await,
            s.api.get(&format!("{path}.csv"), Some(&beta.access)).await,
            s.api
                .call(
                    Method::DELETE,
                    &format!("{path}/{subscriber}"),
                    Some(&beta.access),
                    None,
                )
                .await,
        ] {
            assert_eq!(reply.status, StatusCode::NOT_FOUND, "{:?}", reply.body);
        }
        // A viewer may not read addresses; a member may read but not remove.
        let (_, viewer) = s
            .api
            .join(&s.owner.access, "viewer@alpha.example", "viewer")
            .await;
        assert_eq!(
            s.api.get(&path, Some(&viewer)).await.status,
            StatusCode::FORBIDDEN
        );
        let (_, member) = s
            .api
            .join(&s.owner.access, "member@alpha.example", "member")
            .await;
        assert_eq!(s.api.get(&path, Some(&member)).await.status, StatusCode::OK);
        let refused = s
            .api
            .call(
                Method::DELETE,
                &format!("{path}/{subscriber}"),
                Some(&member),
                None,
            )
            .await;
        assert_eq!(refused.status, StatusCode::FORBIDDEN);
        // Paging and bad paging.
        let paged = s
            .api
            .get(&format!("{path}?limit=1&offset=1"), Some(&s.owner.access))
            .await;
        assert_eq!(paged.body.as_array().unwrap().len(), 1);
        assert_eq!(paged.body[0]["address"], "-pending@example.com");
        assert_eq!(
            s.api
                .get(&format!("{path}?limit=0"), Some(&s.owner.access))
                .await
                .status,
            StatusCode::UNPROCESSABLE_ENTITY
        );
        // The owner removes one; it is gone with its queue.
        let removed = s
            .api
            .call(
                Method::DELETE,
                &format!("{path}/{subscriber}"),
                Some(&s.owner.access),
                None,
            )
            .await;
        assert_eq!(removed.status, StatusCode::NO_CONTENT);
        assert_eq!(
            s.api
                .get(&path, Some(&s.owner.access))
                .await
                .body
                .as_array()
                .unwrap()
                .len(),
            1
        );
        let gone = s
            .api
            .call(
                Method::DELETE,
                &format!("{path}/{subscriber}"),
                Some(&s.owner.access),
                None,
            )
            .await;
        assert_eq!(gone.status, StatusCode::NOT_FOUND);
        assert_eq!(
            count(
                &s.api.state.db,
                "SELECT COUNT(*) FROM status_deliveries WHERE subscriber_id = $1",
                &subscriber
            )
            .await,
            0
        );
    }
}

async fn csv_export(api: &Api, path: &str, token: &str) -> Answer {
    let mut request = Request::get(path)
        .header(header::AUTHORIZATION, format!("Bearer {token}"))
        .body(Body::empty())
        .unwrap();
    request.extensions_mut().insert(ConnectInfo(api.peer));
    let response = app::http::router(api.state.clone())
        .oneshot(request)
        .await
        .unwrap();
    let status = response.status();
    let headers = response.headers().clone();
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    Answer {
        status,
        headers,
        text: String::from_utf8(bytes.to_vec()).unwrap(),
    }
}

type Received = Arc<Mutex<Vec<(HeaderMap, String)>>>;

async fn receiver() -> (String, Received) {
    let got: Received = Arc::default();
    let shared = got.clone();
    let app = Router::new().route(
        "/hook",
        post(move |headers: HeaderMap, body: String| {
            shared.lock().unwrap().push((headers, body));
            async { StatusCode::NO_CONTENT }
        }),
    );
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    (url, got)
}

#[tokio::test]
async fn webhook_subscribers_get_payloads_signed_like_alert_webhooks() {
    for test_db in TestDb::both_migrated().await {
        let s = site(&test_db, "alpha").await;
        let (url, got) = receiver().await;
        let subscribed = subscribe_json(
            &s.api,
            &s.host,
            json!({ "webhook_url": url, "components": [s.api_component] }),
        )
        .await;
        assert_eq!(
            subscribed.status,
            StatusCode::CREATED,
            "{}",
            subscribed.text
        );
        let body = subscribed.json();
        assert_eq!(body["status"], "active");
        let secret = body["secret"].as_str().unwrap().to_owned();
        let unsubscribe_url = body["unsubscribe_url"].as_str().unwrap().to_owned();
        // Subscribing the same endpoint again is a conflict.
        let again = subscribe_json(&s.api, &s.host, json!({ "webhook_url": url })).await;
        assert_eq!(again.status, StatusCode::CONFLICT);

        let incident = s.incident("Queue backlog", &[&s.api_component]).await;
        s.incident("Website only", &[&s.web_component]).await;
        drain(&s.worker()).await;
        let calls = got.lock().unwrap().clone();
        assert_eq!(calls.len(), 1, "{calls:?}");
        let (headers, payload) = &calls[0];
        assert_eq!(headers["x-statuswatch-event"], "incident.created");
        let signature = headers["x-statuswatch-signature"].to_str().unwrap();
        let (t, v1) = signature.split_once(",v1=").unwrap();
        let t = t.strip_prefix("t=").unwrap();
        let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
        mac.update(format!("{t}.{payload}").as_bytes());
        let expected: String = mac
            .finalize()
            .into_bytes()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        assert_eq!(v1, expected, "signature does not verify");
        let payload: Value = serde_json::from_str(payload).unwrap();
        assert_eq!(payload["event"], "incident.created");
        assert_eq!(payload["incident"]["id"], incident.as_str());
        assert_eq!(payload["incident"]["title"], "Queue backlog");
        assert_eq!(payload["incident"]["component_names"], json!(["API"]));
        assert_eq!(payload["page"]["title"], "Acme status");
        assert!(
            payload["unsubscribe_url"]
                .as_str()
                .unwrap()
                .contains("/status/unsubscribe?token=")
        );

        // Its unsubscribe link ends the calls.
        let path = unsubscribe_url.trim_start_matches("https://alpha.localhost");
        let done = send(
            &s.api,
            Method::POST,
            &s.host,
            path,
            Some(FORM),
            "List-Unsubscribe=One-Click",
            CLIENT,
        )
        .await;
        assert_eq!(done.status, StatusCode::OK, "{}", done.text);
        s.incident("After", &[&s.api_component]).await;
        drain(&s.worker()).await;
        assert_eq!(got.lock().unwrap().len(), 1);
    }
}

#[tokio::test]
async fn queued_mail_survives_a_restart() {
    for test_db in TestDb::both_migrated().await {
        let s = site(&test_db, "alpha").await;
        s.subscribed("ann@example.com", &[]).await;
        // Queued while no worker runs; the app that queued it goes away.
        s.incident("Queued before the restart", &[]).await;
        s.incident("Leased by a worker that died", &[]).await;
        sqlx::query(
            "UPDATE status_deliveries SET lease_owner = 'dead-worker', lease_expires_at = $1 \
             WHERE event = 'incident.created' AND status = 'pending' AND event_key IN \
             (SELECT event_key FROM status_notices WHERE payload LIKE '%died%')",
        )
        .bind(app::clock::now_ms() - 1)
        .execute(test_db.db().pool())
        .await
        .unwrap();
        let mailer = s.mailer.clone();
        drop(s.api);
        // A new process: fresh state over the same database, a new worker.
        let restarted = worker(test_db.db(), mailer);
        drain(&restarted).await;
        s.sink
            .wait_for("ann@example.com", "Queued before the restart")
            .await;
        s.sink
            .wait_for("ann@example.com", "Leased by a worker that died")
            .await;
        let pending: i64 =
            sqlx::query_scalar("SELECT COUNT(*) FROM status_deliveries WHERE status <> 'sent'")
                .fetch_one(test_db.db().pool())
                .await
                .unwrap();
        assert_eq!(pending, 0);
    }
}

#[tokio::test]
async fn failed_sends_are_retried_with_backoff() {
    let test_db = TestDb::sqlite().await;
    test_db.db().migrations().run().await.unwrap();
    let s = site(&test_db, "alpha").await;
    s.subscribed("ann@example.com", &[]).await;
    s.incident("Mail server away", &[]).await;
    // An SMTP server that is not there: the attempt fails and is rescheduled.
    let dead = Mailer::from_config(
        &app::config::EmailConfig {
            smtp_port: app::test_support::free_port(),
            ..s.sink.email_config()
        },
        false,
    )
    .unwrap();
    let metrics = ProberMetrics::default();
    let failing = worker_with(test_db.db(), dead, metrics.clone());
    assert_eq!(failing.tick().await.unwrap(), 1);
    let failed = metrics
        .subscriber_deliveries
        .get_or_create(&DeliveryLabels { outcome: "failed" })
        .get();
    assert_eq!(failed, 1);
    let (status, attempts, error, next): (String, i64, Option<String>, i64) = sqlx::query_as(
        "SELECT status, attempts, last_error, next_attempt_at FROM status_deliveries WHERE event = 'incident.created'",
    )
    .fetch_one(test_db.db().pool())
    .await
    .unwrap();
    assert_eq!((status.as_str(), attempts), ("pending", 1));
    assert!(error.unwrap().contains("SMTP"));
    assert!(next > app::clock::now_ms() - 1000);
    tokio::time::sleep(std::time::Duration::from_millis(120)).await;
    drain(&s.worker()).await;
    s.sink.wait_for("ann@example.com", "Mail server away").await;
}

#[tokio::test]
async fn maintenance_is_announced_when_scheduled_and_once_when_it_starts() {
    for test_db in TestDb::both_migrated().await {
        let s = site(&test_db, "alpha").await;
        s.subscribed("ann@example.com", &[]).await;
        let now = app::clock::now_ms();
        let reply = s
            .api
            .post(
                &format!("/api/status-pages/{}/incidents", s.page),
                Some(&s.owner.access),
                json!({ "kind": "maintenance", "title": "Database upgrade", "body": "Expect a short pause.",
                        "scheduled_for": now + 3_600_000, "scheduled_until": now + 7_200_000 }),
            )
            .await;
        assert_eq!(reply.status, StatusCode::CREATED, "{:?}", reply.body);
        let starts =
            MaintenanceStarts::new(test_db.db().clone(), std::time::Duration::from_secs(30));
        assert_eq!(starts.tick(now).await.unwrap(), 0, "not due yet");
        drain(&s.worker()).await;
        let scheduled = s
            .sink
            .wait_for("ann@example.com", "Maintenance scheduled: Database upgrade")
            .await;
        assert!(scheduled.contains("Scheduled: "), "{scheduled}");
        // Its time comes (moved forward): announced once, however often the
        // job (or several probers) look.
        let id = reply.body["id"].as_str().unwrap();
        let moved = s
            .api
            .call(
                Method::PATCH,
                &format!("/api/status-pages/{}/incidents/{id}", s.page),
                Some(&s.owner.access),
                Some(json!({ "scheduled_for": app::clock::now_ms() - 1000 })),
            )
            .await;
        assert_eq!(moved.status, StatusCode::OK, "{:?}", moved.body);
        let now = app::clock::now_ms();
        // A suspended organization announces nothing.
        let set_status = |status: &'static str| {
            let db = test_db.db().clone();
            let tenant = s.owner.tenant_id.clone();
            async move {
                sqlx::query("UPDATE tenants SET status = $1 WHERE id = $2")
                    .bind(status)
                    .bind(tenant)
                    .execute(db.pool())
                    .await
                    .unwrap();
            }
        };
        set_status("suspended").await;
        assert_eq!(starts.tick(now).await.unwrap(), 0);
        set_status("active").await;
        assert_eq!(starts.tick(now).await.unwrap(), 1);
        assert_eq!(starts.tick(now).await.unwrap(), 0);
        assert_eq!(starts.tick(now + 60_000).await.unwrap(), 0);
        drain(&s.worker()).await;
        s.sink
            .wait_for("ann@example.com", "Maintenance started: Database upgrade")
            .await;
        // Setting it in progress by hand later announces nothing more.
        s.update(id, "in_progress", "Under way.").await;
        drain(&s.worker()).await;
        assert_eq!(s.mails("ann@example.com", "Maintenance started").len(), 1);
    }
}

#[tokio::test]
async fn a_custom_domain_subscribes_to_its_own_page_and_mails_link_there() {
    for test_db in TestDb::both_migrated().await {
        let s = site(&test_db, "alpha").await;
        let token = Some(s.owner.access.as_str());
        let second = s
            .api
            .post(
                "/api/status-pages",
                token,
                json!({ "title": "Payments status" }),
            )
            .await;
        assert_eq!(second.status, StatusCode::CREATED, "{:?}", second.body);
        let second = second.body["id"].as_str().unwrap().to_owned();
        let domain =
            crate::status_admin::verified_domain(&s.api, &s.owner, "status.payments.example").await;
        let assigned = s
            .api
            .call(
                Method::PATCH,
                &format!("/api/status-pages/{second}"),
                token,
                Some(json!({ "domain_id": domain })),
            )
            .await;
        assert_eq!(assigned.status, StatusCode::OK, "{:?}", assigned.body);

        // The form at `/` of the custom domain posts to /status/subscribe on that host.
        let root = send(
            &s.api,
            Method::GET,
            "status.payments.example",
            "/",
            None,
            "",
            CLIENT,
        )
        .await;
        assert_eq!(root.status, StatusCode::OK);
        assert!(root.text.contains("action=\"/status/subscribe\""));
        let answer = subscribe_form(
            &s.api,
            "status.payments.example",
            "email=pay%40example.com",
            CLIENT,
        )
        .await;
        assert_eq!(answer.status, StatusCode::ACCEPTED, "{}", answer.text);
        let page_of: String = sqlx::query_scalar(
            "SELECT page_id FROM status_subscribers WHERE address = 'pay@example.com'",
        )
        .fetch_one(test_db.db().pool())
        .await
        .unwrap();
        assert_eq!(page_of, second);
        drain(&s.worker()).await;
        let mail = s
            .sink
            .wait_for(
                "pay@example.com",
                "Confirm your subscription to Payments status",
            )
            .await;
        assert!(
            mail.contains("https://status.payments.example/status/subscribe/confirm?token="),
            "{mail}"
        );
        // The link is of that page: on the tenant's subdomain (the default page) it is refused.
        let token = token_in(&mail);
        let wrong = send(
            &s.api,
            Method::POST,
            &s.host,
            &format!("/status/subscribe/confirm?token={token}"),
            Some(FORM),
            "",
            CLIENT,
        )
        .await;
        assert_eq!(wrong.status, StatusCode::BAD_REQUEST);
        let right = send(
            &s.api,
            Method::POST,
            "status.payments.example",
            &format!("/status/subscribe/confirm?token={token}"),
            Some(FORM),
            "",
            CLIENT,
        )
        .await;
        assert_eq!(right.status, StatusCode::OK, "{}", right.text);
        // Incidents of the default page do not reach it.
        s.incident("Default page only", &[]).await;
        drain(&s.worker()).await;
        assert!(s.mails("pay@example.com", "Default page only").is_empty());
    }
}

/// Sends the confirmation of `email`'s (only) pending subscription by its mailed link.
async fn confirm_mailed(s: &Site, email: &str) -> Answer {
    drain(&s.worker()).await;
    let mail = s
        .sink
        .wait_for(email, "/status/subscribe/confirm?token=")
        .await;
    let token = token_in(&mail);
    send(
        &s.api,
        Method::POST,
        &s.host,
        &format!("/status/subscribe/confirm?token={token}"),
        Some(FORM),
        "",
        CLIENT,
    )
    .await
}

#[tokio::test]
async fn a_page_takes_as_many_subscribers_as_the_plan_allows() {
    for test_db in TestDb::both_migrated().await {
        let mut billed = settings();
        // Stripe is never asked here.
        enable_billing(&mut billed, "http://127.0.0.1:9");
        billed.billing.plans.insert(
            "free".to_owned(),
            app::config::PlanConfig {
                max_subscribers_per_page: Some(1),
                ..Default::default()
            },
        );
        let s = site_with(&test_db, "alpha", billed).await;
        let db = s.api.state.db.clone();
        let pending = |email: &'static str| {
            let db = db.clone();
            async move {
                count(
                    &db,
                    "SELECT COUNT(*) FROM status_subscribers WHERE address = $1",
                    email,
                )
                .await
            }
        };

        // Two addresses sign up while the page has room; the first to confirm takes it.
        for email in ["ann%40example.com", "bob%40example.com"] {
            let answer = subscribe_form(&s.api, &s.host, &format!("email={email}"), CLIENT).await;
            assert_eq!(answer.status, StatusCode::ACCEPTED, "{}", answer.text);
        }
        let ann = confirm_mailed(&s, "ann@example.com").await;
        assert_eq!(ann.status, StatusCode::OK, "{}", ann.text);
        let bob = confirm_mailed(&s, "bob@example.com").await;
        assert_eq!(bob.status, StatusCode::PAYMENT_REQUIRED, "{}", bob.text);
        assert!(
            bob.text.contains("takes no more subscribers"),
            "{}",
            bob.text
        );
        assert!(bob.text.contains("feeds need no sign-up"), "{}", bob.text);
        assert_eq!(
            count(&db, "SELECT COUNT(*) FROM status_subscribers WHERE address = $1 AND confirmed_at IS NOT NULL", "bob@example.com").await,
            0,
            "the refused confirmation changed nothing"
        );

        // A full page sends no confirmation mail at all, by form, JSON or webhook.
        let form = subscribe_form(&s.api, &s.host, "email=carl%40example.com", CLIENT).await;
        assert_eq!(form.status, StatusCode::PAYMENT_REQUIRED, "{}", form.text);
        let json = subscribe_json(&s.api, &s.host, json!({ "email": "dora@example.com" })).await;
        assert_eq!(json.status, StatusCode::PAYMENT_REQUIRED, "{}", json.text);
        assert_eq!(json.json()["code"], "plan_limit");
        assert_eq!(json.json()["limit"], "subscribers_per_page");
        let hook = subscribe_json(
            &s.api,
            &s.host,
            json!({ "webhook_url": "http://127.0.0.1:9/hook" }),
        )
        .await;
        assert_eq!(hook.status, StatusCode::PAYMENT_REQUIRED, "{}", hook.text);
        assert_eq!(
            pending("carl@example.com").await + pending("dora@example.com").await,
            0
        );
        drain(&s.worker()).await;
        assert!(s.mails("carl@example.com", "").is_empty());
        // Ann, already in, re-subscribing is not refused.
        let again = subscribe_form(&s.api, &s.host, "email=ann%40example.com", CLIENT).await;
        assert_eq!(again.status, StatusCode::ACCEPTED, "{}", again.text);

        // The tenant sees the page's count against its plan.
        let billing = s.api.get("/api/billing", Some(&s.owner.access)).await;
        assert_eq!(billing.status, StatusCode::OK, "{:?}", billing.body);
        let limit = billing.body["limits"]
            .as_array()
            .unwrap()
            .iter()
            .find(|l| l["limit"] == "subscribers_per_page")
            .unwrap()
            .clone();
        assert_eq!(limit["used"], 1, "{limit}");
        assert_eq!(limit["allowed"], 1, "{limit}");

        // Once Ann is removed there is room again.
        let list = s
            .api
            .get(
                &format!("/api/status-pages/{}/subscribers", s.page),
                Some(&s.owner.access),
            )
            .await;
        let ann_id = list
            .body
            .as_array()
            .unwrap()
            .iter()
            .find(|x| x["address"] == "ann@example.com")
            .unwrap()["id"]
            .as_str()
            .unwrap()
            .to_owned();
        let removed = s
            .api
            .call(
                Method::DELETE,
                &format!("/api/status-pages/{}/subscribers/{ann_id}", s.page),
                Some(&s.owner.access),
                None,
            )
            .await;
        assert!(removed.status.is_success(), "{:?}", removed.body);
        let carl = subscribe_form(&s.api, &s.host, "email=carl%40example.com", CLIENT).await;
        assert_eq!(carl.status, StatusCode::ACCEPTED, "{}", carl.text);
    }
}
