//! `GET /api/openapi.json`: the API description, generated from the handlers' annotations.

use axum::Json;
use utoipa::OpenApi;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};

mod errors;

use errors::CommonErrors;

use super::{
    admin, alert_channels, api_keys, auth, billing, certs, domains, events, health, heartbeat,
    incidents, invitations, maintenance, members, monitors, observe, public_status,
    public_status_api, site, status_pages, status_pages_components, status_pages_incidents,
    status_subscribers, status_subscribers_admin, status_subscribers_links,
};

/// The document; a test checks that every route of the route table is in it.
#[derive(OpenApi)]
#[openapi(
    info(title = "StatusWatch API", description = "Uptime monitoring and status pages. Authenticate with `Authorization: Bearer <access token or API key>`, or the SPA's cookies plus `X-CSRF-Token`."),
    paths(
        health::live, health::ready, observe::metrics, document, site::site,
        auth::signup::signup, auth::login::login, auth::refresh::refresh, auth::logout::logout,
        auth::verify_email::verify, auth::verify_email::resend,
        auth::password_reset::request, auth::password_reset::confirm, auth::me::me,
        auth::handover::create, auth::handover::redeem,
        members::list, members::update, members::remove,
        invitations::list, invitations::create, invitations::revoke, invitations::accept,
        api_keys::list, api_keys::create, api_keys::revoke,
        domains::list, domains::get, domains::add, domains::verify, domains::remove,
        certs::validate_domain,
        monitors::list, monitors::get, monitors::create, monitors::update, monitors::delete,
        heartbeat::ping, heartbeat::ping_get, monitors::results, monitors::uptime,
        incidents::list, incidents::get, maintenance::list, maintenance::create, maintenance::delete,
        alert_channels::list, alert_channels::create, alert_channels::delete, alert_channels::test,
        alert_channels::deliveries,
        status_pages::list, status_pages::create, status_pages::get, status_pages::update, status_pages::delete,
        status_pages::list_groups, status_pages::create_group, status_pages::update_group, status_pages::delete_group,
        status_pages_components::list, status_pages_components::create, status_pages_components::get,
        status_pages_components::update, status_pages_components::delete,
        status_pages_incidents::list, status_pages_incidents::create, status_pages_incidents::publish,
        status_pages_incidents::get, status_pages_incidents::update, status_pages_incidents::delete,
        status_pages_incidents::add_update,
        public_status::root, public_status::status_redirect, public_status::status_page,
        public_status::incident_page,
        public_status_api::summary, public_status_api::status, public_status_api::components,
        public_status_api::incidents_json, public_status_api::unresolved,
        public_status_api::scheduled_maintenances, public_status_api::history_atom,
        public_status_api::history_rss, public_status_api::page_badge, public_status_api::component_badge,
        status_subscribers_admin::list, status_subscribers_admin::export, status_subscribers_admin::delete,
        status_subscribers::subscribe, status_subscribers_links::confirm_page, status_subscribers_links::confirm,
        status_subscribers_links::unsubscribe_page, status_subscribers_links::unsubscribe,
        admin::list, admin::get, admin::suspend, admin::resume, admin::set_plan, admin::audit_log,
        billing::get, billing::checkout, billing::portal, billing::set_paused, billing::webhook,
        events::stream,
    ),
    components(schemas(
        crate::events::MonitorStateData, crate::events::MonitorCheckData,
        crate::events::IncidentOpenedData, crate::events::IncidentResolvedData,
        crate::http::error::ErrorBody,
    )),
    modifiers(&BearerAuth, &CommonErrors),
)]
pub struct ApiDoc;

struct BearerAuth;

impl utoipa::Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

/// Serves the OpenAPI document.
#[utoipa::path(get, path = "/api/openapi.json", tag = "meta", responses((status = 200, description = "OpenAPI 3.1 document")))]
pub async fn document() -> Json<utoipa::openapi::OpenApi> {
    Json(ApiDoc::openapi())
}
