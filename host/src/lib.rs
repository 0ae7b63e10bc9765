//! quote-host: a multi-tenant B2B quoting platform whose tenants price quotes with
//! their own rule sets, run as sandboxed WebAssembly components.
//!
//! `app(state)` builds the router; `run(config, listener, shutdown)` is the whole
//! server, so tests start the real thing on `127.0.0.1:0`.

pub mod app;
pub mod auth;
pub mod bootstrap;
pub mod bundled;
pub mod cli;
pub mod config;
pub mod contract;
pub mod http;
pub mod quoting;
pub mod rates;
pub mod runtime;
pub mod store;

pub use app::{App, AppState};
pub use config::Config;
pub use http::app;

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use tokio::net::TcpListener;

/// Runs the server on `listener` until `shutdown` completes: migrations, first-start
/// bootstrap, then HTTP. Returns once in-flight requests have finished.
pub async fn run(
    config: Config,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let app = App::start(config).await?;
    bootstrap::bootstrap_if_empty(&app).await?;
    let state = AppState(Arc::new(app));
    let address = listener.local_addr()?;
    tracing::info!(%address, database = ?state.store.backend(), "quote-host listening");
    let router = http::app(state.clone());
    axum::serve(
        listener,
        router.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown)
    .await?;
    state.store.close().await;
    tracing::info!("quote-host stopped");
    Ok(())
}
