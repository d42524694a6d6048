//! Every listening socket of the process belongs to the binary: bound here,
//! or adopted from the predecessor of a zero-downtime upgrade
//! ([`crate::upgrade`]), handed to the crates as bound listeners, and named
//! for the hand-over to a successor.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::os::fd::{AsRawFd, RawFd};

use anyhow::Context;
use tokio::net::TcpListener;

/// Sockets a predecessor handed over, by name, not yet adopted.
pub type Inherited = HashMap<String, std::net::TcpListener>;

/// The listener `name` from `inherited`, else a new one bound to `addr`;
/// a failure names the configuration key it came from.
pub async fn bind_or_adopt(
    name: &str,
    key: &'static str,
    addr: SocketAddr,
    inherited: &mut Inherited,
) -> anyhow::Result<TcpListener> {
    let listener = match inherited.remove(name) {
        Some(listener) => listener
            .set_nonblocking(true)
            .and_then(|()| TcpListener::from_std(listener)),
        None => TcpListener::bind(addr).await,
    };
    listener.with_context(|| format!("cannot listen on {key} {addr}"))
}

/// The edge's listeners (`https`, `http`, `admin`), bound or adopted.
pub async fn edge(
    config: &proxy::EdgeConfig,
    inherited: &mut Inherited,
) -> anyhow::Result<proxy::Listeners> {
    Ok(proxy::Listeners {
        https: bind_or_adopt("https", "edge.https_listen", config.https_listen, inherited).await?,
        http: bind_or_adopt("http", "edge.http_listen", config.http_listen, inherited).await?,
        admin: bind_or_adopt("admin", "edge.admin_listen", config.admin_listen, inherited).await?,
    })
}

/// The edge's listeners by the names [`edge`] adopts them under.
pub fn edge_handover(listeners: &proxy::Listeners) -> [(&'static str, RawFd); 3] {
    [
        ("https", listeners.https.as_raw_fd()),
        ("http", listeners.http.as_raw_fd()),
        ("admin", listeners.admin.as_raw_fd()),
    ]
}
