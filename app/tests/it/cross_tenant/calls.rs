//! Random calls: a route, a method, ids for its path and body slots drawn
//! from both tenants (by the table each slot names) or garbage.

use std::collections::BTreeMap;

use app::clock::now_ms;
use app::http::routes::RouteInfo;
use axum::http::Method;
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use proptest::prelude::*;
use proptest::sample::Index;
use serde_json::{Value, json};

use crate::api::PASSWORD;

/// The table an id slot names: by the path parameter or the body field.
pub(super) fn table_of(path: &str, slot: &str) -> &'static str {
    match slot {
        "group_id" => "status_component_groups",
        "component_id" | "component_ids" | "components" => "status_components",
        "incident_id" => "status_incidents",
        "subscriber_id" => "status_subscribers",
        "user_id" => "memberships",
        "tenant_id" => "tenants",
        "monitor_id" | "monitor_ids" => "monitors",
        "monitor_incident_id" => "incidents",
        "domain_id" => "domains",
        "token" if path.starts_with("/api/heartbeat") => "heartbeat",
        _ => {
            let parts: Vec<&str> = path.split('/').collect();
            match parts.as_slice() {
                [_, "api", "status-pages", ..] => "status_pages",
                [_, "status", "incidents", ..] => "status_incidents",
                [_, "status", "components", ..] => "status_components",
                [_, "api", "monitors", ..] => "monitors",
                [_, "api", "invitations", ..] => "invitations",
                [_, "api", "api-keys", ..] => "api_keys",
                [_, "api", "domains", ..] => "domains",
                [_, "api", "incidents", ..] => "incidents",
                [_, "api", "maintenance-windows", ..] => "maintenance_windows",
                [_, "api", "alert-channels", ..] => "alert_channels",
                [_, "admin", ..] => "tenants",
                _ => "*",
            }
        }
    }
}

/// What a path segment or query value escapes: all but letters, digits, `-` and `_`.
pub(super) const ESCAPED: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'_');

/// Garbage where an id goes.
pub(super) const GARBAGE: [&str; 10] = [
    "00000000-0000-0000-0000-000000000000",
    "..",
    "' OR '1'='1",
    "%",
    "null",
    "*",
    "-1",
    "0193a7b2-0000-7000-8000-00000000beef",
    "\u{0}",
    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
];

/// One random call.
#[derive(Debug, Clone)]
pub(super) struct Case {
    pub(super) route: Index,
    /// Another method on the route's path instead of its own.
    pub(super) other_method: Option<Index>,
    pub(super) who: Index,
    pub(super) host: Index,
    /// Values for the path's and the body's slots: (0 A's id, 1 B's id of
    /// the slot's table, 2 garbage, 3 a hostname, 4 any id of B's; which).
    pub(super) picks: Vec<(u8, Index)>,
    /// A query parameter with a picked value.
    pub(super) query: Option<Index>,
    /// Chooses between body variants.
    pub(super) variant: u8,
}

pub(super) fn case() -> impl Strategy<Value = Case> {
    (
        any::<Index>(),
        prop::option::weighted(0.1, any::<Index>()),
        any::<Index>(),
        any::<Index>(),
        prop::collection::vec(
            (
                prop_oneof![4 => Just(0_u8), 4 => Just(1), 1 => Just(2), 1 => Just(3), 1 => Just(4)],
                any::<Index>(),
            ),
            8,
        ),
        prop::option::weighted(0.3, any::<Index>()),
        any::<u8>(),
    )
        .prop_map(
            |(route, other_method, who, host, picks, query, variant)| Case {
                route,
                other_method,
                who,
                host,
                picks,
                query,
                variant,
            },
        )
}

pub(super) const METHODS: [Method; 5] = [
    Method::GET,
    Method::POST,
    Method::PUT,
    Method::PATCH,
    Method::DELETE,
];
pub(super) const QUERY_KEYS: [&str; 8] = [
    "monitor_id",
    "tenant_id",
    "page_id",
    "id",
    "q",
    "cursor",
    "token",
    "domain",
];

/// Draws the values of one case's slots.
pub(super) struct Picker<'a> {
    pub(super) path: &'a str,
    pub(super) a_ids: &'a BTreeMap<String, Vec<String>>,
    pub(super) b_ids: &'a BTreeMap<String, Vec<String>>,
    pub(super) hosts: &'a [String],
    pub(super) picks: std::slice::Iter<'a, (u8, Index)>,
    /// Every value handed out, as the request says it.
    pub(super) used: Vec<String>,
}

impl Picker<'_> {
    /// A value for `slot`: an id of A's or B's of the table it names (or of
    /// any table), garbage, or a hostname.
    pub(super) fn next(&mut self, slot: &str) -> String {
        let Some((kind, at)) = self.picks.next() else {
            return GARBAGE[0].to_owned();
        };
        let table = table_of(self.path, slot);
        let typed = |ids: &BTreeMap<String, Vec<String>>| {
            ids.get(table)
                .or_else(|| ids.get("*"))
                .cloned()
                .unwrap_or_default()
        };
        let from: Vec<String> = match kind {
            0 => typed(self.a_ids),
            1 => typed(self.b_ids),
            2 => GARBAGE.iter().map(|g| (*g).to_owned()).collect(),
            3 => self.hosts.to_vec(),
            _ => self.b_ids.get("*").cloned().unwrap_or_default(),
        };
        let value = if from.is_empty() {
            GARBAGE[0].to_owned()
        } else {
            from[at.index(from.len())].clone()
        };
        self.used.push(value.clone());
        value
    }
}

/// Fills every `{param}` of `path`, each with its own pick.
pub(super) fn fill(path: &str, picker: &mut Picker<'_>) -> String {
    crate::helpers::fill_path(path, |slot| {
        utf8_percent_encode(&picker.next(slot), ESCAPED).to_string()
    })
}

