//! Rendering and sending one alert to one channel.

use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use hmac::{Hmac, Mac};
use sha2::Sha256;

use super::AlertPayload;
use super::channels::StoredChannel;
use crate::mail::{Mail, Mailer, escape_html};
use crate::net_guard::Guard;

/// Header carrying `t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">`.
pub const SIGNATURE_HEADER: &str = "x-statuswatch-signature";

/// Why an alert was not delivered.
#[derive(Debug, Clone, thiserror::Error)]
pub enum SendError {
    /// The channel's settings are unusable.
    #[error("channel misconfigured: {0}")]
    Config(String),
    /// The endpoint refused or could not be reached.
    #[error("{0}")]
    Failed(String),
}

/// Sends alerts: mail through the app's mailer, webhooks through the SSRF guard.
#[derive(Debug, Clone)]
pub struct Sender {
    mailer: Mailer,
    client: reqwest::Client,
    guard: Arc<Guard>,
}

impl Sender {
    /// A sender over `mailer` and the guarded `client`.
    pub fn new(mailer: Mailer, client: reqwest::Client, guard: Arc<Guard>) -> Self {
        Self {
            mailer,
            client,
            guard,
        }
    }

    /// Delivers `payload` to `channel`.
    pub async fn send(
        &self,
        channel: &StoredChannel,
        payload: &AlertPayload,
    ) -> Result<(), SendError> {
        let settings = &channel.settings;
        match channel.kind.as_str() {
            "email" => {
                let to = settings
                    .to
                    .clone()
                    .ok_or_else(|| SendError::Config("no recipient".into()))?;
                self.mailer
                    .send(mail(to, payload))
                    .await
                    .map_err(|e| SendError::Failed(e.to_string()))
            }
            kind => {
                let url = settings
                    .url
                    .as_deref()
                    .ok_or_else(|| SendError::Config("no URL".into()))?;
                let body = match kind {
                    "slack" => serde_json::json!({ "text": summary(payload) }).to_string(),
                    "discord" => serde_json::json!({ "content": summary(payload) }).to_string(),
                    _ => serde_json::to_string(payload).unwrap_or_default(),
                };
                self.webhook(url, &payload.event, body, settings.secret.as_deref())
                    .await
            }
        }
    }

    /// The mailer alerts (and status-page subscriber mails) go through.
    pub fn mailer(&self) -> &Mailer {
        &self.mailer
    }

    /// POSTs a JSON `body` to `url` through the SSRF guard with the event in
    /// `x-statuswatch-event` and, given a `secret`, the signature in
    /// `x-statuswatch-signature`; alert channels and status-page webhook
    /// subscribers are signed alike.
    pub async fn webhook(
        &self,
        url: &str,
        event: &str,
        body: String,
        secret: Option<&str>,
    ) -> Result<(), SendError> {
        let mut headers = vec![("x-statuswatch-event", event.to_owned())];
        if let Some(secret) = secret {
            let t = crate::clock::now_ms() / 1000;
            headers.push((
                SIGNATURE_HEADER,
                format!("t={t},v1={}", sign(secret, t, &body)),
            ));
        }
        self.post(url, body, headers).await
    }

    async fn post(
        &self,
        url: &str,
        body: String,
        headers: Vec<(&str, String)>,
    ) -> Result<(), SendError> {
        let parsed = url::Url::parse(url).map_err(|e| SendError::Config(e.to_string()))?;
        if let Some(host) = parsed.host_str()
            && let Ok(ip) = host
                .trim_start_matches('[')
                .trim_end_matches(']')
                .parse::<IpAddr>()
        {
            self.guard
                .check(host, ip)
                .map_err(|e| SendError::Failed(e.to_string()))?;
        }
        let mut request = self
            .client
            .post(parsed)
            .timeout(Duration::from_secs(10))
            .header("content-type", "application/json")
            .body(body);
        for (name, value) in headers {
            request = request.header(name, value);
        }
        let response = request.send().await.map_err(|e| {
            let mut text = e.to_string();
            let mut source = std::error::Error::source(&e);
            while let Some(cause) = source {
                text = format!("{text}: {cause}");
                source = cause.source();
            }
            SendError::Failed(text)
        })?;
        if !response.status().is_success() {
            return Err(SendError::Failed(format!(
                "endpoint answered {}",
                response.status()
            )));
        }
        Ok(())
    }
}

/// Hex HMAC-SHA256 of `"<t>.<body>"` under `secret`.
pub fn sign(secret: &str, t: i64, body: &str) -> String {
    let mut mac = match Hmac::<Sha256>::new_from_slice(secret.as_bytes()) {
        Ok(mac) => mac,
        // HMAC takes keys of any length.
        Err(_) => unreachable!("HMAC accepts any key length"),
    };
    mac.update(format!("{t}.{body}").as_bytes());
    mac.finalize()
        .into_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// One line for chat channels and subjects.
fn summary(p: &AlertPayload) -> String {
    let what = match p.event.as_str() {
        "down" => "is DOWN",
        "up" => "is back UP",
        "degraded" => "is DEGRADED",
        _ => "test alert: alerts reach this channel",
    };
    let reason = p
        .reason
        .as_deref()
        .map(|r| format!(" ({r})"))
        .unwrap_or_default();
    format!(
        "[StatusWatch] {} {what}{reason} — {}",
        p.monitor_name, p.target
    )
}

fn mail(to: String, p: &AlertPayload) -> Mail {
    let line = summary(p);
    let reason = p.reason.as_deref().unwrap_or("—");
    let text = format!(
        "{line}\n\nMonitor: {}\nTarget: {}\nState: {} (was {})\nReason: {reason}\nAt (ms since epoch, UTC): {}\n",
        p.monitor_name, p.target, p.state, p.previous_state, p.at
    );
    let html = format!(
        "<p><strong>{}</strong></p><table><tr><td>Monitor</td><td>{}</td></tr>\
         <tr><td>Target</td><td>{}</td></tr><tr><td>State</td><td>{} (was {})</td></tr>\
         <tr><td>Reason</td><td>{}</td></tr></table>",
        escape_html(&line),
        escape_html(&p.monitor_name),
        escape_html(&p.target),
        escape_html(&p.state),
        escape_html(&p.previous_state),
        escape_html(reason)
    );
    Mail {
        to,
        subject: line,
        text,
        html,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signatures_are_hmac_sha256_of_time_and_body() {
        // Reference value: printf '1700000000.{}' | openssl dgst -sha256 -hmac k
        assert_eq!(
            sign("k", 1_700_000_000, "{}"),
            "c6ef4734033cee2367414a0939385eca0397754aa7a59716da7463a9298b5146"
        );
        assert_ne!(sign("k", 1, "a"), sign("k", 2, "a"));
        assert_ne!(sign("k", 1, "a"), sign("j", 1, "a"));
        assert_eq!(sign("k", 1, "a").len(), 64);
    }
}
