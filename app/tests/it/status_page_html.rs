//! The public status page as HTML: content and structure for a tenant with
//! components in every state, caching headers, size, suspended tenants,
//! unknown hosts, custom domains and tenant isolation.

use std::io::Write;

use app::http::public_status::CACHE_CONTROL;
use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{HeaderMap, Method, Request, StatusCode, header};
use http_body_util::BodyExt;
use serde_json::json;
use tower::ServiceExt;

use crate::api::{Api, Session};
use crate::helpers::{TestDb, state};
use crate::status_admin::{monitor, verified_domain};

const DAY: i64 = 86_400_000;

/// A raw answer: status, headers, body text.
pub struct Page {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub text: String,
}

/// GETs `path` with `Host: host` (and extra headers) through the real router.
pub async fn fetch(api: &Api, host: &str, path: &str, extra: &[(&str, &str)]) -> Page {
    let mut request = Request::builder()
        .method(Method::GET)
        .uri(path)
        .header(header::HOST, host);
    for (name, value) in extra {
        request = request.header(*name, *value);
    }
    let mut request = request.body(Body::empty()).unwrap();
    request.extensions_mut().insert(ConnectInfo(api.peer));
    let response = app::http::router(api.state.clone())
        .oneshot(request)
        .await
        .unwrap();
    let status = response.status();
    let headers = response.headers().clone();
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    Page {
        status,
        headers,
        text: String::from_utf8(bytes.to_vec()).unwrap(),
    }
}

fn id(value: &serde_json::Value) -> String {
    value["id"].as_str().unwrap().to_owned()
}

async fn set_state(api: &Api, monitor: &str, state: &str) {
    sqlx::query("UPDATE monitors SET state = $1, paused = $2, state_changed_at = 5 WHERE id = $3")
        .bind(state)
        .bind(i64::from(state == "paused"))
        .bind(monitor)
        .execute(api.state.db.pool())
        .await
        .unwrap();
}

pub async fn day_rollup(
    api: &Api,
    tenant: &str,
    monitor: &str,
    start: i64,
    checks: i64,
    failures: i64,
) {
    sqlx::query(
        "INSERT INTO check_rollups (tenant_id, monitor_id, period, bucket_start, checks, failures) VALUES ($1, $2, 'day', $3, $4, $5)",
    )
    .bind(tenant)
    .bind(monitor)
    .bind(start)
    .bind(checks)
    .bind(failures)
    .execute(api.state.db.pool())
    .await
    .unwrap();
}

/// The markup of one component: from its `<li>` to the next component or section end.
fn component_markup<'a>(html: &'a str, id: &str) -> &'a str {
    let start = html
        .find(&format!("id=\"c-{id}\""))
        .unwrap_or_else(|| panic!("component {id} missing"));
    let rest = &html[start..];
    let end = rest[1..]
        .find("<li class=\"comp\"")
        .or_else(|| rest.find("</section>"))
        .map_or(rest.len(), |e| e + 1);
    &rest[..end]
}

/// Every component state on one page, plus an incident and a maintenance under way.
pub struct Fixture {
    pub owner: Session,
    pub page: String,
    /// (component id, name, expected status label)
    pub components: Vec<(String, &'static str, &'static str)>,
    pub hidden: String,
    pub incident: String,
    pub maintenance: String,
}

