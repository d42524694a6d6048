//! The public status page as server-rendered HTML (maud: templates checked at
//! compile time, escaped by default). It reads fully without JavaScript and
//! without images; the one stylesheet is inline and allowed by its hash in
//! the page's own Content-Security-Policy.

use std::sync::LazyLock;

use base64::Engine;
use maud::{DOCTYPE, Markup, PreEscaped, html};
use sha2::{Digest, Sha256};

use super::dates::{human, rfc3339};
use super::incidents::PublicIncident;
use super::model::{ComponentStatus, Impact, Kind, status_label};
use super::view::{ComponentView, Day, PageView, maintenance_active};

/// The page's CSS.
pub const STYLE: &str = include_str!("style.css");

/// `Content-Security-Policy` of every HTML answer: nothing but the inline
/// stylesheet (by hash) and images (the tenant's logo may live anywhere).
pub static CSP: LazyLock<String> = LazyLock::new(|| {
    let hash = base64::engine::general_purpose::STANDARD.encode(Sha256::digest(STYLE.as_bytes()));
    format!(
        "default-src 'none'; style-src 'sha256-{hash}'; img-src * data:; base-uri 'none'; \
         form-action 'self'; frame-ancestors 'none'"
    )
});

/// Incidents per page of history.
pub const HISTORY_PAGE: i64 = 10;

/// The frame of every HTML answer: head with the inline stylesheet, the
/// organization header when `view` is given, and the footer.
pub(crate) fn layout(title: &str, view: Option<&PageView>, body: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                meta name="color-scheme" content="light dark";
                title { (title) }
                @if view.is_some() {
                    link rel="alternate" type="application/atom+xml" title="Incident history (Atom)" href="/status/history.atom";
                    link rel="alternate" type="application/rss+xml" title="Incident history (RSS)" href="/status/history.rss";
                }
                style { (PreEscaped(STYLE)) }
            }
            body {
                a.skip href="#main" { "Skip to content" }
                @if let Some(view) = view {
                    header {
                        @if let Some(logo) = &view.page.logo_url {
                            img src=(logo) alt=(format!("{} logo", view.tenant_name));
                        }
                        p.org { (view.tenant_name) }
                    }
                }
                main #main { (body) }
                footer {
                    @if view.is_some() {
                        p {
                            "Subscribe: " a href="/status/history.atom" { "Atom" } " · " a href="/status/history.rss" { "RSS" }
                            " · " a href="/api/v2/summary.json" { "JSON API" }
                        }
                    }
                    p { "Powered by StatusWatch" }
                }
            }
        }
    }
}

fn time(ms: i64) -> Markup {
    html! { time datetime=(rfc3339(ms)) { (human(ms)) } }
}

fn text(body: &str) -> Markup {
    html! {
        @for line in body.lines().map(str::trim).filter(|l| !l.is_empty()) {
            p { (line) }
        }
    }
}

fn status(status: ComponentStatus) -> Markup {
    html! { span class=(format!("st s-{}", status.as_str())) { (status.label()) } }
}

fn impact_label(impact: Impact) -> &'static str {
    match impact {
        Impact::None => "No impact",
        Impact::Maintenance => "Maintenance",
        Impact::Minor => "Minor impact",
        Impact::Major => "Major impact",
        Impact::Critical => "Critical impact",
    }
}

/// Bar class of a day: no data, full, or by how much uptime fell short.
fn bar_class(day: &Day) -> &'static str {
    match day.uptime() {
        None => "n",
        Some(u) if u >= 100.0 => "o",
        Some(u) if u >= 99.0 => "m",
        Some(u) if u >= 95.0 => "p",
        Some(_) => "x",
    }
}

fn percent(value: f64) -> String {
    let text = format!("{value:.3}");
    text.trim_end_matches('0').trim_end_matches('.').to_owned()
}

fn bar_text(day: &Day) -> String {
    let when = human(day.start);
    let when = when.split(',').next().unwrap_or_default();
    match day.uptime() {
        None => format!("{when}: no data"),
        Some(u) => format!("{when}: {}% uptime", percent(u)),
    }
}

fn component(c: &ComponentView, grouped: bool) -> Markup {
    let heading = html! { (c.component.name) };
    html! {
        li.comp id=(format!("c-{}", c.component.id)) {
            div.row {
                @if grouped { h4 { (heading) } } @else { h3 { (heading) } }
                (status(c.status))
            }
            @if !c.component.description.is_empty() {
                p.desc { (c.component.description) }
            }
            @if c.component.showcase && !c.days.is_empty() {
                ol.bars aria-label=(format!("{}: daily uptime, last 90 days", c.component.name)) {
                    @for day in &c.days {
                        li class=(bar_class(day)) { span { (bar_text(day)) } }
                    }
                }
                p.up.mute {
                    @match c.uptime {
                        Some(u) => { (percent(u)) "% uptime over the last 90 days" }
                        None => { "No checks in the last 90 days" }
                    }
                }
            }
        }
    }
}

fn incident_summary(i: &PublicIncident, now: i64, heading: u8) -> Markup {
    let link = html! { a href=(format!("/status/incidents/{}", i.id)) { (i.title) } };
    html! {
        article {
            @if heading == 3 { h3 { (link) } } @else { h4 { (link) } }
            p.mute {
                (impact_label(i.impact))
                @if let (Some(from), Some(until)) = (i.scheduled_for, i.scheduled_until) {
                    " · " (time(from)) " to " (time(until))
                    @if i.kind == Kind::Maintenance && i.is_open() && maintenance_active(i, now) { " · under way" }
                } @else {
                    " · started " (time(i.started_at))
                }
            }
            @if let Some(latest) = i.updates.first() {
                p { strong { (status_label(&latest.status)) } " — " (time(latest.created_at)) }
                (text(&latest.body))
            }
        }
    }
}

