//! The two tenants of the cross-tenant property: A with a member of every
//! role and two API keys, B on the Pro plan, each with one of every kind of data.

use app::auth::Role;
use app::clock::now_ms;
use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use serde_json::{Value, json};

use crate::api::{Api, Reply, Session};
use crate::stripe_fake::{StripeFake, WEBHOOK_SECRET, event, signature, unix_now};

/// B's users sign in with a password A does not know.
pub(super) const B_PASSWORD: &str = "bravo-only-passphrase-77";

/// Who calls, all of tenant A but `Nobody`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Who {
    Owner,
    Admin,
    Member,
    Viewer,
    ReadKey,
    WriteKey,
    Nobody,
}

pub(super) const WHO: [Who; 7] = [
    Who::Owner,
    Who::Admin,
    Who::Member,
    Who::Viewer,
    Who::ReadKey,
    Who::WriteKey,
    Who::Nobody,
];

/// A's credentials, restored after every call that ends them.
pub(super) struct Principal {
    pub(super) who: Who,
    pub(super) token: Option<String>,
    /// The role it acts with (a key's scope gives at most member).
    pub(super) role: Option<Role>,
    /// The member it is (none for keys).
    pub(super) user_id: Option<String>,
    pub(super) key_id: Option<String>,
}

/// One tenant as the test set it up.
pub(super) struct Tenant {
    pub(super) owner: Session,
    /// `<slug>.localhost`: the default page.
    pub(super) host: String,
    /// A verified custom domain assigned to the second page.
    pub(super) custom_host: String,
    pub(super) default_page: String,
    pub(super) second_page: String,
    pub(super) heartbeat_token: String,
    /// Secrets shown once (API key, webhook subscriber secret), never stored in clear.
    pub(super) secrets: Vec<String>,
    pub(super) user_ids: Vec<String>,
}

pub(super) fn id(reply: &Reply) -> String {
    reply.body["id"]
        .as_str()
        .unwrap_or_else(|| panic!("no id in {:?}", reply.body))
        .to_owned()
}

pub(super) async fn created(api: &Api, path: &str, token: &str, body: Value) -> Reply {
    let reply = api.post(path, Some(token), body).await;
    assert!(
        matches!(reply.status, StatusCode::CREATED | StatusCode::OK),
        "{path}: {} {:?}",
        reply.status,
        reply.body
    );
    reply
}

/// Sends `request` with `Host: host` as from the test's client.
pub(super) async fn send(
    api: &Api,
    method: Method,
    host: Option<&str>,
    path: &str,
    token: Option<&str>,
    body: Option<&Value>,
    extra: &[(&str, String)],
) -> (StatusCode, String, String) {
    let mut builder = Request::builder().method(method).uri(path);
    if let Some(host) = host {
        builder = builder.header(header::HOST, host);
    }
    if let Some(token) = token {
        builder = builder.header(header::AUTHORIZATION, format!("Bearer {token}"));
    }
    for (name, value) in extra {
        builder = builder.header(*name, value);
    }
    let request = match body {
        Some(body) => builder
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(body.to_string())),
        None => builder.body(Body::empty()),
    }
    .unwrap();
    let reply = api.send_raw(request).await;
    let mut headers = String::new();
    for (name, value) in &reply.headers {
        headers.push_str(&format!(
            "{name}: {}\n",
            String::from_utf8_lossy(value.as_bytes())
        ));
    }
    (reply.status, headers, reply.text)
}

