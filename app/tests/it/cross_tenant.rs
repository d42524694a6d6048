//! Cross-tenant isolation as a property over the route table: two tenants
//! with one of every kind of data (B on the Pro plan through Stripe), then
//! random calls as tenant A — any route, any method, path and body ids from
//! both tenants or garbage, any Host, as A's owner, a lower role or a
//! narrower API key — never show B's data (public status routes show only
//! the published page the Host names), never change it, and never succeed
//! beyond the caller's role or key scope.
//!
//! `access.rs` walks every route once with fixed ids; this walks them at
//! random with the combinations that a fixed walk leaves out.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Mutex;

use app::auth::Role;
use app::db::Database;
use app::http::route_table;
use app::http::routes::{Access, RouteInfo};
use app::mail::Mailer;
use app::test_support::app_settings;
use axum::http::{Method, StatusCode};
use percent_encoding::utf8_percent_encode;
use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError, TestRunner};
use serde_json::{Value, json};

use crate::api::{Api, PASSWORD};
use crate::helpers::{TestDb, enable_billing, on_both_dialects, state_with};
use crate::stripe_fake::StripeFake;

mod calls;
mod rows;
mod setup;

use calls::{Case, ESCAPED, METHODS, Picker, QUERY_KEYS, body_for, case, fill};
use rows::{SUBSCRIPTION_TABLES, Snapshot, ids, public_strings, snapshot, strings};
use setup::{B_PASSWORD, Principal, Tenant, WHO, Who, created, id, populate, send};

struct World {
    api: Api,
    _fake: StripeFake,
    a: Tenant,
    b: Tenant,
    principals: Vec<Principal>,
    routes: Vec<RouteInfo>,
    /// B's rows as set up; no call as A may change them, but for
    /// subscriptions to B's public page, which anyone may ask for.
    b_rows: Mutex<Snapshot>,
    /// B's ids by table; they change only with B's rows.
    b_ids: Mutex<BTreeMap<String, Vec<String>>>,
    /// The first failure, as found (shrinking replays cases on changed data).
    first_failure: Mutex<Option<String>>,
    /// Every string of B that is B's own: ids, names, addresses, hashes, secrets.
    b_strings: BTreeSet<String>,
    /// What each of B's public hosts may show of B.
    b_public: BTreeMap<String, BTreeSet<String>>,
    /// What the calls came to, so a run that tried nothing fails.
    tally: Mutex<Tally>,
}

/// Counts of what the random calls did.
#[derive(Debug, Default)]
struct Tally {
    /// Writes A was let do (2xx on POST, PUT, PATCH, DELETE).
    writes: usize,
    /// Reads that answered 2xx.
    reads: usize,
    /// Calls refused for role, scope or Host, with A's rows checked unchanged.
    refused: usize,
    /// Calls that named one of B's ids.
    with_b_ids: usize,
    /// Successful calls on B's public hosts.
    b_public_pages: usize,
}

