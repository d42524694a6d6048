//! `statuswatch logs [--errors] [--follow] [--since]`: the old
//! `tail-logs.sh`, over the JSON log files (`log.file` and its rotations).

use std::io::{BufRead, BufReader, Read, Seek, SeekFrom};
use std::path::Path;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{Context, bail};
use serde_json::Value;

use crate::settings::Loaded;
use crate::telemetry::rotating::rotated;

/// What to show.
#[derive(Debug, Clone)]
pub struct Filter {
    /// Only warnings, errors and lines that mention an error (the old `--errors` grep).
    pub errors: bool,
    /// Only lines at or after this RFC 3339 time (UTC, to the second).
    pub since: Option<String>,
}

/// Prints the matching lines of every file, oldest first; with `follow`,
/// keeps printing new ones (across rotations) until interrupted.
pub fn run(
    loaded: &Loaded,
    errors: bool,
    since: Option<&str>,
    follow: bool,
) -> anyhow::Result<ExitCode> {
    let config = &loaded.settings.log;
    let Some(path) = config.file.as_deref() else {
        bail!(
            "log.file is not set, so there are no log files to read (logs go to standard error; set log.file or STATUSWATCH__LOG__FILE)"
        );
    };
    let filter = Filter {
        errors,
        since: since.map(|s| cutoff(s, now_unix())).transpose()?,
    };
    let files = files_oldest_first(path, config.max_files);
    if files.is_empty() && !follow {
        bail!(
            "{} does not exist yet (nothing has been logged to it)",
            path.display()
        );
    }
    for file in &files[..files.len().saturating_sub(1)] {
        print_file(file, &filter, 0)?;
    }
    let mut offset = if path.exists() {
        print_file(path, &filter, 0)?
    } else {
        0
    };
    if !follow {
        return Ok(ExitCode::SUCCESS);
    }
    loop {
        std::thread::sleep(Duration::from_millis(300));
        let Ok(meta) = std::fs::metadata(path) else {
            continue;
        };
        if meta.len() < offset {
            // Rotated: the rest of the old file is in FILE.1.
            offset = 0;
        }
        if meta.len() > offset {
            offset = print_file(path, &filter, offset)?;
        }
    }
}

/// The log files oldest first: the rotations that exist, then `log.file`.
fn files_oldest_first(path: &Path, max_files: u32) -> Vec<std::path::PathBuf> {
    let mut files: Vec<_> = (1..=max_files)
        .rev()
        .map(|n| rotated(path, n))
        .filter(|p| p.exists())
        .collect();
    if path.exists() {
        files.push(path.to_owned());
    }
    files
}

/// ERROR lines logged in the last `window_secs`, and the newest one as shown
/// by `logs` (for `doctor`); `None` when `log.file` is not set.
pub fn recent_errors(loaded: &Loaded, window_secs: i64) -> anyhow::Result<Option<(usize, String)>> {
    let config = &loaded.settings.log;
    let Some(path) = config.file.as_deref() else {
        return Ok(None);
    };
    let filter = Filter {
        errors: true,
        since: Some(format_utc(now_unix() - window_secs)),
    };
    let (mut count, mut last) = (0, String::new());
    for file in files_oldest_first(path, config.max_files) {
        let reader = BufReader::new(
            std::fs::File::open(&file)
                .with_context(|| format!("cannot read {}", file.display()))?,
        );
        for line in reader.lines() {
            let line = line?;
            let is_error = serde_json::from_str::<Value>(&line)
                .is_ok_and(|v| v.get("level").and_then(Value::as_str) == Some("ERROR"));
            if is_error && let Some(shown) = render(&line, &filter) {
                count += 1;
                last = shown;
            }
        }
    }
    Ok(Some((count, last)))
}

/// Prints complete lines from `offset`; returns the offset after the last one.
fn print_file(path: &Path, filter: &Filter, offset: u64) -> anyhow::Result<u64> {
    let mut file =
        std::fs::File::open(path).with_context(|| format!("cannot read {}", path.display()))?;
    file.seek(SeekFrom::Start(offset))?;
    let mut reader = BufReader::new(file.take(u64::MAX));
    let mut consumed = offset;
    let mut line = String::new();
    loop {
        line.clear();
        let n = reader.read_line(&mut line)?;
        if n == 0 || !line.ends_with('\n') {
            break;
        }
        consumed += n as u64;
        if let Some(shown) = render(line.trim_end(), filter) {
            println!("{shown}");
        }
    }
    Ok(consumed)
}