pub async fn fixture(api: &Api, slug: &str) -> Fixture {
    let owner = api.signup(slug, &format!("owner@{slug}.example")).await;
    let token = Some(owner.access.as_str());
    let page = api
        .post(
            "/api/status-pages",
            token,
            json!({ "title": format!("{slug} status"), "description": "Live state of our services", "logo_url": "https://cdn.example/logo.png" }),
        )
        .await;
    let page = id(&page.body);
    let group = id(&api
        .post(
            &format!("/api/status-pages/{page}/groups"),
            token,
            json!({ "name": "Core platform" }),
        )
        .await
        .body);
    let [up, down, degraded, paused] = [
        monitor(api, &owner, "up").await,
        monitor(api, &owner, "down").await,
        monitor(api, &owner, "degraded").await,
        monitor(api, &owner, "paused").await,
    ];
    set_state(api, &up, "up").await;
    set_state(api, &down, "down").await;
    set_state(api, &degraded, "degraded").await;
    set_state(api, &paused, "paused").await;
    let add = |body: serde_json::Value| {
        let path = format!("/api/status-pages/{page}/components");
        async move {
            let reply = api.post(&path, token, body).await;
            assert_eq!(reply.status, StatusCode::CREATED, "{:?}", reply.body);
            id(&reply.body)
        }
    };
    let website = add(
        json!({ "name": "Website", "monitor_ids": [up, paused], "description": "Marketing site" }),
    )
    .await;
    let api_c =
        add(json!({ "name": "Public API", "monitor_ids": [down], "group_id": group })).await;
    let search =
        add(json!({ "name": "Search", "monitor_ids": [degraded], "group_id": group })).await;
    let workers = add(json!({ "name": "Workers", "monitor_ids": [up, down] })).await;
    let support = add(json!({ "name": "Support desk", "manual_status": "operational" })).await;
    let database = add(json!({ "name": "Database", "monitor_ids": [up] })).await;
    let hidden =
        add(json!({ "name": "Legacy FTP", "monitor_ids": [up], "only_show_if_degraded": true }))
            .await;
    let incidents = format!("/api/status-pages/{page}/incidents");
    let incident = api
        .post(
            &incidents,
            token,
            json!({ "title": "Support replies are slow", "impact": "minor", "body": "We are short-staffed.\nReplies take a day.", "component_ids": [support] }),
        )
        .await;
    let incident = id(&incident.body);
    let now = app::clock::now_ms();
    let maintenance = api
        .post(
            &incidents,
            token,
            json!({ "kind": "maintenance", "title": "Database upgrade", "body": "Upgrading to a new version.", "scheduled_for": now - 60_000, "scheduled_until": now + 3_600_000, "component_ids": [database] }),
        )
        .await;
    let maintenance = id(&maintenance.body);
    Fixture {
        owner,
        page,
        components: vec![
            (website, "Website", "Operational"),
            (api_c, "Public API", "Major outage"),
            (search, "Search", "Degraded performance"),
            (workers, "Workers", "Partial outage"),
            (support, "Support desk", "Degraded performance"),
            (database, "Database", "Under maintenance"),
        ],
        hidden,
        incident,
        maintenance,
    }
}

