//! Serving the API on a listener: the throttle classes and their pruning task, the write
//! timeout of every connection, graceful shutdown, and the grace after which running
//! requests are abandoned.

use super::router;
use super::throttle::ThrottleClasses;
use super::write_timeout::WriteTimeoutListener;
use crate::app::AppState;
use axum::serve::ListenerExt;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

/// Serves `state` on `listener` until `shutdown` completes, then stops accepting and
/// gives requests in flight the configured grace (`http.shutdown_grace_ms`).
pub async fn serve(
    state: AppState,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let throttle = Arc::new(ThrottleClasses::new(&state.config.rate_limits));
    let pruning = CancellationToken::new();
    let pruner = tokio::spawn({
        let (throttle, pruning) = (throttle.clone(), pruning.clone());
        async move { throttle.prune_until(pruning).await }
    });
    let signalled = CancellationToken::new();
    let on_signal = signalled.clone();
    let write_timeout = Duration::from_millis(state.config.http.write_timeout_ms);
    // `tap_io` (here doing nothing) is what gives any listener `ConnectInfo<SocketAddr>`.
    let listener = WriteTimeoutListener::new(listener, write_timeout).tap_io(|_| {});
    let server = axum::serve(
        listener,
        router(state.clone(), &throttle).into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(async move {
        shutdown.await;
        on_signal.cancel();
    });
    let grace = Duration::from_millis(state.config.http.shutdown_grace_ms);
    let served = tokio::select! {
        served = server => served.map_err(anyhow::Error::from),
        () = async { signalled.cancelled().await; tokio::time::sleep(grace).await } => {
            tracing::warn!(grace_ms = grace.as_millis() as u64, "requests still running after the shutdown grace; stopping anyway");
            Ok(())
        }
    };
    pruning.cancel();
    let _ = pruner.await;
    served
}
