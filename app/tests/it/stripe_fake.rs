//! A local stand-in for the Stripe endpoints billing uses, started by the
//! tests on a port the OS picks. It checks what Stripe checks (bearer key,
//! form-encoded bodies with the documented parameters, `Idempotency-Key`,
//! which replays the first answer), answers with Stripe's documented object
//! shapes, and delivers webhooks signed as Stripe signs them: `t=<unix
//! seconds>,v1=<hex HMAC-SHA256 of "t.body" keyed with the whole whsec_ secret>`.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use hmac::{Hmac, Mac};
use serde_json::{Value, json};
use sha2::Sha256;

/// The secret key the app under test must send.
pub const SECRET_KEY: &str = "sk_test_statuswatch";
/// The webhook signing secret shared with the app under test.
pub const WEBHOOK_SECRET: &str = "whsec_statuswatch_test";

/// One request the fake received.
#[derive(Debug, Clone)]
pub struct Seen {
    pub method: Method,
    pub path: String,
    pub form: Vec<(String, String)>,
    pub idempotency_key: Option<String>,
}

impl Seen {
    pub fn param(&self, key: &str) -> Option<&str> {
        self.form
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }
}

#[derive(Default)]
struct Inner {
    seen: Vec<Seen>,
    /// Idempotency key → (request fingerprint, status, answer).
    replies: HashMap<String, (String, StatusCode, Value)>,
    subscriptions: HashMap<String, Value>,
    next: u64,
    /// Answer nothing for this long (to test timeouts).
    stall: Option<Duration>,
}

/// The running fake.
#[derive(Clone)]
pub struct StripeFake {
    pub base: String,
    inner: Arc<Mutex<Inner>>,
}

fn stripe_error(status: StatusCode, kind: &str, message: &str) -> (StatusCode, Value) {
    (status, json!({"error": {"type": kind, "message": message}}))
}

fn need<'a>(form: &'a [(String, String)], key: &str) -> Result<&'a str, (StatusCode, Value)> {
    form.iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.as_str())
        .filter(|v| !v.is_empty())
        .ok_or_else(|| {
            stripe_error(
                StatusCode::BAD_REQUEST,
                "invalid_request_error",
                &format!("Missing required param: {key}."),
            )
        })
}

