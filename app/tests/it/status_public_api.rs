//! The public machine-readable side of a status page: Statuspage-compatible
//! JSON checked against Statuspage's documented shapes, Atom and RSS feeds
//! parsed as XML, SVG badges, CORS and cache headers, suspended tenants,
//! unknown hosts and tenant isolation.

use app::http::public_status::CACHE_CONTROL;
use axum::http::{Method, StatusCode, header};
use quick_xml::Reader;
use quick_xml::events::Event;
use serde_json::{Value, json};

use crate::api::Api;
use crate::helpers::{TestDb, state};
use crate::status_page_html::{Page, fetch, fixture};

const COMPONENT_STATUSES: [&str; 5] = [
    "operational",
    "degraded_performance",
    "partial_outage",
    "major_outage",
    "under_maintenance",
];
const INDICATORS: [&str; 5] = ["none", "minor", "major", "critical", "maintenance"];
const INCIDENT_STATUSES: [&str; 5] = [
    "investigating",
    "identified",
    "monitoring",
    "resolved",
    "postmortem",
];
const MAINTENANCE_STATUSES: [&str; 4] = ["scheduled", "in_progress", "verifying", "completed"];

/// A `YYYY-MM-DDTHH:MM:SS.sssZ` timestamp.
fn is_time(v: &Value) -> bool {
    v.as_str().is_some_and(|s| {
        let b = s.as_bytes();
        s.len() == 24 && b[4] == b'-' && b[10] == b'T' && b[19] == b'.' && s.ends_with('Z')
    })
}

fn is_time_or_null(v: &Value) -> bool {
    v.is_null() || is_time(v)
}

fn json_of(page: &Page) -> Value {
    serde_json::from_str(&page.text).unwrap_or_else(|e| panic!("{e}: {}", page.text))
}

fn check_public_headers(page: &Page) {
    assert_eq!(page.headers[header::ACCESS_CONTROL_ALLOW_ORIGIN], "*");
    assert_eq!(page.headers[header::CACHE_CONTROL], CACHE_CONTROL);
    assert!(page.headers.get(header::SET_COOKIE).is_none());
    assert!(page.headers.contains_key(header::ETAG));
}

fn check_page(page: &Value) {
    for key in ["id", "name", "url", "time_zone"] {
        assert!(page[key].is_string(), "page.{key}: {page}");
    }
    assert!(is_time(&page["updated_at"]), "{page}");
}

fn check_component(c: &Value) {
    for key in ["id", "name", "page_id"] {
        assert!(c[key].is_string(), "component.{key}: {c}");
    }
    assert!(
        COMPONENT_STATUSES.contains(&c["status"].as_str().unwrap()),
        "{c}"
    );
    assert!(
        is_time(&c["created_at"]) && is_time(&c["updated_at"]),
        "{c}"
    );
    assert!(c["position"].is_i64());
    for key in ["showcase", "group", "only_show_if_degraded"] {
        assert!(c[key].is_boolean(), "component.{key}: {c}");
    }
    assert!(c["description"].is_null() || c["description"].is_string());
    assert!(c["group_id"].is_null() || c["group_id"].is_string());
    assert!(c.as_object().unwrap().contains_key("start_date"));
    if c["group"] == true {
        assert!(c["components"].is_array(), "groups list their members: {c}");
    }
}

fn check_incident(i: &Value, statuses: &[&str]) {
    for key in ["id", "name", "page_id", "shortlink"] {
        assert!(i[key].is_string(), "incident.{key}: {i}");
    }
    assert!(statuses.contains(&i["status"].as_str().unwrap()), "{i}");
    assert!(INDICATORS.contains(&i["impact"].as_str().unwrap()), "{i}");
    for key in ["created_at", "updated_at", "started_at"] {
        assert!(is_time(&i[key]), "incident.{key}: {i}");
    }
    for key in ["monitoring_at", "resolved_at"] {
        assert!(is_time_or_null(&i[key]), "incident.{key}: {i}");
    }
    assert!(i["shortlink"].as_str().unwrap().starts_with("http"));
    let updates = i["incident_updates"].as_array().unwrap();
    assert!(!updates.is_empty());
    for u in updates {
        for key in ["id", "status", "body", "incident_id"] {
            assert!(u[key].is_string(), "update.{key}: {u}");
        }
        assert_eq!(u["incident_id"], i["id"]);
        for key in ["created_at", "updated_at", "display_at"] {
            assert!(is_time(&u[key]), "update.{key}: {u}");
        }
    }
    for c in i["components"].as_array().unwrap() {
        check_component(c);
    }
}

