//! The small HTML pages of the subscriber routes: "check your mail", the
//! confirm and unsubscribe buttons (links from mails only show a button: mail
//! scanners open links, people press buttons), their results, and problems.

use axum::http::StatusCode;
use maud::html;

use super::html::layout;

/// After a subscription by form.
pub fn check_mail(message: &str) -> String {
    let body = html! {
        h1 { "Check your mail" }
        p { (message) }
        p { a href="/status/" { "Back to the status page" } }
    };
    layout("Check your mail", None, body).into_string()
}

/// An error of a form post or a link, for people.
pub fn problem(status: StatusCode, message: &str) -> String {
    let title = match status {
        StatusCode::TOO_MANY_REQUESTS => "Too many requests",
        StatusCode::NOT_FOUND => "Page not found",
        StatusCode::UNPROCESSABLE_ENTITY => "Please check the form",
        s if s.is_server_error() => "Something went wrong",
        _ => "This did not work",
    };
    let body = html! {
        h1 { (title) }
        p { (message) }
        p { a href="/status/" { "Back to the status page" } }
    };
    layout(title, None, body).into_string()
}

/// The page a confirmation link opens: a button that POSTs the token.
pub fn confirm_form(page_title: &str, token: &str) -> String {
    let body = html! {
        h1 { "Confirm your subscription" }
        p { "Updates of " strong { (page_title) } " will be mailed to you." }
        form method="post" action=(format!("/status/subscribe/confirm?token={token}")) {
            button type="submit" { "Confirm subscription" }
        }
    };
    layout("Confirm your subscription", None, body).into_string()
}

/// After confirming.
pub fn confirmed(page_title: &str) -> String {
    let body = html! {
        h1 { "You are subscribed" }
        p { "You will get a mail when " strong { (page_title) } " reports an incident or maintenance. Every mail has a link to unsubscribe." }
        p { a href="/status/" { "Back to the status page" } }
    };
    layout("Subscribed", None, body).into_string()
}

/// The page an unsubscribe link opens: a one-click button.
pub fn unsubscribe_form(page_title: &str, token: &str) -> String {
    let body = html! {
        h1 { "Unsubscribe" }
        p { "Stop mails about " strong { (page_title) } "?" }
        form method="post" action=(format!("/status/unsubscribe?token={token}")) {
            input type="hidden" name="List-Unsubscribe" value="One-Click";
            button type="submit" { "Unsubscribe" }
        }
    };
    layout("Unsubscribe", None, body).into_string()
}

/// After unsubscribing.
pub fn unsubscribed(page_title: &str) -> String {
    let body = html! {
        h1 { "You are unsubscribed" }
        p { "You will get no more mail about " strong { (page_title) } "." }
        p { a href="/status/" { "Back to the status page" } }
    };
    layout("Unsubscribed", None, body).into_string()
}