impl World {
    async fn new(db: &Database) -> Self {
        let fake = StripeFake::start().await;
        let mut settings = app_settings(false);
        enable_billing(&mut settings, &fake.base);
        // Free has room for the set-up (several pages, a custom domain, four members).
        settings.billing.plans.insert(
            "free".to_owned(),
            app::config::PlanConfig {
                max_status_pages: Some(4),
                max_custom_domains: Some(2),
                max_members: Some(8),
                max_alert_channels: Some(3),
                max_monitors: Some(8),
                ..Default::default()
            },
        );
        let state = state_with(
            db,
            settings,
            Mailer::Log {
                include_body: false,
            },
        );
        let api = Api::new(state);
        let a = populate(&api, &fake, "alpha", PASSWORD, false).await;
        let b = populate(&api, &fake, "bravo", B_PASSWORD, true).await;
        let mut principals = vec![Principal {
            who: Who::Owner,
            token: Some(a.owner.access.clone()),
            role: Some(Role::Owner),
            user_id: Some(a.owner.user_id.clone()),
            key_id: None,
        }];
        for (who, role) in [
            (Who::Admin, Role::Admin),
            (Who::Member, Role::Member),
            (Who::Viewer, Role::Viewer),
        ] {
            let email = format!("{}@alpha.example", role.as_str());
            let (user_id, access) = api.join(&a.owner.access, &email, role.as_str()).await;
            principals.push(Principal {
                who,
                token: Some(access),
                role: Some(role),
                user_id: Some(user_id),
                key_id: None,
            });
        }
        for (who, scope, role) in [
            (Who::ReadKey, "read", Role::Viewer),
            (Who::WriteKey, "write", Role::Member),
        ] {
            let key = created(
                &api,
                "/api/api-keys",
                &a.owner.access,
                json!({ "name": scope, "scope": scope }),
            )
            .await;
            principals.push(Principal {
                who,
                token: Some(key.body["secret"].as_str().unwrap().to_owned()),
                role: Some(role),
                user_id: None,
                key_id: Some(id(&key)),
            });
        }
        principals.push(Principal {
            who: Who::Nobody,
            token: None,
            role: None,
            user_id: None,
            key_id: None,
        });
        assert_eq!(principals.iter().map(|p| p.who).collect::<Vec<_>>(), WHO);

        let b_rows = snapshot(&api.state.db, &b).await;
        let a_strings = strings(&snapshot(&api.state.db, &a).await);
        // B's strings that A's rows do not share (A's own names are its to see).
        let mut b_strings: BTreeSet<String> =
            strings(&b_rows).difference(&a_strings).cloned().collect();
        b_strings.extend(b.secrets.iter().cloned());
        b_strings.insert(b.heartbeat_token.clone());
        let mut b_public = BTreeMap::new();
        for (host, page) in [(&b.host, &b.default_page), (&b.custom_host, &b.second_page)] {
            b_public.insert(
                host.clone(),
                public_strings(&api.state.db, &b, page, host).await,
            );
        }
        let routes = route_table(api.state.clone()).1;
        let b_ids = ids(&api.state.db, &b.owner.tenant_id).await;
        Self {
            api,
            _fake: fake,
            a,
            b,
            principals,
            routes,
            b_rows: Mutex::new(b_rows),
            b_ids: Mutex::new(b_ids),
            first_failure: Mutex::default(),
            b_strings,
            b_public,
            tally: Mutex::default(),
        }
    }

    /// Puts A's principals back as they were: memberships, keys and sessions a call may have ended.
    async fn heal(&self) {
        let db = self.api.state.db.pool();
        let tenant = &self.a.owner.tenant_id;
        for p in &self.principals {
            if let (Some(user), Some(role)) = (&p.user_id, p.role) {
                sqlx::query("DELETE FROM memberships WHERE tenant_id = $1 AND user_id = $2")
                    .bind(tenant)
                    .bind(user)
                    .execute(db)
                    .await
                    .unwrap();
                sqlx::query("INSERT INTO memberships (tenant_id, user_id, role, created_at) VALUES ($1, $2, $3, 0)")
                    .bind(tenant)
                    .bind(user)
                    .bind(role.as_str())
                    .execute(db)
                    .await
                    .unwrap();
                sqlx::query("UPDATE refresh_tokens SET revoked_at = NULL WHERE user_id = $1")
                    .bind(user)
                    .execute(db)
                    .await
                    .unwrap();
            }
            if let Some(key) = &p.key_id {
                sqlx::query("UPDATE api_keys SET revoked_at = NULL WHERE id = $1")
                    .bind(key)
                    .execute(db)
                    .await
                    .unwrap();
            }
        }
    }