#[tokio::test]
async fn json_has_statuspages_shapes_and_values() {
    for test_db in TestDb::both_migrated().await {
        let api = Api::new(state(test_db.db()));
        let f = fixture(&api, "alpha").await;
        let host = f.owner.domain.clone();
        let summary = fetch(&api, &host, "/api/v2/summary.json", &[]).await;
        assert_eq!(summary.status, StatusCode::OK, "{}", summary.text);
        assert_eq!(summary.headers[header::CONTENT_TYPE], "application/json");
        check_public_headers(&summary);
        assert!(summary.headers.contains_key(header::LAST_MODIFIED));
        let s = json_of(&summary);
        let keys: Vec<&str> = s.as_object().unwrap().keys().map(String::as_str).collect();
        for key in [
            "page",
            "components",
            "incidents",
            "scheduled_maintenances",
            "status",
        ] {
            assert!(keys.contains(&key), "summary.{key} missing: {keys:?}");
        }
        check_page(&s["page"]);
        assert_eq!(s["page"]["name"], "alpha status");
        assert_eq!(s["page"]["url"], format!("https://{host}/status/"));
        assert_eq!(s["status"]["indicator"], "critical");
        assert_eq!(s["status"]["description"], "Major System Outage");
        let components = s["components"].as_array().unwrap();
        for c in components {
            check_component(c);
        }
        // The group, then its members, then the rest; hidden ones are listed with their flag.
        let group = &components[0];
        assert_eq!(group["group"], true);
        assert_eq!(group["status"], "major_outage");
        assert_eq!(group["components"].as_array().unwrap().len(), 2);
        assert_eq!(components[1]["group_id"], group["id"]);
        assert_eq!(components.len(), 1 + 7);
        let status_of = |name: &str| {
            components
                .iter()
                .find(|c| c["name"] == name)
                .map(|c| c["status"].as_str().unwrap().to_owned())
        };
        for (name, status) in [
            ("Website", "operational"),
            ("Public API", "major_outage"),
            ("Search", "degraded_performance"),
            ("Workers", "partial_outage"),
            ("Support desk", "degraded_performance"),
            ("Database", "under_maintenance"),
        ] {
            assert_eq!(status_of(name).as_deref(), Some(status), "{name}");
        }
        assert!(
            components
                .iter()
                .any(|c| c["name"] == "Legacy FTP" && c["only_show_if_degraded"] == true)
        );
        let incidents = s["incidents"].as_array().unwrap();
        assert_eq!(incidents.len(), 1);
        check_incident(&incidents[0], &INCIDENT_STATUSES);
        assert_eq!(incidents[0]["impact"], "minor");
        assert_eq!(
            incidents[0]["shortlink"],
            format!("https://{host}/status/incidents/{}", f.incident)
        );
        assert_eq!(incidents[0]["components"][0]["name"], "Support desk");
        let maintenances = s["scheduled_maintenances"].as_array().unwrap();
        assert_eq!(maintenances.len(), 1);
        check_incident(&maintenances[0], &MAINTENANCE_STATUSES);
        assert!(
            is_time(&maintenances[0]["scheduled_for"])
                && is_time(&maintenances[0]["scheduled_until"])
        );

        let status = json_of(&fetch(&api, &host, "/api/v2/status.json", &[]).await);
        assert_eq!(status.as_object().unwrap().len(), 2);
        check_page(&status["page"]);
        assert!(INDICATORS.contains(&status["status"]["indicator"].as_str().unwrap()));
        let listed = json_of(&fetch(&api, &host, "/api/v2/components.json", &[]).await);
        assert_eq!(listed["components"], s["components"]);

        // Resolve the incident: it leaves unresolved.json, stays in incidents.json.
        let resolved = api
            .post(
                &format!(
                    "/api/status-pages/{}/incidents/{}/updates",
                    f.page, f.incident
                ),
                Some(&f.owner.access),
                json!({ "status": "resolved", "body": "Back to normal." }),
            )
            .await;
        assert_eq!(resolved.status, StatusCode::CREATED);
        let unresolved =
            json_of(&fetch(&api, &host, "/api/v2/incidents/unresolved.json", &[]).await);
        check_page(&unresolved["page"]);
        assert_eq!(unresolved["incidents"], json!([]));
        let all = json_of(&fetch(&api, &host, "/api/v2/incidents.json", &[]).await);
        let all = all["incidents"].as_array().unwrap();
        assert_eq!(all.len(), 1, "maintenance is not an incident");
        check_incident(&all[0], &INCIDENT_STATUSES);
        assert_eq!(all[0]["status"], "resolved");
        assert!(is_time(&all[0]["resolved_at"]));
        assert_eq!(all[0]["incident_updates"][0]["body"], "Back to normal.");
        let maint = json_of(&fetch(&api, &host, "/api/v2/scheduled-maintenances.json", &[]).await);
        let maint = maint["scheduled_maintenances"].as_array().unwrap();
        assert_eq!(maint.len(), 1);
        check_incident(&maint[0], &MAINTENANCE_STATUSES);

        // Unchanged data revalidates.
        let first = fetch(&api, &host, "/api/v2/status.json", &[]).await;
        let etag = first.headers[header::ETAG].to_str().unwrap().to_owned();
        let again = fetch(
            &api,
            &host,
            "/api/v2/status.json",
            &[("if-none-match", &etag)],
        )
        .await;
        assert_eq!(again.status, StatusCode::NOT_MODIFIED);
        assert!(again.text.is_empty());
        assert_eq!(again.headers[header::CACHE_CONTROL], CACHE_CONTROL);
    }
}

