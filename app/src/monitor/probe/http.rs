//! HTTP(S) checks: one request through the guard's resolver, then the
//! conditions on status, body, JSON and latency.

use std::net::IpAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use reqwest::redirect::Policy;

use super::{Outcome, ProbeResult, ProbeSetupError, elapsed_ms};
use crate::monitor::kinds::HttpCheck;
use crate::net_guard::{Guard, GuardResolver};

const MAX_REDIRECTS: usize = 10;

/// One client per combination of certificate checking and redirect following.
#[derive(Clone)]
pub(super) struct Clients {
    guard: Arc<Guard>,
    /// `[verify][follow]`.
    clients: [[reqwest::Client; 2]; 2],
}

impl Clients {
    pub(super) fn new(guard: Arc<Guard>) -> Result<Self, ProbeSetupError> {
        let build = |verify: bool, follow: bool| {
            let redirect_guard = guard.clone();
            let policy = if follow {
                // Redirects to names go through the resolver (and its check);
                // redirects to IP literals are checked here.
                Policy::custom(move |attempt| {
                    if attempt.previous().len() >= MAX_REDIRECTS {
                        return attempt.error(format!("more than {MAX_REDIRECTS} redirects"));
                    }
                    let literal = attempt.url().host_str().and_then(|h| {
                        h.trim_start_matches('[')
                            .trim_end_matches(']')
                            .parse::<IpAddr>()
                            .ok()
                    });
                    match literal.map(|ip| redirect_guard.check("redirect target", ip)) {
                        Some(Err(err)) => attempt.error(err),
                        _ => attempt.follow(),
                    }
                })
            } else {
                Policy::none()
            };
            reqwest::Client::builder()
                .dns_resolver(Arc::new(GuardResolver(guard.clone())))
                .redirect(policy)
                .danger_accept_invalid_certs(!verify)
                // A fresh connection per check: a pooled one would hide a dead listener.
                .pool_max_idle_per_host(0)
                .no_proxy()
                .user_agent(concat!(
                    "StatusWatch/",
                    env!("CARGO_PKG_VERSION"),
                    " (uptime monitor)"
                ))
                .build()
                .map_err(|e| ProbeSetupError(e.to_string()))
        };
        Ok(Self {
            guard: guard.clone(),
            clients: [
                [build(false, false)?, build(false, true)?],
                [build(true, false)?, build(true, true)?],
            ],
        })
    }

    /// Verifies certificates, follows no redirects.
    pub(super) fn strict(&self) -> &reqwest::Client {
        &self.clients[1][0]
    }

    pub(super) async fn probe(
        &self,
        check: &HttpCheck,
        timeout: Duration,
        max_body: usize,
    ) -> ProbeResult {
        let url = &check.url;
        // reqwest does not resolve IP literals, so the guard sees them here.
        if let Some(host) = url.host_str() {
            let bare = host.trim_start_matches('[').trim_end_matches(']');
            if let Ok(ip) = bare.parse::<IpAddr>()
                && let Err(err) = self.guard.check(host, ip)
            {
                return ProbeResult::down(err.to_string(), None);
            }
        }
        let client =
            &self.clients[usize::from(check.verify_tls)][usize::from(check.follow_redirects)];
        let method =
            reqwest::Method::from_bytes(check.method.as_bytes()).unwrap_or(reqwest::Method::GET);
        let mut request = client.request(method, url.clone()).timeout(timeout);
        for (name, value) in &check.headers {
            request = request.header(name, value);
        }
        if let Some(body) = &check.body {
            request = request.body(body.clone());
        }
        let start = Instant::now();
        let mut response = match request.send().await {
            Ok(response) => response,
            Err(err) => return ProbeResult::down(describe(&err, timeout), Some(elapsed_ms(start))),
        };
        let status = response.status().as_u16();
        let status_ok = if check.expected_status.is_empty() {
            (200..300).contains(&status)
        } else {
            check.expected_status.contains(&status)
        };
        let needs_body =
            check.keyword.is_some() || check.keyword_absent.is_some() || check.json.is_some();
        let mut body = Vec::new();
        if needs_body && status_ok {
            loop {
                match response.chunk().await {
                    Ok(Some(chunk)) => {
                        let room = max_body.saturating_sub(body.len());
                        body.extend_from_slice(&chunk[..chunk.len().min(room)]);
                        if body.len() >= max_body {
                            break;
                        }
                    }
                    Ok(None) => break,
                    Err(err) => {
                        return ProbeResult::down(describe(&err, timeout), Some(elapsed_ms(start)));
                    }
                }
            }
        }
        let latency = elapsed_ms(start);
        let mut result = judge(check, status, status_ok, &body);
        result.latency_ms = Some(latency);
        if result.outcome == Outcome::Up
            && let Some(max) = check.max_latency_ms
            && u64::try_from(latency).unwrap_or(0) > max
        {
            result.outcome = Outcome::Degraded;
            result.error = Some(format!(
                "answered in {latency} ms, above the {max} ms threshold"
            ));
        }
        result
    }
}