/// One tenant with one of every kind of thing; B pays for Pro through Stripe.
pub(super) async fn populate(
    api: &Api,
    fake: &StripeFake,
    slug: &str,
    password: &str,
    paid: bool,
) -> Tenant {
    let owner = api
        .signup_with(slug, &format!("owner@{slug}.example"), password)
        .await;
    let t = owner.access.as_str();
    let db = api.state.db.pool();
    if paid {
        let checkout = created(api, "/api/billing/checkout", t, json!({})).await;
        assert!(checkout.body["url"].is_string());
        let customer = fake
            .seen_at("/v1/checkout/sessions")
            .pop()
            .unwrap()
            .param("customer")
            .unwrap()
            .to_owned();
        let sub = format!("sub_{slug}");
        let object = fake.put_subscription(
            &sub,
            &customer,
            &owner.tenant_id,
            "active",
            "price_test_pro",
        );
        let payload = serde_json::to_vec(&event(
            &format!("evt_{slug}"),
            "customer.subscription.created",
            unix_now(),
            object,
        ))
        .unwrap();
        let header = signature(WEBHOOK_SECRET, unix_now(), &payload);
        let mut request = Request::builder()
            .method(Method::POST)
            .uri("/api/billing/webhook")
            .header(header::CONTENT_TYPE, "application/json")
            .header("stripe-signature", header)
            .body(Body::from(payload))
            .unwrap();
        request
            .extensions_mut()
            .insert(axum::extract::ConnectInfo(api.peer));
        let applied = api.send(request).await;
        assert_eq!(applied.status, StatusCode::OK, "{:?}", applied.body);
        let billing = api.get("/api/billing", Some(t)).await;
        assert_eq!(billing.body["plan"], "pro", "{:?}", billing.body);
    }
    let monitor = id(&created(
        api,
        "/api/monitors",
        t,
        json!({ "name": format!("{slug}-db-monitor"), "kind": "tcp", "host": format!("db.{slug}.example"), "port": 5432 }),
    )
    .await);
    let heartbeat = created(
        api,
        "/api/monitors",
        t,
        json!({ "name": format!("{slug}-nightly-job"), "kind": "heartbeat", "interval_seconds": 3600 }),
    )
    .await;
    let heartbeat_token = heartbeat.body["heartbeat_url"]
        .as_str()
        .unwrap()
        .rsplit('/')
        .next()
        .unwrap()
        .to_owned();
    created(
        api,
        "/api/alert-channels",
        t,
        json!({ "name": format!("{slug}-ops-channel"), "kind": "email", "to": format!("ops@{slug}.example") }),
    )
    .await;
    let now = now_ms();
    created(
        api,
        "/api/maintenance-windows",
        t,
        json!({ "title": format!("{slug}-upgrade-window"), "starts_at": now, "ends_at": now + 3_600_000, "monitor_id": monitor }),
    )
    .await;
    created(
        api,
        "/api/invitations",
        t,
        json!({ "email": format!("carol@{slug}.example"), "role": "member" }),
    )
    .await;
    let key = created(
        api,
        "/api/api-keys",
        t,
        json!({ "name": format!("{slug}-ci-key"), "scope": "write" }),
    )
    .await;
    let custom_host = format!("status.{slug}.example");
    let domain = id(&created(api, "/api/domains", t, json!({ "hostname": custom_host })).await);
    sqlx::query("UPDATE domains SET verified_at = 1 WHERE id = $1")
        .bind(&domain)
        .execute(db)
        .await
        .unwrap();
    // An automatic incident of the monitor, not published anywhere.
    sqlx::query(
        "INSERT INTO incidents (id, tenant_id, monitor_id, state, cause, started_at) \
         VALUES ($1, $2, $3, 'open', $4, $5)",
    )
    .bind(app::clock::new_id())
    .bind(&owner.tenant_id)
    .bind(&monitor)
    .bind(format!("{slug}-private-cause"))
    .bind(now - 60_000)
    .execute(db)
    .await
    .unwrap();

    // Pages: the default one (the subdomain's), one on the custom domain, one nowhere.
    let mut pages = Vec::new();
    for (n, extra) in [
        ("public", json!({})),
        ("second", json!({ "domain_id": domain })),
        ("hidden", json!({})),
    ] {
        let mut body = json!({ "title": format!("{slug}-{n}-page"), "description": format!("{slug}-{n}-about") });
        for (k, v) in extra.as_object().unwrap() {
            body[k] = v.clone();
        }
        let page = id(&created(api, "/api/status-pages", t, body).await);
        let base = format!("/api/status-pages/{page}");
        let group = id(&created(
            api,
            &format!("{base}/groups"),
            t,
            json!({ "name": format!("{slug}-{n}-group") }),
        )
        .await);
        let component = id(&created(
            api,
            &format!("{base}/components"),
            t,
            json!({ "name": format!("{slug}-{n}-component"), "monitor_ids": [monitor], "group_id": group }),
        )
        .await);
        let incident = id(&created(
            api,
            &format!("{base}/incidents"),
            t,
            json!({ "title": format!("{slug}-{n}-outage"), "body": format!("{slug}-{n}-words"), "component_ids": [component] }),
        )
        .await);
        created(
            api,
            &format!("{base}/incidents/{incident}/updates"),
            t,
            json!({ "status": "identified", "body": format!("{slug}-{n}-update") }),
        )
        .await;
        pages.push(page);
    }
    let host = owner.domain.clone();
    // Subscribers of the default page: a pending address and an active webhook.
    let subscribe = |body: Value| {
        let host = host.clone();
        async move {
            let (status, _, text) = send(
                api,
                Method::POST,
                Some(&host),
                "/status/subscribe",
                None,
                Some(&body),
                &[],
            )
            .await;
            assert!(status.is_success(), "{status} {text}");
            text
        }
    };
    subscribe(json!({ "email": format!("reader@{slug}.example") })).await;
    let hook =
        subscribe(json!({ "webhook_url": format!("https://hooks.{slug}.example/status") })).await;
    let hook: Value = serde_json::from_str(&hook).unwrap();
    // A second member who is in no other tenant.
    let member = app::clock::new_id();
    sqlx::query("INSERT INTO users (id, email, password_hash, created_at) VALUES ($1, $2, '!', 0)")
        .bind(&member)
        .bind(format!("dave@{slug}.example"))
        .execute(db)
        .await
        .unwrap();
    sqlx::query("INSERT INTO memberships (tenant_id, user_id, role, created_at) VALUES ($1, $2, 'member', 0)")
        .bind(&owner.tenant_id)
        .bind(&member)
        .execute(db)
        .await
        .unwrap();
    Tenant {
        host,
        custom_host,
        default_page: pages[0].clone(),
        second_page: pages[1].clone(),
        heartbeat_token,
        secrets: vec![
            key.body["secret"].as_str().unwrap().to_owned(),
            hook["secret"].as_str().unwrap().to_owned(),
            owner.access.clone(),
            owner.refresh.clone(),
        ],
        user_ids: vec![owner.user_id.clone(), member],
        owner,
    }
}