impl StripeFake {
    pub async fn start() -> Self {
        let inner = Arc::new(Mutex::new(Inner::default()));
        let router = Router::new()
            .route("/v1/customers", axum::routing::post(post))
            .route("/v1/checkout/sessions", axum::routing::post(post))
            .route("/v1/billing_portal/sessions", axum::routing::post(post))
            .route("/v1/subscriptions/{id}", axum::routing::get(subscription))
            .with_state(inner.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
        Self { base, inner }
    }

    /// Every request so far.
    pub fn seen(&self) -> Vec<Seen> {
        self.inner.lock().unwrap().seen.clone()
    }

    /// Requests to `path`.
    pub fn seen_at(&self, path: &str) -> Vec<Seen> {
        self.seen().into_iter().filter(|s| s.path == path).collect()
    }

    /// Makes every answer wait `stall` (longer than the app's timeout).
    pub fn stall(&self, stall: Duration) {
        self.inner.lock().unwrap().stall = Some(stall);
    }

    /// Stores a subscription as Stripe would hold it, returning its object.
    pub fn put_subscription(
        &self,
        id: &str,
        customer: &str,
        tenant_id: &str,
        status: &str,
        price: &str,
    ) -> Value {
        let object = subscription_object(id, customer, tenant_id, status, price);
        self.inner
            .lock()
            .unwrap()
            .subscriptions
            .insert(id.to_owned(), object.clone());
        object
    }
}

/// A `subscription` object as Stripe documents it (API 2025-03-31 and later:
/// `current_period_end` on the item).
pub fn subscription_object(
    id: &str,
    customer: &str,
    tenant_id: &str,
    status: &str,
    price: &str,
) -> Value {
    let period_end = unix_now() + 30 * 86_400;
    json!({
        "id": id,
        "object": "subscription",
        "customer": customer,
        "status": status,
        "cancel_at_period_end": false,
        "created": unix_now() - 60,
        "livemode": false,
        "metadata": {"tenant_id": tenant_id},
        "items": {
            "object": "list",
            "data": [{
                "id": format!("si_{id}"),
                "object": "subscription_item",
                "current_period_start": unix_now() - 60,
                "current_period_end": period_end,
                "price": {"id": price, "object": "price", "recurring": {"interval": "month"}},
                "quantity": 1
            }]
        }
    })
}

pub fn unix_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

fn authorized(headers: &HeaderMap) -> Result<(), (StatusCode, Value)> {
    let expected = format!("Bearer {SECRET_KEY}");
    if headers.get("authorization").and_then(|v| v.to_str().ok()) == Some(expected.as_str()) {
        Ok(())
    } else {
        Err(stripe_error(
            StatusCode::UNAUTHORIZED,
            "invalid_request_error",
            "Invalid API Key provided",
        ))
    }
}

async fn wait(inner: &Arc<Mutex<Inner>>) {
    let stall = inner.lock().unwrap().stall;
    if let Some(stall) = stall {
        tokio::time::sleep(stall).await;
    }
}

fn answer((status, body): (StatusCode, Value)) -> Response {
    (status, axum::Json(body)).into_response()
}

async fn post(
    State(inner): State<Arc<Mutex<Inner>>>,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    wait(&inner).await;
    let form: Vec<(String, String)> = url::form_urlencoded::parse(&body).into_owned().collect();
    let key = headers
        .get("idempotency-key")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let path = uri.path().to_owned();
    let mut inner = inner.lock().unwrap();
    inner.seen.push(Seen {
        method: Method::POST,
        path: path.clone(),
        form: form.clone(),
        idempotency_key: key.clone(),
    });
    if let Err(err) = authorized(&headers) {
        return answer(err);
    }
    let form_type = headers
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    if !form_type.starts_with("application/x-www-form-urlencoded") {
        return answer(stripe_error(
            StatusCode::BAD_REQUEST,
            "invalid_request_error",
            "Stripe takes form-encoded bodies",
        ));
    }
    // The app must send a key on every POST (the real Stripe merely allows it).
    let Some(key) = key else {
        return answer(stripe_error(
            StatusCode::BAD_REQUEST,
            "invalid_request_error",
            "fake: Idempotency-Key header missing",
        ));
    };
    let fingerprint = format!("{path}?{}", String::from_utf8_lossy(&body));
    if let Some((seen_print, status, reply)) = inner.replies.get(&key) {
        if *seen_print != fingerprint {
            return answer(stripe_error(
                StatusCode::BAD_REQUEST,
                "idempotency_error",
                "Keys for idempotent requests can only be used with the same parameters they were first used with.",
            ));
        }
        return answer((*status, reply.clone()));
    }
    inner.next += 1;
    let n = inner.next;
    let result = match path.as_str() {
        "/v1/customers" => need(&form, "metadata[tenant_id]").map(|tenant| {
            json!({
                "id": format!("cus_test{n}"), "object": "customer", "livemode": false,
                "name": form.iter().find(|(k, _)| k == "name").map(|(_, v)| v.clone()),
                "email": form.iter().find(|(k, _)| k == "email").map(|(_, v)| v.clone()),
                "metadata": {"tenant_id": tenant}
            })
        }),
        "/v1/checkout/sessions" => (|| {
            if need(&form, "mode")? != "subscription" {
                return Err(stripe_error(
                    StatusCode::BAD_REQUEST,
                    "invalid_request_error",
                    "fake: mode must be subscription",
                ));
            }
            let customer = need(&form, "customer")?;
            need(&form, "line_items[0][price]")?;
            need(&form, "line_items[0][quantity]")?;
            need(&form, "success_url")?;
            need(&form, "cancel_url")?;
            let tenant = need(&form, "client_reference_id")?;
            need(&form, "subscription_data[metadata][tenant_id]")?;
            Ok(json!({
                "id": format!("cs_test_{n}"), "object": "checkout.session", "mode": "subscription",
                "customer": customer, "client_reference_id": tenant, "status": "open",
                "url": format!("https://checkout.stripe.com/c/pay/cs_test_{n}"),
                "subscription": null
            }))
        })(),
        "/v1/billing_portal/sessions" => (|| {
            let customer = need(&form, "customer")?;
            let return_url = need(&form, "return_url")?;
            Ok(json!({
                "id": format!("bps_test{n}"), "object": "billing_portal.session",
                "customer": customer, "return_url": return_url, "livemode": false,
                "url": format!("https://billing.stripe.com/p/session/test_{n}")
            }))
        })(),
        _ => Err(stripe_error(
            StatusCode::NOT_FOUND,
            "invalid_request_error",
            "Unrecognized request URL",
        )),
    };
    let (status, reply) = match result {
        Ok(reply) => (StatusCode::OK, reply),
        Err(err) => err,
    };
    inner
        .replies
        .insert(key, (fingerprint, status, reply.clone()));
    answer((status, reply))
}

async fn subscription(
    State(inner): State<Arc<Mutex<Inner>>>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Response {
    wait(&inner).await;
    let mut inner = inner.lock().unwrap();
    inner.seen.push(Seen {
        method: Method::GET,
        path: format!("/v1/subscriptions/{id}"),
        form: Vec::new(),
        idempotency_key: None,
    });
    if let Err(err) = authorized(&headers) {
        return answer(err);
    }
    match inner.subscriptions.get(&id) {
        Some(sub) => answer((StatusCode::OK, sub.clone())),
        None => answer((
            StatusCode::NOT_FOUND,
            json!({"error": {"type": "invalid_request_error", "code": "resource_missing",
                   "message": format!("No such subscription: '{id}'")}}),
        )),
    }
}

/// An event envelope as Stripe sends it.
pub fn event(id: &str, kind: &str, created: i64, object: Value) -> Value {
    json!({
        "id": id,
        "object": "event",
        "api_version": "2025-03-31.basil",
        "created": created,
        "type": kind,
        "livemode": false,
        "pending_webhooks": 1,
        "request": {"id": null, "idempotency_key": null},
        "data": {"object": object}
    })
}

/// Stripe's signature header for `payload` at `timestamp`, computed here
/// independently of the app's code.
pub fn signature(secret: &str, timestamp: i64, payload: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(format!("{timestamp}.").as_bytes());
    mac.update(payload);
    let hex: String = mac
        .finalize()
        .into_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    format!("t={timestamp},v1={hex}")
}

/// Delivers `payload` to the app's webhook over HTTP with `header` as Stripe-Signature.
pub async fn deliver_raw(
    app_base: &str,
    payload: &[u8],
    header: Option<&str>,
) -> (StatusCode, Value) {
    let mut request = reqwest::Client::new()
        .post(format!("{app_base}/api/billing/webhook"))
        .header("content-type", "application/json; charset=utf-8")
        .header(
            "user-agent",
            "Stripe/1.0 (+https://stripe.com/docs/webhooks)",
        )
        // A stale browser cookie must not matter: Stripe never sends one, and a
        // proxy that adds one must not turn the call into a CSRF failure.
        .header("cookie", "sw_access=stale; sw_csrf=x")
        .body(payload.to_vec());
    if let Some(header) = header {
        request = request.header("stripe-signature", header);
    }
    let response = request.send().await.unwrap();
    let status = StatusCode::from_u16(response.status().as_u16()).unwrap();
    let body = response.json().await.unwrap_or(Value::Null);
    (status, body)
}

/// Delivers `event` signed now, as Stripe does.
pub async fn deliver(app_base: &str, event: &Value) -> (StatusCode, Value) {
    let payload = serde_json::to_vec(event).unwrap();
    let header = signature(WEBHOOK_SECRET, unix_now(), &payload);
    deliver_raw(app_base, &payload, Some(&header)).await
}

/// Serves the app over real HTTP on a port the OS picks; returns its base URL.
pub async fn serve_app(state: app::AppState) -> (String, tokio_util::sync::CancellationToken) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let shutdown = tokio_util::sync::CancellationToken::new();
    let stop = shutdown.clone();
    tokio::spawn(async move { app::server::run(listener, state, stop).await.unwrap() });
    (base, shutdown)
}