    async fn check(&self, case: &Case) -> Result<(), TestCaseError> {
        let db = &self.api.state.db;
        let route = &self.routes[case.route.index(self.routes.len())];
        let method = match &case.other_method {
            Some(at) => METHODS[at.index(METHODS.len())].clone(),
            None => route.method.clone(),
        };
        // The owner, who may do most, calls as often as the others together.
        let weighted: Vec<&Principal> = self
            .principals
            .iter()
            .flat_map(|p| std::iter::repeat_n(p, if p.who == Who::Owner { 6 } else { 1 }))
            .collect();
        let principal = weighted[case.who.index(weighted.len())];
        let hosts = [
            Some(self.a.host.clone()),
            Some(self.a.custom_host.clone()),
            Some(self.b.host.clone()),
            Some(self.b.custom_host.clone()),
            Some("localhost".to_owned()),
            Some("nobody.localhost".to_owned()),
            None,
        ];
        let host = hosts[case.host.index(hosts.len())].clone();
        let mut a_ids = ids(db, &self.a.owner.tenant_id).await;
        a_ids.insert("heartbeat".into(), vec![self.a.heartbeat_token.clone()]);
        let b_ids = self.b_ids.lock().unwrap().clone();
        let host_pool: Vec<String> = hosts
            .iter()
            .flatten()
            .cloned()
            .chain(["x.alpha.example".to_owned()])
            .collect();
        let mut picker = Picker {
            path: route.path,
            a_ids: &a_ids,
            b_ids: &b_ids,
            hosts: &host_pool,
            picks: case.picks.iter(),
            used: Vec::new(),
        };
        let mut path = fill(route.path, &mut picker);
        if let Some(at) = &case.query {
            let key = QUERY_KEYS[at.index(QUERY_KEYS.len())];
            let value = picker.next(key);
            path.push_str(&format!("?{key}={}", utf8_percent_encode(&value, ESCAPED)));
        }
        let body = body_for(route, &method, case.variant, &mut picker);
        let request = format!(
            "{method} {path} as {:?} on {host:?} with {}",
            principal.who,
            body.as_ref().map(Value::to_string).unwrap_or_default()
        );

        let a_before = snapshot(db, &self.a).await;
        let (status, headers, body_text) = send(
            &self.api,
            method.clone(),
            host.as_deref(),
            &path,
            principal.token.as_deref(),
            body.as_ref(),
            &[],
        )
        .await;
        let text = format!("{headers}\n{body_text}");
        let outcome = format!("{request}\n=> {status}\n{}", truncate(&text));

        prop_assert!(!status.is_server_error(), "server error: {}", outcome);

        // Nothing of B shows unless the Host names B's page, and then only that page.
        let allowed = host.as_ref().and_then(|h| self.b_public.get(h));
        // What the request itself said may come back (`x is not a component of this page`).
        let said = format!(
            "{path} {} {}",
            picker.used.join(" "),
            body.as_ref().map(Value::to_string).unwrap_or_default()
        );
        for secret in &self.b_strings {
            if text.contains(secret.as_str())
                && !said.contains(secret.as_str())
                && !allowed.is_some_and(|public| public.contains(secret))
            {
                return Err(TestCaseError::fail(format!(
                    "leaks B's `{secret}`: {outcome}"
                )));
            }
        }
        if allowed.is_none() && !said.to_ascii_lowercase().contains("bravo") {
            prop_assert!(
                !text.to_ascii_lowercase().contains("bravo"),
                "names B: {}",
                outcome
            );
        }

        // Refused by role, scope or Host: nothing of A changed either.
        if case.other_method.is_none() {
            let refusal = match route.access {
                Access::Tenant(needed) => match principal.role {
                    None => Some(StatusCode::UNAUTHORIZED),
                    Some(role) if role < needed => Some(StatusCode::FORBIDDEN),
                    Some(_) if host.as_deref() == Some(self.b.host.as_str()) => {
                        Some(StatusCode::FORBIDDEN)
                    }
                    Some(_) => None,
                },
                Access::Superuser => Some(if principal.token.is_none() {
                    StatusCode::UNAUTHORIZED
                } else {
                    StatusCode::FORBIDDEN
                }),
                Access::Session if principal.user_id.is_none() => {
                    Some(if principal.token.is_none() {
                        StatusCode::UNAUTHORIZED
                    } else {
                        StatusCode::FORBIDDEN
                    })
                }
                _ => None,
            };
            if let Some(expected) = refusal {
                prop_assert_eq!(status, expected, "{}", outcome);
                let a_after = snapshot(db, &self.a).await;
                prop_assert!(
                    a_after == a_before,
                    "A changed by a refused call: {}",
                    outcome
                );
                self.tally.lock().unwrap().refused += 1;
            }
        }

        {
            let mut tally = self.tally.lock().unwrap();
            if status.is_success() {
                if method == Method::GET {
                    tally.reads += 1;
                } else {
                    tally.writes += 1;
                }
                if allowed.is_some() {
                    tally.b_public_pages += 1;
                }
            }
            if b_ids["*"].iter().any(|b| said.contains(b.as_str())) {
                tally.with_b_ids += 1;
            }
        }

        // B's rows are as they were set up; a subscription to B's public
        // page (anyone's to ask for) adds rows of its own and changes none of B's.
        let b_now = snapshot(db, &self.b).await;
        let subscribed = {
            let mut b_rows = self.b_rows.lock().unwrap();
            let changed: Vec<&String> = b_now
                .iter()
                .filter(|(table, rows)| b_rows.get(*table) != Some(rows))
                .map(|(table, _)| table)
                .collect();
            let subscribing = route.access == Access::Public
                && route.path.starts_with("/status/")
                && method == Method::POST
                && allowed.is_some();
            let kept = changed.iter().all(|table| {
                SUBSCRIPTION_TABLES.contains(&table.as_str())
                    && b_rows[*table]
                        .iter()
                        .all(|row| !row.contains("bravo") || b_now[*table].contains(row))
            });
            prop_assert!(
                changed.is_empty() || (subscribing && kept),
                "B's {:?} changed: {}",
                changed,
                outcome
            );
            let subscribed = !changed.is_empty();
            *b_rows = b_now;
            subscribed
        };
        if subscribed {
            let fresh = ids(db, &self.b.owner.tenant_id).await;
            *self.b_ids.lock().unwrap() = fresh;
        }
        self.heal().await;
        Ok(())
    }
}

