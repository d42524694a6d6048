//! The app upstream pool: app nodes chosen round robin among the healthy,
//! checked over TCP by [`run_health_checks`], which also reports each
//! node's health as a metric. Both the :443 and :80 proxies read the pool
//! the edge holds; `POST /reload` swaps in a new one.

use std::sync::Arc;
use std::time::Duration;

use pingora_load_balancing::LoadBalancer;
use pingora_load_balancing::health_check::TcpHealthCheck;
use pingora_load_balancing::selection::RoundRobin;
use tokio_util::sync::CancellationToken;

use crate::EdgeError;
use crate::edge::Edge;
use crate::metrics::UpstreamLabels;

/// The app nodes, round robin.
pub type UpstreamPool = LoadBalancer<RoundRobin>;

/// Time between two health-check rounds.
pub const HEALTH_CHECK_INTERVAL: Duration = Duration::from_secs(2);

/// Builds the app pool with TCP health checks. The checks run in
/// [`run_health_checks`], not in Pingora's background service (which the
/// edge does not run), so the pool carries no check frequency of its own.
pub fn upstream_pool(addrs: &[String]) -> Result<UpstreamPool, EdgeError> {
    let mut pool = UpstreamPool::try_from_iter(addrs.iter().map(String::as_str))
        .map_err(|e| EdgeError::Upstreams(e.to_string()))?;
    pool.set_health_check(TcpHealthCheck::new());
    Ok(pool)
}

/// Checks the edge's current pool every [`HEALTH_CHECK_INTERVAL`] until
/// `shutdown`, and sets `edge_upstream_healthy` per node and whether any
/// node is ready (`Edge::app_reachable`).
pub async fn run_health_checks(edge: Arc<Edge>, shutdown: CancellationToken) {
    // Series of the last round, so nodes a reload removed stop being reported.
    let mut reported: Vec<UpstreamLabels> = Vec::new();
    loop {
        let pool = edge.upstreams.load_full();
        pool.backends().run_health_check(true).await;
        let current: Vec<UpstreamLabels> = pool
            .backends()
            .get_backend()
            .iter()
            .map(|backend| {
                let labels = UpstreamLabels {
                    upstream: backend.addr.to_string(),
                };
                let healthy = pool.backends().ready(backend);
                edge.metrics
                    .upstream_healthy
                    .get_or_create(&labels)
                    .set(i64::from(healthy));
                labels
            })
            .collect();
        for gone in reported.iter().filter(|l| !current.contains(l)) {
            edge.metrics.upstream_healthy.remove(gone);
        }
        let reachable = pool
            .backends()
            .get_backend()
            .iter()
            .any(|backend| pool.backends().ready(backend));
        edge.app_reachable
            .store(reachable, std::sync::atomic::Ordering::Relaxed);
        reported = current;
        tokio::select! {
            () = shutdown.cancelled() => {
                tracing::debug!("health checks stopped");
                return;
            }
            () = tokio::time::sleep(HEALTH_CHECK_INTERVAL) => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_pool_takes_host_port_and_names_a_bad_entry() {
        let pool =
            upstream_pool(&["127.0.0.1:8000".to_owned(), "127.0.0.1:8001".to_owned()]).unwrap();
        assert_eq!(pool.backends().get_backend().len(), 2);
        let Err(err) = upstream_pool(&["not an address".to_owned()]) else {
            panic!("a bad address was accepted");
        };
        assert!(err.to_string().starts_with("edge.app_upstreams:"), "{err}");
    }
}