/// One JSON line as a readable line, or `None` when filtered out. Lines that
/// are not JSON are shown as they are (and filtered as text).
pub fn render(line: &str, filter: &Filter) -> Option<String> {
    let Ok(Value::Object(event)) = serde_json::from_str::<Value>(line) else {
        let keep = !filter.errors || mentions_error(line);
        return keep.then(|| line.to_owned());
    };
    let text = |key: &str| event.get(key).and_then(Value::as_str).unwrap_or_default();
    let timestamp = text("timestamp");
    let level = text("level");
    if let Some(since) = &filter.since
        && timestamp.get(..19).unwrap_or(timestamp) < since.as_str()
    {
        return None;
    }
    if filter.errors && !matches!(level, "ERROR" | "WARN") && !mentions_error(line) {
        return None;
    }
    let mut shown = format!(
        "{timestamp} {level:>5} {}: {}",
        text("target"),
        text("message")
    );
    for (key, value) in &event {
        if matches!(
            key.as_str(),
            "timestamp" | "level" | "target" | "message" | "span" | "spans"
        ) {
            continue;
        }
        shown.push_str(&format!(" {key}={}", plain(value)));
    }
    if let Some(Value::Object(span)) = event.get("span") {
        for (key, value) in span {
            if key != "name" {
                shown.push_str(&format!(" {key}={}", plain(value)));
            }
        }
    }
    Some(shown)
}

fn plain(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// The old script's grep: `error|exception|traceback|critical`, any case (plus panics).
fn mentions_error(line: &str) -> bool {
    let lower = line.to_ascii_lowercase();
    ["error", "exception", "traceback", "critical", "panic"]
        .iter()
        .any(|word| lower.contains(word))
}

fn now_unix() -> i64 {
    acme::time::now_ms().div_euclid(1000)
}

/// `--since`: a duration back from now (`90s`, `15m`, `2h`, `7d`) or an RFC
/// 3339 time, as `YYYY-MM-DDTHH:MM:SS` (UTC) to compare with log timestamps.
pub fn cutoff(value: &str, now: i64) -> anyhow::Result<String> {
    let value = value.trim();
    let unit = value.chars().last().unwrap_or(' ');
    if let (Some(scale), Ok(n)) = (
        match unit {
            's' => Some(1),
            'm' => Some(60),
            'h' => Some(3600),
            'd' => Some(86_400),
            _ => None,
        },
        value[..value.len().saturating_sub(1)].parse::<i64>(),
    ) {
        return Ok(format_utc(now - n * scale));
    }
    let bytes = value.as_bytes();
    let shaped = bytes.len() >= 19
        && bytes.iter().take(19).enumerate().all(|(i, b)| match i {
            4 | 7 => *b == b'-',
            10 => *b == b'T' || *b == b' ',
            13 | 16 => *b == b':',
            _ => b.is_ascii_digit(),
        });
    if shaped {
        return Ok(value[..19].replace(' ', "T"));
    }
    bail!(
        "--since `{value}`: give a duration like 15m, 2h or 7d, or a time like 2026-12-01T09:30:00"
    )
}

/// Seconds since the epoch as `YYYY-MM-DDTHH:MM:SS` (UTC); beyond the years ±9999, the epoch.
pub(crate) fn format_utc(secs: i64) -> String {
    let t =
        time::OffsetDateTime::from_unix_timestamp(secs).unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cutoffs_from_durations_and_times() {
        // 2026-12-01T10:00:00Z
        let now = 1_796_119_200;
        assert_eq!(format_utc(now), "2026-12-01T10:00:00");
        assert_eq!(format_utc(0), "1970-01-01T00:00:00");
        assert_eq!(format_utc(951_782_400), "2000-02-29T00:00:00");
        assert_eq!(cutoff("15m", now).unwrap(), "2026-12-01T09:45:00");
        assert_eq!(cutoff("2d", now).unwrap(), "2026-11-29T10:00:00");
        assert_eq!(
            cutoff("2026-11-30 08:00:00", now).unwrap(),
            "2026-11-30T08:00:00"
        );
        let err = cutoff("yesterday", now).unwrap_err().to_string();
        assert!(err.contains("--since `yesterday`"), "{err}");
    }

    #[test]
    fn errors_filter_and_since() {
        let info = r#"{"timestamp":"2026-12-01T10:00:01.5Z","level":"INFO","target":"app","message":"hello","span":{"name":"request","request_id":"abc"}}"#;
        let warn = r#"{"timestamp":"2026-12-01T10:00:02Z","level":"WARN","target":"app","message":"slow","ms":900}"#;
        let all = Filter {
            errors: false,
            since: None,
        };
        assert_eq!(
            render(info, &all).unwrap(),
            "2026-12-01T10:00:01.5Z  INFO app: hello request_id=abc"
        );
        let errors = Filter {
            errors: true,
            since: None,
        };
        assert!(render(info, &errors).is_none());
        assert_eq!(
            render(warn, &errors).unwrap(),
            "2026-12-01T10:00:02Z  WARN app: slow ms=900"
        );
        assert!(render("plain Traceback line", &errors).is_some());
        let since = Filter {
            errors: false,
            since: Some("2026-12-01T10:00:02".to_owned()),
        };
        assert!(render(info, &since).is_none());
        assert!(render(warn, &since).is_some());
    }
}