fn truncate(text: &str) -> &str {
    let end = text.char_indices().nth(2000).map_or(text.len(), |(i, _)| i);
    &text[..end]
}

fn run(cases: u32) {
    on_both_dialects(cases, |runtime, test_db, cases| {
        let started = std::time::Instant::now();
        let world = runtime.block_on(World::new(test_db.db()));
        let set_up = started.elapsed();
        // No shrinking: a shrunk case runs on data the failing one changed.
        let mut runner = TestRunner::new(Config {
            cases,
            failure_persistence: None,
            max_shrink_iters: 0,
            ..Config::default()
        });
        let result = runner.run(&case(), |case| {
            let checked = runtime.block_on(world.check(&case));
            if let Err(err) = &checked {
                world
                    .first_failure
                    .lock()
                    .unwrap()
                    .get_or_insert_with(|| format!("{err}\n{case:?}"));
            }
            checked
        });
        if result.is_err() {
            let first = world
                .first_failure
                .lock()
                .unwrap()
                .clone()
                .unwrap_or_default();
            panic!("{:?}: {first}", test_db.db().dialect());
        }
        let tally = world.tally.lock().unwrap();
        eprintln!(
            "{:?}: set up in {set_up:.1?}, {cases} cases in {:.1?}: {tally:?}",
            test_db.db().dialect(),
            started.elapsed() - set_up
        );
        // A run that reached nothing proves nothing (about a tenth of the calls are writes let through).
        let share = |n: usize| n * 64 >= cases as usize;
        assert!(
            share(tally.writes)
                && share(tally.reads)
                && share(tally.refused)
                && share(tally.with_b_ids)
                && tally.b_public_pages > 0,
            "too few calls of some kind: {tally:?}"
        );
    });
}

#[test]
fn calls_as_tenant_a_never_reach_tenant_b() {
    run(256);
}

/// Found by `calls_as_tenant_a_never_reach_tenant_b` on PostgreSQL: an id or
/// text holding a NUL byte (`/api/status-pages/%00/groups/…`) was a 500,
/// since PostgreSQL refuses the byte that SQLite stores.
#[tokio::test]
async fn a_nul_byte_in_an_id_or_a_name_is_the_clients_error() {
    for test_db in TestDb::both_migrated().await {
        let api = Api::new(crate::helpers::state(test_db.db()));
        let owner = api.signup("alpha", "ann@alpha.example").await;
        let token = Some(owner.access.as_str());
        let path = "/api/status-pages/%00/groups/01a23c22-c11e-72fa-a967-73d60b051e79";
        let reply = api.call(Method::DELETE, path, token, None).await;
        assert!(reply.status.is_client_error(), "{path}: {reply:?}");
        let reply = api.get("/api/monitors/a%00b", token).await;
        assert!(reply.status.is_client_error(), "{reply:?}");
        let reply = api
            .post(
                "/api/monitors",
                token,
                json!({ "name": "a\u{0}b", "kind": "tcp", "host": "db.example", "port": 1 }),
            )
            .await;
        // SQLite stores the name as given; PostgreSQL cannot, and says so.
        assert!(!reply.status.is_server_error(), "{reply:?}");
    }
}