#[tokio::test]
async fn the_page_shows_every_state_with_landmarks_headings_and_bars() {
    for test_db in TestDb::both_migrated().await {
        let api = Api::new(state(test_db.db()));
        let f = fixture(&api, "alpha").await;
        let host = f.owner.domain.clone();
        // Uptime history of the "up" monitor behind Website: yesterday 99.9 %, the day before 100 %.
        let website_monitor = api
            .get(
                &format!(
                    "/api/status-pages/{}/components/{}",
                    f.page, f.components[0].0
                ),
                Some(&f.owner.access),
            )
            .await;
        let up = website_monitor.body["monitor_ids"]
            .as_array()
            .unwrap()
            .iter()
            .find_map(|m| m.as_str())
            .unwrap()
            .to_owned();
        let today = app::clock::now_ms() / DAY * DAY;
        day_rollup(&api, &f.owner.tenant_id, &up, today - DAY, 1000, 1).await;
        day_rollup(&api, &f.owner.tenant_id, &up, today - 2 * DAY, 500, 0).await;

        let page = fetch(&api, &host, "/status/", &[]).await;
        assert_eq!(page.status, StatusCode::OK, "{}", page.text);
        assert_eq!(
            page.headers[header::CONTENT_TYPE],
            "text/html; charset=utf-8"
        );
        assert_eq!(page.headers[header::CACHE_CONTROL], CACHE_CONTROL);
        assert!(page.headers.get(header::SET_COOKIE).is_none());
        let csp = page.headers[header::CONTENT_SECURITY_POLICY]
            .to_str()
            .unwrap();
        assert!(
            csp.contains("style-src 'sha256-") && csp.contains("default-src 'none'"),
            "{csp}"
        );
        let html = &page.text;
        assert!(html.starts_with("<!DOCTYPE html><html lang=\"en\">"));
        for landmark in [
            "<header>",
            "<main id=\"main\">",
            "<footer>",
            "href=\"#main\"",
        ] {
            assert!(html.contains(landmark), "missing {landmark}");
        }
        assert_eq!(html.matches("<h1>").count(), 1);
        assert!(html.contains("<h1>alpha status</h1>"));
        for h2 in [
            "Active incidents",
            "Scheduled maintenance",
            "Components",
            "Incident history",
        ] {
            assert!(
                html.contains(&format!("\">{h2}</h2>")),
                "missing section {h2}"
            );
        }
        // Every section is labelled by its heading.
        for id in ["overall", "active", "maintenance", "components", "history"] {
            assert!(
                html.contains(&format!("aria-labelledby=\"{id}\""))
                    && html.contains(&format!("id=\"{id}\""))
            );
        }
        assert!(
            html.contains("class=\"overall i-critical\">Major System Outage</h2>"),
            "overall state"
        );
        assert!(html.contains("Last updated <time datetime=\"20"));
        assert!(html.contains("<img src=\"https://cdn.example/logo.png\" alt=\"alpha Inc logo\">"));
        assert!(html.contains("<p class=\"org\">alpha Inc</p>"));
        // The group, with the worst state of its members.
        assert!(
            html.contains(
                ">Core platform</h3><span class=\"st s-major_outage\">Major outage</span>"
            )
        );
        for (id, name, label) in &f.components {
            let markup = component_markup(html, id);
            assert!(markup.contains(&format!(">{name}</h")), "{name}: {markup}");
            assert!(
                markup.contains(&format!(">{label}</span>")),
                "{name} should be {label}: {markup}"
            );
        }
        assert!(
            !html.contains("Legacy FTP"),
            "an operational only-if-degraded component is hidden"
        );
        assert!(!html.contains(&f.hidden));
        // 90 bars with a text alternative each, on monitor-bound components only.
        let website = component_markup(html, &f.components[0].0);
        assert_eq!(website.matches("<li class=\"").count(), 90);
        assert_eq!(website.matches("<span>").count(), 90);
        assert!(website.contains("aria-label=\"Website: daily uptime, last 90 days\""));
        assert_eq!(website.matches("no data</span>").count(), 88, "{website}");
        assert!(
            website.contains("<li class=\"m\"><span>") && website.contains(": 99.9% uptime</span>")
        );
        assert!(website.contains(": 100% uptime</span>"));
        assert!(
            website.contains("99.933% uptime over the last 90 days")
                || website.contains("% uptime over the last 90 days")
        );
        let support = component_markup(html, &f.components[4].0);
        assert!(
            !support.contains("class=\"bars\""),
            "a hand-set component has no bars"
        );
        // Incidents and maintenance, linked to their own pages.
        assert!(html.contains(&format!(
            "href=\"/status/incidents/{}\">Support replies are slow</a>",
            f.incident
        )));
        assert!(html.contains("<p>We are short-staffed.</p><p>Replies take a day.</p>"));
        assert!(html.contains(&format!(
            "href=\"/status/incidents/{}\">Database upgrade</a>",
            f.maintenance
        )));
        assert!(html.contains("under way"));
        // Feeds are announced.
        assert!(
            html.contains("type=\"application/atom+xml\"")
                && html.contains("href=\"/status/history.rss\"")
        );

        assert!(page.headers.contains_key(header::ETAG));
        // The incident's own page.
        let incident = fetch(
            &api,
            &host,
            &format!("/status/incidents/{}", f.incident),
            &[],
        )
        .await;
        assert_eq!(incident.status, StatusCode::OK);
        assert!(incident.text.contains("<h1>Support replies are slow</h1>"));
        assert!(incident.text.contains("Affected: Support desk"));
        assert!(incident.text.contains("<h3>Investigating</h3>"));
        assert_eq!(incident.headers[header::CACHE_CONTROL], CACHE_CONTROL);
        let missing = fetch(&api, &host, "/status/incidents/nope", &[]).await;
        assert_eq!(missing.status, StatusCode::NOT_FOUND);
        assert!(missing.text.contains("<h1>Page not found</h1>"));
        // `/status` redirects; `/` of the subdomain is not the status page.
        let redirect = fetch(&api, &host, "/status", &[]).await;
        assert_eq!(redirect.status, StatusCode::PERMANENT_REDIRECT);
        assert_eq!(redirect.headers[header::LOCATION], "/status/");
        assert_eq!(
            fetch(&api, &host, "/", &[]).await.status,
            StatusCode::NOT_FOUND
        );
    }
}

