//! Logging: `tracing` events as pretty lines or JSON on standard error, and
//! optionally as JSON lines in a size-rotated file that `statuswatch logs`
//! reads.

pub mod rotating;

use tracing_subscriber::EnvFilter;
use tracing_subscriber::Layer;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;

use crate::settings::{LogConfig, LogFormat};

/// Installs the global subscriber; `RUST_LOG` overrides `log.level` when set.
pub fn init(config: &LogConfig) {
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
        .try_init();
    if let Some(message) = file_error {
        tracing::error!("{message}; logging to standard error only");
    }
}
