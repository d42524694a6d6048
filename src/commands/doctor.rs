//! `statuswatch doctor`: the old health-check script, for a cluster. Database,
//! schema, app and edge health (the edge reached at an address while sending
//! the platform's name as SNI: the old `curl --resolve` fix), disk, memory,
//! certificates, the ACME queue, prober lag and leases, failing alert
//! deliveries, error lines logged in the last 15 minutes. A table for people,
//! JSON for machines, exit 1 on any failure.

use std::net::SocketAddr;
use std::path::Path;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use app::ops::doctor::{Check, Status, database_checks};

use super::roles::connect;
use crate::settings::Loaded;

/// Free space or memory below these percentages warns, then fails.
const WARN_PERCENT: f64 = 10.0;
const FAIL_PERCENT: f64 = 3.0;
const HTTP_TIMEOUT: Duration = Duration::from_secs(5);

/// Runs every check and prints them; the exit code is 1 when any failed.
pub async fn run(
    loaded: Loaded,
    quick: bool,
    json: bool,
    edge: Option<String>,
) -> anyhow::Result<ExitCode> {
    let settings = &loaded.settings;
    let mut checks = match connect(&loaded).await {
        Ok(db) => {
            let found = database_checks(&db, quick).await;
            db.close().await;
            found
        }
        Err(err) => vec![Check::new("database", Status::Fail, format!("{err:#}"))],
    };
    let app_addr = loopback_for(settings.app.listen);
    checks.push(app_health(app_addr).await);
    let edge_addr = match edge.as_deref() {
        Some(raw) => match raw.parse::<SocketAddr>() {
            Ok(addr) => Ok(addr),
            Err(_) => Err(format!(
                "--edge `{raw}` is not an address like 127.0.0.1:443"
            )),
        },
        None => Ok(loopback_for(settings.edge.https_listen)),
    };
    checks.push(match edge_addr {
        Ok(addr) => edge_health(&loaded, addr).await,
        Err(message) => Check::new("edge", Status::Fail, message),
    });
    if !quick {
        checks.push(disk(&settings.data_dir));
        checks.push(memory());
        checks.push(recent_errors(&loaded));
    }
    if json {
        println!("{}", serde_json::to_string_pretty(&checks)?);
    } else {
        for check in &checks {
            let mark = match check.status {
                Status::Ok => "ok  ",
                Status::Warn => "WARN",
                Status::Fail => "FAIL",
            };
            println!("{mark}  {:<18} {}", check.name, check.detail);
        }
    }
    Ok(if checks.iter().any(|c| c.status == Status::Fail) {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}

/// Error lines in `log.file` over the last 15 minutes (the old script's
/// `grep ERROR`): a warning naming the newest, since one error is not an outage.
fn recent_errors(loaded: &Loaded) -> Check {
    const NAME: &str = "recent_errors";
    match super::logs::recent_errors(loaded, 15 * 60) {
        Ok(None) => Check::new(
            NAME,
            Status::Ok,
            "log.file is not set; logs go to standard error",
        ),
        Ok(Some((0, _))) => Check::new(NAME, Status::Ok, "no error lines in the last 15 minutes"),
        Ok(Some((n, last))) => Check::new(
            NAME,
            Status::Warn,
            format!("{n} error line(s) in the last 15 minutes; newest: {last}"),
        ),
        Err(err) => Check::new(NAME, Status::Warn, format!("{err:#}")),
    }
}

/// A wildcard listen address is reached on loopback.
fn loopback_for(addr: SocketAddr) -> SocketAddr {
    if addr.ip().is_unspecified() {
        let ip = if addr.is_ipv4() {
            std::net::Ipv4Addr::LOCALHOST.into()
        } else {
            std::net::Ipv6Addr::LOCALHOST.into()
        };
        SocketAddr::new(ip, addr.port())
    } else {
        addr
    }
}

async fn app_health(addr: SocketAddr) -> Check {
    let client = match reqwest::Client::builder().timeout(HTTP_TIMEOUT).build() {
        Ok(client) => client,
        Err(err) => return Check::new("app", Status::Fail, err.to_string()),
    };
    let url = format!("http://{addr}/health/ready/");
    probe("app", client.get(&url), &url).await
}

async fn edge_health(loaded: &Loaded, addr: SocketAddr) -> Check {
    let host = loaded.settings.tenancy.normalized_suffix();
    let mut builder = reqwest::Client::builder()
        .timeout(HTTP_TIMEOUT)
        // Connect to the given address, but send the platform's name as SNI
        // and Host, so the certificate check is the one browsers make.
        .resolve(&host, addr);
    if loaded.settings.acme.directory_url.is_none() {
        let root = crate::local_ca::cert_path(&loaded.settings.data_dir);
        match std::fs::read(&root).map(|pem| reqwest::Certificate::from_pem(&pem)) {
            Ok(Ok(cert)) => builder = builder.add_root_certificate(cert),
            _ => {
                return Check::new(
                    "edge",
                    Status::Fail,
                    format!("the local CA's root {} cannot be read", root.display()),
                );
            }
        }
    }
    let client = match builder.build() {
        Ok(client) => client,
        Err(err) => return Check::new("edge", Status::Fail, err.to_string()),
    };
    let url = format!("https://{host}:{}/health/ready/", addr.port());
    probe("edge", client.get(&url), &format!("{url} via {addr}")).await
}

async fn probe(name: &'static str, request: reqwest::RequestBuilder, shown: &str) -> Check {
    let started = Instant::now();
    match request.send().await {
        Ok(response) if response.status().is_success() => Check::new(
            name,
            Status::Ok,
            format!(
                "{shown} answered {} in {} ms",
                response.status().as_u16(),
                started.elapsed().as_millis()
            ),
        ),
        Ok(response) => Check::new(
            name,
            Status::Fail,
            format!("{shown} answered {}", response.status()),
        ),
        Err(err) => {
            // reqwest's own message hides the cause (refused, TLS) in its sources.
            let mut cause = err.to_string();
            let mut source = std::error::Error::source(&err);
            while let Some(inner) = source {
                cause = format!("{cause}: {inner}");
                source = inner.source();
            }
            Check::new(name, Status::Fail, format!("{shown}: {cause}"))
        }
    }
}

/// `statuswatch probe URL`: one GET, exit 0 on 2xx (for container health checks).
pub async fn probe_url(url: &str) -> anyhow::Result<ExitCode> {
    let parsed =
        url::Url::parse(url).map_err(|err| anyhow::anyhow!("`{url}` is not a URL: {err}"))?;
    if !matches!(parsed.scheme(), "http" | "https") {
        anyhow::bail!("`{url}` is not an http(s) URL");
    }
    let client = reqwest::Client::builder().timeout(HTTP_TIMEOUT).build()?;
    let check = probe("probe", client.get(parsed), url).await;
    println!("{}", check.detail);
    Ok(if check.status == Status::Ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

fn level(free_percent: f64) -> Status {
    if free_percent < FAIL_PERCENT {
        Status::Fail
    } else if free_percent < WARN_PERCENT {
        Status::Warn
    } else {
        Status::Ok
    }
}

/// Free space where the data directory lives, from `df` (POSIX output).
fn disk(dir: &Path) -> Check {
    let output = std::process::Command::new("df")
        .arg("-Pk")
        .arg(dir)
        .output();
    let parsed = output.ok().and_then(|out| {
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        let line = text.lines().nth(1)?.to_owned();
        let fields: Vec<&str> = line.split_whitespace().collect();
        let total: f64 = fields.get(1)?.parse().ok()?;
        let available: f64 = fields.get(3)?.parse().ok()?;
        Some((total, available))
    });
    match parsed {
        Some((total, available)) if total > 0.0 => {
            let percent = available / total * 100.0;
            Check::new(
                "disk",
                level(percent),
                format!(
                    "{:.1}% free ({:.1} GiB) at {}",
                    percent,
                    available / 1_048_576.0,
                    dir.display()
                ),
            )
        }
        _ => Check::new(
            "disk",
            Status::Warn,
            format!("cannot measure free space at {}", dir.display()),
        ),
    }
}

/// Available memory from `/proc/meminfo`.
fn memory() -> Check {
    let text = std::fs::read_to_string("/proc/meminfo").unwrap_or_default();
    let field = |name: &str| -> Option<f64> {
        text.lines()
            .find(|l| l.starts_with(name))?
            .split_whitespace()
            .nth(1)?
            .parse()
            .ok()
    };
    match (field("MemTotal:"), field("MemAvailable:")) {
        (Some(total), Some(available)) if total > 0.0 => {
            let percent = available / total * 100.0;
            Check::new(
                "memory",
                level(percent),
                format!(
                    "{percent:.1}% available ({:.1} GiB)",
                    available / 1_048_576.0
                ),
            )
        }
        _ => Check::new("memory", Status::Warn, "cannot read /proc/meminfo"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thresholds() {
        assert_eq!(level(50.0), Status::Ok);
        assert_eq!(level(9.9), Status::Warn);
        assert_eq!(level(2.0), Status::Fail);
    }

    #[test]
    fn wildcard_listeners_are_reached_on_loopback() {
        assert_eq!(
            loopback_for("0.0.0.0:8443".parse().unwrap()).to_string(),
            "127.0.0.1:8443"
        );
        assert_eq!(
            loopback_for("[::]:443".parse().unwrap()).to_string(),
            "[::1]:443"
        );
        assert_eq!(
            loopback_for("10.0.0.2:80".parse().unwrap()).to_string(),
            "10.0.0.2:80"
        );
    }
}
