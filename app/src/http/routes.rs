//! The route table: every route with its method, path and access rule.
//!
//! Routes are added only through [`Routes`], so the table is the complete
//! list: the access rule is enforced here for each route, and tests walk the
//! table (tenant isolation, OpenAPI coverage) so new routes are covered
//! without anyone remembering to add them.

use axum::Router;
use axum::extract::{Request, State};
use axum::handler::Handler;
use axum::http::{Method, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::{MethodFilter, on};

use crate::AppState;
use crate::auth::Role;
use crate::http::AppError;
use crate::http::principal::{Principal, TenantCaller, resolve};
use crate::tenancy::store::tenant_for_host;

/// Who may call a route.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Anyone; credentials, if valid, are still resolved.
    Public,
    /// A signed-in user (not an API key), with or without an organisation.
    Session,
    /// A member of the organisation with at least this role (or an API key whose scope grants it).
    Tenant(Role),
    /// A platform operator.
    Superuser,
}

/// One row of the table.
#[derive(Debug, Clone)]
pub struct RouteInfo {
    /// HTTP method.
    pub method: Method,
    /// Path template, axum syntax (`/api/domains/{id}`).
    pub path: &'static str,
    /// Access rule.
    pub access: Access,
}

/// Builds the router and its table together.
pub struct Routes {
    /// `None` when only the table is wanted (the OpenAPI document needs no state).
    state: Option<AppState>,
    router: Router<AppState>,
    table: Vec<RouteInfo>,
}

impl Routes {
    /// An empty table.
    pub fn new(state: AppState) -> Self {
        Self {
            state: Some(state),
            router: Router::new(),
            table: Vec::new(),
        }
    }

    /// An empty table that records routes without building a router.
    pub fn table_only() -> Self {
        Self {
            state: None,
            router: Router::new(),
            table: Vec::new(),
        }
    }

    /// Adds `handler` for `method path`, guarded by `access`.
    pub fn add<H, T>(
        mut self,
        method: Method,
        path: &'static str,
        access: Access,
        handler: H,
    ) -> Self
    where
        H: Handler<T, AppState>,
        T: 'static,
    {
        if let Some(state) = &self.state {
            let filter = MethodFilter::try_from(method.clone())
                .unwrap_or_else(|_| unreachable!("routes use standard methods"));
            let guarded = on(filter, handler).route_layer(axum::middleware::from_fn_with_state(
                (state.clone(), access),
                enforce,
            ));
            self.router = self.router.route(path, guarded);
        }
        self.table.push(RouteInfo {
            method,
            path,
            access,
        });
        self
    }

    /// The router and the table.
    pub fn finish(self) -> (Router<AppState>, Vec<RouteInfo>) {
        (self.router, self.table)
    }
}

/// Resolves the caller and applies the route's rule; the principal (and on a
/// tenant route the [`TenantCaller`]) is put in the request's extensions for
/// the handler.
async fn enforce(
    State((state, access)): State<(AppState, Access)>,
    request: Request,
    next: Next,
) -> Response {
    let (mut parts, body) = request.into_parts();
    let principal = match resolve(&state, &parts).await {
        Ok(principal) => principal,
        // A stale cookie must not stop a login or a public page.
        Err(_) if access == Access::Public => None,
        Err(err) => return err.into_response(),
    };
    match check(&state, access, principal.as_ref(), &parts).await {
        Ok(Some(caller)) => {
            parts.extensions.insert(caller);
        }
        Ok(None) => {}
        Err(err) => return err.into_response(),
    }
    if let Some(principal) = principal {
        parts.extensions.insert(principal);
    }
    next.run(Request::from_parts(parts, body)).await
}

/// Applies `access`; on a tenant route, the caller it admitted.
async fn check(
    state: &AppState,
    access: Access,
    principal: Option<&Principal>,
    parts: &axum::http::request::Parts,
) -> Result<Option<TenantCaller>, AppError> {
    let signed_in = || {
        principal.ok_or_else(|| {
            AppError::unauthorized("not_authenticated", "sign in or send a bearer token")
        })
    };
    match access {
        Access::Public => Ok(None),
        Access::Session => {
            signed_in()?.user()?;
            Ok(None)
        }
        Access::Superuser => {
            let p = signed_in()?;
            p.user()?;
            if p.is_superuser {
                Ok(None)
            } else {
                Err(AppError::forbidden(
                    "superuser_required",
                    "only platform administrators may do this",
                ))
            }
        }
        Access::Tenant(needed) => {
            let p = signed_in()?;
            let tenant = p.tenant_id.as_deref().ok_or_else(|| {
                AppError::forbidden(
                    "no_organization",
                    "this session is not signed in to an organization",
                )
            })?;
            if p.tenant_suspended {
                return Err(AppError::forbidden(
                    "tenant_suspended",
                    "this organization is suspended; contact support",
                ));
            }
            let Some(role) = p.role.filter(|role| *role >= needed) else {
                return Err(AppError::forbidden(
                    "insufficient_role",
                    format!("this needs the {} role or higher", needed.as_str()),
                ));
            };
            // On a tenant's own hostname, only that tenant's credentials count.
            if let Some(host) = parts
                .headers
                .get(header::HOST)
                .and_then(|h| h.to_str().ok())
                && is_tenant_host(host, &state.settings.tenancy.normalized_suffix())
                && let Some(owner) = tenant_for_host(&state.db, host).await?
                && owner != tenant
            {
                return Err(AppError::forbidden(
                    "wrong_tenant",
                    "these credentials belong to another organization",
                ));
            }
            Ok(Some(TenantCaller {
                tenant_id: tenant.to_owned(),
                role,
                user_id: p.user_id.clone(),
            }))
        }
    }
}

/// Hosts that may belong to a tenant: under our suffix (not the suffix itself).
fn is_tenant_host(host: &str, suffix: &str) -> bool {
    let host = host
        .split(':')
        .next()
        .unwrap_or_default()
        .to_ascii_lowercase();
    !suffix.is_empty() && host.len() > suffix.len() + 1 && host.ends_with(&format!(".{suffix}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tenant_hosts() {
        assert!(is_tenant_host("acme.localhost:8443", "localhost"));
        assert!(is_tenant_host(
            "ACME.status.example.com",
            "status.example.com"
        ));
        assert!(!is_tenant_host("localhost:8000", "localhost"));
        assert!(!is_tenant_host("127.0.0.1:8000", "localhost"));
        assert!(!is_tenant_host("evil-localhost", "localhost"));
    }
}