/// A body that would make the route act if it were let through, its ids picked.
pub(super) fn body_for(
    route: &RouteInfo,
    method: &Method,
    variant: u8,
    p: &mut Picker<'_>,
) -> Option<Value> {
    let n = now_ms();
    let role = ["viewer", "member", "admin", "owner"][usize::from(variant % 4)];
    let email = [
        "new@alpha.example",
        "owner@bravo.example",
        "carol@bravo.example",
        "owner@alpha.example",
    ][usize::from(variant % 4)];
    // A knows its own password, not B's.
    let password = if variant.is_multiple_of(2) {
        PASSWORD
    } else {
        "not-the-password-1"
    };
    let body = match (method.as_str(), route.path) {
        ("GET" | "DELETE", _) => return None,
        ("POST", "/api/auth/signup") => {
            json!({ "organization": "Zed", "slug": format!("zed{variant}"), "email": format!("z{variant}@zed.example"), "password": PASSWORD })
        }
        ("POST", "/api/auth/login") => {
            json!({ "email": email, "password": password, "organization": if variant.is_multiple_of(3) { "bravo" } else { "alpha" } })
        }
        ("POST", "/api/auth/password-reset") => json!({ "email": email }),
        ("POST", "/api/members/{user_id}") | ("PATCH", "/api/members/{user_id}") => {
            json!({ "role": role })
        }
        // B's addresses in A's own invitations would be A's data, not a leak.
        ("POST", "/api/invitations") => {
            json!({ "email": format!("guest{}@alpha.example", variant % 4), "role": role })
        }
        ("POST", "/api/api-keys") => {
            json!({ "name": "k", "scope": if variant.is_multiple_of(2) { "read" } else { "write" } })
        }
        ("POST", "/api/billing/checkout") => {
            json!({ "plan": (["pro", "free", "business"][usize::from(variant % 3)]) })
        }
        ("POST", "/api/billing/paused") => {
            json!({ "kind": (["monitor", "status_page", "alert_channel", "custom_domain"][usize::from(variant % 4)]), "id": p.next(["monitor_id", "*", "*", "domain_id"][usize::from(variant % 4)]), "paused": variant.is_multiple_of(2) })
        }
        ("POST", "/api/billing/webhook") => {
            json!({ "id": "evt_x", "object": "event", "type": "customer.subscription.deleted", "data": { "object": { "id": "sub_bravo", "customer": p.next("*"), "metadata": { "tenant_id": p.next("tenant_id") } } } })
        }
        ("POST", "/api/domains") => json!({ "hostname": p.next("hostname") }),
        ("POST", "/api/monitors") => {
            json!({ "name": "a-new-monitor", "kind": "tcp", "host": "x.alpha.example", "port": 80 })
        }
        ("PATCH", "/api/monitors/{id}") => {
            json!({ "name": "renamed-by-a", "paused": variant.is_multiple_of(2) })
        }
        ("POST", "/api/maintenance-windows") => {
            json!({ "title": "a-window", "starts_at": n, "ends_at": n + 3_600_000, "monitor_id": p.next("monitor_id") })
        }
        ("POST", "/api/alert-channels") => {
            json!({ "name": "a-channel", "kind": "email", "to": "x@alpha.example" })
        }
        ("POST", "/api/status-pages") => {
            json!({ "title": "a-page", "domain_id": p.next("domain_id"), "is_default": variant.is_multiple_of(2) })
        }
        ("PATCH", "/api/status-pages/{id}") => {
            json!({ "title": "renamed-by-a", "domain_id": p.next("domain_id") })
        }
        ("POST", "/api/status-pages/{id}/groups") => json!({ "name": "a-group" }),
        ("PATCH", "/api/status-pages/{id}/groups/{group_id}") => {
            json!({ "name": "renamed-by-a", "position": 1 })
        }
        ("POST", "/api/status-pages/{id}/components")
        | ("PATCH", "/api/status-pages/{id}/components/{component_id}") => {
            json!({ "name": "a-component", "monitor_ids": [p.next("monitor_ids")], "group_id": p.next("group_id") })
        }
        ("POST", "/api/status-pages/{id}/incidents")
        | ("PATCH", "/api/status-pages/{id}/incidents/{incident_id}") => {
            json!({ "title": "a-incident", "body": "words", "component_ids": [p.next("component_ids")] })
        }
        ("POST", "/api/status-pages/{id}/incidents/publish") => {
            json!({ "monitor_incident_id": p.next("monitor_incident_id"), "component_ids": [p.next("component_ids")] })
        }
        ("POST", "/api/status-pages/{id}/incidents/{incident_id}/updates") => {
            json!({ "status": "monitoring", "body": "a-update" })
        }
        ("POST", "/status/subscribe") => {
            if variant.is_multiple_of(2) {
                json!({ "email": "listener@alpha.example", "components": [p.next("components")] })
            } else {
                json!({ "webhook_url": "https://hooks.alpha.example/x", "components": [p.next("components")] })
            }
        }
        ("PUT", "/admin/api/tenants/{id}/plan") => json!({ "plan": "pro" }),
        ("POST", "/api/auth/refresh") => json!({ "refresh_token": p.next("*") }),
        ("POST", "/api/auth/verify-email") => json!({ "token": p.next("*") }),
        ("POST", "/api/auth/password-reset/confirm") | ("POST", "/api/invitations/accept") => {
            json!({ "token": p.next("*"), "password": PASSWORD })
        }
        ("POST", "/api/auth/handover/redeem") => json!({ "code": p.next("*") }),
        _ => json!({}),
    };
    Some(body)
}
