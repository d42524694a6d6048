//! SVG badges (shields.io's flat look): the page's overall state, or one
//! component's state with its 90-day uptime.

use super::feeds::escape;
use super::model::{ComponentStatus, Impact};

/// Grey, for "unknown" and "unavailable".
pub const GREY: &str = "#9f9f9f";

/// The colour of an overall indicator.
pub fn indicator_color(indicator: Impact) -> &'static str {
    match indicator {
        Impact::None => "#2ea44f",
        Impact::Maintenance => "#0969da",
        Impact::Minor => "#d29922",
        Impact::Major => "#e36209",
        Impact::Critical => "#cf222e",
    }
}

/// The colour of a component status.
pub fn status_color(status: ComponentStatus) -> &'static str {
    indicator_color(status.indicator())
}

/// Rough width of `text` in 11 px Verdana, enough to size the boxes.
fn width(text: &str) -> usize {
    text.chars()
        .map(|c| match c {
            'i' | 'l' | 'j' | '.' | ',' | ':' | '\'' | '|' | ' ' => 4,
            'm' | 'w' | 'M' | 'W' | '%' => 10,
            c if c.is_uppercase() => 8,
            _ => 7,
        })
        .sum::<usize>()
        + 12
}

/// A two-part badge: `label` on grey, `message` on `color`.
pub fn render(label: &str, message: &str, color: &str) -> String {
    let (lw, mw) = (width(label), width(message));
    let total = lw + mw;
    let (label, message) = (escape(label), escape(message));
    format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{total}\" height=\"20\" role=\"img\" aria-label=\"{label}: {message}\">\
<title>{label}: {message}</title>\
<rect width=\"{lw}\" height=\"20\" fill=\"#555\"/>\
<rect x=\"{lw}\" width=\"{mw}\" height=\"20\" fill=\"{color}\"/>\
<g fill=\"#fff\" text-anchor=\"middle\" font-family=\"Verdana,Geneva,DejaVu Sans,sans-serif\" font-size=\"11\">\
<text x=\"{lx}\" y=\"14\">{label}</text><text x=\"{mx}\" y=\"14\">{message}</text></g></svg>",
        lx = lw / 2,
        mx = lw + mw / 2,
    )
}