/// Status, keyword and JSON conditions on an answer.
fn judge(check: &HttpCheck, status: u16, status_ok: bool, body: &[u8]) -> ProbeResult {
    let mut result = ProbeResult {
        outcome: Outcome::Up,
        latency_ms: None,
        status_code: Some(i64::from(status)),
        error: None,
    };
    let fail = |mut result: ProbeResult, reason: String| {
        result.outcome = Outcome::Down;
        result.error = Some(reason);
        result
    };
    if !status_ok {
        let wanted = if check.expected_status.is_empty() {
            "2xx".to_owned()
        } else {
            check
                .expected_status
                .iter()
                .map(u16::to_string)
                .collect::<Vec<_>>()
                .join(", ")
        };
        return fail(result, format!("status {status}, expected {wanted}"));
    }
    let text = String::from_utf8_lossy(body);
    if let Some(keyword) = &check.keyword
        && !text.contains(keyword.as_str())
    {
        return fail(result, format!("keyword `{keyword}` not found"));
    }
    if let Some(keyword) = &check.keyword_absent
        && text.contains(keyword.as_str())
    {
        return fail(result, format!("keyword `{keyword}` found"));
    }
    if let Some((path, want)) = &check.json {
        let Ok(doc) = serde_json::from_slice::<serde_json::Value>(body) else {
            return fail(result, "the body is not JSON".to_owned());
        };
        match path.find(&doc) {
            Some(found) if found == want => {}
            Some(found) => {
                result = fail(result, format!("JSON path holds {found}, expected {want}"));
            }
            None => result = fail(result, "JSON path not found in the body".to_owned()),
        }
    }
    result
}

/// A request error as one line: the innermost causes say what happened.
fn describe(err: &reqwest::Error, timeout: Duration) -> String {
    if err.is_timeout() {
        return format!("timed out after {} s", timeout.as_secs_f64());
    }
    let mut parts = Vec::new();
    let mut source: Option<&dyn std::error::Error> = Some(err);
    while let Some(e) = source {
        let text = e.to_string();
        if !parts.iter().any(|p: &String| p.contains(&text)) {
            parts.push(text);
        }
        source = e.source();
    }
    // Strip the URL reqwest repeats in its own message.
    parts.join(": ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::monitor::kinds::JsonPath;

    fn check() -> HttpCheck {
        HttpCheck {
            url: url::Url::parse("http://x").unwrap(),
            method: "GET".into(),
            headers: Default::default(),
            body: None,
            expected_status: vec![],
            keyword: None,
            keyword_absent: None,
            json: None,
            max_latency_ms: None,
            follow_redirects: true,
            verify_tls: true,
        }
    }

    #[test]
    fn answers_are_judged() {
        assert_eq!(judge(&check(), 200, true, b"").outcome, Outcome::Up);
        let wrong = judge(
            &HttpCheck {
                expected_status: vec![200, 204],
                ..check()
            },
            500,
            false,
            b"",
        );
        assert_eq!(
            wrong.error.as_deref(),
            Some("status 500, expected 200, 204")
        );
        let keyword = HttpCheck {
            keyword: Some("ok".into()),
            ..check()
        };
        assert_eq!(judge(&keyword, 200, true, b"all ok").outcome, Outcome::Up);
        assert_eq!(
            judge(&keyword, 200, true, b"failed").error.as_deref(),
            Some("keyword `ok` not found")
        );
        let absent = HttpCheck {
            keyword_absent: Some("error".into()),
            ..check()
        };
        assert_eq!(
            judge(&absent, 200, true, b"an error").outcome,
            Outcome::Down
        );
        let json = HttpCheck {
            json: Some((
                JsonPath::parse("$.status").unwrap(),
                serde_json::json!("ok"),
            )),
            ..check()
        };
        assert_eq!(
            judge(&json, 200, true, br#"{"status":"ok"}"#).outcome,
            Outcome::Up
        );
        assert_eq!(
            judge(&json, 200, true, br#"{"status":"bad"}"#)
                .error
                .as_deref(),
            Some(r#"JSON path holds "bad", expected "ok""#)
        );
        assert_eq!(
            judge(&json, 200, true, b"<html>").error.as_deref(),
            Some("the body is not JSON")
        );
    }
}
