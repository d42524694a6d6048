//! Probes: one module per kind of check, all going through the SSRF guard.

mod dns;
mod http;
mod tcp;
mod tls;

use std::sync::Arc;
use std::time::{Duration, Instant};

use hickory_resolver::TokioAsyncResolver;

use super::kinds::Check;
use crate::config::ProberConfig;
use crate::net_guard::{Guard, resolver};

/// What a check found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Everything as expected.
    Up,
    /// Working, but slow or close to a problem (latency threshold, certificate expiry).
    Degraded,
    /// Failed.
    Down,
}

impl Outcome {
    /// The monitor state this outcome leads to once confirmed.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Up => "up",
            Self::Degraded => "degraded",
            Self::Down => "down",
        }
    }
}

/// One check's result.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProbeResult {
    /// Up, degraded or down.
    pub outcome: Outcome,
    /// Time to the answer, ms.
    pub latency_ms: Option<i64>,
    /// HTTP status, when there was one.
    pub status_code: Option<i64>,
    /// Why it is down or degraded.
    pub error: Option<String>,
}

impl ProbeResult {
    /// A failure with `reason`.
    pub fn down(reason: impl Into<String>, latency_ms: Option<i64>) -> Self {
        Self {
            outcome: Outcome::Down,
            latency_ms,
            status_code: None,
            error: Some(reason.into()),
        }
    }

    /// A success after `latency_ms`.
    pub fn up(latency_ms: i64) -> Self {
        Self {
            outcome: Outcome::Up,
            latency_ms: Some(latency_ms),
            status_code: None,
            error: None,
        }
    }
}

/// Milliseconds since `start`.
fn elapsed_ms(start: Instant) -> i64 {
    i64::try_from(start.elapsed().as_millis()).unwrap_or(i64::MAX)
}

/// Everything probes share: the guard, HTTP clients, resolvers and the body limit.
#[derive(Clone)]
pub struct Probes {
    guard: Arc<Guard>,
    http: http::Clients,
    dns: TokioAsyncResolver,
    tls: Arc<rustls::ClientConfig>,
    max_body_bytes: usize,
}

impl std::fmt::Debug for Probes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Probes")
            .field("allow_private", &self.guard.allows_private())
            .finish_non_exhaustive()
    }
}

/// Why the probes could not be set up.
#[derive(Debug, thiserror::Error)]
#[error("cannot build the HTTP client: {0}")]
pub struct ProbeSetupError(String);

impl Probes {
    /// Builds the probes `[prober]` describes.
    pub fn new(config: &ProberConfig) -> Result<Self, ProbeSetupError> {
        let guard = Arc::new(Guard::new(
            resolver(config.dns_server, true),
            config.allow_private_targets,
        ));
        Ok(Self {
            http: http::Clients::new(guard.clone())?,
            guard,
            // DNS monitors must see changes at once: no cache.
            dns: resolver(config.dns_server, false),
            tls: tls::any_certificate_config(),
            max_body_bytes: config.max_body_bytes,
        })
    }

    /// The guard, for other outbound requests (alert webhooks).
    pub fn guard(&self) -> &Arc<Guard> {
        &self.guard
    }

    /// The HTTP client that verifies certificates and follows no redirects (alert webhooks).
    pub fn webhook_client(&self) -> &reqwest::Client {
        self.http.strict()
    }

    /// Runs `check` with `timeout` as its deadline. Heartbeats are judged by
    /// `last_ping_at` (ms) against `interval_seconds` at `now` (ms).
    pub async fn run(
        &self,
        check: &Check,
        timeout: Duration,
        interval_seconds: i64,
        last_ping_at: Option<i64>,
        now: i64,
    ) -> ProbeResult {
        let work = async {
            match check {
                Check::Http(http) => self.http.probe(http, timeout, self.max_body_bytes).await,
                Check::Tcp { host, port } => tcp::probe(&self.guard, host, *port).await,
                Check::Dns {
                    host,
                    record_type,
                    expected,
                } => dns::probe(&self.dns, host, *record_type, expected.as_deref()).await,
                Check::Tls {
                    host,
                    port,
                    warn_days,
                } => tls::probe(&self.guard, &self.tls, host, *port, *warn_days, now).await,
                Check::Heartbeat { grace_seconds } => {
                    heartbeat(interval_seconds, *grace_seconds, last_ping_at, now)
                }
            }
        };
        match tokio::time::timeout(timeout, work).await {
            Ok(result) => result,
            Err(_) => ProbeResult::down(
                format!("timed out after {} s", timeout.as_secs_f64()),
                i64::try_from(timeout.as_millis()).ok(),
            ),
        }
    }
}

/// Down when the last ping is older than the interval plus the grace.
fn heartbeat(
    interval_seconds: i64,
    grace_seconds: u64,
    last_ping_at: Option<i64>,
    now: i64,
) -> ProbeResult {
    let allowed_ms =
        interval_seconds.saturating_add(i64::try_from(grace_seconds).unwrap_or(0)) * 1000;
    match last_ping_at {
        Some(at) if now - at <= allowed_ms => ProbeResult {
            outcome: Outcome::Up,
            latency_ms: None,
            status_code: None,
            error: None,
        },
        Some(at) => ProbeResult::down(format!("no ping for {} s", (now - at) / 1000), None),
        None => ProbeResult::down("no ping received yet", None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn heartbeats_are_late_after_interval_plus_grace() {
        assert_eq!(heartbeat(60, 30, Some(0), 90_000).outcome, Outcome::Up);
        let late = heartbeat(60, 30, Some(0), 90_001);
        assert_eq!(late.outcome, Outcome::Down);
        assert_eq!(late.error.as_deref(), Some("no ping for 90 s"));
        assert_eq!(heartbeat(60, 30, None, 0).outcome, Outcome::Down);
    }
}
