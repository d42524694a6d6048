//! Atom (RFC 4287) and RSS 2.0 feeds of a page's incidents and maintenance,
//! newest first, for readers that need no sign-up.

use std::fmt::Write;

use super::dates::{rfc2822, rfc3339};
use super::incidents::PublicIncident;
use super::model::status_label;
use super::statuspage_json::Urls;
use super::view::PageView;

/// Escapes text for XML content and attribute values.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            // Not allowed in XML 1.0; writes refuse them, this guards old rows.
            c if c.is_control() && !matches!(c, '\n' | '\r' | '\t') => {}
            c => out.push(c),
        }
    }
    out
}

fn link(urls: &Urls, i: &PublicIncident) -> String {
    format!("{}/status/incidents/{}", urls.origin, i.id)
}

/// The text of an entry: each update, newest first, with its status and time.
fn summary(i: &PublicIncident) -> String {
    let mut text = String::new();
    for u in &i.updates {
        let _ = write!(
            text,
            "{} ({}): {}\n\n",
            status_label(&u.status),
            rfc3339(u.created_at),
            u.body
        );
    }
    text.trim_end().to_owned()
}

/// The Atom feed; `updated` is the newest change of the page or an entry.
pub fn atom(view: &PageView, urls: &Urls, items: &[PublicIncident]) -> String {
    let updated = items
        .iter()
        .map(|i| i.updated_at)
        .max()
        .unwrap_or(0)
        .max(view.updated_at);
    let mut xml = String::from(
        "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<feed xmlns=\"http://www.w3.org/2005/Atom\" xml:lang=\"en\">\n",
    );
    let _ = write!(
        xml,
        "<id>{page}</id>\n<title>{title} status history</title>\n<updated>{updated}</updated>\n\
         <link rel=\"alternate\" type=\"text/html\" href=\"{page}\"/>\n\
         <link rel=\"self\" type=\"application/atom+xml\" href=\"{origin}/status/history.atom\"/>\n\
         <author><name>{tenant}</name></author>\n",
        page = escape(&urls.page),
        title = escape(&view.page.title),
        updated = rfc3339(updated),
        origin = escape(&urls.origin),
        tenant = escape(&view.tenant_name),
    );
    for i in items {
        let _ = write!(
            xml,
            "<entry>\n<id>{link}</id>\n<title>{title}</title>\n<published>{published}</published>\n\
             <updated>{updated}</updated>\n<link rel=\"alternate\" type=\"text/html\" href=\"{link}\"/>\n\
             <category term=\"{status}\"/>\n<summary type=\"text\">{summary}</summary>\n</entry>\n",
            link = escape(&link(urls, i)),
            title = escape(&i.title),
            published = rfc3339(i.created_at),
            updated = rfc3339(i.updated_at),
            status = escape(&i.status),
            summary = escape(&summary(i)),
        );
    }
    xml.push_str("</feed>\n");
    xml
}

/// The RSS 2.0 feed.
pub fn rss(view: &PageView, urls: &Urls, items: &[PublicIncident]) -> String {
    let updated = items
        .iter()
        .map(|i| i.updated_at)
        .max()
        .unwrap_or(0)
        .max(view.updated_at);
    let mut xml = String::from(
        "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<rss version=\"2.0\" xmlns:atom=\"http://www.w3.org/2005/Atom\">\n<channel>\n",
    );
    let _ = write!(
        xml,
        "<title>{title} status history</title>\n<link>{page}</link>\n\
         <description>Incidents and maintenance of {title}</description>\n<language>en</language>\n\
         <lastBuildDate>{updated}</lastBuildDate>\n\
         <atom:link rel=\"self\" type=\"application/rss+xml\" href=\"{origin}/status/history.rss\"/>\n",
        title = escape(&view.page.title),
        page = escape(&urls.page),
        updated = rfc2822(updated),
        origin = escape(&urls.origin),
    );
    for i in items {
        let _ = write!(
            xml,
            "<item>\n<title>{title}</title>\n<link>{link}</link>\n<guid isPermaLink=\"true\">{link}</guid>\n\
             <pubDate>{published}</pubDate>\n<category>{status}</category>\n<description>{summary}</description>\n</item>\n",
            title = escape(&i.title),
            link = escape(&link(urls, i)),
            published = rfc2822(i.created_at),
            status = escape(&i.status),
            summary = escape(&summary(i)),
        );
    }
    xml.push_str("</channel>\n</rss>\n");
    xml
}

#[cfg(test)]
mod tests {
    use super::escape;

    #[test]
    fn markup_and_control_characters_are_escaped() {
        assert_eq!(escape("a<b>&\"c'\u{1}\n"), "a&lt;b&gt;&amp;&quot;c&apos;\n");
    }
}