#[tokio::test]
async fn hosts_pick_pages_and_never_another_tenants() {
    for test_db in TestDb::both_migrated().await {
        let api = Api::new(state(test_db.db()));
        let a = fixture(&api, "alpha").await;
        let b = api.signup("beta", "bob@beta.example").await;
        let b_page = api
            .post(
                "/api/status-pages",
                Some(&b.access),
                json!({ "title": "Beta status" }),
            )
            .await;
        let b_page = id(&b_page.body);
        let beta = fetch(&api, &b.domain, "/status/", &[]).await;
        assert_eq!(beta.status, StatusCode::OK);
        assert!(beta.text.contains("<h1>Beta status</h1>"));
        for (_, name, _) in &a.components {
            assert!(
                !beta.text.contains(name),
                "tenant B's page shows A's {name}"
            );
        }
        assert!(beta.text.contains("All Systems Operational"));
        // A's incident is not found under B's host.
        let stolen = fetch(
            &api,
            &b.domain,
            &format!("/status/incidents/{}", a.incident),
            &[],
        )
        .await;
        assert_eq!(stolen.status, StatusCode::NOT_FOUND);
        // Unknown hosts, the bare suffix, unverified domains: a 404 page.
        for host in ["nobody.localhost", "localhost", "evil.example"] {
            let page = fetch(&api, host, "/status/", &[]).await;
            assert_eq!(page.status, StatusCode::NOT_FOUND, "{host}");
            assert!(
                page.text
                    .contains("There is no status page at this address.")
            );
            assert!(!page.text.contains("alpha"));
        }
        let pending = api
            .post(
                "/api/domains",
                Some(&b.access),
                json!({ "hostname": "status.beta.example" }),
            )
            .await;
        assert_eq!(pending.status, StatusCode::CREATED);
        assert_eq!(
            fetch(&api, "status.beta.example", "/status/", &[])
                .await
                .status,
            StatusCode::NOT_FOUND
        );
        // A verified custom domain assigned to a page serves it at / and /status/.
        let second = api
            .post(
                "/api/status-pages",
                Some(&b.access),
                json!({ "title": "Beta API status" }),
            )
            .await;
        let second = id(&second.body);
        let domain = verified_domain(&api, &b, "api-status.beta.example").await;
        let unassigned = fetch(&api, "api-status.beta.example", "/", &[]).await;
        assert_eq!(
            unassigned.status,
            StatusCode::NOT_FOUND,
            "a domain serves / only once assigned"
        );
        let assigned = api
            .call(
                Method::PATCH,
                &format!("/api/status-pages/{second}"),
                Some(&b.access),
                Some(json!({ "domain_id": domain })),
            )
            .await;
        assert_eq!(assigned.status, StatusCode::OK, "{:?}", assigned.body);
        for path in ["/", "/status/"] {
            let page = fetch(&api, "API-Status.beta.example:443", path, &[]).await;
            assert_eq!(page.status, StatusCode::OK, "{path}");
            assert!(page.text.contains("<h1>Beta API status</h1>"), "{path}");
        }
        // The subdomain keeps the default page.
        assert!(
            fetch(&api, &b.domain, "/status/", &[])
                .await
                .text
                .contains("<h1>Beta status</h1>")
        );
        let _ = b_page;
        // An organization without a page.
        let c = api.signup("gamma", "gil@gamma.example").await;
        let none = fetch(&api, &c.domain, "/status/", &[]).await;
        assert_eq!(none.status, StatusCode::NOT_FOUND);
        assert!(none.text.contains("has not published a status page"));
    }
}

#[tokio::test]
async fn a_suspended_tenants_page_says_so_and_nothing_else() {
    for test_db in TestDb::both_migrated().await {
        let api = Api::new(state(test_db.db()));
        let f = fixture(&api, "alpha").await;
        sqlx::query("UPDATE tenants SET status = 'suspended' WHERE id = $1")
            .bind(&f.owner.tenant_id)
            .execute(api.state.db.pool())
            .await
            .unwrap();
        for path in ["/status/", &format!("/status/incidents/{}", f.incident)] {
            let page = fetch(&api, &f.owner.domain, path, &[]).await;
            assert_eq!(page.status, StatusCode::FORBIDDEN, "{path}");
            assert!(page.text.contains("status page is unavailable"));
            assert!(page.text.contains("suspended"));
            for (_, name, _) in &f.components {
                assert!(!page.text.contains(name), "{path} shows {name}");
            }
            assert!(!page.text.contains("Support replies"));
            assert!(!page.text.contains("logo.png"));
        }
    }
}

