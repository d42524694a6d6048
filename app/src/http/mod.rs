//! The HTTP surface: the route table, errors, and per-request instrumentation.

pub mod admin;
pub mod alert_channels;
pub mod api_keys;
pub mod auth;
pub mod billing;
pub mod certs;
pub mod client_ip;
pub mod domains;
pub mod error;
pub mod events;
mod health;
pub mod heartbeat;
pub mod incidents;
pub mod invitations;
mod json;
pub mod maintenance;
pub mod members;
pub mod monitors;
mod observe;
pub mod openapi;
pub mod principal;
pub mod public_status;
pub mod public_status_api;
pub mod routes;
pub mod site;
pub mod status_pages;
pub mod status_pages_components;
pub mod status_pages_incidents;
pub mod status_subscribers;
pub mod status_subscribers_admin;
pub mod status_subscribers_links;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::Method;

use crate::AppState;
use crate::auth::Role;

pub use error::AppError;
pub use json::{ApiJson, ApiQuery};
use routes::{Access, RouteInfo, Routes};

/// Largest request body the API reads.
pub const MAX_BODY_BYTES: usize = 64 * 1024;

/// Every route with its access rule.
pub fn route_table(state: AppState) -> (Router<AppState>, Vec<RouteInfo>) {
    add_routes(Routes::new(state)).finish()
}

/// The table alone, without a router (for the OpenAPI document).
pub fn route_rules() -> Vec<RouteInfo> {
    add_routes(Routes::table_only()).finish().1
}