/// The status page: overall state, open incidents and maintenance,
/// components with bars, and one page of the incident history.
pub fn page(view: &PageView, history: &[PublicIncident], history_page: i64, more: bool) -> String {
    let ungrouped: Vec<&ComponentView> = view
        .components
        .iter()
        .filter(|c| c.visible() && c.component.group_id.is_none())
        .collect();
    let body = html! {
        h1 { (view.page.title) }
        @if !view.page.description.is_empty() {
            div.desc { (text(&view.page.description)) }
        }
        section aria-labelledby="overall" {
            h2 #overall class=(format!("overall i-{}", view.indicator.as_str())) { (view.indicator.description()) }
            p.mute { "Last updated " (time(view.now)) }
        }
        @if !view.incidents.is_empty() {
            section aria-labelledby="active" {
                h2 #active { "Active incidents" }
                @for i in &view.incidents { (incident_summary(i, view.now, 3)) }
            }
        }
        @if !view.maintenance.is_empty() {
            section aria-labelledby="maintenance" {
                h2 #maintenance { "Scheduled maintenance" }
                @for m in &view.maintenance { (incident_summary(m, view.now, 3)) }
            }
        }
        section aria-labelledby="components" {
            h2 #components { "Components" }
            @if view.components.is_empty() {
                p.mute { "No components yet." }
            }
            @for g in &view.groups {
                @let members: Vec<&ComponentView> = view.components.iter()
                    .filter(|c| c.visible() && c.component.group_id.as_deref() == Some(g.group.id.as_str()))
                    .collect();
                @if !members.is_empty() {
                    section.card aria-labelledby=(format!("g-{}", g.group.id)) {
                        div.row {
                            h3 id=(format!("g-{}", g.group.id)) { (g.group.name) }
                            (status(g.status))
                        }
                        ul.comps { @for c in members { (component(c, true)) } }
                    }
                }
            }
            @if !ungrouped.is_empty() {
                ul.comps { @for c in &ungrouped { (component(c, false)) } }
            }
        }
        section aria-labelledby="history" {
            h2 #history { "Incident history" }
            @if history.is_empty() {
                p.mute { "No incidents reported." }
            }
            @for i in history { (incident_summary(i, view.now, 3)) }
            @if history_page > 1 || more {
                nav.pages aria-label="Incident history pages" {
                    @if history_page > 1 {
                        a rel="prev" href=(format!("/status/?page={}#history", history_page - 1)) { "Newer incidents" }
                    }
                    @if more {
                        a rel="next" href=(format!("/status/?page={}#history", history_page + 1)) { "Older incidents" }
                    }
                }
            }
        }
        (subscribe_form(view))
    };
    layout(&format!("{} status", view.page.title), Some(view), body).into_string()
}

/// The sign-up form for updates by mail: a plain form post (no script, and
/// nothing per visitor, since shared caches keep this page), with a choice
/// of the visible components; choosing none means all.
fn subscribe_form(view: &PageView) -> Markup {
    let visible: Vec<&ComponentView> = view.components.iter().filter(|c| c.visible()).collect();
    html! {
        section aria-labelledby="subscribe" {
            h2 #subscribe { "Get updates" }
            form method="post" action="/status/subscribe" {
                p {
                    label for="subscribe-email" { "Email address" } " "
                    input #subscribe-email type="email" name="email" required autocomplete="email" maxlength="254";
                }
                @if !visible.is_empty() {
                    fieldset {
                        legend { "Only these components (choose none for all)" }
                        @for c in &visible {
                            label { input type="checkbox" name="components" value=(c.component.id); " " (c.component.name) }
                            " "
                        }
                    }
                }
                p { button type="submit" { "Subscribe" } }
            }
            p.mute {
                "We mail you a link to confirm; every mail has a one-click unsubscribe link. "
                "The " a href="/status/history.atom" { "Atom" } " and " a href="/status/history.rss" { "RSS" }
                " feeds need no sign-up."
            }
        }
    }
}

/// One incident or maintenance with every update.
pub fn incident(view: &PageView, i: &PublicIncident) -> String {
    let names: Vec<&str> = view
        .components
        .iter()
        .filter(|c| i.component_ids.contains(&c.component.id))
        .map(|c| c.component.name.as_str())
        .collect();
    let body = html! {
        p { a href="/status/" { "← " (view.page.title) } }
        h1 { (i.title) }
        p.mute {
            (impact_label(i.impact)) " · " (status_label(&i.status))
            @if let (Some(from), Some(until)) = (i.scheduled_for, i.scheduled_until) {
                " · scheduled " (time(from)) " to " (time(until))
            }
        }
        @if !names.is_empty() {
            p { "Affected: " (names.join(", ")) }
        }
        section aria-labelledby="updates" {
            h2 #updates { "Updates" }
            ol.updates {
                @for u in &i.updates {
                    li {
                        h3 { (status_label(&u.status)) }
                        (text(&u.body))
                        p.mute { (time(u.created_at)) }
                    }
                }
            }
        }
    };
    layout(
        &format!("{} · {} status", i.title, view.page.title),
        Some(view),
        body,
    )
    .into_string()
}

/// What a suspended organization's page shows: that, and nothing else.
pub fn suspended(tenant_name: &str) -> String {
    let body = html! {
        h1 { (tenant_name) " status page is unavailable" }
        p { "This organization's account is suspended." }
    };
    layout("Status page unavailable", None, body).into_string()
}

/// Unknown host, or an organization without a status page.
pub fn not_found(message: &str) -> String {
    let body = html! {
        h1 { "Page not found" }
        p { (message) }
    };
    layout("Page not found", None, body).into_string()
}