#[tokio::test]
async fn history_is_paged() {
    let test_db = TestDb::sqlite().await;
    test_db.db().migrations().run().await.unwrap();
    let api = Api::new(state(test_db.db()));
    let a = api.signup("alpha", "ann@alpha.example").await;
    let page = id(&api
        .post(
            "/api/status-pages",
            Some(&a.access),
            json!({ "title": "Alpha" }),
        )
        .await
        .body);
    for n in 0..12 {
        let reply = api
            .post(
                &format!("/api/status-pages/{page}/incidents"),
                Some(&a.access),
                json!({ "title": format!("Incident number {n:02}"), "body": "Resolved quickly.", "status": "resolved" }),
            )
            .await;
        assert_eq!(reply.status, StatusCode::CREATED);
    }
    let first = fetch(&api, &a.domain, "/status/", &[]).await.text;
    assert_eq!(first.matches("<article>").count(), 10);
    assert!(first.contains("Incident number 11") && !first.contains("Incident number 01"));
    assert!(first.contains("rel=\"next\" href=\"/status/?page=2#history\""));
    assert!(!first.contains("rel=\"prev\""));
    let second = fetch(&api, &a.domain, "/status/?page=2", &[]).await.text;
    assert_eq!(second.matches("<article>").count(), 2);
    assert!(second.contains("Incident number 00"));
    assert!(second.contains("rel=\"prev\"") && !second.contains("rel=\"next\""));
    // Nonsense pages fall back to the first.
    assert_eq!(
        fetch(&api, &a.domain, "/status/?page=-3", &[])
            .await
            .text
            .matches("<article>")
            .count(),
        10
    );
}

#[tokio::test]
async fn fifty_components_stay_under_50_kb_gzipped() {
    let test_db = TestDb::sqlite().await;
    test_db.db().migrations().run().await.unwrap();
    let api = Api::new(state(test_db.db()));
    let a = api.signup("alpha", "ann@alpha.example").await;
    let token = Some(a.access.as_str());
    let page = id(&api
        .post("/api/status-pages", token, json!({ "title": "Alpha" }))
        .await
        .body);
    let today = app::clock::now_ms() / DAY * DAY;
    let mut groups = Vec::new();
    for g in 0..5 {
        groups.push(id(&api
            .post(
                &format!("/api/status-pages/{page}/groups"),
                token,
                json!({ "name": format!("Region {g}") }),
            )
            .await
            .body));
    }
    for n in 0..50 {
        let m = monitor(&api, &a, &format!("m{n}")).await;
        set_state(&api, &m, if n % 7 == 0 { "down" } else { "up" }).await;
        // Every day differs a little, as real data does.
        for d in 1..90 {
            day_rollup(
                &api,
                &a.tenant_id,
                &m,
                today - d * DAY,
                2880,
                (n * 7 + d * 13) % 40,
            )
            .await;
        }
        let reply = api
            .post(
                &format!("/api/status-pages/{page}/components"),
                token,
                json!({ "name": format!("Service component {n}"), "description": "Handles a part of the product", "monitor_ids": [m], "group_id": groups[usize::try_from(n % 5).unwrap()] }),
            )
            .await;
        assert_eq!(reply.status, StatusCode::CREATED);
    }
    let html = fetch(&api, &a.domain, "/status/", &[]).await.text;
    assert_eq!(html.matches("<li class=\"comp\"").count(), 50);
    assert_eq!(html.matches("<span>").count(), 50 * 90);
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(html.as_bytes()).unwrap();
    let size = gz.finish().unwrap().len();
    assert!(
        size < 50 * 1024,
        "{size} bytes gzipped ({} raw)",
        html.len()
    );
    eprintln!("50 components: {} bytes raw, {size} gzipped", html.len());
}