fn add_routes(routes: Routes) -> Routes {
    use Access::{Public, Session, Superuser, Tenant};
    use Method as M;
    use Role::{Admin, Member, Viewer};
    routes
        .add(M::GET, "/health/", Public, health::live)
        .add(M::GET, "/health/ready/", Public, health::ready)
        .add(M::GET, "/metrics", Public, observe::metrics)
        .add(M::GET, "/api/openapi.json", Public, openapi::document)
        .add(M::GET, "/api/site", Public, site::site)
        // Accounts and sessions.
        .add(M::POST, "/api/auth/signup", Public, auth::signup::signup)
        .add(M::POST, "/api/auth/login", Public, auth::login::login)
        .add(M::POST, "/api/auth/refresh", Public, auth::refresh::refresh)
        .add(M::POST, "/api/auth/logout", Session, auth::logout::logout)
        .add(
            M::POST,
            "/api/auth/verify-email",
            Public,
            auth::verify_email::verify,
        )
        .add(
            M::POST,
            "/api/auth/verify-email/resend",
            Session,
            auth::verify_email::resend,
        )
        .add(
            M::POST,
            "/api/auth/password-reset",
            Public,
            auth::password_reset::request,
        )
        .add(
            M::POST,
            "/api/auth/password-reset/confirm",
            Public,
            auth::password_reset::confirm,
        )
        .add(M::GET, "/api/me", Session, auth::me::me)
        .add(
            M::POST,
            "/api/auth/handover",
            Session,
            auth::handover::create,
        )
        .add(
            M::POST,
            "/api/auth/handover/redeem",
            Public,
            auth::handover::redeem,
        )
        // Live events.
        .add(M::GET, "/api/events", Tenant(Viewer), events::stream)
        // Members and invitations.
        .add(M::GET, "/api/members", Tenant(Viewer), members::list)
        .add(
            M::PATCH,
            "/api/members/{user_id}",
            Tenant(Admin),
            members::update,
        )
        .add(
            M::DELETE,
            "/api/members/{user_id}",
            Tenant(Admin),
            members::remove,
        )
        .add(M::GET, "/api/invitations", Tenant(Admin), invitations::list)
        .add(
            M::POST,
            "/api/invitations",
            Tenant(Admin),
            invitations::create,
        )
        .add(
            M::DELETE,
            "/api/invitations/{id}",
            Tenant(Admin),
            invitations::revoke,
        )
        .add(
            M::POST,
            "/api/invitations/accept",
            Public,
            invitations::accept,
        )
        // API keys.
        .add(M::GET, "/api/api-keys", Tenant(Admin), api_keys::list)
        .add(M::POST, "/api/api-keys", Tenant(Admin), api_keys::create)
        .add(
            M::DELETE,
            "/api/api-keys/{id}",
            Tenant(Admin),
            api_keys::revoke,
        )
        // Domains.
        // Billing: owners buy, admins read; Stripe's webhook is public and signed.
        .add(M::GET, "/api/billing", Tenant(Admin), billing::get)
        .add(
            M::POST,
            "/api/billing/checkout",
            Tenant(Role::Owner),
            billing::checkout,
        )
        .add(
            M::POST,
            "/api/billing/portal",
            Tenant(Role::Owner),
            billing::portal,
        )
        .add(
            M::POST,
            "/api/billing/paused",
            Tenant(Role::Owner),
            billing::set_paused,
        )
        .add(M::POST, "/api/billing/webhook", Public, billing::webhook)
        .add(M::GET, "/api/domains", Tenant(Viewer), domains::list)
        .add(M::POST, "/api/domains", Tenant(Admin), domains::add)
        .add(M::GET, "/api/domains/{id}", Tenant(Viewer), domains::get)
        .add(
            M::DELETE,
            "/api/domains/{id}",
            Tenant(Admin),
            domains::remove,
        )
        .add(
            M::POST,
            "/api/domains/{id}/verify",
            Tenant(Admin),
            domains::verify,
        )
        // Caddy's `ask` hook, for migrations from Caddy.
        .add(
            M::GET,
            "/api/internal/validate-domain/",
            Public,
            certs::validate_domain,
        )
        // Monitors.
        .add(M::GET, "/api/monitors", Tenant(Viewer), monitors::list)
        .add(M::POST, "/api/monitors", Tenant(Member), monitors::create)
        .add(M::GET, "/api/monitors/{id}", Tenant(Viewer), monitors::get)
        .add(
            M::PATCH,
            "/api/monitors/{id}",
            Tenant(Member),
            monitors::update,
        )
        .add(
            M::DELETE,
            "/api/monitors/{id}",
            Tenant(Member),
            monitors::delete,
        )
        .add(
            M::GET,
            "/api/monitors/{id}/results",
            Tenant(Viewer),
            monitors::results,
        )
        .add(
            M::GET,
            "/api/monitors/{id}/uptime",
            Tenant(Viewer),
            monitors::uptime,
        )
        .add(M::POST, "/api/heartbeat/{token}", Public, heartbeat::ping)
        .add(
            M::GET,
            "/api/heartbeat/{token}",
            Public,
            heartbeat::ping_get,
        )
        // Incidents, maintenance, alerts.
        .add(M::GET, "/api/incidents", Tenant(Viewer), incidents::list)
        .add(
            M::GET,
            "/api/incidents/{id}",
            Tenant(Viewer),
            incidents::get,
        )
        .add(
            M::GET,
            "/api/maintenance-windows",
            Tenant(Viewer),
            maintenance::list,
        )
        .add(
            M::POST,
            "/api/maintenance-windows",
            Tenant(Member),
            maintenance::create,
        )
        .add(
            M::DELETE,
            "/api/maintenance-windows/{id}",
            Tenant(Member),
            maintenance::delete,
        )
        .add(
            M::GET,
            "/api/alert-channels",
            Tenant(Viewer),
            alert_channels::list,
        )
        .add(
            M::POST,
            "/api/alert-channels",
            Tenant(Member),
            alert_channels::create,
        )
        .add(
            M::DELETE,
            "/api/alert-channels/{id}",
            Tenant(Member),
            alert_channels::delete,
        )
        .add(
            M::POST,
            "/api/alert-channels/{id}/test",
            Tenant(Member),
            alert_channels::test,
        )
        .add(
            M::GET,
            "/api/alert-deliveries",
            Tenant(Viewer),
            alert_channels::deliveries,
        )
        // Status pages (admin).
        .add(
            M::GET,
            "/api/status-pages",
            Tenant(Viewer),
            status_pages::list,
        )
        .add(
            M::POST,
            "/api/status-pages",
            Tenant(Member),
            status_pages::create,
        )
        .add(
            M::GET,
            "/api/status-pages/{id}",
            Tenant(Viewer),
            status_pages::get,
        )
        .add(
            M::PATCH,
            "/api/status-pages/{id}",
            Tenant(Member),
            status_pages::update,
        )
        .add(
            M::DELETE,
            "/api/status-pages/{id}",
            Tenant(Member),
            status_pages::delete,
        )
        .add(
            M::GET,
            "/api/status-pages/{id}/groups",
            Tenant(Viewer),
            status_pages::list_groups,
        )
        .add(
            M::POST,
            "/api/status-pages/{id}/groups",
            Tenant(Member),
            status_pages::create_group,
        )
        .add(
            M::PATCH,
            "/api/status-pages/{id}/groups/{group_id}",
            Tenant(Member),
            status_pages::update_group,
        )
        .add(
            M::DELETE,
            "/api/status-pages/{id}/groups/{group_id}",
            Tenant(Member),
            status_pages::delete_group,
        )
        .add(
            M::GET,
            "/api/status-pages/{id}/components",
            Tenant(Viewer),
            status_pages_components::list,
        )
        .add(
            M::POST,
            "/api/status-pages/{id}/components",
            Tenant(Member),
            status_pages_components::create,
        )
        .add(
            M::GET,
            "/api/status-pages/{id}/components/{component_id}",
            Tenant(Viewer),
            status_pages_components::get,
        )
        .add(
            M::PATCH,
            "/api/status-pages/{id}/components/{component_id}",
            Tenant(Member),
            status_pages_components::update,
        )
        .add(
            M::DELETE,
            "/api/status-pages/{id}/components/{component_id}",
            Tenant(Member),
            status_pages_components::delete,
        )
        .add(
            M::GET,
            "/api/status-pages/{id}/incidents",
            Tenant(Viewer),
            status_pages_incidents::list,
        )
        .add(
            M::POST,
            "/api/status-pages/{id}/incidents",
            Tenant(Member),
            status_pages_incidents::create,
        )
        .add(
            M::POST,
            "/api/status-pages/{id}/incidents/publish",
            Tenant(Member),
            status_pages_incidents::publish,
        )
        .add(
            M::GET,
            "/api/status-pages/{id}/incidents/{incident_id}",
            Tenant(Viewer),
            status_pages_incidents::get,
        )
        .add(
            M::PATCH,
            "/api/status-pages/{id}/incidents/{incident_id}",
            Tenant(Member),
            status_pages_incidents::update,
        )
        .add(
            M::DELETE,
            "/api/status-pages/{id}/incidents/{incident_id}",
            Tenant(Member),
            status_pages_incidents::delete,
        )
        .add(
            M::POST,
            "/api/status-pages/{id}/incidents/{incident_id}/updates",
            Tenant(Member),
            status_pages_incidents::add_update,
        )
        // Status-page subscribers (admin).
        .add(
            M::GET,
            "/api/status-pages/{id}/subscribers",
            Tenant(Member),
            status_subscribers_admin::list,
        )
        .add(
            M::GET,
            "/api/status-pages/{id}/subscribers.csv",
            Tenant(Member),
            status_subscribers_admin::export,
        )
        .add(
            M::DELETE,
            "/api/status-pages/{id}/subscribers/{subscriber_id}",
            Tenant(Admin),
            status_subscribers_admin::delete,
        )
        // Public status pages (HTML); the Host picks the page.
        .add(M::GET, "/", Public, public_status::root)
        .add(M::GET, "/status", Public, public_status::status_redirect)
        .add(M::GET, "/status/", Public, public_status::status_page)
        .add(
            M::GET,
            "/status/incidents/{id}",
            Public,
            public_status::incident_page,
        )
        .add(
            M::GET,
            "/status/history.atom",
            Public,
            public_status_api::history_atom,
        )
        .add(
            M::GET,
            "/status/history.rss",
            Public,
            public_status_api::history_rss,
        )
        .add(
            M::GET,
            "/status/badge.svg",
            Public,
            public_status_api::page_badge,
        )
        .add(
            M::GET,
            "/status/components/{id}/badge.svg",
            Public,
            public_status_api::component_badge,
        )
        // Subscribing to the Host's page; links from mails.
        .add(
            M::POST,
            "/status/subscribe",
            Public,
            status_subscribers::subscribe,
        )
        .add(
            M::GET,
            "/status/subscribe/confirm",
            Public,
            status_subscribers_links::confirm_page,
        )
        .add(
            M::POST,
            "/status/subscribe/confirm",
            Public,
            status_subscribers_links::confirm,
        )
        .add(
            M::GET,
            "/status/unsubscribe",
            Public,
            status_subscribers_links::unsubscribe_page,
        )
        .add(
            M::POST,
            "/status/unsubscribe",
            Public,
            status_subscribers_links::unsubscribe,
        )
        // Statuspage-compatible public API; the Host picks the page.
        .add(
            M::GET,
            "/api/v2/summary.json",
            Public,
            public_status_api::summary,
        )
        .add(
            M::GET,
            "/api/v2/status.json",
            Public,
            public_status_api::status,
        )
        .add(
            M::GET,
            "/api/v2/components.json",
            Public,
            public_status_api::components,
        )
        .add(
            M::GET,
            "/api/v2/incidents.json",
            Public,
            public_status_api::incidents_json,
        )
        .add(
            M::GET,
            "/api/v2/incidents/unresolved.json",
            Public,
            public_status_api::unresolved,
        )
        .add(
            M::GET,
            "/api/v2/scheduled-maintenances.json",
            Public,
            public_status_api::scheduled_maintenances,
        )
        // Platform administration.
        .add(M::GET, "/admin/api/tenants", Superuser, admin::list)
        .add(M::GET, "/admin/api/tenants/{id}", Superuser, admin::get)
        .add(
            M::POST,
            "/admin/api/tenants/{id}/suspend",
            Superuser,
            admin::suspend,
        )
        .add(
            M::POST,
            "/admin/api/tenants/{id}/resume",
            Superuser,
            admin::resume,
        )
        .add(
            M::PUT,
            "/admin/api/tenants/{id}/plan",
            Superuser,
            admin::set_plan,
        )
        .add(M::GET, "/admin/api/audit-log", Superuser, admin::audit_log)
}

/// The app's router: the route table plus body limit, metrics and a JSON 404.
pub fn router(state: AppState) -> Router {
    let (routes, _) = route_table(state.clone());
    routes
        .fallback(error::not_found)
        .layer(axum::middleware::map_response(
            public_status::uncacheable_by_default,
        ))
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            observe::record,
        ))
        .with_state(state)
}
