//! What a subscriber receives: the confirmation mail, announcement mails
//! (with RFC 8058 one-click unsubscribe headers and the signed link in the
//! body), and the JSON of webhook calls.

use serde_json::json;

use super::notify::Notice;
use crate::mail::{Mail, escape_html};
use crate::status_page::dates::human;
use crate::status_page::model::status_label;

/// Where a subscriber's links lead.
pub(super) struct Links {
    /// `scheme://host[:port]` of the page the subscriber used.
    pub origin: String,
    /// The signed token of its unsubscribe link.
    pub unsubscribe_token: String,
}

impl Links {
    pub(super) fn unsubscribe(&self) -> String {
        format!(
            "{}/status/unsubscribe?token={}",
            self.origin, self.unsubscribe_token
        )
    }

    fn page(&self) -> String {
        format!("{}/status/", self.origin)
    }

    fn incident(&self, id: &str) -> String {
        format!("{}/status/incidents/{id}", self.origin)
    }
}

/// The mail that asks an address to confirm its subscription.
pub(super) fn confirmation(to: &str, page_title: &str, origin: &str, token: &str) -> Mail {
    let link = format!("{origin}/status/subscribe/confirm?token={token}");
    let text = format!(
        "Someone, probably you, asked for updates of {page_title} ({origin}/status/) at this address.\n\n\
         Confirm the subscription: {link}\n\n\
         If you did not ask for this, ignore this mail: without confirmation nothing more is sent.\n"
    );
    let html = format!(
        "<p>Someone, probably you, asked for updates of <a href=\"{page}\">{title}</a> at this address.</p>\
         <p><a href=\"{link}\">Confirm the subscription</a></p>\
         <p>If you did not ask for this, ignore this mail: without confirmation nothing more is sent.</p>",
        page = escape_html(&format!("{origin}/status/")),
        title = escape_html(page_title),
        link = escape_html(&link),
    );
    Mail {
        to: to.to_owned(),
        subject: format!("Confirm your subscription to {page_title}"),
        text,
        html,
    }
}

fn label(event: &str) -> &'static str {
    match event {
        "incident.created" => "New incident",
        "incident.updated" => "Incident update",
        "incident.resolved" => "Resolved",
        "maintenance.scheduled" => "Maintenance scheduled",
        "maintenance.started" => "Maintenance started",
        _ => "Update",
    }
}

/// Lines shared by text and HTML: status, affected components, schedule.
fn facts(n: &Notice) -> Vec<String> {
    let mut lines = vec![format!("Status: {}", status_label(&n.status))];
    if !n.component_names.is_empty() {
        lines.push(format!("Affected: {}", n.component_names.join(", ")));
    }
    if let (Some(from), Some(until)) = (n.scheduled_for, n.scheduled_until) {
        lines.push(format!("Scheduled: {} to {}", human(from), human(until)));
    }
    lines
}

/// The mail of one announcement, and its extra header fields.
pub(super) fn announcement(
    to: &str,
    n: &Notice,
    links: &Links,
) -> (Mail, Vec<(&'static str, String)>) {
    let unsubscribe = links.unsubscribe();
    let details = links.incident(&n.incident_id);
    let facts = facts(n);
    let text = format!(
        "{title}\n{facts}\n\n{body}\n\nDetails: {details}\n\n--\n\
         You get this mail because you subscribed to {page} ({page_url}).\n\
         Unsubscribe with one click: {unsubscribe}\n",
        title = n.title,
        facts = facts.join("\n"),
        body = n.body,
        page = n.page_title,
        page_url = links.page(),
    );
    let html = format!(
        "<h2>{title}</h2><p>{facts}</p>{body}<p><a href=\"{details}\">Details</a></p><hr>\
         <p>You get this mail because you subscribed to <a href=\"{page_url}\">{page}</a>. \
         <a href=\"{unsubscribe}\">Unsubscribe</a></p>",
        title = escape_html(&n.title),
        facts = facts
            .iter()
            .map(|l| escape_html(l))
            .collect::<Vec<_>>()
            .join("<br>"),
        body = n
            .body
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .map(|l| format!("<p>{}</p>", escape_html(l)))
            .collect::<String>(),
        details = escape_html(&details),
        page_url = escape_html(&links.page()),
        page = escape_html(&n.page_title),
        unsubscribe = escape_html(&unsubscribe),
    );
    let mail = Mail {
        to: to.to_owned(),
        subject: format!("[{}] {}: {}", n.page_title, label(&n.event), n.title),
        text,
        html,
    };
    let headers = vec![
        ("List-Unsubscribe", format!("<{unsubscribe}>")),
        (
            "List-Unsubscribe-Post",
            "List-Unsubscribe=One-Click".to_owned(),
        ),
        ("Auto-Submitted", "auto-generated".to_owned()),
    ];
    (mail, headers)
}

/// The JSON body of a webhook call.
pub(super) fn webhook(n: &Notice, links: &Links) -> String {
    json!({
        "event": n.event,
        "page": { "id": n.page_id, "title": n.page_title, "url": links.page() },
        "incident": {
            "id": n.incident_id,
            "kind": n.kind,
            "title": n.title,
            "impact": n.impact,
            "status": n.status,
            "url": links.incident(&n.incident_id),
            "component_ids": n.component_ids,
            "component_names": n.component_names,
            "scheduled_for": n.scheduled_for,
            "scheduled_until": n.scheduled_until,
        },
        "update": { "body": n.body },
        "at": n.at,
        "unsubscribe_url": links.unsubscribe(),
    })
    .to_string()
}
