//! The error answers every operation can give, added to the document from the
//! route table, so that a new route is documented by its access rule and its
//! inputs without anyone repeating the same annotations on each handler.
//!
//! Handlers still annotate what only they return (404 of a lookup, 409, 402,
//! 429); a status a handler documents itself is never replaced.

use axum::http::Method;
use utoipa::openapi::header::HeaderBuilder;
use utoipa::openapi::path::{Operation, ParameterIn, PathItem};
use utoipa::openapi::response::{Response, ResponseBuilder};
use utoipa::openapi::schema::{ObjectBuilder, Type};
use utoipa::openapi::security::SecurityRequirement;
use utoipa::openapi::{Content, OpenApi, Ref, RefOr};

use crate::http::route_rules;
use crate::http::routes::Access;

/// Paths whose handlers never read the database, so never answer 503
/// `database_unavailable` (their access rule is public, so no credential
/// lookup happens either).
const NO_DATABASE: &[&str] = &["/health/", "/metrics", "/api/openapi.json", "/status"];

/// Adds the shared error statuses to every operation.
pub(super) struct CommonErrors;

impl utoipa::Modify for CommonErrors {
    fn modify(&self, openapi: &mut OpenApi) {
        let rules = route_rules();
        for (path, item) in &mut openapi.paths.paths {
            for (method, operation) in operations(item) {
                let access = rules
                    .iter()
                    .find(|r| r.path == path && r.method == method)
                    .map_or(Access::Public, |r| r.access);
                document(path, access, operation);
            }
        }
    }
}

/// The operations of a path item with their methods.
fn operations(item: &mut PathItem) -> Vec<(Method, &mut Operation)> {
    [
        (Method::GET, item.get.as_mut()),
        (Method::POST, item.post.as_mut()),
        (Method::PUT, item.put.as_mut()),
        (Method::PATCH, item.patch.as_mut()),
        (Method::DELETE, item.delete.as_mut()),
    ]
    .into_iter()
    .filter_map(|(method, op)| op.map(|op| (method, op)))
    .collect()
}

fn document(path: &str, access: Access, operation: &mut Operation) {
    let mut add = |status: u16, description: &str| {
        operation
            .responses
            .responses
            .entry(status.to_string())
            .or_insert_with(|| RefOr::T(error_response(status, description)));
    };
    match access {
        Access::Public => {}
        Access::Session => {
            add(401, UNAUTHORIZED);
            add(
                403,
                "`user_required`: an API key cannot do this, only a signed-in user; \
                 `csrf_failed`: a cookie session without its `X-CSRF-Token`",
            );
        }
        Access::Tenant(_) => {
            add(401, UNAUTHORIZED);
            add(
                403,
                "`insufficient_role` (the role or the API key's scope is too low), \
                 `no_organization`, `tenant_suspended`, `wrong_tenant` (credentials of \
                 another organization on its hostname) or `csrf_failed`",
            );
        }
        Access::Superuser => {
            add(401, UNAUTHORIZED);
            add(
                403,
                "`superuser_required`: only platform administrators; `user_required` for \
                 API keys; `csrf_failed`",
            );
        }
    }
    let json_body = operation
        .request_body
        .as_ref()
        .is_some_and(|body| body.content.contains_key("application/json"));
    let takes_text = json_body || operation.parameters.iter().flatten().next().is_some();
    // PostgreSQL cannot store a NUL byte; any text the caller sends may carry one.
    const INVALID_TEXT: &str = "`invalid_text`: a value contains a NUL character";
    if json_body {
        add(
            400,
            &format!("`malformed_json`: the body is not JSON; {INVALID_TEXT}"),
        );
    } else if takes_text {
        add(400, INVALID_TEXT);
    }
    if json_body {
        add(413, "`body_too_large`: the body is over 64 KiB");
        add(
            415,
            "`expected_json`: the body was sent without `Content-Type: application/json`",
        );
        add(
            422,
            "`invalid_body` (a field has the wrong type, is missing or unknown) or \
             `invalid` (a field's value is refused; `field` names it)",
        );
    }
    let has_path_params = operation
        .parameters
        .iter()
        .flatten()
        .any(|p| p.parameter_in == ParameterIn::Path);
    if has_path_params {
        add(404, "`not_found`: no such resource (or not this caller's)");
    }
    if !NO_DATABASE.contains(&path) {
        add(
            503,
            "`database_unavailable`: the database is not answering; retry after `Retry-After` seconds",
        );
    }
    if access != Access::Public && operation.security.is_none() {
        operation.security = Some(vec![SecurityRequirement::new(
            "bearer",
            Vec::<String>::new(),
        )]);
    }
}

const UNAUTHORIZED: &str = "`not_authenticated` (no credentials), `invalid_token`, `token_expired`, \
     `session_revoked` (the session was signed out), `membership_ended`, `invalid_api_key` \
     or `invalid_authorization`";

/// A JSON [`ErrorBody`](crate::http::error::ErrorBody) answer; 429 and 503 say when to retry.
fn error_response(status: u16, description: &str) -> Response {
    let mut response = ResponseBuilder::new().description(description).content(
        "application/json",
        Content::new(Some(RefOr::Ref(Ref::from_schema_name("ErrorBody")))),
    );
    if matches!(status, 429 | 503) {
        response = response.header(
            "Retry-After",
            HeaderBuilder::new()
                .schema(
                    ObjectBuilder::new()
                        .schema_type(Type::Integer)
                        .minimum(Some(0)),
                )
                .description(Some("seconds to wait before trying again"))
                .build(),
        );
    }
    response.build()
}
