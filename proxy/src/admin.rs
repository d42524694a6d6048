//! The operator's admin API on its own listener.

use std::sync::Arc;

use axum::Json;
use axum::Router;
use axum::extract::{Path, Request, State};
use axum::http::{StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use prometheus_client::registry::Registry;
use secrecy::{ExposeSecret, SecretString};
use serde_json::json;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

use acme::name::DnsName;

use crate::edge::Edge;
use crate::metrics::{CACHE_RESULTS, CertLabels};
use crate::site::{Site, SiteFile};
use crate::upstream::upstream_pool;

/// What `POST /reload` re-reads.
#[derive(Debug, Clone)]
pub struct Reloadable {
    /// The SPA's files as they are now.
    pub site: Vec<SiteFile>,
    /// App nodes.
    pub app_upstreams: Vec<String>,
}

/// Why a reload found nothing to swap in; the running edge goes on unchanged.
#[derive(Debug, thiserror::Error)]
pub enum ReloadError {
    /// The configuration is invalid.
    #[error("{0}")]
    Config(String),
    /// The SPA's files cannot be read.
    #[error("{0}")]
    StaticRoot(String),
}

/// Re-reads configuration and the SPA's files for a reload; called on a
/// blocking thread, since it reads files.
pub type ReloadFn = Arc<dyn Fn() -> Result<Reloadable, ReloadError> + Send + Sync>;

/// What the admin handlers read.
#[derive(Clone)]
pub struct AdminState {
    /// Required bearer token, if any.
    pub token: Option<SecretString>,
    /// Metrics of the whole process.
    pub registry: Arc<Registry>,
    /// The certificate manager.
    pub certs: Arc<acme::CertManager>,
    /// The running edge.
    pub edge: Arc<Edge>,
    /// Re-reads configuration.
    pub reload: ReloadFn,
}

/// Serves the admin API until `shutdown`.
pub async fn serve(listener: TcpListener, state: AdminState, shutdown: CancellationToken) {
    let app = Router::new()
        .route("/health", get(|| async { Json(json!({ "status": "ok" })) }))
        .route("/metrics", get(metrics))
        .route("/certs", get(certs))
        .route("/certs/{name}", get(cert_detail).delete(cert_delete))
        .route("/certs/{name}/renew", post(cert_renew))
        .route("/acme/queue", get(acme_queue))
        .route("/upstreams", get(upstreams))
        .route("/cache", get(cache))
        .route("/cache/{host}", axum::routing::delete(cache_purge))
        .route("/reload", post(reload))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            authorize,
        ))
        .with_state(state);
    if let Err(err) = axum::serve(listener, app)
        .with_graceful_shutdown(shutdown.cancelled_owned())
        .await
    {
        tracing::error!(error = %err, "admin API stopped");
    }
}

fn error(status: StatusCode, code: &str, message: &str) -> Response {
    (status, Json(json!({ "code": code, "message": message }))).into_response()
}

async fn authorize(State(state): State<AdminState>, request: Request, next: Next) -> Response {
    if let Some(token) = &state.token {
        let presented = request
            .headers()
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .unwrap_or_default();
        let expected = token.expose_secret().as_bytes();
        let matches = presented.len() == expected.len()
            && presented
                .bytes()
                .zip(expected)
                .fold(0_u8, |acc, (a, b)| acc | (a ^ b))
                == 0;
        if !matches {
            return error(
                StatusCode::UNAUTHORIZED,
                "unauthorized",
                "admin API needs `Authorization: Bearer <edge.admin_token>`",
            );
        }
    }
    next.run(request).await
}