#[tokio::test]
async fn public_answers_respect_hosts_suspension_and_stay_cacheable_only_when_public() {
    for test_db in TestDb::both_migrated().await {
        let api = Api::new(state(test_db.db()));
        let a = fixture(&api, "alpha").await;
        let b = api.signup("beta", "bob@beta.example").await;
        let created = api
            .post(
                "/api/status-pages",
                Some(&b.access),
                json!({ "title": "Beta status" }),
            )
            .await;
        assert_eq!(created.status, StatusCode::CREATED);
        for path in [
            "/api/v2/summary.json",
            "/api/v2/incidents.json",
            "/status/history.atom",
            "/status/history.rss",
            "/status/badge.svg",
        ] {
            let page = fetch(&api, &b.domain, path, &[]).await;
            assert_eq!(page.status, StatusCode::OK, "{path}");
            for (id, name, _) in &a.components {
                assert!(
                    !page.text.contains(name) && !page.text.contains(id),
                    "{path} leaks A's {name}"
                );
            }
            assert!(
                !page.text.contains("Support replies") && !page.text.contains(&a.incident),
                "{path}"
            );
        }
        let badge = fetch(
            &api,
            &b.domain,
            &format!("/status/components/{}/badge.svg", a.components[0].0),
            &[],
        )
        .await;
        assert_eq!(
            badge.status,
            StatusCode::NOT_FOUND,
            "A's component under B's host"
        );

        let unknown = fetch(&api, "nobody.localhost", "/api/v2/summary.json", &[]).await;
        assert_eq!(unknown.status, StatusCode::NOT_FOUND);
        assert_eq!(json_of(&unknown)["code"], "not_found");
        assert_eq!(unknown.headers[header::ACCESS_CONTROL_ALLOW_ORIGIN], "*");

        sqlx::query("UPDATE tenants SET status = 'suspended' WHERE id = $1")
            .bind(&a.owner.tenant_id)
            .execute(api.state.db.pool())
            .await
            .unwrap();
        for path in [
            "/api/v2/summary.json",
            "/api/v2/status.json",
            "/status/history.atom",
            "/status/badge.svg",
        ] {
            let page = fetch(&api, &a.owner.domain, path, &[]).await;
            assert_eq!(page.status, StatusCode::FORBIDDEN, "{path}");
            for (_, name, _) in &a.components {
                assert!(
                    !page.text.contains(name),
                    "{path} shows {name} while suspended"
                );
            }
        }
        assert_eq!(
            json_of(&fetch(&api, &a.owner.domain, "/api/v2/status.json", &[]).await)["code"],
            "tenant_suspended"
        );

        // The admin API is never marked for shared caches.
        let admin = api
            .call(Method::GET, "/api/status-pages", Some(&b.access), None)
            .await;
        assert_eq!(admin.status, StatusCode::OK);
        let cache = admin
            .headers
            .get(header::CACHE_CONTROL)
            .map(|v| v.to_str().unwrap().to_owned())
            .unwrap_or_default();
        assert!(
            !cache.contains("public") && !cache.contains("s-maxage"),
            "{cache}"
        );
    }
}

