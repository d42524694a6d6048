//! Serving the router on a listener until shutdown.

use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

use crate::AppState;
use crate::http::router;

/// How often dunning looks for grace periods that ended.
const DUNNING_EVERY: std::time::Duration = std::time::Duration::from_secs(60);

/// Serves the app on `listener` until `shutdown` is cancelled, then drains
/// in-flight requests. Billing's dunning sweep runs alongside (every app node
/// may run it: each change is one transaction on a locked tenant row).
pub async fn run(
    listener: TcpListener,
    state: AppState,
    shutdown: CancellationToken,
) -> std::io::Result<()> {
    tokio::spawn(crate::billing::dunning::run(
        state.db.clone(),
        state.billing.clone(),
        DUNNING_EVERY,
        shutdown.clone(),
    ));
    let app = router(state).into_make_service_with_connect_info::<std::net::SocketAddr>();
    axum::serve(listener, app)
        .with_graceful_shutdown(shutdown.cancelled_owned())
        .await
}
