//! Logging: `tracing` events as pretty lines or JSON on standard error, and
//! optionally as JSON lines in a size-rotated file that `statuswatch logs`
//! reads.

pub mod rotating;
pub mod scrub;

use std::borrow::Cow;
use std::sync::Arc;
use std::time::Duration;

use secrecy::ExposeSecret;

use tracing_subscriber::EnvFilter;
use tracing_subscriber::Layer;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;

use crate::settings::{LogConfig, LogFormat, TelemetryConfig};

/// Starts error reporting when `telemetry.sentry_dsn` is set. The client lives
/// for the rest of the process (the `tracing` layer reports through it); call
/// [`flush`] before exiting so queued reports are sent.
fn sentry_client(telemetry: &TelemetryConfig, environment: &str) -> bool {
    let Some(dsn) = telemetry
        .sentry_dsn
        .as_ref()
        .map(|d| d.expose_secret().to_owned())
    else {
        return false;
    };
    if dsn.is_empty() {
        return false;
    }
    let guard = sentry::init((
        dsn,
        sentry::ClientOptions {
            release: Some(Cow::Borrowed(concat!(
                "statuswatch@",
                env!("CARGO_PKG_VERSION")
            ))),
            environment: Some(Cow::Owned(environment.to_owned())),
            send_default_pii: false,
            before_send: Some(Arc::new(|mut event| {
                scrub_event(&mut event);
                Some(event)
            })),
            before_breadcrumb: Some(Arc::new(|mut crumb| {
                crumb.message = crumb.message.map(|m| scrub::scrub(&m));
                for value in crumb.data.values_mut() {
                    scrub_value(value);
                }
                Some(crumb)
            })),
            ..sentry::ClientOptions::default()
        },
    ));
    let enabled = guard.is_enabled();
    // The client is needed until exit; `flush` sends what is queued then.
    std::mem::forget(guard);
    enabled
}

/// Reports a failed command (scrubbed) when error reporting is on.
pub fn report_failure(err: &anyhow::Error) {
    if sentry::Hub::current().client().is_some() {
        sentry::capture_message(&scrub::scrub(&format!("{err:#}")), sentry::Level::Error);
    }
}

/// Sends queued error reports (at most two seconds) before the process exits.
pub fn flush() {
    if let Some(client) = sentry::Hub::current().client() {
        client.flush(Some(Duration::from_secs(2)));
    }
}

fn scrub_value(value: &mut serde_json::Value) {
    match value {
        serde_json::Value::String(s) => *s = scrub::scrub(s),
        serde_json::Value::Array(items) => items.iter_mut().for_each(scrub_value),
        serde_json::Value::Object(map) => map.values_mut().for_each(scrub_value),
        _ => {}
    }
}

fn scrub_event(event: &mut sentry::protocol::Event<'static>) {
    event.message = event.message.take().map(|m| scrub::scrub(&m));
    if let Some(logentry) = event.logentry.as_mut() {
        logentry.message = scrub::scrub(&logentry.message);
    }
    for exception in event.exception.values.iter_mut() {
        exception.value = exception.value.take().map(|v| scrub::scrub(&v));
    }
    for value in event.extra.values_mut() {
        scrub_value(value);
    }
    for context in event.contexts.values_mut() {
        if let sentry::protocol::Context::Other(map) = context {
            map.values_mut().for_each(scrub_value);
        }
    }
    for crumb in event.breadcrumbs.values.iter_mut() {
        crumb.message = crumb.message.take().map(|m| scrub::scrub(&m));
        crumb.data.values_mut().for_each(scrub_value);
    }
    // Requests carry cookies and credentials; keep only method and path.
    if let Some(request) = event.request.as_mut() {
        request.cookies = None;
        request.headers.clear();
        request.data = None;
        request.query_string = request.query_string.take().map(|q| scrub::scrub(&q));
    }
}

/// Installs the global subscriber; `RUST_LOG` overrides `log.level` when set.
/// With a Sentry DSN, errors are also reported there (warnings become
/// breadcrumbs), scrubbed of secrets.
pub fn init(config: &LogConfig, telemetry: &TelemetryConfig, environment: &str) {
    let reporting = sentry_client(telemetry, environment);
    let sentry_layer = reporting.then(|| {
        sentry::integrations::tracing::layer().event_filter(|metadata| match *metadata.level() {
            tracing::Level::ERROR => sentry::integrations::tracing::EventFilter::Event,
            tracing::Level::WARN => sentry::integrations::tracing::EventFilter::Breadcrumb,
            _ => sentry::integrations::tracing::EventFilter::Ignore,
        })
    });
    let filter = || {
        EnvFilter::try_from_default_env()
            .or_else(|_| EnvFilter::try_new(&config.level))
            .unwrap_or_else(|_| EnvFilter::new("info"))
    };
    let stderr = tracing_subscriber::fmt::layer().with_writer(std::io::stderr);
    let stderr = match config.format {
        LogFormat::Json => stderr.json().flatten_event(true).boxed(),
        LogFormat::Pretty => stderr.boxed(),
    };
    let mut file_error = None;
    let file = config.file.as_ref().and_then(|path| {
        match rotating::RotatingFile::open(path, config.max_bytes, config.max_files) {
            Ok(writer) => Some(
                tracing_subscriber::fmt::layer()
                    .with_writer(writer)
                    .with_ansi(false)
                    .json()
                    .flatten_event(true)
                    .with_current_span(true)
                    .with_filter(filter()),
            ),
            Err(err) => {
                file_error = Some(format!("cannot open log.file {}: {err}", path.display()));
                None
            }
        }
    });
    // A second init (tests running commands in one process) keeps the first.
    let _ = tracing_subscriber::registry()
        .with(stderr.with_filter(filter()))
        .with(file)
        .with(sentry_layer)
        .try_init();
    if let Some(message) = file_error {
        tracing::error!("{message}; logging to standard error only");
    }
}