/// An element of a parsed XML document.
#[derive(Debug, Default)]
struct Element {
    name: String,
    attrs: Vec<(String, String)>,
    text: String,
    children: Vec<Element>,
}

impl Element {
    fn attr(&self, name: &str) -> Option<&str> {
        self.attrs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    fn all(&self, name: &str) -> Vec<&Element> {
        self.children.iter().filter(|c| c.name == name).collect()
    }

    fn one(&self, name: &str) -> &Element {
        let found = self.all(name);
        assert_eq!(found.len(), 1, "<{}> should have one <{name}>", self.name);
        found[0]
    }
}

/// Parses well-formed XML (quick-xml checks that end tags match) into a tree.
fn parse_xml(text: &str) -> Element {
    fn element(e: &quick_xml::events::BytesStart<'_>) -> Element {
        Element {
            name: e.name().into_inner().to_owned(),
            attrs: e
                .attributes()
                .map(|a| {
                    let a = a.unwrap();
                    (
                        a.key.into_inner().to_owned(),
                        a.normalized_value(quick_xml::XmlVersion::Explicit1_0)
                            .unwrap()
                            .into_owned(),
                    )
                })
                .collect(),
            ..Element::default()
        }
    }
    let mut reader = Reader::from_str(text);
    let mut stack: Vec<Element> = vec![Element::default()];
    loop {
        match reader.read_event().unwrap() {
            Event::Start(e) => stack.push(element(&e)),
            Event::Empty(e) => stack.last_mut().unwrap().children.push(element(&e)),
            Event::End(_) => {
                let mut done = stack.pop().unwrap();
                done.text = done.text.trim().to_owned();
                stack.last_mut().unwrap().children.push(done);
            }
            Event::Text(t) => stack.last_mut().unwrap().text.push_str(&t.xml10_content()),
            Event::GeneralRef(r) => {
                let name = r.xml10_content();
                let c = match name.as_ref() {
                    "amp" => "&",
                    "lt" => "<",
                    "gt" => ">",
                    "quot" => "\"",
                    "apos" => "'",
                    other => panic!("unexpected entity {other}"),
                };
                stack.last_mut().unwrap().text.push_str(c);
            }
            Event::Eof => break,
            _ => {}
        }
    }
    assert_eq!(stack.len(), 1, "unclosed elements");
    let mut root = stack.pop().unwrap();
    assert_eq!(root.children.len(), 1, "one root element");
    root.children.pop().unwrap()
}

#[tokio::test]
async fn feeds_parse_and_carry_the_required_elements() {
    for test_db in TestDb::both_migrated().await {
        let api = Api::new(state(test_db.db()));
        let f = fixture(&api, "alpha").await;
        let tricky = api
            .post(
                &format!("/api/status-pages/{}/incidents", f.page),
                Some(&f.owner.access),
                json!({ "title": "Errors & timeouts <API> \"v2\"", "body": "5 < 6 & fine", "status": "identified" }),
            )
            .await;
        assert_eq!(tricky.status, StatusCode::CREATED);
        let host = f.owner.domain.clone();

        let atom = fetch(&api, &host, "/status/history.atom", &[]).await;
        assert_eq!(atom.status, StatusCode::OK);
        assert_eq!(
            atom.headers[header::CONTENT_TYPE],
            "application/atom+xml; charset=utf-8"
        );
        check_public_headers(&atom);
        let feed = parse_xml(&atom.text);
        assert_eq!(feed.name, "feed");
        assert_eq!(feed.attr("xmlns"), Some("http://www.w3.org/2005/Atom"));
        assert_eq!(feed.one("id").text, format!("https://{host}/status/"));
        assert_eq!(feed.one("title").text, "alpha status status history");
        assert!(is_time(&json!(feed.one("updated").text)));
        assert_eq!(feed.one("author").one("name").text, "alpha Inc");
        let links = feed.all("link");
        assert!(links.iter().any(|l| l.attr("rel") == Some("self")
            && l.attr("href") == Some(&format!("https://{host}/status/history.atom"))));
        let entries = feed.all("entry");
        assert_eq!(entries.len(), 3, "incident, maintenance and the tricky one");
        for entry in &entries {
            assert!(
                entry
                    .one("id")
                    .text
                    .starts_with(&format!("https://{host}/status/incidents/"))
            );
            assert!(!entry.one("title").text.is_empty());
            assert!(is_time(&json!(entry.one("updated").text)));
            assert!(entry.one("link").attr("href").is_some());
        }
        assert_eq!(
            entries[0].one("title").text,
            "Errors & timeouts <API> \"v2\""
        );
        assert!(
            entries[0].one("summary").text.contains("Identified")
                && entries[0].one("summary").text.contains("5 < 6 & fine")
        );

        let rss = fetch(&api, &host, "/status/history.rss", &[]).await;
        assert_eq!(
            rss.headers[header::CONTENT_TYPE],
            "application/rss+xml; charset=utf-8"
        );
        check_public_headers(&rss);
        let doc = parse_xml(&rss.text);
        assert_eq!(doc.name, "rss");
        assert_eq!(doc.attr("version"), Some("2.0"));
        let channel = doc.one("channel");
        for required in ["title", "link", "description"] {
            assert!(!channel.one(required).text.is_empty(), "channel/{required}");
        }
        let items = channel.all("item");
        assert_eq!(items.len(), 3);
        for item in &items {
            for required in ["title", "link", "guid", "pubDate", "description"] {
                assert!(!item.one(required).text.is_empty(), "item/{required}");
            }
            // RFC 2822: "Tue, 01 Dec 2026 10:00:00 +0000".
            let date = &item.one("pubDate").text;
            assert!(
                date.len() == 31 && date.ends_with(" +0000") && &date[3..5] == ", ",
                "{date}"
            );
        }
        assert_eq!(items[0].one("title").text, "Errors & timeouts <API> \"v2\"");
        // No page, no feed.
        assert_eq!(
            fetch(&api, "nobody.localhost", "/status/history.rss", &[])
                .await
                .status,
            StatusCode::NOT_FOUND
        );
    }
}

#[tokio::test]
async fn badges_are_svg_with_the_state_and_uptime() {
    let test_db = TestDb::sqlite().await;
    test_db.db().migrations().run().await.unwrap();
    let api = Api::new(state(test_db.db()));
    let f = fixture(&api, "alpha").await;
    let host = f.owner.domain.clone();
    let overall = fetch(&api, &host, "/status/badge.svg", &[]).await;
    assert_eq!(overall.status, StatusCode::OK);
    assert_eq!(overall.headers[header::CONTENT_TYPE], "image/svg+xml");
    check_public_headers(&overall);
    let svg = parse_xml(&overall.text);
    assert_eq!(svg.name, "svg");
    assert_eq!(svg.attr("xmlns"), Some("http://www.w3.org/2000/svg"));
    assert_eq!(svg.attr("role"), Some("img"));
    assert_eq!(svg.one("title").text, "status: major system outage");
    assert_eq!(svg.attr("aria-label"), Some("status: major system outage"));
    let texts: Vec<&str> = svg
        .one("g")
        .all("text")
        .iter()
        .map(|t| t.text.as_str())
        .collect();
    assert_eq!(texts, ["status", "major system outage"]);
    assert_eq!(svg.all("rect")[1].attr("fill"), Some("#cf222e"));

    // A component with checks: state and uptime.
    let (website, _, _) = &f.components[0];
    let component: Value = api
        .get(
            &format!("/api/status-pages/{}/components/{website}", f.page),
            Some(&f.owner.access),
        )
        .await
        .body;
    let monitor = component["monitor_ids"][0].as_str().unwrap().to_owned();
    let yesterday = app::clock::now_ms() / 86_400_000 * 86_400_000 - 86_400_000;
    crate::status_page_html::day_rollup(&api, &f.owner.tenant_id, &monitor, yesterday, 10_000, 7)
        .await;
    let badge = fetch(
        &api,
        &host,
        &format!("/status/components/{website}/badge.svg"),
        &[],
    )
    .await;
    assert_eq!(badge.status, StatusCode::OK);
    let svg = parse_xml(&badge.text);
    assert_eq!(svg.one("title").text, "Website: operational · 99.93%");
    // A hand-set component has no uptime; an unknown one gets a grey "unknown" badge.
    let (support, _, _) = &f.components[4];
    let manual = parse_xml(
        &fetch(
            &api,
            &host,
            &format!("/status/components/{support}/badge.svg"),
            &[],
        )
        .await
        .text,
    );
    assert_eq!(
        manual.one("title").text,
        "Support desk: degraded performance"
    );
    let unknown = fetch(&api, &host, "/status/components/nope/badge.svg", &[]).await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);
    assert_eq!(
        parse_xml(&unknown.text).one("title").text,
        "status: unknown"
    );
}