async fn metrics(State(state): State<AdminState>) -> Response {
    let (ready, refused) = state.certs.held_counts();
    for (label, count) in [("ready", ready), ("refused", refused)] {
        state
            .edge
            .metrics
            .certificates
            .get_or_create(&CertLabels { state: label })
            .set(i64::try_from(count).unwrap_or(i64::MAX));
    }
    let queries = i64::try_from(state.certs.policy_queries()).unwrap_or(i64::MAX);
    state.edge.metrics.policy_queries.set(queries);
    let orders = i64::try_from(state.certs.orders()).unwrap_or(i64::MAX);
    state.edge.metrics.acme_orders.set(orders);
    if let Some(cache) = &state.edge.cache {
        let metrics = &state.edge.metrics;
        metrics
            .cache_entries
            .set(i64::try_from(cache.store.len()).unwrap_or(i64::MAX));
        metrics
            .cache_bytes
            .set(i64::try_from(cache.bytes()).unwrap_or(i64::MAX));
    }
    let mut text = String::new();
    if prometheus_client::encoding::text::encode(&mut text, &state.registry).is_err() {
        return error(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "cannot render metrics",
        );
    }
    (
        [(
            header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        text,
    )
        .into_response()
}

async fn certs(State(state): State<AdminState>) -> Json<Vec<acme::CertStatus>> {
    Json(state.certs.statuses())
}

/// The 422 for a path segment that is not a DNS name, saying which rule it breaks.
fn invalid_name(name: &str, problem: &dyn std::fmt::Display) -> Response {
    error(
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_name",
        &format!("`{name}` is not a DNS name: {problem}"),
    )
}

/// The status and stable code for a certificate manager error, by variant.
fn acme_status(err: &acme::Error) -> (StatusCode, &'static str) {
    use acme::Error as E;
    match err {
        E::InvalidName { .. } => (StatusCode::UNPROCESSABLE_ENTITY, "invalid_name"),
        E::Denied { .. } => (StatusCode::FORBIDDEN, "not_authorised"),
        E::Policy(_) | E::Store(_) => (StatusCode::SERVICE_UNAVAILABLE, "store_unavailable"),
        E::RateLimited { .. } | E::Backoff { .. } => {
            (StatusCode::TOO_MANY_REQUESTS, "rate_limited")
        }
        E::LeaseLost { .. } => (StatusCode::CONFLICT, "lease_lost"),
        E::Ca { .. }
        | E::Account { .. }
        | E::BadCertificate { .. }
        | E::Seal(_)
        | E::LocalCa(_)
        | E::Timeout { .. }
        | E::Aborted { .. } => (StatusCode::BAD_GATEWAY, "issue_failed"),
    }
}

fn acme_error(err: &acme::Error) -> Response {
    let (status, code) = acme_status(err);
    error(status, code, &err.report())
}

async fn cert_detail(State(state): State<AdminState>, Path(name): Path<String>) -> Response {
    let name = match DnsName::parse(&name) {
        Ok(name) => String::from(name),
        Err(problem) => return invalid_name(&name, &problem),
    };
    match state.certs.detail(&name).await {
        Ok(detail) => Json(detail).into_response(),
        Err(err) => acme_error(&err),
    }
}

async fn cert_renew(State(state): State<AdminState>, Path(name): Path<String>) -> Response {
    let name = match DnsName::parse(&name) {
        Ok(name) => String::from(name),
        Err(problem) => return invalid_name(&name, &problem),
    };
    match state.certs.renew_now(&name).await {
        Ok(detail) => Json(detail).into_response(),
        Err(err) => acme_error(&err),
    }
}

async fn cert_delete(State(state): State<AdminState>, Path(name): Path<String>) -> Response {
    let name = match DnsName::parse(&name) {
        Ok(name) => String::from(name),
        Err(problem) => return invalid_name(&name, &problem),
    };
    match state.certs.delete(&name).await {
        Ok(true) => Json(json!({ "deleted": name })).into_response(),
        Ok(false) => error(
            StatusCode::NOT_FOUND,
            "not_found",
            &format!("no stored certificate serves `{name}`"),
        ),
        Err(err) => acme_error(&err),
    }
}

async fn acme_queue(State(state): State<AdminState>) -> Response {
    match state.certs.queue().await {
        Ok(queue) => Json(queue).into_response(),
        Err(err) => acme_error(&err),
    }
}

async fn upstreams(State(state): State<AdminState>) -> Json<serde_json::Value> {
    let pool = state.edge.upstreams.load_full();
    let list: Vec<_> = pool
        .backends()
        .get_backend()
        .iter()
        .map(|b| json!({ "address": b.addr.to_string(), "healthy": pool.backends().ready(b) }))
        .collect();
    Json(json!(list))
}

/// What the cache holds and how it answered so far.
async fn cache(State(state): State<AdminState>) -> Json<serde_json::Value> {
    let metrics = &state.edge.metrics;
    let counts: serde_json::Map<String, serde_json::Value> = CACHE_RESULTS
        .iter()
        .map(|result| ((*result).to_owned(), json!(metrics.cache_count(result))))
        .collect();
    Json(match &state.edge.cache {
        Some(cache) => json!({
            "enabled": true,
            "entries": cache.store.len(),
            "bytes": cache.bytes(),
            "max_bytes": cache.max_bytes,
            "max_object_bytes": cache.max_object_bytes,
            "hits": metrics.cache_count("hit"),
            "misses": metrics.cache_count("miss"),
            "stale_served": metrics.cache_count("stale"),
            "requests": counts,
        }),
        None => json!({ "enabled": false, "requests": counts }),
    })
}

/// Drops every cached answer of one host (e.g. after a tenant's page changed by hand).
async fn cache_purge(State(state): State<AdminState>, Path(host): Path<String>) -> Response {
    let name = crate::edge::host_name(&host);
    if name.is_empty()
        || name.len() > 253
        || !name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.' || b == b':')
    {
        // Cache keys are Host values, so an IP literal (with its colons) is purgeable too.
        return invalid_name(
            &host,
            &"a host is letters, digits, hyphens, dots and colons",
        );
    }
    let Some(cache) = &state.edge.cache else {
        return error(
            StatusCode::CONFLICT,
            "cache_off",
            "the cache is off (edge.cache_max_bytes = 0)",
        );
    };
    let purged = cache.store.purge_host(&name);
    tracing::info!(host = %name, purged, "cache purged for host");
    Json(json!({ "host": name, "purged": purged })).into_response()
}

async fn reload(State(state): State<AdminState>) -> Response {
    let reread = state.reload.clone();
    let fresh = match tokio::task::spawn_blocking(move || reread()).await {
        Ok(Ok(fresh)) => fresh,
        Ok(Err(ReloadError::Config(message))) => {
            return error(
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid_configuration",
                &message,
            );
        }
        Ok(Err(ReloadError::StaticRoot(message))) => {
            return error(StatusCode::UNPROCESSABLE_ENTITY, "static_root", &message);
        }
        Err(err) => {
            return error(
                StatusCode::INTERNAL_SERVER_ERROR,
                "reload_failed",
                &err.to_string(),
            );
        }
    };
    let site = match Site::build_async(fresh.site).await {
        Ok(site) => site,
        Err(err) => {
            return error(
                StatusCode::UNPROCESSABLE_ENTITY,
                "static_root",
                &err.to_string(),
            );
        }
    };
    let pool = match upstream_pool(&fresh.app_upstreams) {
        Ok(pool) => pool,
        Err(err) => {
            return error(
                StatusCode::UNPROCESSABLE_ENTITY,
                "app_upstreams",
                &err.to_string(),
            );
        }
    };
    // Check the new pool before swapping it in, so a reload never starts with every node "down".
    pool.backends().run_health_check(true).await;
    let files = site.len();
    state.edge.site.store(Arc::new(site));
    state.edge.upstreams.store(Arc::new(pool));
    tracing::info!(
        files,
        upstreams = fresh.app_upstreams.len(),
        "edge reloaded"
    );
    Json(json!({ "status": "reloaded", "static_files": files, "app_upstreams": fresh.app_upstreams })).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn certificate_errors_map_to_statuses_by_variant() {
        let name = || "a.test".to_owned();
        let cases = [
            (
                acme::Error::InvalidName {
                    name: name(),
                    problem: acme::name::NameError::Empty,
                },
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid_name",
            ),
            (
                // The reason's wording does not matter, only the variant.
                acme::Error::Denied {
                    name: name(),
                    reason: "no tenant has it".to_owned(),
                },
                StatusCode::FORBIDDEN,
                "not_authorised",
            ),
            (
                acme::Error::policy("database unreachable"),
                StatusCode::SERVICE_UNAVAILABLE,
                "store_unavailable",
            ),
            (
                acme::Error::store("not authorised: looks like a refusal but is a store error"),
                StatusCode::SERVICE_UNAVAILABLE,
                "store_unavailable",
            ),
            (
                acme::Error::RateLimited {
                    limit: "30 new orders per hour".to_owned(),
                },
                StatusCode::TOO_MANY_REQUESTS,
                "rate_limited",
            ),
            (
                acme::Error::Backoff {
                    name: name(),
                    seconds: 60,
                },
                StatusCode::TOO_MANY_REQUESTS,
                "rate_limited",
            ),
            (
                acme::Error::LeaseLost { name: name() },
                StatusCode::CONFLICT,
                "lease_lost",
            ),
            (
                acme::Error::Ca {
                    name: name(),
                    message: "not authorised: the CA said so".to_owned(),
                },
                StatusCode::BAD_GATEWAY,
                "issue_failed",
            ),
            (
                acme::Error::Timeout { name: name() },
                StatusCode::BAD_GATEWAY,
                "issue_failed",
            ),
        ];
        for (err, status, code) in cases {
            assert_eq!(acme_status(&err), (status, code), "{err}");
        }
    }

    #[tokio::test]
    async fn the_answer_carries_the_whole_cause() {
        let response = acme_error(&acme::Error::store("pool timed out"));
        assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
        let body = axum::body::to_bytes(response.into_body(), 4096)
            .await
            .unwrap();
        let body: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(body["code"], "store_unavailable");
        assert_eq!(
            body["message"],
            "certificate store unavailable: pool timed out"
        );
    }
}
