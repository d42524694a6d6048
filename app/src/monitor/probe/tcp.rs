//! TCP checks: connect to a checked address.

use std::time::Instant;

use tokio::net::TcpStream;

use super::{ProbeResult, elapsed_ms};
use crate::net_guard::Guard;

/// Connects to the first reachable checked address of `host:port`.
pub(super) async fn probe(guard: &Guard, host: &str, port: u16) -> ProbeResult {
    let addrs = match guard.resolve(host, port).await {
        Ok(addrs) => addrs,
        Err(err) => return ProbeResult::down(err.to_string(), None),
    };
    let start = Instant::now();
    let mut last = String::new();
    for addr in addrs {
        match TcpStream::connect(addr).await {
            Ok(_) => return ProbeResult::up(elapsed_ms(start)),
            Err(err) => last = format!("connect to {addr} failed: {err}"),
        }
    }
    ProbeResult::down(last, Some(elapsed_ms(start)))
}
